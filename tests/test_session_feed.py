"""/ical/mentor-sessions.ics and sessions in participants' private feeds.

Sessions are made through the services; the feeds are parsed by the strict `ical` parser
and compared with the sessions in the database.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from bookings.models import Booking
from bookings.services import booking_create
from projects.models import MentorSession
from projects.sessions import (
    mentor_profile_save,
    register,
    session_cancel,
    session_create,
    session_update,
    unregister,
)
from tests import factories as f
from tests.test_ical import (
    ICAL_STATUS,
    VN,
    at,
    events_by_uid,
    get,
    lines,
    occurrences,
    unfolded,
    weekday_ahead,
)

FEED = "/ical/mentor-sessions.ics"


def expected(sessions: Any) -> set[tuple[datetime.datetime, datetime.datetime, str, str]]:
    """What a public feed of these sessions shows: scheduled, and cancelled until past."""
    now = timezone.now()
    return {(s.booking.start.astimezone(VN), s.booking.end.astimezone(VN), s.topic,
             ICAL_STATUS[s.booking.status])
            for s in sessions.select_related("booking")
            if s.booking.status == "approved"
            or (s.booking.status == "cancelled" and s.booking.end > now)}


@dataclass
class World:
    iot: MentorSession
    trademark: MentorSession
    cancelled: MentorSession
    elsewhere: MentorSession
    lesson: Booking


@pytest.fixture
def world(school, other_school, space, other_space, mentor, teacher, student) -> World:
    """mentor1's IoT mentoring (the student registered) and a cancelled one at ndc,
    mentor2's trademark training at ndc and a workshop at nqd; a plain lesson at ndc."""
    tung = mentor_profile_save(actor=None, user=mentor, expertise=["IoT"])
    hanh = mentor_profile_save(
        actor=None, user=f.user("mentor2", role="mentor", full_name="ThS. Lê Thị Mỹ Hạnh"),
        organization="Cục Sở hữu trí tuệ")
    wednesday, thursday = weekday_ahead(2), weekday_ahead(3)
    iot = session_create(actor=mentor, mentor=tung, space=space, topic="Hướng dẫn dự án IoT",
                         description="Mang theo mạch ESP32", start=at(wednesday, "08:00"),
                         end=at(wednesday, "10:00"), capacity=10)
    register(actor=student, session=iot)
    trademark = session_create(actor=hanh.user, mentor=hanh, space=space,
                               topic="Tập huấn đăng ký và xây dựng nhãn hiệu", kind="training",
                               start=at(thursday, "08:00"), end=at(thursday, "11:00"),
                               capacity=25)
    cancelled = session_create(actor=mentor, mentor=tung, space=space, topic="Buổi đã hủy",
                               start=at(thursday, "13:00"), end=at(thursday, "14:00"))
    session_cancel(actor=mentor, session=cancelled, reason="Chuyên gia bận")
    elsewhere = session_create(actor=mentor, mentor=tung, space=other_space,
                               topic="Workshop ESP32", kind="workshop",
                               start=at(wednesday, "13:30"), end=at(wednesday, "16:30"))
    lesson = booking_create(actor=teacher, space=space, title="Vật lý 11A1",
                            start=at(wednesday, "13:00"), end=at(wednesday, "14:00"))
    return World(iot=iot, trademark=trademark, cancelled=cancelled, elsewhere=elsewhere,
                 lesson=lesson)


# --- the feed equals the database --------------------------------------------------------------

def test_feed_expands_to_every_session(world):
    response = get(FEED)

    assert response.status_code == 200
    seen = occurrences(response.content)
    assert seen == expected(MentorSession.objects.all())
    assert len(seen) == 4
    assert world.lesson.title not in {row[2] for row in seen}  # not a session
    assert (world.cancelled.booking.start.astimezone(VN), world.cancelled.booking.end
            .astimezone(VN), "Buổi đã hủy", "CANCELLED") in seen


def test_feed_of_one_school(world, school, other_school):
    ndc = occurrences(get(f"{FEED}?school={school.slug}").content)
    nqd = occurrences(get(f"{FEED}?school={other_school.slug}").content)

    assert ndc == expected(MentorSession.objects.filter(school=school))
    assert nqd == expected(MentorSession.objects.filter(school=other_school))
    assert {row[2] for row in nqd} == {"Workshop ESP32"}
    assert get(f"{FEED}?school=no-such-school").status_code == 404


def test_events_carry_topic_kind_mentor_and_place(world, space, school):
    body = get(FEED, accept_language="en").content

    event = events_by_uid(body)[f"booking-{world.trademark.booking.uid}@stemspace"][0]
    assert event["SUMMARY"] == "Tập huấn đăng ký và xây dựng nhãn hiệu"
    assert event["LOCATION"] == f"{space.name}\\, {school.name}"
    assert event["CATEGORIES"] == "Mentor session,Training"
    assert event["DESCRIPTION"] == "Training with ThS. Lê Thị Mỹ Hạnh (Cục Sở hữu trí tuệ)"
    assert event["STATUS"] == "CONFIRMED"
    # The session's own description is for its participants' feeds.
    assert "ESP32" not in body.decode().replace("Workshop ESP32", "")
    # In Vietnamese (the default) too: the mentor is named.
    vi = events_by_uid(get(FEED).content)[f"booking-{world.trademark.booking.uid}@stemspace"][0]
    assert "ThS. Lê Thị Mỹ Hạnh (Cục Sở hữu trí tuệ)" in vi["DESCRIPTION"]


