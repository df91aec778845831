"""Domain errors become HTTP answers here, and only here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from spaces.errors import Conflict, DomainError, Invalid, NotAllowed, StorageFull


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Conflict):
        body: dict[str, Any] = {"detail": str(exc.message)}
        if exc.field:
            body[exc.field] = [str(exc.message)]
        if exc.conflicts:
            body["conflicts"] = exc.conflicts
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, StorageFull):
        body = {"detail": str(exc.message)}
        if exc.field:
            body[exc.field] = [str(exc.message)]
        return Response(body, status=status.HTTP_507_INSUFFICIENT_STORAGE)
    if isinstance(exc, NotAllowed):
        return Response({"detail": str(exc.message)}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, Invalid | DomainError):
        field = exc.field or "non_field_errors"
        return Response({field: [str(exc.message)]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(as_serializer_error(exc))
    return drf_exception_handler(exc, context)
