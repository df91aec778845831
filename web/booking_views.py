"""Booking a space from a page, and one's own bookings: every write through bookings.services.

The form only reads what was typed; the rules (opening hours, capacity, conflicts, stock,
certifications, who may book) are the services', whose errors are shown on the field at
fault.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_time
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import Role, User
from bookings.models import ACTIVE_STATUSES, Booking, BookingKind, BookingStatus
from bookings.selectors import visible_bookings
from bookings.services import (
    EquipmentRequest,
    booking_cancel,
    booking_create,
    ensure_may_book,
    ensure_may_change,
    series_cancel,
    series_create,
)
from spaces.availability import peak_use
from spaces.errors import Conflict, DomainError, Invalid, NotAllowed
from spaces.models import Equipment, EquipmentStatus, Period, Space
from spaces.services import period_times, periods_for_day
from web.calendar import parse_day, week_url

# Kinds a person books from the page; mentor sessions are booked through their session.
FORM_KINDS = [BookingKind.CLASS, BookingKind.CLUB, BookingKind.PROJECT_WORK,
              BookingKind.WORKSHOP, BookingKind.EVENT]
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
PAST_SHOWN = 20
PREFILLED = ("date", "mode", "start", "end", "period_from", "period_to", "title", "kind",
             "attendees")


def _time_widget() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time", "class": "recompute"}, format="%H:%M")


class BookingForm(forms.Form):
    MODES = [("periods", gettext_lazy("By periods")), ("time", gettext_lazy("By clock time"))]

    mode = forms.ChoiceField(label=gettext_lazy("Book"), choices=MODES, initial="periods",
                             widget=forms.RadioSelect(attrs={"class": "mode recompute"}))
    date = forms.DateField(label=gettext_lazy("Date"), input_formats=DATE_FORMATS,
                           widget=forms.DateInput(attrs={"type": "date", "class": "recompute"},
                                                  format="%Y-%m-%d"))
    start = forms.TimeField(label=gettext_lazy("Start time"), required=False, widget=_time_widget())
    end = forms.TimeField(label=gettext_lazy("End time"), required=False, widget=_time_widget())
    period_from = forms.TypedChoiceField(label=gettext_lazy("From period"), coerce=int,
                                         required=False, empty_value=None)
    period_to = forms.TypedChoiceField(label=gettext_lazy("To period"), coerce=int,
                                       required=False, empty_value=None)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200,
                            help_text=gettext_lazy("What is it for, e.g. “Physics 11A” or “Robotics club”."))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"))
    attendees = forms.IntegerField(label=gettext_lazy("Attendees"), min_value=0, required=False,
                                   initial=0)
    repeat_until = forms.DateField(
        label=gettext_lazy("Repeat weekly until"), required=False, input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("Leave empty for a single booking."))
    skip_conflicts = forms.BooleanField(
        label=gettext_lazy("Skip the weeks that clash and book the others"), required=False)

    def __init__(self, *args: Any, space: Space, day: datetime.date, kinds: list[BookingKind],
                 equipment: list[Equipment], free: dict[int, int] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.space = space
        self.schedule: dict[int, Period] = periods_for_day(space.school_id, day)
        choices = [("", "—")] + [
            (number, _("Period %(number)d (%(start)s–%(end)s)")
             % {"number": number, "start": f"{p.start:%H:%M}", "end": f"{p.end:%H:%M}"})
            for number, p in sorted(self.schedule.items())]
        for name in ("period_from", "period_to"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices
        if not self.schedule and not self.is_bound:
            self.initial.setdefault("mode", "time")
        # htmx: a change of time asks the server for the periods of that day and the
        # equipment still free then (the form works the same without it).
        live_url = reverse("booking-form", args=[space.pk])
        for name in ("mode", "date", "start", "end", "period_from", "period_to"):
            self.fields[name].widget.attrs.update({"hx-get": live_url, "hx-include": "#live"})
        kind_field = self.fields["kind"]
        assert isinstance(kind_field, forms.ChoiceField)
        kind_field.choices = [(kind.value, kind.label) for kind in kinds]
        self.fields["attendees"].help_text = _("This space holds %(capacity)d people.") % {
            "capacity": space.capacity}
        self.equipment = equipment
        self.free = free
        for item in equipment:
            self.fields[f"equipment_{item.pk}"] = forms.IntegerField(
                label=str(item), min_value=0, required=False,
                widget=forms.NumberInput(attrs={"class": "qty", "inputmode": "numeric"}))
        self.conflicts: list[dict[str, Any]] = []
        self.start_at: datetime.datetime | None = None
        self.end_at: datetime.datetime | None = None

    def equipment_rows(self) -> list[dict[str, Any]]:
        return [{"field": self[f"equipment_{item.pk}"], "item": item,
                 "free": None if self.free is None else max(item.quantity - self.free[item.pk], 0)}
                for item in self.equipment]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day = data.get("date")
        if day is None:
            return data
        tz = timezone.get_current_timezone()
        if data.get("mode") == "periods":
            first, last = data.get("period_from"), data.get("period_to")
            for name, value in (("period_from", first), ("period_to", last)):
                if value is None and name not in self.errors:
                    self.add_error(name, _("Choose a period."))
            if first is not None and last is not None:
                try:
                    self.start_at, self.end_at = period_times(
                        school_id=self.space.school_id, day=day, first=first, last=last)
                except Invalid as error:
                    self.add_error(error.field if error.field in self.fields else None,
                                   str(error.message))
        else:
            for name in ("start", "end"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Give a time."))
            if data.get("start") and data.get("end"):
                self.start_at = datetime.datetime.combine(day, data["start"], tzinfo=tz)
                self.end_at = datetime.datetime.combine(day, data["end"], tzinfo=tz)
        return data

    def requests(self) -> list[EquipmentRequest]:
        return [EquipmentRequest(item, self.cleaned_data[f"equipment_{item.pk}"])
                for item in self.equipment if self.cleaned_data.get(f"equipment_{item.pk}")]

    def add_domain_error(self, error: DomainError) -> None:
        """A service's refusal, on the field it names (in the words of the chosen mode)."""
        field = error.field
        if self.cleaned_data.get("mode") == "periods":
            field = {"start": "period_from", "end": "period_to"}.get(field or "", field)
        if field == "rrule":
            field = "repeat_until"
        if isinstance(error, Conflict):
            self.conflicts = error.conflicts
        self.add_error(field if field in self.fields else None, str(error.message))

    def describe_errors(self) -> None:
        """Tie each error to its input for screen readers (aria-describedby, aria-invalid)."""
        for name in self.errors:
            if name not in self.fields:
                continue
            bound = self[name]
            ids = [f"{bound.auto_id}_error"]
            if bound.help_text:
                ids.append(f"{bound.auto_id}_helptext")
            self.fields[name].widget.attrs.update(
                {"aria-describedby": " ".join(ids), "aria-invalid": "true"})


