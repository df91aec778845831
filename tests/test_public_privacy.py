"""Students' names and contacts never reach the public: one sweep over the whole surface.

The per-feature tests (feeds, showcase, calendars, sessions) each check their own page.
This one builds the real demo world (`seed_demo`) and walks everything an anonymous
visitor can reach, discovered rather than listed, so a new page, feed or endpoint that
leaks fails here even if nobody wrote a test for it:

- pages: a crawl from `/`, the showcase, every school's week and every space's calendar
  and every page route without parameters, following same-site links (the previous and
  next week once, up to MAX_PAGES);
- feeds: every route of the `ical` namespace for every school and space, except the
  personal feed (its token is a secret) — a new feed route must be added to FEEDS;
- API: every GET path of the OpenAPI schema, its parameters filled with ids that the
  anonymous lists give and, so that private objects are tried too, that an
  administrator's lists give.

One student's booking request is approved first, so a student's booking is on the public
calendars and feeds (by its title only). Every 200 body is searched (HTML unescaped, JSON
decoded, iCal unfolded, Unicode NFC, case-folded) for each student's full name and email,
and for the username of whoever asked for a still-pending booking. The model has no phone
field, so email is the only contact.

Then a student of another school crawls the pages: the calendars name no student of
another school, and project pages (signed-in people see the team of a project they may
see, as in the API) name only the teams of public projects. A last test checks that the
search does find the names where they belong (a teacher's view of their own school), so
the sweep cannot pass by not recognising them.
"""

from __future__ import annotations

import contextlib
import datetime
import html
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role, User
from bookings.models import Booking, BookingStatus
from bookings.services import booking_approve, booking_create
from projects.models import Membership, Project
from spaces.errors import DomainError
from spaces.models import School, Space
from tests.worlds import built_once

MAX_PAGES = 400
QUERY_VARIANTS = 4  # distinct query strings followed per path
IDS_PER_PARAMETER = 8  # from each of the anonymous and the administrator's lists: every public
NESTED_IDS_PER_PARAMETER = 3  # project of the demo, and a few of what hangs from them
URLS_PER_API_PATH = 16
MIN_NAME_LENGTH = 6  # shorter needles would match ordinary words

APPROVED_REQUEST_SCHOOL = "ndc"
SKIPPED_PREFIXES = ("/admin/", "/accounts/", "/i18n/", "/static/", "/media/", "/api/v1/schema/")

# The ical namespace: how to fill each route, or why it is not public. A new route fails
# test_every_feed_route_is_swept until it is added here.
FEEDS = {"space": "space", "school": "school", "mentor-sessions": "none"}
PRIVATE_FEEDS = {"user": "the personal feed: its address holds the owner's secret token"}


# --- the world -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Needle:
    who: str  # username of the person
    what: str  # which of their data
    text: str  # folded

    def __str__(self) -> str:
        return f"{self.who}'s {self.what}"


def fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


@dataclass
class Demo:
    schools: list[School]
    spaces: list[Space]
    students: list[User]
    needles: list[Needle]
    public_projects: list[Project]
    public_team: set[int]  # ids of students in the active team of a public project
    admin: User
    approved_request: Booking  # a student's booking that anyone may now see (its title)


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Demo]:
    with built_once(django_db_blocker, build_demo) as built:
        yield built


def student_request(school: School) -> Booking:
    """The booking seed_demo asks for as the school's student; made here on the first day
    that takes it if the seed skipped it (a holiday that week)."""
    booking = Booking.objects.filter(school=school, organizer__role=Role.STUDENT).first()
    if booking is not None:
        return booking
    student = User.objects.get(role=Role.STUDENT, school=school, username__startswith="student.")
    space = Space.objects.filter(school=school).order_by("pk").first()
    assert space is not None
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    for offset in range(1, 120):
        day = today + datetime.timedelta(days=offset)
        try:
            return booking_create(
                actor=student, space=space, title="Nhóm dự án — chế tạo mẫu", kind="project_work",
                start=datetime.datetime.combine(day, datetime.time(14), tzinfo=tz),
                end=datetime.datetime.combine(day, datetime.time(15), tzinfo=tz), attendees=5)
        except DomainError:
            continue
    raise AssertionError(f"no day in the coming months takes a student's booking at {school}")


