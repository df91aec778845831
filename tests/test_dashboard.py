"""The usage dashboard: its figures (reports/dashboard.py) against a fixture computed by hand,
who may see it, the form, the charts, the downloads, and a fixed number of queries.

The window is February and March 2026. ndc has space A, nqd has space C.
- Approved bookings: A Sat 31/1 23:00 → Sun 1/2 01:00 (event: 1 h inside, counted in
  February), A Mon 2/2 08–10 (class, 2 h), A Tue 3/3 08–11 (club, 3 h), C Wed 4/3
  13:00–14:30 (project work, 1.5 h). A cancelled class and a pending request do not count;
  nor does A Wed 1/4 (after the window).
- Reservations: the kit × 4 on 2/2 and × 2 on 3/3, the printer × 1 on 3/3, the microscope
  × 1 on 4/3; the kit × 5 on the pending request and the printer on the cancelled class do
  not count.
- Loans: the kit × 3 out 10/2, the microscope × 1 out 15/3; the printer out 20/1 (before).
  → kit 3 uses (9 units), microscope 2 (2), printer 1 (1).
- Projects: ndc P1 active (Robotics), P2 idea (no category); nqd P3 completed (Robotics);
  nqd P4 active, started 1/6 (after the window: not counted).
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import translation

from bookings.models import BookingEquipment
from projects.models import Project, ProjectCategory
from reports.dashboard import dashboard_figures
from tests import factories as f
from web.dashboard import nice_ceiling, number, school_year_start

FROM, TO = datetime.date(2026, 2, 1), datetime.date(2026, 3, 31)
WINDOW = {"from": "2026-02-01", "to": "2026-03-31"}


def day(month: int, n: int) -> datetime.date:
    return datetime.date(2026, month, n)


def dashboard_world(ndc, nqd) -> dict:
    """The fixture above, for these two schools (the browser tests build it too)."""
    a = f.space(ndc, name="Phòng chế tạo A")
    c = f.space(nqd, name="Phòng thí nghiệm C")
    teacher = f.user("teacher.a", role="teacher", school=ndc)
    teacher_c = f.user("teacher.c", role="teacher", school=nqd)
    student = f.user("student.a", role="student", school=ndc)
    lender = f.user("manager.a", role="manager", school=ndc)

    def book(space, who, start, end, kind="class", status="approved"):
        return f.booking(space, who, start=start, end=end, kind=kind, status=status)

    book(a, teacher, f.at(datetime.date(2026, 1, 31), "23:00"), f.at(day(2, 1), "01:00"),
         kind="event")
    february = book(a, teacher, f.at(day(2, 2), "08:00"), f.at(day(2, 2), "10:00"))
    march = book(a, teacher, f.at(day(3, 3), "08:00"), f.at(day(3, 3), "11:00"), kind="club")
    in_c = book(c, teacher_c, f.at(day(3, 4), "13:00"), f.at(day(3, 4), "14:30"),
                kind="project_work")
    cancelled = book(a, teacher, f.at(day(3, 5), "08:00"), f.at(day(3, 5), "12:00"),
                     status="cancelled")
    pending = book(a, student, f.at(day(3, 6), "08:00"), f.at(day(3, 6), "09:00"),
                   kind="project_work", status="pending")
    book(a, teacher, f.at(day(4, 1), "08:00"), f.at(day(4, 1), "10:00"))

    robotics = ProjectCategory.objects.create(name_vi="Rô-bốt và máy thông minh",
                                              name_en="Robotics and Intelligent Machines",
                                              year=2025)
    kits = f.category("Vi điều khiển")
    kit = f.stock(a, kits, name="Bộ kit Arduino", quantity=10)
    printer = f.asset(a, f.category("Máy in 3D"), name="Máy in 3D Prusa")
    microscope = f.asset(c, f.category("Kính hiển vi"), name="Kính hiển vi số")
    for booking, item, quantity in ((february, kit, 4), (march, kit, 2), (march, printer, 1),
                                    (in_c, microscope, 1), (pending, kit, 5),
                                    (cancelled, printer, 1)):
        BookingEquipment.objects.create(booking=booking, equipment=item, quantity=quantity)
    f.loan(kit, student, lender, quantity=3, checked_out_at=f.at(day(2, 10), "09:00"))
    f.loan(microscope, student, lender, checked_out_at=f.at(day(3, 15), "09:00"))
    f.loan(printer, student, lender, checked_out_at=f.at(datetime.date(2026, 1, 20), "09:00"))

    started = datetime.date(2025, 10, 1)
    Project.objects.create(max_members=5, school=ndc, title="Rô-bốt tưới cây", category=robotics,
                           status="active", started_on=started)
    Project.objects.create(max_members=5, school=ndc, title="Ý tưởng lọc nước", status="idea",
                           started_on=started)
    Project.objects.create(max_members=5, school=nqd, title="Cánh tay máy", category=robotics,
                           status="completed", started_on=started)
    Project.objects.create(max_members=5, school=nqd, title="Dự án mùa hè", status="active",
                           started_on=datetime.date(2026, 6, 1))
    return {"a": a, "c": c, "kit": kit, "printer": printer, "microscope": microscope,
            "teacher": teacher, "robotics": robotics}


@pytest.fixture
def world(school, other_school):
    return dashboard_world(school, other_school)


def more_of_everything(world, school, n: int = 5) -> None:
    """Grow every figure: more bookings, reservations, loans and projects."""
    for i in range(n):
        start = f.at(day(3, 10 + i), "08:00")
        booking = f.booking(world["a"], world["teacher"], start=start,
                            end=start + datetime.timedelta(hours=1), kind="workshop")
        item = f.stock(world["a"], f.category(f"Loại {i}"), name=f"Thiết bị {i}")
        BookingEquipment.objects.create(booking=booking, equipment=item, quantity=2)
        f.loan(item, world["teacher"], world["teacher"], checked_out_at=start)
        category = ProjectCategory.objects.create(name_vi=f"Lĩnh vực {i}",
                                                  name_en=f"Field {i}", year=2025)
        Project.objects.create(max_members=5, school=school, title=f"Dự án {i}", category=category,
                               started_on=day(1, 5))


# The figures -------------------------------------------------------------------------------

def test_hours_by_school_and_month(world, school, other_school):
    figures = dashboard_figures(date_from=FROM, date_to=TO)

    assert figures.months == ["2026-02", "2026-03"]
    # The event that began on 31/1 counts its hour inside the window, in February.
    assert figures.hours_by_school_month == {school.pk: {"2026-02": 3.0, "2026-03": 3.0},
                                             other_school.pk: {"2026-03": 1.5}}


def test_hours_by_month_inside_a_shorter_window(world, school):
    figures = dashboard_figures(date_from=day(2, 2), date_to=day(3, 3),
                                school_ids=[school.pk])

    assert figures.hours_by_school_month == {school.pk: {"2026-02": 2.0, "2026-03": 3.0}}


def test_bookings_by_kind(world):
    kinds = {row["kind"]: (row["bookings"], row["hours"])
             for row in dashboard_figures(date_from=FROM, date_to=TO).bookings_by_kind}

    assert kinds == {"class": (1, 2.0), "club": (1, 3.0), "project_work": (1, 1.5),
                     "mentor_session": (0, 0.0), "workshop": (0, 0.0), "event": (1, 1.0),
                     "maintenance": (0, 0.0)}


def test_top_equipment_counts_approved_reservations_and_loans_in_the_window(world):
    top = dashboard_figures(date_from=FROM, date_to=TO).top_equipment

    assert [(row["name"], row["reservations"], row["reserved_units"], row["loans"],
             row["lent_units"], row["uses"], row["units"]) for row in top] == [
        ("Bộ kit Arduino", 2, 6, 1, 3, 3, 9),
        ("Kính hiển vi số", 1, 1, 1, 1, 2, 2),
        ("Máy in 3D Prusa", 1, 1, 0, 0, 1, 1),
    ]
    assert (top[0]["space_name"], top[0]["school_name"]) == (
        "Phòng chế tạo A", "THPT Chuyên Nguyễn Đình Chiểu")


def test_top_equipment_keeps_to_the_schools_and_the_limit(world, other_school):
    figures = dashboard_figures(date_from=FROM, date_to=TO, school_ids=[other_school.pk])
    assert [row["name"] for row in figures.top_equipment] == ["Kính hiển vi số"]

    figures = dashboard_figures(date_from=FROM, date_to=TO, top=1)
    assert [row["name"] for row in figures.top_equipment] == ["Bộ kit Arduino"]


def test_projects_by_status_and_category_in_the_active_language(world, school):
    figures = dashboard_figures(date_from=FROM, date_to=TO)

    statuses = {row["status"]: row["projects"] for row in figures.projects_by_status}
    assert statuses == {"idea": 1, "active": 1, "prototype": 0, "completed": 1,
                        "exhibited": 0, "archived": 0}
    assert [(row["name"], row["projects"]) for row in figures.projects_by_category] == [
        ("Rô-bốt và máy thông minh", 2), (None, 1)]
    with translation.override("en"):
        figures = dashboard_figures(date_from=FROM, date_to=TO, school_ids=[school.pk])
    assert [(row["name"], row["projects"]) for row in figures.projects_by_category] == [
        ("Robotics and Intelligent Machines", 1), (None, 1)]


def test_figures_make_four_queries_whatever_the_data(world, school,
                                                      django_assert_num_queries):
    with django_assert_num_queries(4):
        dashboard_figures(date_from=FROM, date_to=TO)
    more_of_everything(world, school)
    with django_assert_num_queries(4):
        figures = dashboard_figures(date_from=FROM, date_to=TO)
    assert len(figures.top_equipment) == 8


# Who may see the page ----------------------------------------------------------------------

def test_anonymous_is_sent_to_log_in(client):
    response = client.get("/dashboard/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/dashboard/")


@pytest.mark.parametrize("role", ["teacher", "student", "mentor"])
def test_others_may_not_see_the_dashboard(client, school, role):
    person = f.user(f"{role}.x", role=role, school=None if role == "mentor" else school)
    client.force_login(person)

    response = client.get("/dashboard/")

    assert response.status_code == 403


def test_union_sees_every_school_and_can_pick(client, union, world):
    client.force_login(union)

    body = client.get("/dashboard/", WINDOW).content.decode()
    assert "THPT Chuyên Nguyễn Đình Chiểu" in body
    assert "THPT Chuyên Nguyễn Quang Diêu" in body
    assert body.count('type="checkbox" name="school"') == 2

    ndc = world["a"].school
    response = client.get("/dashboard/", {**WINDOW, "school": ndc.pk})
    table = table_rows(response.content.decode())
    assert [row[0] for row in table] == ["THPT Chuyên Nguyễn Đình Chiểu"]


def test_superuser_sees_the_dashboard(client, admin_user, world):
    client.force_login(admin_user)

    assert client.get("/dashboard/", WINDOW).status_code == 200


def test_manager_sees_their_own_school_only(client, manager, world, other_school):
    client.force_login(manager)

    response = client.get("/dashboard/", {**WINDOW, "school": other_school.pk})

    body = response.content.decode()
    assert response.status_code == 200
    assert [row[0] for row in table_rows(body)] == ["THPT Chuyên Nguyễn Đình Chiểu"]
    assert "THPT Chuyên Nguyễn Quang Diêu" not in body
    assert 'name="school"' not in body  # nothing to pick
    assert "Kính hiển vi số" not in body  # the other school's equipment
    assert f"school={manager.school_id}" in csv_link(body)


# The page ----------------------------------------------------------------------------------

def table_rows(body: str) -> list[list[str]]:
    """The usage table's body rows, as the text of their cells."""
    tbody = re.search(r'<table class="usage-table">.*?<tbody>(.*?)</tbody>', body, re.S)
    assert tbody
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", tbody.group(1), re.S)]


