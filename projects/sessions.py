"""Mentors and their sessions: every entry point (API, admin, commands) writes through these.

A session owns a booking of kind `mentor_session`: bookings.services makes and moves it,
so the session holds its room and conflicts (409) like any booking. This module decides
who may create, change and cancel sessions, and keeps places, attendance, feedback and
the reminders of the day before.
"""

from __future__ import annotations

import datetime
import logging
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.audit import log_action
from accounts.models import Role, User
from bookings.models import ACTIVE_STATUSES, Booking, BookingKind, BookingStatus
from bookings.services import booking_cancel, booking_create, booking_update, fmt, local
from projects.models import (
    DEFAULT_ORGANIZATION,
    Mentor,
    MentorSession,
    Project,
    Registration,
    SessionKind,
)
from spaces.errors import Conflict, Invalid, NotAllowed
from spaces.models import Space

logger = logging.getLogger(__name__)

MENTOR_FIELDS = ("organization", "expertise", "bio")
EXPERTISE_MAX_AREAS = 20
EXPERTISE_MAX_LENGTH = 100
FEEDBACK_MAX_LENGTH = 2000


# --- who may do what -------------------------------------------------------------------------

def may_manage(user: User, session: MentorSession) -> bool:
    """The Union, the session's mentor and managers of its school change a session."""
    return (user.is_union or user.pk == session.mentor.user_id
            or user.manages_school(session.school_id))


def ensure_may_manage(user: User, session: MentorSession) -> None:
    if not may_manage(user, session):
        raise NotAllowed(_("Only the Union, the mentor or a manager of this school may "
                           "change this session."))


def _may_not_create() -> NotAllowed:
    return NotAllowed(_("Only the Union, a manager of this school or the mentor may "
                        "create a session here."))


def _not_an_attendee() -> NotAllowed:
    return NotAllowed(_("Only students who attended this session may give feedback."))


def ensure_may_create_sessions(user: User) -> None:
    """Before the request is read: only these roles ever create sessions."""
    if not (user.is_union or user.role in (Role.MANAGER, Role.MENTOR)):
        raise _may_not_create()


def ensure_may_record_attendance(user: User, session: MentorSession) -> None:
    if not (user.pk == session.mentor.user_id or user.manages_school(session.school_id)):
        raise NotAllowed(_("Only the mentor or a manager of this school records attendance."))


def ensure_may_give_feedback(user: User, session: MentorSession) -> None:
    if not _active_registrations(session).filter(student=user, attended=True).exists():
        raise _not_an_attendee()


def _locked(session: MentorSession) -> MentorSession:
    # The session row is the lock for its places: registrations, attendance and changes
    # of one session take turns (on SQLite the immediate transaction already does).
    return (MentorSession.objects.select_for_update()
            .select_related("mentor__user", "booking__space", "school").get(pk=session.pk))


def _ensure_not_cancelled(session: MentorSession) -> None:
    if session.booking.status not in ACTIVE_STATUSES:
        raise Conflict(_("This session was cancelled."))


def _active_registrations(session: MentorSession) -> QuerySet[Registration]:
    return Registration.objects.filter(session=session, cancelled_at__isnull=True)


# --- mentors ---------------------------------------------------------------------------------

def clean_expertise(value: Any) -> list[str]:
    """A list of areas: trimmed, without blanks or repeats (ignoring case)."""
    if not isinstance(value, list | tuple) or not all(isinstance(area, str) for area in value):
        raise Invalid(_("Give a list of areas."), field="expertise")
    areas: list[str] = []
    seen: set[str] = set()
    for raw in value:
        area = unicodedata.normalize("NFC", raw.strip())
        if not area or area.casefold() in seen:
            continue
        if len(area) > EXPERTISE_MAX_LENGTH:
            raise Invalid(_("An area is at most %(count)d characters.")
                          % {"count": EXPERTISE_MAX_LENGTH}, field="expertise")
        seen.add(area.casefold())
        areas.append(area)
    if len(areas) > EXPERTISE_MAX_AREAS:
        raise Invalid(_("At most %(count)d areas.") % {"count": EXPERTISE_MAX_AREAS},
                      field="expertise")
    return areas


