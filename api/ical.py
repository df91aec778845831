"""iCalendar feeds of bookings, built with icalendar (RFC 5545, RFC 7986).

What calendar apps need and why is in ICAL.md. In short: one VEVENT per single
booking; a recurring series is one master VEVENT with RRULE and EXDATEs plus one
RECURRENCE-ID VEVENT for each occurrence that differs from the master. The output
depends only on the database (DTSTAMP is the last change, not the render time), so
a hash of it is a good ETag.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, Timezone, vDuration, vRecur, vText

from accounts.models import Role
from bookings.models import Booking, BookingKind, BookingStatus, Series
from bookings.recurrence import expand
from projects.models import MentorSession, SessionKind
from spaces.errors import Invalid

PRODID = "-//STEM Space//Bookings//VI"
# Part of every UID: never change it, or every subscriber sees every event twice.
UID_HOST = "stemspace"
WINDOW_PAST = datetime.timedelta(days=30)
WINDOW_AHEAD = datetime.timedelta(days=365)
REFRESH = datetime.timedelta(hours=1)
# Bump when the rendering changes, so that cached bodies and clients' ETags are renewed.
FEED_FORMAT = 1

EVENT_STATUS = {
    BookingStatus.APPROVED: "CONFIRMED",
    BookingStatus.PENDING: "TENTATIVE",
    BookingStatus.CANCELLED: "CANCELLED",
}
KIND_LABELS = dict(BookingKind.choices)
SESSION_KIND_LABELS = dict(SessionKind.choices)
# Ties in the master's status go to the first.
STATUS_PREFERENCE = ("CONFIRMED", "TENTATIVE", "CANCELLED")


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str
    last_modified: datetime.datetime | None


@functools.lru_cache(maxsize=4)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    # Built from the feed's years, not from 1970: Ho Chi Minh was +08 before 1975 and a
    # second STANDARD block makes Outlook reject the whole feed.
    return Timezone.from_tzid(tzid, first_date=datetime.date(first_year, 1, 1),
                              last_date=datetime.date(last_year, 1, 1))


def vtimezone(today: datetime.date) -> Timezone:
    """The VTIMEZONE of settings.TIME_ZONE, from early enough for the first start of a
    series still in the window (series span at most a year) and cached for the year."""
    return _vtimezone(settings.TIME_ZONE, today.year - 2, today.year + 3)


def included(*, private: bool, now: datetime.datetime) -> Q:
    """Bookings a feed shows. Cancelled ones stay (as STATUS:CANCELLED) until they end."""
    cancelled_not_past = Q(status=BookingStatus.CANCELLED, end__gt=now)
    if private:
        return Q(status__in=(BookingStatus.PENDING, BookingStatus.APPROVED)) | cancelled_not_past
    # A public feed never showed a request still awaiting approval, so its cancellation
    # is no news there. Approved once: decided by a manager, or approved on creation
    # (not a student's, or in a space where students need no approval).
    was_approved = (Q(decided_at__isnull=False) | ~Q(organizer__role=Role.STUDENT)
                    | Q(space__student_bookings_need_approval=False))
    return Q(status=BookingStatus.APPROVED) | (cancelled_not_past & was_approved)


def feed_bookings(scope: Q, *, private: bool, now: datetime.datetime) -> list[Booking]:
    """One query: the included bookings in the window, and every included occurrence of
    a series with one in the window (the master VEVENT stands for the whole series)."""
    shown = Booking.objects.filter(scope).filter(included(private=private, now=now))
    in_window = Q(start__lt=now + WINDOW_AHEAD, end__gt=now - WINDOW_PAST)
    series_in_window = shown.filter(in_window, series__isnull=False).values("series_id")
    return list(shown.filter(in_window | Q(series_id__in=series_in_window))
                .select_related("space", "school", "series", "mentor_session__mentor__user")
                .order_by("start", "pk"))


def feed_version(*, name: str, description: str, scope: Q, private: bool,
                 now: datetime.datetime) -> tuple[str, datetime.datetime | None]:
    """The feed's ETag and Last-Modified from one aggregate query, without rendering it.

    It changes whenever the feed's content can: a booking, its series or its session
    changed (updated_at), a booking came into or left the feed (count, sum of ids), a new
    day (the window and the time-zone block move), another name or language.
    """
    shown = Booking.objects.filter(scope).filter(included(private=private, now=now))
    in_window = Q(start__lt=now + WINDOW_AHEAD, end__gt=now - WINDOW_PAST)
    series_in_window = shown.filter(in_window, series__isnull=False).values("series_id")
    facts = shown.filter(in_window | Q(series_id__in=series_in_window)).aggregate(
        count=Count("pk"), ids=Sum("pk"), changed=Max("updated_at"),
        series_changed=Max("series__updated_at"),
        session_changed=Max("mentor_session__updated_at"))
    key = "|".join(str(part) for part in (
        FEED_FORMAT, name, description, private, translation.get_language(),
        timezone.localdate(now), *facts.values()))
    changes = [moment for moment in (facts["changed"], facts["series_changed"],
                                     facts["session_changed"]) if moment is not None]
    return f'"{hashlib.sha256(key.encode()).hexdigest()[:40]}"', max(changes, default=None)


def build_feed(*, name: str, description: str, scope: Q, private: bool,
               now: datetime.datetime | None = None) -> Feed:
    """The feed of the bookings matching `scope`. Private feeds (the organiser's own)
    also show pending requests and descriptions."""
    now = now or timezone.now()
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # vText: icalendar 7.3 escapes these only when told they are text.
    calendar.add("name", vText(name))
    calendar.add("x-wr-calname", vText(name))
    calendar.add("description", vText(description))
    calendar.add("x-wr-caldesc", vText(description))
    calendar.add("x-wr-timezone", vText(settings.TIME_ZONE))
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    calendar.add_component(vtimezone(timezone.localdate(now)))

    bookings = feed_bookings(scope, private=private, now=now)
    by_series: dict[int, list[Booking]] = {}
    for booking in bookings:
        if booking.series_id is None:
            calendar.add_component(_single_event(booking, private=private))
        else:
            by_series.setdefault(booking.series_id, []).append(booking)
    for occurrences in by_series.values():
        series = occurrences[0].series
        assert series is not None
        for event in _series_events(series, occurrences, private=private):
            calendar.add_component(event)

    body = calendar.to_ical()
    changes = [booking.updated_at for booking in bookings]
    changes += [occurrences[0].series.updated_at for occurrences in by_series.values()
                if occurrences[0].series is not None]
    return Feed(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:40]}"',
                last_modified=max(changes, default=None))


FEED_CACHE_SECONDS = 3600


def cached_feed(*, name: str, description: str, scope: Q, private: bool,
                now: datetime.datetime | None = None) -> tuple[str, datetime.datetime | None,
                                                               Callable[[], bytes]]:
    """The feed's ETag and Last-Modified (one cheap query) and a way to get its body,
    rendered once per version and kept in the cache: calendar apps poll every hour, and a
    revalidation (304) must not cost a rendering."""
    now = now or timezone.now()
    etag, last_modified = feed_version(name=name, description=description, scope=scope,
                                       private=private, now=now)

    def body() -> bytes:
        key = f"ical-feed:{etag.strip(chr(34))}"
        cached = cache.get(key)
        if cached is None:
            cached = build_feed(name=name, description=description, scope=scope,
                                private=private, now=now).body
            cache.set(key, cached, FEED_CACHE_SECONDS)
        return cached

    return etag, last_modified, body


# --- events ----------------------------------------------------------------------------------

def _local(moment: datetime.datetime) -> datetime.datetime:
    # Aware in Asia/Ho_Chi_Minh (zoneinfo): icalendar writes it as DTSTART;TZID=...
    return timezone.localtime(moment)


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC)


def _location(booking: Booking) -> str:
    return f"{booking.space.name}, {booking.school.name}"


def _event(*, uid: str, booking: Booking, summary: str, kind: str, status: str, sequence: int,
           start: datetime.datetime, end: datetime.datetime, changed: datetime.datetime,
           description: str, private: bool, categories: tuple[str, ...] = ()) -> Event:
    """A VEVENT; `booking` gives the place, every other property is passed."""
    event = Event()
    event.add("uid", uid)
    # The last change, not the render time: the feed stays byte-identical (ETag) until
    # something changes, and DTSTAMP is never in the future.
    event.add("dtstamp", _utc(changed))
    event.add("last-modified", _utc(changed))
    event.add("sequence", sequence)
    event.add("dtstart", _local(start))
    event.add("dtend", _local(end))
    event.add("summary", summary)
    event.add("location", _location(booking))
    event.add("status", status)
    event.add("categories", [str(KIND_LABELS.get(kind, kind)), *categories])
    # Descriptions are the organiser's own notes: only in their own feed.
    if private and description:
        event.add("description", description)
    return event


def _session_description(session: MentorSession, *, private: bool) -> str:
    """What anyone may know of a mentor session: its kind and its mentor (an adult expert,
    never the students); its own description only in participants' private feeds."""
    mentor = session.mentor
    lines = [_("%(kind)s with %(mentor)s (%(organization)s)") % {
        "kind": SESSION_KIND_LABELS.get(session.kind, session.kind), "mentor": mentor.user,
        "organization": mentor.organization}]
    if private and session.description:
        lines += ["", session.description]
    return "\n".join(lines)


def _single_event(booking: Booking, *, private: bool) -> Event:
    # select_related by feed_bookings: no query per event.
    session: MentorSession | None = getattr(booking, "mentor_session", None)
    description, show_description = booking.description, private
    categories: tuple[str, ...] = ()
    if session is not None:
        # Written for the feed at hand: every feed may show it.
        description, show_description = _session_description(session, private=private), True
        categories = (str(SESSION_KIND_LABELS.get(session.kind, session.kind)),)
    return _event(uid=f"booking-{booking.uid}@{UID_HOST}", booking=booking, summary=booking.title,
                  kind=booking.kind, status=EVENT_STATUS[BookingStatus(booking.status)],
                  sequence=booking.sequence, start=booking.start, end=booking.end,
                  changed=booking.updated_at, description=description,
                  private=show_description, categories=categories)


def _series_events(series: Series, bookings: list[Booking], *, private: bool) -> list[Event]:
    """The master VEVENT of a series and one RECURRENCE-ID VEVENT per occurrence that
    differs from it; every occurrence of the rule without a booking here is an EXDATE
    (skipped on a closure or conflict, or not shown in this feed)."""
    try:
        _rule, starts = expand(series.rrule, series.start)
    except Invalid:
        # A rule that no longer expands (edited by hand): show the occurrences one by one.
        return [_single_event(booking, private=private) for booking in bookings]
    duration = series.end - series.start
    rule_starts = set(starts)
    by_start = {booking.recurrence_id: booking for booking in bookings
                if booking.recurrence_id in rule_starts}
    strays = [booking for booking in bookings if booking.recurrence_id not in by_start]
    if not by_start:
        return [_single_event(booking, private=private) for booking in strays]

    def status(booking: Booking) -> str:
        return EVENT_STATUS[BookingStatus(booking.status)]

    # The master carries the status most occurrences share: fewest overrides.
    regular = [booking for booking in by_start.values() if not booking.is_exception]
    votes = Counter(status(booking) for booking in regular or by_start.values())
    master_status = max(STATUS_PREFERENCE,
                        key=lambda value: (votes[value], -STATUS_PREFERENCE.index(value)))

    def looks(booking: Booking) -> tuple[object, ...]:
        return (booking.start, booking.end, booking.title, booking.kind, status(booking),
                booking.description if private else "")

    def follows_master(booking: Booking) -> bool:
        start = booking.recurrence_id
        assert start is not None
        return looks(booking) == (start, start + duration, series.title, series.kind,
                                  master_status, series.description if private else "")

    followers = [booking for booking in by_start.values() if follows_master(booking)]
    following = {booking.pk for booking in followers}
    sequence = max([series.sequence, *(booking.sequence for booking in followers)])
    changed = max([series.updated_at, *(booking.updated_at for booking in followers)])
    uid = f"series-{series.uid}@{UID_HOST}"
    master = _event(uid=uid, booking=bookings[0], summary=series.title, kind=series.kind,
                    status=master_status, sequence=sequence, start=starts[0],
                    end=starts[0] + duration, changed=changed, description=series.description,
                    private=private)
    master.add("rrule", vRecur.from_ical(series.rrule))
    # One EXDATE per date, in DTSTART's TZID form (Apple ignores UTC ones).
    for start in starts:
        if start not in by_start:
            master.add("exdate", _local(start))

    events = [master]
    for start, booking in sorted(by_start.items()):
        if booking.pk in following:
            continue
        override = _event(uid=uid, booking=booking, summary=booking.title, kind=booking.kind,
                          status=status(booking), sequence=max(booking.sequence, sequence),
                          start=booking.start, end=booking.end, changed=booking.updated_at,
                          description=booking.description, private=private)
        override.add("recurrence-id", _local(start))
        events.append(override)
    events.extend(_single_event(booking, private=private) for booking in strays)
    return events
