"""Vietnam's public holidays and the school Tết break, as closures of whole schools.

The dates come from the maintained `holidays` library (DESIGN.md: lunar holidays are
not a hand-written list); this module only groups them into date ranges and writes
them through `closure_create`. Reasons are the library's Vietnamese names: they are
data shown as is, like a reason a manager types, not strings to translate.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import holidays
from django.db import transaction
from django.utils.translation import gettext as _
from holidays.calendars import _ChineseLunisolar
from holidays.calendars.chinese import VIETNAMESE_CALENDAR

from bookings.models import Booking, Closure, ClosureSource
from bookings.services import bookings_during, closure_create
from spaces.models import School

# The Department of Education announces each year's break; these are the usual
# week before (from 23 tháng Chạp, ông Công ông Táo) and week after Mùng một.
TET_BREAK_BEFORE = 7
TET_BREAK_AFTER = 7
TET_BREAK_REASON = "Nghỉ Tết Nguyên Đán"

# The library's lunar tables cover these years only.
FIRST_YEAR = 1901
LAST_YEAR = 2100

ONE_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class HolidaySpan:
    """Consecutive closed days for one reason: one closure per school."""

    start_date: datetime.date
    end_date: datetime.date
    reason: str
    source: str = ClosureSource.HOLIDAY

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(_("Vietnam's holidays are known for the years %(first)d–%(last)d only.")
                         % {"first": FIRST_YEAR, "last": LAST_YEAR})


def lunar_new_year(year: int) -> datetime.date:
    """Mùng một Tết in `year`, by the Vietnamese lunar calendar (UTC+7).

    It differs from the Chinese one in some years (2007, 2030), so this asks the same
    calendar the library's Vietnam holidays are computed with (underscored, though
    exported from holidays.calendars: tests pin 2027's Tết, so an upgrade that moves
    it fails loudly).
    """
    check_year(year)
    day, _estimate = _ChineseLunisolar(VIETNAMESE_CALENDAR).lunar_new_year_date(year)
    if day is None:  # pragma: no cover - check_year keeps us inside the tables
        raise ValueError(f"No lunar new year for {year}")
    return day


def _runs(days: Iterable[datetime.date]) -> list[tuple[datetime.date, datetime.date]]:
    """Days, in any order → (first, last) of each run of consecutive days, in order."""
    ordered = sorted(set(days))
    runs: list[tuple[datetime.date, datetime.date]] = []
    for day in ordered:
        if runs and runs[-1][1] + ONE_DAY == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def public_holidays(year: int) -> list[HolidaySpan]:
    """The year's public holidays, consecutive days of one holiday grouped into one span.

    Tết's days carry different names (29 Tết, Giao thừa, Mùng hai…): every holiday in
    the run of days around Mùng một is Tết. A day off in lieu ("… (nghỉ bù)") belongs
    to the holiday it makes up for, and joins it when the two are consecutive.
    """
    check_year(year)
    calendar = holidays.country_holidays("VN", years=year, language="vi")
    named = holidays.country_holidays("VN", years=year, language="vi", observed=False)
    base_names = sorted({name for day in named for name in named.get_list(day)},
                        key=len, reverse=True)

    def holiday_of(name: str) -> str:
        return next((base for base in base_names if name.startswith(f"{base} (")), name)

    new_year = lunar_new_year(year)
    tet_name = calendar.get_list(new_year)[0]
    tet_days = next((set(_dates(first, last)) for first, last in _runs(calendar)
                     if first <= new_year <= last), set())

    days_by_holiday: dict[str, dict[datetime.date, str]] = {}
    for day in calendar:
        names = [tet_name] if day in tet_days else calendar.get_list(day)
        for name in names:
            days_by_holiday.setdefault(holiday_of(name), {})[day] = name
    spans = []
    for holiday, names_by_day in days_by_holiday.items():
        for first, last in _runs(names_by_day):
            names = [names_by_day[day] for day in _dates(first, last)]
            # A day off in lieu on its own keeps its name: "(nghỉ bù)" says why that day.
            spans.append(HolidaySpan(first, last, holiday if holiday in names else names[0]))
    return sorted(spans, key=lambda span: (span.start_date, span.end_date, span.reason))


def _dates(first: datetime.date, last: datetime.date) -> Iterable[datetime.date]:
    return (first + ONE_DAY * offset for offset in range((last - first).days + 1))


def tet_break(year: int, *, before: int = TET_BREAK_BEFORE, after: int = TET_BREAK_AFTER
              ) -> HolidaySpan:
    """The students' Tết break: `before` days before Mùng một to `after` days after it."""
    if before < 0 or after < 0:
        raise ValueError(_("The Tết break cannot start after or end before Mùng một."))
    new_year = lunar_new_year(year)
    return HolidaySpan(new_year - ONE_DAY * before, new_year + ONE_DAY * after,
                       TET_BREAK_REASON, ClosureSource.SCHOOL_BREAK)


