"""Mail tomorrow's mentor sessions to their mentor and registered students (run daily)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from projects.sessions import send_reminders


class Command(BaseCommand):
    help = ("Send the reminders of mentor sessions starting tomorrow to their mentor and "
            "registered students. Each session is reminded once: run it daily (cron or a "
            "systemd timer); running it again the same day sends nothing new.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", type=datetime.datetime.fromisoformat, default=None,
                            help="Pretend it is this moment (ISO 8601, Vietnam time if no "
                                 "offset); for testing.")

    def handle(self, *args: Any, **options: Any) -> None:
        now = options["now"]
        if now is not None and timezone.is_naive(now):
            now = timezone.make_aware(now)
        result = send_reminders(now=now)
        self.stdout.write(f"Reminders: {result.sessions} sessions, {result.emails} emails.")
