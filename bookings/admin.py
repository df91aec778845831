"""Admin for bookings, recurring series and closures (scoping as in spaces/admin.py).

A manager sees their school's bookings, approves, rejects and cancels them with
the list's actions, and adds or changes a booking through the same services the
API uses, so every rule and the audit trail apply. Equipment reservations are
shown, not edited here. Series are read-only apart from cancelling them.
Closures are created and deleted only through their services.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEntry
from bookings import services
from bookings.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingEquipment,
    BookingStatus,
    Closure,
    Series,
)
from spaces.admin import ScopedInline, ServiceAdmin, ServiceModelForm, managed_school_id
from spaces.errors import DomainError


def local_text(moment: datetime.datetime | None) -> str:
    """A moment as people in Vietnam read it: dd/mm/yyyy HH:MM, Vietnam time."""
    return "" if moment is None else timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


def booking_label(booking: Booking) -> str:
    """A booking told apart from the other occurrences of its series."""
    return f"{booking.title} ({local_text(booking.start)}, {booking.space.name})"


# --- History -----------------------------------------------------------------------------------

ACTION_LABELS = {
    "booking.created": _("created"),
    "booking.changed": _("changed"),
    "booking.approved": _("approved"),
    "booking.rejected": _("rejected"),
    "booking.cancelled": _("cancelled"),
    "series.created": _("created"),
    "series.changed": _("changed"),
    "series.cancelled": _("cancelled"),
    "closure.created": _("created"),
    "closure.deleted": _("deleted"),
}


def history_table(obj: models.Model) -> SafeString:
    """The audit trail of one object, oldest first: when, who, what, details."""
    entries = (AuditEntry.objects
               .filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
               .select_related("actor").order_by("at", "id"))
    rows = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
        ((local_text(entry.at), entry.actor or gettext("the system"),
          ACTION_LABELS.get(entry.action, entry.action),
          json.dumps(entry.data, ensure_ascii=False, indent=1))
         for entry in entries))
    if not rows:
        return format_html("<p>{}</p>", gettext("Nothing recorded yet."))
    return format_html(
        '<table class="audit-history"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
        "</tr></thead><tbody>{}</tbody></table>",
        gettext("When"), gettext("Who"), gettext("What"), gettext("Details"), rows)


# --- Actions that ask for a reason first ---------------------------------------------------------

class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False,
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                             help_text=_("Sent to the organisers with the notice."))

    def __init__(self, *args: Any, reason_required: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required


class SeriesCancelForm(ReasonForm):
    from_date = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Cancel the occurrences from this day on; empty: every future occurrence."))


class ReasonActionAdmin(ServiceAdmin):
    """An action that shows the selected objects and a reason field before it acts."""

    def act_with_reason(
        self, request: HttpRequest, queryset: QuerySet[Any], *, action: str, title: str,
        apply: Callable[[Any, dict[str, Any]], Any], done_message: str,
        form_class: type[ReasonForm] = ReasonForm, reason_required: bool = False,
        describe: Callable[[Any], str] = str,
    ) -> HttpResponse | None:
        if request.POST.get("post") == "yes":
            form = form_class(request.POST, reason_required=reason_required)
            if form.is_valid():
                self.apply_each(request, queryset, lambda obj: apply(obj, form.cleaned_data),
                                done_message, describe)
                return None  # back to the list, with the outcome as messages
        else:
            form = form_class(reason_required=reason_required)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "selected": [(obj.pk, describe(obj)) for obj in queryset],
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/bookings/action_reason.html", context)

    def apply_each(self, request: HttpRequest, objects: Iterable[Any],
                   apply: Callable[[Any], Any], done_message: str,
                   describe: Callable[[Any], str] = str) -> None:
        """Run a service on each object; one object's refusal never stops the others."""
        done, errors = 0, []
        for obj in objects:
            try:
                apply(obj)
                done += 1
            except DomainError as error:
                errors.append(f"{describe(obj)}: {error.message}")
        self.report(request, done, errors, done_message)


# --- Bookings ------------------------------------------------------------------------------------