def window_of(space: Space, data: Any) -> tuple[datetime.datetime, datetime.datetime] | None:
    """The time asked for so far (no errors: the form says those), for the equipment counts."""
    day = parse_day(data.get("date"))
    if day is None:
        return None
    if data.get("mode", "periods") == "periods":
        try:
            return period_times(school_id=space.school_id, day=day,
                                first=int(data.get("period_from", "")),
                                last=int(data.get("period_to", "")))
        except (Invalid, ValueError):
            return None
    try:
        start, end = parse_time(data.get("start", "")), parse_time(data.get("end", ""))
    except ValueError:
        return None
    if start is None or end is None or start >= end:
        return None
    tz = timezone.get_current_timezone()
    return (datetime.datetime.combine(day, start, tzinfo=tz),
            datetime.datetime.combine(day, end, tzinfo=tz))


def _bookable_space(request: HttpRequest, pk: int) -> Space:
    """The space this user may book: its school's teachers, managers and students."""
    space = get_object_or_404(Space.objects.select_related("school"), pk=pk, is_active=True)
    try:
        ensure_may_book(request.user, space)  # type: ignore[arg-type]
    except NotAllowed as error:
        raise PermissionDenied(str(error.message)) from error
    return space


def conflict_rows(conflicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What is in the way, as people read it: a series' clashes carry their own list."""
    def moment(text: str) -> datetime.datetime:
        return timezone.localtime(datetime.datetime.fromisoformat(text))

    rows = []
    for row in conflicts:
        rows.append({"title": row.get("title") or row.get("reason", ""),
                     "start": moment(row["start"]), "end": moment(row["end"]),
                     "inner": conflict_rows(row.get("conflicts", []))})
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def booking_form(request: HttpRequest, pk: int) -> HttpResponse:
    space = _bookable_space(request, pk)
    user: User = request.user  # type: ignore[assignment]
    data = request.POST if request.method == "POST" else request.GET
    day = parse_day(data.get("date")) or timezone.localdate()
    equipment = list(Equipment.objects.for_school(space.school_id)
                     .filter(status=EquipmentStatus.AVAILABLE)
                     .select_related("space", "category").order_by("space__name", "name", "pk"))
    kinds = FORM_KINDS + ([BookingKind.MAINTENANCE] if user.manages_school(space.school_id)
                          else [])
    window = window_of(space, data)
    free = peak_use([item.pk for item in equipment], *window) if window and equipment else None
    if request.method == "GET":
        initial: dict[str, Any] = {key: value for key, value in data.items()
                                   if value and (key in PREFILLED or key.startswith("equipment_"))}
        initial.setdefault("date", day)
        initial.setdefault("kind", BookingKind.PROJECT_WORK if user.role == Role.STUDENT
                           else BookingKind.CLASS)
        form = BookingForm(initial=initial, space=space, day=day, kinds=kinds,
                           equipment=equipment, free=free)
        htmx = getattr(request, "htmx", False)
        template = "web/booking_form_live.html" if htmx else "web/booking_form.html"
        return render(request, template, {"space": space, "form": form})
    form = BookingForm(request.POST, space=space, day=day, kinds=kinds,
                           equipment=equipment, free=free)
    if form.is_valid() and form.start_at and form.end_at:
        try:
            return _book(request, user, space, form)
        except DomainError as error:
            form.add_domain_error(error)
    form.describe_errors()
    return render(request, "web/booking_form.html", {
        "space": space, "form": form, "conflicts": conflict_rows(form.conflicts)}, status=400)


def _book(request: HttpRequest, user: User, space: Space, form: BookingForm) -> HttpResponse:
    assert form.start_at and form.end_at
    data = form.cleaned_data
    common = {"actor": user, "space": space, "title": data["title"], "start": form.start_at,
              "end": form.end_at, "kind": data["kind"], "attendees": data.get("attendees") or 0,
              "equipment": form.requests()}
    until = data.get("repeat_until")
    if until:
        result = series_create(rrule=f"FREQ=WEEKLY;UNTIL={until:%Y%m%d}",
                               skip_conflicts=data.get("skip_conflicts", False), **common)
        created = result.created
        messages.success(request, _("Weekly booking “%(title)s”: %(count)d dates booked.")
                         % {"title": data["title"], "count": len(created)})
        if result.skipped:
            messages.warning(request, _("Not booked: %(dates)s.") % {"dates": ", ".join(
                f"{datetime.datetime.fromisoformat(row['start']):%d/%m/%Y} ({row['reason']})"
                for row in result.skipped)})
        first = created[0]
    else:
        first = booking_create(**common)
        created = [first]
    when = f"{timezone.localtime(first.start):%d/%m/%Y %H:%M}–{timezone.localtime(first.end):%H:%M}"
    if first.status == BookingStatus.PENDING:
        messages.info(request, _("Request sent: “%(title)s”, %(when)s. A manager will approve it.")
                      % {"title": first.title, "when": when})
    elif not until:
        messages.success(request, _("Booked: “%(title)s”, %(when)s.")
                         % {"title": first.title, "when": when})
    return HttpResponseRedirect(week_url(space.pk, timezone.localtime(first.start).date()))


# My bookings -------------------------------------------------------------------------------------

@require_safe
@login_required
def my_bookings(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    user: User = request.user  # type: ignore[assignment]
    mine = Booking.objects.filter(organizer=user).select_related("space__school")
    upcoming = list(mine.filter(status__in=ACTIVE_STATUSES, end__gte=now).order_by("start"))
    past = list(mine.filter(Q(end__lt=now) | ~Q(status__in=ACTIVE_STATUSES))
                .order_by("-start")[:PAST_SHOWN])
    return render(request, "web/my_bookings.html", {"upcoming": upcoming, "past": past})


def _changeable_booking(request: HttpRequest, pk: int) -> Booking:
    """The booking this user may cancel: its organiser, or a manager of its school."""
    user: User = request.user  # type: ignore[assignment]  # @login_required
    # A booking this user may not see does not exist for them (404, as in the API).
    booking = get_object_or_404(
        visible_bookings(user).select_related("space__school", "series"), pk=pk)
    try:
        ensure_may_change(user, booking)
    except NotAllowed as error:
        raise PermissionDenied(str(error.message)) from error
    return booking


@login_required
@require_http_methods(["GET", "POST"])
def booking_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    booking = _changeable_booking(request, pk)
    if request.method == "GET":
        return render(request, "web/booking_cancel.html", {"booking": booking})
    user: User = request.user  # type: ignore[assignment]
    reason = request.POST.get("reason", "")[:500]
    try:
        if request.POST.get("scope") == "following" and booking.series is not None:
            cancelled = series_cancel(actor=user, series=booking.series, reason=reason,
                                      from_date=timezone.localtime(booking.start).date())
            messages.success(request, _("%(count)d bookings of “%(title)s” cancelled.")
                             % {"count": len(cancelled), "title": booking.title})
        else:
            booking_cancel(actor=user, booking=booking, reason=reason)
            messages.success(request, _("Cancelled: “%(title)s”, %(when)s.") % {
                "title": booking.title,
                "when": f"{timezone.localtime(booking.start):%d/%m/%Y %H:%M}"})
    except (Conflict, NotAllowed) as error:
        messages.error(request, str(error.message))
    return redirect("my-bookings")
