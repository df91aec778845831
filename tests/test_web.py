"""Pages for people: home, login and password, the equipment item page."""

from __future__ import annotations

import datetime
import re

import pytest
from django.http import HttpResponse
from django.urls import reverse

from spaces.models import EquipmentStatus, MaintenanceRecord
from tests import factories as f
from web.views import locked_out

UTC = datetime.UTC


def maintenance(equipment, *, by=None, description="Bảo dưỡng định kỳ", **fields):
    return MaintenanceRecord.objects.create(equipment=equipment, performed_by=by,
                                            description=description, **fields)


def html(response) -> str:
    return response.content.decode()


# Home ---------------------------------------------------------------------------------------

def test_home_is_vietnamese_by_default(client, space):
    response = client.get("/")

    assert response.status_code == 200
    assert '<html lang="vi">' in html(response)
    # Strings Django itself translates, whatever our own catalogue holds yet.
    assert "Trang chủ" in html(response)
    assert "Đăng nhập" in html(response)


def test_home_is_english_with_accept_language_en(client, space):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    assert '<html lang="en">' in html(response)
    assert "Log in" in html(response)
    assert "Schools and their spaces" in html(response)


def test_home_lists_schools_and_spaces_with_ical_links(client, space, other_space):
    body = html(client.get("/"))

    assert "THPT Chuyên Nguyễn Đình Chiểu" in body
    assert "THPT Chuyên Nguyễn Quang Diêu" in body
    assert "Phòng chế tạo" in body
    assert "Phòng STEM" in body
    assert f'href="/ical/spaces/{space.pk}.ics"' in body
    assert f'href="/ical/spaces/{other_space.pk}.ics"' in body
    assert 'href="/api/v1/docs/"' in body
    assert 'href="/admin/"' in body


def test_home_leaves_out_spaces_not_in_use(client, school):
    f.space(school, name="Phòng cũ", is_active=False)

    assert "Phòng cũ" not in html(client.get("/"))


@pytest.mark.parametrize("spaces_per_school", [1, 5])
def test_home_makes_two_queries_however_many_spaces(client, django_assert_num_queries,
                                                     school, other_school, spaces_per_school):
    for index in range(spaces_per_school):
        f.space(school, name=f"Phòng A{index}", hours=False)
        f.space(other_school, name=f"Phòng B{index}", hours=False)

    with django_assert_num_queries(2):  # schools, their spaces
        response = client.get("/")

    assert html(response).count("/ical/spaces/") == 2 * spaces_per_school


@pytest.mark.parametrize("spaces_per_school", [1, 5])
def test_home_for_signed_in_user_makes_eight_queries(client, django_assert_num_queries, manager,
                                                     school, other_school, spaces_per_school):
    for index in range(spaces_per_school):
        f.space(school, name=f"Phòng A{index}", hours=False)
        f.space(other_school, name=f"Phòng B{index}", hours=False)
    client.force_login(manager)

    # session, user, schools, their spaces; then the manager's own home (web/role_home.py):
    # upcoming bookings, sessions, requests waiting, loans overdue
    with django_assert_num_queries(8):
        client.get("/")


def test_home_greets_signed_in_user_with_role_and_school(client, teacher):
    client.force_login(teacher)

    body = html(client.get("/", HTTP_ACCEPT_LANGUAGE="en"))

    assert "Hello, Teacher Ndc." in body
    assert "You are signed in as: Teacher." in body
    assert "School: THPT Chuyên Nguyễn Đình Chiểu." in body
    assert reverse("logout") in body


def test_home_offers_labels_to_the_school_manager_only(client, manager, teacher, space,
                                                      other_space):
    labels = reverse("space-labels-print", args=[space.pk])
    other_labels = reverse("space-labels-print", args=[other_space.pk])

    client.force_login(manager)
    body = html(client.get("/"))
    assert labels in body
    assert other_labels not in body

    client.force_login(teacher)
    assert labels not in html(client.get("/"))


def test_home_offers_labels_of_every_school_to_the_union(client, union, space, other_space):
    client.force_login(union)

    body = html(client.get("/"))

    assert reverse("space-labels-print", args=[space.pk]) in body
    assert reverse("space-labels-print", args=[other_space.pk]) in body


def test_pages_load_nothing_from_outside_and_have_no_inline_script_or_style(client, manager,
                                                                            laser):
    client.force_login(manager)
    for url in ["/", reverse("equipment-detail", args=[laser.pk]),
                reverse("space-labels-print", args=[laser.space_id]),
                reverse("password_change")]:
        body = html(client.get(url))
        assert not re.search(r'(src|href)="(https?:)?//', body), url
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), url  # scripts only from files
        assert "<style" not in body and " style=" not in body, url
        assert "/static/css/site.css" in body


