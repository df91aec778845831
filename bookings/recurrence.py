"""RFC 5545 recurrence rules, parsed and expanded by python-dateutil."""

from __future__ import annotations

import datetime

from dateutil import rrule as dateutil_rrule
from django.utils import timezone
from django.utils.translation import gettext as _

from spaces.errors import Invalid

# A series covers at most a school year.
MAX_SPAN = datetime.timedelta(days=366)
MAX_OCCURRENCES = 400
ALLOWED_FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY"}


def normalise(rule: str) -> str:
    """Upper-case, no `RRULE:` prefix, FREQ first (Apple Calendar needs it first)."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = [part.strip() for part in text.split(";") if part.strip()]
    pairs = []
    for part in parts:
        if "=" not in part:
            raise Invalid(_("“%(part)s” is not NAME=VALUE.") % {"part": part}, field="rrule")
        name, value = part.split("=", 1)
        pairs.append((name.strip().upper(), value.strip().upper()))
    names = [name for name, _value in pairs]
    if len(set(names)) != len(names):
        raise Invalid(_("A rule part is repeated."), field="rrule")
    freq = dict(pairs).get("FREQ")
    if freq is None:
        raise Invalid(_("The rule needs FREQ (e.g. FREQ=WEEKLY)."), field="rrule")
    if freq not in ALLOWED_FREQUENCIES:
        raise Invalid(_("Bookings repeat daily, weekly or monthly."), field="rrule")
    if "UNTIL" not in names and "COUNT" not in names:
        raise Invalid(_("Say when the series ends (UNTIL or COUNT)."), field="rrule")
    pairs.sort(key=lambda pair: pair[0] != "FREQ")
    return ";".join(f"{name}={value}" for name, value in pairs)


def expand(rule: str, start: datetime.datetime) -> tuple[str, list[datetime.datetime]]:
    """The normalised rule and the start of every occurrence (aware, in Vietnam time).

    UNTIL may be given in UTC (…Z, as RFC 5545 requires with a TZID start) or as a local
    date or date-time; it is stored in UTC.
    """
    text = normalise(rule)
    local_start = timezone.localtime(start)
    parts = dict(part.split("=", 1) for part in text.split(";"))
    until = parts.get("UNTIL")
    if until is not None:
        parts["UNTIL"] = _until_utc(until)
        text = ";".join(f"{name}={value}" for name, value in parts.items())
    try:
        parsed = dateutil_rrule.rrulestr(text, dtstart=local_start)
    except (ValueError, TypeError, OverflowError) as error:
        raise Invalid(_("This is not a valid recurrence rule: %(error)s") % {"error": error},
                      field="rrule") from error
    occurrences: list[datetime.datetime] = []
    limit = local_start + MAX_SPAN
    for occurrence in parsed:  # type: ignore[attr-defined]
        if occurrence > limit or len(occurrences) >= MAX_OCCURRENCES:
            raise Invalid(_("A series may span at most one school year (366 days)."),
                          field="rrule")
        occurrences.append(occurrence)
    if not occurrences:
        raise Invalid(_("This rule gives no occurrence."), field="rrule")
    return text, occurrences


def _until_utc(value: str) -> str:
    try:
        if value.endswith("Z"):
            moment = datetime.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
        elif "T" in value:
            moment = timezone.make_aware(datetime.datetime.strptime(value, "%Y%m%dT%H%M%S"))
        else:
            day = datetime.datetime.strptime(value, "%Y%m%d")
            # A bare date includes that whole day.
            moment = timezone.make_aware(day.replace(hour=23, minute=59, second=59))
    except ValueError as error:
        raise Invalid(_("UNTIL must look like 20270115T000000Z."), field="rrule") from error
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
