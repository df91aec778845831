"""Measure the hot paths on the data bench/generate.py made, and report.

    python bench/bench.py --scale province --runs 40 --out bench/out/province.json
    python bench/bench.py --report --out-dir bench/out --results bench/RESULTS.md

Figures, not pass/fail tests: each is the median and the 95th percentile (nearest rank) of
`--runs` timed runs after a few untimed warm-up runs, in milliseconds of wall time in this
process (Python and PostgreSQL on the same machine, over TCP on 127.0.0.1).

1. booking_create: one booking through bookings.services.booking_create by the school's
   teacher, on a random space, at a distinct free future slot each run (kept, committed).
2. space_availability of a random space for a random week of the year.
3. The public iCal feed of one space (a year of bookings) through api.ical.build_feed, and
   the same bookings serialised by a bare loop over icalendar (one query, one VEVENT each).
4. GET /api/v1/bookings/?space=…&start_after=…&end_before=… (four weeks, first page) through
   Django's test Client, logged in (force_login) as a teacher of the space's school.

Then EXPLAIN (ANALYZE, BUFFERS) of the queries these run, with the indexes they use, and of
the query changes the report proposes.

Ratios are measured alternating, so that a shared machine's changing load weighs on both
sides alike: the feed and its baseline call by call, and (`--paired`) booking_create on the
province and the country databases call by call.

    python bench/bench.py --paired stemspace_bench_1_province stemspace_bench_1_country
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import DEFAULT_DB_ALIAS, connection, connections  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from usage_bench import USAGE_TABLES, run_usage  # noqa: E402
from usage_bench import section as usage_section  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from bookings.availability import space_availability  # noqa: E402
from bookings.models import Booking, BookingKind, BookingStatus, Closure  # noqa: E402
from bookings.services import booking_create, conflicts_with  # noqa: E402
from spaces.models import Space  # noqa: E402

TZ = timezone.get_fixed_timezone(7 * 60)  # Asia/Ho_Chi_Minh has no DST
WARMUP = 5
FEED_WARMUP = 3
TARGETS = {"create_ratio": 1.3, "feed_ratio": 1.5}
INDEX_RE = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? "
                      r"(?:using|on) (\S+)")


# --- timing ----------------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure(label: str, action: Callable[[int], Any], runs: int, warmup: int = WARMUP
            ) -> dict[str, Any]:
    """Call action(i) warmup + runs times; time the last `runs` calls."""
    times = []
    for i in range(warmup + runs):
        began = time.perf_counter()
        action(i)
        elapsed = (time.perf_counter() - began) * 1000
        if i >= warmup:
            times.append(elapsed)
    result = {"median_ms": statistics.median(times), "p95_ms": percentile(times, 0.95),
              "min_ms": min(times), "max_ms": max(times), "runs": runs, "warmup": warmup}
    print(f"  {label:<34} median {result['median_ms']:8.2f} ms   p95 {result['p95_ms']:8.2f} ms"
          f"   ({runs} runs)", flush=True)
    return result


def measure_alternating(labels: dict[str, str], actions: dict[str, Callable[[int], Any]],
                        runs: int, warmup: int = WARMUP) -> dict[str, dict[str, Any]]:
    """Like measure(), for several actions called in turn (a, b, a, b …, the order swapped
    every run) so that a shared machine's changing load weighs on all alike: for ratios."""
    times: dict[str, list[float]] = {key: [] for key in actions}
    keys = list(actions)
    for i in range(warmup + runs):
        for key in keys if i % 2 == 0 else reversed(keys):
            began = time.perf_counter()
            actions[key](i)
            if i >= warmup:
                times[key].append((time.perf_counter() - began) * 1000)
    results = {}
    for key, values in times.items():
        results[key] = {"median_ms": statistics.median(values), "p95_ms": percentile(values, 0.95),
                        "min_ms": min(values), "max_ms": max(values), "runs": runs,
                        "warmup": warmup}
        print(f"  {labels[key]:<34} median {results[key]['median_ms']:8.2f} ms   "
              f"p95 {results[key]['p95_ms']:8.2f} ms   ({runs} runs, alternating)", flush=True)
    return results


def pressure() -> dict[str, float]:
    """The share of the last minute some task waited for CPU / IO (Linux PSI), in %."""
    found = {}
    for resource in ("cpu", "io"):
        try:
            line = Path(f"/proc/pressure/{resource}").read_text().splitlines()[0]
            found[resource] = float(re.search(r"avg60=([\d.]+)", line).group(1))  # type: ignore[union-attr]
        except (OSError, AttributeError, IndexError):
            pass
    return found


def captured(action: Callable[[], Any]) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        value = action()
    return value, [query["sql"] for query in queries.captured_queries]


def explain(sql: str) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    buffers = re.search(r"Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?", plan)
    timing = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return {"sql": sql, "plan": plan, "indexes": sorted(set(INDEX_RE.findall(plan))),
            "buffers": sum(int(n) for n in buffers.groups() if n) if buffers else None,
            "read": int(buffers.group(2)) if buffers and buffers.group(2) else 0,
            "rows_removed": sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan)),
            "execution_ms": float(timing.group(1)) if timing else None}


# --- data ------------------------------------------------------------------------------------

def local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=TZ)


class Data:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.spaces = {space.pk: space for space in Space.objects.order_by("pk")}
        self.by_school: dict[int, list[Space]] = {}
        for space in self.spaces.values():
            self.by_school.setdefault(space.school_id, []).append(space)
        self.teachers = {user.school_id: user for user in User.objects.filter(role=Role.TEACHER)}
        self.today = timezone.localdate()
        self.taken: set[tuple[int, datetime.datetime]] = set()

    def random_space(self) -> Space:
        return self.spaces[self.rng.choice(list(self.spaces))]

    def free_slot(self, space: Space) -> tuple[datetime.datetime, datetime.datetime]:
        """A free one-hour slot of `space` within opening hours, 3 to 170 days ahead, on no
        closure, never handed out before in this process."""
        first, last = self.today + datetime.timedelta(days=3), self.today + datetime.timedelta(days=170)
        busy = {(start.astimezone(TZ).date(), start.astimezone(TZ).hour) for start in
                Booking.objects.active().filter(space=space, start__gte=local_midnight(first),
                                                start__lt=local_midnight(last))
                .values_list("start", flat=True)}
        closed: set[datetime.date] = set()
        for closure in Closure.objects.filter(school_id=space.school_id, end_date__gte=first,
                                              start_date__lte=last):
            day = closure.start_date
            while day <= closure.end_date:
                closed.add(day)
                day += datetime.timedelta(days=1)
        for _attempt in range(10_000):
            day = first + datetime.timedelta(days=self.rng.randrange((last - first).days))
            hour = self.rng.randrange(7, 16)
            start = local_midnight(day) + datetime.timedelta(hours=hour)
            if (day.weekday() < 6 and day not in closed and (day, hour) not in busy
                    and (space.pk, start) not in self.taken):
                self.taken.add((space.pk, start))
                return start, start + datetime.timedelta(hours=1)
        raise RuntimeError(f"no free slot left in space {space.pk}")

    def random_week(self) -> tuple[datetime.datetime, datetime.datetime]:
        monday = self.today - datetime.timedelta(days=self.today.weekday())
        start = local_midnight(monday + datetime.timedelta(weeks=self.rng.randrange(-25, 25)))
        return start, start + datetime.timedelta(days=7)


# --- 1. booking_create -----------------------------------------------------------------------

