"""Writes to projects and their data book; the API, admin, pages and commands call these.

Who may do what (issue 4):

- See a project: anyone if it is public; otherwise its active members, its advisor, the
  mentors of the project, managers of its school, the Union and admins.
- Start one: students (they lead it), teachers (they advise it unless they name another
  teacher) and managers of the school; admins.
- Change it, its milestones and awards: its active members and its advisor (admins too).
  Members may give a project without an advisor one; only the advisor hands the role over.
- Logbook: active members write entries; the author may change an entry for
  LOGBOOK_EDIT_DAYS (7) days after writing it; afterwards it is part of the data book
  for good. Entries, attachments and comments are never deleted.
- Comment on entries: the advisor and the project's mentors.
- Milestones and awards may be deleted by members and the advisor (audited): they are
  plans and claims, not the record of work.
- Categories: the Union and admins.
"""

from __future__ import annotations

import datetime
import errno
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import log_action
from accounts.models import Role, User
from bookings.models import Booking
from projects.models import (
    Award,
    LogAttachment,
    LogComment,
    LogEntry,
    MemberRole,
    Membership,
    Mentor,
    Milestone,
    Project,
    ProjectCategory,
    ProjectKind,
    Visibility,
)
from projects.uploads import check_upload
from spaces.errors import Invalid, NotAllowed, StorageFull
from spaces.models import Equipment, School

PROJECT_FIELDS = (
    "title", "summary", "category", "kind", "status", "started_on", "visibility", "advisor",
    "max_members", "startup_stage", "ip_status",
)
ENTRY_FIELDS = ("date", "hours", "body", "equipment", "booking")
MILESTONE_FIELDS = ("title", "description", "due_on", "completed_on")
AWARD_FIELDS = ("competition", "level", "year", "result")
CATEGORY_FIELDS = ("name_vi", "name_en", "year", "is_active")


@dataclass(frozen=True)
class TeamMember:
    user: User
    role: str = MemberRole.MEMBER


def edit_days() -> int:
    return int(getattr(settings, "LOGBOOK_EDIT_DAYS", 7))


def attachments_per_entry() -> int:
    return int(getattr(settings, "LOGBOOK_ATTACHMENTS_PER_ENTRY", 10))


def largest_team(kind: str) -> int:
    """The largest team a project of this kind may have (settings.PROJECT_MAX_MEMBERS)."""
    return int(settings.PROJECT_MAX_MEMBERS.get(kind, 3))


# --- who sees and who may ------------------------------------------------------------------

