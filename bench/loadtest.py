"""Load test client (`make loadtest`, run by bench/loadtest.sh): simulated users against a
running server on 127.0.0.1, for a bounded time; then invariants checked in the database.

Every simulated user signs in with a token (the demo accounts, shared) and loops: browse a
space's calendar (the week page, the bookings list, the availability), book a free slot (409,
taken, is an expected outcome), cancel some of their bookings, fetch iCal feeds (sometimes
with If-None-Match); managers also lend and take back equipment (409, out of stock, expected).
Plain asyncio and the standard library: one HTTP/1.1 connection per request (gunicorn's sync
workers close it anyway). Exit status 1 on a 5xx, a transport error or a broken invariant.

    python bench/loadtest.py --base http://127.0.0.1:8123 --users 50 --duration 120 \
        --database-url postgres://… --results bench/RESULTS.md

With --restart-db-at S (`make loadtest-db-restart`), the database server is restarted S seconds
into the load by --restart-command: while it is down the app must answer 503 (not 500, not a
dropped connection), from the moment it is back every request must succeed again, and the
gunicorn workers must be the same processes before and after (the app recovered by itself).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PASSWORD = "demo12345"
SCHOOLS = ("ndc", "nqd", "tm")
LOCAL = datetime.timezone(datetime.timedelta(hours=7))  # Asia/Ho_Chi_Minh, no DST
TIMEOUT = 60.0
# A 503 is the app's answer while the database is down: accepted from the restart's start
# until this many seconds after the restart command returned (requests then in flight).
OUTAGE_GRACE = 5.0
EXPECTED_4XX = {"POST /api/v1/bookings/": {400, 409}, "POST /api/v1/loans/": {409},
                "POST /api/v1/bookings/{id}/cancel/": {409},
                "POST /api/v1/loans/{id}/return/": {409}}


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    transport_errors: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    # The database restart, in time.monotonic(): when it began and when the command returned;
    # then every answer received after it began, as (time.monotonic(), status).
    outage: list[float] = field(default_factory=list)
    since_outage: list[tuple[float, int]] = field(default_factory=list)

    def expected_503(self, status: int) -> bool:
        """Notes an answer's time once the restart began; True for a 503 while the database
        is down (until OUTAGE_GRACE seconds after the restart command returned)."""
        if not self.outage:
            return False
        now = time.monotonic()
        self.since_outage.append((now, status))
        return status == 503 and (len(self.outage) == 1 or now <= self.outage[1] + OUTAGE_GRACE)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class Client:
    def __init__(self, base: str, stats: Stats) -> None:
        parts = urllib.parse.urlsplit(base)
        if parts.hostname != "127.0.0.1":
            raise SystemExit("the load test only talks to 127.0.0.1")
        self.host, self.port = parts.hostname, parts.port or 80
        self.stats = stats
        self.token: str | None = None

    async def request(self, method: str, path: str, name: str, *, body: Any = None,
                      headers: dict[str, str] | None = None) -> Response | None:
        data = json.dumps(body).encode() if body is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 "Connection: close", "Accept: application/json, text/html;q=0.9, */*;q=0.5",
                 "Accept-Language: vi", f"Content-Length: {len(data)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        if self.token:
            lines.append(f"Authorization: Token {self.token}")
        lines += [f"{key}: {value}" for key, value in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + data
        started = time.perf_counter()
        try:
            response = await asyncio.wait_for(self._exchange(raw), TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as error:
            self.stats.transport_errors[f"{name}: {type(error).__name__}"] += 1
            return None
        elapsed = time.perf_counter() - started
        self.stats.latencies[name].append(elapsed)
        self.stats.statuses[name][response.status] += 1
        if self.stats.expected_503(response.status):
            if response.headers.get("retry-after") != "30":
                self.stats.unexpected.append(f"{method} {path} → 503 without Retry-After")
        elif response.status >= 500:
            self.stats.server_errors.append(f"{method} {path} → {response.status}")
        elif response.status >= 400 and response.status not in EXPECTED_4XX.get(name, set()):
            self.stats.unexpected.append(
                f"{method} {path} → {response.status} {response.body[:200]!r}")
        return response

    async def _exchange(self, raw: bytes) -> Response:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            writer.write(raw)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split()[1])
            headers = {}
            for line in header_lines:
                if ":" in line:
                    key, value = line.split(":", 1)
                    headers[key.strip().lower()] = value.strip()
            if "content-length" in headers:
                body = await reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                body = b""
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    chunk = await reader.readexactly(size + 2)
                    if size == 0:
                        break
                    body += chunk[:-2]
            else:
                body = await reader.read()
            return Response(status, headers, body)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


@dataclass
class World:
    """What the users pick from, read through the API once at the start."""

    spaces: dict[str, list[int]]            # school slug → space ids
    school_ids: dict[str, int]
    items: dict[int, list[tuple[int, int]]]  # space id → [(equipment id, quantity)] reservable
    lendable: dict[str, list[int]]          # school slug → equipment ids a manager may lend
    borrowers: dict[str, list[int]]         # school slug → user ids


async def login(client: Client, username: str) -> dict[str, Any]:
    response = await client.request("POST", "/api/v1/auth/token/", "POST /api/v1/auth/token/",
                                    body={"username": username, "password": PASSWORD})
    if response is None or response.status != 200:
        raise SystemExit(f"cannot sign in as {username}: "
                         f"{response and response.status} {response and response.body[:200]!r}")
    client.token = response.json()["token"]
    me = await client.request("GET", "/api/v1/me/", "GET /api/v1/me/")
    assert me is not None and me.status == 200, me
    return dict(me.json())


async def all_pages(client: Client, path: str, name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    url: str | None = path
    while url:
        response = await client.request("GET", url, name)
        if response is None or response.status != 200:
            raise SystemExit(f"setup: GET {url} failed")
        page = response.json()
        rows += page["results"] if isinstance(page, dict) else page
        following = page.get("next") if isinstance(page, dict) else None
        url = urllib.parse.urlsplit(following)._replace(scheme="", netloc="").geturl() \
            if following else None
    return rows


async def discover(base: str, stats: Stats) -> World:
    world = World(spaces={}, school_ids={}, items=defaultdict(list), lendable={}, borrowers={})
    for slug in SCHOOLS:
        client = Client(base, stats)
        me = await login(client, f"manager.{slug}")
        world.school_ids[slug] = me["school"]
        spaces = await all_pages(client, f"/api/v1/spaces/?school={me['school']}", "setup")
        world.spaces[slug] = [row["id"] for row in spaces
                              if row["school"] == me["school"] and row.get("is_active", True)]
        equipment = await all_pages(client, f"/api/v1/equipment/?school={me['school']}", "setup")
        usable = [row for row in equipment if row["school"] == me["school"]
                  and not row["requires_certification"] and not row["is_consumable"]
                  and row.get("status") in (None, "available", "in_service", "active", "ok")]
        if not usable:
            usable = [row for row in equipment if row["school"] == me["school"]
                      and not row["requires_certification"] and not row["is_consumable"]]
        for row in usable:
            world.items[row["space"]].append((row["id"], row["quantity"]))
        world.lendable[slug] = [row["id"] for row in usable]
        people = await all_pages(client, f"/api/v1/users/?school={me['school']}", "setup")
        world.borrowers[slug] = [row["id"] for row in people
                                 if row["role"] in ("student", "teacher")
                                 and row["school"] == me["school"]]
    return world


def free_slot(rng: random.Random) -> tuple[str, str]:
    """A weekday hour in the next three weeks, within the demo's opening hours."""
    day = datetime.datetime.now(LOCAL).date() + datetime.timedelta(days=rng.randint(1, 21))
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    hour = rng.randint(7, 15)
    minutes = rng.choice((45, 60, 90))
    start = datetime.datetime.combine(day, datetime.time(hour), LOCAL)
    end = start + datetime.timedelta(minutes=minutes)
    return start.isoformat(), end.isoformat()