def statement(sql: str) -> str:
    """A statement's verb and table: 'INSERT bookings_booking'."""
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', sql)
    verb = sql.split(None, 1)[0].upper()
    return f"{verb} {table.group(1)}" if table and verb != "SAVEPOINT" else verb


class StatementTimer:
    """Time every statement (connection.execute_wrapper) and the COMMIT of one call."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    def add(self, label: str, began: float) -> None:
        self.times[label] = self.times.get(label, 0.0) + (time.perf_counter() - began) * 1000

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.add(statement(sql), began)

    def run(self, action: Callable[[], Any]) -> dict[str, float]:
        self.times = {}
        commit = connection._commit

        def timed_commit() -> Any:
            began = time.perf_counter()
            try:
                return commit()
            finally:
                self.add("COMMIT", began)

        connection._commit = timed_commit  # type: ignore[method-assign]
        began = time.perf_counter()
        try:
            with connection.execute_wrapper(self):
                action()
        finally:
            connection._commit = commit  # type: ignore[method-assign]
        total = (time.perf_counter() - began) * 1000
        self.times["Python (Django, the service, round-trip overhead)"] = (
            total - sum(self.times.values()))
        self.times["total"] = total
        return self.times


def bench_create(data: Data, runs: int) -> dict[str, Any]:
    breakdown_runs = 20
    plan = []
    for _ in range(WARMUP + runs + 1 + breakdown_runs):
        space = data.random_space()
        plan.append((space, data.teachers[space.school_id], *data.free_slot(space)))

    def create(i: int) -> Booking:
        space, teacher, start, end = plan[i]
        return booking_create(actor=teacher, space=space, title="Bench: thực hành", start=start,
                              end=end, kind=BookingKind.CLASS)

    result = measure("booking_create", create, runs)
    booking, queries = captured(lambda: create(WARMUP + runs))
    assert booking.status == BookingStatus.APPROVED
    result["queries"] = len(queries)
    result["sql"] = queries
    # Where the time goes: the same call, every statement timed, on further fresh slots.
    timer = StatementTimer()
    samples = [timer.run(lambda i=i: create(WARMUP + runs + 1 + i)) for i in range(breakdown_runs)]
    labels = sorted({label for sample in samples for label in sample},
                    key=lambda label: -statistics.median(sample.get(label, 0) for sample in samples))
    result["breakdown"] = {label: statistics.median(sample.get(label, 0.0) for sample in samples)
                           for label in labels}
    result["breakdown_runs"] = breakdown_runs
    spent = ", ".join(f"{label} {ms:.2f}" for label, ms in result["breakdown"].items()
                      if ms >= 0.05)
    print(f"    where the time goes (median of {breakdown_runs}): {spent}", flush=True)
    return result


# --- 2. availability -------------------------------------------------------------------------

def bench_availability(data: Data, runs: int) -> dict[str, Any]:
    plan = [(data.random_space(), *data.random_week()) for _ in range(WARMUP + runs + 1)]
    sizes = []

    def availability(i: int) -> dict[str, Any]:
        space, start, end = plan[i]
        result = space_availability(space, start, end)
        sizes.append(len(result["busy"]))
        return result

    result = measure("space_availability (1 week)", availability, runs)
    _value, queries = captured(lambda: availability(WARMUP + runs))
    result["queries"] = len(queries)
    result["busy_per_week_median"] = statistics.median(sizes)
    return result


# --- 3. iCal feed ----------------------------------------------------------------------------

def feed_space(data: Data) -> Space:
    """The space whose feed has the most bookings in the feed's window (a busy one)."""
    now = timezone.now()
    sample = list(data.spaces)[: min(len(data.spaces), 60)]
    counts = {pk: Booking.objects.filter(space_id=pk, end__gt=now - datetime.timedelta(days=30),
                                         start__lt=now + datetime.timedelta(days=365)).count()
              for pk in sample}
    return data.spaces[max(counts, key=lambda pk: counts[pk])]


_BARE_VTIMEZONE: dict[str, Any] = {}


def bare_feed(space: Space, now: datetime.datetime) -> bytes:
    """The baseline: one query, one VEVENT per booking with the feed's properties, to_ical."""
    from icalendar import Calendar, Event, Timezone

    if "tz" not in _BARE_VTIMEZONE:  # built once, as the feed caches its own
        _BARE_VTIMEZONE["tz"] = Timezone.from_tzid(
            "Asia/Ho_Chi_Minh", first_date=datetime.date(now.year - 2, 1, 1),
            last_date=datetime.date(now.year + 3, 1, 1))
    labels = {value: str(label) for value, label in BookingKind.choices}
    statuses = {"approved": "CONFIRMED", "pending": "TENTATIVE", "cancelled": "CANCELLED"}
    was_approved = (Q(decided_at__isnull=False) | ~Q(organizer__role=Role.STUDENT)
                    | Q(space__student_bookings_need_approval=False))
    shown = Booking.objects.filter(space=space).filter(
        Q(status=BookingStatus.APPROVED)
        | (Q(status=BookingStatus.CANCELLED, end__gt=now) & was_approved))
    in_window = Q(start__lt=now + datetime.timedelta(days=365),
                  end__gt=now - datetime.timedelta(days=30))
    series = shown.filter(in_window, series__isnull=False).values("series_id")
    rows = (shown.filter(in_window | Q(series_id__in=series)).order_by("start", "pk")
            .values_list("uid", "updated_at", "sequence", "start", "end", "title", "status",
                         "kind", "space__name", "school__name"))
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", "-//STEM Space//Bench//VI")
    calendar.add_component(_BARE_VTIMEZONE["tz"])
    for uid, changed, sequence, start, end, title, status, kind, space_name, school in rows:
        event = Event()
        event.add("uid", f"booking-{uid}@stemspace")
        event.add("dtstamp", changed)
        event.add("last-modified", changed)
        event.add("sequence", sequence)
        event.add("dtstart", start.astimezone(TZ))
        event.add("dtend", end.astimezone(TZ))
        event.add("summary", title)
        event.add("location", f"{space_name}, {school}")
        event.add("status", statuses[status])
        event.add("categories", [labels[kind]])
        calendar.add_component(event)
    return calendar.to_ical()