def csv_link(body: str) -> str:
    found = re.search(r'id="download-csv" href="([^"]+)"', body)
    assert found
    return found.group(1).replace("&amp;", "&")


def test_page_is_vietnamese_with_vietnamese_numbers_and_dates(client, union, world):
    client.force_login(union)

    body = client.get("/dashboard/", WINDOW).content.decode()

    assert '<html lang="vi">' in body
    assert "Bảng điều khiển sử dụng" in body
    assert "Từ 01/02/2026 đến 31/03/2026" in body
    rows = {row[0]: row[1:] for row in table_rows(body)}
    # Booked hours, open hours, utilisation, bookings, sessions, students, loans, projects, log.
    assert rows["THPT Chuyên Nguyễn Quang Diêu"][:4] == ["1,5", "500", "0,3%", "1"]
    assert rows["THPT Chuyên Nguyễn Đình Chiểu"][0] == "6"
    # The kit's loan (10/2, due a week later) is still out: overdue.
    assert rows["THPT Chuyên Nguyễn Đình Chiểu"][6] == "1 / 1"


def test_page_is_english_on_request(client, union, world):
    client.force_login(union)

    body = client.get("/dashboard/", WINDOW, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<html lang="en">' in body
    assert "Usage dashboard" in body
    assert "Robotics and Intelligent Machines" in body


def test_table_by_space(client, union, world):
    client.force_login(union)

    body = client.get("/dashboard/", {**WINDOW, "group_by": "space"}).content.decode()

    rows = table_rows(body)
    # In the report's order (by school name, in the database's collation).
    assert sorted(row[:3] for row in rows) == [
        ["THPT Chuyên Nguyễn Quang Diêu", "Phòng thí nghiệm C", "1,5"],
        ["THPT Chuyên Nguyễn Đình Chiểu", "Phòng chế tạo A", "6"]]
    assert "group_by=space" in csv_link(body)


def test_default_window_is_the_school_year_so_far(client, union, world):
    client.force_login(union)
    today = datetime.date.today()

    body = client.get("/dashboard/").content.decode()

    assert f'name="from" value="{school_year_start(today).isoformat()}"' in body
    assert 'name="to" value="' in body
    # Every school ticked at first; the links then ask for all schools.
    boxes = re.findall(r'<input type="checkbox" name="school"[^>]*>', body)
    assert len(boxes) == 2 and all(" checked" in box for box in boxes)
    assert "school=" not in csv_link(body)


def test_school_year_start():
    assert school_year_start(datetime.date(2026, 11, 26)) == datetime.date(2026, 9, 1)
    assert school_year_start(datetime.date(2026, 9, 1)) == datetime.date(2026, 9, 1)
    assert school_year_start(datetime.date(2027, 5, 31)) == datetime.date(2026, 9, 1)


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-03-31", "to": "2026-03-01"}, "to"),
    ({"from": "2020-01-01", "to": "2026-03-01"}, "to"),
    ({"from": "hôm qua", "to": "2026-03-01"}, "from"),
])
def test_a_bad_window_is_explained_not_a_500(client, union, world, query, field):
    client.force_login(union)

    response = client.get("/dashboard/", query)

    assert response.status_code == 400
    assert "field-error" in response.content.decode()
    assert field in response.context["form"].errors


