"""How the spaces are used: the Union's report, computed by the database.

One row per group (a school, a space, or a month) over a window of whole days
[date_from, date_to], with a fixed number of aggregate queries whatever the size
of the data: no Python loop over bookings. Open hours come from the opening hours
and closures (small tables), by arithmetic on weekday counts.

What counts (documented in the README and tested against a hand-computed fixture):
- booked hours: approved bookings, the part inside the window only;
- utilisation: booked hours / open hours (opening hours in the window, closure days off);
- bookings: approved bookings overlapping the window, in all and by kind;
- mentor sessions: sessions whose booking is approved and overlaps the window, with
  registrations (not cancelled) and attendance (marked attended);
- unique organisers: people who organised those bookings;
- unique students reached: student organisers, session registrants, and members of the
  projects active in the group;
- loans: loans checked out in the window; overdue: those returned late or still out past due;
- active projects: projects with a logbook entry in the group; logbook hours: their hours.
For a space, logbook figures count entries linked to a booking of that space.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Greatest, Least, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from bookings.models import Booking, BookingKind, BookingStatus, Closure
from projects.models import LogEntry, Membership, MentorSession, Registration
from reports.routers import reporting
from spaces.errors import Invalid
from spaces.models import Loan, OpeningHours, School, Space

GROUPINGS = ("school", "space", "month")
MAX_DAYS = 800


@dataclass(frozen=True)
class Window:
    date_from: datetime.date
    date_to: datetime.date  # inclusive

    @property
    def start(self) -> datetime.datetime:
        return datetime.datetime.combine(self.date_from, datetime.time.min,
                                         tzinfo=timezone.get_current_timezone())

    @property
    def end(self) -> datetime.datetime:
        return datetime.datetime.combine(self.date_to + datetime.timedelta(days=1),
                                         datetime.time.min, tzinfo=timezone.get_current_timezone())

    def days(self) -> Iterable[datetime.date]:
        day = self.date_from
        while day <= self.date_to:
            yield day
            day += datetime.timedelta(days=1)


def make_window(date_from: datetime.date, date_to: datetime.date) -> Window:
    if date_to < date_from:
        raise Invalid(_("The end of the window cannot be before its start."), field="to")
    if (date_to - date_from).days > MAX_DAYS:
        raise Invalid(_("Ask for at most %(days)d days.") % {"days": MAX_DAYS}, field="to")
    return Window(date_from, date_to)


def month_key(value: datetime.date | datetime.datetime) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return f"{value.year:04d}-{value.month:02d}"


def _key(group_by: str, *, school: str, space: str | None, moment: str) -> Any:
    """The expression naming a row's group, from the queried model's point of view."""
    tz = timezone.get_current_timezone()
    if group_by == "school":
        return F(school)
    if group_by == "space":
        return F(space) if space else Value(None)
    if moment.endswith("date"):  # a DateField: no time zone to apply
        return TruncMonth(moment)
    return TruncMonth(moment, tzinfo=tz)


def _normalise(group_by: str, value: Any) -> Any:
    if group_by == "month" and value is not None:
        return month_key(value)
    return value


def usage_report(*, date_from: datetime.date, date_to: datetime.date,
                 school_ids: list[int] | None = None, group_by: str = "school",
                 now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    """The report's rows; every query goes to the reports database (the replica, if any)."""
    with reporting():
        return _usage_report(date_from=date_from, date_to=date_to, school_ids=school_ids,
                             group_by=group_by, now=now)


