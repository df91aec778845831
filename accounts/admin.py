"""Admin for people, certifications and the audit trail (see spaces/admin.py for the scoping)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEntry, Certification, User
from spaces import services
from spaces.admin import SchoolScopedAdmin, SchoolScopedMixin, ServiceAdmin
from spaces.errors import DomainError


@admin.register(User)
class UserAdmin(SchoolScopedMixin, BaseUserAdmin):
    """Superusers manage accounts; a manager looks up the people of their school."""

    manager_permissions = frozenset({"view"})
    list_display = ("username", "full_name", "email", "role", "school", "is_active", "is_staff")
    list_filter = ("role", ("school", admin.RelatedOnlyFieldListFilter), "is_active",
                   "is_staff", "is_superuser")
    list_select_related = ("school",)
    search_fields = ("username", "full_name", "first_name", "last_name", "email")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("full_name", "first_name", "last_name", "email")}),
        (_("Role and school"), {"fields": ("role", "school")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups",
                                       "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        (_("Person"), {"fields": ("full_name", "email", "role", "school")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None or request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return (
            (None, {"fields": ("username",)}),
            (_("Person"), {"fields": ("full_name", "email")}),
            (_("Role and school"), {"fields": ("role", "school", "is_active")}),
            (_("Important dates"), {"fields": ("last_login", "date_joined")}),
        )


@admin.register(Certification)
class CertificationAdmin(ServiceAdmin):
    """Given by services.certification_grant, withdrawn by the "Revoke" action; never edited."""

    school_path = "user__school"
    list_display = ("user", "category", "certified_on", "expires_on", "revoked_at",
                    "valid_today", "certified_by")
    list_filter = ("category", ("revoked_at", admin.EmptyFieldListFilter), "certified_on")
    list_select_related = ("user", "category", "certified_by")
    search_fields = ("user__username", "user__full_name", "category__name", "notes")
    autocomplete_fields = ("user",)
    actions = ("revoke",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ("user", "category", "certified_on", "expires_on", "notes")
        return fields if obj is None else (*fields, "certified_by", "revoked_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request)

    @admin.display(description=_("valid today"), boolean=True)
    def valid_today(self, obj: Certification) -> bool:
        return obj.is_valid_on(timezone.localdate())

    def save_model(self, request: HttpRequest, obj: Certification, form: Any, change: bool
                   ) -> None:
        data = form.cleaned_data
        actor: Any = request.user
        saved = services.certification_grant(
            actor=actor, user=data["user"], category=data["category"],
            certified_on=data["certified_on"], expires_on=data["expires_on"],
            notes=data["notes"])
        self.copy_saved(saved, obj)

    @admin.action(description=_("Revoke selected certifications"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Certification]) -> None:
        done, errors = 0, []
        actor: Any = request.user
        for certification in queryset.select_related("user"):
            try:
                services.certification_revoke(actor=actor, certification=certification)
                done += 1
            except DomainError as error:
                errors.append(f"{certification}: {error.message}")
        self.report(request, done, errors, gettext("%(count)d certification(s) revoked."))


@admin.register(AuditEntry)
class AuditEntryAdmin(SchoolScopedAdmin):
    """The trail is written by the services only: nobody adds, edits or deletes it here."""

    school_path = "school_id"
    manager_permissions = frozenset({"view"})
    list_display = ("at", "actor", "action", "content_type", "object_id", "school_id")
    list_filter = ("content_type",)
    list_select_related = ("actor", "content_type")
    search_fields = ("action", "object_id", "actor__username")
    date_hierarchy = "at"
    fields = ("at", "actor", "action", "content_type", "object_id", "school_id", "details")
    readonly_fields = fields

    @admin.display(description=_("details"))
    def details(self, obj: AuditEntry) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.data, ensure_ascii=False, indent=2))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
