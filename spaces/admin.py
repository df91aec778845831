"""The admin: superusers see everything, a space manager keeps their own school's records.

Managers need no Django model permissions: SchoolScopedAdmin grants them view,
add and change on their school's objects (as each admin declares) and scopes
every queryset and choice list to that school. Nobody but a superuser deletes:
equipment is retired, loans are returned. Writes that have rules (equipment,
loans, maintenance, certifications) go through the services, so the admin
obeys the same rules and leaves the same audit trail as the API.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from spaces import services
from spaces.errors import DomainError
from spaces.importer import MAX_FILE_SIZE, import_equipment
from spaces.models import (
    Equipment,
    EquipmentCategory,
    EquipmentQuerySet,
    Loan,
    LoanQuerySet,
    MaintenanceRecord,
    OpeningHours,
    Period,
    School,
    Space,
)

admin.site.site_header = _("STEM Space administration")
admin.site.site_title = _("STEM Space")
admin.site.index_title = _("Records")


def managed_school_id(user: Any) -> int | None:
    """The school an active space manager looks after (None for everyone else)."""
    if (user.is_active and not user.is_superuser and getattr(user, "role", None) == Role.MANAGER
            and user.school_id):
        return int(user.school_id)
    return None


def school_id_of(obj: Any, school_path: str) -> int | None:
    """Follow a lookup path ("space__school") from an object to its school's id."""
    *relations, last = school_path.split("__")
    for relation in relations:
        obj = getattr(obj, relation, None)
        if obj is None:
            return None
    if last == "pk":
        return obj.pk
    if hasattr(obj, f"{last}_id"):
        return getattr(obj, f"{last}_id")
    return getattr(obj, last)


def scoped_choices(model: type[models.Model], school_id: int) -> QuerySet[Any] | None:
    """What a manager of `school_id` may pick in a foreign key to `model`."""
    if model is Space:
        return Space.objects.filter(school_id=school_id)
    if model is School:
        return School.objects.filter(pk=school_id)
    if model is User:
        return User.objects.filter(school_id=school_id)
    if model is Equipment:
        return Equipment.objects.for_school(school_id).select_related("space")
    return None


if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin
    _Inline = admin.options.InlineModelAdmin
else:
    _ModelAdmin = _Inline = object


class SchoolScopedMixin(_ModelAdmin):
    """Limit an admin to the manager's school; grant managers `manager_permissions`.

    `school_path` leads from the model to its school (None: shared by every school).
    Superusers keep Django's behaviour; other staff keep their Django permissions,
    scoped to their school if they have one. Only superusers ever delete.
    """

    school_path: str | None = "school"
    manager_permissions: frozenset[str] = frozenset({"view", "add", "change"})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        user: Any = request.user
        if user.is_superuser or self.school_path is None or not user.school_id:
            return queryset
        return queryset.filter(**{self.school_path: user.school_id})

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None
                   ) -> Any:
        # Another school's object is not found, rather than a redirect to the index.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(gettext("No such record."))
        return obj

    def _manager_may(self, request: HttpRequest, permission: str, obj: Any = None
                     ) -> bool | None:
        """True/False for a manager, None for anyone else (Django decides)."""
        school_id = managed_school_id(request.user)
        if school_id is None:
            return None
        if permission not in self.manager_permissions:
            return False
        return obj is None or self.school_path is None or (
            school_id_of(obj, self.school_path) == school_id)

    def has_module_permission(self, request: HttpRequest) -> bool:
        if managed_school_id(request.user) is not None:
            return bool(self.manager_permissions)
        return super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        may = self._manager_may(request, "view", obj)
        if may is None:
            return super().has_view_permission(request, obj)
        return may or self.has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        may = self._manager_may(request, "add")
        return super().has_add_permission(request, *args) if may is None else may

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        may = self._manager_may(request, "change", obj)
        return super().has_change_permission(request, obj) if may is None else may

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Nothing is deleted: equipment is retired, loans returned, bookings cancelled.
        return bool(request.user.is_superuser) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any
                                 ) -> Any:
        user: Any = request.user
        if not user.is_superuser and user.school_id and "queryset" not in kwargs:
            choices = scoped_choices(db_field.related_model, user.school_id)
            if choices is not None:
                kwargs["queryset"] = choices
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SchoolScopedAdmin(SchoolScopedMixin, admin.ModelAdmin):
    pass


def _no_constraint_checks(*args: Any, **kwargs: Any) -> None:
    return None


class ServiceModelForm(forms.ModelForm):
    """A form whose object is saved by a service.

    The services check the rules behind the model's check constraints and say
    what is wrong in words, where a failed constraint would only be named, so
    the form leaves constraints to them.
    """

    def _post_clean(self) -> None:
        self.instance.validate_constraints = _no_constraint_checks
        try:
            super()._post_clean()  # type: ignore[misc]
        finally:
            del self.instance.validate_constraints


