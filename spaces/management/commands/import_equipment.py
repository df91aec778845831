"""python manage.py import_equipment FILE --school ndc [--dry-run] [--as USERNAME]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from spaces.errors import DomainError
from spaces.importer import import_equipment
from spaces.models import School

DESCRIPTION = gettext_noop(
    "Import a school's equipment list from a CSV or Excel (.xlsx) file. Rows that cannot "
    "be imported are listed and skipped; a file that cannot be read imports nothing.")


class Command(BaseCommand):
    help = DESCRIPTION

    def add_arguments(self, parser: CommandParser) -> None:
        parser.description = _(DESCRIPTION)
        parser.add_argument("file", help=_("The .csv or .xlsx file."))
        parser.add_argument("--school", required=True,
                            help=_("The school's short name, e.g. ndc."))
        parser.add_argument("--dry-run", action="store_true",
                            help=_("Show what would happen; save nothing."))
        parser.add_argument("--as", dest="username", metavar="USERNAME",
                            help=_("Record the changes as made by this manager "
                                   "(default: the system)."))

    def handle(self, *args: Any, **options: Any) -> None:
        school = School.objects.filter(slug=options["school"]).first()
        if school is None:
            raise CommandError(_("No school with the short name “%(slug)s”.")
                               % {"slug": options["school"]})
        actor = None
        if options["username"]:
            actor = User.objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(_("No user “%(username)s”.")
                                   % {"username": options["username"]})
        try:
            with open(options["file"], "rb") as file:
                report = import_equipment(file, school=school, dry_run=options["dry_run"],
                                          actor=actor)
        except OSError as error:
            raise CommandError(_("Cannot open %(file)s: %(error)s")
                               % {"file": options["file"], "error": error.strerror}) from error
        except DomainError as error:
            raise CommandError(str(error.message)) from error

        if options["verbosity"] >= 2:
            for row in report.rows:
                self.stdout.write(_("Row %(row)d: %(action)s %(name)s")
                                  % {"row": row.row, "action": row.action.label,
                                     "name": row.name})
        for row in report.errors:
            self.stderr.write(_("Row %(row)d: %(reason)s") % {"row": row.row,
                                                              "reason": row.reason})
        if report.dry_run:
            self.stdout.write(self.style.WARNING(_("Dry run: nothing was saved.")))
        style = self.style.WARNING if report.errors else self.style.SUCCESS
        self.stdout.write(style(f"{school}: {report.summary()}"))
