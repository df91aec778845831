"""The bookings admin from both sides: a manager decides on their own school's bookings,
series and closures through the services, and sees nothing of another school's."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEntry
from bookings import services
from bookings.models import Booking, BookingStatus, Closure, Series
from tests import factories as f


@pytest.fixture
def browser():
    """browser(user) → a test client logged in as that user, reading English."""

    def login(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return login


@pytest.fixture
def pupil(school):
    """A student with an address, so that decisions reach them by email."""
    return f.user("hs.ndc", role="student", school=school, email="hs.ndc@example.vn")


@pytest.fixture
def monday():
    return f.next_weekday(0)


def book(user, space, day: datetime.date, start: str = "08:00", end: str = "09:30",
         title: str = "Lắp ráp robot", **extra) -> Booking:
    """A booking made the way the API makes it (a student's is pending)."""
    return services.booking_create(actor=user, space=space, title=title, start=f.at(day, start),
                                   end=f.at(day, end), kind="project_work", **extra)


@pytest.fixture
def pending(pupil, space, monday):
    return book(pupil, space, monday)


@pytest.fixture
def other_pending(other_student, other_space, monday):
    return book(other_student, other_space, monday, title="Nghiên cứu ở trường khác")


def url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


BOOKINGS = url("bookings_booking_changelist")
SERIES = url("bookings_series_changelist")
CLOSURES = url("bookings_closure_changelist")


def listed(response) -> set:
    return set(response.context["cl"].result_list)


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(client, action: str, objects, page: str = BOOKINGS, **data):
    """Pick `action` for `objects` on a list page (the first step of any action)."""
    return client.post(page, {"action": action, "index": 0,
                              "_selected_action": [obj.pk for obj in objects], **data})


def confirm(client, action: str, objects, page: str = BOOKINGS, **data):
    """The second step of an action that asks for a reason."""
    return client.post(page, {"action": action, "post": "yes",
                              "_selected_action": [obj.pk for obj in objects], **data})


def booking_form(space, day: datetime.date, start: str = "08:00", end: str = "09:30",
                 **values) -> dict:
    data = {"space": space.pk, "title": "Câu lạc bộ Robotics", "kind": "club",
            "description": "", "start_0": day.isoformat(), "start_1": start,
            "end_0": day.isoformat(), "end_1": end, "attendees": "12"}
    data.update({key: str(value) for key, value in values.items()})
    return data


def change_form(booking: Booking, **values) -> dict:
    """The change page's POST: the booking as it is, with `values` changed."""
    start, end = (services.local(booking.start), services.local(booking.end))
    data = {"title": booking.title, "kind": booking.kind, "description": booking.description,
            "start_0": start.date().isoformat(), "start_1": f"{start:%H:%M}",
            "end_0": end.date().isoformat(), "end_1": f"{end:%H:%M}",
            "attendees": str(booking.attendees),
            "equipment_items-TOTAL_FORMS": "0", "equipment_items-INITIAL_FORMS": "0",
            "equipment_items-MIN_NUM_FORMS": "0", "equipment_items-MAX_NUM_FORMS": "1000"}
    data.update({key: str(value) for key, value in values.items()})
    return data


# --- Who gets in -----------------------------------------------------------------------------

def test_teacher_has_no_admin_access(browser, teacher, pending):
    client = browser(teacher)

    for page in (BOOKINGS, SERIES, CLOSURES, url("bookings_booking_change", pending.pk)):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(url("login"))


@pytest.mark.parametrize("page", [BOOKINGS, SERIES, CLOSURES, url("bookings_booking_add"),
                                  url("bookings_closure_add")])
@pytest.mark.parametrize("who", ["manager", "admin_user"])
def test_every_page_renders(page, who, browser, request, pending, other_pending):
    response = browser(request.getfixturevalue(who)).get(page)

    assert response.status_code == 200


@pytest.mark.parametrize("who", ["manager", "admin_user"])
@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_record_page_renders(who, language, request, pending, weekly, closures):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(request.getfixturevalue(who))
    cancelled = weekly.bookings.first()
    services.booking_cancel(actor=request.getfixturevalue("manager"), booking=cancelled)

    for page in (url("bookings_booking_change", pending.pk),
                 url("bookings_booking_change", cancelled.pk),
                 url("bookings_series_change", weekly.pk),
                 url("bookings_closure_change", closures[0].pk),
                 url("bookings_closure_delete", closures[0].pk)):
        assert client.get(page).status_code == 200, page


def test_series_cannot_be_added_here(browser, manager):
    assert browser(manager).get(url("bookings_series_add")).status_code == 403


# --- The list ---------------------------------------------------------------------------------

def test_manager_sees_own_school_pending_bookings(browser, manager, pending, other_pending,
                                                 teacher, space, monday):
    approved = book(teacher, space, monday, "10:00", "11:00", title="Lớp 10A1")

    response = browser(manager).get(BOOKINGS, {"status__exact": "pending"})

    assert response.status_code == 200
    assert listed(response) == {pending}
    assert listed(browser(manager).get(BOOKINGS)) == {pending, approved}


def test_list_links_to_the_pending_bookings_with_their_count(browser, manager, pending,
                                                             other_pending):
    response = browser(manager).get(BOOKINGS)

    assert response.context["pending_count"] == 1
    assert '<a href="?status__exact=pending" class="pending-link">' in response.text


def test_list_shows_times_in_vietnam_time(browser, manager, pending, monday):
    response = browser(manager).get(BOOKINGS)

    assert f"{monday:%d/%m/%Y} 08:00" in response.text
    assert f"{monday:%d/%m/%Y} 09:30" in response.text


def test_pending_list_puts_the_soonest_first(browser, manager, pupil, space, monday):
    later = book(pupil, space, monday + datetime.timedelta(days=7))
    sooner = book(pupil, space, monday)

    response = browser(manager).get(BOOKINGS, {"status__exact": "pending"})

    assert list(response.context["cl"].result_list) == [sooner, later]


@pytest.mark.parametrize(("params", "expected"), [
    ({}, 2),
    ({"q": "robot"}, 1),
    ({"kind__exact": "club"}, 1),
    ({"when": "upcoming"}, 2),
    ({"when": "past"}, 0),
])
def test_list_filters(params, expected, browser, manager, pending, teacher, space, monday):
    services.booking_create(actor=teacher, space=space, title="CLB Thiên văn", kind="club",
                            start=f.at(monday, "14:00"), end=f.at(monday, "15:00"))

    assert len(listed(browser(manager).get(BOOKINGS, params))) == expected


def test_list_needs_no_query_per_booking(browser, manager, pupil, space, monday):
    client = browser(manager)
    book(pupil, space, monday)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            assert client.get(BOOKINGS).status_code == 200
        return len(context)

    one = queries()
    book(pupil, space, monday, "10:00", "11:00")
    book(pupil, space, monday, "13:00", "14:00")

    assert queries() == one


def test_other_school_manager_sees_none_and_gets_404(browser, other_manager, pending):
    client = browser(other_manager)

    assert listed(client.get(BOOKINGS)) == set()
    assert client.get(url("bookings_booking_change", pending.pk)).status_code == 404


# --- Approve, reject, cancel -----------------------------------------------------------------

def test_manager_approves_pending_bookings(browser, manager, pupil, pending, space, monday,
                                           django_capture_on_commit_callbacks):
    second = book(pupil, space, monday, "13:00", "14:00")

    with django_capture_on_commit_callbacks(execute=True):
        response = act(browser(manager), "approve_selected", [pending, second])

    assert response.status_code == 302
    for booking in (pending, second):
        booking.refresh_from_db()
        assert booking.status == BookingStatus.APPROVED
        assert booking.decided_by == manager
        entry = AuditEntry.objects.get(action="booking.approved", object_id=str(booking.pk))
        assert entry.actor == manager
    assert [message.to for message in mail.outbox] == [[pupil.email], [pupil.email]]
    assert "Lắp ráp robot" in mail.outbox[0].subject


def test_other_school_manager_cannot_approve(browser, other_manager, pending,
                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        act(browser(other_manager), "approve_selected", [pending])

    pending.refresh_from_db()
    assert pending.status == BookingStatus.PENDING
    assert not AuditEntry.objects.filter(action="booking.approved").exists()
    assert mail.outbox == []


def test_reject_asks_for_a_reason_first(browser, manager, pending, monday):
    response = act(browser(manager), "reject_selected", [pending])

    assert response.status_code == 200
    assert response.templates[0].name == "admin/bookings/action_reason.html"
    assert f"Lắp ráp robot ({monday:%d/%m/%Y} 08:00, Phòng chế tạo)" in response.text
    assert f'name="_selected_action" value="{pending.pk}"' in response.text
    pending.refresh_from_db()
    assert pending.status == BookingStatus.PENDING


def test_reject_needs_a_reason(browser, manager, pending):
    response = confirm(browser(manager), "reject_selected", [pending], reason="")

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    pending.refresh_from_db()
    assert pending.status == BookingStatus.PENDING


def test_manager_rejects_with_a_reason(browser, manager, pupil, pending,
                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(browser(manager), "reject_selected", [pending],
                           reason="Phòng dùng cho kỳ thi học sinh giỏi")

    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == BookingStatus.REJECTED
    assert pending.decision_reason == "Phòng dùng cho kỳ thi học sinh giỏi"
    entry = AuditEntry.objects.get(action="booking.rejected")
    assert (entry.actor, entry.data) == (manager, {"reason": "Phòng dùng cho kỳ thi học sinh giỏi"})
    assert len(mail.outbox) == 1
    assert "Phòng dùng cho kỳ thi học sinh giỏi" in mail.outbox[0].body


def test_manager_cancels_with_a_reason(browser, manager, teacher, space, monday,
                                       django_capture_on_commit_callbacks):
    teacher.email = "gv.ndc@example.vn"
    teacher.save()
    lesson = book(teacher, space, monday, title="Lớp 11 Tin")

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(browser(manager), "cancel_selected", [lesson], reason="Mất điện")

    assert response.status_code == 302
    lesson.refresh_from_db()
    assert (lesson.status, lesson.cancelled_by, lesson.cancel_reason) == (
        BookingStatus.CANCELLED, manager, "Mất điện")
    assert AuditEntry.objects.get(action="booking.cancelled").actor == manager
    assert mail.outbox[0].to == [teacher.email]


def test_a_refused_action_is_a_message_not_an_error(browser, manager, pupil, pending, space,
                                                    monday):
    services.booking_approve(actor=manager, booking=pending)
    other = book(pupil, space, monday, "13:00", "14:00", title="Đo đạc cảm biến")

    response = act(browser(manager), "approve_selected", [pending, other])

    assert response.status_code == 302
    other.refresh_from_db()
    assert other.status == BookingStatus.APPROVED
    messages = said(response)
    assert "1 booking(s) approved." in messages
    assert f"Lắp ráp robot ({monday:%d/%m/%Y} 08:00, Phòng chế tạo): Only a pending booking " \
           "can be approved or rejected; this one is approved." in messages


def test_cancelling_a_cancelled_booking_is_a_message(browser, manager, pending):
    services.booking_cancel(actor=manager, booking=pending)

    response = confirm(browser(manager), "cancel_selected", [pending], reason="")

    assert response.status_code == 302
    assert any("already cancelled" in message for message in said(response))


def test_nobody_but_a_superuser_deletes_bookings(browser, manager, admin_user, pending):
    client = browser(manager)

    assert client.get(url("bookings_booking_delete", pending.pk)).status_code == 403
    response = client.get(BOOKINGS)
    assert "delete_selected" not in response.context["cl"].model_admin.get_actions(
        response.wsgi_request)
    assert browser(admin_user).get(url("bookings_booking_delete", pending.pk)).status_code == 200


# --- Adding and changing through the services ------------------------------------------------

def test_manager_adds_a_booking_through_the_service(browser, manager, space, monday):
    response = browser(manager).post(url("bookings_booking_add"), booking_form(space, monday))

    assert response.status_code == 302, response.context["adminform"].form.errors
    booking = Booking.objects.get()
    assert (booking.organizer, booking.status, booking.school_id) == (
        manager, BookingStatus.APPROVED, space.school_id)
    assert booking.start == f.at(monday, "08:00")
    assert AuditEntry.objects.get(action="booking.created").actor == manager


@pytest.mark.parametrize(("start", "end", "field", "words"), [
    ("18:00", "19:00", "start", "Outside the opening hours"),
    ("08:00", "08:10", "end", "at least 30 minutes"),
])
def test_rule_violation_on_the_add_page_is_a_form_error(browser, manager, space, monday, start,
                                                        end, field, words):
    response = browser(manager).post(url("bookings_booking_add"),
                                     booking_form(space, monday, start, end))

    assert response.status_code == 200
    assert words in str(response.context["adminform"].form.errors[field])
    assert not Booking.objects.exists()
    assert not AuditEntry.objects.exists()


def test_manager_may_override_the_opening_hours(browser, manager, space, monday):
    response = browser(manager).post(url("bookings_booking_add"),
                                     booking_form(space, monday, "18:00", "19:00",
                                                  override_rules="on"))

    assert response.status_code == 302
    assert Booking.objects.get().rules_overridden


def test_overlap_on_the_add_page_is_a_form_error(browser, manager, pending, space, monday):
    response = browser(manager).post(url("bookings_booking_add"),
                                     booking_form(space, monday, "09:00", "10:00"))

    assert response.status_code == 200
    assert "already booked" in str(response.context["adminform"].form.errors)
    assert Booking.objects.count() == 1


def test_manager_cannot_book_another_schools_space(browser, manager, other_space, monday):
    response = browser(manager).post(url("bookings_booking_add"),
                                     booking_form(other_space, monday))

    assert response.status_code == 200
    assert "space" in response.context["adminform"].form.errors
    assert not Booking.objects.exists()


def test_manager_changes_a_booking_through_the_service(browser, manager, pending, monday):
    response = browser(manager).post(url("bookings_booking_change", pending.pk),
                                     change_form(pending, title="Lắp ráp robot (nhóm 2)",
                                                 end_1="10:00"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    pending.refresh_from_db()
    assert (pending.title, pending.end) == ("Lắp ráp robot (nhóm 2)", f.at(monday, "10:00"))
    entry = AuditEntry.objects.get(action="booking.changed")
    assert entry.actor == manager
    assert set(entry.data) == {"title", "end"}


def test_moving_onto_another_booking_is_a_form_error(browser, manager, pending, teacher, space,
                                                     monday):
    lesson = book(teacher, space, monday, "10:00", "11:00", title="Lớp 10A1")

    response = browser(manager).post(url("bookings_booking_change", lesson.pk),
                                     change_form(lesson, start_1="09:00"))

    assert response.status_code == 200
    assert "already booked" in str(response.context["adminform"].form.errors)
    lesson.refresh_from_db()
    assert lesson.start == f.at(monday, "10:00")
    assert not AuditEntry.objects.filter(action="booking.changed").exists()


def test_a_cancelled_booking_is_only_looked_at(browser, manager, pending):
    services.booking_cancel(actor=manager, booking=pending)
    client = browser(manager)

    assert client.get(url("bookings_booking_change", pending.pk)).status_code == 200
    response = client.post(url("bookings_booking_change", pending.pk),
                           change_form(pending, title="Sửa lại"))

    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.title == "Lắp ráp robot"


def test_change_page_shows_reserved_equipment_and_history(browser, manager, teacher, space, kit,
                                                          monday):
    lesson = book(teacher, space, monday, title="Lớp 11 Tin",
                  equipment=[services.EquipmentRequest(kit, 4)])
    services.booking_update(actor=manager, booking=lesson, title="Lớp 11 Tin — Arduino")

    response = browser(manager).get(url("bookings_booking_change", lesson.pk))

    assert response.status_code == 200
    inline = response.context["inline_admin_formsets"][0]
    assert [(form.original.equipment, form.original.quantity) for form in inline] == [(kit, 4)]
    assert not inline.has_add_permission and not inline.has_change_permission
    page = response.text
    assert "Bộ kit Arduino" in page
    assert "audit-history" in page
    assert "Teacher Ndc" in page and "Manager Ndc" in page
    assert "Lớp 11 Tin — Arduino" in page


# --- Series ---------------------------------------------------------------------------------

@pytest.fixture
def weekly(teacher, space, monday):
    return services.series_create(actor=teacher, space=space, title="CLB Robotics",
                                  rrule="FREQ=WEEKLY;COUNT=3", start=f.at(monday, "14:00"),
                                  end=f.at(monday, "15:30"), kind="club").series


def test_series_list_counts_occurrences(browser, manager, weekly):
    response = browser(manager).get(SERIES)

    [row] = response.context["cl"].result_list
    assert (row.occurrences, row.active) == (3, 3)


def test_series_page_lists_its_occurrences_read_only(browser, manager, weekly):
    response = browser(manager).get(url("bookings_series_change", weekly.pk))

    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert len(list(response.context["inline_admin_formsets"][0])) == 3


def test_manager_cancels_a_series(browser, manager, weekly, django_capture_on_commit_callbacks):
    client = browser(manager)
    assert act(client, "cancel_series", [weekly], page=SERIES).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client, "cancel_series", [weekly], page=SERIES, reason="Hết học kỳ",
                           from_date="")

    assert response.status_code == 302
    weekly.refresh_from_db()
    assert weekly.cancelled_at is not None
    assert set(weekly.bookings.values_list("status", flat=True)) == {BookingStatus.CANCELLED}
    assert AuditEntry.objects.get(action="series.cancelled").actor == manager
    assert AuditEntry.objects.filter(action="booking.cancelled").count() == 3


def test_series_cancelled_from_a_date_keeps_the_earlier_occurrences(browser, manager, weekly,
                                                                     monday):
    confirm(browser(manager), "cancel_series", [weekly], page=SERIES,
            from_date=(monday + datetime.timedelta(days=7)).isoformat())

    statuses = list(weekly.bookings.order_by("start").values_list("status", flat=True))
    assert statuses == [BookingStatus.APPROVED, BookingStatus.CANCELLED, BookingStatus.CANCELLED]


def test_other_school_manager_sees_no_series(browser, other_manager, weekly):
    client = browser(other_manager)

    assert listed(client.get(SERIES)) == set()
    assert client.get(url("bookings_series_change", weekly.pk)).status_code == 404
    confirm(client, "cancel_series", [weekly], page=SERIES, reason="")
    assert Series.objects.get().cancelled_at is None


# --- Closures ---------------------------------------------------------------------------------

def closure_form(school, day: datetime.date, **values) -> dict:
    data = {"school": school.pk, "space": "", "start_date": day.isoformat(),
            "end_date": day.isoformat(), "reason": "Thi học kỳ", "source": "manual"}
    data.update({key: str(value) for key, value in values.items()})
    return data


def test_manager_closes_the_school_and_is_told_of_the_bookings(browser, manager, school,
                                                               pending, monday):
    response = browser(manager).post(url("bookings_closure_add"), closure_form(school, monday))

    assert response.status_code == 302
    closure = Closure.objects.get()
    assert (closure.school, closure.created_by) == (school, manager)
    assert AuditEntry.objects.get(action="closure.created").actor == manager
    pending.refresh_from_db()
    assert pending.status == BookingStatus.PENDING
    [warning] = [m for m in said(response) if "still booked" in m]
    assert f"Lắp ráp robot ({monday:%d/%m/%Y} 08:00, Phòng chế tạo)" in warning


def test_closure_may_cancel_the_bookings_it_falls_on(browser, manager, school, pending,
                                                     monday, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = browser(manager).post(url("bookings_closure_add"),
                                         closure_form(school, monday, cancel_bookings="on"))

    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == BookingStatus.CANCELLED
    assert pending.cancel_reason == "Closed: Thi học kỳ"
    assert any("were cancelled" in m or "was cancelled" in m for m in said(response))
    assert len(mail.outbox) == 1


def test_closed_day_refuses_new_bookings_in_the_admin(browser, manager, school, space, monday):
    services.closure_create(actor=manager, school=school, start_date=monday, end_date=monday,
                            reason="Nghỉ lễ")

    response = browser(manager).post(url("bookings_booking_add"), booking_form(space, monday))

    assert response.status_code == 200
    assert "closed then: Nghỉ lễ" in str(response.context["adminform"].form.errors)


def test_manager_cannot_close_another_school(browser, manager, other_school, other_space, monday):
    client = browser(manager)

    response = client.post(url("bookings_closure_add"), closure_form(other_school, monday))
    assert response.status_code == 200
    assert "school" in response.context["adminform"].form.errors

    response = client.post(url("bookings_closure_add"),
                           closure_form(manager.school, monday, space=other_space.pk))
    assert "space" in response.context["adminform"].form.errors
    assert not Closure.objects.exists()


def test_closure_that_ends_before_it_starts_is_a_form_error(browser, manager, school, monday):
    response = browser(manager).post(url("bookings_closure_add"), closure_form(
        school, monday, end_date=(monday - datetime.timedelta(days=1)).isoformat()))

    assert response.status_code == 200
    assert "end_date" in response.context["adminform"].form.errors
    assert not Closure.objects.exists()


@pytest.fixture
def closures(manager, other_manager, school, other_school, monday):
    mine, _affected, _cancelled = services.closure_create(
        actor=manager, school=school, start_date=monday, end_date=monday, reason="Thi học kỳ")
    theirs, _affected, _cancelled = services.closure_create(
        actor=other_manager, school=other_school, start_date=monday, end_date=monday,
        reason="Sửa điện")
    return mine, theirs


def test_closures_are_scoped_to_the_school(browser, manager, closures):
    mine, theirs = closures
    client = browser(manager)

    assert listed(client.get(CLOSURES)) == {mine}
    assert client.get(url("bookings_closure_change", mine.pk)).status_code == 200
    assert client.get(url("bookings_closure_change", theirs.pk)).status_code == 404
    assert client.get(url("bookings_closure_delete", theirs.pk)).status_code == 404


def test_closures_are_not_edited(browser, manager, closures):
    mine, _theirs = closures

    response = browser(manager).post(url("bookings_closure_change", mine.pk),
                                     {"reason": "Khác", "school": mine.school_id,
                                      "start_date": mine.start_date.isoformat(),
                                      "end_date": mine.end_date.isoformat()})

    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.reason == "Thi học kỳ"


def test_manager_deletes_own_closure_through_the_service(browser, manager, closures):
    mine, theirs = closures

    response = browser(manager).post(url("bookings_closure_delete", mine.pk), {"post": "yes"})

    assert response.status_code == 302
    assert list(Closure.objects.all()) == [theirs]
    entry = AuditEntry.objects.get(action="closure.deleted")
    assert (entry.actor, entry.object_id) == (manager, str(mine.pk))


def test_bulk_delete_of_closures_goes_through_the_service(browser, manager, closures):
    mine, theirs = closures

    response = browser(manager).post(CLOSURES, {"action": "delete_selected", "post": "yes",
                                                "_selected_action": [mine.pk, theirs.pk]})

    assert response.status_code == 302
    assert list(Closure.objects.all()) == [theirs]
    assert AuditEntry.objects.filter(action="closure.deleted").count() == 1
