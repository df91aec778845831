"""Schools, their spaces and bell schedules, the equipment inventory and loans."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class School(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("short name"), max_length=50, unique=True,
                            help_text=_("Used in addresses, e.g. ndc."))
    district = models.CharField(_("district / ward"), max_length=120, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("school")
        verbose_name_plural = _("schools")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SpaceKind(models.TextChoices):
    LAB = "lab", _("Laboratory")
    MAKERSPACE = "makerspace", _("Makerspace")
    STARTUP_ROOM = "startup_room", _("Startup room")
    CLASSROOM = "classroom", _("Classroom")


class Space(models.Model):
    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.PROTECT,
                               related_name="spaces")
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=20, choices=SpaceKind.choices,
                            default=SpaceKind.LAB)
    capacity = models.PositiveIntegerField(_("capacity"), default=30,
                                           validators=[MinValueValidator(1)],
                                           help_text=_("How many people fit."))
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    # Booking rules (checked by the bookings service).
    min_duration_minutes = models.PositiveIntegerField(
        _("shortest booking (minutes)"), default=30,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)])
    max_duration_minutes = models.PositiveIntegerField(
        _("longest booking (minutes)"), default=300,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)])
    max_days_ahead = models.PositiveIntegerField(
        _("bookable days ahead"), default=180, validators=[MaxValueValidator(730)],
        help_text=_("How far ahead a booking may start."))
    min_notice_minutes = models.PositiveIntegerField(
        _("notice needed (minutes)"), default=60, validators=[MaxValueValidator(30 * 24 * 60)],
        help_text=_("How long before its start a booking must be made."))
    student_bookings_need_approval = models.BooleanField(
        _("students' bookings need approval"), default=True)

    class Meta:
        verbose_name = _("space")
        verbose_name_plural = _("spaces")
        ordering = ["school__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["school", "name"], name="space_unique_name_per_school"),
            models.CheckConstraint(
                condition=Q(min_duration_minutes__lte=models.F("max_duration_minutes")),
                name="space_min_duration_not_above_max"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.school.slug})" if self.school_id else self.name


class OpeningHours(models.Model):
    """One opening interval of a space on one weekday (a day may have several)."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        ordering = ["weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(opens__lt=models.F("closes")),
                                   name="opening_hours_opens_before_closes"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Session(models.TextChoices):
    MORNING = "morning", _("Morning")
    AFTERNOON = "afternoon", _("Afternoon")


class Period(models.Model):
    """A numbered lesson period (tiết) of a school's bell schedule.

    Periods with no weekday apply to every day; periods for a given weekday
    replace them on that day, so schools whose Monday or Saturday differs can say so.
    """

    school = models.ForeignKey(School, verbose_name=_("school"), on_delete=models.CASCADE,
                               related_name="periods")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=Weekday.choices, null=True, blank=True,
        help_text=_("Empty: every day without its own schedule."))
    number = models.PositiveSmallIntegerField(
        _("period"), validators=[MinValueValidator(1), MaxValueValidator(20)])
    session = models.CharField(_("session"), max_length=10, choices=Session.choices)
    start = models.TimeField(_("starts"))
    end = models.TimeField(_("ends"))

    class Meta:
        verbose_name = _("period")
        verbose_name_plural = _("bell schedule")
        ordering = ["school", "weekday", "number"]
        constraints = [
            models.UniqueConstraint(fields=["school", "weekday", "number"],
                                    name="period_unique_number_per_day"),
            models.UniqueConstraint(fields=["school", "number"], condition=Q(weekday__isnull=True),
                                    name="period_unique_number_every_day"),
            models.CheckConstraint(condition=Q(start__lt=models.F("end")),
                                   name="period_starts_before_end"),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.start:%H:%M}–{self.end:%H:%M}"