def bench_feed(data: Data, runs: int) -> dict[str, Any]:
    try:
        from api.ical import build_feed
    except ImportError as error:
        print(f"  iCal feed: not measured ({error})", flush=True)
        return {"error": f"api.ical.build_feed not importable: {error}"}
    space = feed_space(data)
    now = timezone.now()

    def project(_i: int) -> bytes:
        return build_feed(name=f"Bookings: {space.name}", description="Approved bookings",
                          scope=Q(space=space), private=False, now=now).body

    def bare(_i: int) -> bytes:
        return bare_feed(space, now)

    feed_runs = max(15, min(runs, 30))
    try:
        body = project(0)
    except Exception as error:  # the feed code is young: report, do not stop the benchmark
        print(f"  iCal feed: not measured ({error!r})", flush=True)
        return {"error": f"api.ical.build_feed failed: {error!r}"}
    baseline = bare(0)
    result: dict[str, Any] = {"space": space.pk}
    result |= measure_alternating({"project": "iCal feed: api.ical.build_feed",
                                   "bare": "iCal feed: bare icalendar loop"},
                                  {"project": project, "bare": bare}, feed_runs, FEED_WARMUP)
    _value, queries = captured(lambda: project(0))
    result["project"]["queries"] = len(queries)
    result["project"]["sql"] = queries
    result["project"]["vevents"] = body.count(b"BEGIN:VEVENT")
    result["project"]["rrules"] = body.count(b"\r\nRRULE:")
    result["project"]["bytes"] = len(body)
    result["bare"]["vevents"] = baseline.count(b"BEGIN:VEVENT")
    result["bare"]["bytes"] = len(baseline)
    result["bookings"] = result["bare"]["vevents"]
    result["ratio"] = result["project"]["median_ms"] / result["bare"]["median_ms"]
    print(f"  {'feed / bare':<34} {result['ratio']:.2f}  ({result['bookings']} bookings; the feed "
          f"writes {result['project']['vevents']} VEVENTs, {result['project']['rrules']} with "
          f"RRULE)", flush=True)
    try:
        path = reverse("ical:space", kwargs={"pk": space.pk})
    except NoReverseMatch:
        return result
    client = Client()

    def http(_i: int) -> None:
        response = client.get(path)
        assert response.status_code == 200, response.status_code

    etag = client.get(path)["ETag"]

    def revalidate(_i: int) -> None:
        response = client.get(path, headers={"If-None-Match": etag})
        assert response.status_code == 304, response.status_code

    result |= measure_alternating({"http": f"iCal feed: GET {path}",
                                   "http_304": "iCal feed: same, If-None-Match (304)"},
                                  {"http": http, "http_304": revalidate}, feed_runs, FEED_WARMUP)
    return result


# --- 4. bookings list endpoint ---------------------------------------------------------------

def bench_list(data: Data, runs: int) -> dict[str, Any]:
    schools = data.rng.sample(sorted(data.by_school), min(10, len(data.by_school)))
    clients = {}
    for school_id in schools:
        clients[school_id] = Client()
        clients[school_id].force_login(data.teachers[school_id])
    plan = []
    for _ in range(WARMUP + runs + 1):
        school_id = data.rng.choice(schools)
        space = data.rng.choice(data.by_school[school_id])
        start, _end = data.random_week()
        plan.append((school_id, {"space": space.pk, "start_after": start.isoformat(),
                                 "end_before": (start + datetime.timedelta(days=28)).isoformat()}))
    counts = []

    def get(i: int) -> None:
        school_id, query = plan[i]
        response = clients[school_id].get("/api/v1/bookings/", query)
        assert response.status_code == 200, (response.status_code, response.content[:300])
        counts.append((response.json()["count"], len(response.json()["results"])))

    result = measure("GET /api/v1/bookings/ (1 page)", get, runs)
    _value, queries = captured(lambda: get(WARMUP + runs))
    result["queries"] = len(queries)
    result["sql"] = queries
    result["count_median"] = statistics.median(count for count, _page in counts)
    result["page_median"] = statistics.median(page for _count, page in counts)
    return result


# --- the overlap query alone --------------------------------------------------------------------

PROPOSED_OVERLAP = (
    'SELECT "id", "start", "end", "title" FROM "bookings_booking" '
    "WHERE space_id = %s::bigint AND status IN ('pending', 'approved') "
    "AND tstzrange(\"start\", \"end\", '[)') && tstzrange(%s, %s, '[)') ORDER BY \"start\"")


def bench_overlap_query(data: Data, runs: int) -> dict[str, Any]:
    """The overlap check's query on its own: as bookings.services.conflicts_with asks it, and
    asked through the exclusion constraint's GiST index (the proposal)."""
    plan = []
    for _ in range(WARMUP + runs):
        space = data.random_space()
        plan.append((space, *data.free_slot(space)))

    def current(i: int) -> list[dict[str, Any]]:
        space, start, end = plan[i]
        return conflicts_with(space, start, end)

    def proposal(i: int) -> list[Any]:
        space, start, end = plan[i]
        with connection.cursor() as cursor:
            cursor.execute(PROPOSED_OVERLAP, [space.pk, start, end])
            return cursor.fetchall()

    return measure_alternating({"current": "overlap query: conflicts_with",
                                "proposal": "overlap query: tstzrange && (proposal)"},
                               {"current": current, "proposal": proposal}, runs)


# --- EXPLAIN ---------------------------------------------------------------------------------

def explains(data: Data, results: dict[str, Any]) -> dict[str, Any]:
    """The plans of the queries on bookings that the measured paths run."""
    space = data.random_space()
    start, end = data.free_slot(space)
    plans: dict[str, Any] = {}
    _value, sql = captured(lambda: conflicts_with(space, start, end))
    # First on spaces no query touched yet: their pages are as cold as production's would be
    # for a random space (shared_buffers holds a fraction of the table at country scale).
    cold, colder = data.random_space(), data.random_space()
    # The space's id as conflicts_with sends it: `= 12 ` or, since it asks the GiST index,
    # `= (12)::bigint`.
    same_space = re.compile(rf'("bookings_booking"\."space_id" = \(?){space.pk}\b')
    assert same_space.search(sql[0]), sql[0]
    plans["overlap check, a space not read before (conflicts_with)"] = explain(
        same_space.sub(rf"\g<1>{cold.pk}", sql[0]))
    with connection.cursor() as cursor:
        plans["overlap check as tstzrange && (proposal), a space not read before"] = explain(
            cursor.mogrify(PROPOSED_OVERLAP, [colder.pk, start, end]))
    plans["overlap check (bookings.services.conflicts_with)"] = explain(sql[0])
    week_start = local_midnight(start.astimezone(TZ).date()
                                - datetime.timedelta(days=start.astimezone(TZ).weekday()))
    _value, sql = captured(lambda: space_availability(space, week_start,
                                                      week_start + datetime.timedelta(days=7)))
    plans["availability, bookings of the week (bookings.availability)"] = explain(
        next(query for query in sql if 'FROM "bookings_booking"' in query))
    # The same overlap question asked through the exclusion constraint's GiST index. The
    # bigint cast matters: btree_gist's int8 operator class has no int8 = int4 operator, and
    # Django binds the id as a bare integer literal (int4).
    overlap_sql = plans["overlap check (bookings.services.conflicts_with)"]["sql"]
    with connection.cursor() as cursor:
        for label, sql in (("proposal", PROPOSED_OVERLAP),
                           ("without the bigint cast", PROPOSED_OVERLAP.replace("::bigint", ""))):
            plans[f"overlap check as tstzrange && ({label})"] = explain(
                cursor.mogrify(sql, [space.pk, start, end]))
    assert overlap_sql
    listing = results.get("list", {}).get("sql", [])
    for query in listing:
        if 'FROM "bookings_booking"' in query:
            counting = query.startswith("SELECT COUNT")
            plans["bookings list: count" if counting else "bookings list: page"] = explain(query)
            bound = re.search(r'"bookings_booking"\."end" <= (\'[^\']+\'::timestamptz)', query)
            if counting and bound:
                # end <= B implies start < B (start < end): saying so bounds the index range.
                plans["bookings list: count, with start < end_before (proposal)"] = explain(
                    query.replace(bound.group(0),
                                  f'{bound.group(0)} AND "bookings_booking"."start" < {bound.group(1)}'))
    feed_sql = results.get("feed", {}).get("project", {}).get("sql", [])
    for query in feed_sql:
        if 'FROM "bookings_booking"' in query:
            plans["iCal feed query (api.ical.feed_bookings)"] = explain(query)
            break
    for label, plan in plans.items():
        print(f"  EXPLAIN {label}: {', '.join(plan['indexes']) or 'no index'}"
              f" ({plan['execution_ms']} ms)", flush=True)
    return plans


# --- one scale -------------------------------------------------------------------------------

