"""The permission matrix: every endpoint × every role × own school / other school.

The routes come from the URL conf (the `api` and `ical` namespaces and the pages), so a
new endpoint without a row in EXPECTED fails `test_every_route_has_an_expectation`,
naming it. Each (route, method, role, relation) is its own test: the caller sends an
empty body ({} for the API, nothing for the pages) and must get the status the table
says. "own" means the objects of the caller's school, in which the caller takes part
(the student leads the private project, borrowed the loan and asked for the pending
booking; the teacher advises the project and organised the approved booking and the
series; the mentor mentors the project and runs the session); "other" means the same
objects of the other school, whose people are strangers to the caller. The Union, the
mentor and the administrator belong to no school: for them the relation only picks the
objects. Routes that name no object run once per role ("any"); routes of one project also
run against the other school's public project ("public", the showcase).

Objects whose very existence is private (private projects and all that hangs from
them, other people's loans and certifications, other people's pending bookings) answer
404, never 403 or a 400 about the body: the object is looked up before anything else.

The world is built once for the module in a transaction that is rolled back at the end;
each test runs in a savepoint inside it, so writes (an approval, a cancellation) do not
leak into the next test.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from accounts.models import User
from bookings import services as booking_services
from bookings.models import Closure
from projects.models import Award, LogAttachment, Milestone
from projects.sessions import mentor_profile_save, session_create
from tests import factories as f
from tests import project_factories as pf
from tests.worlds import built_once

ROLES = ("anonymous", "student", "teacher", "manager", "mentor", "union", "superuser")
RELATIONS = ("own", "other")
NAMESPACES = ("api", "ical")
WEB_METHODS = ("get", "post")
SKIPPED_WEB = {
    # Django's own views: not ours to guard.
    "login", "logout", "password_change", "password_change_done",
}


# --- discovery --------------------------------------------------------------------------------

def _walk(patterns: list[Any], namespace: str | None = None, prefix: str = ""
          ) -> Iterator[tuple[str | None, URLPattern, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            if pattern.namespace is None and namespace is None and pattern.app_name:
                inner = pattern.app_name
            yield from _walk(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        else:
            yield namespace, pattern, prefix + str(pattern.pattern)


def _methods(callback: Any) -> list[str]:
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF viewset route: {method: action}
        return sorted(method for method in actions if method not in ("head", "options"))
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None:  # an APIView or a class-based view
        return sorted(method for method in cls.http_method_names
                      if method not in ("head", "options", "trace") and hasattr(cls, method))
    return list(WEB_METHODS)


def discover() -> list[tuple[str, str]]:
    """Every (route name, method) the site serves that the matrix covers."""
    found: set[tuple[str, str]] = set()
    for namespace, pattern, route in _walk(get_resolver().url_patterns):
        if pattern.name is None:
            continue
        if "format" in pattern.pattern.regex.groupindex:  # DRF's .json suffix twins
            continue
        if namespace in NAMESPACES:
            name = f"{namespace}:{pattern.name}"
        elif namespace is None and not route.startswith(("admin/", "i18n/", "healthz")):
            if pattern.name in SKIPPED_WEB:
                continue
            name = pattern.name
        else:
            continue
        for method in _methods(pattern.callback):
            found.add((name, method))
    return sorted(found)


# --- the expected outcomes --------------------------------------------------------------------

Status = int
# One status for every relation, or (own, other), or for a project's routes
# (own, other, public): the other school's public project.
Cell = Status | tuple[Status, Status] | tuple[Status, Status, Status]


def rule(default: Cell, **by_role: Cell) -> dict[str, Cell]:
    """The status per role; `anonymous=401` and friends override the default."""
    unknown = set(by_role) - set(ROLES)
    assert not unknown, unknown
    return {role: by_role.get(role, default) for role in ROLES}


EXPECTED: dict[tuple[str, str], dict[str, Cell]] = {
    ("api:api-docs", "get"): rule(200),
    ("api:api-me", "get"): rule(200, anonymous=401),
    ("api:api-reset-feed-token", "post"): rule(200, anonymous=401),
    ("api:api-root", "get"): rule(200, anonymous=401),
    ("api:api-token", "delete"): rule(204, anonymous=401),
    ("api:api-token", "post"): rule(400),
    ("api:booking-approve", "post"):
        rule((403, 404), anonymous=401, manager=(200, 404), mentor=404, union=403, superuser=200),
    ("api:booking-cancel", "post"):
        rule((200, 404), anonymous=401, teacher=(403, 404), mentor=404, union=403, superuser=200),
    ("api:booking-detail", "get"):
        rule((200, 404), anonymous=401, mentor=404, union=200, superuser=200),
    ("api:booking-detail", "patch"):
        rule((200, 404), anonymous=401, teacher=(403, 404), mentor=404, union=403, superuser=200),
    ("api:booking-history", "get"):
        rule((200, 404), anonymous=401, teacher=(403, 404), mentor=404, union=200, superuser=200),
    ("api:booking-list", "get"): rule(200, anonymous=401),
    ("api:booking-list", "post"): rule(400, anonymous=401),
    ("api:booking-reject", "post"):
        rule((403, 404), anonymous=401, manager=(200, 404), mentor=404, union=403, superuser=200),
    ("api:certification-detail", "get"):
        rule((200, 404), anonymous=401, teacher=404, mentor=404, union=200, superuser=200),
    ("api:certification-list", "get"): rule(200, anonymous=401),
    ("api:certification-list", "post"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:certification-revoke", "post"):
        rule(403, anonymous=401, manager=(200, 404), superuser=200),
    ("api:closure-detail", "delete"): rule(403, anonymous=401, manager=(204, 403), superuser=204),
    ("api:closure-detail", "get"): rule(200),
    ("api:closure-list", "get"): rule(200),
    ("api:closure-list", "post"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:equipment-category-detail", "get"): rule(200, anonymous=401),
    ("api:equipment-category-detail", "patch"):
        rule(403, anonymous=401, manager=200, superuser=200),
    ("api:equipment-category-detail", "put"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:equipment-category-list", "get"): rule(200, anonymous=401),
    ("api:equipment-category-list", "post"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:equipment-detail", "get"): rule(200, anonymous=401),
    ("api:equipment-detail", "patch"): rule(403, anonymous=401, manager=(200, 403), superuser=200),
    ("api:equipment-detail", "put"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:equipment-list", "get"): rule(200, anonymous=401),
    ("api:equipment-list", "post"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:equipment-maintenance", "get"): rule(200, anonymous=401),
    ("api:equipment-maintenance", "post"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:loan-detail", "get"):
        rule((200, 404), anonymous=401, teacher=404, mentor=404, union=200, superuser=200),
    ("api:loan-list", "get"): rule(200, anonymous=401),
    ("api:loan-list", "post"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:loan-return", "post"): rule(403, anonymous=401, manager=(200, 404), superuser=200),
    ("api:mentor-detail", "get"): rule(200),
    ("api:mentor-detail", "patch"): rule(403, anonymous=401, union=200, superuser=200),
    ("api:mentor-list", "get"): rule(200),
    ("api:mentor-list", "post"): rule(403, anonymous=401, union=400, superuser=400),
    ("api:mentor-session-attendance", "post"):
        rule(403, anonymous=401, manager=(400, 403), mentor=(400, 403), superuser=400),
    ("api:mentor-session-cancel", "post"):
        rule(403, anonymous=401, manager=(200, 403), mentor=(200, 403), union=200, superuser=200),
    ("api:mentor-session-detail", "get"): rule(200, anonymous=401),
    ("api:mentor-session-detail", "patch"):
        rule(403, anonymous=401, manager=(200, 403), mentor=(200, 403), union=200, superuser=200),
    ("api:mentor-session-feedback", "post"): rule(403, anonymous=401),
    ("api:mentor-session-list", "get"): rule(200, anonymous=401),
    ("api:mentor-session-list", "post"): rule(400, anonymous=401, student=403, teacher=403),
    ("api:mentor-session-register", "post"): rule(403, anonymous=401, student=(200, 403)),
    ("api:mentor-session-unregister", "post"): rule(409, anonymous=401),
    ("api:period-detail", "get"): rule(200),
    ("api:period-detail", "patch"): rule(403, anonymous=401, manager=(200, 403), superuser=200),
    ("api:period-detail", "put"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:period-list", "get"): rule(200),
    ("api:period-list", "post"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:project-award-detail", "delete"):
        rule((204, 404, 403), anonymous=401, manager=(403, 404, 403),
             mentor=(403, 404, 403), union=403, superuser=204),
    ("api:project-award-detail", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 200), union=200, superuser=200),
    ("api:project-award-detail", "patch"):
        rule((200, 404, 403), anonymous=401, manager=(403, 404, 403),
             mentor=(403, 404, 403), union=403, superuser=200),
    ("api:project-award-detail", "put"):
        rule((400, 404, 400), anonymous=401, union=400, superuser=400),
    ("api:project-award-list", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 200), union=200, superuser=200),
    ("api:project-award-list", "post"):
        rule((400, 404, 400), anonymous=401, union=400, superuser=400),
    ("api:project-category-detail", "get"): rule(200),
    ("api:project-category-detail", "patch"): rule(403, anonymous=401, union=200, superuser=200),
    ("api:project-category-detail", "put"): rule(400, anonymous=401),
    ("api:project-category-list", "get"): rule(200),
    ("api:project-category-list", "post"): rule(400, anonymous=401),
    ("api:project-detail", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 200), union=200, superuser=200),
    ("api:project-detail", "patch"):
        rule((200, 404, 403), anonymous=401, manager=(403, 404, 403),
             mentor=(403, 404, 403), union=403, superuser=200),
    ("api:project-detail", "put"): rule((400, 404, 400), anonymous=401, union=400, superuser=400),
    ("api:project-list", "get"): rule(200),
    ("api:project-list", "post"): rule(400, anonymous=401),
    ("api:project-log-attachment-detail", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 200), union=200, superuser=200),
    ("api:project-log-attachment-download", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 401), union=200, superuser=200),
    ("api:project-log-attachment-list", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 200), union=200, superuser=200),
    ("api:project-log-attachment-list", "post"):
        rule((415, 404, 415), anonymous=401, union=415, superuser=415),
    ("api:project-log-comment-detail", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 200), union=200, superuser=200),
    ("api:project-log-comment-list", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 200), union=200, superuser=200),
    ("api:project-log-comment-list", "post"):
        rule((400, 404, 400), anonymous=401, union=400, superuser=400),
    ("api:project-log-detail", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 200), union=200, superuser=200),
    ("api:project-log-detail", "patch"):
        rule((403, 404, 403), anonymous=401, student=(200, 404, 403), union=403, superuser=403),
    ("api:project-log-detail", "put"):
        rule((400, 404, 400), anonymous=401, union=400, superuser=400),
    ("api:project-log-list", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 200), union=200, superuser=200),
    ("api:project-log-list", "post"):
        rule((400, 404, 400), anonymous=401, union=400, superuser=400),
    ("api:project-milestone-detail", "delete"):
        rule((204, 404, 403), anonymous=401, manager=(403, 404, 403),
             mentor=(403, 404, 403), union=403, superuser=204),
    ("api:project-milestone-detail", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 200), union=200, superuser=200),
    ("api:project-milestone-detail", "patch"):
        rule((200, 404, 403), anonymous=401, manager=(403, 404, 403),
             mentor=(403, 404, 403), union=403, superuser=200),
    ("api:project-milestone-detail", "put"):
        rule((400, 404, 400), anonymous=401, union=400, superuser=400),
    ("api:project-milestone-list", "get"):
        rule((200, 404, 200), anonymous=(404, 404, 200), union=200, superuser=200),
    ("api:project-milestone-list", "post"):
        rule((400, 404, 400), anonymous=401, union=400, superuser=400),
    ("api:report-usage", "get"): rule(400, anonymous=401),
    ("api:schema", "get"): rule(200),
    ("api:school-detail", "get"): rule(200),
    ("api:school-detail", "patch"): rule(403, anonymous=401, superuser=200),
    ("api:school-detail", "put"): rule(403, anonymous=401, superuser=400),
    ("api:school-list", "get"): rule(200),
    ("api:school-list", "post"): rule(403, anonymous=401, superuser=400),
    ("api:series-cancel", "post"):
        rule((200, 404), anonymous=401, student=(403, 404), mentor=403, union=403, superuser=200),
    ("api:series-detail", "get"):
        rule((200, 404), anonymous=401, mentor=200, union=200, superuser=200),
    ("api:series-detail", "patch"):
        rule((200, 404), anonymous=401, student=(403, 404), mentor=403, union=403, superuser=200),
    ("api:series-list", "get"): rule(200, anonymous=401),
    ("api:series-list", "post"): rule(400, anonymous=401),
    ("api:space-availability", "get"): rule(400),
    ("api:space-detail", "get"): rule(200),
    ("api:space-detail", "patch"): rule(403, anonymous=401, manager=(200, 403), superuser=200),
    ("api:space-detail", "put"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:space-list", "get"): rule(200),
    ("api:space-list", "post"): rule(403, anonymous=401, manager=400, superuser=400),
    ("api:user-detail", "get"):
        rule(403, anonymous=401, manager=(200, 404), union=200, superuser=200),
    ("api:user-list", "get"): rule(403, anonymous=401, manager=200, union=200, superuser=200),
    # A pending request the caller may not see is not found, as in the API.
    ("booking-cancel", "get"):
        rule((200, 404), anonymous=302,
             teacher=(403, 404), mentor=404, union=403, superuser=200),
    ("booking-cancel", "post"):
        rule(302, student=(302, 404), teacher=(403, 404),
             manager=(302, 404), mentor=404, union=403),
    ("booking-form", "get"): rule((200, 403), anonymous=302, mentor=403, union=403, superuser=200),
    ("booking-form", "post"):
        rule((400, 403), anonymous=302, mentor=403, union=403, superuser=400),
    ("calendars", "get"): rule(200, anonymous=302),
    ("calendars", "post"): rule(405),
    ("calendars-reset", "get"): rule(200, anonymous=302),
    ("calendars-reset", "post"): rule(302),
    ("dashboard", "get"): rule(403, anonymous=302, manager=200, union=200, superuser=200),
    ("dashboard", "post"): rule(405),
    ("equipment-detail", "get"): rule(200, anonymous=302),
    ("equipment-detail", "post"): rule(405),
    ("home", "get"): rule(200),
    ("home", "post"): rule(405),
    ("ical:mentor-sessions", "get"): rule(200),
    ("ical:mentor-sessions", "post"): rule(405),
    ("ical:school", "get"): rule(200),
    ("ical:school", "post"): rule(405),
    ("ical:space", "get"): rule(200),
    ("ical:space", "post"): rule(405),
    ("ical:user", "get"): rule((200, 404)),
    ("ical:user", "post"): rule(405),
    ("manage-approvals", "get"): rule(403, anonymous=302, manager=200, superuser=200),
    ("manage-approvals", "post"): rule(403, anonymous=302, manager=302, superuser=302),
    ("manage-closure-delete", "get"): rule(405, anonymous=302),
    ("manage-closure-delete", "post"):
        rule(403, anonymous=302, manager=(302, 404), superuser=(302, 404)),
    ("manage-closures", "get"): rule(403, anonymous=302, manager=200, superuser=200),
    ("manage-closures", "post"): rule(403, anonymous=302, manager=200, superuser=200),
    ("manage-equipment", "get"): rule(403, anonymous=302, manager=200, superuser=200),
    ("manage-equipment", "post"): rule(405),
    ("manage-loan-return", "get"): rule(405, anonymous=302),
    ("manage-loan-return", "post"):
        rule(403, anonymous=302, manager=(302, 404), superuser=(302, 404)),
    ("manage-loans", "get"): rule(403, anonymous=302, manager=200, superuser=200),
    ("manage-loans", "post"): rule(403, anonymous=302, manager=200, superuser=200),
    ("my-bookings", "get"): rule(200, anonymous=302),
    ("my-bookings", "post"): rule(405),
    ("project-databook", "get"):
        rule((200, 404, 200), anonymous=(302, 302, 200), union=200, superuser=200),
    ("project-databook", "post"): rule(405),
    ("project-detail", "get"):
        rule((200, 404, 200), anonymous=(302, 302, 200), union=200, superuser=200),
    ("project-detail", "post"): rule(405),
    ("project-log-comment", "get"): rule(302),
    ("project-log-comment", "post"):
        rule((302, 404, 302), anonymous=302, union=302, superuser=302),
    ("project-log-new", "get"):
        rule((403, 404, 403), anonymous=302, student=(200, 404, 403), union=403, superuser=403),
    ("project-log-new", "post"):
        rule((403, 404, 403), anonymous=302, student=(200, 404, 403), union=403, superuser=403),
    ("project-showcase", "get"): rule(200),
    ("project-showcase", "post"): rule(405),
    ("school-week", "get"): rule(200),
    ("school-week", "post"): rule(405),
    ("session-attendance", "get"): rule(405, anonymous=302),
    ("session-attendance", "post"): rule(302),
    ("session-detail", "get"): rule(200, anonymous=302),
    ("session-detail", "post"): rule(405),
    ("session-feedback", "get"): rule(405, anonymous=302),
    ("session-feedback", "post"): rule(302),
    ("session-list", "get"): rule(200, anonymous=302),
    ("session-list", "post"): rule(405),
    ("session-register", "get"): rule(405, anonymous=302),
    ("session-register", "post"): rule(302),
    ("session-unregister", "get"): rule(405, anonymous=302),
    ("session-unregister", "post"): rule(302),
    ("space-labels", "get"):
        rule(403, anonymous=302, manager=(200, 403), union=200, superuser=200),
    ("space-labels", "post"): rule(405),
    ("space-labels-print", "get"):
        rule(403, anonymous=302, manager=(200, 403), union=200, superuser=200),
    ("space-labels-print", "post"): rule(405),
    ("space-week", "get"): rule(200),
    ("space-week", "post"): rule(405),
}


def expected(route: str, method: str, role: str, relation: str) -> Status:
    cell = EXPECTED[(route, method)][role]
    if isinstance(cell, tuple):
        relations = relations_of(route)
        assert len(cell) == len(relations), f"{route}: one status for each of {relations}"
        return cell[relations.index(relation)]
    return cell


# --- the world --------------------------------------------------------------------------------

def build_world() -> dict[str, Any]:
    """Two schools with everything in them; the people of both; the global roles."""
    world: dict[str, Any] = {}
    laser = f.category("PM Máy cắt laser", requires_certification=True)
    kits = f.category("PM Vi điều khiển")
    world["equipment_category"] = kits
    world["project_category"] = pf.category("PM Category")
    world["union"] = f.user("pm.union", role="union")
    world["superuser"] = f.user("pm.admin", role="union", is_superuser=True, is_staff=True)
    mentors = [f.user("pm.mentor1", role="mentor"), f.user("pm.mentor2", role="mentor")]
    world["mentor"] = mentors[0]
    thursday = f.next_weekday(3, weeks=1)
    wednesday = f.next_weekday(2, weeks=1)
    for index, relation in enumerate(RELATIONS):
        slug = ("pm-ndc", "pm-nqd")[index]
        school = f.school(slug=slug)
        manager = f.user(f"pm.manager.{slug}", role="manager", school=school)
        teacher = f.user(f"pm.teacher.{slug}", role="teacher", school=school)
        student = f.user(f"pm.student.{slug}", role="student", school=school)
        space = f.space(school, name=f"Phòng {slug}", kind="makerspace")
        f.period(school, 1, "07:00", "07:45")
        stock = f.stock(space, kits, name="Bộ kit Arduino", quantity=10)
        f.asset(space, laser, name="Máy cắt laser CO2")
        mentor = mentor_profile_save(actor=None, user=mentors[index], expertise=["IoT"])
        project = pf.project(school, leader=student, advisor=teacher, mentors=[mentor],
                             visibility="private")
        public = pf.project(school, leader=student, advisor=teacher, visibility="public")
        session = session_create(actor=mentors[index], space=space,
                                 start=f.at(wednesday, "08:00"), end=f.at(wednesday, "10:00"),
                                 topic="Hướng dẫn IoT", capacity=10)
        series = booking_services.series_create(
            actor=teacher, space=space, title="CLB Robot", rrule="FREQ=WEEKLY;COUNT=3",
            start=f.at(f.next_weekday(1), "14:00"), end=f.at(f.next_weekday(1), "16:00")).series
        world[relation] = {
            "school": school, "manager": manager, "teacher": teacher, "student": student,
            "space": space, "equipment": stock,
            "pending": f.booking(space, student, start=f.at(thursday, "13:00"),
                                 end=f.at(thursday, "15:00"), status="pending",
                                 kind="project"),
            "approved": f.booking(space, teacher, start=f.at(thursday, "08:00"),
                                  end=f.at(thursday, "10:00")),
            "loan": f.loan(stock, student, manager, quantity=2),
            "certification": f.certification(student, laser, manager),
            **project_records(project, student, teacher, thursday),
            "session": session, "series": series, "mentor_profile": mentor,
            "closure": Closure.objects.create(
                school=school, start_date=thursday + datetime.timedelta(weeks=5),
                end_date=thursday + datetime.timedelta(weeks=5), reason="Nghỉ"),
            "period": school.periods.first(),
        }
    # The other school's public project: the showcase, open to anyone for reading.
    world["public"] = world["other"] | project_records(
        public, world["other"]["student"], world["other"]["teacher"], thursday)
    return world


def project_records(project: Any, student: Any, teacher: Any, day: datetime.date
                    ) -> dict[str, Any]:
    """A project and what hangs from it: an entry with a comment and a file, a milestone,
    an award."""
    entry = pf.entry(project, student)
    return {
        "project": project, "entry": entry, "comment": pf.comment(entry, teacher),
        "attachment": LogAttachment.objects.create(
            entry=entry, file=ContentFile(pf.PNG, name="pm.png"), original_name="pm.png",
            content_type="image/png", size=len(pf.PNG), uploaded_by=student),
        "milestone": Milestone.objects.create(project=project, title="Bản thảo", due_on=day),
        "award": Award.objects.create(project=project, competition="KHKT tỉnh",
                                      level="province", year=2026, result="Giải ba"),
    }


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    with built_once(django_db_blocker, build_world) as built:
        yield built


# --- the URLs ---------------------------------------------------------------------------------

# What each route's objects are: the key of the world's per-school objects for `pk`
# (and for the nested ids, the objects they hang from).
OBJECT = {
    "school": "school", "space": "space", "period": "period", "equipment": "equipment",
    "loan": "loan", "certification": "certification", "user": "student",
    "booking": "pending", "series": "series", "closure": "closure", "project": "project",
    "project-log": "entry", "project-log-comment": "comment",
    "project-log-attachment": "attachment", "project-milestone": "milestone",
    "project-award": "award", "mentor": "mentor_profile", "mentor-session": "session",
    # pages
    "equipment-detail": "equipment", "space-labels": "space", "space-labels-print": "space",
    "project-databook": "project", "space-week": "space", "booking-form": "space",
    "booking-cancel": "pending", "project-detail": "project", "project-log-new": "project",
    "session-detail": "session", "session-register": "session",
    "session-unregister": "session", "session-attendance": "session",
    "session-feedback": "session", "manage-closure-delete": "closure",
    "manage-loan-return": "loan",
    # feeds
    "ical:space": "space",
}


def url_for(route: str, world: dict[str, Any], relation: str) -> str:
    objects = world["own" if relation == "any" else relation]
    short = route.split(":", 1)[1] if route.startswith("api:") else route
    base = short
    for suffix in ("-list", "-detail"):
        if short.endswith(suffix) and short != "equipment-detail":
            base = short[: -len(suffix)]
    kwargs: dict[str, Any] = {}
    pattern_keys = _kwarg_names(route)
    if "project_pk" in pattern_keys:
        kwargs["project_pk"] = objects["project"].pk
    if "entry_pk" in pattern_keys:
        kwargs["entry_pk"] = objects["entry"].pk
    if "slug" in pattern_keys:
        kwargs["slug"] = objects["school"].slug
    if "token" in pattern_keys:  # whoever holds the token; a made-up one is unknown
        kwargs["token"] = (User.objects.get(pk=objects["student"].pk).feed_token
                           if relation != "other" else "x" * 43)
    if "pk" in pattern_keys:
        if route == "project-log-comment":
            kwargs["pk"] = objects["project"].pk
        elif route in ("api:equipment-category-detail",):
            kwargs["pk"] = world["equipment_category"].pk
        elif route == "api:project-category-detail":
            kwargs["pk"] = world["project_category"].pk
        else:
            key = OBJECT.get(base) or OBJECT.get(_action_base(route)) or OBJECT[route]
            kwargs["pk"] = objects[key].pk
    return reverse(route, kwargs=kwargs)


def _action_base(route: str) -> str:
    """api:booking-approve → booking; api:project-log-attachment-download → …-attachment."""
    short = route.split(":", 1)[-1]
    for base in sorted(OBJECT, key=len, reverse=True):
        if short.startswith(base + "-"):
            return base
    return short


_KWARGS: dict[str, set[str]] = {}


def _kwarg_names(route: str) -> set[str]:
    if not _KWARGS:
        for namespace, pattern, _route in _walk(get_resolver().url_patterns):
            if pattern.name is None or "format" in pattern.pattern.regex.groupindex:
                continue
            name = f"{namespace}:{pattern.name}" if namespace in NAMESPACES else pattern.name
            _KWARGS[name] = set(pattern.pattern.regex.groupindex)
    return _KWARGS[route]


def caller(world: dict[str, Any], role: str) -> Any:
    if role == "anonymous":
        return None
    person = world["own"][role] if role in ("student", "teacher", "manager") else world[role]
    return User.objects.get(pk=person.pk)  # afresh: an earlier test may have changed it


def request(world: dict[str, Any], route: str, method: str, role: str, relation: str) -> int:
    url = url_for(route, world, relation)
    user = caller(world, role)
    if route.startswith("api:"):
        api = APIClient()
        if user is not None:
            api.force_authenticate(user)
        if method in ("get", "delete"):
            return getattr(api, method)(url).status_code
        return getattr(api, method)(url, {}, format="json").status_code
    client = Client()
    if user is not None:
        client.force_login(user)
    return getattr(client, method)(url).status_code


# --- the tests --------------------------------------------------------------------------------

ROUTES = discover()


def test_every_route_has_an_expectation() -> None:
    missing = [f"{route} {method.upper()}" for route, method in ROUTES
               if (route, method) not in EXPECTED]
    assert not missing, "no rule in EXPECTED for: " + ", ".join(missing)


def test_discovery_sees_every_kind_of_route() -> None:
    """Router lists, details and extra actions, plain API views, feeds and pages."""
    for found in [("api:booking-list", "post"), ("api:booking-detail", "patch"),
                  ("api:booking-approve", "post"), ("api:closure-detail", "delete"),
                  ("api:api-me", "get"), ("api:project-log-attachment-download", "get"),
                  ("ical:user", "get"), ("space-week", "get"), ("manage-loan-return", "post")]:
        assert found in ROUTES, found
    assert ("api:booking-detail", "delete") not in ROUTES  # bookings are never deleted


def test_no_expectation_without_a_route() -> None:
    stale = sorted(set(EXPECTED) - set(ROUTES))
    assert not stale, f"rules for routes that do not exist: {stale}"


RECORD = os.environ.get("PERMISSION_MATRIX_RECORD")


def relations_of(route: str) -> tuple[str, ...]:
    """Routes of one project also run against the other school's public project."""
    names = _kwarg_names(route)
    if not names:
        return ("any",)
    short = route.split(":", 1)[-1]
    if "project_pk" in names or (short.startswith("project-") and "category" not in short):
        return (*RELATIONS, "public")
    return RELATIONS


def _combinations() -> list[Any]:
    """Each (route, method, role, relation); routes that name no object have one relation."""
    combinations = []
    for route, method in ROUTES:
        relations = relations_of(route)
        for role in ROLES:
            for relation in relations:
                combinations.append(pytest.param(route, method, role, relation,
                                                 id=f"{route}-{method}-{role}-{relation}"))
    return combinations


@pytest.mark.parametrize(("route", "method", "role", "relation"), _combinations())
def test_matrix(world: dict[str, Any], db: Any, route: str, method: str, role: str,
                relation: str) -> None:
    got = request(world, route, method, role, relation)
    if RECORD:
        with open(RECORD, "a", encoding="utf-8") as out:
            out.write(f"{route}\t{method}\t{role}\t{relation}\t{got}\n")
        return
    if (route, method) not in EXPECTED:
        pytest.fail(f"no rule in EXPECTED for {route} {method.upper()}")
    want = expected(route, method, role, relation)
    where = f"{method.upper()} {url_for(route, world, relation)} as {role} ({relation} school)"
    assert got == want, f"{where}: {got}, expected {want}"
