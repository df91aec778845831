"""The week calendar of a space and a school's week: who sees what, periods, closures,
the free slots that open the booking form, the weeks, and a fixed number of queries."""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings.models import Closure
from tests import factories as f
from web.calendar import monday_of, week_param

TUESDAY = 1


def html(response) -> str:
    return response.content.decode()


def week_page(client, space, day, **extra):
    return client.get(reverse("space-week", args=[space.pk]), {"date": day.isoformat()}, **extra)


def booking_cell(body: str, pk: int) -> str:
    match = re.search(rf'<td rowspan="\d+" class="booking[^"]*" data-booking="{pk}">(.*?)</td>',
                      body, re.S)
    assert match, f"booking {pk} not drawn"
    return match.group(0)


@pytest.fixture
def bells(school):
    """Morning periods of every day; Saturday has its own shorter schedule."""
    f.period(school, 1, "07:00", "07:45")
    f.period(school, 2, "07:50", "08:35")
    f.period(school, 3, "08:40", "09:25")
    f.period(school, 1, "07:30", "08:10", weekday=5)


@pytest.fixture
def tuesday():
    return f.next_weekday(TUESDAY)


@pytest.fixture
def week(space, teacher, student, tuesday):
    """Tuesday: the teacher's class (periods 2–3), approved; the student's request, pending."""
    lesson = f.booking(space, teacher, start=f.at(tuesday, "07:50"), end=f.at(tuesday, "09:25"),
                       title="Vật lý 11A", kind="class")
    request = f.booking(space, student, start=f.at(tuesday, "14:00"), end=f.at(tuesday, "15:30"),
                        title="Dự án cảm biến", kind="project_work", status="pending")
    return {"lesson": lesson, "request": request}


# Who sees what --------------------------------------------------------------------------------

def test_visitors_see_approved_bookings_without_names(client, space, week, tuesday):
    body = html(week_page(client, space, tuesday))

    cell = booking_cell(body, week["lesson"].pk)
    assert "Vật lý 11A" in cell and "07:50–09:25" in cell
    assert "Teacher Ndc" not in body
    assert "Dự án cảm biến" not in body  # requests are not public
    assert f'data-booking="{week["request"].pk}"' not in body


def test_teachers_of_the_school_see_requests_styled_apart_with_organisers(client, teacher, space,
                                                                          week, tuesday):
    client.force_login(teacher)
    body = html(week_page(client, space, tuesday))

    request = booking_cell(body, week["request"].pk)
    assert 'class="booking pending kind-project_work"' in request
    assert "Student Ndc" in request
    assert "Teacher Ndc" in booking_cell(body, week["lesson"].pk)
    assert 'class="booking approved kind-class"' in booking_cell(body, week["lesson"].pk)


def test_managers_of_the_school_see_organisers(client, manager, space, week, tuesday):
    client.force_login(manager)

    assert "Student Ndc" in booking_cell(html(week_page(client, space, tuesday)),
                                         week["request"].pk)


@pytest.mark.parametrize("viewer", ["other_student", "other_manager", "mentor", "union"])
def test_people_outside_the_school_see_no_names(client, request, viewer, space, week, tuesday):
    client.force_login(request.getfixturevalue(viewer))
    body = html(week_page(client, space, tuesday))

    assert "Vật lý 11A" in body
    assert "Teacher Ndc" not in body and "Student Ndc" not in body


@pytest.mark.parametrize("viewer", ["other_student", "other_manager", "mentor", "classmate"])
def test_a_request_others_may_not_see_holds_its_slot_without_its_title(client, request, viewer,
                                                                       school, space, week,
                                                                       tuesday):
    # As in the API (404 for them): the slot shows as requested, with no title, kind or id.
    user = (f.user("classmate", role="student", school=school) if viewer == "classmate"
            else request.getfixturevalue(viewer))
    client.force_login(user)
    body = html(week_page(client, space, tuesday))

    assert "Dự án cảm biến" not in body
    assert f'data-booking="{week["request"].pk}"' not in body
    assert re.search(r'<td rowspan="\d+" class="booking pending">\s*'
                     r'<span class="b-time">14:00–15:30</span>\s*'
                     r'<span class="b-title">Đã có người đặt</span>', body)
    assert "Vật lý 11A" in booking_cell(body, week["lesson"].pk)  # approved: public


def test_the_union_sees_every_request_by_title(client, union, space, week, tuesday):
    client.force_login(union)

    assert "Dự án cảm biến" in booking_cell(html(week_page(client, space, tuesday)),
                                            week["request"].pk)


def test_school_week_hides_other_schools_requests_titles(client, school, other_student, week,
                                                         tuesday):
    client.force_login(other_student)
    body = html(client.get(reverse("school-week", args=[school.slug]),
                           {"date": tuesday.isoformat()}))

    assert "Dự án cảm biến" not in body and "Đã có người đặt" in body
    assert f'data-booking="{week["request"].pk}"' not in body


