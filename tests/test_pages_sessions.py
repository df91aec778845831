"""/sessions/: the list by school and date, a session's page, registering, attendance and
notes, feedback — all through projects.sessions."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from bookings.models import Booking
from projects.models import Registration
from projects.sessions import mentor_profile_save, register, session_cancel, session_create
from tests import factories as f
from tests import project_factories as pf


@pytest.fixture
def profile(mentor):
    return mentor_profile_save(actor=None, user=mentor, expertise=["IoT"])


@pytest.fixture
def day():
    return f.next_weekday(2)


@pytest.fixture
def session(profile, space, day):
    return make_session(profile, space, day)


@pytest.fixture
def classmate(school):
    return f.user("student2.ndc", role="student", school=school, full_name="Lê Thị Hoa")


def make_session(profile, space, day, start="08:00", end="10:00", **values):
    values = {"topic": "Hướng dẫn dự án IoT", "kind": "mentoring", "capacity": 10} | values
    return session_create(actor=profile.user, space=space, start=f.at(day, start),
                          end=f.at(day, end), **values)


def move(session, start, end):
    Booking.objects.filter(pk=session.booking_id).update(start=start, end=end)


def started(session):
    now = timezone.now()
    move(session, now - datetime.timedelta(minutes=30), now + datetime.timedelta(minutes=90))


def ended(session):
    now = timezone.now()
    move(session, now - datetime.timedelta(hours=3), now - datetime.timedelta(hours=1))


def page(user=None, language="vi") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def url(session, action=""):
    return f"/sessions/{session.pk}/{action + '/' if action else ''}"


# --- the list -----------------------------------------------------------------------------------

def test_list_needs_sign_in(session):
    response = page().get("/sessions/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_list_shows_upcoming_first_by_date_in_vietnam_time(student, profile, space, day,
                                                           session):
    later = make_session(profile, space, day + datetime.timedelta(days=7), topic="Buổi sau")
    past = make_session(profile, space, day, "13:00", "15:00", topic="Buổi đã qua")
    ended(past)

    body = html(page(student).get("/sessions/"))

    assert body.index(session.topic) < body.index(later.topic) < body.index(past.topic)
    assert day.strftime("%d/%m/%Y") in body
    assert "08:00–10:00" in body
    assert "10 places left" in html(page(student, "en").get("/sessions/"))


def test_list_filters_by_school(student, profile, space, other_space, day, session):
    other = make_session(profile, other_space, day + datetime.timedelta(days=1),
                         topic="Tập huấn nhãn hiệu")
    body = html(page(student).get("/sessions/?school=nqd"))

    assert other.topic in body and session.topic not in body


def test_list_makes_a_fixed_number_of_queries(student, profile, space, day,
                                              django_assert_num_queries):
    client = page(student)

    def fill(count, weeks):
        for index in range(count):
            make_session(profile, space, day + datetime.timedelta(days=7 * (weeks + index)))

    # session, user, schools, upcoming count, upcoming, its projects and registrations,
    # past, its projects and registrations.
    ended(make_session(profile, space, day, "13:00", "14:00", topic="Buổi đã qua"))
    fill(1, 0)
    with django_assert_num_queries(10):
        client.get("/sessions/")
    fill(5, 1)
    earlier = timezone.now() - datetime.timedelta(days=2)
    move(make_session(profile, space, day, "15:00", "16:00", topic="Buổi đã qua 2"),
         earlier, earlier + datetime.timedelta(hours=1))
    with django_assert_num_queries(10):
        client.get("/sessions/")


# --- registering --------------------------------------------------------------------------------

def test_student_registers_and_unregisters(student, session):
    client = page(student)
    assert "/register/" in html(client.get(url(session)))

    response = client.post(url(session, "register"))

    assert response.status_code == 302 and response["Location"] == url(session)
    assert Registration.objects.get(cancelled_at__isnull=True).student == student
    body = html(client.get(url(session)))
    assert "/unregister/" in body and f'action="/sessions/{session.pk}/register/"' not in body

    client.post(url(session, "unregister"))
    assert not Registration.objects.filter(cancelled_at__isnull=True).exists()


def test_register_only_by_post(student, session):
    assert page(student).get(url(session, "register")).status_code == 405


def test_other_school_student_is_refused_with_a_message(other_student, session):
    client = page(other_student, "en")
    assert "/register/" not in html(client.get(url(session)))

    response = client.post(url(session, "register"), follow=True)

    assert not Registration.objects.exists()
    assert "Only students of" in html(response)


def test_a_full_session_says_so(student, classmate, profile, space, day):
    session = make_session(profile, space, day, capacity=1)
    register(actor=classmate, session=session)
    client = page(student, "en")
    assert f'action="/sessions/{session.pk}/register/"' not in html(client.get(url(session)))

    response = client.post(url(session, "register"), follow=True)
    assert "This session is full" in html(response)


def test_cancelled_session_offers_nothing(student, profile, session):
    session_cancel(actor=profile.user, session=session)
    body = html(page(student, "en").get(url(session)))
    assert "Cancelled" in body and "/register/" not in body


# --- attendance and notes -----------------------------------------------------------------------

@pytest.fixture
def with_two(session, student, classmate):
    register(actor=student, session=session)
    register(actor=classmate, session=session)
    return session


def test_mentor_records_attendance_and_notes_after_it_starts(mentor, student, classmate,
                                                             with_two):
    client = page(mentor)
    assert "/attendance/" not in html(client.get(url(with_two)))  # not started yet
    started(with_two)
    body = html(client.get(url(with_two)))
    assert "/attendance/" in body and student.full_name in body and classmate.full_name in body

    response = client.post(url(with_two, "attendance"),
                           {"attended": [str(student.pk)], "notes": "Nhóm cần thêm số liệu."})

    assert response.status_code == 302
    rows = {row.student_id: row.attended for row in Registration.objects.all()}
    assert rows == {student.pk: True, classmate.pk: False}
    with_two.refresh_from_db()
    assert with_two.notes == "Nhóm cần thêm số liệu."


def test_students_cannot_record_attendance(student, with_two):
    started(with_two)
    client = page(student)
    assert "/attendance/" not in html(client.get(url(with_two)))

    client.post(url(with_two, "attendance"), {"attended": [str(student.pk)]})
    assert not Registration.objects.filter(attended=True).exists()


def test_a_student_sees_only_their_own_registration(student, classmate, with_two):
    body = html(page(student).get(url(with_two)))
    assert classmate.full_name not in body


# --- feedback -----------------------------------------------------------------------------------

def test_an_attendee_gives_feedback_after_the_session(mentor, student, with_two):
    started(with_two)
    page(mentor).post(url(with_two, "attendance"), {"attended": [str(student.pk)]})
    client = page(student)
    assert "/feedback/" not in html(client.get(url(with_two)))  # not over yet
    ended(with_two)
    body = html(client.get(url(with_two)))
    assert "/feedback/" in body and 'type="radio"' in body

    client.post(url(with_two, "feedback"), {"rating": "5", "comment": "Rất bổ ích."})

    row = Registration.objects.get(student=student)
    assert (row.rating, row.feedback) == (5, "Rất bổ ích.")


def test_absent_students_cannot_give_feedback(student, with_two):
    ended(with_two)
    client = page(student, "en")
    assert "/feedback/" not in html(client.get(url(with_two)))

    response = client.post(url(with_two, "feedback"), {"rating": "4"}, follow=True)

    assert Registration.objects.get(student=student).rating is None
    assert "Only students who attended" in html(response)


def test_a_rating_out_of_range_is_refused(mentor, student, with_two):
    started(with_two)
    page(mentor).post(url(with_two, "attendance"), {"attended": [str(student.pk)]})
    ended(with_two)
    page(student).post(url(with_two, "feedback"), {"rating": "9"})
    assert Registration.objects.get(student=student).rating is None


def test_session_page_facts(student, session, day):
    body = html(page(student).get(url(session)))
    assert session.topic in body
    assert day.strftime("%d/%m/%Y") in body and "08:00–10:00" in body
    assert "Phòng chế tạo" in body and "THPT Chuyên Nguyễn Đình Chiểu" in body
    assert session.mentor.user.full_name in body



def test_only_projects_the_reader_may_see_are_named(student, other_student, profile, space,
                                                    day, school):
    public = pf.project(school, title="Dự án công khai", visibility="public")
    private = pf.project(school, title="Dự án riêng", leader=student)
    session = make_session(profile, space, day, projects=[public, private])

    mine = html(page(student).get(url(session)))
    assert "Dự án công khai" in mine and "Dự án riêng" in mine
    others = html(page(other_student).get(url(session)))
    assert "Dự án công khai" in others and "Dự án riêng" not in others


def test_session_page_makes_a_fixed_number_of_queries(mentor, session, school,
                                                      django_assert_num_queries):
    client = page(mentor)
    started(session)

    def fill(count):
        for _ in range(count):
            Registration.objects.create(session=session,
                                        student=f.user(role="student", school=school))

    # session, user, the session with its counts, its projects, its registrations, the
    # projects named.
    fill(1)
    with django_assert_num_queries(6):
        client.get(url(session))
    fill(6)
    with django_assert_num_queries(6):
        client.get(url(session))
