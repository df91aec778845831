"""Vietnam's public holidays and the Tết break as school closures: bookings/holidays.py
and `manage.py load_holidays`."""

from __future__ import annotations

import datetime
from io import StringIO

import holidays as holidays_library
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from bookings import holidays
from bookings.holidays import HolidaySpan
from bookings.models import Booking, BookingStatus, Closure, ClosureSource
from bookings.services import booking_create, closure_create
from spaces.errors import Invalid
from spaces.models import School
from tests import factories as f

TET_2027 = HolidaySpan(datetime.date(2027, 2, 4), datetime.date(2027, 2, 10), "Tết Nguyên Đán")
HUNG_KINGS_2027 = HolidaySpan(datetime.date(2027, 4, 16), datetime.date(2027, 4, 16),
                              "Ngày Giỗ Tổ Hùng Vương")


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_holidays", *args, stdout=out)
    return out.getvalue()


def closures(school: School, source: str | None = None) -> set[tuple]:
    rows = Closure.objects.filter(school=school)
    if source:
        rows = rows.filter(source=source)
    return set(rows.values_list("start_date", "end_date", "reason"))


def at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour),
                                     tzinfo=timezone.get_current_timezone())


# --- the holidays, from the library -----------------------------------------------------------

def test_lunar_new_year_2027_is_6_february():
    assert holidays.lunar_new_year(2027) == datetime.date(2027, 2, 6)
    # The Vietnamese calendar (UTC+7), not the Chinese one: they differ in 2030.
    assert holidays.lunar_new_year(2030) == datetime.date(2030, 2, 2)


def test_tet_2027_is_one_closure_from_29_tet_to_mung_5():
    spans = holidays.public_holidays(2027)

    assert TET_2027 in spans
    assert not [span for span in spans if span != TET_2027
                and span.start_date <= TET_2027.end_date and span.end_date >= TET_2027.start_date]


def test_hung_kings_day_2027_is_10_march_lunar():
    assert HUNG_KINGS_2027 in holidays.public_holidays(2027)


def test_fixed_holidays_stay_separate_closures():
    spans = {(span.start_date, span.reason) for span in holidays.public_holidays(2027)}

    assert {(datetime.date(2027, 1, 1), "Tết Dương lịch"),
            (datetime.date(2027, 4, 30), "Ngày Chiến thắng"),
            (datetime.date(2027, 5, 1), "Ngày Quốc tế Lao động"),
            (datetime.date(2027, 9, 2), "Quốc khánh")} <= spans


def test_consecutive_days_of_one_holiday_are_grouped():
    spans_2026 = holidays.public_holidays(2026)
    spans_2027 = holidays.public_holidays(2027)

    # Giỗ Tổ fell on a Sunday in 2026: the Monday in lieu joins it.
    assert HolidaySpan(datetime.date(2026, 4, 26), datetime.date(2026, 4, 27),
                       "Ngày Giỗ Tổ Hùng Vương") in spans_2026
    assert HolidaySpan(datetime.date(2027, 9, 2), datetime.date(2027, 9, 3),
                       "Quốc khánh") in spans_2027
    # 1/5/2027 is a Saturday; its day in lieu, Monday 3/5, stands alone and says why.
    assert HolidaySpan(datetime.date(2027, 5, 3), datetime.date(2027, 5, 3),
                       "Ngày Quốc tế Lao động (nghỉ bù)") in spans_2027


@pytest.mark.parametrize("year", [2007, 2024, 2025, 2026, 2027, 2030])
def test_every_day_the_library_knows_is_closed_once(year):
    library = holidays_library.country_holidays("VN", years=year)
    spans = holidays.public_holidays(year)
    days = [span.start_date + datetime.timedelta(days=offset)
            for span in spans for offset in range(span.days)]

    assert sorted(days) == sorted(library)
    assert {span.source for span in spans} == {ClosureSource.HOLIDAY}


def test_tet_break_spans_the_configured_days_around_mung_mot():
    default = holidays.tet_break(2027)
    custom = holidays.tet_break(2027, before=3, after=10)

    assert (default.start_date, default.end_date) == (datetime.date(2027, 1, 30),
                                                      datetime.date(2027, 2, 13))
    assert (custom.start_date, custom.end_date) == (datetime.date(2027, 2, 3),
                                                    datetime.date(2027, 2, 16))
    assert custom.source == ClosureSource.SCHOOL_BREAK
    assert custom.reason == "Nghỉ Tết Nguyên Đán"


