"""`manage.py anonymise_person USERNAME --yes`: a person who has left, anonymised."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.personal_data import anonymise_person


class Command(BaseCommand):
    help = ("Anonymise a person who has left (decree 13/2023): name, e-mail and login go; "
            "their bookings, loans and logbook hours stay in the statistics.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--yes", action="store_true", help="do it (it cannot be undone)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        if user.is_superuser:
            raise CommandError("Refusing to anonymise an administrator.")
        if not options["yes"]:
            raise CommandError("This cannot be undone: add --yes.")
        anonymise_person(user)
        self.stdout.write(f"{options['username']} is now {user.username}.")