def _usage_report(*, date_from: datetime.date, date_to: datetime.date,
                  school_ids: list[int] | None, group_by: str,
                  now: datetime.datetime | None) -> list[dict[str, Any]]:
    if group_by not in GROUPINGS:
        raise Invalid(_("Group by school, space or month."), field="group_by")
    window = make_window(date_from, date_to)
    now = now or timezone.now()
    schools = School.objects.order_by("name")
    if school_ids is not None:
        schools = schools.filter(pk__in=school_ids)
    school_list = list(schools)
    ids = [school.pk for school in school_list]
    spaces = list(Space.objects.filter(school_id__in=ids, is_active=True)
                  .select_related("school").order_by("school__name", "name"))

    rows = _empty_rows(group_by, window, school_list, spaces)
    for key, hours in _open_hours(group_by, window, spaces).items():
        if key in rows:
            rows[key]["open_hours"] = hours

    def row(value: Any) -> dict[str, Any] | None:
        return rows.get(_normalise(group_by, value))

    # 1. Approved bookings in the window: hours inside it, counts by kind.
    inside = ExpressionWrapper(
        Least(F("end"), Value(window.end, output_field=DateTimeField()))
        - Greatest(F("start"), Value(window.start, output_field=DateTimeField())),
        output_field=DurationField())
    approved = Booking.objects.filter(status=BookingStatus.APPROVED, school_id__in=ids,
                                      start__lt=window.end, end__gt=window.start)
    for found in (approved.annotate(group=_key(group_by, school="school_id", space="space_id",
                                               moment="start"))
                  .values("group", "kind").annotate(hours=Sum(inside), count=Count("id"))
                  .order_by()):
        target = row(found["group"])
        if target is None:
            continue
        target["booked_seconds"] += found["hours"].total_seconds() if found["hours"] else 0
        target["bookings"] += found["count"]
        target["bookings_by_kind"][found["kind"]] += found["count"]

    # 2. Unique organisers.
    for found in (approved.annotate(group=_key(group_by, school="school_id", space="space_id",
                                               moment="start"))
                  .values("group").annotate(people=Count("organizer", distinct=True)).order_by()):
        target = row(found["group"])
        if target is not None:
            target["unique_organizers"] = found["people"]

    # 3. Mentor sessions with registrations and attendance.
    sessions = MentorSession.objects.filter(
        school_id__in=ids, booking__status=BookingStatus.APPROVED,
        booking__start__lt=window.end, booking__end__gt=window.start)
    for found in (sessions.annotate(group=_key(group_by, school="school_id",
                                               space="booking__space_id", moment="booking__start"))
                  .values("group")
                  .annotate(count=Count("id", distinct=True),
                            registered=Count("registrations", distinct=True,
                                             filter=Q(registrations__cancelled_at__isnull=True)),
                            attended=Count("registrations", distinct=True,
                                           filter=Q(registrations__attended=True)))
                  .order_by()):
        target = row(found["group"])
        if target is not None:
            target["mentor_sessions"] = found["count"]
            target["session_registrations"] = found["registered"]
            target["session_attendance"] = found["attended"]

    # 4. Loans checked out in the window, and the overdue ones among them.
    late = Q(returned_at__isnull=True, due_at__lt=now) | Q(returned_at__gt=F("due_at"))
    loans = Loan.objects.filter(equipment__space__school_id__in=ids,
                                checked_out_at__gte=window.start, checked_out_at__lt=window.end)
    for found in (loans.annotate(group=_key(group_by, school="equipment__space__school_id",
                                            space="equipment__space_id", moment="checked_out_at"))
                  .values("group").annotate(count=Count("id"), overdue=Count("id", filter=late))
                  .order_by()):
        target = row(found["group"])
        if target is not None:
            target["loans"] = found["count"]
            target["overdue_loans"] = found["overdue"]

    # 5. Logbook: hours and the projects active in the window.
    entries = LogEntry.objects.filter(project__school_id__in=ids, date__gte=window.date_from,
                                      date__lte=window.date_to)
    if group_by == "space":
        entries = entries.filter(booking__isnull=False)
    log_group = _key(group_by, school="project__school_id", space="booking__space_id",
                     moment="date")
    for found in (entries.annotate(group=log_group).values("group")
                  .annotate(hours=Sum("hours"), projects=Count("project", distinct=True))
                  .order_by()):
        target = row(found["group"])
        if target is not None:
            target["logbook_hours"] = float(found["hours"] or Decimal(0))
            target["active_projects"] = found["projects"]

    # 6. Students reached: student organisers, registrants, members of active projects.
    # The (group, person) pairs are many (a country's students by month), their groups few:
    # each group value is normalised once. order_by() before distinct(): the models' default
    # ordering would otherwise join the SELECT DISTINCT and make every row distinct.
    reached: dict[Any, set[int]] = defaultdict(set)
    groups: dict[Any, set[int]] = {}

    def reached_in(value: Any) -> set[int]:
        found = groups.get(value)
        if found is None:
            found = groups[value] = reached[_normalise(group_by, value)]
        return found

    for pair in (approved.filter(organizer__role=Role.STUDENT)
                  .annotate(group=_key(group_by, school="school_id", space="space_id",
                                       moment="start"))
                  .values_list("group", "organizer_id").order_by().distinct()):
        reached_in(pair[0]).add(pair[1])
    registrations = Registration.objects.filter(
        cancelled_at__isnull=True, session__in=sessions)
    for pair in (registrations.annotate(group=_key(
            group_by, school="session__school_id", space="session__booking__space_id",
            moment="session__booking__start"))
            .values_list("group", "student_id").order_by().distinct()):
        reached_in(pair[0]).add(pair[1])
    if group_by == "school":
        # A project is in its school's group once it has any entry: a semi-join on the
        # project, not a join that repeats each member once per entry.
        members = Membership.objects.filter(
            left_on__isnull=True, project__in=entries.values("project_id"))
    else:  # each entry places its project in a month or a space
        members = Membership.objects.filter(
            left_on__isnull=True, project__log_entries__in=entries)
    member_group = _key(group_by, school="project__school_id",
                        space="project__log_entries__booking__space_id",
                        moment="project__log_entries__date")
    for pair in (members.annotate(group=member_group)
                 .values_list("group", "user_id").order_by().distinct()):
        reached_in(pair[0]).add(pair[1])
    for key, people in reached.items():
        if key in rows:
            rows[key]["unique_students"] = len(people)

    return [_finish(value) for value in rows.values()]


