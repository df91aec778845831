"""Week calendars: one space (days × times, periods marked, closures shaded, bookings as
blocks) and a school's overview (its spaces side by side).

The grid is a plain table: one row per stretch of time between two boundaries (every half
hour, every period's start and end, every booking's start and end), a booking one cell
spanning its rows. No inline style, no JavaScript: it prints and works on an old browser.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.views.decorators.http import require_safe

from accounts.models import Role, User
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus, Closure
from bookings.selectors import may_see
from bookings.services import closures_for
from spaces.models import OpeningHours, Period, School, Space
from spaces.services import periods_for_days

DEFAULT_OPENS = datetime.time(7, 0)
DEFAULT_CLOSES = datetime.time(17, 30)
STEP = datetime.timedelta(minutes=30)
WEEK_RE = re.compile(r"^(\d{4})-W(\d{1,2})$")


# Which week ----------------------------------------------------------------------------------

def monday_of(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def parse_day(text: str | None) -> datetime.date | None:
    """YYYY-MM-DD (what <input type=date> sends) or dd/mm/yyyy (what people type)."""
    if not text:
        return None
    try:
        return parse_date(text) or datetime.datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        return None


def week_of(request: HttpRequest) -> datetime.date:
    """The Monday of ?week=YYYY-Www, else of ?date=, else of this week."""
    match = WEEK_RE.match(request.GET.get("week", ""))
    if match:
        try:
            return datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            pass
    return monday_of(parse_day(request.GET.get("date")) or timezone.localdate())


def week_param(monday: datetime.date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def week_nav(monday: datetime.date) -> dict[str, str]:
    return {"previous": week_param(monday - datetime.timedelta(days=7)),
            "next": week_param(monday + datetime.timedelta(days=7)),
            "this": week_param(monday_of(timezone.localdate()))}


def week_url(space_id: int, day: datetime.date) -> str:
    return f"{reverse('space-week', args=[space_id])}?week={week_param(monday_of(day))}"


def local_bounds(monday: datetime.date, days: int = 7) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    return (datetime.datetime.combine(monday, datetime.time.min, tzinfo=tz),
            datetime.datetime.combine(monday + datetime.timedelta(days=days), datetime.time.min,
                                      tzinfo=tz))


# Who sees what -------------------------------------------------------------------------------

def sees_organisers(user: User | AnonymousUser, school_id: int) -> bool:
    """Organisers' names (often students') only to the school's managers and teachers."""
    if not isinstance(user, User):
        return False
    return user.manages_school(school_id) or (user.role == Role.TEACHER
                                              and user.school_id == school_id)


def shown_bookings(user: User | AnonymousUser) -> Q:
    """Visitors see approved bookings; signed-in people also the pending requests, since
    those hold their slot too — by title only where they may see the booking (`Block.title`)."""
    if isinstance(user, User):
        return Q(status__in=ACTIVE_STATUSES)
    return Q(status=BookingStatus.APPROVED)


@dataclass
class Block:
    booking: Booking
    start: datetime.datetime  # local, clamped to its day
    end: datetime.datetime
    organiser: str  # empty when this viewer may not see it
    title: str  # empty for someone else's request this viewer may not see (the slot is taken)

    @property
    def is_pending(self) -> bool:
        return self.booking.status == BookingStatus.PENDING


def blocks_by_day(bookings: list[Booking], days: list[datetime.date], user: Any,
                  names_for_school: bool) -> dict[datetime.date, list[Block]]:
    """Each booking cut into its days (a booking past midnight shows on both)."""
    tz = timezone.get_current_timezone()
    result: dict[datetime.date, list[Block]] = {day: [] for day in days}
    for booking in bookings:
        start, end = timezone.localtime(booking.start), timezone.localtime(booking.end)
        shown = names_for_school or (isinstance(user, User) and user.pk == booking.organizer_id)
        organiser = str(booking.organizer) if shown else ""
        title = booking.title if may_see(user, booking) else ""
        for day in days:
            day_start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
            day_end = day_start + datetime.timedelta(days=1)
            if start < day_end and end > day_start:
                result[day].append(Block(booking, max(start, day_start), min(end, day_end),
                                         organiser, title))
    return result