def scalar(sql: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def run_scale(scale: str, runs: int, seed: int, usage_runs: int = 7, usage_other_runs: int = 2,
              only: str = "all") -> dict[str, Any]:
    if connection.vendor != "postgresql":
        raise SystemExit("The benchmarks need PostgreSQL: set DATABASE_URL (bench/run.sh does).")
    data = Data(random.Random(seed))
    counts = {
        "schools": len(data.by_school), "spaces": len(data.spaces),
        "users": User.objects.count(), "bookings": Booking.objects.count(),
        "bookings_active": Booking.objects.active().count(),
        "series": scalar("SELECT count(*) FROM bookings_series"),
        "booking_table_mb": round(scalar("SELECT pg_total_relation_size('bookings_booking')") / 2**20),
        "students": User.objects.filter(role=Role.STUDENT).count(),
        **{table: scalar(f"SELECT count(*) FROM {table}") for table in USAGE_TABLES},
    }
    print(f"  data: {', '.join(f'{key} {value:,}' for key, value in counts.items())}", flush=True)
    results: dict[str, Any] = {"scale": scale, "counts": counts, "load_before": os.getloadavg(),
                               "measured_at": timezone.localtime().isoformat(),
                               "machine": machine(),
                               "pressure_before": pressure(),
                               "pg": {"shared_buffers": scalar("SHOW shared_buffers")}}
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) "
                       "FROM pg_index WHERE indrelid = 'bookings_booking'::regclass ORDER BY 2 DESC")
        results["indexes_mb"] = {name: round(size / 2**20, 1) for name, size in cursor.fetchall()}
    if only == "all":
        results["create"] = bench_create(data, runs)
        results["overlap_query"] = bench_overlap_query(data, runs)
        results["availability"] = bench_availability(data, runs)
        results["feed"] = bench_feed(data, runs)
        results["list"] = bench_list(data, runs)
        results["explain"] = explains(data, results)
    results["usage"] = run_usage(usage_runs, usage_other_runs, explain, measure,
                                 measure_alternating)
    results["load_after"] = os.getloadavg()
    results["pressure_after"] = pressure()
    return results


# --- booking_create on both scales, call by call ---------------------------------------------

def run_paired(databases: dict[str, str], runs: int, seed: int) -> dict[str, Any]:
    """Time booking_create on the two scales' databases call by call (province, country,
    country, province …): one connection to each, swapped in as the default between calls,
    so that a shared machine's changing load weighs on both scales alike."""
    base = connections[DEFAULT_DB_ALIAS]
    wrappers = {}
    for scale, name in databases.items():
        settings = copy.deepcopy(base.settings_dict)
        settings["NAME"] = name
        wrappers[scale] = base.__class__(settings, DEFAULT_DB_ALIAS)

    def use(scale: str) -> None:
        connections[DEFAULT_DB_ALIAS] = wrappers[scale]

    content_types = set()
    for scale in databases:
        use(scale)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, app_label, model FROM django_content_type ORDER BY id")
            content_types.add(tuple(cursor.fetchall()))
    # ContentType.objects caches per alias: the same ids in both databases keep it right.
    assert len(content_types) == 1, "the two databases' content types differ"
    plans: dict[str, list[tuple[Any, ...]]] = {}
    for scale in databases:
        use(scale)
        data = Data(random.Random(seed + 1))
        plans[scale] = []
        for _ in range(WARMUP + runs):
            space = data.random_space()
            plans[scale].append((space, data.teachers[space.school_id], *data.free_slot(space)))
    times: dict[str, list[float]] = {scale: [] for scale in databases}
    order = list(databases)
    for i in range(WARMUP + runs):
        for scale in order if i % 2 == 0 else reversed(order):
            use(scale)
            space, teacher, start, end = plans[scale][i]
            began = time.perf_counter()
            booking_create(actor=teacher, space=space, title="Bench: thực hành", start=start,
                           end=end, kind=BookingKind.CLASS)
            if i >= WARMUP:
                times[scale].append((time.perf_counter() - began) * 1000)
    for wrapper in wrappers.values():
        wrapper.close()
    result: dict[str, Any] = {"runs": runs, "warmup": WARMUP}
    for scale, values in times.items():
        result[scale] = {"median_ms": statistics.median(values), "p95_ms": percentile(values, 0.95),
                         "min_ms": min(values), "max_ms": max(values), "runs": len(values)}
        print(f"  booking_create, {scale:<9} median {result[scale]['median_ms']:8.2f} ms   "
              f"p95 {result[scale]['p95_ms']:8.2f} ms   ({len(values)} runs, alternating)",
              flush=True)
    if {"province", "country"} <= set(times):
        result["ratio"] = result["country"]["median_ms"] / result["province"]["median_ms"]
        # Pair by pair: the two scales measured back to back.
        pairs = sorted(c / p for c, p in zip(times["country"], times["province"], strict=True))
        result["pair_ratios"] = {"p25": percentile(pairs, 0.25), "median": statistics.median(pairs),
                                 "p75": percentile(pairs, 0.75)}
        print(f"  country / province {result['ratio']:.2f} (pair by pair: median "
              f"{result['pair_ratios']['median']:.2f}, quartiles {result['pair_ratios']['p25']:.2f}"
              f"–{result['pair_ratios']['p75']:.2f})", flush=True)
    return result


# --- report ----------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    def sh(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True, check=True,
                                  cwd=ROOT).stdout.rstrip("\n")
        except (OSError, subprocess.CalledProcessError):
            return "?"

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    info = {"nproc": os.cpu_count(), "cpu": cpu, "memory": memory,
            "python": platform.python_version(), "django": django.get_version(),
            "commit": sh(["git", "rev-parse", "--short", "HEAD"]),
            "dirty": sorted({line[3:].split("/")[0] for line in
                             sh(["git", "status", "--porcelain"]).splitlines()
                             if line[3:] and not line[3:].startswith("bench/")})}
    import icalendar

    info["icalendar"] = icalendar.__version__
    if connection.vendor == "postgresql":
        info["postgresql"] = scalar("SHOW server_version")
        info["pg_settings"] = {name: scalar(f"SHOW {name}") for name in
                               ("shared_buffers", "work_mem", "effective_cache_size",
                                "random_page_cost", "synchronous_commit")}
    return info


def fmt(figure: dict[str, Any] | None) -> str:
    if not figure or "median_ms" not in figure:
        return "—"
    return f"{figure['median_ms']:.2f} ({figure['p95_ms']:.2f})"


def dig(results: dict[str, Any] | None, *keys: str) -> Any:
    value: Any = results
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


ROWS = [
    ("booking_create (1 booking, committed)", ("create",)),
    ("… its overlap query: conflicts_with", ("overlap_query", "current")),
    ("… the same asked as tstzrange && (proposal, raw SQL)", ("overlap_query", "proposal")),
    ("space_availability (1 space, 1 week)", ("availability",)),
    ("iCal feed: api.ical.build_feed (1 space, 1 year)", ("feed", "project")),
    ("iCal feed: bare icalendar loop (same bookings)", ("feed", "bare")),
    ("iCal feed over HTTP: GET /ical/spaces/N.ics", ("feed", "http")),
    ("… same GET with If-None-Match (304)", ("feed", "http_304")),
    ("GET /api/v1/bookings/?space&start_after&end_before (1 page)", ("list",)),
]
OVERLAP = "overlap check (bookings.services.conflicts_with)"
OVERLAP_GIST = "overlap check as tstzrange && (proposal)"
OVERLAP_COLD = "overlap check, a space not read before (conflicts_with)"
OVERLAP_GIST_COLD = "overlap check as tstzrange && (proposal), a space not read before"
OVERLAP_NOCAST = "overlap check as tstzrange && (without the bigint cast)"
AVAILABILITY = "availability, bookings of the week (bookings.availability)"
LIST_COUNT = "bookings list: count"
FEED_QUERY = "iCal feed query (api.ical.feed_bookings)"
LIST_COUNT_BOUNDED = "bookings list: count, with start < end_before (proposal)"


