"""Domain errors. The API turns them into 400 / 403 / 409 / 507 in one place (api/exceptions.py)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule said no. `field` names the input at fault, when there is one."""

    def __init__(self, message: Any, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class Invalid(DomainError):
    """The request breaks a rule: 400."""


class NotAllowed(DomainError):
    """This person may not do this: 403."""


class Conflict(DomainError):
    """The state of the world does not allow it (overlap, stock): 409."""

    def __init__(self, message: Any, *, conflicts: list[dict[str, Any]] | None = None,
                 field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.conflicts = conflicts or []


class StorageFull(DomainError):
    """The server has no room left to store a file (ENOSPC, EDQUOT): 507. Not the caller's
    fault; retrying later, once space is freed, works."""
