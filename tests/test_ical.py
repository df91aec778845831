"""The iCal feeds: bytes calendar apps accept, and occurrences equal to the bookings.

Data goes through the booking services, so the feeds are tested against what the real
rules produce (closures skip occurrences, students' requests wait for approval).
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass
from typing import Any, cast

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone
from django.utils.http import http_date
from ical.calendar_stream import IcsCalendarStream

from bookings.models import Booking, BookingStatus, Series
from bookings.services import (
    booking_approve,
    booking_cancel,
    booking_create,
    booking_reject,
    booking_update,
    closure_create,
    series_cancel,
    series_create,
    series_update,
)
from tests import factories as f

VN = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")
ICAL_STATUS = {BookingStatus.APPROVED: "CONFIRMED", BookingStatus.PENDING: "TENTATIVE",
               BookingStatus.CANCELLED: "CANCELLED"}


# --- helpers ---------------------------------------------------------------------------------

def weekday_ahead(weekday: int, weeks: int = 1) -> datetime.date:
    """That weekday (0 = Monday) in the week `weeks` from now."""
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(weeks=weeks)
    return monday + datetime.timedelta(days=weekday)


def at(day: datetime.date, clock: str) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.fromisoformat(clock), tzinfo=VN)


def get(path: str, **headers: str) -> Any:
    return Client().get(path, headers=headers)


def occurrences(body: bytes) -> set[tuple[datetime.datetime, datetime.datetime, str, str]]:
    """Every occurrence the strict `ical` parser expands from the feed."""
    calendar = IcsCalendarStream.calendar_from_ics(body.decode())
    return {(cast(datetime.datetime, event.start), cast(datetime.datetime, event.end),
             event.summary or "", str(event.status.value if event.status else ""))
            for event in calendar.timeline_tz(VN)}


def shown(bookings: Any) -> set[tuple[datetime.datetime, datetime.datetime, str, str]]:
    return {(b.start.astimezone(VN), b.end.astimezone(VN), b.title, ICAL_STATUS[b.status])
            for b in bookings}


def public_expected(**scope: Any) -> set[tuple[datetime.datetime, datetime.datetime, str, str]]:
    """What a public feed should show, said plainly: approved, and cancelled until past."""
    now = timezone.now()
    return shown(b for b in Booking.objects.filter(**scope)
                 if b.status == BookingStatus.APPROVED
                 or (b.status == BookingStatus.CANCELLED and b.end > now))


def private_expected(user: Any) -> set[tuple[datetime.datetime, datetime.datetime, str, str]]:
    now = timezone.now()
    return shown(b for b in Booking.objects.filter(organizer=user)
                 if b.status in (BookingStatus.APPROVED, BookingStatus.PENDING)
                 or (b.status == BookingStatus.CANCELLED and b.end > now))


def lines(body: bytes) -> list[bytes]:
    return body.split(b"\r\n")


def unfolded(body: bytes) -> list[str]:
    return body.decode().replace("\r\n ", "").split("\r\n")


def events_by_uid(body: bytes) -> dict[str, list[dict[str, str]]]:
    """VEVENT properties (name → raw value, parameters dropped) grouped by UID."""
    found: dict[str, list[dict[str, str]]] = {}
    current: dict[str, str] | None = None
    for line in unfolded(body):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT" and current is not None:
            found.setdefault(current["UID"], []).append(current)
            current = None
        elif current is not None:
            name, value = line.split(":", 1)
            current.setdefault(name.split(";")[0], value)
    return found


@dataclass
class World:
    series: Series
    skipped_start: datetime.datetime
    moved: Booking
    cancelled_occurrence: Booking
    student_series: Series
    pending: Booking
    single: Booking
    cancelled_single: Booking
    rejected: Booking
    elsewhere: Booking


@pytest.fixture
def world(school, space, manager, teacher, student) -> World:
    """A teacher's weekly club with a closure, a moved and a cancelled occurrence; a
    student's series half approved; single bookings of every status; another space."""
    tuesday = weekday_ahead(1)
    closure_create(actor=manager, school=school, start_date=tuesday + datetime.timedelta(weeks=1),
                   end_date=tuesday + datetime.timedelta(weeks=1), reason="Kiểm tra học kỳ")
    result = series_create(actor=teacher, space=space, title="CLB Robotics",
                           rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=6",
                           start=at(tuesday, "07:00"), end=at(tuesday, "08:30"))
    assert len(result.created) == 5 and len(result.skipped) == 1
    third, fourth = result.created[2], result.created[3]
    moved = booking_update(actor=teacher, booking=third, title="CLB Robotics: thi thử",
                           start=third.start + datetime.timedelta(hours=2),
                           end=third.end + datetime.timedelta(hours=2))
    cancelled_occurrence = booking_cancel(actor=teacher, booking=fourth, reason="Họp")

    thursday = weekday_ahead(3)
    last = thursday + datetime.timedelta(weeks=2)
    student_result = series_create(actor=student, space=space, title="Nhóm drone",
                                   rrule=f"FREQ=WEEKLY;BYDAY=TH;UNTIL={last:%Y%m%d}",
                                   start=at(thursday, "14:00"), end=at(thursday, "15:00"))
    assert [b.status for b in student_result.created] == [BookingStatus.PENDING] * 3
    for booking in student_result.created[:2]:
        booking_approve(actor=manager, booking=booking)

    wednesday = weekday_ahead(2)
    pending = booking_create(actor=student, space=space, title="Nhóm dự án cảm biến",
                             start=at(wednesday, "09:00"), end=at(wednesday, "10:00"))
    rejected = booking_create(actor=student, space=space, title="Nhóm dự án bị từ chối",
                              start=at(wednesday, "13:00"), end=at(wednesday, "14:00"))
    booking_reject(actor=manager, booking=rejected, reason="Trùng lịch thi")
    single = booking_create(actor=teacher, space=space, title="Thực hành Vật lý 11A1",
                            start=at(wednesday, "07:00"), end=at(wednesday, "08:30"))
    cancelled_single = booking_create(actor=teacher, space=space, title="Tập huấn in 3D",
                                      start=at(wednesday, "15:00"), end=at(wednesday, "16:00"))
    booking_cancel(actor=teacher, booking=cancelled_single)
    elsewhere = booking_create(actor=teacher, space=f.space(school, name="Phòng thí nghiệm"),
                               title="Hóa học 10A2",
                               start=at(wednesday, "09:00"), end=at(wednesday, "10:00"))
    for row in (moved, cancelled_occurrence, pending, rejected, single, cancelled_single,
                elsewhere):
        row.refresh_from_db()
    return World(series=result.series, skipped_start=at(tuesday, "07:00")
                 + datetime.timedelta(weeks=1), moved=moved,
                 cancelled_occurrence=cancelled_occurrence, student_series=student_result.series,
                 pending=pending, single=single, cancelled_single=cancelled_single,
                 rejected=rejected, elsewhere=elsewhere)


