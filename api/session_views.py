"""Mentors and mentor sessions: thin views over projects.sessions."""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from api import session_serializers as ss
from api.booking_serializers import ReasonSerializer
from api.views import caller
from projects import sessions as services
from projects.models import Mentor, MentorSession, SessionKind
from projects.selectors import sessions_for
from spaces.models import School, Space

# --- mentors ---------------------------------------------------------------------------------


class ReadAnyoneWriteUnion(BasePermission):
    """Public reads; writes by the Union (and admins). The service checks it again."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_union)


class MentorFilter(filters.FilterSet):
    expertise = filters.CharFilter(method="filter_expertise", max_length=100,
                                   label=_("an area of expertise contains"))

    class Meta:
        model = Mentor
        fields = ["expertise"]

    def filter_expertise(self, qs: QuerySet[Mentor], name: str, value: str) -> QuerySet[Mentor]:
        # Matched in Python: the JSON text differs by database (SQLite keeps non-ASCII as
        # \u escapes, so "nhãn hiệu" is not in it; jsonb containment is PostgreSQL's only),
        # and mentors are few (one query over two columns).
        ids = [pk for pk, areas in Mentor.objects.values_list("pk", "expertise")
               if isinstance(areas, list) and services.expertise_matches(areas, value)]
        return qs.filter(pk__in=ids)


class MentorViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The Department's experts. Anyone reads; the Union adds and edits profiles."""

    serializer_class = ss.MentorSerializer
    permission_classes = [ReadAnyoneWriteUnion]
    filterset_class = MentorFilter

    def get_queryset(self) -> QuerySet[Mentor]:
        mentors = Mentor.objects.select_related("user").order_by("user__full_name", "id")
        user = self.request.user
        if user.is_authenticated and getattr(user, "is_union", False):
            return mentors
        return mentors.filter(user__is_active=True)

    @extend_schema(request=ss.MentorCreateSerializer, responses={201: ss.MentorSerializer})
    def create(self, request: Request) -> Response:
        """Give a user of role mentor their mentor profile."""
        data = ss.MentorCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        mentor = services.mentor_profile_save(actor=caller(request), **data.validated_data)
        return Response(ss.MentorSerializer(self.get_queryset().get(pk=mentor.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=ss.MentorUpdateSerializer, responses=ss.MentorSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        mentor = self.get_object()
        data = ss.MentorUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.mentor_profile_save(actor=caller(request), mentor=mentor, **data.validated_data)
        return Response(ss.MentorSerializer(self.get_queryset().get(pk=mentor.pk)).data)


# --- sessions --------------------------------------------------------------------------------

class MentorSessionFilter(filters.FilterSet):
    mentor = filters.ModelChoiceFilter(queryset=Mentor.objects.all())
    school = filters.ModelChoiceFilter(queryset=School.objects.all())
    space = filters.ModelChoiceFilter(field_name="booking__space", queryset=Space.objects.all())
    kind = filters.ChoiceFilter(choices=SessionKind.choices)
    start_after = filters.IsoDateTimeFilter(field_name="booking__start", lookup_expr="gte")
    end_before = filters.IsoDateTimeFilter(field_name="booking__end", lookup_expr="lte")

    class Meta:
        model = MentorSession
        fields = ["mentor", "school", "space", "kind", "start_after", "end_before"]


class MentorSessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """Mentor and training sessions. Signed-in people read them all; the Union, the mentor
    and managers of the school change them (projects.sessions says who may do what)."""

    serializer_class = ss.MentorSessionSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = MentorSessionFilter

    def get_queryset(self) -> QuerySet[MentorSession]:
        if getattr(self, "swagger_fake_view", False):
            return MentorSession.objects.none()
        return sessions_for(caller(self.request))

    def output(self, session: MentorSession, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=session.pk)).data,
                        status=code)

    @extend_schema(request=ss.SessionCreateSerializer, responses={201: ss.MentorSessionSerializer})
    def create(self, request: Request) -> Response:
        """Create a session and, in the same transaction, its booking (409 if the room or
        the mentor is taken then: nothing is written)."""
        services.ensure_may_create_sessions(caller(request))
        data = ss.SessionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_create(actor=caller(request), **data.validated_data)
        return self.output(session, status.HTTP_201_CREATED)

    @extend_schema(request=ss.SessionUpdateSerializer, responses=ss.MentorSessionSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change the topic, notes, places or time (a new time moves the booking)."""
        session = self.get_object()
        services.ensure_may_manage(caller(request), session)
        data = ss.SessionUpdateSerializer(data=request.data, context={"session": session})
        data.is_valid(raise_exception=True)
        services.session_update(actor=caller(request), session=session, **data.validated_data)
        return self.output(session)

    @extend_schema(request=ReasonSerializer, responses=ss.MentorSessionSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the session and free its room; registered students are told."""
        session = self.get_object()
        services.ensure_may_manage(caller(request), session)
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.session_cancel(actor=caller(request), session=session,
                                reason=data.validated_data["reason"])
        return self.output(session)

    @extend_schema(request=ss.RegisterSerializer, responses=ss.MentorSessionSerializer)
    @action(detail=True, methods=["post"])
    def register(self, request: Request, pk: str | None = None) -> Response:
        """Take a place (students of the session's school, while places are left: 409
        when full)."""
        session = self.get_object()
        data = ss.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.register(actor=caller(request), session=session,
                          student=data.validated_data["student"])
        return self.output(session)

    @extend_schema(request=ss.RegisterSerializer, responses=ss.MentorSessionSerializer)
    @action(detail=True, methods=["post"])
    def unregister(self, request: Request, pk: str | None = None) -> Response:
        """Give the place back, before the session starts."""
        session = self.get_object()
        data = ss.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.unregister(actor=caller(request), session=session,
                            student=data.validated_data["student"])
        return self.output(session)

    @extend_schema(request=ss.AttendanceSerializer, responses=ss.MentorSessionSerializer)
    @action(detail=True, methods=["post"])
    def attendance(self, request: Request, pk: str | None = None) -> Response:
        """Record who came (the mentor or a manager of the school, once it has started)."""
        session = self.get_object()
        services.ensure_may_record_attendance(caller(request), session)
        data = ss.AttendanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.record_attendance(actor=caller(request), session=session, **data.validated_data)
        return self.output(session)

    @extend_schema(request=ss.FeedbackSerializer, responses=ss.MentorSessionSerializer)
    @action(detail=True, methods=["post"])
    def feedback(self, request: Request, pk: str | None = None) -> Response:
        """Rate the session 1–5 with a comment (students who attended, once it has ended)."""
        session = self.get_object()
        services.ensure_may_give_feedback(caller(request), session)
        data = ss.FeedbackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.leave_feedback(actor=caller(request), session=session, **data.validated_data)
        return self.output(session)
