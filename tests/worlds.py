"""Data built once for a whole test module, inside a transaction rolled back at its end."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import transaction
from django.test.utils import override_settings

T = TypeVar("T")


@contextmanager
def built_once(django_db_blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    """For a module-scoped fixture: `build()` runs once in an open transaction that is rolled
    back afterwards; each test then runs in a savepoint inside it. Sessions live in signed
    cookies (no writes), passwords hash fast, uploads go to a throw-away folder."""
    media = tempfile.TemporaryDirectory()
    settings = override_settings(
        MEDIA_ROOT=media.name,
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    settings.enable()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
    try:
        with django_db_blocker.unblock():
            built = build()
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
        settings.disable()
        media.cleanup()