def test_school_year_runs_september_to_may():
    spans = holidays.school_closures([2026, 2027], between=holidays.school_year(2026))

    assert spans[0] == HolidaySpan(datetime.date(2026, 9, 1), datetime.date(2026, 9, 2),
                                   "Quốc khánh")
    assert spans[-1].start_date == datetime.date(2027, 5, 3)
    assert TET_2027 in spans
    # One Tết break: 2027's, not the one of February 2026 before the year began.
    assert [span.start_date for span in spans if span.source == ClosureSource.SCHOOL_BREAK] == [
        datetime.date(2027, 1, 30)]


@pytest.mark.parametrize(("today", "first_year"), [
    (datetime.date(2026, 11, 26), 2026), (datetime.date(2027, 3, 1), 2026),
    (datetime.date(2027, 5, 31), 2026), (datetime.date(2027, 7, 15), 2027),
])
def test_current_school_year(today, first_year):
    assert holidays.current_school_year(today) == first_year


# --- the command ------------------------------------------------------------------------------

def test_it_closes_every_school_on_2027s_holidays(school, other_school):
    load("--year", "2027")

    for each in (school, other_school):
        holiday = closures(each, ClosureSource.HOLIDAY)
        assert (TET_2027.start_date, TET_2027.end_date, TET_2027.reason) in holiday
        assert (HUNG_KINGS_2027.start_date, HUNG_KINGS_2027.end_date,
                HUNG_KINGS_2027.reason) in holiday
        assert closures(each, ClosureSource.SCHOOL_BREAK) == {
            (datetime.date(2027, 1, 30), datetime.date(2027, 2, 13), "Nghỉ Tết Nguyên Đán")}
    rows = Closure.objects.all()
    assert rows.count() == 2 * len(holidays.school_closures([2027]))
    assert not rows.filter(space__isnull=False).exists()
    assert not rows.filter(created_by__isnull=False).exists()


def test_tet_break_days_come_from_the_options(school):
    load("--year", "2027", "--tet-break-before", "2", "--tet-break-after", "12")

    assert closures(school, ClosureSource.SCHOOL_BREAK) == {
        (datetime.date(2027, 2, 4), datetime.date(2027, 2, 18), "Nghỉ Tết Nguyên Đán")}


def test_an_announced_tet_break_replaces_the_computed_one(school):
    load("--year", "2026", "2027", "--tet-break", "2027-01-25:2027-02-21")

    assert closures(school, ClosureSource.SCHOOL_BREAK) == {
        (datetime.date(2026, 2, 10), datetime.date(2026, 2, 24), "Nghỉ Tết Nguyên Đán"),
        (datetime.date(2027, 1, 25), datetime.date(2027, 2, 21), "Nghỉ Tết Nguyên Đán")}


def test_no_tet_break_loads_public_holidays_only(school):
    load("--year", "2027", "--no-tet-break")

    assert not closures(school, ClosureSource.SCHOOL_BREAK)
    assert closures(school, ClosureSource.HOLIDAY)


@pytest.mark.parametrize("args", [
    ["--year", "2027", "--tet-break", "2027-03-01:2027-03-10"],  # not around Tết
    ["--year", "2027", "--tet-break", "2027-02-10:2027-02-01"],  # ends before it starts
    ["--year", "2027", "--tet-break", "30/01/2027"],
    ["--year", "2026", "--tet-break", "2027-01-30:2027-02-14"],  # another year's Tết
    ["--year", "2027", "--tet-break-before", "-1"],
    ["--year", "2300"],
    ["--school-year", "next"],
    ["--year", "2027", "--school", "xyz"],
    [],
])
def test_it_refuses_bad_options(school, args):
    with pytest.raises(CommandError):
        load(*args)
    assert not Closure.objects.exists()


def test_running_twice_creates_nothing_new(school, other_school):
    load("--year", "2027")
    before = list(Closure.objects.order_by("pk").values_list("pk", flat=True))

    out = load("--year", "2027")

    assert list(Closure.objects.order_by("pk").values_list("pk", flat=True)) == before
    assert f"Đã tạo 0 lịch nghỉ, {len(before)} lịch nghỉ đã có" in out


def test_a_changed_tet_break_is_added_the_rest_is_skipped(school):
    load("--year", "2027")

    load("--year", "2027", "--tet-break-after", "9")

    assert len(closures(school, ClosureSource.SCHOOL_BREAK)) == 2
    assert len(closures(school, ClosureSource.HOLIDAY)) == len(holidays.public_holidays(2027))