def week_bounds(rng: random.Random) -> tuple[str, str]:
    today = datetime.datetime.now(LOCAL).date()
    monday = today - datetime.timedelta(days=today.weekday()) \
        + datetime.timedelta(weeks=rng.randint(0, 3))
    start = datetime.datetime.combine(monday, datetime.time(0), LOCAL)
    return start.isoformat(), (start + datetime.timedelta(days=7)).isoformat()


def q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


async def simulated_user(number: int, base: str, world: World, stats: Stats, deadline: float,
                         counts: Counter[str]) -> None:
    rng = random.Random(number)
    role = ("manager", "teacher", "teacher", "student")[number % 4]
    slug = SCHOOLS[number % len(SCHOOLS)]
    client = Client(base, stats)
    await login(client, f"{role}.{slug}")
    spaces = world.spaces[slug]
    mine: list[int] = []
    loans: list[int] = []
    etags: dict[int, str] = {}
    await asyncio.sleep(rng.random() * 2)  # do not all start on the same instant
    while time.monotonic() < deadline:
        space = rng.choice(spaces)
        start, end = week_bounds(rng)
        await client.request("GET", f"/spaces/{space}/", "GET /spaces/{id}/")
        await client.request(
            "GET", f"/api/v1/bookings/?space={space}&start_after={q(start)}&end_before={q(end)}",
            "GET /api/v1/bookings/?space=…")
        await client.request("GET", f"/api/v1/spaces/{space}/availability/?start={q(start)}"
                             f"&end={q(end)}", "GET /api/v1/spaces/{id}/availability/")
        if rng.random() < 0.6:
            start, end = free_slot(rng)
            body: dict[str, Any] = {"space": space, "title": f"Tải thử {number}", "kind": "club",
                                    "start": start, "end": end, "attendees": rng.randint(1, 20)}
            if world.items.get(space) and rng.random() < 0.4:
                item, owned = rng.choice(world.items[space])
                body["equipment"] = [{"equipment": item,
                                      "quantity": rng.randint(1, max(1, min(owned, 5)))}]
            response = await client.request("POST", "/api/v1/bookings/", "POST /api/v1/bookings/",
                                            body=body)
            if response is not None:
                counts[f"booking {response.status}"] += 1
                if response.status == 201:
                    mine.append(response.json()["id"])
        if mine and rng.random() < 0.25:
            booking = mine.pop(rng.randrange(len(mine)))
            response = await client.request("POST", f"/api/v1/bookings/{booking}/cancel/",
                                            "POST /api/v1/bookings/{id}/cancel/",
                                            body={"reason": "tải thử"})
            if response is not None:
                counts[f"cancel {response.status}"] += 1
        if role == "manager" and world.lendable[slug]:
            if rng.random() < 0.5:
                due = (datetime.datetime.now(LOCAL)
                       + datetime.timedelta(days=rng.randint(1, 10))).isoformat()
                response = await client.request("POST", "/api/v1/loans/", "POST /api/v1/loans/",
                                                body={"equipment": rng.choice(world.lendable[slug]),
                                                      "borrower": rng.choice(world.borrowers[slug]),
                                                      "quantity": rng.randint(1, 3),
                                                      "due_at": due})
                if response is not None:
                    counts[f"loan {response.status}"] += 1
                    if response.status == 201:
                        loans.append(response.json()["id"])
            if loans and rng.random() < 0.4:
                loan = loans.pop(rng.randrange(len(loans)))
                response = await client.request("POST", f"/api/v1/loans/{loan}/return/",
                                                "POST /api/v1/loans/{id}/return/",
                                                body={"condition": "tốt"})
                if response is not None:
                    counts[f"return {response.status}"] += 1
        if rng.random() < 0.3:
            feed = rng.choice(spaces)
            headers = {"If-None-Match": etags[feed]} if feed in etags and rng.random() < 0.5 \
                else None
            response = await client.request("GET", f"/ical/spaces/{feed}.ics",
                                            "GET /ical/spaces/{id}.ics", headers=headers)
            if response is not None:
                counts[f"ical {response.status}"] += 1
                if response.status == 200 and "etag" in response.headers:
                    etags[feed] = response.headers["etag"]