_SERVICE_ERROR = "_stemspace_service_error"


class ServiceAdmin(SchoolScopedAdmin):
    """An admin whose save_model/save_related call services.

    A DomainError from a service rolls the whole save back; the form is then shown
    again with the rule's message on the field at fault, instead of a server error.
    """

    form = ServiceModelForm

    def changeform_view(self, request: HttpRequest, object_id: str | None = None,
                        form_url: str = "", extra_context: dict[str, Any] | None = None
                        ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            if getattr(request, _SERVICE_ERROR, None) is not None:
                raise
            # The failed save's transaction was rolled back; validate the same
            # input again, this time with the rule's answer as a form error.
            setattr(request, _SERVICE_ERROR, error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False,
                 **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)
        error: DomainError | None = getattr(request, _SERVICE_ERROR, None)
        if error is None:
            return form_class

        def clean(form: forms.ModelForm) -> Any:
            cleaned = form_class.clean(form)
            form.add_error(error.field if error.field in form.fields else None,
                           str(error.message))
            return cleaned

        return type(form_class.__name__, (form_class,), {"clean": clean})

    @staticmethod
    def copy_saved(saved: models.Model, obj: models.Model) -> None:
        """Make the admin's unsaved instance the object the service saved."""
        for model_field in saved._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(saved, model_field.attname))
        obj._state.adding = False
        obj._state.db = saved._state.db

    @staticmethod
    def report(request: HttpRequest, done: int, errors: list[str], message: str) -> None:
        """Tell the outcome of an action on several objects."""
        if done:
            messages.success(request, message % {"count": done})
        for error in errors:
            messages.error(request, error)


class ScopedInline(_Inline):
    """An inline that a manager may see (and add to) on their school's objects."""

    parent_school_path = "school"
    manager_permissions: frozenset[str] = frozenset({"view"})

    def _manager_may(self, request: HttpRequest, permission: str, obj: Any) -> bool | None:
        school_id = managed_school_id(request.user)
        if school_id is None:
            return None
        return permission in self.manager_permissions and (
            obj is None or school_id_of(obj, self.parent_school_path) == school_id)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        may = self._manager_may(request, "view", obj)
        return super().has_view_permission(request, obj) if may is None else may

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        may = self._manager_may(request, "add", obj)
        return super().has_add_permission(request, obj) if may is None else may

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        may = self._manager_may(request, "change", obj)
        return super().has_change_permission(request, obj) if may is None else may

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        may = self._manager_may(request, "delete", obj)
        if may is None:
            return bool(request.user.is_superuser) and super().has_delete_permission(
                request, obj)
        return may


# --- Schools, spaces, bell schedules -----------------------------------------

@admin.register(School)
class SchoolAdmin(SchoolScopedAdmin):
    school_path = "pk"
    manager_permissions = frozenset({"view"})
    list_display = ("name", "slug", "district")
    search_fields = ("name", "slug", "district")
    prepopulated_fields = {"slug": ("name",)}


class OpeningHoursInline(ScopedInline, admin.TabularInline):
    model = OpeningHours
    extra = 0
    # Opening hours are settings, not records: a manager may remove an interval.
    manager_permissions = frozenset({"view", "add", "change", "delete"})


@admin.register(Space)
class SpaceAdmin(SchoolScopedAdmin):
    list_display = ("name", "school", "kind", "capacity", "is_active",
                    "student_bookings_need_approval")
    list_filter = (("school", admin.RelatedOnlyFieldListFilter), "kind", "is_active")
    list_select_related = ("school",)
    search_fields = ("name", "description", "school__name")
    inlines = (OpeningHoursInline,)
    fieldsets = (
        (None, {"fields": ("school", "name", "kind", "capacity", "description", "is_active")}),
        (_("Booking rules"), {"fields": (
            "min_duration_minutes", "max_duration_minutes", "max_days_ahead",
            "min_notice_minutes", "student_bookings_need_approval")}),
    )


@admin.register(Period)
class PeriodAdmin(SchoolScopedAdmin):
    list_display = ("school", "weekday", "number", "session", "start", "end")
    list_display_links = ("number",)
    list_filter = (("school", admin.RelatedOnlyFieldListFilter), "weekday", "session")
    list_select_related = ("school",)
    ordering = ("school", "weekday", "number")


@admin.register(EquipmentCategory)
class EquipmentCategoryAdmin(SchoolScopedAdmin):
    school_path = None  # one catalogue shared by every school
    list_display = ("name", "requires_certification")
    list_filter = ("requires_certification",)
    search_fields = ("name", "description")


