"""Every write to bookings, series and closures; API, admin, pages and commands call these.

The rules (API.md "Bookings"): start < end, inside opening hours, not on a closure,
not in the past, duration, horizon and notice within the space's rules, the
organiser's role and school; no overlap with another pending or approved booking
of the space; reserved equipment within what the school owns at that time.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.audit import log_action
from accounts.models import SCHOOL_ROLES, Role, User
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEquipment,
    BookingKind,
    BookingStatus,
    Closure,
    Series,
)
from bookings.recurrence import expand
from spaces.availability import peak_use
from spaces.errors import Conflict, Invalid, NotAllowed
from spaces.models import Equipment, EquipmentStatus, Space
from spaces.services import ensure_certified, ensure_manager

# Kinds a teacher supervises: they may reserve certification-gated machines for them.
SUPERVISED_KINDS = (BookingKind.CLASS, BookingKind.CLUB, BookingKind.WORKSHOP)


@dataclass(frozen=True)
class EquipmentRequest:
    equipment: Equipment
    quantity: int


def local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment)


def fmt(moment: datetime.datetime) -> str:
    return local(moment).strftime("%d/%m/%Y %H:%M")


# --- who may book ----------------------------------------------------------------------------

def ensure_may_book(actor: User, space: Space) -> None:
    if actor.is_superuser:
        return
    if actor.role not in SCHOOL_ROLES:
        raise NotAllowed(_("Only teachers, managers and students of a school book its spaces."))
    if actor.school_id != space.school_id:
        raise NotAllowed(_("You can book only the spaces of your own school."))


def initial_status(actor: User, space: Space) -> str:
    if actor.role == Role.STUDENT and space.student_bookings_need_approval and not actor.is_superuser:
        return BookingStatus.PENDING
    return BookingStatus.APPROVED


def ensure_may_change(actor: User, booking: Booking) -> None:
    """The organiser, or a manager of the booking's school."""
    if actor.pk == booking.organizer_id or actor.manages_school(booking.school_id):
        return
    raise NotAllowed(_("Only the organiser or a manager of this school may change this booking."))


def ensure_not_owned_by_session(booking: Booking) -> None:
    """A mentor session's booking changes with its session (which tells the students)."""
    # Looked up by relation name: bookings does not import projects, which builds on it.
    if Booking.objects.filter(pk=booking.pk, mentor_session__isnull=False).exists():
        raise NotAllowed(_("This booking belongs to a mentor session: change or cancel the "
                           "session instead."))


# --- rules -----------------------------------------------------------------------------------

def closures_for(space: Space, first_day: datetime.date, last_day: datetime.date
                 ) -> QuerySet[Closure]:
    return (Closure.objects
            .filter(school_id=space.school_id, start_date__lte=last_day, end_date__gte=first_day)
            .filter(Q(space__isnull=True) | Q(space=space)))


def within_opening_hours(space: Space, start: datetime.datetime, end: datetime.datetime) -> bool:
    start, end = local(start), local(end)
    if start.date() != end.date() and end.timetz().replace(tzinfo=None) != datetime.time(0):
        return False
    day_hours = [row for row in space.opening_hours.all() if row.weekday == start.weekday()]
    end_time = end.time() if start.date() == end.date() else datetime.time.max
    return any(row.opens <= start.time() and end_time <= row.closes for row in day_hours)


