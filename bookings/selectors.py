"""Who may see which booking: one rule for the API, the pages and the calendars."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import Role, User
from bookings.models import Booking, BookingStatus


def visible_bookings(user: User) -> QuerySet[Booking]:
    """Approved bookings are public (the feeds show them); the rest to the people concerned:
    the organiser, the school's managers and teachers, the Union and administrators."""
    bookings = Booking.objects.all()
    if user.is_union:  # the Union and administrators
        return bookings
    visible = Q(status=BookingStatus.APPROVED) | Q(organizer=user)
    if user.role in (Role.MANAGER, Role.TEACHER):
        visible |= Q(school_id=user.school_id)
    return bookings.filter(visible)


def may_see(user: Any, booking: Booking) -> bool:
    """`visible_bookings` for one booking already in hand (anonymous callers: approved only)."""
    if booking.status == BookingStatus.APPROVED:
        return True
    if not isinstance(user, User):
        return False
    return (user.is_union or booking.organizer_id == user.pk
            or (user.role in (Role.MANAGER, Role.TEACHER) and booking.school_id == user.school_id))
