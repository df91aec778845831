"""People, their roles and schools, machine certifications and the audit trail."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class Role(models.TextChoices):
    UNION = "union", _("Union officer")
    MENTOR = "mentor", _("Mentor")
    MANAGER = "manager", _("Space manager")
    TEACHER = "teacher", _("Teacher")
    STUDENT = "student", _("Student")


SCHOOL_ROLES = frozenset({Role.MANAGER, Role.TEACHER, Role.STUDENT})


class User(AbstractUser):
    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, default=Role.STUDENT,
        help_text=_("What this person does in the spaces; decides what they may do."),
    )
    school = models.ForeignKey(
        "spaces.School", verbose_name=_("school"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="users",
        help_text=_("Required for managers, teachers and students; empty for the Union and mentors."),
    )
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    feed_token = models.CharField(
        _("calendar feed token"), max_length=64, unique=True, default=new_feed_token,
        editable=False, help_text=_("Secret part of the private iCal feed address."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.full_name or self.username

    def clean(self) -> None:
        super().clean()
        if self.role in SCHOOL_ROLES and self.school_id is None:
            raise ValidationError({"school": _("Managers, teachers and students belong to a school.")})
        if self.role not in SCHOOL_ROLES and self.school_id is not None:
            raise ValidationError({"school": _("Union officers and mentors do not belong to a school.")})

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Managers keep their school's records in the admin.
        if self.role == Role.MANAGER:
            self.is_staff = True
        super().save(*args, **kwargs)

    def reset_feed_token(self) -> str:
        self.feed_token = new_feed_token()
        self.save(update_fields=["feed_token"])
        return self.feed_token

    @property
    def is_union(self) -> bool:
        return self.role == Role.UNION or self.is_superuser

    def manages_school(self, school_id: int | None) -> bool:
        """True for admins, and for managers of that school."""
        if self.is_superuser:
            return True
        return self.role == Role.MANAGER and school_id is not None and self.school_id == school_id


class Certification(models.Model):
    """A manager's word that a person may use the machines of one category."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.PROTECT,
        related_name="certifications",
    )
    category = models.ForeignKey(
        "spaces.EquipmentCategory", verbose_name=_("equipment category"),
        on_delete=models.PROTECT, related_name="certifications",
    )
    certified_on = models.DateField(_("certified on"), default=timezone.localdate)
    certified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("certified by"), on_delete=models.PROTECT,
        related_name="certifications_given",
    )
    expires_on = models.DateField(
        _("expires on"), null=True, blank=True, help_text=_("Leave empty if it does not expire."),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    notes = models.CharField(_("notes"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["-certified_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=True)
                | models.Q(expires_on__gte=models.F("certified_on")),
                name="certification_expires_after_certified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.category}"

    def is_valid_on(self, day: Any) -> bool:
        return (
            self.revoked_at is None
            and self.certified_on <= day
            and (self.expires_on is None or self.expires_on >= day)
        )


class AuditEntry(models.Model):
    """Who changed what, when: written by the services, never edited."""

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    action = models.CharField(_("action"), max_length=64)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    target = GenericForeignKey("content_type", "object_id")
    school_id = models.BigIntegerField(_("school"), null=True, blank=True, db_index=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.action}"