def build_demo() -> Demo:
    call_command("seed_demo", stdout=io.StringIO())
    requests = {school.slug: student_request(school) for school in School.objects.all()}
    # One student's request approved, so calendars and feeds show a student's booking (by
    # title, never by who asked); the other schools' requests stay pending.
    approved = requests[APPROVED_REQUEST_SCHOOL]
    booking_approve(actor=User.objects.get(role=Role.MANAGER, school=approved.school),
                    booking=approved)
    students = list(User.objects.filter(role=Role.STUDENT).order_by("username"))
    needles: list[Needle] = []
    for student in students:
        if not student.email:  # the team-filling students of seed_demo_projects have none
            student.email = f"{student.username}@hocsinh.stemspace.local"
            student.save(update_fields=["email"])
        if len(student.full_name) >= MIN_NAME_LENGTH:
            needles.append(Needle(student.username, "full name", fold(student.full_name)))
        needles.append(Needle(student.username, "email", fold(student.email)))
    pending = User.objects.filter(pk__in=Booking.objects.filter(status=BookingStatus.PENDING)
                                  .values("organizer_id"))
    for organiser in pending.order_by("username"):
        needles.append(Needle(organiser.username, "username (pending booking)",
                              fold(organiser.username)))
    public = list(Project.objects.filter(visibility="public").order_by("pk"))
    team = set(Membership.objects.filter(project__in=public, left_on__isnull=True,
                                         user__role=Role.STUDENT).values_list("user_id", flat=True))
    return Demo(
        schools=list(School.objects.order_by("slug")),
        spaces=list(Space.objects.order_by("pk")),
        students=students, needles=needles, public_projects=public, public_team=team,
        admin=User.objects.get(username="admin"), approved_request=approved)


# --- reading bodies ------------------------------------------------------------------------------

def unfold_ical(text: str) -> str:
    return re.sub(r"\r?\n[ \t]", "", text)


def searchable(response: Any) -> str:
    """The body as a person would read it, folded for the search."""
    content_type = response.get("Content-Type", "")
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        with contextlib.suppress(ValueError):
            text += "\n" + json.dumps(json.loads(text), ensure_ascii=False)
    elif "calendar" in content_type:
        text = unfold_ical(text)
        text += "\n" + text.replace("\\,", ",").replace("\\;", ";")
    else:
        text = html.unescape(text)
    return fold(text)


@dataclass
class Sweep:
    """URLs visited (with their status) and what was found in the 200 bodies."""

    visited: dict[str, int] = field(default_factory=dict)
    found: list[tuple[str, Needle]] = field(default_factory=list)
    bodies: dict[str, str] = field(default_factory=dict)  # of the 200s, folded

    def scan(self, url: str, response: Any, needles: Iterable[Needle]) -> str:
        self.visited[url] = response.status_code
        if response.status_code != 200:
            return ""
        body = self.bodies[url] = searchable(response)
        self.found += [(url, needle) for needle in needles if needle.text in body]
        return body

    def ok(self) -> set[str]:
        return {url for url, status in self.visited.items() if status == 200}

    def showing(self, text: str) -> list[str]:
        return [url for url, body in self.bodies.items() if fold(text) in body]

    def report(self) -> str:
        return "\n".join(f"  {url}: {needle}" for url, needle in self.found)


# --- pages ---------------------------------------------------------------------------------------

class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def links(url: str, body: str) -> list[str]:
    parser = Links()
    parser.feed(body)
    found = []
    for href in parser.hrefs:
        target = urlsplit(urljoin(url, href))
        if target.scheme not in ("", "http", "https") or target.netloc not in ("", "testserver"):
            continue
        found.append(target.path + (f"?{target.query}" if target.query else ""))
    return found


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if not entry.namespace:  # api, ical, admin: swept by their own parts, or skipped
                yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern)


def web_routes_without_parameters() -> list[str]:
    """Every page route of the URL conf that takes no parameter (the crawl's extra seeds)."""
    return [f"/{route}" for route in _routes(get_resolver().url_patterns)
            if "<" not in route and not route.startswith("^")
            and not f"/{route}".startswith(SKIPPED_PREFIXES)]