def test_dates_can_be_typed_the_vietnamese_way(client, union, world):
    client.force_login(union)

    response = client.get("/dashboard/", {"from": "01/02/2026", "to": "31/03/2026"})

    assert response.status_code == 200
    assert "Từ 01/02/2026 đến 31/03/2026" in response.content.decode()


def test_download_links_carry_the_window_and_schools_and_work(client, union, world,
                                                               other_school):
    client.force_login(union)
    body = client.get("/dashboard/", {**WINDOW, "school": other_school.pk}).content.decode()

    url = csv_link(body)
    assert url.startswith(reverse("api:report-usage") + "?")
    assert "from=2026-02-01" in url and "to=2026-03-31" in url
    assert f"school={other_school.pk}" in url and "format=csv" in url
    xlsx = re.search(r'id="download-xlsx" href="([^"]+)"', body)
    assert xlsx and "format=xlsx" in xlsx.group(1)

    response = client.get(url)
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    assert "THPT Chuyên Nguyễn Quang Diêu" in text
    assert "THPT Chuyên Nguyễn Đình Chiểu" not in text


def test_charts_are_svg_with_title_desc_and_a_data_table(client, union, world):
    client.force_login(union)

    body = client.get("/dashboard/", WINDOW).content.decode()

    for key in ("hours-by-month", "bookings-by-kind", "top-equipment", "projects-by-status",
                "projects-by-category"):
        assert f'aria-labelledby="{key}-title {key}-desc"' in body, key
        assert f'<title id="{key}-title">' in body
        assert re.search(f'<desc id="{key}-desc">[^<]+</desc>', body), key
    assert body.count('<table class="visually-hidden chart-data">') == 5
    assert not re.search(r"<script(?![^>]*\bsrc=)", body)  # scripts only from files
    assert "<style" not in body and " style=" not in body
    assert not re.search(r'(src|href)="(https?:)?//', body)
    assert "/static/css/dashboard.css" in body