def feed_paths(space: Any, school: Any, user: Any) -> list[str]:
    return [f"/ical/spaces/{space.pk}.ics", f"/ical/schools/{school.slug}.ics",
            f"/ical/users/{user.feed_token}.ics"]


# --- what the strict parser expands equals the database ---------------------------------------

def test_space_feed_expands_to_its_approved_and_cancelled_bookings(world, space):
    response = get(f"/ical/spaces/{space.pk}.ics")

    assert response.status_code == 200
    seen = occurrences(response.content)
    assert seen == public_expected(space=space)
    starts = {start for start, _end, _summary, _status in seen}
    assert world.skipped_start not in starts  # the closure
    assert (world.moved.start, world.moved.end, "CLB Robotics: thi thử", "CONFIRMED") in seen
    assert world.moved.recurrence_id.astimezone(VN) not in starts
    assert (world.cancelled_occurrence.start, world.cancelled_occurrence.end, "CLB Robotics",
            "CANCELLED") in seen
    assert world.pending.start not in starts
    assert len([row for row in seen if row[2] == "Nhóm drone"]) == 2  # one still pending
    assert world.elsewhere.start not in starts


def test_school_feed_expands_to_every_space_of_the_school(world, school, other_space, teacher,
                                                         other_manager):
    at_other_school = booking_create(actor=other_manager, space=other_space, title="Tin học 12",
                                     start=world.single.start, end=world.single.end)

    seen = occurrences(get(f"/ical/schools/{school.slug}.ics").content)

    assert seen == public_expected(school=school)
    assert (world.elsewhere.start, world.elsewhere.end, "Hóa học 10A2", "CONFIRMED") in seen
    assert not any(summary == at_other_school.title for _s, _e, summary, _st in seen)