async def conditional_get(base: str, stats: Stats, world: World) -> str:
    """Once the load is over: the same feed twice, the second time with its ETag."""
    client = Client(base, Stats())
    feed = world.spaces[SCHOOLS[0]][0]
    path = f"/ical/spaces/{feed}.ics"
    first = await client.request("GET", path, "feed")
    if first is None or "etag" not in first.headers:
        return "no ETag"
    again = await client.request("GET", path, "feed", headers={"If-None-Match":
                                                              first.headers["etag"]})
    return f"{again.status if again else 'transport error'} (expected 304)"


# --- invariants ---------------------------------------------------------------------------

INVARIANTS = {
    "no two active bookings of a space overlap": """
        SELECT count(*) FROM bookings_booking a JOIN bookings_booking b
          ON a.space_id = b.space_id AND a.id < b.id
         AND a.start < b."end" AND b.start < a."end"
         WHERE a.status IN ('pending', 'approved') AND b.status IN ('pending', 'approved')""",
    "no equipment with more units on loan than owned": """
        SELECT count(*) FROM (
          SELECT e.id FROM spaces_equipment e JOIN spaces_loan l ON l.equipment_id = e.id
           WHERE l.returned_at IS NULL GROUP BY e.id, e.quantity
          HAVING sum(l.quantity) > e.quantity) AS over""",
    # At now and at the start of every active reservation still to end: units reserved by the
    # active bookings under way then plus units on loan then (an open loan holds its units
    # until it is due, an overdue one until it comes back) never exceed what is owned.
    "no negative availability (reserved + on loan ≤ owned, at every instant)": """
        WITH moments AS (
          SELECT be.equipment_id, greatest(b.start, now()) AS t
            FROM bookings_bookingequipment be JOIN bookings_booking b ON b.id = be.booking_id
           WHERE b.status IN ('pending', 'approved') AND b."end" > now()
          UNION SELECT id, now() FROM spaces_equipment),
        use AS (
          SELECT m.equipment_id, m.t,
            (SELECT coalesce(sum(be.quantity), 0)
               FROM bookings_bookingequipment be JOIN bookings_booking b ON b.id = be.booking_id
              WHERE be.equipment_id = m.equipment_id AND b.status IN ('pending', 'approved')
                AND b.start <= m.t AND m.t < b."end") AS reserved,
            (SELECT coalesce(sum(l.quantity), 0) FROM spaces_loan l
              WHERE l.equipment_id = m.equipment_id AND l.returned_at IS NULL
                AND l.checked_out_at <= m.t AND (l.due_at > m.t OR l.due_at <= now()))
              AS on_loan
            FROM moments m)
        SELECT count(*) FROM use JOIN spaces_equipment e ON e.id = use.equipment_id
         WHERE e.quantity - use.reserved - use.on_loan < 0""",
}

