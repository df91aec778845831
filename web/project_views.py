"""Projects for people: the public showcase, a project's page with its logbook, and the
phone form members write the logbook with.

Thin views over projects.services: what a caller sees starts from visible_projects, and
every write (entries, photos, comments) goes through the services' rules. Anonymous
visitors never see students' names (privacy of minors, as in the API): a team shows as
its size and roles, entries without their authors, attachments without their files.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from accounts.models import User
from projects import services
from projects.models import (
    LogAttachment,
    LogComment,
    LogEntry,
    MemberRole,
    Membership,
    Project,
    ProjectCategory,
    ProjectKind,
    ProjectStatus,
)
from projects.uploads import TYPES
from spaces.errors import DomainError
from spaces.models import Equipment, EquipmentStatus, School
from web.forms_a11y import AccessibleForm

PAGE_SIZE = 24


# --- the showcase ---------------------------------------------------------------------------

class ShowcaseFilter(AccessibleForm):
    school = forms.ModelChoiceField(label=gettext_lazy("School"), required=False,
                                    queryset=School.objects.order_by("name"),
                                    empty_label=gettext_lazy("All schools"))
    category = forms.ModelChoiceField(label=gettext_lazy("Category"), required=False,
                                      queryset=ProjectCategory.objects.all(),
                                      empty_label=gettext_lazy("All categories"))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False,
                             choices=[("", gettext_lazy("All kinds")), *ProjectKind.choices])
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False,
                               choices=[("", gettext_lazy("Any status")), *ProjectStatus.choices])


def active_team() -> Prefetch:
    return Prefetch("memberships", to_attr="team",
                    queryset=Membership.objects.filter(left_on__isnull=True)
                    .select_related("user").order_by("role", "joined_on", "id"))


def team_summary(team: list[Membership]) -> dict[str, int]:
    """What anonymous visitors learn of a team: its size and roles."""
    leaders = sum(1 for member in team if member.role == MemberRole.LEADER)
    return {"size": len(team), "leaders": leaders, "members": len(team) - leaders}


@require_safe
def showcase(request: HttpRequest) -> HttpResponse:
    """Public projects for anyone; signed-in people also see the private ones they may."""
    form = ShowcaseFilter(request.GET or None)
    projects: QuerySet[Project] = (
        services.visible_projects(request.user)
        .select_related("school", "category")
        .prefetch_related(active_team(), "awards")
        .order_by("-started_on", "-id"))
    if form.is_bound and form.is_valid():
        chosen = {key: value for key, value in form.cleaned_data.items() if value}
        projects = projects.filter(**chosen)
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    for project in page:
        project.team_summary = team_summary(project.team)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "web/projects/showcase.html", {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "show_people": request.user.is_authenticated,
    })


# --- a project's page ------------------------------------------------------------------------

def _visible_project(request: HttpRequest, pk: int) -> Project:
    project = (services.visible_projects(request.user)
               .select_related("school", "category", "advisor").filter(pk=pk).first())
    if project is None:
        raise Http404
    return project


@require_safe
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        project = _visible_project(request, pk)
    except Http404:
        if not request.user.is_authenticated:
            # The same answer whether the project exists or not: sign in first.
            return redirect_to_login(request.get_full_path())
        raise
    user = request.user
    team = list(Membership.objects.filter(project=project, left_on__isnull=True)
                .select_related("user").order_by("role", "joined_on", "id"))
    mentors = list(project.mentors.select_related("user"))
    entries = list(
        LogEntry.objects.filter(project=project)
        .select_related("author")
        .prefetch_related("equipment",
                          Prefetch("attachments",
                                   queryset=LogAttachment.objects.order_by("uploaded_at", "id")),
                          Prefetch("comments",
                                   queryset=LogComment.objects.select_related("author")))
        .order_by("-date", "-id"))
    # services.is_member's test, asked of the team already loaded (the form asks the service).
    is_member = isinstance(user, User) and any(member.user_id == user.pk for member in team)
    may_comment = isinstance(user, User) and services.may_comment(user, project)
    return render(request, "web/projects/detail.html", {
        "project": project,
        "team": team,
        "team_summary": team_summary(team),
        "mentors": mentors,
        "milestones": list(project.milestones.all()),
        "awards": list(project.awards.all()),
        "entries": entries,
        "total_hours": sum((entry.hours for entry in entries), Decimal(0)),
        "show_people": user.is_authenticated,
        "may_log": is_member,
        "may_comment": may_comment,
        "comment_form": CommentForm() if may_comment else None,
    })


# --- writing the logbook ---------------------------------------------------------------------

class EquipmentChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.space.name}"


class LogEntryForm(AccessibleForm):
    date = forms.DateField(label=gettext_lazy("Date"),
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    hours = forms.DecimalField(
        label=gettext_lazy("Hours"), min_value=Decimal(0), max_value=Decimal(24),
        max_digits=4, decimal_places=2, localize=False,
        widget=forms.NumberInput(attrs={"step": "0.25", "inputmode": "decimal"}))
    body = forms.CharField(label=gettext_lazy("What did you do?"), max_length=20_000,
                           widget=forms.Textarea(attrs={"rows": 5}))
    photo = forms.FileField(
        label=gettext_lazy("Photo or file (optional)"), required=False,
        help_text=gettext_lazy("A photo (JPEG, PNG, WebP), PDF, text, CSV, Word or Excel file."),
        widget=forms.ClearableFileInput(attrs={
            "accept": ",".join(["image/*", *sorted({f".{ext}" for ext in TYPES})])}))
    equipment = EquipmentChoice(label=gettext_lazy("Equipment used"), required=False,
                                queryset=Equipment.objects.none(),
                                widget=forms.CheckboxSelectMultiple)

    error_fields = {"file": "photo"}

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["date"].initial = today
        self.fields["date"].widget.attrs["max"] = today.isoformat()
        self.fields["equipment"].queryset = (  # type: ignore[attr-defined]
            Equipment.objects.filter(space__school_id=project.school_id)
            .exclude(status=EquipmentStatus.RETIRED).select_related("space")
            .order_by("space__name", "name"))


def _member_project(request: HttpRequest, pk: int) -> Project:
    """The project whose logbook this member writes (404 if unseen, 403 if not in the team)."""
    project = _visible_project(request, pk)
    if not (isinstance(request.user, User) and services.is_member(request.user, project)):
        raise PermissionDenied(_("Only the project's team writes its logbook."))
    return project


@login_required
def log_entry_new(request: HttpRequest, pk: int) -> HttpResponse:
    project = _member_project(request, pk)
    user = request.user
    assert isinstance(user, User)
    if request.method == "POST":
        form = LogEntryForm(request.POST, request.FILES, project=project)
        if form.is_valid():
            data = form.cleaned_data
            try:
                # The entry and its photo together: a refused photo writes no entry.
                with transaction.atomic():
                    entry = services.log_entry_create(
                        actor=user, project=project, date=data["date"], hours=data["hours"],
                        body=data["body"], equipment=list(data["equipment"]))
                    if data["photo"]:
                        services.attachment_add(actor=user, entry=entry, upload=data["photo"])
            except DomainError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("Logbook entry saved."))
                return redirect(reverse("project-detail", args=[project.pk])
                                + f"#entry-{entry.pk}")
    else:
        form = LogEntryForm(project=project)
    return render(request, "web/projects/log_new.html", {"project": project, "form": form})


class CommentForm(AccessibleForm):
    body = forms.CharField(label=gettext_lazy("Comment"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))


@login_required
def log_comment_new(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    """The advisor's or a mentor's comment on an entry (POST from the project's page)."""
    if request.method != "POST":
        return redirect("project-detail", pk=pk)
    project = _visible_project(request, pk)
    entry = get_object_or_404(LogEntry.objects.select_related("project"),
                              project=project, pk=entry_pk)
    user = request.user
    assert isinstance(user, User)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.log_comment_create(actor=user, entry=entry, body=form.cleaned_data["body"])
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Comment added."))
    else:
        messages.error(request, _("Write a comment first."))
    return redirect(reverse("project-detail", args=[project.pk]) + f"#entry-{entry.pk}")