class EquipmentCategory(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    requires_certification = models.BooleanField(
        _("requires certification"), default=False,
        help_text=_("Only people certified on this category may borrow or book it."))
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("equipment category")
        verbose_name_plural = _("equipment categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EquipmentKind(models.TextChoices):
    ASSET = "asset", _("Asset (one tagged item)")
    STOCK = "stock", _("Stock (a counted pool)")


class EquipmentStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    MAINTENANCE = "maintenance", _("In maintenance")
    BROKEN = "broken", _("Broken")
    RETIRED = "retired", _("Retired")


class FundingSource(models.TextChoices):
    DEPARTMENT = "department", _("Department of Science and Technology")
    UNION = "union", _("Provincial Youth Union")
    SCHOOL = "school", _("School")
    DONATION = "donation", _("Donation")


class EquipmentQuerySet(models.QuerySet["Equipment"]):
    def with_availability(self) -> EquipmentQuerySet:
        """Annotate `on_loan` and `available` (owned − on loan; 0 unless status is available)."""
        on_loan = Coalesce(Sum("loans__quantity", filter=Q(loans__returned_at__isnull=True)), 0)
        return self.annotate(on_loan_quantity=on_loan).annotate(
            available=models.Case(
                models.When(status=EquipmentStatus.AVAILABLE,
                            then=models.F("quantity") - models.F("on_loan_quantity")),
                default=models.Value(0),
                output_field=models.IntegerField(),
            )
        )

    def for_school(self, school_id: int) -> EquipmentQuerySet:
        return self.filter(space__school_id=school_id)


class Equipment(models.Model):
    space = models.ForeignKey(Space, verbose_name=_("space"), on_delete=models.PROTECT,
                              related_name="equipment", help_text=_("Where it is kept."))
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(EquipmentCategory, verbose_name=_("category"),
                                 on_delete=models.PROTECT, related_name="equipment")
    kind = models.CharField(_("kind"), max_length=10, choices=EquipmentKind.choices,
                            default=EquipmentKind.ASSET)
    asset_tag = models.CharField(_("asset tag"), max_length=64, unique=True, null=True,
                                 blank=True, help_text=_("Printed on the QR label; assets only."))
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    quantity = models.PositiveIntegerField(_("quantity owned"), default=1,
                                           help_text=_("Always 1 for an asset."))
    unit = models.CharField(_("unit"), max_length=30, blank=True, help_text=_("e.g. set, roll"))
    is_consumable = models.BooleanField(_("consumable"), default=False)
    low_stock_threshold = models.PositiveIntegerField(
        _("low-stock threshold"), null=True, blank=True,
        help_text=_("Warn when the quantity falls to this level."))
    status = models.CharField(_("status"), max_length=16, choices=EquipmentStatus.choices,
                              default=EquipmentStatus.AVAILABLE)
    purchase_date = models.DateField(_("purchase date"), null=True, blank=True)
    cost_vnd = models.PositiveBigIntegerField(_("unit cost (VND)"), null=True, blank=True)
    funding_source = models.CharField(_("funding source"), max_length=16,
                                      choices=FundingSource.choices, blank=True)
    last_audit_on = models.DateField(_("last audited on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = EquipmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("equipment item")
        verbose_name_plural = _("equipment")
        ordering = ["space", "name", "asset_tag"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="asset") | Q(quantity=1),
                name="equipment_asset_is_one_item"),
            models.CheckConstraint(
                condition=~Q(kind="stock") | Q(asset_tag__isnull=True),
                name="equipment_stock_has_no_asset_tag"),
        ]
        indexes = [models.Index(fields=["space", "status"])]

    def __str__(self) -> str:
        return f"{self.name} [{self.asset_tag}]" if self.asset_tag else self.name

    @property
    def school_id(self) -> int:
        return self.space.school_id

    @property
    def requires_certification(self) -> bool:
        return self.category.requires_certification

    @property
    def is_low_stock(self) -> bool:
        return self.low_stock_threshold is not None and self.quantity <= self.low_stock_threshold


class MaintenanceKind(models.TextChoices):
    MAINTENANCE = "maintenance", _("Maintenance")
    REPAIR = "repair", _("Repair")
    AUDIT = "audit", _("Inventory check")
    NOTE = "note", _("Note")


class MaintenanceRecord(models.Model):
    equipment = models.ForeignKey(Equipment, verbose_name=_("equipment item"),
                                  on_delete=models.PROTECT, related_name="maintenance")
    kind = models.CharField(_("kind"), max_length=16, choices=MaintenanceKind.choices,
                            default=MaintenanceKind.MAINTENANCE)
    performed_on = models.DateField(_("date"), default=timezone.localdate)
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"),
                                     null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    description = models.TextField(_("what was done"))
    cost_vnd = models.PositiveBigIntegerField(_("cost (VND)"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("maintenance or audit record")
        verbose_name_plural = _("maintenance and audit log")
        ordering = ["-performed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.performed_on:%d/%m/%Y} {self.get_kind_display()}"


class LoanQuerySet(models.QuerySet["Loan"]):
    def open(self) -> LoanQuerySet:
        return self.filter(returned_at__isnull=True)

    def overdue(self, now: datetime.datetime | None = None) -> LoanQuerySet:
        return self.open().filter(due_at__lt=now or timezone.now())


class Loan(models.Model):
    equipment = models.ForeignKey(Equipment, verbose_name=_("equipment item"),
                                  on_delete=models.PROTECT, related_name="loans")
    borrower = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("borrower"),
                                 on_delete=models.PROTECT, related_name="loans")
    quantity = models.PositiveIntegerField(_("quantity"), default=1,
                                           validators=[MinValueValidator(1)])
    checked_out_at = models.DateTimeField(_("lent at"), default=timezone.now)
    due_at = models.DateTimeField(_("due back"))
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    return_condition = models.CharField(_("condition on return"), max_length=255, blank=True)
    lent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("lent by"),
                                on_delete=models.PROTECT, related_name="+")
    returned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("received by"),
                                    null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    notes = models.CharField(_("notes"), max_length=255, blank=True)

    objects = LoanQuerySet.as_manager()

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-checked_out_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="loan_quantity_positive"),
            models.CheckConstraint(condition=Q(due_at__gt=models.F("checked_out_at")),
                                   name="loan_due_after_checkout"),
        ]
        indexes = [
            models.Index(fields=["equipment"], condition=Q(returned_at__isnull=True),
                         name="loan_open_by_equipment"),
            models.Index(fields=["due_at"], condition=Q(returned_at__isnull=True),
                         name="loan_open_by_due"),
        ]

    def __str__(self) -> str:
        return f"{self.equipment} × {self.quantity} → {self.borrower}"

    @property
    def is_open(self) -> bool:
        return self.returned_at is None

    @property
    def is_overdue(self) -> bool:
        return self.returned_at is None and self.due_at < timezone.now()