TOTALS = """SELECT
  (SELECT count(*) FROM bookings_booking),
  (SELECT count(*) FROM bookings_booking WHERE status IN ('pending', 'approved')),
  (SELECT count(*) FROM bookings_bookingequipment),
  (SELECT count(*) FROM spaces_loan),
  (SELECT count(*) FROM spaces_loan WHERE returned_at IS NULL)"""


def endpoint_of(method: str, path: str, query: str) -> str:
    path = re.sub(r"/\d+(?=[/.])", "/{id}", path)
    if method == "GET" and path == "/api/v1/bookings/" and "space=" in query:
        return "GET /api/v1/bookings/?space=…"
    return f"{method} {path}"


def server_times(log: Path, offset: int) -> dict[str, list[float]]:
    """Seconds each request spent in gunicorn (its access log's %(D)s: from the request
    read to the response sent), per endpoint: the service time, without the queueing."""
    times: dict[str, list[float]] = defaultdict(list)
    with log.open("rb") as lines:
        lines.seek(offset)
        for raw in lines:
            parts = raw.decode("utf-8", "replace").split(" ")
            if len(parts) != 5 or not parts[4].strip().isdigit():
                continue
            method, path, query, _status, micros = parts
            times[endpoint_of(method, path, query)].append(int(micros) / 1_000_000)
    return times


