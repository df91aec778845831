"""Bookings of spaces (and their equipment) over time, recurring series and closures."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import F, Func, Q, Value
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _


def new_uid() -> str:
    return uuid.uuid4().hex


class BookingKind(models.TextChoices):
    CLASS = "class", _("Class")
    CLUB = "club", _("Club")
    PROJECT_WORK = "project_work", _("Project work")
    MENTOR_SESSION = "mentor_session", _("Mentor session")
    WORKSHOP = "workshop", _("Workshop")
    EVENT = "event", _("Event")
    MAINTENANCE = "maintenance", _("Maintenance")


class BookingStatus(models.TextChoices):
    PENDING = "pending", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


# Bookings that hold their slot: the exclusion constraint covers exactly these.
ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.APPROVED)


class Series(models.Model):
    """A recurring booking: an RFC 5545 RRULE materialised as one Booking per occurrence."""

    space = models.ForeignKey("spaces.Space", verbose_name=_("space"), on_delete=models.PROTECT,
                              related_name="series")
    school = models.ForeignKey("spaces.School", verbose_name=_("school"),
                               on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=BookingKind.choices)
    organizer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("organizer"),
                                  on_delete=models.PROTECT, related_name="series")
    attendees = models.PositiveIntegerField(_("attendees"), default=0)
    rrule = models.CharField(_("recurrence rule"), max_length=500,
                             help_text=_("RFC 5545, e.g. FREQ=WEEKLY;BYDAY=TU;UNTIL=20270115T000000Z"))
    start = models.DateTimeField(_("first start"))
    end = models.DateTimeField(_("first end"))
    uid = models.CharField(_("calendar UID"), max_length=64, unique=True, default=new_uid,
                           editable=False)
    sequence = models.PositiveIntegerField(_("revision"), default=0)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("recurring booking")
        verbose_name_plural = _("recurring bookings")
        ordering = ["-start", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")),
                                   name="series_starts_before_end"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.rrule})"


class BookingQuerySet(models.QuerySet["Booking"]):
    def active(self) -> BookingQuerySet:
        return self.filter(status__in=ACTIVE_STATUSES)

    def overlapping(self, start: datetime.datetime, end: datetime.datetime) -> BookingQuerySet:
        return self.filter(start__lt=end, end__gt=start)

    def of_space_overlapping(self, space_id: int, start: datetime.datetime,
                             end: datetime.datetime) -> BookingQuerySet:
        """Active bookings of one space overlapping [start, end).

        On PostgreSQL asked as the exclusion constraint's own expression, so that its GiST
        index finds them in a few pages however long the space's history; the space id is
        cast to bigint because btree_gist has no bigint = integer operator.
        """
        active = self.filter(status__in=ACTIVE_STATUSES)
        if connections[self.db].vendor != "postgresql":
            return active.filter(space_id=space_id).overlapping(start, end)
        return (active.filter(space_id=Cast(Value(space_id), models.BigIntegerField()))
                .alias(span=Func(F("start"), F("end"), Value("[)"), function="tstzrange",
                                 output_field=DateTimeRangeField()))
                .filter(span__overlap=DateTimeTZRange(start, end, "[)")))


class Booking(models.Model):
    # The composite indexes in Meta lead with space, school and organizer: the plain
    # foreign-key indexes would only slow every insert down.
    space = models.ForeignKey("spaces.Space", verbose_name=_("space"), on_delete=models.PROTECT,
                              related_name="bookings", db_index=False)
    # Denormalised from the space: every row reachable by school (reports, partitioning).
    school = models.ForeignKey("spaces.School", verbose_name=_("school"),
                               on_delete=models.PROTECT, related_name="+", db_index=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=BookingKind.choices,
                            default=BookingKind.CLASS)
    organizer = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("organizer"),
                                  on_delete=models.PROTECT, related_name="bookings",
                                  db_index=False)
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    attendees = models.PositiveIntegerField(_("attendees"), default=0,
                                            validators=[MaxValueValidator(10_000)])
    status = models.CharField(_("status"), max_length=10, choices=BookingStatus.choices,
                              default=BookingStatus.PENDING)
    uid = models.CharField(_("calendar UID"), max_length=64, unique=True, default=new_uid,
                           editable=False)
    sequence = models.PositiveIntegerField(_("revision"), default=0,
                                           help_text=_("Grows with every change (iCal SEQUENCE)."))
    series = models.ForeignKey(Series, verbose_name=_("series"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="bookings")
    recurrence_id = models.DateTimeField(
        _("original start"), null=True, blank=True,
        help_text=_("For an occurrence of a series: the start the rule gave it."))
    is_exception = models.BooleanField(
        _("changed occurrence"), default=False,
        help_text=_("Changed on its own: series-wide edits leave it alone."))
    rules_overridden = models.BooleanField(
        _("rules overridden"), default=False,
        help_text=_("A manager booked outside opening hours or the booking horizon."))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=500, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("cancelled by"),
                                     null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=models.F("end")),
                                   name="booking_starts_before_end"),
            models.UniqueConstraint(fields=["series", "recurrence_id"],
                                    condition=Q(series__isnull=False),
                                    name="booking_one_per_occurrence"),
        ]
        indexes = [
            models.Index(fields=["space", "start"], name="booking_space_start"),
            models.Index(fields=["school", "start"], name="booking_school_start"),
            models.Index(fields=["organizer", "start"], name="booking_organizer_start"),
            models.Index(fields=["status", "school"], name="booking_status_school"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class BookingEquipment(models.Model):
    """Units of one equipment item reserved for a booking's time."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="equipment_items")
    equipment = models.ForeignKey("spaces.Equipment", verbose_name=_("equipment item"),
                                  on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField(_("quantity"), default=1,
                                           validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("equipment reservation")
        verbose_name_plural = _("equipment reservations")
        constraints = [
            models.UniqueConstraint(fields=["booking", "equipment"],
                                    name="reservation_one_row_per_item"),
            models.CheckConstraint(condition=Q(quantity__gte=1),
                                   name="reservation_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.equipment} × {self.quantity}"


class ClosureSource(models.TextChoices):
    MANUAL = "manual", _("Set by a manager")
    HOLIDAY = "holiday", _("Public holiday")
    SCHOOL_BREAK = "school_break", _("School break")


class Closure(models.Model):
    """Days a school (or one space) is closed: holidays, Tết, exams, repairs."""

    school = models.ForeignKey("spaces.School", verbose_name=_("school"),
                               on_delete=models.PROTECT, related_name="closures")
    space = models.ForeignKey("spaces.Space", verbose_name=_("space"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="closures",
                              help_text=_("Empty: the whole school is closed."))
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    reason = models.CharField(_("reason"), max_length=200)
    source = models.CharField(_("source"), max_length=16, choices=ClosureSource.choices,
                              default=ClosureSource.MANUAL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        ordering = ["start_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(start_date__lte=models.F("end_date")),
                                   name="closure_ends_after_start"),
        ]
        indexes = [models.Index(fields=["school", "start_date", "end_date"],
                                name="closure_school_dates")]

    def __str__(self) -> str:
        return f"{self.reason} ({self.start_date:%d/%m/%Y}–{self.end_date:%d/%m/%Y})"