def expertise_matches(areas: Iterable[str], text: str) -> bool:
    """`text` is part of one of the areas, ignoring case and Unicode composition."""
    wanted = unicodedata.normalize("NFC", text.strip()).casefold()
    return any(wanted in unicodedata.normalize("NFC", str(area)).casefold() for area in areas)


@transaction.atomic
def mentor_profile_save(*, actor: User | None, mentor: Mentor | None = None,
                        user: User | None = None, **values: Any) -> Mentor:
    """Create the mentor profile of `user` (mentor=None) or change `mentor`'s. The Union's
    job; `actor=None` is the system itself (seeding)."""
    if actor is not None and not actor.is_union:
        raise NotAllowed(_("Only the Union manages mentors."))
    values = {key: value for key, value in values.items() if key in MENTOR_FIELDS}
    if "expertise" in values:
        values["expertise"] = clean_expertise(values["expertise"])
    if "organization" in values:
        values["organization"] = (values["organization"] or "").strip() or DEFAULT_ORGANIZATION
    if mentor is None:
        if user is None:
            raise Invalid(_("This field is required."), field="user")
        if user.role != Role.MENTOR:
            raise Invalid(_("Only a user with the mentor role can have a mentor profile."),
                          field="user")
        if Mentor.objects.filter(user=user).exists():
            raise Invalid(_("This user already has a mentor profile."), field="user")
        try:
            with transaction.atomic():
                mentor = Mentor.objects.create(user=user, **values)
        except IntegrityError as error:  # created meanwhile by a concurrent request
            raise Invalid(_("This user already has a mentor profile."), field="user") from error
        log_action(mentor, "mentor.created", actor=actor, data={"user": user.pk, **values})
        return mentor
    mentor = Mentor.objects.select_for_update().get(pk=mentor.pk)
    changed = {key: [getattr(mentor, key), value] for key, value in values.items()
               if getattr(mentor, key) != value}
    if changed:
        for key, (_before, after) in changed.items():
            setattr(mentor, key, after)
        mentor.save()
        log_action(mentor, "mentor.changed", actor=actor, data=changed)
    return mentor


# --- sessions --------------------------------------------------------------------------------

def _ensure_mentor_free(mentor: Mentor, start: datetime.datetime, end: datetime.datetime,
                        exclude: MentorSession | None = None) -> None:
    """A mentor is in one place at a time. The caller holds the mentor's row lock, so that
    two sessions of one mentor cannot be booked at once in two schools."""
    clashes = (MentorSession.objects.filter(mentor=mentor, booking__status__in=ACTIVE_STATUSES,
                                            booking__start__lt=end, booking__end__gt=start)
               .order_by("booking__start"))
    if exclude is not None:
        clashes = clashes.exclude(pk=exclude.pk)
    rows = [{"id": row["booking_id"], "start": local(row["booking__start"]).isoformat(),
             "end": local(row["booking__end"]).isoformat(), "title": row["topic"]}
            for row in clashes.values("booking_id", "booking__start", "booking__end", "topic")]
    if rows:
        raise Conflict(_("The mentor already has a session at that time."), conflicts=rows)


def _check_topic(topic: str) -> str:
    topic = (topic or "").strip()
    if not topic:
        raise Invalid(_("This field is required."), field="topic")
    if len(topic) > 200:
        raise Invalid(_("At most 200 characters."), field="topic")
    return topic


def _check_kind(kind: str) -> str:
    if kind not in SessionKind.values:
        raise Invalid(_("Choose mentoring, training or workshop."), field="kind")
    return kind


def _check_capacity(capacity: Any, space: Space) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise Invalid(_("A session has at least one place."), field="capacity")
    if capacity > space.capacity:
        raise Invalid(_("This space holds at most %(capacity)d people.")
                      % {"capacity": space.capacity}, field="capacity")
    return capacity