def check_rules(*, space: Space, start: datetime.datetime, end: datetime.datetime,
                override: bool = False, now: datetime.datetime | None = None,
                check_closures: bool = True) -> None:
    """Raise Invalid naming the field at fault; `override` (a manager's) lifts hours,
    horizon, notice, duration and closures, never the past or start < end."""
    now = now or timezone.now()
    if start >= end:
        raise Invalid(_("The end must be after the start."), field="end")
    if start < now:
        raise Invalid(_("A booking cannot start in the past."), field="start")
    if override:
        return
    minutes = (end - start).total_seconds() / 60
    if minutes < space.min_duration_minutes:
        raise Invalid(_("A booking of this space lasts at least %(minutes)d minutes.")
                      % {"minutes": space.min_duration_minutes}, field="end")
    if minutes > space.max_duration_minutes:
        raise Invalid(_("A booking of this space lasts at most %(minutes)d minutes.")
                      % {"minutes": space.max_duration_minutes}, field="end")
    if start > now + datetime.timedelta(days=space.max_days_ahead):
        raise Invalid(_("This space can be booked at most %(days)d days ahead.")
                      % {"days": space.max_days_ahead}, field="start")
    if start < now + datetime.timedelta(minutes=space.min_notice_minutes):
        raise Invalid(_("Book this space at least %(minutes)d minutes before it starts.")
                      % {"minutes": space.min_notice_minutes}, field="start")
    if not within_opening_hours(space, start, end):
        hours = ", ".join(f"{row.opens:%H:%M}–{row.closes:%H:%M}"
                          for row in space.opening_hours.all()
                          if row.weekday == local(start).weekday())
        raise Invalid(_("Outside the opening hours of this space (%(hours)s).")
                      % {"hours": hours or _("closed that day")}, field="start")
    if check_closures:
        closure = closures_for(space, local(start).date(), local(end).date()).first()
        if closure is not None:
            raise Invalid(_("The space is closed then: %(reason)s.") % {"reason": closure.reason},
                          field="start")


def conflicts_with(space: Space, start: datetime.datetime, end: datetime.datetime, *,
                   exclude: Iterable[int] = ()) -> list[dict[str, Any]]:
    rows = (Booking.objects.of_space_overlapping(space.pk, start, end)
            .exclude(pk__in=list(exclude)).order_by("start")
            .values("id", "start", "end", "title"))
    return [{"id": row["id"], "start": local(row["start"]).isoformat(),
             "end": local(row["end"]).isoformat(), "title": row["title"]} for row in rows]


def _conflict(conflicts: list[dict[str, Any]]) -> Conflict:
    return Conflict(_("The space is already booked at that time."), conflicts=conflicts)


def check_equipment(*, space: Space, organizer: User, kind: str, start: datetime.datetime,
                    end: datetime.datetime, items: Sequence[EquipmentRequest],
                    exclude_booking_ids: Iterable[int] = ()) -> None:
    if not items:
        return
    ids = [item.equipment.pk for item in items]
    if len(set(ids)) != len(ids):
        raise Invalid(_("List each equipment item once."), field="equipment")
    # Lock the items (in id order, so two requests never deadlock) so that two
    # reservations of the last units cannot both see them free.
    locked = {row.pk: row for row in Equipment.objects.select_for_update()
              .select_related("space", "category").filter(pk__in=ids).order_by("pk")}
    in_use = peak_use(ids, start, end, exclude_booking_ids=exclude_booking_ids)
    for item in items:
        equipment = locked[item.equipment.pk]
        if equipment.space.school_id != space.school_id:
            raise Invalid(_("%(item)s belongs to another school.") % {"item": equipment},
                          field="equipment")
        if item.quantity < 1:
            raise Invalid(_("Reserve at least one."), field="equipment")
        supervised = organizer.role in (Role.TEACHER, Role.MANAGER) and kind in SUPERVISED_KINDS
        if not supervised:
            ensure_certified(organizer, equipment.category)
        if equipment.status != EquipmentStatus.AVAILABLE:
            raise Conflict(_("%(item)s is not available (%(status)s).")
                           % {"item": equipment, "status": equipment.get_status_display()},
                           field="equipment")
        free = equipment.quantity - in_use[equipment.pk]
        if item.quantity > free:
            raise Conflict(_("Only %(free)d of %(item)s free at that time, %(quantity)d asked.")
                           % {"free": max(free, 0), "item": equipment, "quantity": item.quantity},
                           field="equipment")


