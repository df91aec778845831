"""/manage/: a school's space managers at work — approvals, closures, equipment, the loans desk.

Every write goes through the domain services (bookings.services, spaces.services); these views
only find what the manager may touch, read forms, and turn domain errors into form errors or
messages. A manager works on their own school; a superuser picks one with ?school=<id>.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe

from accounts.models import SCHOOL_ROLES, Role, User
from api.filters import parse_id
from bookings import services as booking_services
from bookings.models import Booking, BookingEquipment, BookingStatus, Closure
from spaces import services as space_services
from spaces.availability import peak_use
from spaces.errors import DomainError, NotAllowed
from spaces.models import Equipment, EquipmentStatus, Loan, School, Space

# The queue shows this many at once: the page stays small and its queries fixed.
APPROVALS_SHOWN = 100
PAST_CLOSURES_SHOWN = 10
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
TIME_FORMATS = ["%H:%M"]


# Whose school --------------------------------------------------------------------------------

def managed_school(request: HttpRequest) -> School:
    """The school this person manages here: a manager's own; for a superuser ?school=<id>
    (else their own school, else the first). Everyone else: 403."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied
    if user.is_superuser:
        wanted = request.GET.get("school") or user.school_id
        if wanted:
            try:
                return get_object_or_404(School, pk=int(wanted))
            except (TypeError, ValueError) as error:
                raise Http404 from error
        school = School.objects.order_by("name").first()
        if school is None:
            raise Http404
        return school
    if user.role == Role.MANAGER and user.school_id:
        return user.school  # type: ignore[return-value]
    raise PermissionDenied


def school_query(request: HttpRequest, school: School) -> str:
    """The query string that keeps a superuser on the school they picked."""
    return "?" + urlencode({"school": school.pk}) if request.user.is_superuser else ""


def back_to(request: HttpRequest, name: str, school: School, **extra: Any) -> HttpResponseRedirect:
    query = {"school": school.pk} if request.user.is_superuser else {}
    query.update({key: value for key, value in extra.items() if value})
    return HttpResponseRedirect(reverse(name) + ("?" + urlencode(query) if query else ""))


def page(request: HttpRequest, template: str, school: School, tab: str,
         context: dict[str, Any]) -> HttpResponse:
    schools = list(School.objects.order_by("name")) if request.user.is_superuser else []
    return render(request, template, {
        "school": school, "tab": tab, "schools": schools,
        "school_query": school_query(request, school), **context})


def error_text(error: DomainError) -> str:
    return str(error.message)