def closed_days(closures: list[Closure], days: list[datetime.date], space_id: int
                ) -> dict[datetime.date, Closure]:
    return {day: closure for day in days for closure in closures
            if closure.start_date <= day <= closure.end_date
            and closure.space_id in (None, space_id)}


# One space's week ----------------------------------------------------------------------------

@dataclass
class Cell:
    kind: str  # "booking", "free", "closed"
    rowspan: int = 1
    block: Block | None = None
    period: Period | None = None  # a period starts in this row
    in_period: bool = False
    link: str = ""
    label: str = ""


@dataclass
class Row:
    start: datetime.time
    end: datetime.time
    cells: list[Cell | None] = field(default_factory=list)  # None: covered by a rowspan above

    @property
    def on_the_hour(self) -> bool:
        return self.start.minute == 0


def _minutes(moment: datetime.time) -> int:
    return moment.hour * 60 + moment.minute


def _time(minutes: int) -> datetime.time:
    return datetime.time(23, 59) if minutes >= 24 * 60 else datetime.time(minutes // 60, minutes % 60)


def _clock(moment: datetime.datetime, day: datetime.date) -> int:
    """Minutes since the day's midnight (24 h for a block that runs to midnight)."""
    if moment.date() > day:
        return 24 * 60
    return moment.hour * 60 + moment.minute


def build_grid(*, space: Space, days: list[datetime.date], hours: list[OpeningHours],
               schedules: dict[datetime.date, dict[int, Period]],
               blocks: dict[datetime.date, list[Block]], closed: dict[datetime.date, Closure],
               bookable: bool, now: datetime.datetime) -> list[Row]:
    opens = min((_minutes(h.opens) for h in hours), default=_minutes(DEFAULT_OPENS))
    closes = max((_minutes(h.closes) for h in hours), default=_minutes(DEFAULT_CLOSES))
    for day in days:
        for block in blocks[day]:
            opens = min(opens, _clock(block.start, day))
            closes = max(closes, _clock(block.end, day))
    opens -= opens % 30
    closes += -closes % 30
    marks = set(range(opens, closes + 1, 30))
    for day in days:
        for period in schedules[day].values():
            marks.update(m for m in (_minutes(period.start), _minutes(period.end))
                         if opens <= m <= closes)
        for block in blocks[day]:
            marks.update((_clock(block.start, day), _clock(block.end, day)))
    bounds = sorted(marks)
    rows = [Row(_time(a), _time(b)) for a, b in zip(bounds, bounds[1:], strict=False)]
    spans = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
    form_url = reverse("booking-form", args=[space.pk])
    tz = timezone.get_current_timezone()

    for day in days:
        open_spans = [(_minutes(h.opens), _minutes(h.closes)) for h in hours
                      if h.weekday == day.weekday()]
        periods = sorted(schedules[day].values(), key=lambda p: p.start)
        starts = {_minutes(p.start): p for p in periods}
        day_blocks = {_clock(b.start, day): b for b in blocks[day]}
        index = 0
        while index < len(spans):
            begin, finish = spans[index]
            starting = day_blocks.get(begin)
            if starting is not None:
                last = _clock(starting.end, day)
                span = sum(1 for a, _b in spans[index:] if a < last)
                rows[index].cells.append(Cell("booking", rowspan=span, block=starting))
                for covered in rows[index + 1:index + span]:
                    covered.cells.append(None)
                index += span
                continue
            is_open = day not in closed and any(a <= begin and finish <= b for a, b in open_spans)
            if not is_open:
                span = 1
                while index + span < len(spans):
                    a, b = spans[index + span]
                    if a in day_blocks or (day not in closed and any(
                            x <= a and b <= y for x, y in open_spans)):
                        break
                    span += 1
                rows[index].cells.append(Cell("closed", rowspan=span))
                for covered in rows[index + 1:index + span]:
                    covered.cells.append(None)
                index += span
                continue
            bell = starts.get(begin)
            in_period = any(_minutes(p.start) <= begin < _minutes(p.end) for p in periods)
            cell = Cell("free", period=bell, in_period=in_period,
                        label=f"{day:%d/%m/%Y} {_time(begin):%H:%M}")
            slot_start = datetime.datetime.combine(day, _time(begin), tzinfo=tz)
            if bookable and slot_start >= now:
                params: dict[str, Any]
                if bell is not None:
                    params = {"date": day.isoformat(), "mode": "periods",
                              "period_from": bell.number, "period_to": bell.number}
                else:
                    end = max(finish, begin + space.min_duration_minutes)
                    params = {"date": day.isoformat(), "mode": "time",
                              "start": f"{_time(begin):%H:%M}", "end": f"{_time(end):%H:%M}"}
                cell.link = f"{form_url}?{urlencode(params, safe=':')}"
            rows[index].cells.append(cell)
            index += 1
    return rows


@require_safe
def space_week(request: HttpRequest, pk: int) -> HttpResponse:
    space = get_object_or_404(
        Space.objects.select_related("school").prefetch_related("opening_hours"),
        pk=pk, is_active=True)
    monday = week_of(request)
    hours = list(space.opening_hours.all())
    first, last = local_bounds(monday)
    bookings = list(Booking.objects.filter(space=space).filter(shown_bookings(request.user))
                    .overlapping(first, last).select_related("organizer").order_by("start"))
    week = [monday + datetime.timedelta(days=n) for n in range(7)]
    sunday = week[6]
    uses_sunday = any(h.weekday == 6 for h in hours) or any(
        timezone.localtime(b.end) > datetime.datetime.combine(sunday, datetime.time.min,
                                                              tzinfo=first.tzinfo)
        for b in bookings)
    days = week if uses_sunday else week[:6]
    closed = closed_days(list(closures_for(space, monday, sunday)), days, space.pk)
    schedules = periods_for_days(space.school_id, days)
    user = request.user
    blocks = blocks_by_day(bookings, days, user, sees_organisers(user, space.school_id))
    bookable = isinstance(user, User) and (user.is_superuser or user.school_id == space.school_id)
    rows = build_grid(space=space, days=days, hours=hours, schedules=schedules, blocks=blocks,
                      closed=closed, bookable=bookable, now=timezone.now())
    return render(request, "web/space_week.html", {
        "space": space,
        "week": week_param(monday),
        "monday": monday,
        "sunday": days[-1],
        "days": [(day, closed.get(day)) for day in days],
        "rows": rows,
        "nav": week_nav(monday),
        "today": timezone.localdate(),
        "bookable": bookable,
        "periods_shown": any(schedules.values()),
    })


# A school's week -----------------------------------------------------------------------------

@dataclass
class SpaceWeek:
    space: Space
    cells: list[tuple[datetime.date, Closure | None, list[Block]]]


@require_safe
def school_week(request: HttpRequest, slug: str) -> HttpResponse:
    school = get_object_or_404(School, slug=slug)
    monday = week_of(request)
    first, last = local_bounds(monday)
    spaces = list(Space.objects.filter(school=school, is_active=True).order_by("name"))
    week = [monday + datetime.timedelta(days=n) for n in range(7)]
    bookings = list(Booking.objects.filter(school=school).filter(shown_bookings(request.user))
                    .overlapping(first, last).select_related("organizer").order_by("start"))
    closures = list(Closure.objects.filter(school=school, start_date__lte=week[6],
                                           end_date__gte=monday))
    uses_sunday = any(timezone.localtime(b.start).date() == week[6] for b in bookings)
    days = week if uses_sunday else week[:6]
    names = sees_organisers(request.user, school.pk)
    by_space: dict[int, list[Booking]] = {}
    for booking in bookings:
        by_space.setdefault(booking.space_id, []).append(booking)
    grid = []
    for space in spaces:
        blocks = blocks_by_day(by_space.get(space.pk, []), days, request.user, names)
        closed = closed_days(closures, days, space.pk)
        grid.append(SpaceWeek(space, [(day, closed.get(day), blocks[day]) for day in days]))
    return render(request, "web/school_week.html", {
        "school": school,
        "week": week_param(monday),
        "monday": monday,
        "sunday": days[-1],
        "days": days,
        "grid": grid,
        "nav": week_nav(monday),
        "today": timezone.localdate(),
    })