def explicit_tet_break(start_date: datetime.date, end_date: datetime.date) -> HolidaySpan:
    """A break as the Department announced it; it must contain Mùng một."""
    if end_date < start_date:
        raise ValueError(_("The Tết break cannot end before it starts."))
    if not any(start_date <= lunar_new_year(year) <= end_date
               for year in {start_date.year, end_date.year}):
        raise ValueError(_("%(first)s–%(last)s does not contain Tết: Mùng một is %(new_year)s.")
                         % {"first": f"{start_date:%d/%m/%Y}", "last": f"{end_date:%d/%m/%Y}",
                            "new_year": f"{lunar_new_year(end_date.year):%d/%m/%Y}"})
    return HolidaySpan(start_date, end_date, TET_BREAK_REASON, ClosureSource.SCHOOL_BREAK)


def school_closures(years: Iterable[int], *, tet_break_before: int = TET_BREAK_BEFORE,
                    tet_break_after: int = TET_BREAK_AFTER,
                    tet_breaks: Sequence[HolidaySpan] = (), with_tet_break: bool = True,
                    between: tuple[datetime.date, datetime.date] | None = None,
                    ) -> list[HolidaySpan]:
    """Public holidays and the Tết break of each year, optionally only those `between`
    two days (e.g. a school year).

    An explicit break in `tet_breaks` replaces the computed one of the year whose Tết
    it contains; the others are `tet_break_before`/`tet_break_after` days around Mùng một.
    """
    years = sorted(set(years))
    spans: list[HolidaySpan] = []
    used: set[HolidaySpan] = set()
    for year in years:
        spans += public_holidays(year)
        if not with_tet_break:
            continue
        new_year = lunar_new_year(year)
        given = [span for span in tet_breaks if span.start_date <= new_year <= span.end_date]
        used.update(given)
        spans += given or [tet_break(year, before=tet_break_before, after=tet_break_after)]
    if with_tet_break and (unused := [span for span in tet_breaks if span not in used]):
        raise ValueError(_("The Tết break %(first)s–%(last)s is not in %(years)s.")
                         % {"first": f"{unused[0].start_date:%d/%m/%Y}",
                            "last": f"{unused[0].end_date:%d/%m/%Y}",
                            "years": ", ".join(map(str, years))})
    if between is not None:
        first_day, last_day = between
        spans = [span for span in spans
                 if span.start_date <= last_day and span.end_date >= first_day]
    return sorted(spans, key=lambda span: (span.start_date, span.end_date, span.source))


def school_year(first_year: int) -> tuple[datetime.date, datetime.date]:
    """The school year that starts in September of `first_year` and ends in May."""
    return datetime.date(first_year, 9, 1), datetime.date(first_year + 1, 5, 31)


def current_school_year(today: datetime.date) -> int:
    """The first year of the school year that today belongs to; from June on, the coming
    one (summer is when the next year's calendar is set up)."""
    return today.year if today.month >= 6 else today.year - 1


@dataclass
class LoadedClosure:
    """One span at one school: created now, or found already there."""

    school: School
    span: HolidaySpan
    created: bool
    closure: Closure | None = None
    affected: list[Booking] = field(default_factory=list)
    cancelled: bool = False


def load_closures(*, schools: Iterable[School], spans: Sequence[HolidaySpan],
                  cancel_bookings: bool = False, dry_run: bool = False) -> list[LoadedClosure]:
    """Close every school on every span, as the system (actor None), once.

    A span is already loaded when the school has a whole-school closure with the same
    dates and source; running again creates nothing. Bookings falling on a new closure
    are returned, and cancelled (their organisers told) only with `cancel_bookings`.
    A dry run writes nothing and reports what would happen.
    """
    schools = list(schools)
    if not spans or not schools:
        return []
    existing = set(Closure.objects.filter(
        school__in=schools, space__isnull=True,
        source__in={span.source for span in spans},
        start_date__gte=min(span.start_date for span in spans),
        end_date__lte=max(span.end_date for span in spans),
    ).values_list("school_id", "start_date", "end_date", "source"))

    results: list[LoadedClosure] = []
    with transaction.atomic():
        for school, span in itertools.product(schools, spans):
            if (school.pk, span.start_date, span.end_date, span.source) in existing:
                results.append(LoadedClosure(school, span, created=False))
                continue
            if dry_run:
                planned = Closure(school=school, start_date=span.start_date,
                                  end_date=span.end_date, reason=span.reason, source=span.source)
                affected = list(bookings_during(planned).select_related("organizer", "space"))
                results.append(LoadedClosure(school, span, created=True, affected=affected))
                continue
            closure, affected, cancelled = closure_create(
                actor=None, school=school, start_date=span.start_date, end_date=span.end_date,
                reason=span.reason, source=span.source, cancel_bookings=cancel_bookings)
            existing.add((school.pk, span.start_date, span.end_date, span.source))
            results.append(LoadedClosure(school, span, created=True, closure=closure,
                                         affected=affected, cancelled=cancelled))
    return results