def _check_projects(projects: Iterable[Project], school_id: int) -> list[Project]:
    projects = list(projects)
    for project in projects:
        if project.school_id != school_id:
            raise Invalid(_("%(project)s belongs to another school.") % {"project": project},
                          field="projects")
    return projects


@transaction.atomic
def session_create(*, actor: User, space: Space, start: datetime.datetime,
                   end: datetime.datetime, topic: str, mentor: Mentor | None = None,
                   kind: str = SessionKind.MENTORING, description: str = "", capacity: int = 30,
                   projects: Sequence[Project] = (), notes: str = "",
                   now: datetime.datetime | None = None) -> MentorSession:
    """A session and, in the same transaction, its booking of the room for the mentor.

    The Union and managers of the space's school name the mentor; a mentor creates their
    own sessions (`mentor` defaults to the actor's profile). All booking rules apply:
    a taken slot is a Conflict and nothing is written.
    """
    space = Space.objects.select_related("school").get(pk=space.pk)
    if mentor is None and actor.role == Role.MENTOR:
        mentor = Mentor.objects.filter(user=actor).first()
        if mentor is None:
            raise NotAllowed(_("You have no mentor profile yet: ask the Union to add one."))
    if mentor is not None:
        mentor = Mentor.objects.select_for_update().select_related("user").get(pk=mentor.pk)
    if not (actor.is_union or actor.manages_school(space.school_id)
            or (mentor is not None and mentor.user_id == actor.pk)):
        if actor.role == Role.MENTOR:
            raise NotAllowed(_("A mentor creates sessions only for themself."))
        raise _may_not_create()
    if mentor is None:
        raise Invalid(_("Choose the mentor who runs the session."), field="mentor")
    if not mentor.user.is_active:
        raise Invalid(_("This mentor's account is disabled."), field="mentor")
    topic = _check_topic(topic)
    kind = _check_kind(kind)
    capacity = _check_capacity(capacity, space)
    projects = _check_projects(projects, space.school_id)
    booking = booking_create(
        actor=actor, space=space, title=topic, description=description, start=start, end=end,
        kind=BookingKind.MENTOR_SESSION, attendees=capacity, organizer=mentor.user,
        caller_checked_rights=True, now=now)
    # After the booking rules (their 400s and the room's 409 come first); a clash rolls
    # the booking back with everything else.
    _ensure_mentor_free(mentor, start, end)
    session = MentorSession.objects.create(
        mentor=mentor, booking=booking, school_id=space.school_id, topic=topic,
        description=description, kind=kind, capacity=capacity, notes=notes, created_by=actor)
    session.projects.set(projects)
    log_action(session, "session.created", actor=actor, school_id=space.school_id, data={
        "mentor": mentor.pk, "booking": booking.pk, "space": space.pk, "topic": topic,
        "kind": kind, "capacity": capacity, "start": start, "end": end,
        "projects": [project.pk for project in projects]})
    return session


SESSION_EDITABLE = ("topic", "description", "kind", "capacity", "notes", "projects", "start",
                    "end")
# Session fields the session's booking mirrors (the feeds and the bookings list show them).
BOOKING_MIRROR = {"topic": "title", "description": "description", "capacity": "attendees",
                  "start": "start", "end": "end"}


