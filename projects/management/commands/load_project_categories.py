"""python manage.py load_project_categories (--year 2026 | --school-year current) [--from-year 2025]

Gives a school year the ViSEF/ISEF project categories, in Vietnamese and English: the
built-in list, or with --from-year a copy of an earlier year's list as the Union edited
it. Safe to run again: categories already there are left as they are.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from bookings.holidays import current_school_year
from projects.categories import load_categories
from projects.models import ProjectCategory

DESCRIPTION = gettext_noop(
    "Give a school year the ViSEF/ISEF project categories (Vietnamese and English). "
    "Safe to run again: categories already there are kept as they are.")


def year(text: str) -> int:
    """A year from 2000 to 2100, or `current`: the school year under way."""
    if text == "current":
        return current_school_year(timezone.localdate())
    if not text.isdigit() or not 2000 <= int(text) <= 2100:
        raise argparse.ArgumentTypeError(_("Give a year, e.g. 2026, or “current”."))
    return int(text)


class Command(BaseCommand):
    help = DESCRIPTION

    def add_arguments(self, parser: CommandParser) -> None:
        parser.description = _(DESCRIPTION)
        when = parser.add_mutually_exclusive_group(required=True)
        when.add_argument("--year", type=year, metavar="YEAR",
                          help=_("The year the school year starts, e.g. 2026 for 2026–2027."))
        when.add_argument("--school-year", type=year, metavar="YEAR", dest="year",
                          help=_("The same; “current”: the school year under way "
                                 "(from June on, the coming one)."))
        parser.add_argument("--from-year", type=year, metavar="YEAR",
                            help=_("Copy this earlier year's list (with the Union's edits) "
                                   "instead of the built-in one."))

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        source = options.get("from_year")
        if source is not None and not ProjectCategory.objects.filter(year=source).exists():
            raise CommandError(_("There are no categories for %(year)d to copy.")
                               % {"year": source})
        result = load_categories(year=options["year"], from_year=source)
        self.stdout.write(_("Project categories for %(year)d–%(next)d: %(created)d created, "
                            "%(existing)d already there.")
                          % {"year": result.year, "next": result.year + 1,
                             "created": result.created, "existing": result.existing})
