"""A person's rights over their data (Vietnam's decree 13/2023 on personal data protection):
see everything held about them, and be anonymised when they leave — keeping the usage
statistics (their bookings, loans and logbook hours stay, no longer tied to a name)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from accounts.audit import log_action
from accounts.models import AuditEntry, User, new_feed_token


def _rows(model_label: str, **lookup: Any) -> list[dict[str, Any]]:
    model = apps.get_model(model_label)
    return [{key: _plain(value) for key, value in row.items()}
            for row in model.objects.filter(**lookup).order_by("pk").values()]


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value.__class__.__name__ == "Decimal":
        return str(value)
    return value


def export_person(user: User) -> dict[str, Any]:
    """Everything the system holds about `user`, as plain JSON-ready data."""
    return {
        "exported_at": timezone.now().isoformat(),
        "user": {"id": user.pk, "username": user.username, "full_name": user.full_name,
                 "email": user.email, "role": user.role, "school": user.school_id,
                 "date_joined": user.date_joined.isoformat(),
                 "last_login": user.last_login.isoformat() if user.last_login else None},
        "certifications": _rows("accounts.Certification", user=user),
        "bookings": _rows("bookings.Booking", organizer=user),
        "series": _rows("bookings.Series", organizer=user),
        "loans": _rows("spaces.Loan", borrower=user),
        "project_memberships": _rows("projects.Membership", user=user),
        "logbook_entries": _rows("projects.LogEntry", author=user),
        "logbook_comments": _rows("projects.LogComment", author=user),
        "session_registrations": _rows("projects.Registration", student=user),
        "actions_in_audit_trail": [
            {"at": entry.at.isoformat(), "action": entry.action,
             "object": f"{entry.content_type.app_label}.{entry.content_type.model}"
                       f"#{entry.object_id}"}
            for entry in AuditEntry.objects.filter(actor=user).select_related("content_type")
            .order_by("at")],
    }


@transaction.atomic
def anonymise_person(user: User, *, actor: User | None = None) -> User:
    """Remove who the person was; keep what happened (rows stay, counted in the reports)."""
    user.username = f"removed-{user.pk}"
    user.full_name = ""
    user.first_name = ""
    user.last_name = ""
    user.email = ""
    user.is_active = False
    user.is_staff = False
    user.set_unusable_password()
    user.feed_token = new_feed_token()  # their private calendar link stops working
    user.save()
    apps.get_model("projects.Registration").objects.filter(student=user).update(feedback="")
    apps.get_model("authtoken.Token").objects.filter(user=user).delete()
    log_action(user, "user.anonymised", actor=actor, school_id=user.school_id)
    return user
