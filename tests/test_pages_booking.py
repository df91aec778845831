"""The booking form, "my bookings" with cancelling, and each role's home: who may, what the
services say on the field at fault, and a fixed number of queries."""

from __future__ import annotations

import datetime
import re
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import AuditEntry
from bookings.models import Booking, BookingEquipment, Series
from projects.models import MentorSession
from tests import factories as f
from tests import project_factories as pf

TUESDAY = 1


def html(response) -> str:
    return response.content.decode()


def flash(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def bells(school):
    f.period(school, 1, "07:00", "07:45")
    f.period(school, 2, "07:50", "08:35")
    f.period(school, 3, "08:40", "09:25")


@pytest.fixture
def tuesday():
    return f.next_weekday(TUESDAY)


@pytest.fixture
def form_url(space):
    return reverse("booking-form", args=[space.pk])


def by_periods(day, first, last, **fields):
    return {"mode": "periods", "date": day.isoformat(), "period_from": str(first),
            "period_to": str(last), "title": "Vật lý 11A", "kind": "class", "attendees": "30",
            **fields}


def by_time(day, start, end, **fields):
    return {"mode": "time", "date": day.isoformat(), "start": start, "end": end,
            "title": "Câu lạc bộ Arduino", "kind": "club", "attendees": "12", **fields}


# Who may book ---------------------------------------------------------------------------------

def test_visitors_are_sent_to_log_in(client, form_url):
    response = client.get(form_url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("viewer", ["other_student", "other_manager", "mentor", "union"])
def test_people_of_other_schools_and_without_a_school_may_not_book(client, request, viewer,
                                                                   form_url, tuesday):
    client.force_login(request.getfixturevalue(viewer))

    assert client.get(form_url).status_code == 403
    assert client.post(form_url, by_time(tuesday, "13:00", "14:00")).status_code == 403
    assert not Booking.objects.exists()


# The form -------------------------------------------------------------------------------------

def test_form_is_prefilled_from_the_free_slot_link(client, teacher, form_url, bells, tuesday,
                                                   kit):
    client.force_login(teacher)
    body = html(client.get(form_url, {"date": tuesday.isoformat(), "mode": "periods",
                                      "period_from": "2", "period_to": "2"}))

    assert f'name="date" value="{tuesday.isoformat()}"' in body
    assert re.search(r'value="periods"[^>]*checked', body)
    assert re.search(r'<select name="period_from"[^>]*>.*?<option value="2" selected>', body, re.S)
    # The bell schedule of that weekday, with times.
    assert "(07:50–08:35)" in body
    # Labels for every input.
    for name in ("date", "period_from", "period_to", "start", "end", "title", "kind",
                 "attendees", "repeat_until", f"equipment_{kit.pk}"):
        assert f'<label for="id_{name}"' in body, name


def test_equipment_shows_what_is_still_free_at_the_chosen_time(client, teacher, student, space,
                                                               form_url, kit, bells, tuesday):
    taken = f.booking(space, student, start=f.at(tuesday, "07:00"), end=f.at(tuesday, "08:00"))
    BookingEquipment.objects.create(booking=taken, equipment=kit, quantity=3)
    client.force_login(teacher)

    during = html(client.get(form_url, by_periods(tuesday, 2, 2)))
    after = html(client.get(form_url, by_periods(tuesday, 3, 3)))
    unchosen = html(client.get(form_url))

    assert f'data-item="{kit.pk}" data-free="7"' in during
    assert f'data-item="{kit.pk}" data-free="10"' in after
    assert f'data-item="{kit.pk}" data-free=""' in unchosen


def test_htmx_gets_only_the_live_part_of_the_form(client, teacher, form_url, kit, bells, tuesday):
    client.force_login(teacher)

    response = client.get(form_url, by_periods(tuesday, 1, 2), HTTP_HX_REQUEST="true")

    body = html(response)
    assert body.startswith('<div id="live">')
    assert "<html" not in body
    assert f'data-item="{kit.pk}" data-free="10"' in body


def test_another_schools_equipment_is_not_offered(client, teacher, form_url, kit, other_space,
                                                  category):
    theirs = f.stock(other_space, category, name="Bộ kit của trường khác")
    client.force_login(teacher)

    body = html(client.get(form_url))

    assert f"equipment_{kit.pk}" in body
    assert f"equipment_{theirs.pk}" not in body


def test_only_managers_may_pick_maintenance(client, teacher, manager, form_url):
    client.force_login(teacher)
    assert 'value="maintenance"' not in html(client.get(form_url))

    client.force_login(manager)
    assert 'value="maintenance"' in html(client.get(form_url))


@pytest.mark.parametrize("items", [1, 6])
def test_form_makes_a_fixed_number_of_queries(client, django_assert_num_queries, teacher,
                                              space, category, form_url, bells, tuesday, items):
    for index in range(items):
        f.stock(space, category, name=f"Bộ {index}", quantity=5)
    client.force_login(teacher)

    # session, user, space, equipment, loans and reservations (peak_use); the bell schedule
    # twice: for the chosen periods' times (period_times) and for the period lists
    with django_assert_num_queries(8):
        response = client.get(form_url, by_periods(tuesday, 1, 2))
    assert html(response).count('class="free-count"') == items


# Booking --------------------------------------------------------------------------------------

def test_teacher_books_by_periods_with_equipment(client, teacher, space, form_url, kit, bells,
                                                 tuesday):
    client.force_login(teacher)

    response = client.post(form_url, by_periods(tuesday, 2, 3, **{f"equipment_{kit.pk}": "4"}))

    booking = Booking.objects.get()
    assert (booking.start, booking.end) == (f.at(tuesday, "07:50"), f.at(tuesday, "09:25"))
    assert (booking.title, booking.kind, booking.attendees, booking.status) == (
        "Vật lý 11A", "class", 30, "approved")
    assert [(row.equipment, row.quantity) for row in booking.equipment_items.all()] == [(kit, 4)]
    assert response.status_code == 302
    assert response["Location"] == (f"{reverse('space-week', args=[space.pk])}"
                                    f"?week={tuesday.isocalendar()[0]}-W{tuesday.isocalendar()[1]:02d}")
    assert any(f"{tuesday:%d/%m/%Y} 07:50–09:25" in message for message in flash(response))
    # Through the service: it wrote the audit trail.
    assert AuditEntry.objects.filter(action="booking.created", object_id=str(booking.pk)).exists()


def test_teacher_books_by_clock_time(client, teacher, form_url, tuesday):
    client.force_login(teacher)

    client.post(form_url, by_time(tuesday, "13:30", "15:00"))

    booking = Booking.objects.get()
    assert (booking.start, booking.end, booking.kind) == (
        f.at(tuesday, "13:30"), f.at(tuesday, "15:00"), "club")


def test_a_students_request_waits_for_approval(client, student, space, form_url, tuesday):
    client.force_login(student)

    response = client.post(form_url, by_time(tuesday, "14:00", "15:30", kind="project_work"))

    assert Booking.objects.get().status == "pending"
    assert response.status_code == 302
    assert any("14:00" in message for message in flash(response))


def test_repeat_weekly_until_makes_a_series(client, teacher, form_url, bells, tuesday):
    client.force_login(teacher)
    until = tuesday + datetime.timedelta(weeks=3)

    response = client.post(form_url, by_periods(tuesday, 1, 2, repeat_until=until.isoformat()))

    assert response.status_code == 302
    series = Series.objects.get()
    assert series.rrule.startswith("FREQ=WEEKLY;UNTIL=")
    starts = [b.start for b in series.bookings.order_by("start")]
    assert starts == [f.at(tuesday + datetime.timedelta(weeks=n), "07:00") for n in range(4)]


def test_repeat_skips_the_clashing_weeks_when_asked(client, teacher, manager, space, form_url,
                                                    bells, tuesday):
    in_the_way = tuesday + datetime.timedelta(weeks=1)
    f.booking(space, manager, start=f.at(in_the_way, "07:00"), end=f.at(in_the_way, "08:00"),
              title="Bảo trì máy")
    client.force_login(teacher)
    data = by_periods(tuesday, 1, 1, repeat_until=(tuesday + datetime.timedelta(weeks=2)).isoformat())

    refused = client.post(form_url, data)
    assert refused.status_code == 400
    assert not Series.objects.exists()
    assert "Bảo trì máy" in html(refused)
    assert f"{in_the_way:%d/%m/%Y}" in html(refused)

    response = client.post(form_url, {**data, "skip_conflicts": "on"})
    assert response.status_code == 302
    assert Series.objects.get().bookings.count() == 2
    assert any(f"{in_the_way:%d/%m/%Y}" in message for message in flash(response))


# Errors ---------------------------------------------------------------------------------------

def test_repeat_until_before_the_first_date_is_shown_on_that_field(client, teacher, form_url,
                                                                   bells, tuesday):
    client.force_login(teacher)
    before = tuesday - datetime.timedelta(days=1)

    response = client.post(form_url, by_periods(tuesday, 1, 1, repeat_until=before.isoformat()))

    assert response.status_code == 400
    assert 'id="id_repeat_until_error"' in html(response)
    assert not Booking.objects.exists()


def test_a_conflict_shows_what_is_in_the_way(client, teacher, manager, space, form_url, tuesday):
    f.booking(space, manager, start=f.at(tuesday, "14:00"), end=f.at(tuesday, "15:00"),
              title="Họp chuyên môn")
    client.force_login(teacher)

    response = client.post(form_url, by_time(tuesday, "13:30", "14:30"))

    body = html(response)
    assert response.status_code == 400
    assert 'role="alert"' in body
    assert re.search(rf"{tuesday:%d/%m/%Y} 14:00–15:00: Họp chuyên môn", body)
    assert Booking.objects.count() == 1


def test_a_rule_is_shown_on_its_field_and_tied_to_it(client, teacher, form_url, tuesday):
    client.force_login(teacher)

    response = client.post(form_url, by_time(tuesday, "17:30", "18:30"), HTTP_ACCEPT_LANGUAGE="en")

    body = html(response)
    assert response.status_code == 400
    assert 'id="id_start_error"' in body
    assert "Outside the opening hours of this space (07:00–17:00)." in unescape(body)
    start_input = re.search(r'<input type="time" name="start"[^>]*>', body).group(0)
    assert 'aria-describedby="id_start_error"' in start_input
    assert 'aria-invalid="true"' in start_input


def test_rules_of_a_booking_by_periods_land_on_the_period_fields(client, teacher, form_url,
                                                                 bells):
    client.force_login(teacher)
    past = f.next_weekday(TUESDAY, weeks=-2)

    body = html(client.post(form_url, by_periods(past, 1, 2), HTTP_ACCEPT_LANGUAGE="en"))

    assert 'id="id_period_from_error"' in body
    assert "A booking cannot start in the past." in body


def test_period_order_and_capacity_are_the_services_word(client, teacher, form_url, bells,
                                                         tuesday):
    client.force_login(teacher)

    backwards = html(client.post(form_url, by_periods(tuesday, 3, 1), HTTP_ACCEPT_LANGUAGE="en"))
    crowded = html(client.post(form_url, by_periods(tuesday, 1, 1, attendees="31"),
                               HTTP_ACCEPT_LANGUAGE="en"))

    assert 'id="id_period_to_error"' in backwards
    assert "The first period must not come after the last." in backwards
    assert 'id="id_attendees_error"' in crowded
    assert "This space holds at most 30 people." in crowded
    assert not Booking.objects.exists()


def test_missing_inputs_are_asked_for(client, teacher, form_url, tuesday):
    client.force_login(teacher)

    body = html(client.post(form_url, {"mode": "time", "date": tuesday.isoformat()}))

    for name in ("start", "end", "title"):
        assert f'id="id_{name}_error"' in body, name


def test_more_equipment_than_is_free_is_refused(client, teacher, student, space, form_url, kit,
                                                tuesday):
    taken = f.booking(space, student, start=f.at(tuesday, "13:00"), end=f.at(tuesday, "16:00"),
                      title="Khác", kind="project_work")
    BookingEquipment.objects.create(booking=taken, equipment=kit, quantity=8)
    f.booking(space, student, start=f.at(tuesday, "13:00"), end=f.at(tuesday, "16:00"),
              status="cancelled")
    other = f.space(space.school, name="Phòng bên")
    client.force_login(teacher)

    response = client.post(reverse("booking-form", args=[other.pk]),
                           by_time(tuesday, "14:00", "15:00", **{f"equipment_{kit.pk}": "3"}),
                           HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "Only 2 of Bộ kit Arduino free at that time, 3 asked." in html(response)
    assert not Booking.objects.filter(space=other).exists()


def test_a_gated_machine_needs_a_certified_student(client, student, space, form_url, laser,
                                                   tuesday):
    client.force_login(student)

    response = client.post(form_url, by_time(tuesday, "14:00", "15:00", kind="project_work",
                                             **{f"equipment_{laser.pk}": "1"}),
                           HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert "has no valid certification" in html(response)


# My bookings ----------------------------------------------------------------------------------

def test_my_bookings_lists_upcoming_first_with_status_and_only_mine(client, teacher, manager,
                                                                    space, tuesday):
    later = f.booking(space, teacher, start=f.at(tuesday, "13:00"), end=f.at(tuesday, "14:00"),
                      title="Sau")
    sooner = f.booking(space, teacher, start=f.at(tuesday, "08:00"), end=f.at(tuesday, "09:00"),
                       title="Trước", status="pending")
    gone = f.booking(space, teacher, start=f.at(tuesday, "10:00"), end=f.at(tuesday, "11:00"),
                     title="Đã huỷ", status="cancelled")
    theirs = f.booking(space, manager, start=f.at(tuesday, "15:00"), end=f.at(tuesday, "16:00"))
    client.force_login(teacher)

    body = html(client.get(reverse("my-bookings")))

    upcoming, past = body.split('id="past-heading"')
    assert upcoming.index(f'data-booking="{sooner.pk}"') < upcoming.index(f'data-booking="{later.pk}"')
    assert f'data-booking="{gone.pk}"' in past
    assert f'data-booking="{theirs.pk}"' not in body
    assert "status-pending" in upcoming
    assert reverse("booking-cancel", args=[later.pk]) in upcoming


@pytest.mark.parametrize("count", [1, 6])
def test_my_bookings_makes_a_fixed_number_of_queries(client, django_assert_num_queries, teacher,
                                                     space, tuesday, count):
    for index in range(count):
        f.booking(space, teacher, start=f.at(tuesday, f"{7 + index:02d}:00"),
                  end=f.at(tuesday, f"{7 + index:02d}:45"))
    client.force_login(teacher)

    with django_assert_num_queries(4):  # session, user, upcoming, past
        client.get(reverse("my-bookings"))


def test_cancel_asks_first_then_cancels_through_the_service(client, teacher, space, tuesday):
    booking = f.booking(space, teacher, start=f.at(tuesday, "13:00"), end=f.at(tuesday, "14:00"))
    client.force_login(teacher)
    url = reverse("booking-cancel", args=[booking.pk])

    confirm = html(client.get(url))
    assert '<form method="post"' in confirm
    booking.refresh_from_db()
    assert booking.status == "approved"

    response = client.post(url, {"reason": "Học sinh đi thi"})

    assert response["Location"] == reverse("my-bookings")
    booking.refresh_from_db()
    assert (booking.status, booking.cancel_reason, booking.cancelled_by) == (
        "cancelled", "Học sinh đi thi", teacher)


def test_cancel_twice_says_it_is_already_cancelled(client, teacher, space, tuesday):
    booking = f.booking(space, teacher, start=f.at(tuesday, "13:00"), end=f.at(tuesday, "14:00"),
                        status="cancelled")
    client.force_login(teacher)

    response = client.post(reverse("booking-cancel", args=[booking.pk]), HTTP_ACCEPT_LANGUAGE="en")

    assert any("already" in message for message in flash(response))


@pytest.mark.parametrize("viewer", ["student", "other_manager", "mentor"])
def test_others_may_not_cancel(client, request, viewer, teacher, space, tuesday):
    booking = f.booking(space, teacher, start=f.at(tuesday, "13:00"), end=f.at(tuesday, "14:00"))
    client.force_login(request.getfixturevalue(viewer))

    assert client.get(reverse("booking-cancel", args=[booking.pk])).status_code == 403
    assert client.post(reverse("booking-cancel", args=[booking.pk])).status_code == 403
    booking.refresh_from_db()
    assert booking.status == "approved"


def test_the_school_manager_may_cancel(client, manager, teacher, space, tuesday):
    booking = f.booking(space, teacher, start=f.at(tuesday, "13:00"), end=f.at(tuesday, "14:00"))
    client.force_login(manager)

    client.post(reverse("booking-cancel", args=[booking.pk]))

    booking.refresh_from_db()
    assert booking.status == "cancelled"


def test_cancel_this_and_the_following_of_a_series(client, teacher, form_url, bells, tuesday):
    client.force_login(teacher)
    client.post(form_url, by_periods(tuesday, 1, 1,
                                     repeat_until=(tuesday + datetime.timedelta(weeks=3)).isoformat()))
    first, second, third, fourth = Series.objects.get().bookings.order_by("start")
    url = reverse("booking-cancel", args=[third.pk])
    assert 'value="following"' in html(client.get(url))

    client.post(url, {"scope": "following"})

    statuses = [b.status for b in Booking.objects.order_by("start")]
    assert statuses == ["approved", "approved", "cancelled", "cancelled"]

    client.post(reverse("booking-cancel", args=[first.pk]), {"scope": "this"})
    assert [b.status for b in Booking.objects.order_by("start")] == [
        "cancelled", "approved", "cancelled", "cancelled"]


# Home: what matters to each role -------------------------------------------------------------

def test_manager_home_shows_the_waiting_requests_and_overdue_loans(client, manager, student,
                                                                   space, kit, tuesday,
                                                                   other_space, other_student):
    f.booking(space, student, start=f.at(tuesday, "13:00"), end=f.at(tuesday, "14:00"),
              status="pending")
    f.booking(other_space, other_student, start=f.at(tuesday, "13:00"),
              end=f.at(tuesday, "14:00"), status="pending")
    f.loan(kit, student, manager, checked_out_at=f.at(tuesday, "08:00")
           - datetime.timedelta(days=30))
    f.loan(kit, student, manager)  # not due yet
    client.force_login(manager)

    body = html(client.get("/"))

    assert '<span class="big-number" id="approvals-waiting">1</span>' in body
    assert '<span class="big-number" id="loans-overdue">1</span>' in body
    assert 'href="/manage/approvals/"' in body and 'href="/manage/loans/"' in body


def test_teacher_home_shows_the_next_bookings_and_sessions(client, teacher, mentor, space,
                                                           tuesday):
    mine = f.booking(space, teacher, start=f.at(tuesday, "13:00"), end=f.at(tuesday, "14:00"),
                     title="Tin học 10A")
    talk = f.booking(space, mentor, start=f.at(tuesday, "15:00"), end=f.at(tuesday, "16:00"),
                     kind="mentor_session")
    MentorSession.objects.create(mentor=pf.mentor_profile(mentor), booking=talk,
                                 school=space.school, topic="Khởi nghiệp xanh", created_by=mentor)
    client.force_login(teacher)

    body = html(client.get("/"))

    assert "Tin học 10A" in body and f"{tuesday:%d/%m/%Y} 13:00–14:00" in body
    assert "Khởi nghiệp xanh" in body
    assert reverse("my-bookings") in body
    assert 'id="approvals-waiting"' not in body
    assert mine.pk


def test_student_home_shows_projects_and_pending_requests(client, student, school, space,
                                                          tuesday):
    pf.project(school, leader=student, title="Máy lọc nước mini")
    f.booking(space, student, start=f.at(tuesday, "13:00"), end=f.at(tuesday, "14:00"),
              status="pending", title="Thử nghiệm lọc")
    client.force_login(student)

    body = html(client.get("/"))

    assert "Máy lọc nước mini" in body
    pending = body.split('class="card pending-requests"')[1].split("</article>")[0]
    assert "Thử nghiệm lọc" in pending


def test_visitors_home_has_no_personal_sections(client, space):
    body = html(client.get("/"))

    assert 'class="role-home"' not in body
    assert reverse("space-week", args=[space.pk]) in body


@pytest.mark.parametrize("count", [1, 5])
def test_role_homes_make_a_fixed_number_of_queries(client, django_assert_num_queries, manager,
                                                   student, school, space, tuesday, count):
    for index in range(count):
        f.booking(space, student, start=f.at(tuesday, f"{7 + index:02d}:00"),
                  end=f.at(tuesday, f"{7 + index:02d}:45"), status="pending")
        pf.project(school, leader=student)

    client.force_login(manager)
    # session, user, schools, spaces; bookings, sessions, requests waiting, loans overdue
    with django_assert_num_queries(8):
        client.get("/")

    client.force_login(student)
    # session, user, schools, spaces; bookings, sessions, projects, pending requests
    with django_assert_num_queries(8):
        client.get("/")


def test_pages_have_no_inline_script_or_style(client, teacher, space, form_url, tuesday):
    booking = f.booking(space, teacher, start=f.at(tuesday, "13:00"), end=f.at(tuesday, "14:00"))
    client.force_login(teacher)
    for url in ("/", form_url, reverse("my-bookings"), reverse("booking-cancel", args=[booking.pk])):
        body = html(client.get(url))
        assert '<html lang="vi">' in body, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), url
        assert " style=" not in body, url
        assert not re.search(r'(src|href)="(https?:)?//', body), url
