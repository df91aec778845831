"""Writes to the inventory: every entry point (API, admin, commands) goes through these."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import log_action
from accounts.models import SCHOOL_ROLES, Certification, Role, User
from spaces.availability import FOREVER, peak_use
from spaces.errors import Conflict, Invalid, NotAllowed
from spaces.models import (
    Equipment,
    EquipmentCategory,
    EquipmentKind,
    EquipmentStatus,
    Loan,
    MaintenanceRecord,
    OpeningHours,
    Period,
    Space,
)

EQUIPMENT_FIELDS = (
    "space", "name", "category", "kind", "asset_tag", "serial_number", "quantity", "unit",
    "is_consumable", "low_stock_threshold", "status", "purchase_date", "cost_vnd",
    "funding_source", "last_audit_on", "notes",
)


def ensure_manager(actor: User | None, school_id: int | None) -> None:
    """`actor=None` is the system itself (management commands, seeding): always allowed."""
    if actor is not None and not actor.manages_school(school_id):
        raise NotAllowed(_("Only a manager of this school may do this."))


def _on_loan(equipment: Equipment) -> int:
    return equipment.loans.filter(returned_at__isnull=True).aggregate(
        total=Sum("quantity"))["total"] or 0


def _check_equipment(values: dict[str, Any]) -> None:
    kind = values.get("kind")
    if kind == EquipmentKind.ASSET:
        if values.get("quantity", 1) != 1:
            raise Invalid(_("An asset is one item: its quantity is 1."), field="quantity")
        if not values.get("asset_tag"):
            raise Invalid(_("An asset needs an asset tag."), field="asset_tag")
    elif kind == EquipmentKind.STOCK and values.get("asset_tag"):
        raise Invalid(_("Counted stock has no asset tag; record tagged items as assets."),
                      field="asset_tag")
    tag = values.get("asset_tag")
    if tag is not None:
        values["asset_tag"] = tag.strip() or None


@transaction.atomic
def equipment_create(*, actor: User | None, **values: Any) -> Equipment:
    space: Space = values["space"]
    ensure_manager(actor, space.school_id)
    values = {key: value for key, value in values.items() if key in EQUIPMENT_FIELDS}
    values.setdefault("kind", EquipmentKind.ASSET)
    if values["kind"] == EquipmentKind.ASSET:
        values.setdefault("quantity", 1)
    _check_equipment(values)
    if values.get("asset_tag") and Equipment.objects.filter(asset_tag=values["asset_tag"]).exists():
        raise Invalid(_("This asset tag is already used."), field="asset_tag")
    equipment = Equipment.objects.create(**values)
    log_action(equipment, "equipment.created", actor=actor, school_id=space.school_id,
               data={key: values[key] for key in values})
    return equipment


@transaction.atomic
def equipment_update(*, actor: User | None, equipment: Equipment, **changes: Any) -> Equipment:
    # Lock the row so that a quantity change and a loan cannot interleave.
    equipment = Equipment.objects.select_for_update().select_related("space").get(pk=equipment.pk)
    ensure_manager(actor, equipment.space.school_id)
    changes = {key: value for key, value in changes.items() if key in EQUIPMENT_FIELDS}
    if "space" in changes:
        ensure_manager(actor, changes["space"].school_id)
    values = {field: getattr(equipment, field) for field in EQUIPMENT_FIELDS}
    values.update(changes)
    _check_equipment(values)
    tag = values.get("asset_tag")
    if tag and Equipment.objects.filter(asset_tag=tag).exclude(pk=equipment.pk).exists():
        raise Invalid(_("This asset tag is already used."), field="asset_tag")
    on_loan = _on_loan(equipment)
    if values["quantity"] < on_loan:
        raise Conflict(_("%(count)d are on loan: the quantity cannot be lower.")
                       % {"count": on_loan}, field="quantity")
    if values["quantity"] < equipment.quantity:
        # Nor below what bookings reserve (with loans) at once from now on (check_integrity).
        in_use = peak_use([equipment.pk], timezone.now(), FOREVER)[equipment.pk]
        if values["quantity"] < in_use:
            raise Conflict(_("%(count)d are reserved or on loan at the same time: the quantity "
                             "cannot be lower.") % {"count": in_use}, field="quantity")
    before = {field: getattr(equipment, field) for field in changes}
    for field in changes:
        setattr(equipment, field, values[field])
    equipment.save()
    changed = {field: [before[field], values[field]] for field in changes
               if before[field] != values[field]}
    if changed:
        log_action(equipment, "equipment.changed", actor=actor,
                   school_id=equipment.space.school_id, data=changed)
    return equipment


def equipment_retire(*, actor: User | None, equipment: Equipment) -> Equipment:
    """Equipment is never deleted: it is retired, and keeps its history."""
    return equipment_update(actor=actor, equipment=equipment, status=EquipmentStatus.RETIRED)


@transaction.atomic
def maintenance_record(*, actor: User | None, equipment: Equipment, description: str,
                       kind: str = "maintenance", performed_on: datetime.date | None = None,
                       cost_vnd: int | None = None) -> MaintenanceRecord:
    ensure_manager(actor, equipment.space.school_id)
    record = MaintenanceRecord.objects.create(
        equipment=equipment, kind=kind, description=description, cost_vnd=cost_vnd,
        performed_on=performed_on or timezone.localdate(), performed_by=actor)
    if kind == "audit":
        Equipment.objects.filter(pk=equipment.pk).update(last_audit_on=record.performed_on)
    log_action(record, "maintenance.recorded", actor=actor,
               school_id=equipment.space.school_id,
               data={"equipment": equipment.pk, "kind": kind, "cost_vnd": cost_vnd})
    return record


def holds_certification(user: User, category: EquipmentCategory,
                        day: datetime.date | None = None) -> bool:
    day = day or timezone.localdate()
    return any(cert.is_valid_on(day) for cert in user.certifications.filter(category=category))


def ensure_certified(user: User, category: EquipmentCategory) -> None:
    if category.requires_certification and not holds_certification(user, category):
        raise NotAllowed(
            _("%(person)s has no valid certification for %(category)s.")
            % {"person": user, "category": category.name})


@transaction.atomic
def loan_create(*, actor: User, equipment: Equipment, borrower: User, quantity: int,
                due_at: datetime.datetime, notes: str = "") -> Loan:
    # The row lock serialises loans of one item on PostgreSQL (SQLite's
    # immediate transactions already serialise every write), so that two
    # requests for the last unit cannot both see it free.
    equipment = (Equipment.objects.select_for_update()
                 .select_related("space", "category").get(pk=equipment.pk))
    ensure_manager(actor, equipment.space.school_id)
    if quantity < 1:
        raise Invalid(_("Lend at least one."), field="quantity")
    now = timezone.now()
    if due_at <= now:
        raise Invalid(_("The due time must be in the future."), field="due_at")
    if borrower.role in SCHOOL_ROLES and borrower.school_id != equipment.space.school_id:
        raise Invalid(_("The borrower belongs to another school."), field="borrower")
    if not borrower.is_active:
        raise Invalid(_("This account is disabled."), field="borrower")
    ensure_certified(borrower, equipment.category)
    if equipment.status != EquipmentStatus.AVAILABLE:
        raise Conflict(_("This item is not available (%(status)s).")
                       % {"status": equipment.get_status_display()})
    # Units out on loan or reserved by bookings at any moment until it is due back.
    in_use = peak_use([equipment.pk], now, due_at, now=now)[equipment.pk]
    available = equipment.quantity - in_use
    if quantity > available:
        raise Conflict(_("Only %(available)d available, %(quantity)d asked.")
                       % {"available": max(available, 0), "quantity": quantity},
                       field="quantity")
    loan = Loan.objects.create(equipment=equipment, borrower=borrower, quantity=quantity,
                               checked_out_at=now, due_at=due_at, lent_by=actor, notes=notes)
    log_action(loan, "loan.created", actor=actor, school_id=equipment.space.school_id,
               data={"equipment": equipment.pk, "borrower": borrower.pk, "quantity": quantity,
                     "due_at": due_at})
    return loan


@transaction.atomic
def loan_return(*, actor: User, loan: Loan, condition: str = "") -> Loan:
    loan = Loan.objects.select_for_update().select_related("equipment__space").get(pk=loan.pk)
    ensure_manager(actor, loan.equipment.space.school_id)
    if loan.returned_at is not None:
        raise Conflict(_("This loan was already returned on %(date)s.")
                       % {"date": timezone.localtime(loan.returned_at).strftime("%d/%m/%Y")})
    loan.returned_at = timezone.now()
    loan.returned_to = actor
    loan.return_condition = condition
    loan.save(update_fields=["returned_at", "returned_to", "return_condition"])
    log_action(loan, "loan.returned", actor=actor, school_id=loan.equipment.space.school_id,
               data={"condition": condition})
    return loan


@transaction.atomic
def certification_grant(*, actor: User, user: User, category: EquipmentCategory,
                        certified_on: datetime.date | None = None,
                        expires_on: datetime.date | None = None,
                        notes: str = "") -> Certification:
    if actor.role != Role.MANAGER and not actor.is_superuser:
        raise NotAllowed(_("Only a space manager may certify people."))
    if user.role in SCHOOL_ROLES:
        ensure_manager(actor, user.school_id)
    certified_on = certified_on or timezone.localdate()
    if expires_on is not None and expires_on < certified_on:
        raise Invalid(_("A certification cannot expire before it is given."), field="expires_on")
    cert = Certification.objects.create(user=user, category=category, certified_on=certified_on,
                                        expires_on=expires_on, certified_by=actor, notes=notes)
    log_action(cert, "certification.granted", actor=actor, school_id=user.school_id,
               data={"user": user.pk, "category": category.pk, "expires_on": expires_on})
    return cert


@transaction.atomic
def certification_revoke(*, actor: User, certification: Certification) -> Certification:
    if certification.user.role in SCHOOL_ROLES:
        ensure_manager(actor, certification.user.school_id)
    elif actor.role != Role.MANAGER and not actor.is_superuser:
        raise NotAllowed(_("Only a space manager may certify people."))
    if certification.revoked_at is None:
        certification.revoked_at = timezone.now()
        certification.save(update_fields=["revoked_at"])
        log_action(certification, "certification.revoked", actor=actor,
                   school_id=certification.user.school_id)
    return certification


SPACE_FIELDS = (
    "school", "name", "kind", "capacity", "description", "is_active", "min_duration_minutes",
    "max_duration_minutes", "max_days_ahead", "min_notice_minutes",
    "student_bookings_need_approval",
)


def _check_opening_hours(hours: list[dict[str, Any]]) -> None:
    by_day: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
    for row in hours:
        if row["opens"] >= row["closes"]:
            raise Invalid(_("A space must open before it closes."), field="opening_hours")
        by_day.setdefault(row["weekday"], []).append((row["opens"], row["closes"]))
    for intervals in by_day.values():
        intervals.sort()
        for (_a, first_end), (second_start, _b) in zip(intervals, intervals[1:], strict=False):
            if second_start < first_end:
                raise Invalid(_("Opening hours of one day overlap."), field="opening_hours")


@transaction.atomic
def space_save(*, actor: User | None, space: Space | None = None,
               opening_hours: list[dict[str, Any]] | None = None, **values: Any) -> Space:
    """Create a space (space=None) or change one; `opening_hours` replaces the week's hours."""
    values = {key: value for key, value in values.items() if key in SPACE_FIELDS}
    if space is not None:
        ensure_manager(actor, space.school_id)
    school = values.get("school") or (space.school if space else None)
    if school is None:
        raise Invalid(_("This field is required."), field="school")
    ensure_manager(actor, school.pk)
    low = values.get("min_duration_minutes", space.min_duration_minutes if space else 30)
    high = values.get("max_duration_minutes", space.max_duration_minutes if space else 300)
    if low > high:
        raise Invalid(_("The shortest booking cannot be longer than the longest."),
                      field="min_duration_minutes")
    name = values.get("name", space.name if space else "")
    clash = Space.objects.filter(school=school, name__iexact=name)
    if space is not None:
        clash = clash.exclude(pk=space.pk)
    if clash.exists():
        raise Invalid(_("This school already has a space with this name."), field="name")
    if space is None:
        space = Space.objects.create(**values)
        action = "space.created"
    else:
        for key, value in values.items():
            setattr(space, key, value)
        space.save()
        action = "space.changed"
    if opening_hours is not None:
        _check_opening_hours(opening_hours)
        space.opening_hours.all().delete()
        OpeningHours.objects.bulk_create(OpeningHours(space=space, **row) for row in opening_hours)
    log_action(space, action, actor=actor, school_id=school.pk,
               data={**values, "opening_hours": opening_hours})
    return space