def check_invariants(url: str) -> tuple[dict[str, int], tuple[int, ...], str]:
    import psycopg  # the project's driver, from its virtualenv

    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        results = {}
        for label, sql in INVARIANTS.items():
            cursor.execute(sql)
            results[label] = int(cursor.fetchone()[0])  # type: ignore[index]
        cursor.execute(TOTALS)
        totals = tuple(int(value) for value in cursor.fetchone())  # type: ignore[union-attr]
        cursor.execute("SHOW server_version")
        version = str(cursor.fetchone()[0])  # type: ignore[index]
    return results, totals, version


# --- report -------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(line for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        gib = int(memory.split()[1]) / 1024 / 1024
    except (OSError, StopIteration):
        gib = 0
    return f"{os.cpu_count()} cores ({cpu}), {gib:.0f} GiB RAM"


def commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "`?`"
    return f"`{head}`" + (" plus the uncommitted work then in the tree" if dirty else "")


def report(args: argparse.Namespace, stats: Stats, elapsed: float, counts: Counter[str],
           invariants: dict[str, int] | None, totals: tuple[int, ...], pg_version: str,
           load: tuple[tuple[float, ...], tuple[float, ...]],
           served: dict[str, list[float]], conditional: str) -> str:
    total = sum(len(values) for values in stats.latencies.values())
    now = datetime.datetime.now(datetime.UTC)
    lines = [
        "## Load test", "",
        f"Measured {now:%Y-%m-%d %H:%M} UTC by `make loadtest` (bench/loadtest.sh, "
        f"bench/loadtest.py) at commit {commit()}: {args.users} simulated users for "
        f"{elapsed:.0f} s against gunicorn with 2 sync workers, DEBUG off, and PostgreSQL "
        f"{pg_version} on the same machine (the demo data of `seed_demo`), client on the same "
        "machine too.", "",
        f"Machine: {machine()}; Python {platform.python_version()}. One-minute load average "
        f"{load[0][0]:.2f} before, {load[1][0]:.2f} after (the machine is shared with other "
        "sessions' test suites).", "",
        "Each user signs in with a token (the nine demo accounts, shared: a quarter managers, "
        "half teachers, a quarter students) and loops: the space's week page, its bookings and "
        "its availability for a week; 60 % of rounds a booking of a random weekday slot in the "
        "next three weeks (40 % of them with equipment); a quarter of rounds a cancellation of "
        "one of their bookings; managers lend (half the rounds) and take back; 30 % of rounds "
        "a space's iCal feed, half of repeats with If-None-Match. One connection per request "
        "(sync workers close it); latency is the client's, queueing behind the two workers "
        "included.", "",
        f"**{total:,} requests in {elapsed:.0f} s: {total / elapsed:.1f} requests/s. "
        f"5xx: {len(stats.server_errors)}; transport errors: "
        f"{sum(stats.transport_errors.values())}.**", "",
        "Latency two ways, in milliseconds: as the client saw it (queueing for one of the two "
        "workers included: fifty users who never pause keep every worker busy, so this is "
        "mostly the wait in line) and as gunicorn served it (its access log's request time: "
        "the work of one request).", "",
        "| endpoint | requests | req/s | client p50 | client p95 | server p50 | server p95 "
        "| statuses |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]

    def ms(values: list[float], share: float) -> str:
        return f"{percentile(values, share) * 1000:.0f}" if values else "–"

    for name in sorted(stats.latencies):
        values = stats.latencies[name]
        statuses = ", ".join(f"{code}: {count:,}"
                             for code, count in sorted(stats.statuses[name].items()))
        lines.append(f"| `{name}` | {len(values):,} | {len(values) / elapsed:.1f} | "
                     f"{ms(values, 0.5)} | {ms(values, 0.95)} | {ms(served.get(name, []), 0.5)} | "
                     f"{ms(served.get(name, []), 0.95)} | {statuses} |")
    lines += ["", f"A feed fetched again after the load with its ETag in If-None-Match: "
              f"{conditional}. (During the load the feeds change with nearly every booking, "
              "so their ETags rarely match.)"]
    lines += ["", "Invariants, checked by SQL on the database after the run:", ""]
    if invariants is None:
        lines.append("- not checked (no database URL given)")
    else:
        for label, violations in invariants.items():
            verdict = "holds" if violations == 0 else f"**BROKEN: {violations} violations**"
            lines.append(f"- {label}: {verdict}")
        lines.append(f"- at the end: {totals[0]:,} bookings ({totals[1]:,} active), "
                     f"{totals[2]:,} equipment reservations, {totals[3]:,} loans "
                     f"({totals[4]:,} still out)")
    if stats.unexpected:
        lines += ["", f"Unexpected 4xx ({len(stats.unexpected)}), first ones:", ""]
        lines += [f"- {line}" for line in stats.unexpected[:5]]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str, heading: str = "## Load test") -> None:
    """Replace the section under `heading` (or append it), keeping every other section."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _match: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text.rstrip("\n") + "\n")


def workers(server_pid: int) -> list[int]:
    """gunicorn's worker processes (the children of its master)."""
    if not server_pid:
        return []
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children")
    return sorted(int(pid) for pid in children.read_text().split()) if children.exists() else []


