"""Who may call what. Object visibility lives in each viewset's get_queryset()."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from accounts.models import Role


class ReadAnyoneWriteSuperuser(BasePermission):
    """Public reads; writes only by administrators."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_superuser)


class ReadAnyoneWriteManager(BasePermission):
    """Public reads; writes by managers and admins (the school is checked by the service)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return bool(user and user.is_authenticated
                    and (user.is_superuser or user.role == Role.MANAGER))


class SignedInWriteManager(BasePermission):
    """Reads by anyone signed in; writes by managers and admins."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return bool(user.is_superuser or user.role == Role.MANAGER)


def sees_all_schools(user: Any) -> bool:
    return bool(user.is_superuser or user.role == Role.UNION)