PERIOD_FIELDS = ("school", "weekday", "number", "session", "start", "end")


@transaction.atomic
def period_save(*, actor: User | None, period: Period | None = None, **values: Any) -> Period:
    values = {key: value for key, value in values.items() if key in PERIOD_FIELDS}
    if period is not None:
        ensure_manager(actor, period.school_id)
        merged = {field: getattr(period, field) for field in PERIOD_FIELDS} | values
    else:
        merged = values
    school = merged.get("school")
    if school is None:
        raise Invalid(_("This field is required."), field="school")
    ensure_manager(actor, school.pk)
    if merged["start"] >= merged["end"]:
        raise Invalid(_("A period must start before it ends."), field="end")
    same_day = Period.objects.filter(school=school, weekday=merged.get("weekday"))
    if period is not None:
        same_day = same_day.exclude(pk=period.pk)
    if same_day.filter(number=merged["number"]).exists():
        raise Invalid(_("This period number is already in the schedule."), field="number")
    if same_day.filter(start__lt=merged["end"], end__gt=merged["start"]).exists():
        raise Invalid(_("This period overlaps another period of the same day."), field="start")
    if period is None:
        period = Period.objects.create(**merged)
    else:
        for key, value in values.items():
            setattr(period, key, value)
        period.save()
    log_action(period, "period.saved", actor=actor, school_id=school.pk, data=values)
    return period


