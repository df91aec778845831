"""How many units of an item are in use over a stretch of time.

One rule, used by loans (spaces.services) and by equipment reservations
(bookings.services): at any moment, units reserved by overlapping active bookings
plus units out on loan never exceed what is owned. An open loan occupies its item
from checkout until it is due, and an overdue one until it comes back.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.apps import apps
from django.utils import timezone

from spaces.models import Loan

FOREVER = datetime.datetime.max.replace(tzinfo=datetime.UTC)
# The statuses that hold a booking's slot and its equipment (bookings.models.ACTIVE_STATUSES).
HOLDING_STATUSES = ("pending", "approved")


def _peak(intervals: list[tuple[datetime.datetime, datetime.datetime, int]],
          start: datetime.datetime, end: datetime.datetime) -> int:
    """The largest total quantity in use at any instant of [start, end)."""
    events: list[tuple[datetime.datetime, int]] = []
    for begin, finish, quantity in intervals:
        begin, finish = max(begin, start), min(finish, end)
        if begin < finish:
            events.append((begin, quantity))
            events.append((finish, -quantity))
    # Ends sort before starts at the same instant: back-to-back uses do not add up.
    events.sort(key=lambda event: (event[0], event[1]))
    peak = current = 0
    for _moment, change in events:
        current += change
        peak = max(peak, current)
    return peak


def peak_use(equipment_ids: Iterable[int], start: datetime.datetime, end: datetime.datetime, *,
             exclude_booking_ids: Iterable[int] = (), now: datetime.datetime | None = None,
             ) -> dict[int, int]:
    """For each item, the most units reserved or on loan at once during [start, end).

    Two queries, whatever the number of items.
    """
    ids = list(equipment_ids)
    now = now or timezone.now()
    intervals: dict[int, list[tuple[datetime.datetime, datetime.datetime, int]]] = defaultdict(list)
    for loan in (Loan.objects.open().filter(equipment_id__in=ids, checked_out_at__lt=end)
                 .values("equipment_id", "checked_out_at", "due_at", "quantity")):
        until = loan["due_at"] if loan["due_at"] > now else FOREVER
        intervals[loan["equipment_id"]].append((loan["checked_out_at"], until, loan["quantity"]))
    # Reservations belong to bookings, which builds on spaces: looked up by name, not imported.
    reservation = apps.get_model("bookings", "BookingEquipment")
    rows = (reservation.objects
            .filter(equipment_id__in=ids, booking__status__in=HOLDING_STATUSES,
                    booking__start__lt=end, booking__end__gt=start)
            .exclude(booking_id__in=list(exclude_booking_ids))
            .values("equipment_id", "booking__start", "booking__end", "quantity"))
    for row in rows:
        intervals[row["equipment_id"]].append((row["booking__start"], row["booking__end"],
                                               row["quantity"]))
    return {item: _peak(intervals.get(item, []), start, end) for item in ids}
