"""`manage.py export_person USERNAME [--output FILE]`: all data about one person, as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.personal_data import export_person


class Command(BaseCommand):
    help = "Export everything held about one person (decree 13/2023: the right to access)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--output", help="write to this file instead of the screen")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        text = json.dumps(export_person(user), ensure_ascii=False, indent=2)
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stdout.write(f"Written to {options['output']}.")
        else:
            self.stdout.write(text)