def bars(body: str, key: str) -> list[tuple[float, float, float]]:
    """(value, width, height) of each bar of one chart."""
    chart = re.search(f'<figure[^>]*id="chart-{key}".*?</figure>', body, re.S)
    assert chart
    return [(float(value), float(width), float(height)) for width, height, value in
            re.findall(r'<rect class="bar s\d+"[^>]*width="([\d.]+)" height="([\d.]+)" '
                       r'data-value="([\d.]+)"', chart.group(0))]


def test_month_chart_stacks_hours_with_heights_in_proportion(client, union, world):
    client.force_login(union)

    found = bars(client.get("/dashboard/", WINDOW).content.decode(), "hours-by-month")

    # February: ndc 3; March: ndc 3, nqd 1.5 (the schools in order of their hours).
    assert [value for value, _w, _h in found] == [3.0, 3.0, 1.5]
    per_hour = {round(height / value, 3) for value, _w, height in found}
    assert len(per_hour) == 1 and per_hour.pop() > 0


def test_bar_charts_have_widths_in_proportion(client, union, world):
    client.force_login(union)
    body = client.get("/dashboard/", WINDOW).content.decode()

    kinds = bars(body, "bookings-by-kind")
    assert [value for value, _w, _h in kinds] == [1, 1, 1, 1]
    assert len({width for _v, width, _h in kinds}) == 1
    equipment = bars(body, "top-equipment")
    # Reservations then loans, item by item: 2 + 1, 1 + 1, 1.
    assert [value for value, _w, _h in equipment] == [2, 1, 1, 1, 1]
    assert len({round(width / value, 3) for value, width, _h in equipment}) == 1