def _insert(booking: Booking) -> Booking:
    """Save a new booking; on PostgreSQL the exclusion constraint may still refuse it
    (a concurrent request got there first): that is a conflict, not an error."""
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as error:
        if "booking_no_overlap" not in str(error):
            raise
        raise _conflict(conflicts_with(booking.space, booking.start, booking.end)) from error
    return booking


def _reserve(booking: Booking, items: Sequence[EquipmentRequest]) -> None:
    BookingEquipment.objects.filter(booking=booking).delete()
    BookingEquipment.objects.bulk_create(
        BookingEquipment(booking=booking, equipment=item.equipment, quantity=item.quantity)
        for item in items)


# --- notification ----------------------------------------------------------------------------

def notify_organizer(booking: Booking, subject: str, message: str) -> None:
    """Mail the organiser once the transaction has committed (never for a rolled-back change)."""
    address = booking.organizer.email
    if not address:
        return

    def send() -> None:
        send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, [address], fail_silently=True)

    transaction.on_commit(send)


def _describe(booking: Booking) -> str:
    return f"{booking.title} — {booking.space} — {fmt(booking.start)}–{local(booking.end):%H:%M}"


# --- single bookings -------------------------------------------------------------------------

@transaction.atomic
def booking_create(*, actor: User, space: Space, title: str, start: datetime.datetime,
                   end: datetime.datetime, kind: str = BookingKind.CLASS, description: str = "",
                   attendees: int = 0, equipment: Sequence[EquipmentRequest] = (),
                   override_rules: bool = False, now: datetime.datetime | None = None,
                   organizer: User | None = None, caller_checked_rights: bool = False
                   ) -> Booking:
    """Book `space`. `organizer` (default: the actor) books on the actor's word only when
    the calling service has already decided the actor may (`caller_checked_rights`), as the
    mentor-session service does for a mentor's room; every other rule still applies."""
    space = Space.objects.select_related("school").prefetch_related("opening_hours").get(
        pk=space.pk)
    if not caller_checked_rights:
        ensure_may_book(actor, space)
    organizer = organizer or actor
    if override_rules:
        ensure_manager(actor, space.school_id)
    if attendees > space.capacity:
        raise Invalid(_("This space holds at most %(capacity)d people.")
                      % {"capacity": space.capacity}, field="attendees")
    check_rules(space=space, start=start, end=end, override=override_rules, now=now)
    conflicts = conflicts_with(space, start, end)
    if conflicts:
        raise _conflict(conflicts)
    check_equipment(space=space, organizer=organizer, kind=kind, start=start, end=end,
                    items=equipment)
    booking = _insert(Booking(
        space=space, school_id=space.school_id, title=title, description=description, kind=kind,
        organizer=organizer, start=start, end=end, attendees=attendees,
        status=initial_status(organizer, space), rules_overridden=override_rules))
    _reserve(booking, equipment)
    log_action(booking, "booking.created", actor=actor, school_id=space.school_id, data={
        "space": space.pk, "title": title, "start": start, "end": end, "status": booking.status,
        "rules_overridden": override_rules,
        "equipment": [[item.equipment.pk, item.quantity] for item in equipment]})
    return booking


BOOKING_EDITABLE = ("title", "description", "kind", "start", "end", "attendees")


