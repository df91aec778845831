"""When a space is busy and free: opening hours, minus closures, minus active bookings."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import Booking
from bookings.services import closures_for
from spaces.errors import Invalid
from spaces.models import Space

MAX_WINDOW = datetime.timedelta(days=62)

Interval = tuple[datetime.datetime, datetime.datetime]


def _subtract(free: list[Interval], taken: Interval) -> list[Interval]:
    result = []
    for start, end in free:
        if taken[1] <= start or taken[0] >= end:
            result.append((start, end))
            continue
        if start < taken[0]:
            result.append((start, taken[0]))
        if taken[1] < end:
            result.append((taken[1], end))
    return result


def space_availability(space: Space, start: datetime.datetime, end: datetime.datetime
                       ) -> dict[str, Any]:
    """Busy and free intervals of `space` in [start, end), in three queries
    (opening hours, closures, bookings), whatever the window's length."""
    if start >= end:
        raise Invalid(_("The end must be after the start."), field="end")
    if end - start > MAX_WINDOW:
        raise Invalid(_("Ask for at most %(days)d days at a time.")
                      % {"days": MAX_WINDOW.days}, field="end")
    tz = timezone.get_current_timezone()
    hours = list(space.opening_hours.all())
    first_day, last_day = timezone.localtime(start).date(), timezone.localtime(end).date()
    closed_days: set[datetime.date] = set()
    for closure in closures_for(space, first_day, last_day):
        day = max(closure.start_date, first_day)
        while day <= min(closure.end_date, last_day):
            closed_days.add(day)
            day += datetime.timedelta(days=1)
    open_intervals: list[Interval] = []
    day = first_day
    while day <= last_day:
        if day not in closed_days:
            for row in sorted((h for h in hours if h.weekday == day.weekday()),
                              key=lambda h: h.opens):
                begin = max(datetime.datetime.combine(day, row.opens, tzinfo=tz), start)
                finish = min(datetime.datetime.combine(day, row.closes, tzinfo=tz), end)
                if begin < finish:
                    open_intervals.append((begin, finish))
        day += datetime.timedelta(days=1)
    busy = [(row["start"], row["end"]) for row in
            Booking.objects.of_space_overlapping(space.pk, start, end)
            .order_by("start").values("start", "end")]
    free = open_intervals
    for interval in busy:
        free = _subtract(free, interval)

    def show(intervals: list[Interval]) -> list[dict[str, str]]:
        return [{"start": timezone.localtime(a).isoformat(), "end": timezone.localtime(b).isoformat()}
                for a, b in intervals]

    return {"space": space.pk, "busy": show([(max(a, start), min(b, end)) for a, b in busy]),
            "free": show(free)}