@transaction.atomic
def session_update(*, actor: User, session: MentorSession, **changes: Any) -> MentorSession:
    """Change a session; a new time moves its booking (booking rules and conflicts apply)."""
    session = _locked(session)
    ensure_may_manage(actor, session)
    _ensure_not_cancelled(session)
    booking = session.booking
    changes = {key: value for key, value in changes.items() if key in SESSION_EDITABLE}
    if "topic" in changes:
        changes["topic"] = _check_topic(changes["topic"])
    if "kind" in changes:
        changes["kind"] = _check_kind(changes["kind"])
    if "capacity" in changes:
        changes["capacity"] = _check_capacity(changes["capacity"], booking.space)
        registered = _active_registrations(session).count()
        if changes["capacity"] < registered:
            raise Conflict(_("%(count)d students are registered: the places cannot be fewer.")
                           % {"count": registered}, field="capacity")
    projects = None
    if "projects" in changes:
        projects = _check_projects(changes.pop("projects"), session.school_id)
        if {p.pk for p in projects} == set(session.projects.values_list("pk", flat=True)):
            projects = None
    current = {"start": booking.start, "end": booking.end} | {
        key: getattr(session, key) for key in SESSION_EDITABLE if key not in ("start", "end",
                                                                             "projects")}
    changes = {key: value for key, value in changes.items() if current[key] != value}
    mirrored = {BOOKING_MIRROR[key]: value for key, value in changes.items()
                if key in BOOKING_MIRROR}
    moved = "start" in changes or "end" in changes
    if moved:
        Mentor.objects.select_for_update().get(pk=session.mentor_id)  # see _ensure_mentor_free
    if mirrored:
        booking = booking_update(actor=actor, booking=booking, caller_checked_rights=True,
                                 **mirrored)
    if moved:
        _ensure_mentor_free(session.mentor, booking.start, booking.end, exclude=session)
    elif "kind" in changes:
        # The feeds show the session's kind: a new SEQUENCE tells subscribers it changed.
        Booking.objects.filter(pk=booking.pk).update(sequence=F("sequence") + 1,
                                                     updated_at=timezone.now())
    for key in ("topic", "description", "kind", "capacity", "notes"):
        if key in changes:
            setattr(session, key, changes[key])
    if "start" in changes:
        session.reminder_sent_at = None  # a new day: remind again
    if changes:
        session.save()
    if projects is not None:
        session.projects.set(projects)
        changes["projects"] = [project.pk for project in projects]
    if changes:
        log_action(session, "session.changed", actor=actor, school_id=session.school_id,
                   data=changes)
    if moved:
        with translation.override(settings.LANGUAGE_CODE):
            # The mentor too, when someone else moved it.
            _notify(session, _("Session moved: %(topic)s") % {"topic": session.topic},
                    _("The session “%(topic)s” now takes place %(when)s, %(where)s.")
                    % _facts(session, booking), mentor=actor.pk != session.mentor.user_id)
    return session


@transaction.atomic
def session_cancel(*, actor: User, session: MentorSession, reason: str = "",
                   now: datetime.datetime | None = None) -> MentorSession:
    """Cancel the session and free its room; the registered students are told."""
    now = now or timezone.now()
    session = _locked(session)
    ensure_may_manage(actor, session)
    _ensure_not_cancelled(session)
    if session.booking.end <= now:
        raise Conflict(_("This session is over: it cannot be cancelled."))
    booking_cancel(actor=actor, booking=session.booking, reason=reason,
                   caller_checked_rights=True)
    log_action(session, "session.cancelled", actor=actor, school_id=session.school_id,
               data={"reason": reason})
    with translation.override(settings.LANGUAGE_CODE):
        message = _("The session “%(topic)s” of %(when)s, %(where)s, is cancelled.") % _facts(
            session, session.booking)
        if reason:
            message += f"\n{_('Reason')}: {reason}"
        _notify(session, _("Session cancelled: %(topic)s") % {"topic": session.topic},
                message)
    return session


# --- places ----------------------------------------------------------------------------------

def _ensure_may_register(actor: User, student: User, session: MentorSession) -> None:
    if student.pk != actor.pk and not may_manage(actor, session):
        raise NotAllowed(_("You may change only your own registration."))
    if student.role != Role.STUDENT or student.school_id != session.school_id:
        message = _("Only students of %(school)s may register for this session.") % {
            "school": session.school.name}
        if student.pk == actor.pk:
            raise NotAllowed(message)
        raise Invalid(message, field="student")


