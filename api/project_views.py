"""Projects, their logbook (entries, comments, attachments), milestones, awards, categories.

Thin views over projects.services. Every queryset starts from
`services.visible_projects(caller)`, so a project the caller may not see (and all that
hangs from it) is a 404; reads of public projects are open to anyone, writes need a
signed-in caller whom the service then checks (403). Nothing here deletes but
milestones and awards.
"""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django.db.models import (
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response

from api import project_serializers as ps
from api.filters import MeOrIdFilter, parse_id
from api.views import NoDeleteModelViewSet, caller
from projects import services
from projects.models import (
    Award,
    LogAttachment,
    LogComment,
    LogEntry,
    Membership,
    Mentor,
    Milestone,
    Project,
    ProjectCategory,
    ProjectKind,
    ProjectStatus,
    Visibility,
)
from projects.uploads import max_bytes
from spaces.models import School

ID = "[0-9]+"
PROJECT_PARAM = OpenApiParameter("project_pk", OpenApiTypes.INT, OpenApiParameter.PATH,
                                 description="The project's id.")
ENTRY_PARAM = OpenApiParameter("entry_pk", OpenApiTypes.INT, OpenApiParameter.PATH,
                               description="The logbook entry's id.")


# --- categories -------------------------------------------------------------------------

class ProjectCategoryFilter(filters.FilterSet):
    class Meta:
        model = ProjectCategory
        fields = ["year", "is_active"]


class ProjectCategoryViewSet(NoDeleteModelViewSet):
    """Fair categories per school year: anyone reads them, the Union keeps them. A category
    is never deleted; `is_active: false` retires it."""

    queryset = ProjectCategory.objects.all()
    serializer_class = ps.ProjectCategorySerializer
    permission_classes = [IsAuthenticatedOrReadOnly]
    filterset_class = ProjectCategoryFilter
    lookup_value_regex = ID

    def service_create(self, data: dict[str, Any]) -> ProjectCategory:
        return services.category_save(actor=caller(self.request), **data)

    def service_update(self, instance: ProjectCategory, data: dict[str, Any]) -> ProjectCategory:
        return services.category_save(actor=caller(self.request), category=instance, **data)


# --- projects ---------------------------------------------------------------------------

class MemberFilter(MeOrIdFilter):
    """Projects whose active team includes this user (an id, or `me`)."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in (None, ""):
            return qs
        if value == "me":
            user_id = getattr(self.parent.request.user, "pk", None) if self.parent else None
        elif parse_id(value) is not None:
            user_id = parse_id(value)
        else:
            raise ValidationError({"member": [_("Give a user id or “me”.")]})
        if user_id is None:  # `me` for an anonymous caller
            return qs.none()
        return qs.filter(Exists(Membership.objects.filter(
            project=OuterRef("pk"), user_id=user_id, left_on__isnull=True)))


class ProjectFilter(filters.FilterSet):
    school = filters.ModelChoiceFilter(queryset=School.objects.all())
    status = filters.ChoiceFilter(choices=ProjectStatus.choices)
    category = filters.ModelChoiceFilter(queryset=ProjectCategory.objects.all())
    member = MemberFilter(label=gettext_lazy("on the team (a user id, or “me”)"))
    kind = filters.ChoiceFilter(choices=ProjectKind.choices)
    visibility = filters.ChoiceFilter(choices=Visibility.choices)

    class Meta:
        model = Project
        fields = ["school", "status", "category", "member", "kind", "visibility"]


def with_details(projects: QuerySet[Project]) -> QuerySet[Project]:
    """What the project serializer shows, in a fixed number of queries for any page."""
    hours = (LogEntry.objects.filter(project=OuterRef("pk")).order_by()
             .values("project").annotate(total=Sum("hours")).values("total"))
    return (projects
            .select_related("category", "advisor")
            .prefetch_related(
                Prefetch("memberships", to_attr="team",
                         queryset=Membership.objects.filter(left_on__isnull=True)
                         .select_related("user")),
                Prefetch("mentors", queryset=Mentor.objects.select_related("user")))
            .annotate(total_hours=Coalesce(
                Subquery(hours), Value(0), output_field=DecimalField(max_digits=8,
                                                                     decimal_places=2))))


class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Projects. Public ones are the showcase (anyone); private ones are seen by their team,
    advisor and mentors, managers of the school and the Union. Anonymous callers see the
    team as roles only (privacy of minors). Projects are never deleted: archive them."""

    serializer_class = ps.ProjectSerializer
    permission_classes = [IsAuthenticatedOrReadOnly]
    filterset_class = ProjectFilter
    lookup_value_regex = ID

    def get_queryset(self) -> QuerySet[Project]:
        return with_details(services.visible_projects(self.request.user))

    def output(self, project: Project, code: int = status.HTTP_200_OK) -> Response:
        # Not through the caller's visibility: whoever wrote it sees the outcome, even a
        # member who has just left the team.
        project = with_details(Project.objects.all()).get(pk=project.pk)
        return Response(self.get_serializer(project).data, status=code)

    @extend_schema(responses={201: ps.ProjectSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start a project: students of the school (they lead it), its teachers (they advise
        it unless they name another) and managers."""
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_create(actor=caller(request), **data.validated_data)
        return self.output(project, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The team and the advisor change the project; `members` replaces the active team."""
        project = self.get_object()
        data = self.get_serializer(project, data=request.data,
                                   partial=kwargs.pop("partial", False))
        data.is_valid(raise_exception=True)
        return self.output(services.project_update(actor=caller(request), project=project,
                                                   **data.validated_data))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


# --- what hangs from a project ------------------------------------------------------------

class ProjectChildMixin(viewsets.GenericViewSet):
    """Resources of one project: 404 unless the caller may see the project."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    lookup_value_regex = ID

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Before the body is looked at: a project the caller may not see does not exist for
        # them, whatever they send (404, never a 400 that tells it is there).
        if not self.fake():
            self.get_project()

    def get_project(self) -> Project:
        if not hasattr(self, "_project"):
            self._project = get_object_or_404(
                services.visible_projects(self.request.user).select_related("school"),
                pk=self.kwargs["project_pk"])
        return self._project

    def fake(self) -> bool:
        """Schema generation calls get_queryset without a request's ids."""
        return getattr(self, "swagger_fake_view", False)


@extend_schema(parameters=[PROJECT_PARAM])
class LogEntryViewSet(ProjectChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """The project's logbook (its data book), oldest first. Members add entries; an entry's
    author may change it for 7 days after writing it, then it is fixed. Never deleted."""

    serializer_class = ps.LogEntrySerializer

    def get_queryset(self) -> QuerySet[LogEntry]:
        if self.fake():
            return LogEntry.objects.none()
        return (LogEntry.objects.filter(project=self.get_project())
                .select_related("author")
                .prefetch_related(
                    "equipment",
                    Prefetch("attachments", queryset=LogAttachment.objects.order_by(
                        "uploaded_at", "id")),
                    Prefetch("comments", queryset=LogComment.objects.select_related("author")))
                .order_by("date", "id"))

    def output(self, entry: LogEntry, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=entry.pk)).data,
                        status=code)

    @extend_schema(responses={201: ps.LogEntrySerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.log_entry_create(actor=caller(request), project=self.get_project(),
                                          **data.validated_data)
        return self.output(entry, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entry = self.get_object()
        data = self.get_serializer(entry, data=request.data, partial=kwargs.pop("partial", False))
        data.is_valid(raise_exception=True)
        return self.output(services.log_entry_update(actor=caller(request), entry=entry,
                                                     **data.validated_data))

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)


class EntryChildMixin(ProjectChildMixin):
    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not self.fake():
            self.get_entry()

    def get_entry(self) -> LogEntry:
        if not hasattr(self, "_entry"):
            self._entry = get_object_or_404(
                LogEntry.objects.select_related("project"), project=self.get_project(),
                pk=self.kwargs["entry_pk"])
        return self._entry


@extend_schema(parameters=[PROJECT_PARAM, ENTRY_PARAM])
class LogCommentViewSet(EntryChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Comments on a logbook entry: the advisor and the project's mentors write them."""

    serializer_class = ps.LogCommentSerializer

    def get_queryset(self) -> QuerySet[LogComment]:
        if self.fake():
            return LogComment.objects.none()
        return LogComment.objects.filter(entry=self.get_entry()).select_related("author")

    @extend_schema(responses={201: ps.LogCommentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.log_comment_create(actor=caller(request), entry=self.get_entry(),
                                              body=data.validated_data["body"])
        return Response(self.get_serializer(comment).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[PROJECT_PARAM, ENTRY_PARAM])
class LogAttachmentViewSet(EntryChildMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """Files of a logbook entry (multipart `file`): members add them while the entry is open
    for changes. Photos, PDF, text/CSV, .docx and .xlsx up to the size limit, checked by
    name and content. `file/` downloads one (signed-in callers who may see the project)."""

    serializer_class = ps.LogAttachmentSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[LogAttachment]:
        if self.fake():
            return LogAttachment.objects.none()
        return (LogAttachment.objects.filter(entry=self.get_entry()).select_related("entry")
                .order_by("uploaded_at", "id"))

    @extend_schema(responses={201: ps.LogAttachmentSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        entry = self.get_entry()
        # Refuse an obviously oversized body before it is read, let alone parsed.
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isascii() and length.isdigit() and int(length) > max_bytes() + 64 * 1024:
            raise ValidationError({"file": [_("The file is larger than %(size)d MB.")
                                            % {"size": max_bytes() // (1024 * 1024)}]})
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.attachment_add(actor=caller(request), entry=entry,
                                             upload=data.validated_data["file"])
        return Response(self.get_serializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY,
                              401: OpenApiResponse(description="Anonymous callers")})
    @action(detail=True, methods=["get"], url_path="file", url_name="download")
    def download(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        """The file itself, under the name it was uploaded with (cleaned)."""
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        attachment = self.get_object()
        inline = attachment.content_type.startswith("image/")
        return FileResponse(attachment.file.open("rb"), as_attachment=not inline,
                            filename=attachment.original_name,
                            content_type=attachment.content_type)


class ProjectRecordViewSet(ProjectChildMixin, mixins.ListModelMixin,
                           mixins.RetrieveModelMixin):
    """Milestones and awards: the team and the advisor write and delete them (audited)."""

    save_service: Any  # e.g. services.milestone_save
    delete_service: Any
    field_name: str  # the services' name for the object: "milestone", "award"

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = type(self).save_service(actor=caller(request), project=self.get_project(),
                                        **data.validated_data)
        return Response(self.get_serializer(saved).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        data = self.get_serializer(instance, data=request.data,
                                   partial=kwargs.pop("partial", False))
        data.is_valid(raise_exception=True)
        saved = type(self).save_service(actor=caller(request), project=self.get_project(),
                                        **{self.field_name: instance}, **data.validated_data)
        return Response(self.get_serializer(saved).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        instance.project = self.get_project()
        type(self).delete_service(actor=caller(request), **{self.field_name: instance})
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(parameters=[PROJECT_PARAM])
class MilestoneViewSet(ProjectRecordViewSet):
    """The project's milestones, by due date."""

    serializer_class = ps.MilestoneSerializer
    save_service = services.milestone_save
    delete_service = services.milestone_delete
    field_name = "milestone"

    def get_queryset(self) -> QuerySet[Milestone]:
        if self.fake():
            return Milestone.objects.none()
        return Milestone.objects.filter(project=self.get_project())


@extend_schema(parameters=[PROJECT_PARAM])
class AwardViewSet(ProjectRecordViewSet):
    """The project's awards (competition, level, year, result), newest first."""

    serializer_class = ps.AwardSerializer
    save_service = services.award_save
    delete_service = services.award_delete
    field_name = "award"

    def get_queryset(self) -> QuerySet[Award]:
        if self.fake():
            return Award.objects.none()
        return Award.objects.filter(project=self.get_project())