def test_students_see_their_own_name_only(client, student, space, week, tuesday):
    client.force_login(student)
    body = html(week_page(client, space, tuesday))

    assert "Student Ndc" in booking_cell(body, week["request"].pk)
    assert "Teacher Ndc" not in body


# The grid -------------------------------------------------------------------------------------

def test_the_week_runs_monday_to_saturday_with_the_opening_hours(client, space, tuesday):
    body = html(week_page(client, space, tuesday))

    monday = tuesday - datetime.timedelta(days=1)
    days = re.findall(r'<span class="day-date">(\d\d/\d\d)</span>', body)
    assert days == [f"{monday + datetime.timedelta(days=n):%d/%m}" for n in range(6)]
    times = re.findall(r'<th scope="row" class="time-col">(\d\d:\d\d)</th>', body)
    assert times[0] == "07:00" and times[-1] == "16:30"  # the space opens 07:00–17:00


def test_a_space_open_on_sunday_shows_sunday(client, school, tuesday):
    space = f.space(school, name="Phòng cuối tuần")
    space.opening_hours.create(weekday=6, opens=datetime.time(8), closes=datetime.time(11))

    body = html(week_page(client, space, tuesday))

    assert len(re.findall(r'<span class="day-date">', body)) == 7


def test_a_booking_is_one_cell_spanning_its_rows(client, space, week, tuesday, bells):
    body = html(week_page(client, space, tuesday))

    # 07:50 | 08:00 | 08:10 (Saturday's bell) | 08:30 | 08:35 | 08:40 | 09:00 → 09:25.
    assert f'<td rowspan="7" class="booking approved kind-class" data-booking="{week["lesson"].pk}"' \
        in body
    rows = re.findall(r"<tr[^>]*>.*?</tr>", body.split("<tbody>")[1], re.S)
    assert all(row.count("<td") + row.count("<th") <= 7 for row in rows)


def test_bell_periods_are_marked_per_weekday(client, space, bells, tuesday):
    body = html(week_page(client, space, tuesday, HTTP_ACCEPT_LANGUAGE="en"))

    # Periods 1–3 Monday to Friday, Saturday's own period 1.
    assert body.count('class="period-label"') == 5 * 3 + 1
    assert "Period 3" in body
    assert "07:30" in re.findall(r'<th scope="row" class="time-col">(\d\d:\d\d)</th>', body)
    assert 'class="free in-period"' in body


def test_closures_are_shaded_with_their_reason(client, space, school, teacher, tuesday):
    Closure.objects.create(school=school, start_date=tuesday, end_date=tuesday,
                           reason="Kiểm tra học kỳ")
    client.force_login(teacher)

    body = html(week_page(client, space, tuesday))

    assert '<th scope="col" class="day closed-day">' in body
    assert "Kiểm tra học kỳ" in body
    assert f"book/?date={tuesday.isoformat()}" not in body  # no free slot to click that day
    monday = tuesday - datetime.timedelta(days=1)
    assert f"book/?date={monday.isoformat()}" in body


def test_a_closure_of_another_space_leaves_this_one_open(client, space, school, tuesday):
    other = f.space(school, name="Phòng khác")
    Closure.objects.create(school=school, space=other, start_date=tuesday, end_date=tuesday,
                           reason="Sửa điện")

    assert "Sửa điện" not in html(week_page(client, space, tuesday))


# Free slots open the booking form ------------------------------------------------------------

def test_a_free_period_links_to_the_form_prefilled_by_period(client, teacher, space, bells,
                                                             tuesday):
    client.force_login(teacher)
    body = unescape(html(week_page(client, space, tuesday)))

    form = reverse("booking-form", args=[space.pk])
    assert (f'{form}?date={tuesday.isoformat()}&mode=periods&period_from=1&period_to=1'
            in body)
    # A screen reader hears which day and time each "+" books.
    assert f'{tuesday:%d/%m/%Y} 07:00</span><span aria-hidden="true">+</span>' in body


def test_a_free_half_hour_links_to_the_form_prefilled_by_time(client, teacher, space, tuesday):
    client.force_login(teacher)
    body = unescape(html(week_page(client, space, tuesday)))

    form = reverse("booking-form", args=[space.pk])
    assert f"{form}?date={tuesday.isoformat()}&mode=time&start=13:00&end=13:30" in body


@pytest.mark.parametrize("viewer", [None, "other_student", "mentor"])
def test_only_people_who_may_book_get_free_slot_links(client, request, viewer, space, tuesday):
    if viewer:
        client.force_login(request.getfixturevalue(viewer))

    body = html(week_page(client, space, tuesday))

    assert 'class="slot"' not in body
    assert reverse("booking-form", args=[space.pk]) not in body


def test_past_slots_have_no_link(client, teacher, space):
    client.force_login(teacher)
    last_week = f.next_weekday(TUESDAY, weeks=-2)

    assert 'class="slot"' not in html(week_page(client, space, last_week))