def crawl(client: Client, seeds: list[str], needles: Iterable[Needle]) -> Sweep:
    sweep = Sweep()
    queue = list(dict.fromkeys(seeds))
    queued = set(queue)
    variants: dict[str, int] = {}
    while queue and len(sweep.visited) < MAX_PAGES:
        url = queue.pop(0)
        response = client.get(url, HTTP_ACCEPT="text/html")
        body = sweep.scan(url, response, needles)
        if not body or "html" not in response.get("Content-Type", ""):
            continue
        here_has_week = "week" in dict(parse_qsl(urlsplit(url).query))
        raw = response.content.decode("utf-8", errors="replace")
        for link in links(url, raw):
            parts = urlsplit(link)
            if link in queued or parts.path.startswith(SKIPPED_PREFIXES) or "logout" in parts.path:
                continue
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            if "week" in query and here_has_week:
                continue  # the previous and the next week once, not every week of the year
            if parts.query:
                if variants.get(parts.path, 0) >= QUERY_VARIANTS:
                    continue
                variants[parts.path] = variants.get(parts.path, 0) + 1
            queued.add(link)
            queue.append(link)
    return sweep


def page_seeds(demo: Demo) -> list[str]:
    approved_on = timezone.localtime(demo.approved_request.start).date()
    return ["/", "/projects/",
            f"/schools/{APPROVED_REQUEST_SCHOOL}/week/?{urlencode({'date': approved_on})}",
            *(f"/schools/{school.slug}/week/" for school in demo.schools),
            *(f"/spaces/{space.pk}/" for space in demo.spaces),
            *web_routes_without_parameters()]


# --- feeds ---------------------------------------------------------------------------------------

def feed_routes() -> dict[str, str]:
    """name → route of every pattern in the ical namespace."""
    resolver = get_resolver()
    prefix, sub = resolver.namespace_dict["ical"]
    assert isinstance(sub, URLResolver)
    return {entry.name or "": f"/{prefix}{entry.pattern}" for entry in sub.url_patterns
            if isinstance(entry, URLPattern)}


def feed_urls(demo: Demo) -> list[str]:
    urls = []
    for name, route in feed_routes().items():
        if name in PRIVATE_FEEDS:
            continue
        kind = FEEDS[name]
        if kind == "space":
            urls += [re.sub(r"<[^>]+>", str(space.pk), route) for space in demo.spaces]
        elif kind == "school":
            urls += [re.sub(r"<[^>]+>", school.slug, route) for school in demo.schools]
        else:
            urls += [route, *(f"{route}?{urlencode({'school': s.slug})}" for s in demo.schools)]
    return urls


# --- API -----------------------------------------------------------------------------------------

SCHEMA_URL = "/api/v1/schema/?format=json"


def required_query(operation: dict[str, Any]) -> str:
    """Values for the query parameters a GET requires (dates: the coming fortnight)."""
    today = timezone.localdate()
    values = {"start": today, "from": today, "end": today + datetime.timedelta(days=14),
              "to": today + datetime.timedelta(days=14)}
    query = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and parameter.get("required") and parameter["name"] in values:
            day = values[parameter["name"]]
            as_time = parameter.get("schema", {}).get("format") == "date-time"
            query[parameter["name"]] = f"{day}T00:00:00" if as_time else day.isoformat()
    return f"?{urlencode(query)}" if query else ""


def results(response: Any) -> list[Any]:
    if response.status_code != 200 or "json" not in response.get("Content-Type", ""):
        return []
    body = json.loads(response.content)
    if isinstance(body, dict):
        body = body.get("results", [])
    return body if isinstance(body, list) else []