def active_memberships(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(project=OuterRef("pk"), user=user, left_on__isnull=True)


def visible_projects(user: User | AnonymousUser) -> QuerySet[Project]:
    """The projects `user` may see (anonymous callers: the public showcase)."""
    projects = Project.objects.all()
    if not isinstance(user, User):
        return projects.filter(visibility=Visibility.PUBLIC)
    if user.is_union:
        return projects
    seen = Q(visibility=Visibility.PUBLIC) | Q(advisor=user) | Q(Exists(active_memberships(user)))
    if user.role == Role.MANAGER and user.school_id:
        seen |= Q(school_id=user.school_id)
    if user.role == Role.MENTOR:
        seen |= Q(Exists(Mentor.objects.filter(projects=OuterRef("pk"), user=user)))
    return projects.filter(seen)


def is_member(user: User, project: Project) -> bool:
    return project.memberships.filter(user=user, left_on__isnull=True).exists()


def is_mentor_of(user: User, project: Project) -> bool:
    return user.role == Role.MENTOR and project.mentors.filter(user=user).exists()


def may_edit(user: User | None, project: Project) -> bool:
    """Active members and the advisor (and admins; None is the system itself)."""
    if user is None or user.is_superuser:
        return True
    return user.pk == project.advisor_id or is_member(user, project)


def ensure_may_edit(actor: User | None, project: Project) -> None:
    if not may_edit(actor, project):
        raise NotAllowed(_("Only the team and the advisor may change this project."))


def ensure_member(actor: User, project: Project) -> None:
    if not is_member(actor, project):
        raise NotAllowed(_("Only the project's team writes its logbook."))


def may_comment(user: User, project: Project) -> bool:
    return user.pk == project.advisor_id or is_mentor_of(user, project)


def editable_until(entry: LogEntry) -> datetime.datetime:
    return entry.created_at + datetime.timedelta(days=edit_days())


def entry_is_open(entry: LogEntry, now: datetime.datetime | None = None) -> bool:
    """An entry may still be changed (by its author) or given attachments."""
    return (now or timezone.now()) < editable_until(entry)


def _ensure_entry_open(entry: LogEntry) -> None:
    if not entry_is_open(entry):
        raise NotAllowed(
            _("This entry was written more than %(days)d days ago: it is part of the data book "
              "and can no longer be changed. Add a new entry instead.") % {"days": edit_days()})


# --- categories ---------------------------------------------------------------------------

@transaction.atomic
def category_save(*, actor: User | None, category: ProjectCategory | None = None,
                  **values: Any) -> ProjectCategory:
    """Create a category (category=None) or change one. The Union and admins only."""
    if actor is not None and not actor.is_union:
        raise NotAllowed(_("Only the Union keeps the list of project categories."))
    values = {key: value for key, value in values.items() if key in CATEGORY_FIELDS}
    for name in ("name_vi", "name_en"):
        if name in values:
            values[name] = values[name].strip()
            if not values[name]:
                raise Invalid(_("This field may not be blank."), field=name)
    merged = ({field: getattr(category, field) for field in CATEGORY_FIELDS} if category
              else {"is_active": True}) | values
    for name in ("name_vi", "name_en", "year"):
        if merged.get(name) in (None, ""):
            raise Invalid(_("This field is required."), field=name)
    clash = ProjectCategory.objects.filter(year=merged["year"], name_en__iexact=merged["name_en"])
    if category is not None:
        clash = clash.exclude(pk=category.pk)
    if clash.exists():
        raise Invalid(_("This school year already has a category with this name."),
                      field="name_en")
    if category is None:
        category = ProjectCategory.objects.create(**merged)
        log_action(category, "project_category.created", actor=actor, data=merged)
        return category
    changed = {key: [getattr(category, key), value] for key, value in values.items()
               if getattr(category, key) != value}
    for key, value in values.items():
        setattr(category, key, value)
    category.save()
    if changed:
        log_action(category, "project_category.changed", actor=actor, data=changed)
    return category


# --- projects -----------------------------------------------------------------------------

def _check_advisor(advisor: User | None, school_id: int) -> None:
    if advisor is not None and not (advisor.role == Role.TEACHER and advisor.school_id == school_id
                                    and advisor.is_active):
        raise Invalid(_("The advisor must be a teacher of the project's school."), field="advisor")


def _check_category(category: ProjectCategory | None) -> None:
    if category is not None and not category.is_active:
        raise Invalid(_("This category is no longer in use."), field="category")


def _check_team(team: Sequence[TeamMember], *, school_id: int, max_members: int,
                field: str = "members") -> None:
    if not team:
        raise Invalid(_("A project needs a team: at least one student, one of them the leader."),
                      field="members")
    ids = [member.user.pk for member in team]
    if len(set(ids)) != len(ids):
        raise Invalid(_("A student is listed twice."), field="members")
    for member in team:
        user = member.user
        if not (user.role == Role.STUDENT and user.school_id == school_id and user.is_active):
            raise Invalid(_("%(person)s is not a student of the project's school.")
                          % {"person": user}, field="members")
    if len(team) > max_members:
        raise Invalid(_("A team of this project has at most %(count)d members.")
                      % {"count": max_members}, field=field)
    if not any(member.role == MemberRole.LEADER for member in team):
        raise Invalid(_("The team needs a leader."), field="members")


def _check_kind(kind: str, max_members: int, startup_stage: str) -> None:
    cap = largest_team(kind)
    if max_members > cap:
        raise Invalid(_("A project of this kind has at most %(count)d members.") % {"count": cap},
                      field="max_members")
    if startup_stage and kind != ProjectKind.STARTUP:
        raise Invalid(_("Only a startup has a startup stage."), field="startup_stage")


def _set_team(project: Project, team: Sequence[TeamMember], *, joined_on: datetime.date
              ) -> dict[str, Any]:
    """Make the active team `team`: people who go are marked as having left, never erased."""
    current = {m.user_id: m for m in project.memberships.filter(left_on__isnull=True)}
    wanted = {member.user.pk: member.role for member in team}
    today = timezone.localdate()
    changes: dict[str, Any] = {}
    for user_id, membership in current.items():
        if user_id not in wanted:
            membership.left_on = max(today, membership.joined_on)
            membership.save(update_fields=["left_on"])
            changes.setdefault("left", []).append(user_id)
        elif membership.role != wanted[user_id]:
            changes.setdefault("roles", {})[str(user_id)] = [membership.role, wanted[user_id]]
            membership.role = wanted[user_id]
            membership.save(update_fields=["role"])
    added = [Membership(project=project, user_id=user_id, role=role, joined_on=joined_on)
             for user_id, role in wanted.items() if user_id not in current]
    Membership.objects.bulk_create(added)
    if added:
        changes["joined"] = [[m.user_id, m.role] for m in added]
    return changes


@transaction.atomic
def project_create(*, actor: User | None, title: str, school: School | None = None,
                   members: Sequence[TeamMember] = (), mentors: Iterable[Mentor] = (),
                   **values: Any) -> Project:
    values = {key: value for key, value in values.items() if key in PROJECT_FIELDS}
    team = list(members)
    if actor is not None and not actor.is_superuser:
        if actor.role not in (Role.STUDENT, Role.TEACHER, Role.MANAGER):
            raise NotAllowed(_("Students, teachers and managers of a school start its projects."))
        school = school or actor.school
        if school is None or school.pk != actor.school_id:
            raise NotAllowed(_("You can start projects only at your own school."))
        if actor.role == Role.STUDENT:
            # The student who starts a project leads it.
            team = [TeamMember(actor, MemberRole.LEADER),
                    *(member for member in team if member.user.pk != actor.pk)]
        elif actor.role == Role.TEACHER and values.get("advisor") is None:
            values["advisor"] = actor
    if school is None:
        raise Invalid(_("This field is required."), field="school")
    kind = values.setdefault("kind", ProjectKind.SCIENCE)
    values["max_members"] = values.get("max_members") or largest_team(kind)
    values["title"] = title
    _check_kind(kind, values["max_members"], values.get("startup_stage", ""))
    _check_advisor(values.get("advisor"), school.pk)
    _check_category(values.get("category"))
    _check_team(team, school_id=school.pk, max_members=values["max_members"])
    project = Project.objects.create(school=school, **values)
    mentors = list(mentors)
    project.mentors.set(mentors)
    # The founding team joined when the project started (or today, for one that starts later).
    team_log = _set_team(project, team, joined_on=min(project.started_on, timezone.localdate()))
    log_action(project, "project.created", actor=actor, school_id=school.pk,
               data={**values, "members": team_log.get("joined", []),
                     "mentors": [mentor.pk for mentor in mentors]})
    return project


@transaction.atomic
def project_update(*, actor: User | None, project: Project, school: School | None = None,
                   members: Sequence[TeamMember] | None = None,
                   mentors: Iterable[Mentor] | None = None, **changes: Any) -> Project:
    # The row lock serialises changes of one project, so two requests adding
    # members cannot both see room for one more.
    project = Project.objects.select_for_update().get(pk=project.pk)
    ensure_may_edit(actor, project)
    if school is not None and school.pk != project.school_id:
        raise Invalid(_("A project stays at its school."), field="school")
    changes = {key: value for key, value in changes.items() if key in PROJECT_FIELDS}
    if ("advisor" in changes and changes["advisor"] != project.advisor
            and project.advisor_id is not None
            and not (actor is None or actor.is_superuser or actor.pk == project.advisor_id)):
        raise NotAllowed(_("Only the advisor hands the project over to another advisor."))
    merged = {field: getattr(project, field) for field in PROJECT_FIELDS} | changes
    if "kind" in changes and changes["kind"] != project.kind:
        if "max_members" not in changes:
            merged["max_members"] = min(project.max_members, largest_team(merged["kind"]))
        if merged["kind"] != ProjectKind.STARTUP and "startup_stage" not in changes:
            merged["startup_stage"] = ""
    _check_kind(merged["kind"], merged["max_members"], merged["startup_stage"])
    if "advisor" in changes:
        _check_advisor(changes["advisor"], project.school_id)
    if "category" in changes and changes["category"] != project.category:
        _check_category(changes["category"])
    if members is not None:
        _check_team(members, school_id=project.school_id, max_members=merged["max_members"])
    elif merged["max_members"] < project.max_members:
        size = project.memberships.filter(left_on__isnull=True).count()
        if size > merged["max_members"]:
            raise Invalid(_("The team already has %(count)d members.") % {"count": size},
                          field="max_members")
    changed: dict[str, Any] = {field: [getattr(project, field), value]
                               for field, value in merged.items()
                               if getattr(project, field) != value}
    for field in changed:
        setattr(project, field, merged[field])
    if changed:
        project.save()
    if members is not None:
        team_changes = _set_team(project, members, joined_on=timezone.localdate())
        if team_changes:
            changed["members"] = team_changes
    if mentors is not None:
        wanted = {mentor.pk for mentor in mentors}
        before = set(project.mentors.values_list("pk", flat=True))
        if wanted != before:
            project.mentors.set(wanted)
            changed["mentors"] = [sorted(before), sorted(wanted)]
    if changed:
        log_action(project, "project.changed", actor=actor, school_id=project.school_id,
                   data=changed)
    return project


# --- the logbook --------------------------------------------------------------------------

def _check_entry(project: Project, values: dict[str, Any]) -> None:
    if "date" in values and values["date"] > timezone.localdate():
        raise Invalid(_("A logbook entry cannot be dated in the future."), field="date")
    if "hours" in values and not (Decimal(0) <= Decimal(values["hours"]) <= Decimal(24)):
        raise Invalid(_("Hours must be between 0 and 24."), field="hours")
    if "body" in values and not values["body"].strip():
        raise Invalid(_("Say what was done."), field="body")
    equipment_ids = {item.pk for item in values.get("equipment") or ()}
    if equipment_ids and Equipment.objects.filter(
            pk__in=equipment_ids, space__school_id=project.school_id).count() != len(equipment_ids):
        raise Invalid(_("The equipment must belong to the project's school."), field="equipment")
    booking: Booking | None = values.get("booking")
    if booking is not None and booking.school_id != project.school_id:
        raise Invalid(_("The booking must be at the project's school."), field="booking")


def _entry_audit(values: dict[str, Any]) -> dict[str, Any]:
    data = dict(values)
    if "equipment" in data:
        data["equipment"] = sorted(item.pk for item in data["equipment"])
    return data


@transaction.atomic
def log_entry_create(*, actor: User, project: Project, hours: Decimal, body: str,
                     date: datetime.date | None = None, equipment: Sequence[Equipment] = (),
                     booking: Booking | None = None) -> LogEntry:
    ensure_member(actor, project)
    values: dict[str, Any] = {"date": date or timezone.localdate(), "hours": hours,
                              "body": body, "equipment": list(equipment), "booking": booking}
    _check_entry(project, values)
    entry = LogEntry.objects.create(project=project, author=actor, date=values["date"],
                                    hours=hours, body=body, booking=booking)
    entry.equipment.set(values["equipment"])
    log_action(entry, "logentry.created", actor=actor, school_id=project.school_id,
               data={"project": project.pk, **_entry_audit(values)})
    return entry


@transaction.atomic
def log_entry_update(*, actor: User, entry: LogEntry, **changes: Any) -> LogEntry:
    entry = LogEntry.objects.select_for_update().select_related("project").get(pk=entry.pk)
    project = entry.project
    if actor.pk != entry.author_id or not is_member(actor, project):
        raise NotAllowed(_("Only its author, while in the team, changes a logbook entry."))
    _ensure_entry_open(entry)
    changes = {key: value for key, value in changes.items() if key in ENTRY_FIELDS}
    _check_entry(project, changes)
    # The audit keeps what an entry said before each change: the data book is never erased.
    before = _entry_audit({key: getattr(entry, key) for key in changes if key != "equipment"})
    if "equipment" in changes:
        before |= _entry_audit({"equipment": entry.equipment.all()})
    after = _entry_audit(changes)
    changed = {key: [before[key], after[key]] for key in changes if before[key] != after[key]}
    for key in changed:
        if key != "equipment":
            setattr(entry, key, changes[key])
    entry.save()
    if "equipment" in changed:
        entry.equipment.set(changes["equipment"])
    if changed:
        log_action(entry, "logentry.changed", actor=actor, school_id=project.school_id,
                   data=changed)
    return entry


@transaction.atomic
def log_comment_create(*, actor: User, entry: LogEntry, body: str) -> LogComment:
    project = entry.project
    if not may_comment(actor, project):
        raise NotAllowed(_("Only the advisor and the project's mentors comment on its logbook."))
    if not body.strip():
        raise Invalid(_("This field may not be blank."), field="body")
    comment = LogComment.objects.create(entry=entry, author=actor, body=body)
    log_action(comment, "logcomment.created", actor=actor, school_id=project.school_id,
               data={"entry": entry.pk, "body": body})
    return comment


def attachment_add(*, actor: User, entry: LogEntry, upload: File) -> LogAttachment:
    """Attach a file to an entry still open for changes; members of the team only."""
    ensure_member(actor, entry.project)
    _ensure_entry_open(entry)
    # Checked before the transaction: reading 10 MB need not hold the write lock.
    checked = check_upload(cast(IO[bytes], upload), name=upload.name or "", size=upload.size)
    with transaction.atomic():
        entry = LogEntry.objects.select_for_update().select_related("project").get(pk=entry.pk)
        _ensure_entry_open(entry)
        if entry.attachments.count() >= attachments_per_entry():
            raise Invalid(_("An entry has at most %(count)d attachments.")
                          % {"count": attachments_per_entry()}, field="file")
        attachment = LogAttachment(entry=entry, original_name=checked.display_name,
                                   content_type=checked.content_type, size=checked.size,
                                   uploaded_by=actor)
        # A photo is stored as check_upload wrote it anew (no metadata), anything else as it came.
        stored = upload if checked.content is None else ContentFile(checked.content)
        # The stored name is ours (random), never the client's.
        try:
            attachment.file.save(f"{uuid.uuid4().hex}.{checked.extension}", stored, save=False)
        except OSError as error:
            if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            raise StorageFull(_("The server has no room left to store this file. Nothing was "
                                "saved; try again later and tell the space's manager."),
                              field="file") from error
        try:
            attachment.save()
            log_action(attachment, "logattachment.added", actor=actor,
                       school_id=entry.project.school_id,
                       data={"entry": entry.pk, "name": checked.display_name,
                             "content_type": checked.content_type, "size": checked.size,
                             "path": attachment.file.name})
        except Exception:
            attachment.file.delete(save=False)
            raise
    return attachment


# --- milestones and awards ----------------------------------------------------------------

def _check_milestone(values: dict[str, Any]) -> None:
    if values.get("completed_on") and values["completed_on"] > timezone.localdate():
        raise Invalid(_("A milestone cannot be completed in the future."), field="completed_on")
    if "title" in values and not values["title"].strip():
        raise Invalid(_("This field may not be blank."), field="title")


def _change(obj: Any, values: dict[str, Any], action: str, *, actor: User | None,
            school_id: int) -> Any:
    """Apply `values` to `obj` and audit what actually changed, as [before, after]."""
    changed = {key: [getattr(obj, key), value] for key, value in values.items()
               if getattr(obj, key) != value}
    for key, value in values.items():
        setattr(obj, key, value)
    obj.save()
    if changed:
        log_action(obj, action, actor=actor, school_id=school_id, data=changed)
    return obj


@transaction.atomic
def milestone_save(*, actor: User | None, project: Project, milestone: Milestone | None = None,
                   **values: Any) -> Milestone:
    ensure_may_edit(actor, project)
    values = {key: value for key, value in values.items() if key in MILESTONE_FIELDS}
    _check_milestone(values)
    if milestone is None:
        if values.get("due_on") is None:
            raise Invalid(_("This field is required."), field="due_on")
        milestone = Milestone.objects.create(project=project, **values)
        log_action(milestone, "milestone.created", actor=actor, school_id=project.school_id,
                   data={"project": project.pk, **values})
        return milestone
    return _change(milestone, values, "milestone.changed", actor=actor,
                   school_id=project.school_id)


@transaction.atomic
def milestone_delete(*, actor: User | None, milestone: Milestone) -> None:
    ensure_may_edit(actor, milestone.project)
    log_action(milestone, "milestone.deleted", actor=actor, school_id=milestone.project.school_id,
               data={"project": milestone.project_id,
                     **{key: getattr(milestone, key) for key in MILESTONE_FIELDS}})
    milestone.delete()


def _check_award(values: dict[str, Any]) -> None:
    if values.get("year") and values["year"] > timezone.localdate().year:
        raise Invalid(_("An award cannot be from a future year."), field="year")
    for name in ("competition", "result"):
        if name in values and not values[name].strip():
            raise Invalid(_("This field may not be blank."), field=name)


@transaction.atomic
def award_save(*, actor: User | None, project: Project, award: Award | None = None,
               **values: Any) -> Award:
    ensure_may_edit(actor, project)
    values = {key: value for key, value in values.items() if key in AWARD_FIELDS}
    _check_award(values)
    if award is None:
        award = Award.objects.create(project=project, **values)
        log_action(award, "award.created", actor=actor, school_id=project.school_id,
                   data={"project": project.pk, **values})
        return award
    return _change(award, values, "award.changed", actor=actor, school_id=project.school_id)


@transaction.atomic
def award_delete(*, actor: User | None, award: Award) -> None:
    ensure_may_edit(actor, award.project)
    log_action(award, "award.deleted", actor=actor, school_id=award.project.school_id,
               data={"project": award.project_id,
                     **{key: getattr(award, key) for key in AWARD_FIELDS}})
    award.delete()
