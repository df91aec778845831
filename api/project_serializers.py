"""Shapes of projects, their logbook, milestones, awards and categories.

One serializer per resource reads and writes it (the services apply the rules).

Privacy of minors: to anonymous callers (the public showcase) a project's team is shown
as roles only, and logbook entries and attachments without who wrote or uploaded them
(`user`, `full_name`, `author`, `author_name`, `uploaded_by`, `name` and `url` are null);
attachment files are not served to them. Teachers and mentors are adults doing their job:
their names are shown. Signed-in people who may see a project see its team.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from api.serializers import StrictPrimaryKeyRelatedField
from bookings.models import Booking
from projects import services
from projects.models import (
    Award,
    LogAttachment,
    LogComment,
    LogEntry,
    MemberRole,
    Membership,
    Mentor,
    Milestone,
    Project,
    ProjectCategory,
)
from spaces.models import Equipment, School


def hide_people(serializer: serializers.Field) -> bool:
    """True when the caller is anonymous: students' names and ids are not shown."""
    request = serializer.context.get("request")
    return request is None or not request.user.is_authenticated


class ProjectCategorySerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text=_("In the caller's language."))

    class Meta:
        model = ProjectCategory
        fields = ["id", "name", "name_vi", "name_en", "year", "is_active"]
        validators: list[Any] = []  # the service names the field at fault


class ProjectMemberSerializer(serializers.Serializer):
    """Read: one person of the active team. Write: `{user, role}`."""

    user = StrictPrimaryKeyRelatedField(
        queryset=User.objects.all(), allow_null=True,
        help_text=_("A student of the project's school; null for anonymous callers."))
    full_name = serializers.CharField(source="user.full_name", read_only=True, allow_null=True)
    role = serializers.ChoiceField(choices=MemberRole.choices, default=MemberRole.MEMBER)
    joined_on = serializers.DateField(read_only=True, allow_null=True)

    def validate_user(self, value: User | None) -> User:
        if value is None:
            raise serializers.ValidationError(_("This field may not be null."))
        return value

    def to_representation(self, instance: Membership) -> dict[str, Any]:
        if hide_people(self):
            return {"user": None, "full_name": None, "role": instance.role, "joined_on": None}
        return super().to_representation(instance)