def _empty_rows(group_by: str, window: Window, schools: list[School], spaces: list[Space]
                ) -> dict[Any, dict[str, Any]]:
    def blank(**group: Any) -> dict[str, Any]:
        return {**group, "booked_seconds": 0.0, "open_hours": 0.0, "bookings": 0,
                "bookings_by_kind": dict.fromkeys(BookingKind.values, 0),
                "mentor_sessions": 0, "session_registrations": 0, "session_attendance": 0,
                "unique_organizers": 0, "unique_students": 0, "loans": 0, "overdue_loans": 0,
                "active_projects": 0, "logbook_hours": 0.0}

    if group_by == "school":
        return {s.pk: blank(school=s.pk, school_name=s.name, school_slug=s.slug)
                for s in schools}
    if group_by == "space":
        return {s.pk: blank(space=s.pk, space_name=s.name, school=s.school_id,
                            school_name=s.school.name) for s in spaces}
    months: dict[Any, dict[str, Any]] = {}
    for day in window.days():
        months.setdefault(month_key(day), blank(month=month_key(day)))
    return months


def _open_hours(group_by: str, window: Window, spaces: list[Space]) -> dict[Any, float]:
    """Opening hours in the window, closure days taken off, by weekday arithmetic:
    two small queries (opening hours, closures) and no loop over bookings."""
    by_space: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for row in OpeningHours.objects.filter(space__in=spaces).values("space_id", "weekday",
                                                                    "opens", "closes"):
        opens = datetime.datetime.combine(datetime.date.min, row["opens"])
        closes = datetime.datetime.combine(datetime.date.min, row["closes"])
        by_space[row["space_id"]][row["weekday"]] += (closes - opens).total_seconds() / 3600
    # Days of each weekday per group bucket (the whole window, or each month).
    weekday_counts: dict[str, list[int]] = defaultdict(lambda: [0] * 7)
    for day in window.days():
        weekday_counts[month_key(day) if group_by == "month" else ""][day.weekday()] += 1
    totals: dict[Any, float] = defaultdict(float)
    school_of = {space.pk: space.school_id for space in spaces}
    for space in spaces:
        hours = by_space.get(space.pk, {})
        for bucket, counts in weekday_counts.items():
            total = sum(hours.get(weekday, 0.0) * counts[weekday] for weekday in range(7))
            totals[_bucket(group_by, space, bucket)] += total
    closures = Closure.objects.filter(school_id__in=set(school_of.values()),
                                      start_date__lte=window.date_to,
                                      end_date__gte=window.date_from)
    closed: set[tuple[int, datetime.date]] = set()
    spaces_of_school: dict[int, list[Space]] = defaultdict(list)
    for space in spaces:
        spaces_of_school[space.school_id].append(space)
    for closure in closures.values("school_id", "space_id", "start_date", "end_date"):
        targets = ([s for s in spaces_of_school[closure["school_id"]] if s.pk == closure["space_id"]]
                   if closure["space_id"] else spaces_of_school[closure["school_id"]])
        day = max(closure["start_date"], window.date_from)
        while day <= min(closure["end_date"], window.date_to):
            for space in targets:
                if (space.pk, day) in closed:  # overlapping closures close a day once
                    continue
                closed.add((space.pk, day))
                lost = by_space.get(space.pk, {}).get(day.weekday(), 0.0)
                totals[_bucket(group_by, space, month_key(day))] -= lost
            day += datetime.timedelta(days=1)
    return dict(totals)


def _bucket(group_by: str, space: Space, month: str) -> Any:
    if group_by == "school":
        return space.school_id
    if group_by == "space":
        return space.pk
    return month


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    booked = row.pop("booked_seconds") / 3600
    row["booked_hours"] = round(booked, 2)
    row["open_hours"] = round(row["open_hours"], 2)
    row["utilisation"] = round(booked / row["open_hours"], 4) if row["open_hours"] else 0.0
    row["logbook_hours"] = round(row["logbook_hours"], 2)
    return row