@transaction.atomic
def booking_update(*, actor: User, booking: Booking, equipment: Sequence[EquipmentRequest] | None
                   = None, override_rules: bool = False, caller_checked_rights: bool = False,
                   **changes: Any) -> Booking:
    """`caller_checked_rights`: as for booking_create (a mentor session's own booking)."""
    booking = (Booking.objects.select_for_update().select_related("space", "organizer")
               .get(pk=booking.pk))
    if not caller_checked_rights:
        ensure_may_change(actor, booking)
        ensure_not_owned_by_session(booking)
    if booking.status not in ACTIVE_STATUSES:
        raise Conflict(_("A %(status)s booking cannot be changed.")
                       % {"status": booking.get_status_display().lower()})
    if override_rules:
        ensure_manager(actor, booking.school_id)
    changes = {key: value for key, value in changes.items()
               if key in BOOKING_EDITABLE and getattr(booking, key) != value}
    space = Space.objects.prefetch_related("opening_hours").get(pk=booking.space_id)
    start, end = changes.get("start", booking.start), changes.get("end", booking.end)
    moved = "start" in changes or "end" in changes
    if changes.get("attendees", 0) > space.capacity:
        raise Invalid(_("This space holds at most %(capacity)d people.")
                      % {"capacity": space.capacity}, field="attendees")
    if moved:
        check_rules(space=space, start=start, end=end,
                    override=override_rules or booking.rules_overridden)
        conflicts = conflicts_with(space, start, end, exclude=[booking.pk])
        if conflicts:
            raise _conflict(conflicts)
    # A new kind may lose a teacher's supervision exemption: re-check the equipment too.
    if moved or equipment is not None or "kind" in changes:
        items = equipment if equipment is not None else [
            EquipmentRequest(row.equipment, row.quantity)
            for row in booking.equipment_items.select_related("equipment")]
        check_equipment(space=space, organizer=booking.organizer,
                        kind=changes.get("kind", booking.kind), start=start, end=end,
                        items=items, exclude_booking_ids=[booking.pk])
        if equipment is not None:
            _reserve(booking, equipment)
    if not changes and equipment is None:
        return booking
    if override_rules:
        booking.rules_overridden = True
    before = {key: getattr(booking, key) for key in changes}
    for key, value in changes.items():
        setattr(booking, key, value)
    booking.sequence += 1
    if booking.series_id is not None:
        booking.is_exception = True
    # A student's moved request goes back to the managers.
    if moved and booking.organizer_id == actor.pk:
        booking.status = initial_status(actor, space)
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError as error:
        if "booking_no_overlap" not in str(error):
            raise
        raise _conflict(conflicts_with(space, start, end, exclude=[booking.pk])) from error
    log_action(booking, "booking.changed", actor=actor, school_id=booking.school_id,
               data={key: [before[key], changes[key]] for key in changes}
               | ({"equipment": [[i.equipment.pk, i.quantity] for i in equipment]}
                  if equipment is not None else {})
               | ({"rules_overridden": True} if override_rules else {}))
    return booking


def _decide(actor: User, booking: Booking, status: str, reason: str, action: str) -> Booking:
    booking = Booking.objects.select_for_update().select_related("organizer").get(pk=booking.pk)
    ensure_manager(actor, booking.school_id)
    if booking.status != BookingStatus.PENDING:
        raise Conflict(_("Only a pending booking can be approved or rejected; this one is %(status)s.")
                       % {"status": booking.get_status_display().lower()})
    booking.status = status
    booking.decided_by = actor
    booking.decided_at = timezone.now()
    booking.decision_reason = reason
    booking.sequence += 1
    booking.save(update_fields=["status", "decided_by", "decided_at", "decision_reason",
                                "sequence", "updated_at"])
    log_action(booking, action, actor=actor, school_id=booking.school_id, data={"reason": reason})
    return booking


@transaction.atomic
def booking_approve(*, actor: User, booking: Booking, reason: str = "") -> Booking:
    booking = _decide(actor, booking, BookingStatus.APPROVED, reason, "booking.approved")
    with translation.override(settings.LANGUAGE_CODE):
        notify_organizer(booking, _("Booking approved: %(title)s") % {"title": booking.title},
                         _("Your booking %(booking)s was approved.") % {"booking": _describe(booking)}
                         + (f"\n{reason}" if reason else ""))
    return booking