def test_feed_never_names_students(world, student, other_student):
    register(actor=other_student, session=world.elsewhere)

    for path in (FEED, f"{FEED}?school=ndc", f"{FEED}?school=nqd", "/ical/schools/ndc.ics",
                 f"/ical/spaces/{world.iot.booking.space_id}.ics"):
        body = get(path).content.decode()
        for person in (student, other_student):
            assert person.username not in body and person.full_name not in body
        assert "ATTENDEE" not in body and "ORGANIZER" not in body


def test_feed_bytes_are_what_calendar_apps_accept(world):
    response = get(FEED)

    body = response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in lines(body))
    props = unfolded(body)
    for line in ["VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
                 "X-WR-TIMEZONE:Asia/Ho_Chi_Minh", "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
                 "X-PUBLISHED-TTL:PT1H", "TZID:Asia/Ho_Chi_Minh"]:
        assert line in props
    assert any(line.startswith("X-WR-CALNAME:") for line in props)
    assert props.count("BEGIN:VTIMEZONE") == 1 and props.count("BEGIN:STANDARD") == 1


def test_etag_makes_a_conditional_get_304_until_a_change(world, mentor):
    first = get(FEED)

    assert get(FEED, if_none_match=first["ETag"]).status_code == 304

    session_update(actor=mentor, session=world.iot, topic="Cảm biến độ mặn")

    changed = get(FEED, if_none_match=first["ETag"])
    assert changed.status_code == 200
    event = events_by_uid(changed.content)[f"booking-{world.iot.booking.uid}@stemspace"][0]
    assert event["SUMMARY"] == "Cảm biến độ mặn" and event["SEQUENCE"] == "1"


# --- private feeds -----------------------------------------------------------------------------

def test_a_registered_student_sees_the_session_in_their_feed(world, student):
    path = f"/ical/users/{student.feed_token}.ics"

    body = get(path, accept_language="en").content

    seen = occurrences(body)
    assert (world.iot.booking.start.astimezone(VN), world.iot.booking.end.astimezone(VN),
            "Hướng dẫn dự án IoT", "CONFIRMED") in seen
    assert len(seen) == 1
    event = events_by_uid(body)[f"booking-{world.iot.booking.uid}@stemspace"][0]
    assert event["DESCRIPTION"] == ("Mentoring with Mentor1 (Sở Khoa học và Công nghệ "
                                    "Đồng Tháp)\\n\\nMang theo mạch ESP32")

    unregister(actor=student, session=world.iot)

    assert occurrences(get(path).content) == set()


def test_the_mentor_sees_their_sessions_and_others_do_not(world, mentor, other_student,
                                                         teacher):
    mine = occurrences(get(f"/ical/users/{mentor.feed_token}.ics").content)
    hers = occurrences(get(f"/ical/users/{world.trademark.mentor.user.feed_token}.ics").content)

    assert mine == expected(MentorSession.objects.filter(mentor__user=mentor))
    assert {row[2] for row in hers} == {"Tập huấn đăng ký và xây dựng nhãn hiệu"}
    assert occurrences(get(f"/ical/users/{other_student.feed_token}.ics").content) == set()
    assert {row[2] for row in occurrences(
        get(f"/ical/users/{teacher.feed_token}.ics").content)} == {"Vật lý 11A1"}


def test_a_cancelled_session_stays_cancelled_in_the_students_feed(world, student, mentor):
    session_cancel(actor=mentor, session=world.iot)

    seen = occurrences(get(f"/ical/users/{student.feed_token}.ics").content)

    assert {row[2:] for row in seen} == {("Hướng dẫn dự án IoT", "CANCELLED")}


# --- a fixed number of queries ------------------------------------------------------------------

@pytest.mark.parametrize("which, queries", [("all", 2), ("school", 3), ("student", 3),
                                            ("mentor", 3)])
def test_feeds_make_a_fixed_number_of_queries(school, space, mentor, student,
                                              django_assert_num_queries, which, queries):
    profile = mentor_profile_save(actor=None, user=mentor)
    paths = {"all": FEED, "school": f"{FEED}?school={school.slug}",
             "student": f"/ical/users/{student.feed_token}.ics",
             "mentor": f"/ical/users/{mentor.feed_token}.ics"}

    def grow(weeks):
        for week in weeks:
            day = weekday_ahead(2, weeks=week + 1)
            session = session_create(actor=mentor, mentor=profile, space=space,
                                     topic=f"Buổi {week}", start=at(day, "08:00"),
                                     end=at(day, "10:00"))
            register(actor=student, session=session)

    grow(range(1))
    with django_assert_num_queries(queries):
        small = get(paths[which])
    grow(range(1, 8))
    with django_assert_num_queries(queries):
        large = get(paths[which])

    assert len(occurrences(small.content)) == 1
    assert len(occurrences(large.content)) == 8