class ProjectSerializer(serializers.ModelSerializer):
    school = StrictPrimaryKeyRelatedField(
        queryset=School.objects.all(), required=False,
        help_text=_("Default: the creator's school. A project stays at its school."))
    category = StrictPrimaryKeyRelatedField(queryset=ProjectCategory.objects.all(),
                                            required=False, allow_null=True)
    category_name = serializers.CharField(source="category.name", read_only=True,
                                          allow_null=True, default=None)
    advisor = StrictPrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True,
        help_text=_("A teacher of the school. Default when a teacher starts the project: "
                    "that teacher."))
    advisor_name = serializers.CharField(source="advisor.full_name", read_only=True,
                                         allow_null=True, default=None)
    mentors = StrictPrimaryKeyRelatedField(queryset=Mentor.objects.all(), many=True,
                                           required=False)
    mentor_names = serializers.SerializerMethodField()
    members = ProjectMemberSerializer(
        many=True, required=False,
        help_text=_("The whole active team; on a change, people left out leave the team "
                    "(they stay in its history). A student who starts a project leads it."))
    max_members = serializers.IntegerField(
        required=False, min_value=1, max_value=20,
        help_text=_("Default by kind: science and engineering 3, startup 5; may only be "
                    "smaller."))
    total_hours = serializers.DecimalField(max_digits=8, decimal_places=2, read_only=True,
                                           help_text=_("Hours in the logbook."))

    class Meta:
        model = Project
        fields = ["id", "school", "title", "summary", "category", "category_name", "kind",
                  "status", "started_on", "visibility", "advisor", "advisor_name", "mentors",
                  "mentor_names", "members", "max_members", "startup_stage", "ip_status",
                  "total_hours", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {"summary": {"max_length": 5000}}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_mentor_names(self, project: Project) -> list[str]:
        return [str(mentor.user) for mentor in project.mentors.all()]

    def to_representation(self, instance: Project) -> dict[str, Any]:
        # The active team, prefetched by the view (a freshly written project is re-read).
        if not hasattr(instance, "team"):
            instance.team = list(  # type: ignore[attr-defined]
                instance.memberships.filter(left_on__isnull=True).select_related("user"))
        instance.members = instance.team  # type: ignore[attr-defined]
        return super().to_representation(instance)

    def validate_members(self, rows: list[dict[str, Any]]) -> list[services.TeamMember]:
        team = []
        for row in rows:
            if row.get("user") is None:  # possible in a PATCH, where nothing is required
                raise serializers.ValidationError(_("Name each member's user."))
            team.append(services.TeamMember(row["user"], row.get("role", MemberRole.MEMBER)))
        return team


class LogCommentSerializer(serializers.ModelSerializer):
    author_name = serializers.CharField(source="author.full_name", read_only=True)

    class Meta:
        model = LogComment
        fields = ["id", "entry", "author", "author_name", "body", "created_at"]
        read_only_fields = ["entry", "author", "created_at"]
        extra_kwargs = {"body": {"max_length": 5000}}


class LogAttachmentSerializer(serializers.ModelSerializer):
    file = serializers.FileField(
        write_only=True,
        help_text=_("Up to the size limit: JPEG, PNG, WebP, PDF, text, CSV, .docx, .xlsx; "
                    "checked by name and content."))
    name = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    uploaded_by = serializers.SerializerMethodField()

    class Meta:
        model = LogAttachment
        fields = ["id", "entry", "file", "name", "content_type", "size", "uploaded_by",
                  "uploaded_at", "url"]
        read_only_fields = ["entry", "content_type", "size", "uploaded_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_name(self, attachment: LogAttachment) -> str | None:
        return None if hide_people(self) else attachment.original_name

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_uploaded_by(self, attachment: LogAttachment) -> int | None:
        return None if hide_people(self) else attachment.uploaded_by_id

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_url(self, attachment: LogAttachment) -> str | None:
        if hide_people(self):
            return None
        path = reverse("api:project-log-attachment-download", kwargs={
            "project_pk": attachment.entry.project_id, "entry_pk": attachment.entry_id,
            "pk": attachment.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class LogEntrySerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    author_name = serializers.SerializerMethodField()
    hours = serializers.DecimalField(max_digits=4, decimal_places=2, min_value=0, max_value=24)
    body = serializers.CharField(max_length=20_000)
    equipment = StrictPrimaryKeyRelatedField(queryset=Equipment.objects.all(), many=True,
                                             required=False,
                                             help_text=_("Equipment of the school used."))
    booking = StrictPrimaryKeyRelatedField(
        queryset=Booking.objects.all(), required=False, allow_null=True,
        help_text=_("The booking the work happened in (at the project's school)."))
    attachments = LogAttachmentSerializer(many=True, read_only=True)
    comments = LogCommentSerializer(many=True, read_only=True)
    editable_until = serializers.SerializerMethodField(
        help_text=_("Its author may change it until then; afterwards it is fixed."))

    class Meta:
        model = LogEntry
        fields = ["id", "project", "author", "author_name", "date", "hours", "body",
                  "equipment", "booking", "attachments", "comments", "created_at",
                  "updated_at", "editable_until"]
        read_only_fields = ["project", "created_at", "updated_at"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_author(self, entry: LogEntry) -> int | None:
        return None if hide_people(self) else entry.author_id

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author_name(self, entry: LogEntry) -> str | None:
        return None if hide_people(self) else entry.author.full_name or entry.author.username

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_editable_until(self, entry: LogEntry) -> str:
        return serializers.DateTimeField().to_representation(services.editable_until(entry))


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "project", "title", "description", "due_on", "completed_on"]
        read_only_fields = ["project"]
        extra_kwargs = {"description": {"max_length": 5000}}


class AwardSerializer(serializers.ModelSerializer):
    class Meta:
        model = Award
        fields = ["id", "project", "competition", "level", "year", "result"]
        read_only_fields = ["project"]