@transaction.atomic
def booking_reject(*, actor: User, booking: Booking, reason: str = "") -> Booking:
    booking = _decide(actor, booking, BookingStatus.REJECTED, reason, "booking.rejected")
    with translation.override(settings.LANGUAGE_CODE):
        notify_organizer(booking, _("Booking rejected: %(title)s") % {"title": booking.title},
                         _("Your booking %(booking)s was rejected.") % {"booking": _describe(booking)}
                         + (f"\n{_('Reason')}: {reason}" if reason else ""))
    return booking


def _cancel(actor: User | None, booking: Booking, reason: str) -> Booking:
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_by = actor
    booking.cancelled_at = timezone.now()
    booking.cancel_reason = reason
    booking.sequence += 1
    booking.save(update_fields=["status", "cancelled_by", "cancelled_at", "cancel_reason",
                                "sequence", "updated_at"])
    log_action(booking, "booking.cancelled", actor=actor, school_id=booking.school_id,
               data={"reason": reason})
    with translation.override(settings.LANGUAGE_CODE):
        notify_organizer(booking, _("Booking cancelled: %(title)s") % {"title": booking.title},
                         _("Your booking %(booking)s was cancelled.")
                         % {"booking": _describe(booking)}
                         + (f"\n{_('Reason')}: {reason}" if reason else ""))
    return booking


@transaction.atomic
def booking_cancel(*, actor: User, booking: Booking, reason: str = "",
                   caller_checked_rights: bool = False) -> Booking:
    """Cancel, never delete: the row stays (and in the feeds, as cancelled); the slot is freed.
    `caller_checked_rights`: as for booking_create (a mentor session's own booking)."""
    booking = (Booking.objects.select_for_update().select_related("organizer", "space")
               .get(pk=booking.pk))
    if not caller_checked_rights:
        ensure_may_change(actor, booking)
        ensure_not_owned_by_session(booking)
    if booking.status not in ACTIVE_STATUSES:
        raise Conflict(_("This booking is already %(status)s.")
                       % {"status": booking.get_status_display().lower()})
    return _cancel(actor, booking, reason)


# --- recurring series ------------------------------------------------------------------------

@dataclass
class SeriesResult:
    series: Series
    created: list[Booking] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)


def _occurrence_conflict(start: datetime.datetime, end: datetime.datetime, reason: str,
                         conflicts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"start": local(start).isoformat(), "end": local(end).isoformat(),
                           "reason": reason}
    if conflicts is not None:
        row["conflicts"] = conflicts
    return row