async def restart_database(args: argparse.Namespace, stats: Stats, started: float) -> str:
    """Restart the database server mid-run; returns what the command said."""
    await asyncio.sleep(max(0.0, started + args.restart_db_at - time.monotonic()))
    stats.outage.append(time.monotonic())
    process = await asyncio.create_subprocess_shell(
        args.restart_command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    stats.outage.append(time.monotonic())
    if process.returncode != 0:
        raise SystemExit(f"restart command failed ({process.returncode}): {output.decode()}")
    return output.decode().strip()


def restart_report(args: argparse.Namespace, stats: Stats,
                   pids: tuple[list[int], list[int]]) -> list[str]:
    began, returned = stats.outage
    window = returned + OUTAGE_GRACE
    during = Counter(status for moment, status in stats.since_outage if moment <= window)
    after = Counter(status for moment, status in stats.since_outage if moment > window)
    unavailable = [moment for moment, status in stats.since_outage if status == 503]
    first_success = min((moment for moment, status in stats.since_outage
                         if status < 500 and moment >= returned), default=None)

    def codes(counter: Counter[int]) -> str:
        return ", ".join(f"{code}: {count:,}" for code, count in sorted(counter.items())) or "none"

    def since(moment: float | None) -> str:
        return "never" if moment is None else f"{moment - returned:+.1f} s"

    return [
        "", "### The database restarted mid-run", "",
        f"{args.restart_db_at:.0f} s into the load, `{args.restart_command}` restarted the "
        f"PostgreSQL server (fast shutdown: every connection of the app cut); the command took "
        f"{returned - began:.1f} s. Nothing was restarted on the app's side (gunicorn's "
        "max_requests recycling off for this run, so that its workers can be compared).", "",
        f"- answers from the restart until {OUTAGE_GRACE:.0f} s after the command returned "
        f"(requests then in flight): {codes(during)}",
        f"- 503 answers: {len(unavailable):,}, the first {since(min(unavailable, default=None))}"
        f" and the last {since(max(unavailable, default=None))} from the moment the restart "
        f"command returned; the first success after it: {since(first_success)}",
        f"- answers after that: {sum(after.values()):,} ({codes(after)})",
        f"- gunicorn workers before and after: {pids[0]} → {pids[1]} "
        f"({'the same processes' if pids[0] == pids[1] else '**changed**'})",
    ]


def restart_failures(stats: Stats, pids: tuple[list[int], list[int]]) -> list[str]:
    if len(stats.outage) != 2:
        return ["the restart did not happen during the load"]
    window = stats.outage[1] + OUTAGE_GRACE
    after = [status for moment, status in stats.since_outage if moment > window]
    failures = []
    if not any(status < 500 for status in after):
        failures.append("no successful answer after the restart")
    if any(status >= 500 for status in after):
        failures.append(f"server errors after the restart: {Counter(after)}")
    if pids[0] != pids[1]:
        failures.append(f"gunicorn workers changed {pids[0]} → {pids[1]}")
    return failures


async def run(args: argparse.Namespace) -> int:
    stats = Stats()
    counts: Counter[str] = Counter()
    world = await discover(args.base, stats)
    stats.latencies.clear()
    stats.statuses.clear()
    access_log = Path(args.access_log) if args.access_log else None
    offset = access_log.stat().st_size if access_log and access_log.exists() else 0
    load_before = os.getloadavg()
    started = time.monotonic()
    deadline = started + args.duration
    pids_before = workers(args.server_pid)
    restart = (asyncio.create_task(restart_database(args, stats, started))
               if args.restart_db_at else None)
    await asyncio.gather(*(simulated_user(number, args.base, world, stats, deadline, counts)
                           for number in range(args.users)))
    elapsed = time.monotonic() - started
    if restart is not None:
        await restart
    pids_after = workers(args.server_pid)
    load_after = os.getloadavg()
    await asyncio.sleep(1)  # the last access-log lines written
    served = server_times(access_log, offset) if access_log and access_log.exists() else {}
    conditional = await conditional_get(args.base, stats, world)
    # The sign-ins are part of the set-up, not of the figures.
    stats.latencies.pop("POST /api/v1/auth/token/", None)
    stats.latencies.pop("GET /api/v1/me/", None)
    invariants, totals, version = (check_invariants(args.database_url) if args.database_url
                                   else (None, (), "?"))
    text = report(args, stats, elapsed, counts, invariants, totals, version,
                  (load_before, load_after), served, conditional)
    heading = "## Load test"
    failed = False
    if args.restart_db_at:
        heading = "## Load test with a database restart"
        pids = (pids_before, pids_after)
        text = text.replace("## Load test\n", heading + "\n", 1).replace(
            "by `make loadtest`", "by `make loadtest-db-restart`", 1)
        if len(stats.outage) == 2:
            text = text.rstrip("\n") + "\n" + "\n".join(restart_report(args, stats, pids)) + "\n"
        for failure in restart_failures(stats, pids):
            print(f"FAIL: {failure}", file=sys.stderr)
            failed = True
    print(text)
    print("outcomes:", dict(sorted(counts.items())))
    if args.results and args.results != "-":
        write_section(Path(args.results), text, heading)
    if stats.server_errors:
        print(f"FAIL: {len(stats.server_errors)} server errors, e.g. {stats.server_errors[:5]}",
              file=sys.stderr)
        failed = True
    if stats.transport_errors:
        print(f"FAIL: transport errors {dict(stats.transport_errors)}", file=sys.stderr)
        failed = True
    if invariants and any(invariants.values()):
        print(f"FAIL: invariants {invariants}", file=sys.stderr)
        failed = True
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--access-log", default="",
                        help="gunicorn's access log, format '%%(m)s %%(U)s %%(q)s %%(s)s %%(D)s'")
    parser.add_argument("--results", default="bench/RESULTS.md", help='"-": print only')
    parser.add_argument("--restart-db-at", type=float, default=0.0,
                        help="seconds into the load to restart the database (0: never)")
    parser.add_argument("--restart-command", default="",
                        help="shell command that restarts the database server")
    parser.add_argument("--server-pid", type=int, default=0,
                        help="gunicorn's master: its workers must outlive the restart")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