def _schedule_of(rows: list[Period], day: datetime.date) -> dict[int, Period]:
    """The bell schedule of `day`: the weekday's own periods if it has any, else every day's."""
    own = {row.number: row for row in rows if row.weekday == day.weekday()}
    return own or {row.number: row for row in rows if row.weekday is None}


def periods_for_day(school_id: int, day: datetime.date) -> dict[int, Period]:
    """The bell schedule of `day`: the weekday's own periods if it has any, else every day's."""
    rows = list(Period.objects.filter(school_id=school_id)
                .filter(models.Q(weekday=day.weekday()) | models.Q(weekday__isnull=True)))
    return _schedule_of(rows, day)


def periods_for_days(school_id: int, days: list[datetime.date]
                     ) -> dict[datetime.date, dict[int, Period]]:
    """periods_for_day for several days (a calendar's week) in one query."""
    rows = list(Period.objects.filter(school_id=school_id).order_by("number"))
    return {day: _schedule_of(rows, day) for day in days}


def period_times(*, school_id: int, day: datetime.date, first: int, last: int
                 ) -> tuple[datetime.datetime, datetime.datetime]:
    """Turn "tiết 3–5 on 12/01/2027" into a start and an end in Vietnam time."""
    if first > last:
        raise Invalid(_("The first period must not come after the last."), field="period_to")
    schedule = periods_for_day(school_id, day)
    for number, name in ((first, "period_from"), (last, "period_to")):
        if number not in schedule:
            raise Invalid(_("There is no period %(number)d on %(date)s.")
                          % {"number": number, "date": day.strftime("%d/%m/%Y")}, field=name)
    tz = timezone.get_current_timezone()
    return (datetime.datetime.combine(day, schedule[first].start, tzinfo=tz),
            datetime.datetime.combine(day, schedule[last].end, tzinfo=tz))