@transaction.atomic
def series_create(*, actor: User, space: Space, title: str, rrule: str,
                  start: datetime.datetime, end: datetime.datetime,
                  kind: str = BookingKind.CLASS, description: str = "", attendees: int = 0,
                  equipment: Sequence[EquipmentRequest] = (), skip_conflicts: bool = False,
                  override_rules: bool = False) -> SeriesResult:
    """One booking per occurrence, all in this transaction: all or nothing on conflict,
    unless `skip_conflicts`. Occurrences on closures are always skipped and reported."""
    space = Space.objects.select_related("school").prefetch_related("opening_hours").get(
        pk=space.pk)
    ensure_may_book(actor, space)
    if override_rules:
        ensure_manager(actor, space.school_id)
    if attendees > space.capacity:
        raise Invalid(_("This space holds at most %(capacity)d people.")
                      % {"capacity": space.capacity}, field="attendees")
    if start >= end:
        raise Invalid(_("The end must be after the start."), field="end")
    rule, occurrences = expand(rrule, start)
    duration = end - start
    closures = list(closures_for(space, local(occurrences[0]).date(),
                                 local(occurrences[-1] + duration).date()))
    now = timezone.now()
    plan: list[tuple[datetime.datetime, datetime.datetime]] = []
    skipped: list[dict[str, Any]] = []
    conflicting: list[dict[str, Any]] = []
    for occurrence_start in occurrences:
        occurrence_end = occurrence_start + duration
        day = local(occurrence_start).date()
        closure = next((c for c in closures if c.start_date <= day <= c.end_date
                        and c.space_id in (None, space.pk)), None)
        if closure is not None and not override_rules:
            skipped.append(_occurrence_conflict(occurrence_start, occurrence_end,
                                                _("Closed: %(reason)s") % {"reason": closure.reason}))
            continue
        try:
            check_rules(space=space, start=occurrence_start, end=occurrence_end,
                        override=override_rules, now=now, check_closures=False)
        except Invalid as error:
            raise Invalid(_("The occurrence of %(date)s: %(reason)s")
                          % {"date": fmt(occurrence_start), "reason": error.message},
                          field=error.field) from error
        found = conflicts_with(space, occurrence_start, occurrence_end)
        if found:
            conflicting.append(_occurrence_conflict(occurrence_start, occurrence_end,
                                                    _("Already booked"), found))
            continue
        plan.append((occurrence_start, occurrence_end))
    if conflicting and not skip_conflicts:
        raise Conflict(_("%(count)d occurrences clash with existing bookings; nothing was booked.")
                       % {"count": len(conflicting)}, conflicts=conflicting)
    skipped.extend(conflicting)
    if not plan:
        raise Invalid(_("No occurrence of this rule can be booked."), field="rrule")
    series = Series.objects.create(
        space=space, school_id=space.school_id, title=title, description=description, kind=kind,
        organizer=actor, attendees=attendees, rrule=rule,
        # The rule's first occurrence (RFC 5545 counts DTSTART as one: it must be on the rule).
        start=occurrences[0], end=occurrences[0] + duration)
    result = SeriesResult(series=series, skipped=skipped)
    status = initial_status(actor, space)
    for occurrence_start, occurrence_end in plan:
        try:
            with transaction.atomic():
                check_equipment(space=space, organizer=actor, kind=kind, start=occurrence_start,
                                end=occurrence_end, items=equipment)
                booking = _insert(Booking(
                    space=space, school_id=space.school_id, title=title, description=description,
                    kind=kind, organizer=actor, start=occurrence_start, end=occurrence_end,
                    attendees=attendees, status=status, series=series,
                    recurrence_id=occurrence_start, rules_overridden=override_rules))
                _reserve(booking, equipment)
        except Conflict as error:
            if not skip_conflicts:
                raise
            result.skipped.append(_occurrence_conflict(occurrence_start, occurrence_end,
                                                       str(error.message), error.conflicts))
            continue
        result.created.append(booking)
    if not result.created:
        raise Invalid(_("No occurrence of this rule can be booked."), field="rrule")
    result.skipped.sort(key=lambda row: row["start"])
    log_action(series, "series.created", actor=actor, school_id=space.school_id, data={
        "rrule": rule, "start": start, "end": end, "created": len(result.created),
        "skipped": [row["start"] for row in result.skipped]})
    return result


@transaction.atomic
def series_update(*, actor: User, series: Series, **changes: Any) -> Series:
    """Change title, description, kind or attendees of every occurrence not changed on its own."""
    series = Series.objects.select_for_update().get(pk=series.pk)
    if actor.pk != series.organizer_id and not actor.manages_school(series.school_id):
        raise NotAllowed(_("Only the organiser or a manager of this school may change this booking."))
    changes = {key: value for key, value in changes.items()
               if key in ("title", "description", "kind", "attendees")}
    if not changes:
        return series
    for key, value in changes.items():
        setattr(series, key, value)
    series.sequence += 1
    series.save()
    untouched = series.bookings.filter(is_exception=False, status__in=ACTIVE_STATUSES,
                                       end__gt=timezone.now())
    for booking in untouched.select_for_update().select_related("space", "organizer"):
        if "kind" in changes:
            check_equipment(space=booking.space, organizer=booking.organizer, kind=changes["kind"],
                            start=booking.start, end=booking.end,
                            items=[EquipmentRequest(row.equipment, row.quantity) for row in
                                   booking.equipment_items.select_related("equipment")],
                            exclude_booking_ids=[booking.pk])
        for key, value in changes.items():
            setattr(booking, key, value)
        booking.sequence = max(booking.sequence + 1, series.sequence)
        booking.save()
    log_action(series, "series.changed", actor=actor, school_id=series.school_id, data=changes)
    return series