@transaction.atomic
def register(*, actor: User, session: MentorSession, student: User | None = None,
             now: datetime.datetime | None = None) -> Registration:
    """A place for `student` (default: the actor) while places are left; full is a Conflict."""
    now = now or timezone.now()
    session = _locked(session)
    student = student or actor
    _ensure_may_register(actor, student, session)
    _ensure_not_cancelled(session)
    if session.booking.start <= now:
        raise Conflict(_("This session has already started."))
    places = _active_registrations(session)
    if places.filter(student=student).exists():
        raise Conflict(_("Already registered for this session."))
    taken = places.count()
    if taken >= session.capacity:
        raise Conflict(_("This session is full (%(capacity)d places).")
                       % {"capacity": session.capacity})
    registration = Registration.objects.create(session=session, student=student,
                                               registered_at=now)
    log_action(registration, "session.registered", actor=actor, school_id=session.school_id,
               data={"session": session.pk, "student": student.pk})
    return registration


@transaction.atomic
def unregister(*, actor: User, session: MentorSession, student: User | None = None,
               now: datetime.datetime | None = None) -> Registration:
    """Give the place back (before the session starts); the row stays, cancelled."""
    now = now or timezone.now()
    session = _locked(session)
    student = student or actor
    if student.pk != actor.pk and not may_manage(actor, session):
        raise NotAllowed(_("You may change only your own registration."))
    registration = _active_registrations(session).filter(student=student).first()
    if registration is None:
        raise Conflict(_("Not registered for this session."))
    if session.booking.start <= now:
        raise Conflict(_("This session has already started."))
    registration.cancelled_at = now
    registration.save(update_fields=["cancelled_at"])
    log_action(registration, "session.unregistered", actor=actor, school_id=session.school_id,
               data={"session": session.pk, "student": student.pk})
    return registration


@transaction.atomic
def record_attendance(*, actor: User, session: MentorSession, attended: Mapping[int, bool],
                      complete: bool = False, now: datetime.datetime | None = None
                      ) -> list[Registration]:
    """Who came, by student id. `complete`: `attended` lists everyone who came, and every
    other registered student was absent. Once the session has started; the mentor or the
    school's managers."""
    now = now or timezone.now()
    session = _locked(session)
    ensure_may_record_attendance(actor, session)
    _ensure_not_cancelled(session)
    if session.booking.start > now:
        raise Conflict(_("Attendance is recorded once the session has started."))
    registrations = {row.student_id: row for row in _active_registrations(session)}
    unknown = sorted(set(attended) - set(registrations))
    if unknown:
        raise Invalid(_("Not registered for this session: %(ids)s.")
                      % {"ids": ", ".join(str(pk) for pk in unknown)}, field="attended")
    changed: list[Registration] = []
    for student_id, registration in registrations.items():
        if student_id in attended:
            value = bool(attended[student_id])
        elif complete:
            value = False
        else:
            continue
        if registration.attended is not value:
            registration.attended = value
            changed.append(registration)
    Registration.objects.bulk_update(changed, ["attended"])
    if changed:
        log_action(session, "session.attendance", actor=actor, school_id=session.school_id,
                   data={str(row.student_id): row.attended for row in changed})
    return list(registrations.values())


@transaction.atomic
def leave_feedback(*, actor: User, session: MentorSession, rating: int, comment: str = "",
                   now: datetime.datetime | None = None) -> Registration:
    """A registered student who attended rates the session (1–5) once it has ended; giving
    feedback again replaces it."""
    now = now or timezone.now()
    session = _locked(session)
    registration = (_active_registrations(session).filter(student=actor)
                    .select_for_update().first())
    if registration is None or registration.attended is not True:
        raise _not_an_attendee()
    if session.booking.end > now:
        raise Conflict(_("Feedback opens when the session has ended."))
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise Invalid(_("Rate from 1 to 5."), field="rating")
    comment = (comment or "").strip()
    if len(comment) > FEEDBACK_MAX_LENGTH:
        raise Invalid(_("At most %(count)d characters.") % {"count": FEEDBACK_MAX_LENGTH},
                      field="comment")
    registration.rating = rating
    registration.feedback = comment
    registration.save(update_fields=["rating", "feedback"])
    log_action(registration, "session.feedback", actor=actor, school_id=session.school_id,
               data={"session": session.pk, "rating": rating})
    return registration


# --- mail ------------------------------------------------------------------------------------