def findings(scales: dict[str, dict[str, Any]], paired: dict[str, Any] | None) -> list[str]:
    """What the figures say, with the numbers of this run."""
    province, country = scales.get("province"), scales.get("country")
    out: list[str] = ["## Findings", ""]

    def plan(scale: str, label: str, key: str) -> Any:
        return dig(scales.get(scale), "explain", label, key)

    def indexes(label: str) -> str:
        names = sorted({name for scale in scales for name in plan(scale, label, "indexes") or []})
        return ", ".join(f"`{name}`" for name in names) or "no index"

    def per_scale(label: str, key: str, unit: str = "") -> str:
        return ", ".join(f"{plan(scale, label, key):,}{unit} at {scale} scale" for scale in scales
                         if plan(scale, label, key) is not None)

    # Commit 1cce41e applied the proposals of the first run; a proposal is only made while
    # the plans still show the problem it fixes.
    measured = [scale for scale in scales if plan(scale, OVERLAP, "indexes") is not None]
    overlap_fixed = bool(measured) and all(
        "booking_no_overlap" in plan(scale, OVERLAP, "indexes")
        and not plan(scale, OVERLAP, "rows_removed") for scale in measured)
    counted = [scale for scale in scales if plan(scale, LIST_COUNT, "sql")]
    count_fixed = bool(counted) and all(
        '"bookings_booking"."start" <' in plan(scale, LIST_COUNT, "sql") for scale in counted)
    feeds = [r["feed"] for r in scales.values() if dig(r, "feed", "http_304", "median_ms")]
    feed_fixed = bool(feeds) and all(
        feed["http_304"]["median_ms"] < 0.5 * feed["project"]["median_ms"] for feed in feeds)

    create_p, create_c = dig(province, "create", "median_ms"), dig(country, "create", "median_ms")
    how = "medians of the separate runs"
    if paired and "ratio" in paired:
        create_p, create_c = paired["province"]["median_ms"], paired["country"]["median_ms"]
        how = (f"medians of {paired['province']['runs']} calls per scale, the two databases "
               f"called in turn; pair by pair the ratio's median is "
               f"{paired['pair_ratios']['median']:.2f}, quartiles {paired['pair_ratios']['p25']:.2f}"
               f"–{paired['pair_ratios']['p75']:.2f}")
    if create_p and create_c:
        ratio = create_c / create_p
        verdict = "meets" if ratio < TARGETS["create_ratio"] else "MISSES"
        province_parts = dig(province, "create", "breakdown") or {}
        country_parts = dig(country, "create", "breakdown") or {}
        deltas = sorted(((country_parts.get(k, 0) - province_parts.get(k, 0), k)
                         for k in set(province_parts) | set(country_parts) if k != "total"),
                        reverse=True)
        grew = ", ".join(f"{label} +{delta:.2f} ms" for delta, label in deltas[:3] if delta > 0.05)
        cold = dig(country, "explain", OVERLAP_COLD)
        sizes = dig(country, "indexes_mb") or {}
        all_mb = sum(sizes.values())
        redundant_mb = sum(size for name, size in sizes.items()
                           if re.fullmatch(r"bookings_booking_(space_id|school_id|organizer_id)_\w+"
                                           r"|bookings_booking_uid_\w+_like", name))
        cold_gist = dig(country, "explain", OVERLAP_GIST_COLD)
        python_share = (province_parts.get("Python (Django, the service, round-trip overhead)", 0)
                        / province_parts["total"]) if province_parts.get("total") else None
        cache = (
            f"at country scale the bookings table and its {len(sizes) or 15} indexes take "
            f"{dig(country, 'counts', 'booking_table_mb')} MB against shared_buffers "
            f"{dig(country, 'pg', 'shared_buffers') or '128MB'}, a random space's bookings lie on "
            "about one heap page each (rows are stored in creation order), and the overlap check "
            + ("now reads a few pages of the GiST index" if overlap_fixed else "reads them all")
            + (f": on a space not read before {cold['buffers']} buffers, {cold['read']} of them "
               f"from outside shared_buffers ({cold['execution_ms']} ms)" if cold else "")
            + " — from the OS cache here, from disk on a server whose RAM does not hold the "
            f"table; the INSERT then updates {len(sizes) or 15} indexes at random leaf pages")
        proposals, done = [], []
        if overlap_fixed:
            done.append("the overlap check asks the exclusion constraint's GiST index (finding 2)")
        else:
            proposals.append(
                "the overlap query of finding 2, which reads a few GiST pages instead of the "
                "space's history"
                + (f" ({cold_gist['buffers']} buffers, {cold_gist['read']} read, "
                   f"{cold_gist['execution_ms']} ms on a space not read before)" if cold_gist
                   else ""))
        fk_left = not sizes or any(re.fullmatch(
            r"bookings_booking_(space_id|school_id|organizer_id)_\w+", name) for name in sizes)
        like_left = not sizes or any(re.fullmatch(r"bookings_booking_uid_\w+_like", name)
                                     for name in sizes)
        redundant = []
        if fk_left:
            redundant.append(
                "`bookings_booking_space_id_…`, `…_school_id_…` and `…_organizer_id_…` (each "
                "the leading column of `booking_space_start`, `booking_school_start`, "
                "`booking_organizer_start`: `db_index=False` on those three ForeignKeys)")
        else:
            done.append("the foreign-key indexes that the composite ones cover are gone "
                        "(bookings migration 0004)")
        if like_left:
            redundant.append(
                "`bookings_booking_uid_…_like` (a `varchar_pattern_ops` index for LIKE on a random "
                "hex UID, which nothing searches by prefix: declare the uniqueness with a "
                "`UniqueConstraint` instead of `unique=True`)")
        if redundant:
            proposals.append(
                "drop the redundant indexes of `bookings_booking` that every insert maintains "
                "and no query needs"
                + (f" ({redundant_mb:.0f} MB of its {all_mb:.0f} MB of indexes at country scale)"
                   if all_mb else "")
                + ": " + " and ".join(redundant))
        proposals.append("in production, shared_buffers sized to the hot set (Debian's default "
                         "is 128 MB)")
        fixes = "; ".join(f"({letter}) {text}" for letter, text in zip("abc", proposals,
                                                                       strict=False))
        if done:
            fixes += ". Done since the first run (commit 1cce41e): " + "; ".join(done)
        text = (f"1. **booking_create, country / province = {ratio:.2f}** ({create_c:.1f} ms "
                f"against {create_p:.1f} ms, {how}): {verdict} the target "
                f"(< {TARGETS['create_ratio']}). ")
        if ratio < TARGETS["create_ratio"]:
            text += (
                "Fifty times more bookings in the table "
                + ("cost nothing measurable" if ratio <= 1.1 else f"cost {100 * (ratio - 1):.0f} %")
                + f": the service sends the same {dig(country, 'create', 'queries')} statements "
                "(BEGIN, COMMIT and a savepoint included) at both scales, each an index lookup by "
                "key or by space"
                + (f"; about {100 * python_share:.0f} % of the time is Python (Django and the "
                   "service), the rest round trips and the commit" if python_share else "")
                + " (breakdown below: every statement timed, median of "
                f"{dig(country, 'create', 'breakdown_runs')} calls per scale, in the separate "
                "runs). What grows is a space's history (finding 2) and, at country scale, the "
                f"pressure on the buffer cache: {cache}. Worth doing before it matters: {fixes}.")
        else:
            text += (
                "The breakdown below (every statement timed, median of "
                f"{dig(country, 'create', 'breakdown_runs')} calls per scale) shows where the "
                f"difference goes: {grew or 'nowhere in particular (noise)'}. The cause is the "
                f"buffer cache, not the algorithm: {cache}; at province scale everything sits in "
                f"shared_buffers. **Proposed fixes:** {fixes}.")
        separate = (dig(country, "create", "median_ms") or 0) / (dig(province, "create",
                                                                     "median_ms") or 1)
        if paired and "ratio" in paired and abs(separate - ratio) / ratio > 0.25:
            text += (
                f" The separate runs, minutes apart, gave {separate:.2f}: their breakdown moves "
                f"in every statement at once (COMMIT {province_parts.get('COMMIT', 0):.2f} against "
                f"{country_parts.get('COMMIT', 0):.2f} ms, Python "
                f"{province_parts.get('Python (Django, the service, round-trip overhead)', 0):.2f}"
                f" against {country_parts.get('Python (Django, the service, round-trip overhead)', 0):.2f}"
                " ms), the mark of the machine's load rather than of the data — hence the "
                "alternating calls.")
        out.append(text)
        parts_table = ["", "   | booking_create, where the time goes (ms, median) | province | "
                       "country |", "   |---|---:|---:|"]
        for label in country_parts or province_parts:
            parts_table.append(f"   | {label} | {province_parts.get(label, 0):.2f} | "
                               f"{country_parts.get(label, 0):.2f} |")
        out += parts_table + [""]
    if overlap_fixed:
        out.append(
            "2. **The overlap check and availability ask the exclusion constraint's GiST "
            "index** (done in commit 1cce41e, `BookingQuerySet.of_space_overlapping`: on "
            "PostgreSQL `space_id = (…)::bigint AND tstzrange(start, \"end\", '[)') && "
            "tstzrange(…)`): the plans use " f"{indexes(OVERLAP)} with no row filtered "
            f"({per_scale(OVERLAP, 'buffers', ' buffers')}; a week of availability "
            f"{per_scale(AVAILABILITY, 'buffers', ' buffers')}), however long a space's history "
            "grows. The overlap query alone (through `conflicts_with`, ORM included) takes "
            + ", ".join(f"{dig(r, 'overlap_query', 'current', 'median_ms'):.2f} ms at {scale} "
                        "scale" for scale, r in scales.items()
                        if dig(r, "overlap_query", "current"))
            + ". The bigint cast still matters: without it the GiST index is used for the range "
            f"alone and AND-ed with a bitmap of the space's rows "
            f"({per_scale(OVERLAP_NOCAST, 'buffers', ' buffers')}).")
    else:
        out.append(
        "2. **The overlap check and availability read a space's whole history.** "
        "`conflicts_with` and `space_availability` ask `start < end AND end > start` (Django's "
        f"`overlapping`); the plans use {indexes(OVERLAP)} "
        "with only `space_id = …` (and `start < end`) as index condition, so PostgreSQL visits "
        "every earlier booking of the space and filters them out: rows removed by filter "
        f"{per_scale(OVERLAP, 'rows_removed')} (shared buffers {per_scale(OVERLAP, 'buffers')}), "
        f"and {per_scale(AVAILABILITY, 'rows_removed')} for a week of availability. That is a "
        "year of one space's bookings today and grows without end, since bookings are cancelled, "
        "never deleted (a province space after ten years: ~20,000 rows per check). It is what "
        "scales, not the size of the table: a province space has ~2,200 bookings a year, a "
        "country one ~140"
        + (f", which is why the overlap query alone is slower at province scale "
           f"({dig(province, 'overlap_query', 'current', 'median_ms'):.2f} ms) than at country "
           f"scale ({dig(country, 'overlap_query', 'current', 'median_ms'):.2f} ms)"
           if (dig(province, "overlap_query", "current", "median_ms") or 0)
           > (dig(country, "overlap_query", "current", "median_ms") or float("inf")) else "")
        + ". **Proposed fix (query change, no new index):** ask the question the "
        "exclusion constraint's GiST index `booking_no_overlap` answers, "
        "`space_id = %s::bigint AND status IN ('pending','approved') AND "
        "tstzrange(start, \"end\", '[)') && tstzrange(%s, %s, '[)')`. In the ORM (checked to "
        "produce exactly that SQL): `.annotate(span=TsTzRange('start', 'end', Value('[)')))"
        ".filter(space_id=Cast(Value(space.pk), BigIntegerField()), "
        "span__overlap=DateTimeTZRange(start, end, '[)'))` with `class TsTzRange(Func): "
        "function = 'TSTZRANGE'; output_field = DateTimeRangeField()`, on PostgreSQL only "
        "(SQLite keeps today's query). The plan then reads "
        f"{per_scale(OVERLAP_GIST, 'buffers', ' buffers')} with no rows filtered"
        + ("; the overlap query alone takes " + ", and ".join(
            f"{dig(r, 'overlap_query', 'proposal', 'median_ms'):.2f} ms instead of "
            f"{dig(r, 'overlap_query', 'current', 'median_ms'):.2f} ms at {scale} scale"
            for scale, r in scales.items() if dig(r, "overlap_query", "proposal"))
           if any(dig(r, "overlap_query", "proposal") for r in scales.values()) else "")
        + ". **The cast matters:** btree_gist's `int8` operator class has no `int8 = int4` "
        "operator and Django sends the id as a bare integer literal (`int4`), so without "
        "`::bigint` (the `Cast` above) the GiST index is used for "
        "the range alone and AND-ed with a bitmap of the space's rows "
        f"({per_scale(OVERLAP_NOCAST, 'buffers', ' buffers')}"
        + (f", {plan('country', OVERLAP_NOCAST, 'execution_ms')} ms at country scale" if country else "")
        + "). A lighter alternative that works on both databases: add `start > requested_start − "
        "the longest booking` (24 h unless a manager overrode the rules) so that the "
        "`booking_space_start` range is bounded; the exclusion constraint still catches the rare "
        "longer overridden booking on insert.")
    feed_lines = []
    for scale, results in scales.items():
        feed = results.get("feed", {})
        if "ratio" in feed:
            verdict = "met" if feed["ratio"] < TARGETS["feed_ratio"] else "MISSED"
            feed_lines.append(
                f"{scale}: {feed['ratio']:.2f} ({verdict}; {feed['bookings']:,} bookings, "
                f"{feed['project']['median_ms']:.0f} ms against {feed['bare']['median_ms']:.0f} ms)")
    if feed_lines:
        province_feed = dig(province, "feed") or dig(country, "feed")
        missed = any(dig(r, "feed", "ratio") is not None
                     and dig(r, "feed", "ratio") >= TARGETS["feed_ratio"] for r in scales.values())
        per_event = (province_feed["bare"]["median_ms"] / province_feed["bare"]["vevents"]
                     if province_feed.get("bare", {}).get("vevents") else None)
        out.append(
            f"3. **iCal feed / bare icalendar loop: {'; '.join(feed_lines)}** (target < "
            f"{TARGETS['feed_ratio']}). "
            + ("The feed code's overhead over icalendar is too large: " if missed else
               "The feed code adds little over icalendar itself: ")
            + "ORM rows with three related objects instead of tuples, the series grouping and "
            "the ETag hash. The absolute cost is icalendar's"
            + (f" (≈{per_event:.2f} ms per VEVENT in the bare loop, spent in property encoding, "
               "parameters and line folding)" if per_event else "")
            + (". **Revalidation is cheap** since commit 1cce41e (the ETag from one aggregate "
               "query, the rendered body cached): over HTTP the 200 answers in "
               f"{dig(province_feed, 'http', 'median_ms') or 0:.0f} ms and the 304 in "
               f"{dig(province_feed, 'http_304', 'median_ms') or 0:.0f} ms, against "
               f"{province_feed['project']['median_ms']:.0f} ms to build the feed."
               if feed_fixed else
            ". **But a revalidation costs as much as "
            "a full download:** GET with a matching If-None-Match answers 304 in "
            f"{dig(province_feed, 'http_304', 'median_ms') or 0:.0f} ms against "
            f"{dig(province_feed, 'http', 'median_ms') or 0:.0f} ms for the 200, because "
            "`api/ical_views.py` builds the whole body to hash it into the ETag. Calendar apps "
            "poll every hour, so almost every request is a revalidation. **Proposed fix:** a "
            "cheap validator first — one query `SELECT count(*), max(updated_at)` over the feed's "
            "bookings (and their series), plus the hour (the window and 'cancelled until it "
            "ends' move with time) — used as ETag and as the key of the rendered body in Django's "
            "cache; render only on a miss."))
    if count_fixed:
        out.append(
            "4. **The bookings list's count is bounded** (done in commit 1cce41e: `end_before` "
            "also filters `start < end_before`): index range on "
            f"{indexes(LIST_COUNT)}, rows removed by filter "
            f"{per_scale(LIST_COUNT, 'rows_removed')}, buffers {per_scale(LIST_COUNT, 'buffers')}.")
    elif plan("province", LIST_COUNT, "rows_removed") is not None or plan(
            "country", LIST_COUNT, "rows_removed") is not None:
        out.append(
            "4. **The bookings list counts more than it shows.** Pagination's `COUNT(*)` with "
            "`start_after`/`end_before` has an index range only on `start >= start_after` (index "
            f"{indexes(LIST_COUNT)}); "
            "`end <= end_before` is a filter, so it reads every later booking of the space: rows "
            f"removed by filter {per_scale(LIST_COUNT, 'rows_removed')}, buffers "
            f"{per_scale(LIST_COUNT, 'buffers')}. **Proposed fix (query change):** in "
            "`BookingFilter`, let `end_before` also filter `start < end_before` (implied, since "
            "start < end): the same count then reads "
            f"{per_scale(LIST_COUNT_BOUNDED, 'buffers', ' buffers')}, rows removed "
            f"{per_scale(LIST_COUNT_BOUNDED, 'rows_removed')}. The page query itself stops "
            "at the page size (LIMIT) and is cheap.")
    feed_plan = plan("country", FEED_QUERY, "plan") or ""
    if "Seq Scan on accounts_user" in feed_plan:
        out.append(
            "5. **The feed query** (`api.ical.feed_bookings`) finds the space's bookings "
            "through the space index, then joins users, spaces, schools and series; at "
            "country scale the planner hash-joins a full scan of `accounts_user` "
            f"({dig(country, 'counts', 'users'):,} rows here; the public feed's "
            "`organizer__role` condition needs the organiser), cheaper than ~100 index probes "
            "at this size. With millions of student accounts it should switch to index probes "
            "on its own; worth a look in production's first EXPLAIN, nothing to change now.")
    out.append("")
    return out


