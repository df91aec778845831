"""Invariants of the data, checked by queries (`manage.py check_integrity`).

The services keep these true on every write (DESIGN.md, "Invariants that must hold"); this module
asks the database whether they are. make test-fuzz runs it over the database the fuzzer wrote to,
and an operator can run it in production: each check is one query (an anti-join or a correlated
aggregate over indexed columns), the same on SQLite and PostgreSQL, and reads nothing it does not
report. Each check answers the ids of the offending rows.

Not checked, because data written correctly can still break them later: a booking against a
closure or the opening hours (a closure or new hours may come after the booking, which then
stays unless the manager cancels it), and certifications (they expire).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from accounts.models import AuditEntry
from bookings.models import ACTIVE_STATUSES, Booking, BookingEquipment, BookingKind, Series
from projects.models import MemberRole, Membership, MentorSession, Project, Registration
from spaces.models import Equipment, EquipmentKind, Loan

# Shown per failed check; the count is always complete.
SHOWN_IDS = 20


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    offenders: Callable[[], Iterable[object]]


@dataclass(frozen=True)
class Result:
    check: Check
    count: int
    ids: list[object]

    @property
    def ok(self) -> bool:
        return self.count == 0


def _ids(queryset: models.QuerySet[models.Model]) -> models.QuerySet[models.Model]:
    return queryset.order_by("pk").values_list("pk", flat=True)


def _audited(model: type[models.Model], pk: OuterRef) -> Exists:
    """An audit entry about the `model` row whose primary key is `pk` (an expression)."""
    return Exists(AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model),
        object_id=Cast(pk, models.CharField(max_length=64))))


# --- bookings ------------------------------------------------------------------------------

def overlapping_bookings() -> Iterable[object]:
    """Invariant 1. The database refuses it too (exclusion constraint, SQLite triggers)."""
    other = Booking.objects.filter(status__in=ACTIVE_STATUSES, space_id=OuterRef("space_id"),
                                   start__lt=OuterRef("end"), end__gt=OuterRef("start")
                                   ).exclude(pk=OuterRef("pk"))
    return _ids(Booking.objects.filter(status__in=ACTIVE_STATUSES).filter(Exists(other)))


def bookings_ending_before_start() -> Iterable[object]:
    return _ids(Booking.objects.filter(start__gte=F("end")))


def bookings_of_another_school() -> Iterable[object]:
    return _ids(Booking.objects.exclude(school_id=F("space__school_id")))


def occurrences_elsewhere() -> Iterable[object]:
    return _ids(Booking.objects.filter(series__isnull=False).filter(
        ~Q(space_id=F("series__space_id")) | ~Q(school_id=F("series__school_id"))))


def series_of_another_school() -> Iterable[object]:
    return _ids(Series.objects.exclude(school_id=F("space__school_id")))


def reservations_elsewhere() -> Iterable[object]:
    """Equipment reserved for a booking belongs to the booking's school."""
    return _ids(BookingEquipment.objects.exclude(equipment__space__school_id=F("booking__school_id")))


def bookings_not_audited() -> Iterable[object]:
    """Invariant 3: every booking is in the audit trail (an occurrence: by its series)."""
    return _ids(Booking.objects.exclude(_audited(Booking, OuterRef("pk")))
                .exclude(series__isnull=False, series_id__in=Series.objects
                         .filter(_audited(Series, OuterRef("pk"))).values("pk")))


# --- equipment and loans -------------------------------------------------------------------

def equipment_quantity_invalid() -> Iterable[object]:
    return _ids(Equipment.objects.filter(Q(quantity__lt=0)
                                         | Q(kind=EquipmentKind.ASSET) & ~Q(quantity=1)))


def loans_quantity_not_positive() -> Iterable[object]:
    return _ids(Loan.objects.filter(quantity__lt=1))


def loans_returned_before_lent() -> Iterable[object]:
    return _ids(Loan.objects.filter(returned_at__isnull=False, returned_at__lt=F("checked_out_at")))


def equipment_over_lent() -> Iterable[object]:
    """Invariant 2: the units out on open loans never exceed the quantity owned."""
    out = (Loan.objects.filter(equipment_id=OuterRef("pk"), returned_at__isnull=True)
           .values("equipment_id").annotate(total=Sum("quantity")).values("total"))
    return _ids(Equipment.objects.annotate(out=Coalesce(Subquery(out), Value(0)))
                .filter(out__gt=F("quantity")))


def equipment_over_reserved() -> Iterable[object]:
    """Invariant 2: units reserved by active bookings plus units lent never exceed the quantity,
    at any moment from now on. The total is largest at the start of some booking (or now, for one
    under way), so it is enough to look there: at each reservation's booking start, add what
    the other active bookings of the item reserve and what open loans hold then (from checkout
    to due: an overdue loan is late, not a write that over-committed). Reports reservation ids."""
    now = timezone.now()
    moment = models.Case(models.When(booking__start__lt=now, then=Value(now)),
                         default=F("booking__start"))
    reserved = (BookingEquipment.objects
                .filter(equipment_id=OuterRef("equipment_id"), booking__status__in=ACTIVE_STATUSES,
                        booking__start__lte=OuterRef("moment"), booking__end__gt=OuterRef("moment"))
                .values("equipment_id").annotate(total=Sum("quantity")).values("total"))
    lent = (Loan.objects
            .filter(equipment_id=OuterRef("equipment_id"), returned_at__isnull=True,
                    checked_out_at__lte=OuterRef("moment"), due_at__gt=OuterRef("moment"))
            .values("equipment_id").annotate(total=Sum("quantity")).values("total"))
    return _ids(BookingEquipment.objects
                .filter(booking__status__in=ACTIVE_STATUSES, booking__end__gt=now)
                .annotate(moment=moment)
                .annotate(in_use=Coalesce(Subquery(reserved), Value(0))
                          + Coalesce(Subquery(lent), Value(0)))
                .filter(in_use__gt=F("equipment__quantity")))


