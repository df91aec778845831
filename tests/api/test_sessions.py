"""mentor-sessions/: who creates and changes sessions, their booking (409 like any booking),
places, attendance, feedback and the reminders of the day before."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEntry, User
from bookings.models import Booking, Closure
from bookings.services import booking_create
from projects.models import MentorSession, Project, Registration
from projects.sessions import (
    mentor_profile_save,
    record_attendance,
    register,
    send_reminders,
    session_cancel,
    session_create,
)
from spaces.models import School, Space
from tests import factories as f
from tests.api.test_loan_race import race

URL = "/api/v1/mentor-sessions/"


# --- the cast ----------------------------------------------------------------------------------

@pytest.fixture
def profile(mentor):
    """mentor1's profile (the conftest's `mentor` is the user)."""
    return mentor_profile_save(actor=None, user=mentor, expertise=["IoT"])


@pytest.fixture
def other_mentor(db):
    return f.user("mentor2", role="mentor", full_name="ThS. Lê Thị Mỹ Hạnh")


@pytest.fixture
def other_profile(other_mentor):
    return mentor_profile_save(actor=None, user=other_mentor, expertise=["Nhãn hiệu"])


@pytest.fixture
def classmate(school):
    return f.user("student2.ndc", role="student", school=school)


@pytest.fixture
def day():
    return f.next_weekday(2)  # a Wednesday ahead


@pytest.fixture
def session(profile, space, day):
    return make_session(profile, space, day)


def make_session(profile, space, day, start="08:00", end="10:00", **values):
    values = {"topic": "Hướng dẫn dự án IoT", "kind": "mentoring", "capacity": 10} | values
    return session_create(actor=profile.user, space=space, start=f.at(day, start),
                          end=f.at(day, end), **values)


def payload(space, day, start="08:00", end="10:00", **extra):
    return {"space": space.pk, "start": f"{day}T{start}", "end": f"{day}T{end}",
            "topic": "Tập huấn đăng ký và xây dựng nhãn hiệu", "kind": "training",
            "capacity": 25} | extra


def move(session, start, end):
    """Time passes: put the session's booking at another time, bypassing the rules."""
    Booking.objects.filter(pk=session.booking_id).update(start=start, end=end)


def started(session):
    now = timezone.now()
    move(session, now - datetime.timedelta(minutes=30), now + datetime.timedelta(minutes=90))


def ended(session):
    now = timezone.now()
    move(session, now - datetime.timedelta(hours=3), now - datetime.timedelta(hours=1))


def nothing_written():
    return not MentorSession.objects.exists() and not Booking.objects.exists()


# --- create ------------------------------------------------------------------------------------

