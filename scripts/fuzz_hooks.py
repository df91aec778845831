"""schemathesis hooks for make test-fuzz (scripts/fuzz.sh loads them with SCHEMATHESIS_HOOKS).

Random bodies almost never create a booking: it must be in the future, inside the space's
opening hours, in a space of the caller's school. Without created objects the stateful phase has
nothing to follow its links with (bookings/{id}/approve/, loans/{id}/return/, …). So, for the
operations that create what the links lead from, two bodies in three are made plausible:
a space, equipment item, user or mentor the caller can see (asked of the API once, as the role
being fuzzed), a slot on a weekday in the coming weeks, now and then a unit or two of equipment
reserved, a short reason. The rest stays as schemathesis generated it. In every phase, not only
the stateful one. Everything is drawn by Hypothesis, so the run's seed still fixes it. If the
API cannot be asked (anonymous), bodies are left alone.
"""

from __future__ import annotations

import datetime
import json
import os
import urllib.request
from typing import Any
from zoneinfo import ZoneInfo

import schemathesis
from hypothesis import strategies as st

BASE = os.environ.get("FUZZ_BASE_URL", "")
TOKEN = os.environ.get("FUZZ_TOKEN", "")
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def _get(path: str) -> Any:
    request = urllib.request.Request(BASE + path, headers={"Authorization": f"Token {TOKEN}",
                                                           "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own server)
        return json.load(response)


def _ids(path: str) -> list[int]:
    try:
        return [row["id"] for row in _get(path)["results"]]
    except Exception:  # noqa: BLE001 (not allowed to list: leave it out)
        return []


def _known() -> dict[str, Any]:
    if not (BASE and TOKEN):
        return {}
    try:
        me = _get("/api/v1/me/")
    except Exception:  # noqa: BLE001
        return {}
    school = me.get("school")
    where = f"?school={school}&page_size=50" if school else "?page_size=50"
    return {
        "me": me["id"],
        "school": school,
        "spaces": _ids(f"/api/v1/spaces/{where}"),
        "equipment": _ids(f"/api/v1/equipment/{where}&status=available"),
        "users": _ids(f"/api/v1/users/{where}") or [me["id"]],
        "mentors": _ids("/api/v1/mentors/?page_size=50"),
    }


KNOWN = _known()


def creating(path: str) -> Any:
    """Register the decorated function as the flatmap_body hook of `POST path`."""
    register: Any = schemathesis.hook("flatmap_body")
    return register.apply_to(method="POST", path=path)


@st.composite
def slot(draw: st.DrawFn) -> tuple[datetime.datetime, datetime.datetime]:
    """A weekday (Mon–Fri) slot between 07:00 and 17:00 in the next two months, Vietnam time."""
    today = datetime.datetime.now(VIETNAM).date()
    day = today + datetime.timedelta(days=draw(st.integers(2, 60)))
    day += datetime.timedelta(days=max(0, 7 - day.weekday()) if day.weekday() >= 5 else 0)
    start = datetime.datetime.combine(day, datetime.time(draw(st.integers(7, 14)),
                                                         draw(st.sampled_from([0, 15, 30]))),
                                      tzinfo=VIETNAM)
    return start, start + datetime.timedelta(minutes=draw(st.sampled_from([45, 60, 90, 120])))


def _timed(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    start, end = draw(slot())
    for key in ("date", "period_from", "period_to", "override_rules"):
        body.pop(key, None)
    return body | {"space": draw(st.sampled_from(KNOWN["spaces"])),
                   "start": start.isoformat(), "end": end.isoformat()}


@st.composite
def reservations(draw: st.DrawFn) -> list[dict[str, int]]:
    """Nothing, or one or two of the school's items (the bookings' equipment rules)."""
    if not KNOWN.get("equipment"):
        return []
    return draw(st.lists(st.fixed_dictionaries({"equipment": st.sampled_from(KNOWN["equipment"]),
                                                "quantity": st.integers(1, 2)}),
                         max_size=2, unique_by=lambda item: item["equipment"]))


def _either(body: Any, plausible: st.SearchStrategy[dict[str, Any]], *needs: str
            ) -> st.SearchStrategy[Any]:
    if not isinstance(body, dict) or not all(KNOWN.get(key) for key in needs):
        return st.just(body)
    # Two plausible bodies to one generated: creating is what the stateful phase needs most.
    return st.one_of(plausible, plausible, st.just(body))


@creating("/api/v1/bookings/")
def booking_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    @st.composite
    def plausible(draw: st.DrawFn) -> dict[str, Any]:
        return _timed(draw, dict(body)) | {"title": "Fuzz booking", "attendees": 5,
                                           "equipment": draw(reservations())}
    return _either(body, plausible(), "spaces")


@creating("/api/v1/series/")
def series_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    @st.composite
    def plausible(draw: st.DrawFn) -> dict[str, Any]:
        return _timed(draw, dict(body)) | {
            "title": "Fuzz series", "attendees": 5, "equipment": draw(reservations()),
            "rrule": f"FREQ=WEEKLY;COUNT={draw(st.integers(2, 4))}",
            "skip_conflicts": draw(st.booleans())}
    return _either(body, plausible(), "spaces")


@creating("/api/v1/mentor-sessions/")
def session_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    @st.composite
    def plausible(draw: st.DrawFn) -> dict[str, Any]:
        return _timed(draw, dict(body)) | {
            "topic": "Fuzz session", "capacity": draw(st.integers(1, 3)), "projects": [],
            "mentor": draw(st.sampled_from(KNOWN["mentors"]))}
    return _either(body, plausible(), "spaces", "mentors")


@creating("/api/v1/loans/")
def loan_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    @st.composite
    def plausible(draw: st.DrawFn) -> dict[str, Any]:
        due = datetime.datetime.now(VIETNAM) + datetime.timedelta(days=draw(st.integers(1, 30)))
        return dict(body) | {"equipment": draw(st.sampled_from(KNOWN["equipment"])),
                             "borrower": draw(st.sampled_from(KNOWN["users"])),
                             "quantity": draw(st.integers(1, 3)), "due_at": due.isoformat()}
    return _either(body, plausible(), "equipment", "users")


@creating("/api/v1/closures/")
def closure_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    @st.composite
    def plausible(draw: st.DrawFn) -> dict[str, Any]:
        first = datetime.date.today() + datetime.timedelta(days=draw(st.integers(1, 90)))
        return dict(body) | {
            "school": KNOWN["school"], "space": draw(st.sampled_from([None, *KNOWN["spaces"]])),
            "start_date": first.isoformat(),
            "end_date": (first + datetime.timedelta(days=draw(st.integers(0, 2)))).isoformat(),
            "reason": "Fuzz closure", "cancel_bookings": draw(st.booleans())}
    return _either(body, plausible(), "school", "spaces")


@creating("/api/v1/projects/")
def project_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    @st.composite
    def plausible(draw: st.DrawFn) -> dict[str, Any]:
        plain = {key: value for key, value in body.items()
                 if key not in ("members", "mentors", "advisor", "category", "school")}
        return plain | {"title": "Fuzz project", "max_members": draw(st.integers(1, 5)),
                        "started_on": datetime.date.today().isoformat()}
    return _either(body, plausible(), "school")


@creating("/api/v1/projects/{project_pk}/log/")
def log_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    @st.composite
    def plausible(draw: st.DrawFn) -> dict[str, Any]:
        plain = {key: value for key, value in body.items() if key not in ("equipment", "booking")}
        return plain | {"date": datetime.date.today().isoformat(), "body": "Fuzz log entry",
                        "hours": draw(st.sampled_from(["0.50", "1.00", "2.25"]))}
    return _either(body, plausible(), "me")