def test_a_manual_closure_on_the_same_days_is_not_the_holiday(school, space, manager):
    closure_create(actor=manager, school=school, start_date=HUNG_KINGS_2027.start_date,
                   end_date=HUNG_KINGS_2027.end_date, reason="Sửa điện")
    closure_create(actor=manager, school=school, space=space, start_date=TET_2027.start_date,
                   end_date=TET_2027.end_date, reason="Tết", source=ClosureSource.HOLIDAY)

    load("--year", "2027")

    holiday = closures(school, ClosureSource.HOLIDAY)
    assert (HUNG_KINGS_2027.start_date, HUNG_KINGS_2027.end_date, HUNG_KINGS_2027.reason) in holiday
    assert Closure.objects.filter(school=school, space__isnull=True,
                                  start_date=TET_2027.start_date).count() == 1


def test_school_option_limits_the_schools(school, other_school):
    third = f.school(slug="tm", name="THPT Tháp Mười")

    load("--year", "2027", "--school", "nqd", "tm")

    assert not Closure.objects.filter(school=school).exists()
    assert closures(other_school) == closures(third) != set()


def test_dry_run_writes_nothing(school, other_school):
    out = load("--year", "2027", "--dry-run")

    assert not Closure.objects.exists()
    assert "04/02/2027–10/02/2027 Tết Nguyên Đán" in out
    assert "16/04/2027–16/04/2027 Ngày Giỗ Tổ Hùng Vương" in out


def test_school_year_option(school):
    load("--school-year", "2026")

    days = sorted(start for start, _end, _reason in closures(school))
    assert days[0] == datetime.date(2026, 9, 1)
    assert days[-1] == datetime.date(2027, 5, 3)


def test_quiet_run_prints_only_the_summary(school):
    out = StringIO()
    call_command("load_holidays", "--year", "2027", verbosity=0, stdout=out)

    assert out.getvalue().count("\n") == 1


# --- bookings on a new closure ----------------------------------------------------------------

@pytest.fixture
def booking_on_hung_kings_day(space):
    """A class on Friday 16/4/2027, booked a week before (before anyone loaded the year)."""
    teacher = f.user("teacher.mail", role="teacher", school=space.school,
                     email="gv.mail@example.vn")
    day = HUNG_KINGS_2027.start_date
    return booking_create(actor=teacher, space=space, title="CLB Robotics", start=at(day, 8),
                          end=at(day, 10), now=at(day - datetime.timedelta(days=7), 8))


def test_a_booking_on_a_new_holiday_is_listed_and_kept(booking_on_hung_kings_day, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out = load("--year", "2027")

    booking_on_hung_kings_day.refresh_from_db()
    assert booking_on_hung_kings_day.status == BookingStatus.APPROVED
    assert "CLB Robotics" in out and "16/04/2027 08:00" in out
    assert mailoutbox == []


def test_a_dry_run_lists_the_booking_too(booking_on_hung_kings_day):
    out = load("--year", "2027", "--dry-run")

    assert "CLB Robotics" in out
    assert not Closure.objects.exists()


def test_cancel_bookings_cancels_it_and_tells_the_organiser(
        booking_on_hung_kings_day, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out = load("--year", "2027", "--cancel-bookings")

    booking = Booking.objects.get(pk=booking_on_hung_kings_day.pk)
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancelled_by is None
    assert "Ngày Giỗ Tổ Hùng Vương" in booking.cancel_reason
    assert "CLB Robotics" in out
    assert [message.to for message in mailoutbox] == [["gv.mail@example.vn"]]


def test_a_holiday_closure_blocks_new_bookings(school, space, teacher):
    load("--year", "2027", "--school", "ndc")
    day = TET_2027.start_date + datetime.timedelta(days=4)  # Monday, Mùng ba

    with pytest.raises(Invalid):
        booking_create(actor=teacher, space=space, title="Học bù", start=at(day, 8),
                       end=at(day, 10), now=at(day - datetime.timedelta(days=30), 8))


# --- demo data --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_seed_demo_loads_the_current_school_year_once():
    call_command("seed_demo", stdout=StringIO())
    loaded = list(Closure.objects.order_by("pk").values_list("school__slug", "start_date",
                                                             "end_date", "source"))
    call_command("seed_demo", stdout=StringIO())

    assert list(Closure.objects.order_by("pk").values_list(
        "school__slug", "start_date", "end_date", "source")) == loaded
    first_year = holidays.current_school_year(timezone.localdate())
    new_year = holidays.lunar_new_year(first_year + 1)
    for slug in ("ndc", "nqd", "tm"):
        breaks = [row for row in loaded if row[0] == slug and row[3] == ClosureSource.SCHOOL_BREAK]
        assert [(start, end) for _slug, start, end, _source in breaks] == [
            (new_year - datetime.timedelta(days=7), new_year + datetime.timedelta(days=7))]
        assert all(datetime.date(first_year, 9, 1) <= start <= datetime.date(first_year + 1, 5, 31)
                   for row_slug, start, _end, _source in loaded if row_slug == slug)