def test_language_switch_posts_to_set_language_and_switches_to_english(client, space):
    body = html(client.get("/"))
    assert 'action="/i18n/setlang/"' in body
    assert 'name="language"' in body

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302

    assert '<html lang="en">' in html(client.get("/"))


# Login, logout, password -----------------------------------------------------------------

def test_login_page_has_labelled_username_and_password_fields(client):
    body = html(client.get("/accounts/login/"))

    assert 'name="username"' in body
    assert 'name="password"' in body
    assert '<label for="id_username">' in body
    assert '<label for="id_password">' in body
    assert "Mật khẩu" in body


def test_login_with_username_and_password_goes_home_signed_in(client, teacher):
    response = client.post("/accounts/login/", {"username": "teacher.ndc",
                                                "password": "demo12345"})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert "Teacher Ndc" in html(client.get("/"))


def test_login_follows_next(client, teacher, laser):
    item = reverse("equipment-detail", args=[laser.pk])

    response = client.post(f"/accounts/login/?next={item}",
                           {"username": "teacher.ndc", "password": "demo12345", "next": item})

    assert response["Location"] == item


def test_login_with_wrong_password_shows_an_error(client, teacher):
    response = client.post("/accounts/login/", {"username": "teacher.ndc", "password": "nope"},
                           HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert 'role="alert"' in html(response)
    assert "Please enter a correct username and password" in html(response)
    assert "_auth_user_id" not in client.session


def test_too_many_wrong_passwords_lock_the_login(client, teacher, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "teacher.ndc",
                                                    "password": "nope"})

    assert response.status_code == 429
    response = client.post("/accounts/login/", {"username": "teacher.ndc",
                                                "password": "demo12345"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_locked_out_page_says_why_and_for_how_long(client, teacher, settings):
    settings.AXES_LOCKOUT_CALLABLE = "web.views.locked_out"
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "teacher.ndc",
                                                    "password": "nope"},
                               HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    assert '<html lang="en">' in html(response)
    assert "wrong passwords in a row" in html(response)
    assert "Try again in 15 minutes." in html(response)


def test_locked_out_page_leaves_the_api_its_own_answer(rf):
    api_answer = HttpResponse('{"detail": "Too many failed attempts"}', status=429,
                              content_type="application/json")

    assert locked_out(rf.post("/api/v1/auth/token/"), api_answer) is api_answer
    assert locked_out(rf.post("/accounts/login/"), HttpResponse()).status_code == 429


def test_pages_switch_off_browser_features_they_do_not_use(client, space):
    policy = client.get("/")["Permissions-Policy"]

    for feature in ("camera", "geolocation", "microphone", "payment", "usb"):
        assert f"{feature}=()" in policy
    assert client.get("/api/v1/schools/")["Permissions-Policy"] == policy


def test_a_session_lasts_a_school_day_not_two_weeks(client, teacher):
    client.post("/accounts/login/", {"username": teacher.username, "password": "demo12345"})

    assert 11 * 3600 < client.session.get_expiry_age() <= 12 * 3600
    assert client.cookies["sessionid"]["max-age"] == 12 * 3600


def test_logout_is_a_post_and_signs_out(client, teacher):
    client.force_login(teacher)

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_change_needs_sign_in(client):
    response = client.get("/accounts/password/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_password_change_changes_the_password(client, teacher):
    client.force_login(teacher)
    assert 'name="old_password"' in html(client.get("/accounts/password/"))

    response = client.post("/accounts/password/", {
        "old_password": "demo12345", "new_password1": "Tháp-Mười-2026!",
        "new_password2": "Tháp-Mười-2026!"})

    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert client.get(response["Location"]).status_code == 200
    teacher.refresh_from_db()
    assert teacher.check_password("Tháp-Mười-2026!")


# Equipment item page -------------------------------------------------------------------

def test_equipment_page_sends_anonymous_to_login(client, laser):
    url = reverse("equipment-detail", args=[laser.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_equipment_page_shows_the_item_to_any_signed_in_user(client, other_student, laser):
    laser.serial_number = "SN-12345"
    laser.save()
    client.force_login(other_student)

    response = client.get(reverse("equipment-detail", args=[laser.pk]),
                          HTTP_ACCEPT_LANGUAGE="en")

    body = html(response)
    assert response.status_code == 200
    for text in ["Máy cắt laser CO2", "Máy cắt laser", "NDC-LZ-001", "SN-12345",
                 "Phòng chế tạo", "THPT Chuyên Nguyễn Đình Chiểu", "Available",
                 "Requires certification", "Asset (one tagged item)"]:
        assert text in body


def test_equipment_page_counts_what_is_available(client, manager, student, kit):
    f.loan(kit, student, manager, quantity=3)
    f.loan(kit, student, manager, quantity=2,
           returned_at=datetime.datetime(2026, 1, 1, tzinfo=UTC),
           checked_out_at=datetime.datetime(2025, 12, 1, tzinfo=UTC))
    client.force_login(student)

    response = client.get(reverse("equipment-detail", args=[kit.pk]))

    assert response.context["item"].quantity == 10
    assert response.context["item"].on_loan_quantity == 3
    assert response.context["item"].available == 7
    assert '<dd class="available">7</dd>' in html(response)
    assert len(response.context["open_loans"]) == 1


def test_equipment_page_hides_borrower_names_from_students(client, manager, student, kit):
    borrower = f.user("student.b", role="student", school=kit.space.school,
                      full_name="Nguyễn Văn Mượn")
    f.loan(kit, borrower, manager, quantity=2)
    client.force_login(student)

    response = client.get(reverse("equipment-detail", args=[kit.pk]))

    assert "Nguyễn Văn Mượn" not in html(response)
    assert response.context["show_people"] is False


@pytest.mark.parametrize("viewer", ["teacher", "other_manager", "mentor"])
def test_equipment_page_hides_borrower_names_from_others(client, manager, kit, viewer, request):
    borrower = f.user("student.b", role="student", school=kit.space.school,
                      full_name="Nguyễn Văn Mượn")
    f.loan(kit, borrower, manager)
    client.force_login(request.getfixturevalue(viewer))

    assert "Nguyễn Văn Mượn" not in html(client.get(reverse("equipment-detail", args=[kit.pk])))


@pytest.mark.parametrize("viewer", ["manager", "union", "admin_user"])
def test_equipment_page_shows_borrower_names_to_managers_and_union(client, manager, kit, viewer,
                                                                  request):
    borrower = f.user("student.b", role="student", school=kit.space.school,
                      full_name="Nguyễn Văn Mượn")
    f.loan(kit, borrower, manager)
    client.force_login(request.getfixturevalue(viewer))

    assert "Nguyễn Văn Mượn" in html(client.get(reverse("equipment-detail", args=[kit.pk])))


def test_equipment_page_shows_times_in_vietnam_as_dd_mm_yyyy(client, manager, student, laser):
    lent_at = datetime.datetime(2026, 3, 1, 20, 30, tzinfo=UTC)
    f.loan(laser, student, manager, checked_out_at=lent_at, days=2)
    maintenance(laser, performed_on=datetime.date(2026, 2, 14))
    client.force_login(manager)

    body = html(client.get(reverse("equipment-detail", args=[laser.pk])))

    assert "02/03/2026 03:30" in body  # 20:30 UTC is 03:30 the next day in Vietnam
    assert "04/03/2026 03:30" in body
    assert "14/02/2026" in body


def test_equipment_page_shows_the_last_five_maintenance_records(client, student, laser):
    for day in range(1, 8):
        maintenance(laser, performed_on=datetime.date(2026, 1, day), description=f"Lần {day}")
    client.force_login(student)

    body = html(client.get(reverse("equipment-detail", args=[laser.pk])))

    assert "Lần 7" in body
    assert "Lần 3" in body
    assert "Lần 2" not in body


def test_equipment_page_of_a_retired_item_says_so(client, student, laser):
    laser.status = EquipmentStatus.RETIRED
    laser.save()
    client.force_login(student)

    response = client.get(reverse("equipment-detail", args=[laser.pk]), HTTP_ACCEPT_LANGUAGE="en")

    assert "Retired" in html(response)
    assert response.context["item"].available == 0


def test_equipment_page_of_unknown_item_is_404(client, student):
    client.force_login(student)

    assert client.get(reverse("equipment-detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("loans", [1, 4])
def test_equipment_page_makes_a_fixed_number_of_queries(client, django_assert_num_queries,
                                                        manager, student, kit, loans):
    for _index in range(loans):
        f.loan(kit, student, manager)
        maintenance(kit, by=manager)
    client.force_login(manager)

    # session, user, item, its open loans, its maintenance
    with django_assert_num_queries(5):
        client.get(reverse("equipment-detail", args=[kit.pk]))
