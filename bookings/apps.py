from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_sqlite_triggers(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from bookings.sqlite_triggers import ensure_triggers

    ensure_triggers(connections[using])


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Bookings")

    def ready(self) -> None:
        # A table rebuild in a later migration drops SQLite triggers: put them back.
        post_migrate.connect(_ensure_sqlite_triggers, sender=self,
                             dispatch_uid="bookings.sqlite_triggers")