def loans_not_audited() -> Iterable[object]:
    return _ids(Loan.objects.exclude(_audited(Loan, OuterRef("pk"))))


def equipment_not_audited() -> Iterable[object]:
    return _ids(Equipment.objects.exclude(_audited(Equipment, OuterRef("pk"))))


def deleted_records() -> Iterable[object]:
    """Invariant 3: bookings, series, equipment and loans are never deleted — an audit entry
    about one that no longer exists says one was. Reports the audit entries' ids."""
    missing = Q()
    for model in (Booking, Series, Equipment, Loan):
        kept = model.objects.filter(pk=Cast(OuterRef("object_id"), models.BigIntegerField()))
        missing |= Q(content_type=ContentType.objects.get_for_model(model)) & ~Q(Exists(kept))
    return _ids(AuditEntry.objects.filter(missing))


# --- mentor sessions and projects ----------------------------------------------------------

def sessions_overbooked() -> Iterable[object]:
    return _ids(MentorSession.objects
                .annotate(taken=Count("registrations",
                                      filter=Q(registrations__cancelled_at__isnull=True)))
                .filter(taken__gt=F("capacity")))


def sessions_booking_mismatch() -> Iterable[object]:
    """A session's room is its own booking: of the session's school, of the mentor-session kind."""
    return _ids(MentorSession.objects.filter(~Q(school_id=F("booking__school_id"))
                                             | ~Q(booking__kind=BookingKind.MENTOR_SESSION)))


def registrations_twice() -> Iterable[object]:
    """One active registration per student and session (a unique constraint too)."""
    twin = Registration.objects.filter(session_id=OuterRef("session_id"),
                                       student_id=OuterRef("student_id"),
                                       cancelled_at__isnull=True).exclude(pk=OuterRef("pk"))
    return _ids(Registration.objects.filter(cancelled_at__isnull=True).filter(Exists(twin)))


def projects_over_full() -> Iterable[object]:
    return _ids(Project.objects
                .annotate(members=Count("memberships",
                                        filter=Q(memberships__left_on__isnull=True)))
                .filter(members__gt=F("max_members")))


def projects_without_leader() -> Iterable[object]:
    """A team has a leader (projects.services checks it on every change of the team)."""
    leader = Membership.objects.filter(project_id=OuterRef("pk"), left_on__isnull=True,
                                       role=MemberRole.LEADER)
    team = Membership.objects.filter(project_id=OuterRef("pk"), left_on__isnull=True)
    return _ids(Project.objects.filter(Exists(team)).exclude(Exists(leader)))


CHECKS: list[Check] = [
    Check("bookings_overlap", "no two pending/approved bookings of one space overlap",
          overlapping_bookings),
    Check("booking_start_before_end", "every booking starts before it ends",
          bookings_ending_before_start),
    Check("booking_school_is_space_school", "a booking's school is its space's school",
          bookings_of_another_school),
    Check("series_school_is_space_school", "a series' school is its space's school",
          series_of_another_school),
    Check("occurrence_in_series_space", "a series' occurrences are in its space and school",
          occurrences_elsewhere),
    Check("reservation_same_school", "equipment reserved for a booking is of its school",
          reservations_elsewhere),
    Check("booking_audited", "every booking (or its series) has an audit entry",
          bookings_not_audited),
    Check("equipment_quantity", "quantities are not negative; an asset is one item",
          equipment_quantity_invalid),
    Check("loan_quantity_positive", "a loan lends at least one unit", loans_quantity_not_positive),
    Check("loan_returned_after_lent", "a loan comes back after it went out",
          loans_returned_before_lent),
    Check("equipment_not_over_lent", "open loans hold at most the quantity owned",
          equipment_over_lent),
    Check("equipment_not_over_reserved",
          "reservations and loans hold at most the quantity owned at any moment from now on",
          equipment_over_reserved),
    Check("loan_audited", "every loan has an audit entry", loans_not_audited),
    Check("equipment_audited", "every equipment item has an audit entry", equipment_not_audited),
    Check("nothing_deleted", "no booking, series, equipment item or loan was deleted",
          deleted_records),
    Check("session_capacity", "a session's active registrations fit its places",
          sessions_overbooked),
    Check("session_booking", "a session's booking is of its school and of the session kind",
          sessions_booking_mismatch),
    Check("registration_once", "a student registers once for a session", registrations_twice),
    Check("project_team_size", "a project's active team fits max_members", projects_over_full),
    Check("project_has_leader", "a project with a team has an active leader",
          projects_without_leader),
]


def run_checks(checks: Iterable[Check] = CHECKS) -> list[Result]:
    results = []
    for check in checks:
        ids = list(check.offenders())
        results.append(Result(check, len(ids), ids[:SHOWN_IDS]))
    return results