# --- Equipment ------------------------------------------------------------------

class MaintenanceRecordInline(ScopedInline, admin.TabularInline):
    """Past records are read-only; a new one is written by services.maintenance_record."""

    model = MaintenanceRecord
    parent_school_path = "space__school"
    manager_permissions = frozenset({"view", "add"})
    extra = 0
    fields = ("performed_on", "kind", "description", "cost_vnd", "performed_by")
    readonly_fields = ("performed_by",)
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OpenLoanInline(ScopedInline, admin.TabularInline):
    """Open loans, for a look; loans are made and returned from the loans page."""

    model = Loan
    parent_school_path = "space__school"
    fk_name = "equipment"
    extra = 0
    verbose_name = _("open loan")
    verbose_name_plural = _("open loans")
    fields = ("borrower", "quantity", "checked_out_at", "due_at", "lent_by")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        loans = cast(LoanQuerySet, super().get_queryset(request))
        return loans.open().select_related("borrower", "lent_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Equipment)
class EquipmentAdmin(ServiceAdmin):
    school_path = "space__school"
    list_display = ("name", "asset_tag", "kind", "space", "category", "quantity",
                    "available_now", "status", "funding_source")
    list_filter = ("status", "kind", ("space", admin.RelatedOnlyFieldListFilter), "category",
                   "funding_source", "is_consumable")
    list_select_related = ("space__school", "category")
    search_fields = ("name", "asset_tag", "serial_number", "notes")
    date_hierarchy = "purchase_date"
    inlines = (MaintenanceRecordInline, OpenLoanInline)
    actions = ("retire",)
    fieldsets = (
        (None, {"fields": ("name", "category", "kind", "space", "status")}),
        (_("Identification"), {"fields": ("asset_tag", "serial_number")}),
        (_("Quantity"), {"fields": ("quantity", "unit", "is_consumable",
                                    "low_stock_threshold")}),
        (_("Purchase"), {"fields": ("purchase_date", "cost_vnd", "funding_source")}),
        (_("Other"), {"fields": ("last_audit_on", "notes")}),
    )
    readonly_fields = ("available_now", "created_at", "updated_at")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return (*fieldsets, (_("Record"), {"fields": ("available_now", "created_at",
                                                      "updated_at")}))

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return cast(EquipmentQuerySet, super().get_queryset(request)).with_availability()

    @admin.display(description=_("available now"), ordering="available")
    def available_now(self, obj: Equipment) -> int | None:
        return getattr(obj, "available", None)

    def save_model(self, request: HttpRequest, obj: Equipment, form: Any, change: bool
                   ) -> None:
        values = {name: value for name, value in form.cleaned_data.items()
                  if name in services.EQUIPMENT_FIELDS}
        actor: Any = request.user
        if change:
            changes = {name: values[name] for name in form.changed_data if name in values}
            saved = services.equipment_update(actor=actor, equipment=obj, **changes)
        else:
            saved = services.equipment_create(actor=actor, **values)
        self.copy_saved(saved, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool
                     ) -> None:
        if formset.model is not MaintenanceRecord:
            super().save_formset(request, form, formset, change)
            return
        actor: Any = request.user
        for record in formset.save(commit=False):
            saved = services.maintenance_record(
                actor=actor, equipment=form.instance, description=record.description,
                kind=record.kind, performed_on=record.performed_on, cost_vnd=record.cost_vnd)
            self.copy_saved(saved, record)

    @admin.action(description=_("Retire selected equipment"), permissions=["change"])
    def retire(self, request: HttpRequest, queryset: QuerySet[Equipment]) -> None:
        done, errors = 0, []
        actor: Any = request.user
        for equipment in queryset:
            try:
                services.equipment_retire(actor=actor, equipment=equipment)
                done += 1
            except DomainError as error:
                errors.append(f"{equipment}: {error.message}")
        self.report(request, done, errors, gettext("%(count)d item(s) retired."))

    # The import page.

    def get_urls(self) -> list[URLPattern]:
        return [
            path("import/", self.admin_site.admin_view(self.import_view),
                 name=f"{self.opts.app_label}_{self.opts.model_name}_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        user: Any = request.user
        schools = (School.objects.all() if user.is_superuser
                   else School.objects.filter(pk=user.school_id))
        form = EquipmentImportForm(request.POST or None, request.FILES or None, schools=schools)
        report = None
        if request.method == "POST" and form.is_valid():
            try:
                report = import_equipment(
                    form.cleaned_data["file"], school=form.cleaned_data["school"],
                    dry_run=form.cleaned_data["dry_run"], actor=user)
            except DomainError as error:
                form.add_error("file", str(error.message))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Import equipment from a spreadsheet"),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "has_view_permission": self.has_view_permission(request),
            "form": form,
            "report": report,
            "max_size_mb": MAX_FILE_SIZE // (1024 * 1024),
        }
        return TemplateResponse(request, "admin/spaces/equipment/import.html", context)


class EquipmentImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A CSV or Excel (.xlsx) sheet with a header row such as STT, Tên thiết bị, "
                    "Loại, Danh mục, Mã tài sản, Số lượng, Ngày mua, Đơn giá (VNĐ), "
                    "Tình trạng, Vị trí."))
    school = forms.ModelChoiceField(queryset=School.objects.none(), label=_("School"))
    dry_run = forms.BooleanField(
        label=_("Dry run"), required=False, initial=True,
        help_text=_("Check the file and show what would happen, without saving anything."))

    def __init__(self, *args: Any, schools: QuerySet[School], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["school"]
        field.queryset = schools
        if len(schools) == 1:
            field.initial = schools[0]


# --- Maintenance and loans -------------------------------------------------------

@admin.register(MaintenanceRecord)
class MaintenanceRecordAdmin(ServiceAdmin):
    """Records are written once (by services.maintenance_record) and never edited."""

    school_path = "equipment__space__school"
    manager_permissions = frozenset({"view", "add"})
    list_display = ("performed_on", "equipment", "kind", "short_description", "cost_vnd",
                    "performed_by")
    list_filter = ("kind", ("equipment__space", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("equipment", "performed_by")
    search_fields = ("description", "equipment__name", "equipment__asset_tag")
    date_hierarchy = "performed_on"
    autocomplete_fields = ("equipment",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ("equipment", "kind", "performed_on", "description", "cost_vnd")
        return fields if obj is None else (*fields, "performed_by", "created_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("what was done"))
    def short_description(self, obj: MaintenanceRecord) -> str:
        return obj.description if len(obj.description) <= 80 else obj.description[:79] + "…"

    def save_model(self, request: HttpRequest, obj: MaintenanceRecord, form: Any,
                   change: bool) -> None:
        data = form.cleaned_data
        actor: Any = request.user
        saved = services.maintenance_record(
            actor=actor, equipment=data["equipment"], description=data["description"],
            kind=data["kind"], performed_on=data["performed_on"], cost_vnd=data["cost_vnd"])
        self.copy_saved(saved, obj)


class LoanStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("open", _("Open")), ("overdue", _("Overdue")), ("returned", _("Returned"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "open":
            return queryset.filter(returned_at__isnull=True)
        if self.value() == "overdue":
            return queryset.filter(returned_at__isnull=True, due_at__lt=timezone.now())
        if self.value() == "returned":
            return queryset.filter(returned_at__isnull=False)
        return queryset


@admin.register(Loan)
class LoanAdmin(ServiceAdmin):
    """Loans are made by services.loan_create and closed by the "Mark returned" action."""

    school_path = "equipment__space__school"
    list_display = ("equipment", "borrower", "quantity", "checked_out_at", "due_at",
                    "returned_at", "overdue")
    list_filter = (LoanStateFilter, ("equipment__space", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("equipment", "borrower")
    search_fields = ("equipment__name", "equipment__asset_tag", "borrower__username",
                     "borrower__full_name")
    date_hierarchy = "checked_out_at"
    autocomplete_fields = ("equipment", "borrower")
    actions = ("mark_returned",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ("equipment", "borrower", "quantity", "due_at", "notes")
        if obj is None:
            return fields
        return (*fields, "checked_out_at", "lent_by", "returned_at", "returned_to",
                "return_condition")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        initial.setdefault("due_at", timezone.localtime() + datetime.timedelta(days=7))
        return initial

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A loan, once made, is only returned (an action on the list), never edited.
        return obj is None and super().has_change_permission(request)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj: Loan) -> bool:
        return obj.is_overdue

    def save_model(self, request: HttpRequest, obj: Loan, form: Any, change: bool) -> None:
        data = form.cleaned_data
        actor: Any = request.user
        saved = services.loan_create(
            actor=actor, equipment=data["equipment"], borrower=data["borrower"],
            quantity=data["quantity"], due_at=data["due_at"], notes=data["notes"])
        self.copy_saved(saved, obj)

    @admin.action(description=_("Mark returned"), permissions=["change"])
    def mark_returned(self, request: HttpRequest, queryset: QuerySet[Loan]) -> None:
        done, errors = 0, []
        actor: Any = request.user
        for loan in queryset:
            try:
                services.loan_return(actor=actor, loan=loan)
                done += 1
            except DomainError as error:
                errors.append(f"{loan}: {error.message}")
        self.report(request, done, errors, gettext("%(count)d loan(s) marked returned."))
