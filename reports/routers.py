"""Report queries read from the replica when one is configured (DATABASE_REPLICA_URL).

Only the queries made inside `reporting()` are routed: the rest of the app reads its own
writes from the primary. The flag is a context variable, so threads and async tasks each
have their own.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.conf import settings

_reporting: contextvars.ContextVar[bool] = contextvars.ContextVar("reporting", default=False)


@contextlib.contextmanager
def reporting() -> Iterator[str]:
    """Route the reads made in this block to the reports database; yields its alias."""
    token = _reporting.set(True)
    try:
        yield settings.REPORTS_DATABASE
    finally:
        _reporting.reset(token)


class ReportsRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return settings.REPORTS_DATABASE if _reporting.get() else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # The replica copies the primary: only the primary is migrated.
        return db == "default"