def test_mentor_creates_their_own_session_and_its_booking(client_for, mentor, profile, space,
                                                          day):
    response = client_for(mentor).post(URL, payload(space, day), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    session = MentorSession.objects.get()
    booking = session.booking
    assert body == {
        "id": session.pk, "mentor": profile.pk, "mentor_name": "Mentor1", "space": space.pk,
        "school": space.school_id, "start": f"{day}T08:00:00+07:00",
        "end": f"{day}T10:00:00+07:00", "booking": booking.pk, "status": "approved",
        "topic": "Tập huấn đăng ký và xây dựng nhãn hiệu", "description": "",
        "kind": "training", "projects": [], "capacity": 25,
        "attendance": {"registered": 0, "attended": 0, "places_left": 25, "ratings": 0,
                       "average_rating": None},
        "is_registered": False, "registrations": [], "notes": "",
        "created_at": body["created_at"], "updated_at": body["updated_at"]}
    assert (booking.kind, booking.organizer, booking.status, booking.title, booking.attendees) == (
        "mentor_session", mentor, "approved", "Tập huấn đăng ký và xây dựng nhãn hiệu", 25)
    assert session.created_by == mentor
    assert AuditEntry.objects.filter(action="session.created", actor=mentor).exists()
    assert AuditEntry.objects.filter(action="booking.created", actor=mentor).exists()


@pytest.mark.parametrize("who", ["union", "manager", "admin_user"])
def test_union_and_managers_create_a_session_for_a_mentor(client_for, request, profile, mentor,
                                                          space, day, who):
    actor = request.getfixturevalue(who)

    response = client_for(actor).post(URL, payload(space, day, mentor=profile.pk), format="json")

    assert response.status_code == 201, response.json()
    session = MentorSession.objects.get()
    assert session.mentor == profile and session.created_by == actor
    assert session.booking.organizer == mentor  # the room is booked for the mentor
    assert AuditEntry.objects.get(action="booking.created").actor == actor


@pytest.mark.parametrize("who", ["union", "manager"])
def test_union_and_managers_must_name_the_mentor(client_for, request, profile, space, day, who):
    response = client_for(request.getfixturevalue(who)).post(URL, payload(space, day),
                                                             format="json")

    assert response.status_code == 400
    assert "mentor" in response.json()
    assert nothing_written()


@pytest.mark.parametrize("who", ["other_manager", "teacher", "student", "other_student",
                                 "other_mentor"])
def test_others_cannot_create_a_session(client_for, request, profile, other_profile, space, day,
                                        who):
    response = client_for(request.getfixturevalue(who)).post(
        URL, payload(space, day, mentor=profile.pk), format="json")

    assert response.status_code == 403
    assert nothing_written()


def test_anonymous_cannot_create_or_read(anon, profile, space, day):
    assert anon.post(URL, payload(space, day, mentor=profile.pk),
                     format="json").status_code == 401
    assert anon.get(URL).status_code == 401
    assert nothing_written()


def test_a_mentor_without_a_profile_cannot_create(client_for, mentor, space, day):
    response = client_for(mentor, language="en").post(URL, payload(space, day), format="json")

    assert response.status_code == 403
    assert "mentor profile" in response.json()["detail"]
    assert nothing_written()


def test_taken_room_is_409_and_nothing_is_written(client_for, mentor, profile, teacher, space,
                                                  day):
    lesson = booking_create(actor=teacher, space=space, title="Vật lý 11A1",
                            start=f.at(day, "09:00"), end=f.at(day, "10:30"))

    response = client_for(mentor).post(URL, payload(space, day), format="json")

    assert response.status_code == 409
    assert response.json()["conflicts"] == [{
        "id": lesson.pk, "start": f"{day}T09:00:00+07:00", "end": f"{day}T10:30:00+07:00",
        "title": "Vật lý 11A1"}]
    assert not MentorSession.objects.exists()
    assert list(Booking.objects.all()) == [lesson]


def test_a_mentor_is_in_one_place_at_a_time(client_for, union, profile, session, other_space,
                                            day):
    response = client_for(union).post(URL, payload(other_space, day, "09:00", "11:00",
                                                   mentor=profile.pk), format="json")

    assert response.status_code == 409
    assert [row["id"] for row in response.json()["conflicts"]] == [session.booking_id]
    assert MentorSession.objects.count() == Booking.objects.count() == 1

    later = make_session(profile, other_space, day, "13:00", "15:00")
    moved = client_for(union).patch(f"{URL}{later.pk}/", {
        "start": f"{day}T09:00", "end": f"{day}T11:00"}, format="json")

    assert moved.status_code == 409
    assert Booking.objects.get(pk=later.booking_id).start == f.at(day, "13:00")


def test_the_room_is_free_again_once_a_session_is_cancelled(client_for, mentor, session, space,
                                                            day):
    assert client_for(mentor).post(URL, payload(space, day), format="json").status_code == 409
    session_cancel(actor=mentor, session=session)

    assert client_for(mentor).post(URL, payload(space, day), format="json").status_code == 201


@pytest.mark.parametrize("extra, field", [
    ({"topic": ""}, "topic"),
    ({"topic": "x" * 201}, "topic"),
    ({"kind": "party"}, "kind"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": "many"}, "capacity"),
    ({"capacity": 31}, "capacity"),                 # the room holds 30
    ({"space": 99999}, "space"),
    ({"space": True}, "space"),
    ({"start": None}, "start"),
    ({"start": "soon"}, "start"),
    ({"end": "2020-01-01T09:00"}, "end"),           # before the start
    ({"start": "2020-01-01T08:00", "end": "2020-01-01T09:00"}, "start"),  # the past
    ({"start": "{day}T05:00", "end": "{day}T06:00"}, "start"),  # before opening
    ({"projects": [99999]}, "projects"),
    ({"projects": "all"}, "projects"),
    ({"projects": ["elsewhere"]}, "projects"),      # a project of another school
    ({"mentor": 99999}, "mentor"),
    ({"mentor": "x"}, "mentor"),
    ({"description": "x" * 5001}, "description"),
])
def test_bad_input_is_400_naming_the_field(client_for, union, profile, space, other_school, day,
                                           extra, field):
    elsewhere = Project.objects.create(school=other_school, title="Dự án khác", max_members=3)
    body = payload(space, day, mentor=profile.pk) | extra
    body = {key: value.format(day=day) if isinstance(value, str) else value
            for key, value in body.items() if value is not None}
    if body.get("projects") == ["elsewhere"]:
        body["projects"] = [elsewhere.pk]

    response = client_for(union).post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert nothing_written()


def test_session_for_the_schools_projects(client_for, mentor, profile, space, school, day):
    project = Project.objects.create(school=school, title="Máy lọc nước", max_members=3)

    response = client_for(mentor).post(URL, payload(space, day, projects=[project.pk]),
                                       format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["projects"] == [project.pk]


def test_session_by_periods(client_for, mentor, profile, space, school, day):
    f.period(school, 1, "07:00", "07:45")
    f.period(school, 2, "07:50", "08:35")
    body = payload(space, day) | {"date": str(day), "period_from": 1, "period_to": 2}
    del body["start"], body["end"]

    response = client_for(mentor).post(URL, body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["start"] == f"{day}T07:00:00+07:00"
    assert response.json()["end"] == f"{day}T08:35:00+07:00"


# --- read --------------------------------------------------------------------------------------

@pytest.fixture
def with_two_registered(session, student, classmate):
    register(actor=student, session=session)
    register(actor=classmate, session=session)
    return session


@pytest.mark.parametrize("who, sees", [
    ("mentor", {"student.ndc", "student2.ndc"}),
    ("manager", {"student.ndc", "student2.ndc"}),
    ("union", {"student.ndc", "student2.ndc"}),
    ("admin_user", {"student.ndc", "student2.ndc"}),
    ("student", {"student.ndc"}),
    ("teacher", set()),
    ("other_manager", set()),
    ("other_student", set()),
    ("other_mentor", set()),
])
def test_who_sees_which_registrations(client_for, request, with_two_registered, who, sees):
    user = request.getfixturevalue(who)

    response = client_for(user).get(URL)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert {User.objects.get(pk=r["student"]).username for r in row["registrations"]} == sees
    assert row["attendance"]["registered"] == 2  # counts are for everyone
    assert row["is_registered"] is (who == "student")
    assert (row["notes"] is None) is (who not in ("mentor", "manager", "union", "admin_user"))
    assert client_for(user).get(f"{URL}{row['id']}/").json() == row


def test_schema_says_notes_may_be_null(anon, db):
    # Found by make test-fuzz: notes are null for those who may not read them.
    schema = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["components"]["schemas"]["MentorSession"]["properties"]["notes"]["nullable"] is True


def test_registration_detail_shape(client_for, mentor, with_two_registered, student):
    [row, _other] = client_for(mentor).get(f"{URL}{with_two_registered.pk}/").json()[
        "registrations"]
    registration = Registration.objects.get(student=student)
    assert row == {"id": registration.pk, "student": student.pk, "student_name": "Student Ndc",
                   "registered_at": row["registered_at"], "attended": None, "rating": None,
                   "comment": ""}


def test_filters(client_for, union, profile, other_profile, space, other_space, day):
    make_session(profile, space, day, kind="training")
    make_session(profile, other_space, day + datetime.timedelta(days=1))
    make_session(other_profile, space, day, "13:00", "15:00")
    client = client_for(union)
    after = f"{day + datetime.timedelta(days=1)}T00:00:00+07:00"
    cases = [
        ({}, 3),
        ({"mentor": profile.pk}, 2),
        ({"mentor": other_profile.pk}, 1),
        ({"school": space.school_id}, 2),
        ({"space": other_space.pk}, 1),
        ({"kind": "training"}, 1),
        ({"start_after": after}, 1),
        ({"end_before": after}, 2),
        ({"start_after": f"{day}T12:00:00+07:00", "school": space.school_id}, 1),
    ]
    for params, count in cases:
        assert client.get(URL, params).json()["count"] == count, params
    for params in ({"mentor": 99999}, {"school": "x"}, {"kind": "party"},
                   {"start_after": "soon"}):
        response = client.get(URL, params)
        assert response.status_code == 400 and next(iter(params)) in response.json()


@pytest.mark.parametrize("who", ["union", "student", "mentor"])
def test_list_makes_a_fixed_number_of_queries(client_for, request, profile, space, school,
                                              student, classmate, who):
    client = client_for(request.getfixturevalue(who))
    project = Project.objects.create(school=school, title="Máy lọc nước", max_members=3)

    def grow(weeks):
        for week in weeks:
            session = make_session(profile, space, f.next_weekday(2, weeks=week))
            session.projects.add(project)
            register(actor=student, session=session)
            register(actor=classmate, session=session)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL)
        assert response.status_code == 200
        return len(ctx.captured_queries), response.json()["count"]

    grow(range(1))
    small = queries()
    grow(range(1, 8))
    large = queries()

    assert (small[1], large[1]) == (1, 8)
    # COUNT, the page, its projects, the caller's share of its registrations.
    assert small[0] == large[0] == 4


# --- change and cancel -------------------------------------------------------------------------

@pytest.mark.parametrize("who, code", [
    ("mentor", 200), ("manager", 200), ("union", 200), ("admin_user", 200),
    ("other_mentor", 403), ("other_manager", 403), ("teacher", 403), ("student", 403),
    ("other_student", 403),
])
def test_who_may_change_a_session(client_for, request, session, who, code):
    response = client_for(request.getfixturevalue(who)).patch(
        f"{URL}{session.pk}/", {"notes": "Nhóm 2 cần thêm cảm biến"}, format="json")

    assert response.status_code == code
    session.refresh_from_db()
    assert (session.notes == "Nhóm 2 cần thêm cảm biến") is (code == 200)


def test_anonymous_cannot_change(anon, session):
    assert anon.patch(f"{URL}{session.pk}/", {"notes": "x"}, format="json").status_code == 401
    assert anon.post(f"{URL}{session.pk}/cancel/").status_code == 401


def test_new_topic_and_time_move_the_booking(client_for, mentor, session, day):
    url = f"{URL}{session.pk}/"
    session.reminder_sent_at = timezone.now()
    session.save()

    response = client_for(mentor).patch(url, {
        "topic": "Cảm biến độ mặn", "start": f"{day}T13:00", "end": f"{day}T15:00"},
        format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["start"] == f"{day}T13:00:00+07:00"
    booking = Booking.objects.get(pk=session.booking_id)
    assert (booking.title, booking.start, booking.end, booking.sequence) == (
        "Cảm biến độ mặn", f.at(day, "13:00"), f.at(day, "15:00"), 1)
    session.refresh_from_db()
    assert session.reminder_sent_at is None  # a new day: remind again
    assert AuditEntry.objects.filter(action="session.changed").exists()


def test_a_move_is_mailed_to_the_students_and_to_the_mentor(
        client_for, manager, mentor, with_two_registered, student, day,
        django_capture_on_commit_callbacks):
    for person in (mentor, student):
        person.email = f"{person.username}@example.vn"
        person.save()

    with django_capture_on_commit_callbacks(execute=True):
        client_for(manager).patch(f"{URL}{with_two_registered.pk}/", {
            "start": f"{day}T13:00", "end": f"{day}T15:00"}, format="json")
        client_for(mentor).patch(f"{URL}{with_two_registered.pk}/", {"topic": "Mới"},
                                 format="json")

    assert sorted(message.to[0] for message in mail.outbox) == [
        "mentor1@example.vn", "student.ndc@example.vn"]
    assert all("13:00" in message.body for message in mail.outbox)


def test_moving_onto_a_taken_slot_is_409(client_for, mentor, session, teacher, space, day):
    lesson = booking_create(actor=teacher, space=space, title="Hóa 10A2",
                            start=f.at(day, "13:00"), end=f.at(day, "14:00"))

    response = client_for(mentor).patch(f"{URL}{session.pk}/", {
        "start": f"{day}T13:30", "end": f"{day}T15:00"}, format="json")

    assert response.status_code == 409
    assert response.json()["conflicts"][0]["id"] == lesson.pk
    assert Booking.objects.get(pk=session.booking_id).start == f.at(day, "08:00")


def test_a_new_kind_tells_calendar_subscribers(client_for, mentor, session):
    client_for(mentor).patch(f"{URL}{session.pk}/", {"kind": "workshop"}, format="json")

    assert Booking.objects.get(pk=session.booking_id).sequence == 1


def test_fewer_places_than_registered_is_409(client_for, mentor, with_two_registered):
    response = client_for(mentor).patch(f"{URL}{with_two_registered.pk}/", {"capacity": 1},
                                        format="json")

    assert response.status_code == 409
    assert "capacity" in response.json()
    with_two_registered.refresh_from_db()
    assert with_two_registered.capacity == 10


@pytest.mark.parametrize("body, field", [
    ({"topic": ""}, "topic"), ({"capacity": 0}, "capacity"), ({"kind": "x"}, "kind"),
    ({"start": "later"}, "start"), ({"projects": [99999]}, "projects"),
])
def test_bad_change_is_400(client_for, mentor, session, body, field):
    response = client_for(mentor).patch(f"{URL}{session.pk}/", body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert Booking.objects.get(pk=session.booking_id).sequence == 0


@pytest.mark.parametrize("who, code", [
    ("mentor", 200), ("manager", 200), ("union", 200),
    ("other_mentor", 403), ("other_manager", 403), ("student", 403),
])
def test_who_may_cancel(client_for, request, session, who, code):
    response = client_for(request.getfixturevalue(who)).post(f"{URL}{session.pk}/cancel/")

    assert response.status_code == code
    assert Booking.objects.get(pk=session.booking_id).status == (
        "cancelled" if code == 200 else "approved")


def test_cancel_frees_the_room_and_tells_the_students(client_for, mentor, with_two_registered,
                                                      student, django_capture_on_commit_callbacks):
    student.email = "bao@example.vn"
    student.save()
    url = f"{URL}{with_two_registered.pk}/"

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(mentor).post(f"{url}cancel/", {"reason": "Chuyên gia bận"},
                                           format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert [message.to for message in mail.outbox] == [["bao@example.vn"]]
    assert "Chuyên gia bận" in mail.outbox[0].body
    assert client_for(mentor).post(f"{url}cancel/").status_code == 409
    assert client_for(mentor).patch(url, {"notes": "x"}, format="json").status_code == 409
    assert AuditEntry.objects.filter(action="session.cancelled").count() == 1


def test_a_past_session_cannot_be_cancelled(client_for, mentor, session):
    ended(session)

    assert client_for(mentor).post(f"{URL}{session.pk}/cancel/").status_code == 409


# --- places ------------------------------------------------------------------------------------

def test_student_registers_and_unregisters(client_for, student, session):
    client = client_for(student)

    registered = client.post(f"{URL}{session.pk}/register/")

    assert registered.status_code == 200, registered.json()
    assert registered.json()["is_registered"] is True
    assert registered.json()["attendance"]["registered"] == 1
    assert registered.json()["attendance"]["places_left"] == 9
    assert client.post(f"{URL}{session.pk}/register/").status_code == 409  # already

    unregistered = client.post(f"{URL}{session.pk}/unregister/")

    assert unregistered.status_code == 200
    assert unregistered.json()["is_registered"] is False
    assert unregistered.json()["attendance"]["registered"] == 0
    assert Registration.objects.get().cancelled_at is not None  # kept, cancelled
    assert client.post(f"{URL}{session.pk}/unregister/").status_code == 409
    assert client.post(f"{URL}{session.pk}/register/").status_code == 200  # again
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="session.")
            .order_by("id")] == ["session.created", "session.registered",
                                 "session.unregistered", "session.registered"]


@pytest.mark.parametrize("who", ["other_student", "teacher", "manager", "mentor", "union"])
def test_only_students_of_the_school_register_themselves(client_for, request, session, who):
    response = client_for(request.getfixturevalue(who)).post(f"{URL}{session.pk}/register/")

    assert response.status_code == 403
    assert not Registration.objects.exists()


def test_anonymous_cannot_register(anon, session):
    assert anon.post(f"{URL}{session.pk}/register/").status_code == 401


@pytest.mark.parametrize("who, code", [
    ("manager", 200), ("mentor", 200), ("union", 200), ("other_manager", 403),
    ("classmate", 403), ("other_mentor", 403),
])
def test_who_may_register_a_student(client_for, request, session, student, who, code):
    response = client_for(request.getfixturevalue(who)).post(
        f"{URL}{session.pk}/register/", {"student": student.pk}, format="json")

    assert response.status_code == code
    assert Registration.objects.filter(student=student).exists() is (code == 200)


@pytest.mark.parametrize("whom", ["other_student", "teacher"])
def test_a_manager_registers_only_students_of_the_school(client_for, request, manager, session,
                                                         whom):
    response = client_for(manager).post(f"{URL}{session.pk}/register/",
                                        {"student": request.getfixturevalue(whom).pk},
                                        format="json")

    assert response.status_code == 400 and "student" in response.json()
    assert not Registration.objects.exists()


@pytest.mark.parametrize("body", [{"student": 99999}, {"student": "x"}, {"student": True}])
def test_bad_register_input_is_400(client_for, manager, session, body):
    response = client_for(manager).post(f"{URL}{session.pk}/register/", body, format="json")

    assert response.status_code == 400 and "student" in response.json()


def test_full_session_is_409(client_for, profile, space, day, student, classmate):
    session = make_session(profile, space, day, capacity=1)
    assert client_for(classmate).post(f"{URL}{session.pk}/register/").status_code == 200

    response = client_for(student, language="en").post(f"{URL}{session.pk}/register/")

    assert response.status_code == 409
    assert "full" in response.json()["detail"]
    assert Registration.objects.count() == 1


def test_no_registration_once_started_or_cancelled(client_for, mentor, student, classmate,
                                                   session):
    register(actor=classmate, session=session)
    started(session)

    assert client_for(student).post(f"{URL}{session.pk}/register/").status_code == 409
    assert client_for(classmate).post(f"{URL}{session.pk}/unregister/").status_code == 409

    Booking.objects.filter(pk=session.booking_id).update(status="cancelled")
    assert client_for(student).post(f"{URL}{session.pk}/register/").status_code == 409
    assert Registration.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("capacity, threads", [(1, 2), (3, 8)])
def test_concurrent_registrations_for_the_last_place(capacity, threads):
    school = f.school(slug="ndc")
    space = f.space(school)
    profile = mentor_profile_save(actor=None, user=f.user("mentor1", role="mentor"))
    students = [f.user(f"student{i}", role="student", school=school)
                for i in range(threads + capacity - 1)]
    session = make_session(profile, space, f.next_weekday(2), capacity=capacity)
    for early in students[threads:]:  # all places but the last are taken
        register(actor=early, session=session)

    def attempt(i):
        client = APIClient()
        client.force_authenticate(students[i])
        return client.post(f"{URL}{session.pk}/register/").status_code

    codes = race(threads, attempt)

    assert codes == [200] + [409] * (threads - 1), connection.vendor
    assert Registration.objects.filter(session=session).count() == capacity


# --- attendance --------------------------------------------------------------------------------

def test_attendance_only_once_started(client_for, mentor, with_two_registered, student):
    url = f"{URL}{with_two_registered.pk}/attendance/"

    early = client_for(mentor).post(url, {"attended": [student.pk]}, format="json")

    assert early.status_code == 409
    assert not Registration.objects.filter(attended__isnull=False).exists()


def test_mentor_records_who_came(client_for, mentor, with_two_registered, student, classmate):
    started(with_two_registered)

    response = client_for(mentor).post(f"{URL}{with_two_registered.pk}/attendance/",
                                       {"attended": [student.pk]}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["attendance"]["attended"] == 1
    assert {(r["student"], r["attended"]) for r in response.json()["registrations"]} == {
        (student.pk, True), (classmate.pk, False)}
    assert AuditEntry.objects.filter(action="session.attendance").exists()


def test_attendance_one_registration_at_a_time(client_for, manager, with_two_registered,
                                               student, classmate):
    started(with_two_registered)
    url = f"{URL}{with_two_registered.pk}/attendance/"
    client_for(manager).post(url, {"registrations": [{"student": classmate.pk,
                                                      "attended": True}]}, format="json")

    response = client_for(manager).post(url, {"registrations": [
        {"student": student.pk, "attended": False}]}, format="json")

    assert response.status_code == 200
    assert dict(Registration.objects.values_list("student", "attended")) == {
        student.pk: False, classmate.pk: True}


@pytest.mark.parametrize("who, code", [
    ("mentor", 200), ("manager", 200), ("admin_user", 200),
    ("union", 403), ("other_manager", 403), ("other_mentor", 403), ("student", 403),
    ("teacher", 403),
])
def test_who_records_attendance(client_for, request, with_two_registered, student, who, code):
    started(with_two_registered)

    response = client_for(request.getfixturevalue(who)).post(
        f"{URL}{with_two_registered.pk}/attendance/", {"attended": [student.pk]}, format="json")

    assert response.status_code == code
    assert Registration.objects.filter(attended=True).exists() is (code == 200)


@pytest.mark.parametrize("body, field", [
    ({}, "attended"),
    ({"attended": "all"}, "attended"),
    ({"attended": [True]}, "attended"),
    ({"attended": ["other_student"]}, "attended"),  # not registered
    ({"attended": [], "registrations": []}, "attended"),
    ({"registrations": [{"student": "student"}]}, "registrations"),
    ({"registrations": [{"student": "student", "attended": True},
                        {"student": "student", "attended": False}]}, "registrations"),
])
def test_bad_attendance_is_400(client_for, mentor, with_two_registered, student, other_student,
                               body, field):
    started(with_two_registered)
    ids = {"student": student.pk, "other_student": other_student.pk}

    def resolve(value):
        if isinstance(value, list):
            return [resolve(item) for item in value]
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        return ids.get(value, value) if isinstance(value, str) else value

    response = client_for(mentor).post(f"{URL}{with_two_registered.pk}/attendance/",
                                       resolve(body), format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert not Registration.objects.filter(attended__isnull=False).exists()


# --- feedback ----------------------------------------------------------------------------------

@pytest.fixture
def attended(with_two_registered, mentor, student, classmate):
    """The session happened: the student came, the classmate did not."""
    started(with_two_registered)
    record_attendance(actor=mentor, session=with_two_registered, attended={student.pk: True},
                      complete=True)
    ended(with_two_registered)
    return with_two_registered


def test_an_attendee_rates_the_session_after_it_ended(client_for, mentor, attended, student):
    response = client_for(student).post(f"{URL}{attended.pk}/feedback/",
                                        {"rating": 5, "comment": "Rất bổ ích"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["attendance"] | {} == {
        "registered": 2, "attended": 1, "places_left": 8, "ratings": 1, "average_rating": 5.0}
    [own] = response.json()["registrations"]
    assert (own["rating"], own["comment"]) == (5, "Rất bổ ích")
    mentor_view = client_for(mentor).get(f"{URL}{attended.pk}/").json()
    assert {(r["rating"], r["comment"]) for r in mentor_view["registrations"]} == {
        (5, "Rất bổ ích"), (None, "")}
    # Again: replaces it.
    client_for(student).post(f"{URL}{attended.pk}/feedback/", {"rating": 4}, format="json")
    assert Registration.objects.get(student=student).rating == 4


@pytest.mark.parametrize("who", ["classmate", "other_student", "mentor", "manager"])
def test_only_attendees_give_feedback(client_for, request, attended, who):
    response = client_for(request.getfixturevalue(who)).post(
        f"{URL}{attended.pk}/feedback/", {"rating": 5}, format="json")

    assert response.status_code == 403
    assert not Registration.objects.filter(rating__isnull=False).exists()


def test_no_feedback_before_the_end(client_for, mentor, with_two_registered, student):
    started(with_two_registered)
    record_attendance(actor=mentor, session=with_two_registered, attended={student.pk: True})

    response = client_for(student).post(f"{URL}{with_two_registered.pk}/feedback/",
                                        {"rating": 5}, format="json")

    assert response.status_code == 409
    assert Registration.objects.get(student=student).rating is None


@pytest.mark.parametrize("body, field", [
    ({}, "rating"), ({"rating": 0}, "rating"), ({"rating": 6}, "rating"),
    ({"rating": "good"}, "rating"), ({"rating": 4, "comment": "x" * 2001}, "comment"),
])
def test_bad_feedback_is_400(client_for, attended, student, body, field):
    response = client_for(student).post(f"{URL}{attended.pk}/feedback/", body, format="json")

    assert response.status_code == 400 and field in response.json()
    assert Registration.objects.get(student=student).rating is None


# --- who may, before what they send ----------------------------------------------------------

@pytest.mark.parametrize("who, action, body", [
    ("student", "attendance", {"attended": "all"}),
    ("teacher", "attendance", {}),
    ("classmate", "feedback", {"rating": 9}),
    ("manager", "feedback", {}),
    ("student", "cancel", {"reason": "x" * 5000}),
    ("teacher", "", {"capacity": "many"}),  # PATCH
])
def test_people_who_may_not_act_hear_403_whatever_they_send(client_for, request, attended, who,
                                                           action, body):
    client = client_for(request.getfixturevalue(who))
    url = f"{URL}{attended.pk}/{action + '/' if action else ''}"

    response = (client.post(url, body, format="json") if action
                else client.patch(url, body, format="json"))

    assert response.status_code == 403, response.json()
    assert Registration.objects.filter(rating__isnull=False).count() == 0


@pytest.mark.parametrize("who", ["student", "teacher"])
def test_roles_that_never_create_sessions_hear_403_not_400(client_for, request, who):
    response = client_for(request.getfixturevalue(who)).post(URL, {"topic": ""}, format="json")

    assert response.status_code == 403, response.json()
    assert "detail" in response.json()


# --- reminders ---------------------------------------------------------------------------------

def test_reminders_go_once_to_the_mentor_and_registered_students(
        profile, other_profile, space, other_space, day, student, classmate, mentor, other_mentor,
        other_student):
    for person in (mentor, other_mentor, student, classmate, other_student):
        person.email = f"{person.username}@example.vn"
        person.save()
    tomorrow = make_session(profile, space, day)
    register(actor=student, session=tomorrow)
    register(actor=classmate, session=tomorrow)
    Registration.objects.filter(student=classmate).update(cancelled_at=timezone.now())
    later = make_session(other_profile, other_space, day + datetime.timedelta(days=1))
    register(actor=other_student, session=later)
    cancelled = make_session(other_profile, space, day, "13:00", "15:00")
    session_cancel(actor=other_mentor, session=cancelled)
    evening_before = f.at(day - datetime.timedelta(days=1), "18:00")

    first = send_reminders(now=evening_before)

    assert (first.sessions, first.emails) == (1, 2)
    assert sorted(message.to[0] for message in mail.outbox) == [
        "mentor1@example.vn", "student.ndc@example.vn"]
    assert all(len(message.to) == 1 and not message.cc and not message.bcc
               for message in mail.outbox)
    assert "Hướng dẫn dự án IoT" in mail.outbox[0].subject
    assert "08:00" in mail.outbox[0].subject
    tomorrow.refresh_from_db()
    assert tomorrow.reminder_sent_at == evening_before

    again = send_reminders(now=evening_before + datetime.timedelta(hours=2))

    assert (again.sessions, again.emails) == (0, 0)
    assert len(mail.outbox) == 2
    # The next evening, the next day's session.
    send_reminders(now=evening_before + datetime.timedelta(days=1))
    assert [message.to for message in mail.outbox[2:]] == [["student.nqd@example.vn"],
                                                           ["mentor2@example.vn"]]


def test_reminder_command(profile, space, day, mentor):
    mentor.email = "tung@example.vn"
    mentor.save()
    make_session(profile, space, day)
    moment = f"{day - datetime.timedelta(days=1)}T18:00"

    call_command("send_session_reminders", "--now", moment, stdout=(out := _Out()))
    call_command("send_session_reminders", "--now", moment, stdout=(out_again := _Out()))

    assert out.text == "Reminders: 1 sessions, 1 emails.\n"
    assert out_again.text == "Reminders: 0 sessions, 0 emails.\n"
    assert [message.to for message in mail.outbox] == [["tung@example.vn"]]


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


# --- demo data ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_seed_demo_sessions_is_idempotent():
    call_command("seed_demo", stdout=_Out())
    Closure.objects.all().delete()  # whatever holiday falls in the coming weeks

    call_command("seed_demo_sessions", stdout=_Out())
    counts = MentorSession.objects.count(), Registration.objects.count(), Booking.objects.count()
    call_command("seed_demo_sessions", stdout=_Out())

    assert (MentorSession.objects.count(), Registration.objects.count(),
            Booking.objects.count()) == counts
    mentor2 = User.objects.get(username="mentor2")
    assert mentor2.role == "mentor" and mentor2.check_password("demo12345")
    assert User.objects.get(username="mentor1").mentor_profile.expertise[0] == "IoT"
    for slug in ("ndc", "nqd", "tm"):
        sessions = MentorSession.objects.filter(school__slug=slug)
        assert sessions.count() == 3
        training = sessions.get(topic="Tập huấn đăng ký và xây dựng nhãn hiệu")
        assert training.kind == "training" and training.mentor.user == mentor2
        assert training.booking.start > timezone.now()
        assert Registration.objects.filter(session__school__slug=slug,
                                           student__username=f"student.{slug}").exists()


@pytest.mark.django_db
def test_seed_demo_sessions_skips_a_closed_school():
    call_command("seed_demo", stdout=_Out())
    # seed_demo made the sessions already: start again from none (test data only).
    Registration.objects.all().delete()
    session_bookings = list(MentorSession.objects.values_list("booking_id", flat=True))
    MentorSession.objects.all().delete()
    Booking.objects.filter(pk__in=session_bookings).update(status="cancelled")
    Closure.objects.all().delete()
    ndc = School.objects.get(slug="ndc")
    today = timezone.localdate()
    Closure.objects.create(school=ndc, start_date=today, end_date=today + datetime.timedelta(
        days=60), reason="Sửa chữa")

    call_command("seed_demo_sessions", stdout=(out := _Out()))

    assert not MentorSession.objects.filter(school=ndc).exists()
    assert MentorSession.objects.filter(school__slug="nqd").count() == 3
    assert "skipped" in out.text
    assert Space.objects.filter(school=ndc).exists()


def test_a_sessions_booking_changes_only_with_its_session(client_for, mentor, manager, session):
    """Through bookings/ the students would not be told: the session is the way in."""
    booking_url = f"/api/v1/bookings/{session.booking_id}/"
    response = client_for(manager).post(f"{booking_url}cancel/")
    assert response.status_code == 403
    assert "session" in client_for(manager, language="en").post(
        f"{booking_url}cancel/").json()["detail"]
    assert client_for(mentor).patch(booking_url, {"title": "x"}, format="json").status_code == 403
