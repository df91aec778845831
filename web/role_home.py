"""What each role sees first after signing in: their next bookings and sessions; managers
the requests waiting and the loans overdue; students their projects and pending requests.

A fixed number of small queries per role, however much there is.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.models import Role, User
from bookings.models import ACTIVE_STATUSES, Booking, BookingStatus
from projects.models import Membership, MentorSession, Registration
from spaces.models import Loan

SHOWN = 5


def role_home(user: User | AnonymousUser) -> dict[str, Any]:
    if not isinstance(user, User):
        return {}
    now = timezone.now()
    context: dict[str, Any] = {}
    if user.school_id:
        context["upcoming"] = list(
            Booking.objects.filter(organizer=user, status__in=ACTIVE_STATUSES, end__gte=now)
            .select_related("space").order_by("start")[:SHOWN])
    sessions = MentorSession.objects.filter(booking__end__gte=now,
                                            booking__status__in=ACTIVE_STATUSES)
    if user.role == Role.STUDENT:
        context["sessions"] = [row.session for row in Registration.objects.filter(
            student=user, cancelled_at__isnull=True, session__in=sessions)
            .select_related("session__booking__space").order_by("session__booking__start")[:SHOWN]]
        context["projects"] = [row.project for row in Membership.objects.filter(
            user=user, left_on__isnull=True).select_related("project").order_by("project__title")]
        context["pending"] = list(
            Booking.objects.filter(organizer=user, status=BookingStatus.PENDING, end__gte=now)
            .select_related("space").order_by("start")[:SHOWN])
    elif user.role == Role.MENTOR:
        context["sessions"] = list(sessions.filter(mentor__user=user)
                                   .select_related("booking__space").order_by("booking__start")[:SHOWN])
    elif user.school_id:
        context["sessions"] = list(sessions.filter(school_id=user.school_id)
                                   .select_related("booking__space").order_by("booking__start")[:SHOWN])
    if user.role == Role.MANAGER and user.school_id:
        context["approvals_waiting"] = Booking.objects.filter(
            school_id=user.school_id, status=BookingStatus.PENDING, end__gte=now).count()
        context["loans_overdue"] = Loan.objects.overdue(now).filter(
            equipment__space__school_id=user.school_id).count()
    if context:
        context["role_home"] = True
    return context
