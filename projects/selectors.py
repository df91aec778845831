"""Reads of mentor sessions shared by the API and the pages: who sees which registrations."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Role, User
from projects.models import MentorSession, Registration


def shown_registrations(user: User) -> QuerySet[Registration]:
    """The registrations a caller sees one by one: every one of the sessions they may manage
    (projects.sessions.may_manage), and their own."""
    rows = (Registration.objects.filter(cancelled_at__isnull=True).select_related("student")
            .order_by("registered_at", "id"))
    if user.is_union:
        return rows
    visible = Q(student=user) | Q(session__mentor__user=user)
    if user.role == Role.MANAGER:
        visible |= Q(session__school_id=user.school_id)
    return rows.filter(visible)


def _per_session(expression: Any, **filters: Any) -> Coalesce | Subquery:
    rows = (Registration.objects.filter(session=OuterRef("pk"), cancelled_at__isnull=True,
                                        **filters)
            .order_by().values("session").annotate(value=expression).values("value"))
    if isinstance(expression, Count):
        return Coalesce(Subquery(rows, output_field=IntegerField()), 0)
    return Subquery(rows)


def sessions_for(user: User) -> QuerySet[MentorSession]:
    """Every session (the feeds publish them), with counts, and the registrations `user`
    may see in detail. Counts are subqueries: the page's COUNT stays a plain count."""
    return (MentorSession.objects.select_related("booking", "mentor__user")
            .prefetch_related("projects", Prefetch("registrations",
                                                   queryset=shown_registrations(user),
                                                   to_attr="shown_registrations"))
            .annotate(registered_count=_per_session(Count("pk")),
                      attended_count=_per_session(Count("pk"), attended=True),
                      rating_count=_per_session(Count("pk"), rating__isnull=False),
                      average_rating=_per_session(Avg("rating"), rating__isnull=False))
            .order_by("booking__start", "id"))
