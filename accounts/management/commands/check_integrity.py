"""Check the data's invariants (config/integrity.py); exit non-zero if any is broken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.integrity import CHECKS, SHOWN_IDS, run_checks


class Command(BaseCommand):
    help = ("Check that the data keeps its invariants (no double booking, no over-lent "
            "equipment, everything audited, …); exits non-zero naming the offending rows.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--only", action="append", default=[], metavar="CHECK",
                            choices=[check.name for check in CHECKS],
                            help="Run just this check (may be repeated).")

    def handle(self, *args: Any, **options: Any) -> None:
        checks = [check for check in CHECKS if not options["only"] or check.name in options["only"]]
        failed = []
        for result in run_checks(checks):
            check = result.check
            if result.ok:
                self.stdout.write(f"ok    {check.name}: {check.description}")
                continue
            failed.append(check.name)
            more = f" (first {SHOWN_IDS})" if result.count > len(result.ids) else ""
            self.stdout.write(self.style.ERROR(
                f"FAIL  {check.name}: {check.description}: {result.count} offending, "
                f"ids{more}: {', '.join(str(pk) for pk in result.ids)}"))
        if failed:
            raise CommandError(f"{len(failed)} of {len(checks)} integrity checks failed: "
                               f"{', '.join(failed)}")
        self.stdout.write(f"All {len(checks)} integrity checks passed.")