# Weeks ----------------------------------------------------------------------------------------

def test_week_parameter_and_previous_next_links(client, space):
    response = client.get(reverse("space-week", args=[space.pk]), {"week": "2027-W03"})
    body = unescape(html(response))

    assert "18/01/2027" in body and "23/01/2027" in body  # Monday to Saturday
    assert 'href="?week=2027-W02"' in body
    assert 'href="?week=2027-W04"' in body


def test_date_parameter_shows_its_week(client, space):
    body = html(client.get(reverse("space-week", args=[space.pk]), {"date": "31/12/2026"}))

    assert "28/12/2026" in body and "02/01/2027" in body
    assert 'href="?week=2027-W01"' in body


def test_nonsense_week_falls_back_to_this_week(client, space):
    response = client.get(reverse("space-week", args=[space.pk]), {"week": "2026-W99"})

    assert response.status_code == 200
    assert f"{monday_of(timezone.localdate()):%d/%m/%Y}" in html(response)


def test_a_space_not_in_use_is_not_found(client, school):
    space = f.space(school, name="Phòng cũ", is_active=False)

    assert client.get(reverse("space-week", args=[space.pk])).status_code == 404


def test_the_page_loads_nothing_from_outside_and_has_no_inline_script_or_style(client, teacher,
                                                                              space, week,
                                                                              tuesday, school):
    client.force_login(teacher)
    for response in (week_page(client, space, tuesday),
                     client.get(reverse("school-week", args=[school.slug]),
                                {"date": tuesday.isoformat()})):
        body = html(response)
        assert '<html lang="vi">' in body
        assert not re.search(r'(src|href)="(https?:)?//', body)
        assert "<script>" not in body and " style=" not in body
        assert "/static/css/calendar.css" in body


# The school's week ---------------------------------------------------------------------------

def test_school_week_shows_every_space_side_by_side(client, school, space, week, tuesday,
                                                    teacher):
    lab = f.space(school, name="Phòng thí nghiệm")
    chemistry = f.booking(lab, teacher, start=f.at(tuesday, "09:00"),
                          end=f.at(tuesday, "10:00"), title="Hoá 10B")
    f.space(school, name="Phòng cũ", is_active=False)

    body = html(client.get(reverse("school-week", args=[school.slug]),
                           {"date": tuesday.isoformat()}))

    assert "Phòng chế tạo" in body and "Phòng thí nghiệm" in body
    assert "Phòng cũ" not in body
    assert f'data-booking="{chemistry.pk}"' in body and "Hoá 10B" in body
    assert "Vật lý 11A" in body and "Dự án cảm biến" not in body  # visitors: approved only
    assert "Teacher Ndc" not in body
    assert f'href="{reverse("space-week", args=[space.pk])}?week={week_param(tuesday)}"' in body


def test_school_week_shows_requests_and_names_to_its_teachers(client, school, teacher, week,
                                                              tuesday):
    client.force_login(teacher)
    body = html(client.get(reverse("school-week", args=[school.slug]),
                           {"date": tuesday.isoformat()}))

    assert "Dự án cảm biến" in body and "Student Ndc" in body
    assert 'class="booking pending"' in body


def test_school_week_of_unknown_school_is_not_found(client, db):
    assert client.get("/schools/nowhere/week/").status_code == 404


# Queries --------------------------------------------------------------------------------------

def fill_week(space, organiser, tuesday, count):
    for index in range(count):
        day = tuesday + datetime.timedelta(days=index % 4)
        hour = 7 + index // 4
        f.booking(space, organiser, start=f.at(day, f"{hour:02d}:00"),
                  end=f.at(day, f"{hour:02d}:45"), title=f"Buổi {index}")


@pytest.mark.parametrize("count", [1, 12])
def test_space_week_makes_a_fixed_number_of_queries(client, django_assert_num_queries, teacher,
                                                    space, bells, tuesday, count):
    fill_week(space, teacher, tuesday, count)
    Closure.objects.create(school=space.school, start_date=tuesday, end_date=tuesday,
                           reason="Nghỉ")

    with django_assert_num_queries(5):  # space, opening hours, bookings, closures, periods
        response = week_page(client, space, tuesday)
    assert html(response).count('class="booking approved') == count

    client.force_login(teacher)
    with django_assert_num_queries(7):  # the same, and the session and user
        week_page(client, space, tuesday)


@pytest.mark.parametrize("spaces", [1, 4])
def test_school_week_makes_a_fixed_number_of_queries(client, django_assert_num_queries, teacher,
                                                     school, tuesday, spaces):
    for index in range(spaces):
        fill_week(f.space(school, name=f"Phòng {index}", hours=False), teacher, tuesday, 3)
    client.force_login(teacher)

    with django_assert_num_queries(6):  # session, user, school, spaces, bookings, closures
        response = client.get(reverse("school-week", args=[school.slug]),
                              {"date": tuesday.isoformat()})
    assert html(response).count('class="booking approved"') == 3 * spaces