class ApiSweep:
    """GET every schema path anonymously; parameters from the anonymous and the admin's lists."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.anonymous = APIClient()
        self.admin = APIClient()
        self.admin.force_authenticate(demo.admin)
        self.sweep = Sweep()
        self.ids: dict[str, list[str]] = {}
        self.responses: dict[str, Any] = {}

    def get(self, url: str) -> Any:
        if url not in self.sweep.visited:
            response = self.anonymous.get(url, HTTP_ACCEPT="application/json")
            self.sweep.scan(url, response, self.demo.needles)
            self.responses[url] = response
        return self.responses[url]

    def ids_under(self, list_url: str, limit: int) -> list[str]:
        if list_url not in self.ids:
            public = [str(item["id"]) for item in results(self.get(list_url))
                      if isinstance(item, dict) and "id" in item][:limit]
            every = [str(item["id"]) for item in
                     results(self.admin.get(list_url, HTTP_ACCEPT="application/json"))
                     if isinstance(item, dict) and "id" in item]
            private = [pk for pk in every if pk not in public][:limit]
            self.ids[list_url] = public + private
        return self.ids[list_url]

    def expand(self, template: str) -> list[str]:
        partial = [template]
        limit = IDS_PER_PARAMETER
        while any("{" in url for url in partial):
            done = []
            for url in partial:
                if "{" not in url:
                    done.append(url)
                    continue
                start = url.index("{")
                end = url.index("}", start)
                done += [url[:start] + pk + url[end + 1:]
                         for pk in self.ids_under(url[:start], limit)]
            partial = done
            limit = NESTED_IDS_PER_PARAMETER
        if len(partial) > URLS_PER_API_PATH:  # evenly spread over the parents, deterministic
            step = len(partial) / URLS_PER_API_PATH
            partial = [partial[int(index * step)] for index in range(URLS_PER_API_PATH)]
        return partial

    def run(self) -> dict[str, list[str]]:
        """template → the concrete URLs fetched for it."""
        fetched: dict[str, list[str]] = {}
        schema = self.get(SCHEMA_URL)
        assert schema.status_code == 200, "the OpenAPI schema is the API sweep's map"
        for template, operations in json.loads(schema.content)["paths"].items():
            if "get" not in operations:
                continue
            query = required_query(operations["get"])
            fetched[template] = []
            for url in self.expand(template):
                response = self.get(url + query)
                fetched[template].append(url + query)
                following = json.loads(response.content).get("next") if (
                    response.status_code == 200 and "json" in response.get("Content-Type", "")
                    and response.content.startswith(b"{")) else None
                if following:
                    self.get(following)  # one more page
        return fetched


# --- the tests -----------------------------------------------------------------------------------

def assert_nothing_found(sweep: Sweep, what: str) -> None:
    report = sweep.report()
    assert not report, f"students' personal data in {what}:\n{report}"


def test_the_demo_has_students_to_look_for(demo: Demo, db: Any) -> None:
    assert len(demo.students) >= 9 and {s.school_id for s in demo.students} == {
        school.pk for school in demo.schools}
    assert all(len(student.full_name) >= MIN_NAME_LENGTH for student in demo.students)
    assert any(needle.what.startswith("username") for needle in demo.needles), \
        "the demo has students' pending requests"
    assert demo.public_projects and demo.public_team


def test_anonymous_pages_never_name_students(demo: Demo, db: Any) -> None:
    sweep = crawl(Client(), page_seeds(demo), demo.needles)

    ok = sweep.ok()
    assert len(ok) >= 30, sorted(sweep.visited.items())
    for project in demo.public_projects:
        assert f"/projects/{project.pk}/" in ok
    for school in demo.schools:
        assert f"/schools/{school.slug}/week/" in ok
        assert any(url.startswith(f"/schools/{school.slug}/week/?week=") for url in ok)
    for space in demo.spaces:
        assert f"/spaces/{space.pk}/" in ok
    assert sweep.showing(demo.approved_request.title), "a student's approved booking is on a calendar"
    assert_nothing_found(sweep, "anonymous pages")


def test_every_feed_route_is_swept() -> None:
    routes = set(feed_routes())
    assert routes <= set(FEEDS) | set(PRIVATE_FEEDS), (
        f"new iCal routes {sorted(routes - set(FEEDS) - set(PRIVATE_FEEDS))}: add them to "
        "FEEDS (how to fill them) or PRIVATE_FEEDS (why anonymous cannot read them)")


def test_public_feeds_never_name_students(demo: Demo, db: Any) -> None:
    sweep = Sweep()
    client = Client()
    for url in feed_urls(demo):
        sweep.scan(url, client.get(url), demo.needles)

    ok = sweep.ok()
    assert len(ok) == len(sweep.visited), {u: s for u, s in sweep.visited.items() if s != 200}
    for school in demo.schools:
        assert f"/ical/schools/{school.slug}.ics" in ok
    assert len(ok) >= len(demo.spaces) + 2 * len(demo.schools) + 1
    assert len(sweep.showing("BEGIN:VEVENT")) >= len(demo.schools), "the feeds carry events"
    assert f"/ical/schools/{APPROVED_REQUEST_SCHOOL}.ics" in sweep.showing(demo.approved_request.title)
    assert_nothing_found(sweep, "public feeds")


def test_anonymous_api_never_names_students(demo: Demo, db: Any) -> None:
    api = ApiSweep(demo)
    fetched = api.run()
    ok = api.sweep.ok()

    answered = {template for template, urls in fetched.items() if any(url in ok for url in urls)}
    for listed in ("schools", "spaces", "periods", "closures", "projects", "project-categories",
                   "mentors"):
        assert f"/api/v1/{listed}/" in answered, f"{listed} should answer anonymous callers"
    for project in demo.public_projects:
        assert f"/api/v1/projects/{project.pk}/" in ok
    for nested in ("log/", "log/{id}/", "log/{entry_pk}/comments/", "milestones/", "awards/"):
        assert f"/api/v1/projects/{{project_pk}}/{nested}" in answered, nested
    # Private objects were tried too (the administrator's ids), and refused.
    private = Project.objects.exclude(visibility="public").values_list("pk", flat=True)
    assert any(api.sweep.visited.get(f"/api/v1/projects/{pk}/") == 404 for pk in private)
    assert len(api.sweep.visited) >= 100, len(api.sweep.visited)
    assert_nothing_found(api.sweep, "the anonymous API")


def test_a_student_of_another_school_sees_no_names_but_public_teams(demo: Demo, db: Any) -> None:
    viewer = User.objects.get(username="student.nqd")
    client = Client()
    client.force_login(viewer)
    others = {student.username: student for student in demo.students
              if student.school_id != viewer.school_id}
    needles = [needle for needle in demo.needles if needle.who in others]
    sweep = crawl(client, page_seeds(demo), needles)

    ok = sweep.ok()
    assert len(ok) >= 30
    for project in demo.public_projects:
        assert f"/projects/{project.pk}/" in ok
    for school in demo.schools:
        assert f"/schools/{school.slug}/week/" in ok
    public_team = {student.username for student in others.values()
                   if student.pk in demo.public_team}
    wrong = [(url, needle) for url, needle in sweep.found
             # Signed-in people see the team of a public project (as in the API), by name only.
             if not (url.startswith("/projects/") and needle.who in public_team
                     and needle.what == "full name")]
    assert not wrong, "other schools' students named to a student:\n" + "\n".join(
        f"  {url}: {needle}" for url, needle in wrong)


def test_the_search_finds_names_where_they_belong(demo: Demo, db: Any) -> None:
    """The needles match real bodies: a school's teacher sees its teams (page and API) and
    who asked for a booking, pending or approved."""
    for school in demo.schools:
        teacher = User.objects.get(role=Role.TEACHER, school=school)
        client, api = Client(), APIClient()
        client.force_login(teacher)
        api.force_authenticate(teacher)
        sweep = Sweep()
        project = Project.objects.filter(school=school, visibility="public").first()
        assert project is not None
        sweep.scan("page", client.get(f"/projects/{project.pk}/"), demo.needles)
        sweep.scan("api", api.get(f"/api/v1/projects/{project.pk}/",
                                  HTTP_ACCEPT="application/json"), demo.needles)
        request = student_request(school)
        day = timezone.localtime(request.start).date()
        sweep.scan("week", client.get(f"/schools/{school.slug}/week/", {"date": day.isoformat()}),
                   demo.needles)
        found = {(url, needle.who, needle.what) for url, needle in sweep.found}
        for member in Membership.objects.filter(project=project, left_on__isnull=True):
            assert ("page", member.user.username, "full name") in found
            assert ("api", member.user.username, "full name") in found
        assert ("week", request.organizer.username, "full name") in found
