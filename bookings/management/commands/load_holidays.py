"""python manage.py load_holidays (--year 2027 [2028 …] | --school-year 2026|current)
    [--school ndc …] [--tet-break-before N] [--tet-break-after M]
    [--tet-break 2027-01-30:2027-02-14 …] [--no-tet-break] [--cancel-bookings] [--dry-run]

Closes every school (or the given ones) on Vietnam's public holidays — from the
`holidays` library, lunar ones included — and on the students' Tết break. The
break is Mùng một minus --tet-break-before days to plus --tet-break-after days
(default 7 and 7), unless --tet-break gives the dates the Department announced.
Safe to run again: a closure with the same school, dates and source is skipped
(so a break loaded before with other dates stays: delete it in the admin).
Bookings on a new closure are listed, and cancelled only with --cancel-bookings.
"""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from bookings import holidays
from bookings.holidays import HolidaySpan, LoadedClosure
from bookings.models import ClosureSource
from bookings.services import fmt
from spaces.models import School

DESCRIPTION = gettext_noop(
    "Close the schools on Vietnam's public holidays (Tết and Giỗ Tổ Hùng Vương included) "
    "and on the students' Tết break. Safe to run again: closures already there are skipped.")


def tet_break_range(text: str) -> HolidaySpan:
    """`2027-01-30:2027-02-14` → the Tết break on those days (both included)."""
    try:
        first, last = (datetime.date.fromisoformat(part.strip()) for part in text.split(":"))
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            _("“%(value)s” is not FIRST:LAST, e.g. 2027-01-30:2027-02-14.") % {"value": text}
        ) from error
    try:
        return holidays.explicit_tet_break(first, last)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def school_year(text: str) -> int:
    """A year, or `current`: the school year under way (from June on, the coming one)."""
    if text == "current":
        return holidays.current_school_year(timezone.localdate())
    try:
        return int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(_("Give a year, e.g. 2026, or “current”.")) from error


def days(text: str) -> int:
    if not text.isdigit() or int(text) > 60:
        raise argparse.ArgumentTypeError(_("Give a number of days from 0 to 60."))
    return int(text)


class Command(BaseCommand):
    help = DESCRIPTION

    def add_arguments(self, parser: CommandParser) -> None:
        parser.description = _(DESCRIPTION)
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument("--year", type=int, nargs="+", dest="years", metavar="YEAR",
                          help=_("The calendar years to load, e.g. 2027."))
        when.add_argument("--school-year", type=school_year, metavar="YEAR",
                          help=_("The school year from September of YEAR to May of the next; "
                                 "“current”: the one under way (from June on, the coming one)."))
        parser.add_argument("--school", nargs="+", dest="schools", metavar="SLUG",
                            help=_("Only these schools (short names, e.g. ndc); "
                                   "default: every school."))
        parser.add_argument("--tet-break-before", type=days, default=holidays.TET_BREAK_BEFORE,
                            metavar="DAYS",
                            help=_("The Tết break starts this many days before Mùng một "
                                   "(default %(default)s)."))
        parser.add_argument("--tet-break-after", type=days, default=holidays.TET_BREAK_AFTER,
                            metavar="DAYS",
                            help=_("The Tết break ends this many days after Mùng một "
                                   "(default %(default)s)."))
        parser.add_argument("--tet-break", type=tet_break_range, action="append", default=[],
                            dest="tet_breaks", metavar="FIRST:LAST",
                            help=_("The Tết break as announced, e.g. 2027-01-30:2027-02-14; "
                                   "replaces the computed break of that year. Repeatable."))
        parser.add_argument("--no-tet-break", action="store_true",
                            help=_("Load the public holidays only."))
        parser.add_argument("--cancel-bookings", action="store_true",
                            help=_("Cancel the bookings that fall on a new closure and tell "
                                   "their organisers (default: only list them)."))
        parser.add_argument("--dry-run", action="store_true",
                            help=_("Show what would happen; save nothing."))

    def handle(self, *args: Any, **options: Any) -> None:
        schools = self.schools(options["schools"])
        between = None
        years = options["years"]
        if options["school_year"] is not None:
            years = [options["school_year"], options["school_year"] + 1]
            between = holidays.school_year(options["school_year"])
        try:
            spans = holidays.school_closures(
                years, tet_break_before=options["tet_break_before"],
                tet_break_after=options["tet_break_after"], tet_breaks=options["tet_breaks"],
                with_tet_break=not options["no_tet_break"], between=between)
        except ValueError as error:
            raise CommandError(str(error)) from error
        results = holidays.load_closures(schools=schools, spans=spans,
                                         cancel_bookings=options["cancel_bookings"],
                                         dry_run=options["dry_run"])
        if options["verbosity"] >= 1:
            for result in results:
                self.report(result, dry_run=options["dry_run"])
        self.summary(results, dry_run=options["dry_run"])

    def schools(self, slugs: list[str] | None) -> list[School]:
        schools = School.objects.order_by("slug")
        if not slugs:
            return list(schools)
        found = list(schools.filter(slug__in=slugs))
        missing = sorted(set(slugs) - {school.slug for school in found})
        if missing:
            raise CommandError(_("No school with the short name “%(slug)s”.")
                               % {"slug": missing[0]})
        return found

    def report(self, result: LoadedClosure, *, dry_run: bool) -> None:
        span = result.span
        kind = (_("school break") if span.source == ClosureSource.SCHOOL_BREAK
                else _("public holiday"))
        line = (f"{result.school.slug}: {span.start_date:%d/%m/%Y}–{span.end_date:%d/%m/%Y} "
                f"{span.reason} ({kind})")
        if not result.created:
            self.stdout.write(_("Already there: %(closure)s") % {"closure": line})
            return
        action = _("Would create: %(closure)s") if dry_run else _("Created: %(closure)s")
        self.stdout.write(self.style.SUCCESS(action % {"closure": line}))
        for booking in result.affected:
            description = (f"{booking.title} — {booking.space.name} — {fmt(booking.start)} "
                           f"({booking.organizer})")
            if result.cancelled:
                self.stdout.write(self.style.WARNING(
                    "  " + _("Cancelled booking: %(booking)s") % {"booking": description}))
            else:
                self.stdout.write(self.style.WARNING(
                    "  " + _("Booking on this closure: %(booking)s") % {"booking": description}))

    def summary(self, results: list[LoadedClosure], *, dry_run: bool) -> None:
        created = [result for result in results if result.created]
        affected = sum(len(result.affected) for result in created)
        cancelled = sum(len(result.affected) for result in created if result.cancelled)
        counts = {"created": len(created), "skipped": len(results) - len(created),
                  "affected": affected, "cancelled": cancelled}
        if dry_run:
            message = _("Dry run, nothing saved: %(created)d closures would be created, "
                        "%(skipped)d are already there; %(affected)d bookings fall on them.")
        else:
            message = _("%(created)d closures created, %(skipped)d already there; "
                        "%(affected)d bookings fall on the new ones, %(cancelled)d cancelled.")
        self.stdout.write(message % counts)
        if affected and dry_run:
            self.stdout.write(self.style.WARNING(
                _("Add --cancel-bookings to cancel them and tell their organisers.")))