def _facts(session: MentorSession, booking: Booking) -> dict[str, str]:
    return {"topic": session.topic, "kind": session.get_kind_display().lower(),
            "mentor": str(session.mentor.user), "organization": session.mentor.organization,
            "when": f"{fmt(booking.start)}–{local(booking.end):%H:%M}",
            "where": f"{booking.space.name}, {session.school.name}"}


def _student_addresses(session: MentorSession) -> list[str]:
    return list(User.objects.filter(
        session_registrations__session=session, session_registrations__cancelled_at__isnull=True,
        is_active=True).exclude(email="").values_list("email", flat=True).distinct())


def _notify(session: MentorSession, subject: str, message: str, *,
            mentor: bool = False) -> None:
    """One mail per registered student (no one sees the others' addresses), and to the
    mentor if asked, sent once the transaction has committed."""
    addresses = _student_addresses(session)
    if mentor and session.mentor.user.email and session.mentor.user.is_active:
        addresses.append(session.mentor.user.email)
    if not addresses:
        return
    messages = [EmailMessage(subject, message, settings.DEFAULT_FROM_EMAIL, [address])
                for address in addresses]

    def send() -> None:
        get_connection(fail_silently=True).send_messages(messages)

    transaction.on_commit(send)


@dataclass(frozen=True)
class Reminders:
    sessions: int
    emails: int


def _reminders(session: MentorSession) -> list[EmailMessage]:
    booking = session.booking
    facts = _facts(session, booking)
    addresses = _student_addresses(session)
    subject = _("Reminder: %(topic)s tomorrow at %(time)s") % {
        "topic": session.topic, "time": f"{local(booking.start):%H:%M}"}
    details = _("When: %(when)s\nWhere: %(where)s\nMentor: %(mentor)s (%(organization)s)") % facts
    messages = [EmailMessage(
        subject, _("You are registered for the %(kind)s “%(topic)s”.") % facts + "\n\n" + details,
        settings.DEFAULT_FROM_EMAIL, [address]) for address in addresses]
    if session.mentor.user.email and session.mentor.user.is_active:
        registered = _active_registrations(session).count()
        messages.append(EmailMessage(
            subject, _("Your %(kind)s “%(topic)s” is tomorrow; %(count)d students registered.")
            % (facts | {"count": registered}) + "\n\n" + details,
            settings.DEFAULT_FROM_EMAIL, [session.mentor.user.email]))
    return messages


def send_reminders(*, now: datetime.datetime | None = None) -> Reminders:
    """Mail the mentor and the registered students of every session that starts tomorrow
    (Vietnam's calendar day), once per session: `reminder_sent_at` records it."""
    now = now or timezone.now()
    tomorrow = timezone.localdate(now) + datetime.timedelta(days=1)
    first = datetime.datetime.combine(tomorrow, datetime.time.min,
                                      tzinfo=timezone.get_current_timezone())
    due = list(MentorSession.objects.filter(
        reminder_sent_at__isnull=True, booking__status=BookingStatus.APPROVED,
        booking__start__gte=first, booking__start__lt=first + datetime.timedelta(days=1))
        .order_by("booking__start", "pk").values_list("pk", flat=True))
    sessions = emails = 0
    for pk in due:
        try:
            with transaction.atomic():
                # Claim the session first: a second run, or another server's timer, finds
                # nothing left to claim. A failed send rolls the claim back for the next run.
                claimed = MentorSession.objects.filter(
                    pk=pk, reminder_sent_at__isnull=True).update(reminder_sent_at=now)
                if not claimed:
                    continue
                session = MentorSession.objects.select_related(
                    "mentor__user", "booking__space", "school").get(pk=pk)
                with translation.override(settings.LANGUAGE_CODE):
                    messages = _reminders(session)
                emails += get_connection().send_messages(messages) or 0
                log_action(session, "session.reminded", school_id=session.school_id,
                           data={"emails": len(messages)})
        except OSError:  # the mail server (smtplib's errors are OSErrors): retried next run
            logger.exception("Reminders of mentor session %s were not sent", pk)
            continue
        sessions += 1
    return Reminders(sessions=sessions, emails=emails)
