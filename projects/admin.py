"""Admin for projects, their logbook and the fair categories (scoping as in spaces/admin.py).

A manager looks at their school's projects and logbooks; nobody edits a logbook here or
deletes anything (the data book is never erased). Teams start and run their projects
through the API; an admin may correct a project, through the same service and rules.
Categories are kept by admins here (and by the Union through the API).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet, Sum
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from projects import services
from projects.models import (
    Award,
    LogAttachment,
    LogComment,
    LogEntry,
    Membership,
    Milestone,
    Project,
    ProjectCategory,
)
from spaces.admin import SchoolScopedAdmin, ScopedInline, ServiceAdmin


class ReadOnlyInline(ScopedInline, admin.TabularInline):
    """Shown for a look; changed through the API and its services only."""

    extra = 0
    can_delete = False
    manager_permissions = frozenset({"view"})

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields or ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("user", "role", "joined_on", "left_on")


class MilestoneInline(ReadOnlyInline):
    model = Milestone
    fields = ("title", "due_on", "completed_on")


class AwardInline(ReadOnlyInline):
    model = Award
    fields = ("competition", "level", "year", "result")


@admin.register(ProjectCategory)
class ProjectCategoryAdmin(ServiceAdmin):
    school_path = None  # one list for every school
    manager_permissions = frozenset({"view"})
    list_display = ("name_vi", "name_en", "year", "is_active")
    list_filter = ("year", "is_active")
    search_fields = ("name_vi", "name_en")
    ordering = ("-year", "name_en")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # projects keep their category: retire it instead (in use: off)

    def save_model(self, request: HttpRequest, obj: ProjectCategory, form: Any, change: bool
                   ) -> None:
        actor: Any = request.user
        values = {name: form.cleaned_data[name] for name in services.CATEGORY_FIELDS
                  if name in form.cleaned_data and (not change or name in form.changed_data)}
        saved = services.category_save(actor=actor, category=obj if change else None, **values)
        self.copy_saved(saved, obj)


@admin.register(Project)
class ProjectAdmin(ServiceAdmin):
    manager_permissions = frozenset({"view"})
    list_display = ("title", "school", "kind", "status", "visibility", "category", "advisor",
                    "started_on")
    list_filter = ("kind", "status", "visibility", ("school", admin.RelatedOnlyFieldListFilter),
                   "category__year")
    list_select_related = ("school", "category", "advisor")
    search_fields = ("title", "summary")
    date_hierarchy = "started_on"
    filter_horizontal = ("mentors",)
    inlines = (MembershipInline, MilestoneInline, AwardInline)
    fieldsets = (
        (None, {"fields": ("school", "title", "summary", "category", "kind", "status",
                           "started_on", "visibility")}),
        (_("People"), {"fields": ("advisor", "mentors", "max_members")}),
        (_("Startup"), {"fields": ("startup_stage", "ip_status")}),
        (_("Record"), {"fields": ("logged_hours", "data_book", "created_at", "updated_at")}),
    )
    readonly_fields = ("school", "logged_hours", "data_book", "created_at", "updated_at")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # a project is started by its team (or teacher) through the API

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # archive it: its logbook is never erased

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any
                                 ) -> Any:
        if db_field.name == "advisor":
            kwargs["queryset"] = User.objects.filter(role=Role.TEACHER, is_active=True)
        elif db_field.name == "category":
            kwargs["queryset"] = ProjectCategory.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("hours in the logbook"))
    def logged_hours(self, obj: Project) -> Any:
        return obj.log_entries.aggregate(total=Sum("hours"))["total"] or 0

    @admin.display(description=_("data book"))
    def data_book(self, obj: Project) -> str:
        return format_html('<a href="{}" target="_blank">{}</a>',
                           reverse("project-databook", args=[obj.pk]), _("Open to print"))

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        actor: Any = request.user
        changes = {name: form.cleaned_data[name] for name in form.changed_data
                   if name in services.PROJECT_FIELDS}
        if "mentors" in form.changed_data:
            changes["mentors"] = list(form.cleaned_data["mentors"])
        saved = services.project_update(actor=actor, project=obj, **changes)
        self.copy_saved(saved, obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool
                     ) -> None:
        # The service has set the mentors (and audited it); the inlines are read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class CommentInline(ReadOnlyInline):
    model = LogComment
    parent_school_path = "project__school"
    fields = ("author", "body", "created_at")


class AttachmentInline(ReadOnlyInline):
    model = LogAttachment
    parent_school_path = "project__school"
    fields = ("original_name", "content_type", "size", "uploaded_by", "uploaded_at")


@admin.register(LogEntry)
class LogEntryAdmin(SchoolScopedAdmin):
    """The data book, to read: entries are written and changed by their authors only."""

    school_path = "project__school"
    manager_permissions = frozenset({"view"})
    list_display = ("date", "project", "author", "hours", "created_at")
    list_filter = (("project__school", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("project", "author")
    search_fields = ("body", "project__title")
    date_hierarchy = "date"
    fields = ("project", "author", "date", "hours", "body", "equipment", "booking",
              "created_at", "updated_at")
    readonly_fields = fields
    inlines = (CommentInline, AttachmentInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[LogEntry]:
        return super().get_queryset(request).select_related("project", "author")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