def test_private_feed_expands_to_the_users_own_bookings(world, student, teacher):
    student_seen = occurrences(get(f"/ical/users/{student.feed_token}.ics").content)
    teacher_seen = occurrences(get(f"/ical/users/{teacher.feed_token}.ics").content)

    assert student_seen == private_expected(student)
    assert (world.pending.start, world.pending.end, world.pending.title, "TENTATIVE") in student_seen
    assert [row[3] for row in sorted(student_seen) if row[2] == "Nhóm drone"] == [
        "CONFIRMED", "CONFIRMED", "TENTATIVE"]
    assert not any(row[2] == world.rejected.title for row in student_seen)
    assert teacher_seen == private_expected(teacher)
    assert not any(row[2] == "Nhóm drone" for row in teacher_seen)


def test_series_whose_first_occurrence_is_closed_starts_with_an_exdate(school, space, manager,
                                                                      teacher):
    monday = weekday_ahead(0)
    closure_create(actor=manager, school=school, start_date=monday, end_date=monday,
                   reason="Nghỉ bù")
    result = series_create(actor=teacher, space=space, title="Toán chuyên",
                           rrule="FREQ=DAILY;COUNT=5", start=at(monday, "07:00"),
                           end=at(monday, "09:00"))
    assert len(result.created) == 4

    body = get(f"/ical/spaces/{space.pk}.ics").content

    assert occurrences(body) == public_expected(space=space)
    master = events_by_uid(body)[f"series-{result.series.uid}@stemspace"][0]
    assert master["DTSTART"] == master["EXDATE"] == f"{monday:%Y%m%d}T070000"


def test_series_whose_start_is_not_an_occurrence_starts_at_its_first_one(space, teacher):
    monday = weekday_ahead(0)
    # Monday is no Tuesday: python-dateutil (the service) begins on the Tuesday, while
    # RFC 5545 would count DTSTART itself as an occurrence.
    result = series_create(actor=teacher, space=space, title="CLB Sinh học",
                           rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=2", start=at(monday, "07:00"),
                           end=at(monday, "08:00"))

    body = get(f"/ical/spaces/{space.pk}.ics").content

    assert occurrences(body) == public_expected(space=space)
    assert len(occurrences(body)) == len(result.created) == 2
    # The `ical` parser expands like dateutil; Google and Apple follow the RFC, so DTSTART
    # itself must be the first occurrence.
    master = events_by_uid(body)[f"series-{result.series.uid}@stemspace"][0]
    assert master["DTSTART"] == f"{result.created[0].start.astimezone(VN):%Y%m%dT%H%M%S}"
    assert "EXDATE" not in master


def test_cancelled_series_stays_as_cancelled_occurrences(space, teacher):
    tuesday = weekday_ahead(1)
    result = series_create(actor=teacher, space=space, title="CLB Thiên văn",
                           rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=3", start=at(tuesday, "16:00"),
                           end=at(tuesday, "17:00"))
    series_cancel(actor=teacher, series=result.series, reason="Hết kinh phí")

    body = get(f"/ical/spaces/{space.pk}.ics").content

    assert {row[3] for row in occurrences(body)} == {"CANCELLED"}
    assert occurrences(body) == public_expected(space=space)
    assert len(events_by_uid(body)[f"series-{result.series.uid}@stemspace"]) == 1


def test_series_started_before_the_window_keeps_its_past_and_drops_past_cancellations(
        space, teacher):
    tuesday = weekday_ahead(1)
    result = series_create(actor=teacher, space=space, title="CLB Tiếng Anh",
                           rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=10", start=at(tuesday, "10:00"),
                           end=at(tuesday, "11:00"))
    booking_cancel(actor=teacher, booking=result.created[1])
    # Time passes: the series now began eight weeks ago (its second occurrence is past).
    shift = datetime.timedelta(weeks=8)
    Series.objects.filter(pk=result.series.pk).update(start=F("start") - shift,
                                                      end=F("end") - shift)
    # Earliest first, row by row: PostgreSQL checks one-booking-per-occurrence per row.
    for booking in Booking.objects.filter(series=result.series).order_by("start"):
        Booking.objects.filter(pk=booking.pk).update(
            start=F("start") - shift, end=F("end") - shift,
            recurrence_id=F("recurrence_id") - shift)

    body = get(f"/ical/spaces/{space.pk}.ics").content

    seen = occurrences(body)
    assert seen == public_expected(space=space)
    assert len(seen) == 9
    assert "CANCELLED" not in {row[3] for row in seen}
    master = events_by_uid(body)[f"series-{result.series.uid}@stemspace"][0]
    assert master["EXDATE"] == f"{result.created[1].start.astimezone(VN) - shift:%Y%m%dT%H%M%S}"