@transaction.atomic
def series_cancel(*, actor: User, series: Series, from_date: datetime.date | None = None,
                  reason: str = "") -> list[Booking]:
    """Cancel the occurrences from `from_date` on (the whole future of the series when None).

    Occurrences already past are kept as they were; changed occurrences are cancelled too but
    keep their changes.
    """
    series = Series.objects.select_for_update().get(pk=series.pk)
    if actor.pk != series.organizer_id and not actor.manages_school(series.school_id):
        raise NotAllowed(_("Only the organiser or a manager of this school may change this booking."))
    now = timezone.now()
    bookings = series.bookings.select_for_update().select_related("organizer", "space").filter(
        status__in=ACTIVE_STATUSES, start__gte=now)
    if from_date is not None:
        bookings = bookings.filter(start__date__gte=from_date)
    cancelled = [_cancel(actor, booking, reason) for booking in bookings.order_by("start")]
    if not cancelled and series.cancelled_at is not None:
        raise Conflict(_("This series is already cancelled."))
    if from_date is None or from_date <= local(series.start).date():
        series.cancelled_at = now
    series.sequence += 1
    series.save(update_fields=["cancelled_at", "sequence", "updated_at"])
    log_action(series, "series.cancelled", actor=actor, school_id=series.school_id,
               data={"from": from_date, "cancelled": [b.pk for b in cancelled]})
    return cancelled


# --- closures --------------------------------------------------------------------------------

def bookings_during(closure: Closure) -> QuerySet[Booking]:
    first = datetime.datetime.combine(closure.start_date, datetime.time.min,
                                      tzinfo=timezone.get_current_timezone())
    last = datetime.datetime.combine(closure.end_date + datetime.timedelta(days=1),
                                     datetime.time.min, tzinfo=timezone.get_current_timezone())
    bookings = Booking.objects.active().filter(school_id=closure.school_id).overlapping(first, last)
    if closure.space_id is not None:
        bookings = bookings.filter(space_id=closure.space_id)
    return bookings.order_by("start")


@transaction.atomic
def closure_create(*, actor: User | None, school: Any, start_date: datetime.date,
                   end_date: datetime.date, reason: str, space: Space | None = None,
                   source: str = "manual", cancel_bookings: bool = False
                   ) -> tuple[Closure, list[Booking], bool]:
    """Close a school (or one space). Returns the closure, the bookings it falls on, and
    whether they were cancelled (with notice to their organisers) as asked."""
    ensure_manager(actor, school.pk)
    if space is not None and space.school_id != school.pk:
        raise Invalid(_("This space belongs to another school."), field="space")
    if end_date < start_date:
        raise Invalid(_("The last day cannot be before the first."), field="end_date")
    closure = Closure.objects.create(school=school, space=space, start_date=start_date,
                                     end_date=end_date, reason=reason, source=source,
                                     created_by=actor)
    affected = list(bookings_during(closure).select_related("organizer", "space"))
    if cancel_bookings:
        for booking in affected:
            _cancel(actor, booking, _("Closed: %(reason)s") % {"reason": reason})
    log_action(closure, "closure.created", actor=actor, school_id=school.pk, data={
        "space": space.pk if space else None, "start_date": start_date, "end_date": end_date,
        "reason": reason, "affected": [b.pk for b in affected], "cancelled": cancel_bookings})
    return closure, affected, cancel_bookings


@transaction.atomic
def closure_delete(*, actor: User, closure: Closure) -> None:
    ensure_manager(actor, closure.school_id)
    log_action(closure, "closure.deleted", actor=actor, school_id=closure.school_id, data={
        "start_date": closure.start_date, "end_date": closure.end_date, "reason": closure.reason})
    closure.delete()


def describe_day(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")