def test_empty_window_says_so_instead_of_drawing(client, union, world):
    client.force_login(union)

    body = client.get("/dashboard/", {"from": "2025-06-01", "to": "2025-06-30"}).content.decode()

    assert "Không có lượt đặt nào được duyệt trong khoảng thời gian này." in body
    assert 'id="hours-by-month-title"' not in body


def test_many_schools_share_one_colour_past_eight(client, union):
    schools = [f.school(f"t{n:02d}", name=f"THPT Số {n:02d}") for n in range(10)]
    teacher = f.user("teacher.many", role="teacher", school=schools[0])
    for n, school in enumerate(schools):
        space = f.space(school)
        f.booking(space, teacher, start=f.at(day(3, 2), "08:00"),
                  end=f.at(day(3, 2), f"{9 + n % 5:02d}:00"))
    client.force_login(union)

    body = client.get("/dashboard/", {"from": "2026-03-01", "to": "2026-03-31"}).content.decode()

    legend = re.search(r'id="chart-hours-by-month".*?<ul class="legend">(.*?)</ul>', body, re.S)
    assert legend
    assert legend.group(1).count("<li>") == 8
    assert "Các trường khác" in legend.group(1)


# Numbers and axes ---------------------------------------------------------------------------

def test_numbers_follow_the_language():
    with translation.override("vi"):
        assert (number(12.5), number(3.0), number(0.127), number(0.3333)) == (
            "12,5", "3", "0,13", "0,33")
    with translation.override("en"):
        assert number(12.5) == "12.5"


def test_nice_ceiling():
    assert [nice_ceiling(v) for v in (0, 0.7, 3, 7.5, 45, 66, 101)] == [1, 0.8, 4, 8, 60, 80, 200]


# A fixed number of queries -----------------------------------------------------------------

# Session and user, the schools for the form, the usage report (12), the figures (4).
UNION_QUERIES = 2 + 1 + 12 + 4


@pytest.mark.parametrize("group_by", ["school", "space"])
def test_union_page_makes_a_fixed_number_of_queries(client, union, world, school, group_by,
                                                    django_assert_num_queries):
    client.force_login(union)
    with django_assert_num_queries(UNION_QUERIES):
        assert client.get("/dashboard/", {**WINDOW, "group_by": group_by}).status_code == 200
    more_of_everything(world, school, n=12)
    f.space(f.school("tm", name="THPT Tháp Mười"))
    with django_assert_num_queries(UNION_QUERIES):
        assert client.get("/dashboard/", {**WINDOW, "group_by": group_by}).status_code == 200


def test_manager_page_makes_a_fixed_number_of_queries(client, manager, world, school,
                                                      django_assert_num_queries):
    client.force_login(manager)
    with django_assert_num_queries(UNION_QUERIES):
        client.get("/dashboard/", WINDOW)
    more_of_everything(world, school, n=12)
    with django_assert_num_queries(UNION_QUERIES):
        client.get("/dashboard/", WINDOW)