def report(out_dir: Path, results_path: Path, elapsed: int | None) -> None:
    scales = {}
    for scale in ("province", "country"):
        path = out_dir / f"{scale}.json"
        if path.exists():
            scales[scale] = json.loads(path.read_text())
    if not scales:
        raise SystemExit(f"no results in {out_dir}")
    province, country = scales.get("province"), scales.get("country")
    paired_path = out_dir / "paired.json"
    paired = json.loads(paired_path.read_text()) if paired_path.exists() else None

    def ratio(*keys: str) -> float | None:
        a, b = dig(country, *keys), dig(province, *keys)
        if a and b and "median_ms" in a and "median_ms" in b:
            return a["median_ms"] / b["median_ms"]
        return None

    lines = ["| figure — ms, median (p95) | province | country | country / province |",
             "|---|---:|---:|---:|"]
    for label, keys in ROWS:
        r = ratio(*keys)
        lines.append(f"| {label} | {fmt(dig(province, *keys))} | {fmt(dig(country, *keys))}"
                     f" | {f'{r:.2f}' if r else '—'} |")
        if keys == ("create",) and paired and "ratio" in paired:
            lines.append(f"| booking_create, the two databases called in turn "
                         f"(the ratio's measure) | {fmt(paired['province'])} | "
                         f"{fmt(paired['country'])} | {paired['ratio']:.2f} |")
    table = "\n".join(lines)

    checks = []
    r = paired["ratio"] if paired and "ratio" in paired else ratio("create")
    if r is not None:
        checks.append(f"| booking_create, country / province | {r:.2f} | < {TARGETS['create_ratio']} "
                      f"| {'met' if r < TARGETS['create_ratio'] else 'MISSED'} |")
    for scale, results in scales.items():
        feed_ratio = dig(results, "feed", "ratio")
        if feed_ratio is not None:
            checks.append(f"| iCal feed / bare loop, {scale} ({results['feed']['bookings']:,} "
                          f"bookings) | {feed_ratio:.2f} | < {TARGETS['feed_ratio']} | "
                          f"{'met' if feed_ratio < TARGETS['feed_ratio'] else 'MISSED'} |")
        elif dig(results, "feed", "error"):
            checks.append(f"| iCal feed / bare loop, {scale} | not measured | "
                          f"< {TARGETS['feed_ratio']} | {results['feed']['error']} |")
    targets = "\n".join(["| target | measured | wanted | |", "|---|---:|---:|---|", *checks])

    print("\n" + table + "\n\n" + targets + "\n", flush=True)

    # The tree and the time of the measurements (a report written later from the JSON would
    # otherwise name the commit of its own moment).
    last = country or province or {}
    info = last.get("machine") or machine()
    now = (datetime.datetime.fromisoformat(last["measured_at"]) if last.get("measured_at")
           else timezone.localtime())
    def strain(results: dict[str, Any], when: str) -> str:
        text = f"load {results[f'load_{when}'][0]:.2f}"
        for resource, share in (results.get(f"pressure_{when}") or {}).items():
            text += f", {resource} pressure {share:.0f} %"
        return text

    loads = "; ".join(f"{scale}: {strain(results, 'before')} before, {strain(results, 'after')} after"
                      for scale, results in scales.items() if results.get("load_before"))
    doc = [
        "# Benchmarks",
        "",
        f"Measured {now:%Y-%m-%d %H:%M} (Asia/Ho_Chi_Minh) by `make bench` at commit "
        f"`{info['commit']}`"
        + (f" plus the uncommitted work then in the tree (in {', '.join(info['dirty'])})"
           if info["dirty"] else "")
        + (f", in {elapsed // 60} min {elapsed % 60} s" if elapsed else "") + ".",
        "",
        f"Machine: {info['nproc']} cores ({info['cpu']}), {info['memory']} RAM; PostgreSQL "
        f"{info.get('postgresql', '?')} on the same machine, over TCP "
        f"({', '.join(f'{k} {v}' for k, v in info.get('pg_settings', {}).items())}); "
        f"Python {info['python']}, Django {info['django']}, icalendar {info['icalendar']}; "
        "DEBUG off.",
        "",
        "The machine is shared: other sessions' test suites ran at the same time. One-minute "
        f"load average and Linux pressure (share of the last minute some task waited for CPU / "
        f"IO) around each scale's run: {loads or '?'}. Figures taken at different moments (the "
        "two scales' separate runs) move with that load, p95s most; the ratios the targets are "
        "about are therefore measured alternating — the two feeds call by call, booking_create "
        "on the two databases call by call.",
        "",
        "## Data",
        "",
        "| scale | schools | spaces | users | series | bookings | active | bookings table + indexes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scale, results in scales.items():
        c = results["counts"]
        doc.append(f"| {scale} | {c['schools']:,} | {c['spaces']:,} | {c['users']:,} | "
                   f"{c['series']:,} | {c['bookings']:,} | {c['bookings_active']:,} | "
                   f"{c['booking_table_mb']:,} MB |")
    doc += [
        "",
        "Made by `bench/generate.py` in set-based SQL (INSERT … SELECT over generate_series): "
        "every space opens Monday–Saturday 07:00–17:00; bookings of 45 or 60 minutes on "
        "one-hour slots from 182 days ago to 182 days ahead, so the exclusion constraint holds; "
        "mostly approved, some pending (students' requests, future only) and cancelled; two "
        "weekly series per space; a mid-term break and a holiday per school with no booking on "
        "them; a manager, a teacher and 41 students per school (students' bookings spread "
        "over them); what the usage report counts besides (see its section); rows stored in "
        "creation order (a space's bookings spread over the table as in production); then "
        "VACUUM ANALYZE.",
        "",
        "## Figures",
        "",
        f"Milliseconds of wall time in the Django process: median and (95th percentile) of "
        f"{dig(province or country, 'create', 'runs')} timed runs per figure "
        f"({dig(province or country, 'feed', 'project', 'runs')} for the feeds), after "
        f"{WARMUP} ({FEED_WARMUP} for the feeds) untimed warm-up runs. Random spaces, weeks "
        "and free future slots (seeded); bookings made are kept.",
        "",
        table,
        "",
        targets,
        "",
    ]
    detail = []
    for scale, results in scales.items():
        feed = results.get("feed", {})
        parts = [f"booking_create sends {dig(results, 'create', 'queries')} statements",
                 f"space_availability {dig(results, 'availability', 'queries')} queries "
                 f"(a week holds {dig(results, 'availability', 'busy_per_week_median')} busy "
                 "intervals, median)",
                 f"the list endpoint {dig(results, 'list', 'queries')} "
                 f"({dig(results, 'list', 'count_median')} matching bookings, "
                 f"{dig(results, 'list', 'page_median')} on the page, median)"]
        if "project" in feed:
            parts.append(f"the feed (space {feed['space']}) {feed['project']['queries']} "
                         f"query ({feed['bookings']:,} bookings in its window, written as "
                         f"{feed['project']['vevents']:,} VEVENTs of which "
                         f"{feed['project']['rrules']} series masters with RRULE; "
                         f"{feed['project']['bytes'] // 1024:,} KiB, the bare loop's "
                         f"{feed['bare']['bytes'] // 1024:,} KiB)")
        elif "error" in feed:
            parts.append(f"the feed was not measured: {feed['error']}")
        detail.append(f"- {scale}: " + "; ".join(parts) + ".")
    doc += ["Per call:", "", *detail, ""]
    doc += findings(scales, paired)
    doc += ["## Query plans", "",
            "EXPLAIN (ANALYZE, BUFFERS) of the queries the measured paths send, captured from "
            "the real calls (a random space and free slot), and of the proposed variants:", "",
            "| query | scale | indexes used | rows removed by filter | buffers | ms |",
            "|---|---|---|---:|---:|---:|"]
    for scale, results in scales.items():
        for label, p in results.get("explain", {}).items():
            doc.append(f"| {label} | {scale} | "
                       f"{', '.join(f'`{name}`' for name in p['indexes']) or 'none'} | "
                       f"{p['rows_removed']:,} | {p['buffers']} | {p['execution_ms']} |")
    doc.append("")
    last_scale = "country" if country else "province"
    doc += [f"The plans at {last_scale} scale:", ""]
    for label, p in scales[last_scale].get("explain", {}).items():
        doc += [f"### {label}", "", "```sql", p["sql"], "```", "", "```", p["plan"], "```", ""]
    doc += usage_section(scales)
    doc += [
        "## Reproduce",
        "",
        "```sh",
        "make bench                          # both scales (7–10 minutes on 2 cores)",
        "BENCH_SCALES=province make bench    # the small one only (about a minute)",
        "BENCH_RUNS=50 make bench            # more timed runs per figure",
        "BENCH_USAGE_RUNS=11 make bench      # more runs of the usage report and its SQL",
        "```",
        "",
        "`bench/run.sh` starts the local PostgreSQL cluster if it is down, and for each scale "
        "makes a throw-away database `stemspace_bench_<pid>_<scale>` (owned by the CREATEDB role "
        "`stemspace_bench`), migrates it, fills it with `bench/generate.py --scale S` and "
        "measures with `bench/bench.py --scale S` (the usage report last, from "
        "`bench/usage_bench.py`); then `bench/bench.py --paired` times "
        "booking_create on the two databases in turn, and `bench/bench.py --report` writes this "
        "file from the JSON in `bench/out/` (not committed). The databases are dropped at exit. "
        "Absolute figures depend on the machine and its load; ratios and plans travel better.",
        "",
    ]
    # `make loadtest` (and loadtest-db-restart) keep their sections in this file: carry them over.
    old = results_path.read_text() if results_path.exists() else ""
    for load_test in re.findall(r"^## Load test[^\n]*\n.*?(?=^## |\Z)", old, re.S | re.M):
        doc += [load_test.rstrip("\n"), ""]
    results_path.write_text("\n".join(doc))
    print(f"wrote {results_path}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=("province", "country"))
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--report", action="store_true", help="combine results into a report")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--elapsed", type=int)
    parser.add_argument("--paired", nargs=2, metavar=("PROVINCE_DB", "COUNTRY_DB"),
                        help="booking_create on both databases, called in turn")
    parser.add_argument("--paired-runs", type=int, default=100)
    parser.add_argument("--usage-runs", type=int, default=7,
                        help="usage report by school and its SQL baseline: timed runs each")
    parser.add_argument("--usage-other-runs", type=int, default=2,
                        help="usage report by month and by space: timed runs each")
    parser.add_argument("--only", choices=("all", "usage"), default="all",
                        help="usage: the usage report alone (the bookings figures are skipped)")
    args = parser.parse_args()
    if args.report:
        report(args.out_dir, args.results, args.elapsed)
        return
    if args.paired:
        results = run_paired(dict(zip(("province", "country"), args.paired, strict=True)),
                             args.paired_runs, args.seed)
        if args.out:
            args.out.write_text(json.dumps(results, indent=1))
        return
    if not args.scale:
        parser.error("--scale or --report")
    results = run_scale(args.scale, args.runs, args.seed, args.usage_runs, args.usage_other_runs,
                        args.only)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