def test_feed_shows_a_window_from_thirty_days_ago_to_a_year_ahead(school, teacher):
    space = f.space(school, name="Phòng đa năng", max_days_ahead=730)
    now = timezone.now()

    def book(title: str, days: int, *, cancel: bool = False) -> Booking:
        start = at(weekday_ahead(2, weeks=days // 7), "09:00")
        # The rules refuse the past: book as if on a day before it.
        booking = booking_create(actor=teacher, space=space, title=title, start=start,
                                 end=start + datetime.timedelta(hours=1),
                                 now=min(now, start - datetime.timedelta(days=1)))
        if cancel:
            booking_cancel(actor=teacher, booking=booking)
        return booking

    book("Quá cũ", -42)
    book("Tuần trước", -7)
    book("Đã hủy, đã qua", -7 * 2, cancel=True)
    book("Năm sau nữa", 7 * 55)
    book("Tháng sau", 30)

    summaries = {row[2] for row in occurrences(get(f"/ical/spaces/{space.pk}.ics").content)}

    assert summaries == {"Tuần trước", "Tháng sau"}


# --- the bytes calendar apps need --------------------------------------------------------------

@pytest.mark.parametrize("which", ["space", "school", "user"])
def test_feed_bytes_are_what_calendar_apps_accept(world, space, school, teacher, which):
    path = dict(zip(["space", "school", "user"], feed_paths(space, school, teacher),
                    strict=True))[which]

    response = get(path)

    body = response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert body.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in lines(body))
    props = unfolded(body)
    for line in ["BEGIN:VCALENDAR", "VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
                 "X-WR-TIMEZONE:Asia/Ho_Chi_Minh", "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
                 "X-PUBLISHED-TTL:PT1H"]:
        assert line in props
    for name in ["PRODID:", "NAME:", "X-WR-CALNAME:", "DESCRIPTION:", "X-WR-CALDESC:"]:
        assert any(line.startswith(name) for line in props[:props.index("BEGIN:VTIMEZONE")])
    assert props.count("BEGIN:VTIMEZONE") == 1 and "TZID:Asia/Ho_Chi_Minh" in props
    assert props.count("BEGIN:STANDARD") == 1 and "BEGIN:DAYLIGHT" not in props
    assert props.index("END:VTIMEZONE") < props.index("BEGIN:VEVENT")
    assert b"TZID=UTC" not in body and b"TZID=Etc" not in body

    now = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    events = [event for group in events_by_uid(body).values() for event in group]
    assert events
    for event in events:
        assert {"UID", "DTSTAMP", "LAST-MODIFIED", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY",
                "LOCATION", "STATUS"} <= event.keys()
        assert event["DTSTAMP"].endswith("Z") and event["DTSTAMP"] <= now
        assert event["LOCATION"] == f"{space.name}\\, {school.name}" or which != "space"
    dated = [line for line in props if line.split(":")[0].split(";")[0]
             in ("DTSTART", "DTEND", "EXDATE", "RECURRENCE-ID") and "T" in line.split(":")[1]]
    in_events = dated[1:]  # the first is the VTIMEZONE's own DTSTART
    assert in_events and all(";TZID=Asia/Ho_Chi_Minh:" in line for line in in_events)
    for rule in [line for line in props if line.startswith("RRULE:")]:
        assert rule.startswith("RRULE:FREQ=")
        assert "UNTIL" not in rule or rule.split("UNTIL=")[1].split(";")[0].endswith("Z")


def test_series_is_one_master_with_exdates_and_overrides(world, space):
    body = get(f"/ical/spaces/{space.pk}.ics").content

    group = events_by_uid(body)[f"series-{world.series.uid}@stemspace"]
    master, *overrides = group
    assert "RRULE" in master and "RECURRENCE-ID" not in master
    assert master["DTSTART"] == f"{world.series.start.astimezone(VN):%Y%m%dT%H%M%S}"
    assert master["EXDATE"] == f"{world.skipped_start:%Y%m%dT%H%M%S}"
    assert {event["RECURRENCE-ID"] for event in overrides} == {
        f"{world.moved.recurrence_id.astimezone(VN):%Y%m%dT%H%M%S}",
        f"{world.cancelled_occurrence.recurrence_id.astimezone(VN):%Y%m%dT%H%M%S}"}
    assert all(int(event["SEQUENCE"]) >= int(master["SEQUENCE"]) for event in overrides)
    # The student's half-approved series: the occurrence still pending is no public news.
    drone = events_by_uid(body)[f"series-{world.student_series.uid}@stemspace"]
    assert len(drone) == 1 and "EXDATE" in drone[0]


def test_unknown_space_school_or_token_is_404(db, space):
    assert get(f"/ical/spaces/{space.pk + 1000}.ics").status_code == 404
    assert get("/ical/schools/no-such-school.ics").status_code == 404
    assert get("/ical/users/not-a-real-token-0123456789abcdefghijklmnop.ics").status_code == 404


def test_reset_token_makes_the_old_address_404(world, student):
    old = f"/ical/users/{student.feed_token}.ics"
    assert get(old).status_code == 200

    new = student.reset_feed_token()

    assert get(old).status_code == 404
    assert get(f"/ical/users/{new}.ics").status_code == 200


def test_public_feeds_never_name_students_or_organisers(world, space, school, manager, student,
                                                       teacher):
    booking_approve(actor=manager, booking=world.pending)
    for path in feed_paths(space, school, student)[:2]:
        body = get(path).content.decode()
        assert world.pending.title in body  # approved now: shown, but not who asked
        for name in (student.username, student.full_name, teacher.username, teacher.full_name):
            assert name not in body
        assert "ORGANIZER" not in body and "ATTENDEE" not in body and "CONTACT" not in body
        assert world.rejected.title not in body


def test_descriptions_only_in_the_organisers_own_feed(space, school, teacher):
    wednesday = weekday_ahead(2)
    booking_create(actor=teacher, space=space, title="Thực hành Sinh 11A3",
                   description="Mang kính hiển vi; gọi cô Lan trước", start=at(wednesday, "09:00"),
                   end=at(wednesday, "10:00"))

    public = get(f"/ical/spaces/{space.pk}.ics").content.decode()
    private = unfolded(get(f"/ical/users/{teacher.feed_token}.ics").content)

    assert "kính hiển vi" not in public
    assert "DESCRIPTION:Mang kính hiển vi\\; gọi cô Lan trước" in private


def test_pending_request_cancelled_never_shows_publicly(space, school, manager, student):
    wednesday = weekday_ahead(2)
    never_approved = booking_create(actor=student, space=space, title="Yêu cầu đã rút",
                                    start=at(wednesday, "09:00"), end=at(wednesday, "10:00"))
    booking_cancel(actor=student, booking=never_approved)
    approved_first = booking_create(actor=student, space=space, title="Buổi đã duyệt rồi hủy",
                                    start=at(wednesday, "11:00"), end=at(wednesday, "12:00"))
    booking_approve(actor=manager, booking=approved_first)
    booking_cancel(actor=student, booking=approved_first)

    seen = occurrences(get(f"/ical/spaces/{space.pk}.ics").content)
    mine = occurrences(get(f"/ical/users/{student.feed_token}.ics").content)

    assert {row[2:] for row in seen} == {("Buổi đã duyệt rồi hủy", "CANCELLED")}
    assert {row[2:] for row in mine} == {("Yêu cầu đã rút", "CANCELLED"),
                                         ("Buổi đã duyệt rồi hủy", "CANCELLED")}


# --- caching and change ------------------------------------------------------------------------

def last_changed_an_hour_ago() -> None:
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    Booking.objects.update(updated_at=an_hour_ago)
    Series.objects.update(updated_at=an_hour_ago)


def test_etag_and_last_modified_make_a_conditional_get_304(world, space, school, teacher):
    last_changed_an_hour_ago()
    for path in feed_paths(space, school, teacher):
        first = get(path)
        assert first.status_code == 200 and first["ETag"].startswith('"')
        assert first["Last-Modified"] == http_date(Booking.objects.latest("updated_at")
                                                   .updated_at.timestamp())

        again = get(path, if_none_match=first["ETag"])
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == first["ETag"]
        assert get(path, if_modified_since=first["Last-Modified"]).status_code == 304
        assert get(path, if_none_match='"something-else"').status_code == 200


def test_a_change_makes_conditional_gets_200_again(world, space, teacher):
    last_changed_an_hour_ago()
    path = f"/ical/spaces/{space.pk}.ics"
    first = get(path)

    booking_update(actor=teacher, booking=world.single, title="Thực hành Vật lý 11A2")

    changed = get(path, if_none_match=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert get(path, if_modified_since=first["Last-Modified"]).status_code == 200
    assert get(path, if_none_match=changed["ETag"]).status_code == 304


def test_uid_is_stable_and_sequence_grows_with_each_change(world, space, teacher):
    path = f"/ical/spaces/{space.pk}.ics"
    single_uid = f"booking-{world.single.uid}@stemspace"
    series_uid = f"series-{world.series.uid}@stemspace"
    before = events_by_uid(get(path).content)
    assert get(path).content == get(path).content  # nothing random per render

    booking_update(actor=teacher, booking=world.single, end=world.single.end
                   + datetime.timedelta(minutes=30))
    series_update(actor=teacher, series=world.series, title="CLB Robotics nâng cao")

    after = events_by_uid(get(path).content)
    assert int(after[single_uid][0]["SEQUENCE"]) == int(before[single_uid][0]["SEQUENCE"]) + 1
    assert after[single_uid][0]["LAST-MODIFIED"] >= before[single_uid][0]["LAST-MODIFIED"]
    assert after[series_uid][0]["SUMMARY"] == "CLB Robotics nâng cao"
    assert int(after[series_uid][0]["SEQUENCE"]) > int(before[series_uid][0]["SEQUENCE"])
    assert occurrences(get(path).content) == public_expected(space=space)


def test_only_get_and_head(world, space):
    path = f"/ical/spaces/{space.pk}.ics"
    assert Client().head(path).status_code == 200
    assert Client().post(path).status_code == 405


# --- a fixed number of queries ------------------------------------------------------------------

def grow(space: Any, teacher: Any, student: Any, manager: Any, weeks: range) -> None:
    """Per week: a teacher's series of two days, and a student's booking (half approved)."""
    for week in weeks:
        day = weekday_ahead(4, weeks=week + 1)
        series_create(actor=teacher, space=space, title=f"CLB {week}", rrule="FREQ=DAILY;COUNT=2",
                      start=at(day, "07:00"), end=at(day, "08:00"))
        booking = booking_create(actor=student, space=space, title=f"Dự án {week}",
                                 start=at(day, "10:00"), end=at(day, "11:00"))
        if week % 2:
            booking_approve(actor=manager, booking=booking)


@pytest.mark.parametrize("which, queries", [("space", 3), ("school", 3), ("user", 3)])
def test_feed_makes_a_fixed_number_of_queries(space, school, teacher, student, manager,
                                              django_assert_num_queries, which, queries):
    path = dict(zip(["space", "school", "user"], feed_paths(space, school, student),
                    strict=True))[which]
    grow(space, teacher, student, manager, weeks=range(1))
    with django_assert_num_queries(queries):
        small = get(path)
    grow(space, teacher, student, manager, weeks=range(1, 8))
    with django_assert_num_queries(queries):
        large = get(path)
    assert len(large.content) > len(small.content)


def test_revalidation_and_repeats_do_not_render_the_feed(space, school, teacher, student,
                                                         manager, django_assert_num_queries):
    """Calendar apps poll hourly: the version is one aggregate query, the body is cached."""
    grow(space, teacher, student, manager, weeks=range(3))
    path = f"/ical/spaces/{space.pk}.ics"
    first = get(path)
    with django_assert_num_queries(2):  # the space, the version: no rendering
        again = get(path, If_None_Match=first["ETag"])
    assert again.status_code == 304
    with django_assert_num_queries(2):  # the body comes from the cache
        repeat = get(path)
    assert repeat.content == first.content and repeat["ETag"] == first["ETag"]
    booking_create(actor=teacher, space=space, title="Mới", start=at(weekday_ahead(1), "15:00"),
                   end=at(weekday_ahead(1), "16:00"))
    changed = get(path, If_None_Match=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    assert "SUMMARY:Mới".encode() in changed.content