def local_text(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


# 1. Approvals -------------------------------------------------------------------------------

def pending_bookings(school: School) -> Any:
    reservations = BookingEquipment.objects.select_related("equipment").order_by("equipment__name")
    return (Booking.objects.filter(school=school, status=BookingStatus.PENDING)
            .select_related("space", "organizer")
            .prefetch_related(Prefetch("equipment_items", queryset=reservations))
            .order_by("start", "id"))


def decide(request: HttpRequest, school: School) -> None:
    """Approve or reject the bookings the form names, one by one, each through its service."""
    data = request.POST
    if data.get("approve_one") or data.get("reject_one"):
        decision = "approve" if data.get("approve_one") else "reject"
        raw_ids = [data.get(f"{decision}_one", "")]
        reason_for = {raw_ids[0]: data.get(f"reason-{raw_ids[0]}", "")}
    else:
        decision = data.get("action", "")
        raw_ids = data.getlist("booking")
        reason_for = {raw: data.get("reason", "") for raw in raw_ids}
    if decision not in ("approve", "reject"):
        messages.error(request, _("Choose whether to approve or reject."))
        return
    ids = [found for found in map(parse_id, raw_ids) if found is not None]
    if not ids:
        messages.error(request, _("Tick at least one booking."))
        return
    service = (booking_services.booking_approve if decision == "approve"
               else booking_services.booking_reject)
    found = {booking.pk: booking for booking in
             Booking.objects.filter(school=school, pk__in=ids).select_related("space")}
    done = 0
    for pk in ids:
        booking = found.get(pk)
        if booking is None:
            messages.error(request, _("Booking #%(id)d was not found in this school.") % {"id": pk})
            continue
        try:
            service(actor=request.user, booking=booking,  # type: ignore[arg-type]
                    reason=reason_for.get(str(pk), "").strip()[:500])
        except DomainError as error:
            messages.error(request, _("%(title)s (%(when)s): %(error)s") % {
                "title": booking.title, "when": local_text(booking.start),
                "error": error_text(error)})
        else:
            done += 1
    if done:
        text = (ngettext("%(count)d booking approved.", "%(count)d bookings approved.", done)
                if decision == "approve" else
                ngettext("%(count)d booking rejected.", "%(count)d bookings rejected.", done))
        messages.success(request, text % {"count": done})


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    school = managed_school(request)
    if request.method == "POST":
        decide(request, school)
        return back_to(request, "manage-approvals", school)
    queue = list(pending_bookings(school)[:APPROVALS_SHOWN + 1])
    return page(request, "web/manage/approvals.html", school, "approvals", {
        "bookings": queue[:APPROVALS_SHOWN],
        "more": len(queue) > APPROVALS_SHOWN,
        "shown": APPROVALS_SHOWN,
    })


# 2. Closures --------------------------------------------------------------------------------

class ClosureForm(forms.Form):
    space = forms.ModelChoiceField(label=gettext_lazy("Space"), queryset=Space.objects.none(),
                                   required=False, empty_label=gettext_lazy("The whole school"))
    start_date = forms.DateField(label=gettext_lazy("First day"), input_formats=DATE_FORMATS,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end_date = forms.DateField(label=gettext_lazy("Last day"), input_formats=DATE_FORMATS,
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)
    cancel_bookings = forms.BooleanField(
        label=gettext_lazy("Cancel the bookings on those days"), required=False,
        help_text=gettext_lazy("Their organisers are told by e-mail. Unticked, the bookings "
                               "stay and are listed below for you to handle."))

    def __init__(self, *args: Any, school: School, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["space"].queryset = Space.objects.filter(school=school).order_by("name")  # type: ignore[attr-defined]


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """A rule's refusal, shown on the field it names (or above the form)."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error_text(error))


@login_required
def closures(request: HttpRequest) -> HttpResponse:
    school = managed_school(request)
    form = ClosureForm(request.POST or None, school=school)
    created: Closure | None = None
    affected: list[Booking] = []
    cancelled = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created, affected, cancelled = booking_services.closure_create(
                actor=request.user, school=school,  # type: ignore[arg-type]
                start_date=data["start_date"], end_date=data["end_date"], reason=data["reason"],
                space=data["space"], cancel_bookings=data["cancel_bookings"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Closure added: %(reason)s.") % {"reason": created.reason})
            form = ClosureForm(school=school)
    today = timezone.localdate()
    mine = Closure.objects.filter(school=school).select_related("space")
    return page(request, "web/manage/closures.html", school, "closures", {
        "form": form,
        "created": created,
        "affected": affected,
        "cancelled": cancelled,
        "upcoming": list(mine.filter(end_date__gte=today).order_by("start_date", "id")),
        "past": list(mine.filter(end_date__lt=today)
                     .order_by("-end_date", "-id")[:PAST_CLOSURES_SHOWN]),
    })


@login_required
@require_POST
def closure_delete(request: HttpRequest, pk: int) -> HttpResponse:
    school = managed_school(request)
    closure = get_object_or_404(Closure, pk=pk, school=school)
    try:
        booking_services.closure_delete(actor=request.user, closure=closure)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Closure removed: %(reason)s.") % {"reason": closure.reason})
    return back_to(request, "manage-closures", school)


# 3. Equipment -------------------------------------------------------------------------------

class WindowForm(forms.Form):
    """A day and a time window: what is free then, counting bookings and loans."""

    day = forms.DateField(label=gettext_lazy("Day"), input_formats=DATE_FORMATS,
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start = forms.TimeField(label=gettext_lazy("Start time"), input_formats=TIME_FORMATS,
                            widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(label=gettext_lazy("End time"), input_formats=TIME_FORMATS,
                          widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] >= cleaned["end"]:
            self.add_error("end", _("The end must be after the start."))
        return cleaned

    def window(self) -> tuple[datetime.datetime, datetime.datetime]:
        tz = timezone.get_current_timezone()
        day = self.cleaned_data["day"]
        return (datetime.datetime.combine(day, self.cleaned_data["start"], tzinfo=tz),
                datetime.datetime.combine(day, self.cleaned_data["end"], tzinfo=tz))


@require_safe
@login_required
def equipment(request: HttpRequest) -> HttpResponse:
    school = managed_school(request)
    asked = bool(request.GET.get("day"))
    form = WindowForm(request.GET if asked else None)
    items = list(Equipment.objects.for_school(school.pk).with_availability()
                 .exclude(status=EquipmentStatus.RETIRED)
                 .select_related("space", "category").order_by("space__name", "name", "id"))
    window = None
    if asked and form.is_valid():
        window = form.window()
        in_use = peak_use([item.pk for item in items], *window)
        for item in items:
            free = item.quantity - in_use[item.pk]
            then = max(free, 0) if item.status == EquipmentStatus.AVAILABLE else 0
            item.available_then = then  # type: ignore[attr-defined]
    spaces = list(Space.objects.filter(school=school).order_by("name"))
    return page(request, "web/manage/equipment.html", school, "equipment", {
        "form": form, "items": items, "window": window, "spaces": spaces,
        "low_count": sum(1 for item in items if item.is_low_stock),
    })


# 4. Loans -----------------------------------------------------------------------------------

def default_due() -> datetime.datetime:
    """A week from today, at the end of the afternoon."""
    day = timezone.localdate() + datetime.timedelta(days=7)
    return datetime.datetime.combine(day, datetime.time(16, 30),
                                     tzinfo=timezone.get_current_timezone())


class LoanForm(forms.Form):
    equipment = forms.ModelChoiceField(label=gettext_lazy("Item"), queryset=Equipment.objects.none())
    borrower = forms.ModelChoiceField(label=gettext_lazy("Borrower"), queryset=User.objects.none(),
                                      help_text=gettext_lazy("Type the first letters of a name "
                                                             "to jump to it."))
    quantity = forms.IntegerField(label=gettext_lazy("Quantity"), min_value=1, initial=1)
    due_date = forms.DateField(label=gettext_lazy("Due back on"), input_formats=DATE_FORMATS,
                               widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    due_time = forms.TimeField(label=gettext_lazy("Due back at"), input_formats=TIME_FORMATS,
                               widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    notes = forms.CharField(label=gettext_lazy("Notes"), max_length=255, required=False)

    def __init__(self, *args: Any, items: list[Equipment], people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["equipment"]
        field.queryset = Equipment.objects.filter(pk__in=[item.pk for item in items])  # type: ignore[attr-defined]
        # The choices are built from the items already fetched (with their availability):
        # no query per option.
        choices: list[tuple[Any, str]] = [("", "---------")]
        choices += [(item.pk, _("%(item)s — %(space)s (available: %(available)d)") % {
                        "item": item, "space": item.space.name,
                        "available": item.available})  # type: ignore[attr-defined]
                    for item in items]
        field.choices = choices  # type: ignore[attr-defined]
        borrower = self.fields["borrower"]
        borrower.queryset = people  # type: ignore[attr-defined]
        borrower.label_from_instance = lambda person: (  # type: ignore[attr-defined]
            f"{person.full_name or person.username} ({person.username}, "
            f"{person.get_role_display()})")

    def due_at(self) -> datetime.datetime:
        return datetime.datetime.combine(self.cleaned_data["due_date"],
                                         self.cleaned_data["due_time"],
                                         tzinfo=timezone.get_current_timezone())


def lendable_items(school: School) -> list[Equipment]:
    return list(Equipment.objects.for_school(school.pk).with_availability()
                .filter(status=EquipmentStatus.AVAILABLE)
                .select_related("space").order_by("name", "id"))


def people_of(school: School) -> Any:
    return (User.objects.filter(school=school, is_active=True, role__in=list(SCHOOL_ROLES))
            .order_by("full_name", "username"))


LOAN_ERROR_FIELDS = {"due_at": "due_date"}


@login_required
def loans(request: HttpRequest) -> HttpResponse:
    school = managed_school(request)
    items = lendable_items(school)
    initial: dict[str, Any] = {"quantity": 1, "due_date": default_due().date(),
                               "due_time": default_due().time()}
    wanted = request.GET.get("equipment", "")
    if parse_id(wanted) is not None:
        initial["equipment"] = parse_id(wanted)
    form = LoanForm(request.POST or None, initial=initial, items=items, people=people_of(school))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            loan = space_services.loan_create(
                actor=request.user, equipment=data["equipment"],  # type: ignore[arg-type]
                borrower=data["borrower"], quantity=data["quantity"], due_at=form.due_at(),
                notes=data["notes"])
        except DomainError as error:
            field = LOAN_ERROR_FIELDS.get(error.field or "", error.field)
            # No certification is the borrower's; too few free is the quantity's.
            if field is None:
                field = "borrower" if isinstance(error, NotAllowed) else "equipment"
            form.add_error(field if field in form.fields else None, error_text(error))
        else:
            messages.success(request, _("Lent: %(loan)s, due back %(due)s.") % {
                "loan": loan, "due": local_text(loan.due_at)})
            return back_to(request, "manage-loans", school)
    now = timezone.now()
    open_loans = (Loan.objects.open().filter(equipment__space__school=school)
                  .select_related("equipment__space", "borrower").order_by("due_at", "id"))
    only_item = parse_id(wanted)
    if only_item is not None:
        open_loans = open_loans.filter(equipment_id=only_item)
    rows = list(open_loans)
    return page(request, "web/manage/loans.html", school, "loans", {
        "form": form,
        "open_loans": rows,
        "overdue": [loan for loan in rows if loan.due_at < now],
        "only_item": only_item,
    })


@login_required
@require_POST
def loan_return(request: HttpRequest, pk: int) -> HttpResponse:
    school = managed_school(request)
    loan = get_object_or_404(Loan.objects.select_related("equipment", "borrower"), pk=pk,
                             equipment__space__school=school)
    condition = request.POST.get("condition", "").strip()[:255]
    try:
        space_services.loan_return(actor=request.user, loan=loan,  # type: ignore[arg-type]
                                   condition=condition)
    except DomainError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, _("Returned: %(loan)s.") % {"loan": loan})
    return back_to(request, "manage-loans", school)