class WhenFilter(admin.SimpleListFilter):
    title = _("when")
    parameter_name = "when"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("today", _("Today")), ("week", _("Next 7 days")),
                ("upcoming", _("Upcoming")), ("past", _("Past"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        if self.value() == "today":
            return queryset.filter(start__lt=midnight + datetime.timedelta(days=1),
                                   end__gt=midnight)
        if self.value() == "week":
            return queryset.filter(start__lt=now + datetime.timedelta(days=7), end__gt=now)
        if self.value() == "upcoming":
            return queryset.filter(end__gt=now)
        if self.value() == "past":
            return queryset.filter(end__lte=now)
        return queryset


class BookingForm(ServiceModelForm):
    override_rules = forms.BooleanField(
        label=_("Override the rules"), required=False,
        help_text=_("Book outside the opening hours, the booking horizon, the notice, the "
                    "duration limits or a closure. Overlaps are never allowed."))


class BookingEquipmentInline(ScopedInline, admin.TabularInline):
    """Reserved equipment, for a look: reservations change through the booking's services."""

    model = BookingEquipment
    extra = 0
    fields = ("equipment", "quantity")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


BOOKING_RECORD_FIELDS = (
    "space", "organizer", "status", "decided_by", "decided_at", "decision_reason",
    "cancelled_by", "cancelled_at", "cancel_reason", "series", "recurrence_id", "is_exception",
    "rules_overridden", "uid", "sequence", "created_at", "updated_at", "history")


@admin.register(Booking)
class BookingAdmin(ReasonActionAdmin):
    """Bookings are made by booking_create, changed by booking_update and decided on by the
    list's actions; a cancelled or rejected booking is only looked at."""

    form = BookingForm
    list_display = ("title", "space", "start_local", "end_local", "organizer", "kind", "status")
    list_filter = ("status", WhenFilter, "kind", ("space", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("space__school", "organizer", "school")
    search_fields = ("title", "description", "organizer__username", "organizer__full_name",
                     "space__name")
    date_hierarchy = "start"
    actions = ("approve_selected", "reject_selected", "cancel_selected")
    inlines = (BookingEquipmentInline,)

    def get_list_display(self, request: HttpRequest) -> Any:
        if managed_school_id(request.user) is None:
            return (*self.list_display[:2], "school", *self.list_display[2:])
        return self.list_display

    def get_list_filter(self, request: HttpRequest) -> Any:
        if managed_school_id(request.user) is None:
            return (*self.list_filter, ("school", admin.RelatedOnlyFieldListFilter))
        return self.list_filter

    def get_ordering(self, request: HttpRequest) -> Any:
        # Pending requests are decided soonest first; otherwise the latest come first.
        if request.GET.get("status__exact") == BookingStatus.PENDING:
            return ("start", "id")
        return ("-start", "-id")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None
                        ) -> HttpResponse:
        pending = self.get_queryset(request).filter(status=BookingStatus.PENDING).count()
        context = {"pending_count": pending,
                   "pending_query": f"?status__exact={BookingStatus.PENDING}",
                   **(extra_context or {})}
        return super().changelist_view(request, context)

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return self.inlines if obj is not None else ()

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ((None, {"fields": ("space", "title", "kind", "description", "start", "end",
                                       "attendees", "override_rules")}),)
        booking = ["space", "organizer", "status", "title", "kind", "description", "start",
                   "end", "attendees"]
        if self.has_change_permission(request, obj):
            booking.append("override_rules")
        return (
            (None, {"fields": booking}),
            (_("Decision"), {"fields": ("decided_by", "decided_at", "decision_reason",
                                        "cancelled_by", "cancelled_at", "cancel_reason")}),
            (_("Calendar"), {"classes": ("collapse",), "fields": (
                "series", "recurrence_id", "is_exception", "rules_overridden", "uid",
                "sequence", "created_at", "updated_at")}),
            (_("History"), {"fields": ("history",)}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else BOOKING_RECORD_FIELDS

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A rejected or cancelled booking is a record: booking_update refuses it.
        if obj is not None and obj.status not in ACTIVE_STATUSES:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description=_("start"), ordering="start")
    def start_local(self, obj: Booking) -> str:
        return local_text(obj.start)

    @admin.display(description=_("end"), ordering="end")
    def end_local(self, obj: Booking) -> str:
        return local_text(obj.end)

    @admin.display(description=_("history"))
    def history(self, obj: Booking) -> SafeString:
        return history_table(obj)

    def save_model(self, request: HttpRequest, obj: Booking, form: Any, change: bool) -> None:
        data = form.cleaned_data
        actor: Any = request.user
        override = bool(data.get("override_rules"))
        if change:
            changes = {name: data[name] for name in form.changed_data
                       if name in services.BOOKING_EDITABLE}
            saved = services.booking_update(actor=actor, booking=obj, override_rules=override,
                                            **changes)
        else:
            saved = services.booking_create(
                actor=actor, space=data["space"], title=data["title"], kind=data["kind"],
                description=data["description"], start=data["start"], end=data["end"],
                attendees=data["attendees"], override_rules=override)
        self.copy_saved(saved, obj)

    @admin.action(description=_("Approve selected bookings"), permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        actor: Any = request.user
        self.apply_each(
            request, queryset.select_related("space"),
            lambda booking: services.booking_approve(actor=actor, booking=booking),
            gettext("%(count)d booking(s) approved."), booking_label)

    @admin.action(description=_("Reject selected bookings…"), permissions=["change"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet[Booking]
                        ) -> HttpResponse | None:
        actor: Any = request.user
        return self.act_with_reason(
            request, queryset.select_related("space"), action="reject_selected",
            title=gettext("Reject bookings"), reason_required=True, describe=booking_label,
            apply=lambda booking, data: services.booking_reject(
                actor=actor, booking=booking, reason=data["reason"]),
            done_message=gettext("%(count)d booking(s) rejected."))

    @admin.action(description=_("Cancel selected bookings…"), permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Booking]
                        ) -> HttpResponse | None:
        actor: Any = request.user
        return self.act_with_reason(
            request, queryset.select_related("space"), action="cancel_selected",
            title=gettext("Cancel bookings"), describe=booking_label,
            apply=lambda booking, data: services.booking_cancel(
                actor=actor, booking=booking, reason=data["reason"]),
            done_message=gettext("%(count)d booking(s) cancelled."))


# --- Recurring series ------------------------------------------------------------------------------

class OccurrenceInline(ScopedInline, admin.TabularInline):
    """A series' occurrences, each linked to its own booking page."""

    model = Booking
    fk_name = "series"
    extra = 0
    verbose_name = _("occurrence")
    verbose_name_plural = _("occurrences")
    fields = ("start_local", "end_local", "title", "status", "is_exception")
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    ordering = ("start",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("start"))
    def start_local(self, obj: Booking) -> str:
        return local_text(obj.start)

    @admin.display(description=_("end"))
    def end_local(self, obj: Booking) -> str:
        return local_text(obj.end)


@admin.register(Series)
class SeriesAdmin(ReasonActionAdmin):
    """Series are made through the API or the pages; here they are looked at and cancelled."""

    manager_permissions = frozenset({"view", "cancel"})
    list_display = ("title", "space", "organizer", "kind", "rrule", "first_start",
                    "occurrence_count", "active_count", "cancelled_at")
    list_filter = ("kind", ("cancelled_at", admin.EmptyFieldListFilter),
                   ("space", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("space__school", "organizer")
    search_fields = ("title", "description", "organizer__username", "organizer__full_name")
    actions = ("cancel_series",)
    inlines = (OccurrenceInline,)
    fields = ("title", "space", "organizer", "kind", "description", "attendees", "rrule",
              "first_start", "first_end", "occurrence_count", "active_count", "uid", "sequence",
              "cancelled_at", "created_at", "updated_at", "history")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(
            occurrences=Count("bookings"),
            active=Count("bookings", filter=Q(bookings__status__in=ACTIVE_STATUSES)))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        may = self._manager_may(request, "cancel")
        if may is not None:
            return may
        user: Any = request.user
        return bool(user.has_perm(
            f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}"))

    @admin.display(description=_("first start"), ordering="start")
    def first_start(self, obj: Series) -> str:
        return local_text(obj.start)

    @admin.display(description=_("first end"), ordering="end")
    def first_end(self, obj: Series) -> str:
        return local_text(obj.end)

    @admin.display(description=_("occurrences"), ordering="occurrences")
    def occurrence_count(self, obj: Series) -> int:
        return int(getattr(obj, "occurrences", 0))

    @admin.display(description=_("still booked"), ordering="active")
    def active_count(self, obj: Series) -> int:
        return int(getattr(obj, "active", 0))

    @admin.display(description=_("history"))
    def history(self, obj: Series) -> SafeString:
        return history_table(obj)

    @admin.action(description=_("Cancel selected series…"), permissions=["cancel"])
    def cancel_series(self, request: HttpRequest, queryset: QuerySet[Series]
                      ) -> HttpResponse | None:
        actor: Any = request.user
        return self.act_with_reason(
            request, queryset, action="cancel_series", title=gettext("Cancel recurring bookings"),
            form_class=SeriesCancelForm,
            apply=lambda series, data: services.series_cancel(
                actor=actor, series=series, from_date=data["from_date"], reason=data["reason"]),
            done_message=gettext("%(count)d series cancelled."))


# --- Closures ----------------------------------------------------------------------------------------

class ClosureForm(ServiceModelForm):
    cancel_bookings = forms.BooleanField(
        label=_("Cancel the bookings on these days"), required=False,
        help_text=_("Their organisers are told by email. Otherwise the bookings stay and are "
                    "listed for you to deal with."))


@admin.register(Closure)
class ClosureAdmin(ServiceAdmin):
    """Made by closure_create and removed by closure_delete, never edited: to change the
    days, delete the closure and make a new one."""

    form = ClosureForm
    manager_permissions = frozenset({"view", "add", "delete"})
    list_display = ("reason", "where", "first_day", "last_day", "source", "created_by")
    list_filter = ("source", ("space", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("school", "space__school", "created_by")
    search_fields = ("reason",)
    date_hierarchy = "start_date"

    def get_list_filter(self, request: HttpRequest) -> Any:
        if managed_school_id(request.user) is None:
            return (*self.list_filter, ("school", admin.RelatedOnlyFieldListFilter))
        return self.list_filter

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ("school", "space", "start_date", "end_date", "reason", "source")
        if obj is None:
            return (*fields, "cancel_bookings")
        return (*fields, "created_by", "created_at", "history")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        user: Any = request.user
        if user.school_id:
            initial.setdefault("school", user.school_id)
        return initial

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Unlike other records, a closure is removed (by closure_delete, which logs it).
        may = self._manager_may(request, "delete", obj)
        if may is not None:
            return may
        return admin.ModelAdmin.has_delete_permission(self, request, obj)

    @admin.display(description=_("where"), ordering="space__name")
    def where(self, obj: Closure) -> str:
        return str(obj.space) if obj.space_id else gettext("%(school)s (whole school)") % {
            "school": obj.school}

    @admin.display(description=_("first day"), ordering="start_date")
    def first_day(self, obj: Closure) -> str:
        return f"{obj.start_date:%d/%m/%Y}"

    @admin.display(description=_("last day"), ordering="end_date")
    def last_day(self, obj: Closure) -> str:
        return f"{obj.end_date:%d/%m/%Y}"

    @admin.display(description=_("history"))
    def history(self, obj: Closure) -> SafeString:
        return history_table(obj)

    def save_model(self, request: HttpRequest, obj: Closure, form: Any, change: bool) -> None:
        data = form.cleaned_data
        actor: Any = request.user
        saved, affected, cancelled = services.closure_create(
            actor=actor, school=data["school"], space=data["space"],
            start_date=data["start_date"], end_date=data["end_date"], reason=data["reason"],
            source=data["source"], cancel_bookings=data["cancel_bookings"])
        self.copy_saved(saved, obj)
        if not affected:
            return
        listing = "; ".join(booking_label(booking) for booking in affected)
        if cancelled:
            message = ngettext("%(count)d booking fell on these days and was cancelled: %(list)s",
                               "%(count)d bookings fell on these days and were cancelled: "
                               "%(list)s", len(affected))
        else:
            message = ngettext("%(count)d booking falls on these days and is still booked: "
                               "%(list)s", "%(count)d bookings fall on these days and are still "
                               "booked: %(list)s", len(affected))
        messages.warning(request, message % {"count": len(affected), "list": listing})

    def delete_view(self, request: HttpRequest, object_id: str,
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            messages.error(request, str(error.message))
            return HttpResponseRedirect(reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist",
                current_app=self.admin_site.name))

    def delete_model(self, request: HttpRequest, obj: Closure) -> None:
        actor: Any = request.user
        services.closure_delete(actor=actor, closure=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Closure]) -> None:
        actor: Any = request.user
        for closure in queryset:
            try:
                services.closure_delete(actor=actor, closure=closure)
            except DomainError as error:
                messages.error(request, f"{closure}: {error.message}")
