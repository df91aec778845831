"""Mentor sessions for people: the list by school and date, a session's page, and its
forms (register, unregister, attendance and notes, feedback).

Thin views over projects.sessions, which decides who may do what and when; the pages
only choose which buttons to offer. Who sees which registrations is the API's selector
(projects.selectors.sessions_for): the mentor, the school's managers and the Union see
everyone registered, a student only themself.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from accounts.models import Role, User
from bookings.models import ACTIVE_STATUSES
from projects import sessions as services
from projects.models import MentorSession, Registration
from projects.selectors import sessions_for
from projects.services import visible_projects
from spaces.errors import DomainError
from spaces.models import School
from web.forms_a11y import AccessibleForm

PAGE_SIZE = 30
PAST_SHOWN = 20


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # behind login_required
    return user


def _sessions(user: User) -> Any:
    return sessions_for(user).select_related("booking__space", "school")


@require_safe
@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    """Upcoming sessions first (soonest first), then the latest past ones."""
    user = _user(request)
    schools = list(School.objects.order_by("name"))
    school = next((s for s in schools if s.slug == request.GET.get("school")), None)
    sessions = _sessions(user)
    if school is not None:
        sessions = sessions.filter(school=school)
    now = timezone.now()
    upcoming = Paginator(sessions.filter(booking__end__gt=now), PAGE_SIZE).get_page(
        request.GET.get("page"))
    past = list(sessions.filter(booking__end__lte=now)
                .order_by("-booking__start", "-id")[:PAST_SHOWN])
    return render(request, "web/sessions/list.html", {
        "schools": schools, "school": school, "upcoming": upcoming,
        "upcoming_rows": [SessionState.of(session, user, now) for session in upcoming],
        "past_rows": [SessionState.of(session, user, now) for session in past],
    })


@dataclass(frozen=True)
class SessionState:
    """What the page says about a session for this user (the services decide again)."""

    session: MentorSession
    places_left: int
    cancelled: bool
    started: bool
    ended: bool
    mine: Registration | None
    day: datetime.date  # in Vietnam

    @classmethod
    def of(cls, session: MentorSession, user: User, now: datetime.datetime) -> SessionState:
        shown: list[Registration] = list(getattr(session, "shown_registrations", []))
        registered = int(getattr(session, "registered_count", 0) or 0)
        return cls(session=session, places_left=max(session.capacity - registered, 0),
                   cancelled=session.booking.status not in ACTIVE_STATUSES,
                   started=session.booking.start <= now, ended=session.booking.end <= now,
                   mine=next((row for row in shown if row.student_id == user.pk), None),
                   day=timezone.localdate(session.booking.start))


@require_safe
@login_required
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    session = get_object_or_404(_sessions(user), pk=pk)
    state = SessionState.of(session, user, timezone.now())
    mine = state.mine
    active = not state.cancelled
    records = user.pk == session.mentor.user_id or user.manages_school(session.school_id)
    return render(request, "web/sessions/detail.html", {
        "session": session,
        "state": state,
        # Only the projects this person may see are named.
        "projects": list(visible_projects(user).filter(mentor_sessions=session)
                         .order_by("title")),
        "registrations": list(getattr(session, "shown_registrations", [])),
        "may_manage": services.may_manage(user, session),
        "may_register": (active and not state.started and mine is None
                         and user.role == Role.STUDENT and user.school_id == session.school_id
                         and state.places_left > 0),
        "may_unregister": active and mine is not None and not state.started,
        "may_record": active and records and state.started,
        "may_give_feedback": active and mine is not None and mine.attended is True
        and state.ended,
        "feedback_form": FeedbackForm(initial={"rating": mine.rating, "comment": mine.feedback}
                                      if mine else None),
    })


def _back(session_pk: int) -> HttpResponse:
    return redirect("session-detail", pk=session_pk)


def _session(request: HttpRequest, pk: int) -> MentorSession:
    return get_object_or_404(MentorSession.objects.select_related("booking", "mentor__user"),
                             pk=pk)


@login_required
@require_POST
def session_register(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    try:
        services.register(actor=_user(request), session=session)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("You are registered for this session."))
    return _back(pk)


@login_required
@require_POST
def session_unregister(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    try:
        services.unregister(actor=_user(request), session=session)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Your place was given back."))
    return _back(pk)


@login_required
@require_POST
def session_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """Who came (the ticked boxes; everyone else registered was absent) and the notes."""
    user = _user(request)
    session = _session(request, pk)
    came = set(request.POST.getlist("attended"))
    registered = Registration.objects.filter(session=session, cancelled_at__isnull=True)
    attended = {row.student_id: str(row.student_id) in came for row in registered}
    notes = request.POST.get("notes")
    try:
        with transaction.atomic():
            services.record_attendance(actor=user, session=session, attended=attended,
                                       complete=True)
            if notes is not None and notes.strip() != session.notes.strip():
                services.session_update(actor=user, session=session, notes=notes.strip())
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Attendance and notes saved."))
    return _back(pk)


class FeedbackForm(AccessibleForm):
    rating = forms.TypedChoiceField(
        label=gettext_lazy("How useful was this session? (1 = not at all, 5 = very)"),
        coerce=int, choices=[(value, str(value)) for value in range(1, 6)],
        widget=forms.RadioSelect)
    comment = forms.CharField(label=gettext_lazy("Comment (optional)"), required=False,
                              max_length=services.FEEDBACK_MAX_LENGTH,
                              widget=forms.Textarea(attrs={"rows": 3}))


@login_required
@require_POST
def session_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a rating from 1 to 5."))
        return _back(pk)
    try:
        services.leave_feedback(actor=_user(request), session=session,
                                rating=form.cleaned_data["rating"],
                                comment=form.cleaned_data["comment"])
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("Thank you for your feedback."))
    return _back(pk)
