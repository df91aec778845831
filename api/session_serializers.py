"""Shapes of mentors and mentor sessions. Rules live in projects.sessions."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from api.booking_serializers import TimeOrPeriodsMixin
from api.serializers import StrictPrimaryKeyRelatedField
from projects.models import Mentor, MentorSession, Project, Registration, SessionKind
from projects.sessions import EXPERTISE_MAX_AREAS, EXPERTISE_MAX_LENGTH, may_manage
from spaces.models import Space

# --- mentors ---------------------------------------------------------------------------------


class MentorSerializer(serializers.ModelSerializer):
    full_name = serializers.SerializerMethodField()

    class Meta:
        model = Mentor
        fields = ["id", "user", "full_name", "organization", "expertise", "bio"]
        read_only_fields = fields

    def get_full_name(self, mentor: Mentor) -> str:
        return str(mentor.user)


def _expertise(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=EXPERTISE_MAX_LENGTH),
        max_length=EXPERTISE_MAX_AREAS, help_text=_("Areas, e.g. [\"IoT\", \"trademarks\"]."),
        **kwargs)


class MentorUpdateSerializer(serializers.Serializer):
    organization = serializers.CharField(max_length=200, required=False, allow_blank=True)
    expertise = _expertise(required=False)
    bio = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class MentorCreateSerializer(MentorUpdateSerializer):
    user = StrictPrimaryKeyRelatedField(queryset=User.objects.all(),
                                        help_text=_("A user with the mentor role."))
    expertise = _expertise(required=False, default=list)


# --- sessions --------------------------------------------------------------------------------

class RegistrationSerializer(serializers.ModelSerializer):
    student_name = serializers.CharField(source="student", read_only=True)
    comment = serializers.CharField(source="feedback", read_only=True)

    class Meta:
        model = Registration
        fields = ["id", "student", "student_name", "registered_at", "attended", "rating",
                  "comment"]
        read_only_fields = fields


class AttendanceCountSerializer(serializers.Serializer):
    registered = serializers.IntegerField()
    attended = serializers.IntegerField()
    places_left = serializers.IntegerField()
    ratings = serializers.IntegerField(help_text=_("How many attendees rated the session."))
    average_rating = serializers.FloatField(allow_null=True)


class MentorSessionSerializer(serializers.ModelSerializer):
    """`registrations` lists every registered student for the mentor, managers of the
    school and the Union; a student sees only their own; `notes` are the mentor's, shown to
    the same people (null for others)."""

    mentor_name = serializers.CharField(source="mentor.user", read_only=True)
    space = serializers.IntegerField(source="booking.space_id", read_only=True)
    start = serializers.DateTimeField(source="booking.start", read_only=True)
    end = serializers.DateTimeField(source="booking.end", read_only=True)
    status = serializers.CharField(source="booking.status", read_only=True)
    attendance = serializers.SerializerMethodField()
    registrations = serializers.SerializerMethodField()
    is_registered = serializers.SerializerMethodField()
    notes = serializers.SerializerMethodField()

    class Meta:
        model = MentorSession
        fields = ["id", "mentor", "mentor_name", "space", "school", "start", "end", "booking",
                  "status", "topic", "description", "kind", "projects", "capacity",
                  "attendance", "is_registered", "registrations", "notes", "created_at",
                  "updated_at"]
        read_only_fields = fields

    def _user(self) -> User | None:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None

    def _shown(self, session: MentorSession) -> list[Registration]:
        # Prefetched by the view (projects.selectors.sessions_for): the caller's share.
        return list(getattr(session, "shown_registrations", []))

    @extend_schema_field(AttendanceCountSerializer)
    def get_attendance(self, session: MentorSession) -> dict[str, Any]:
        registered = int(getattr(session, "registered_count", 0) or 0)
        average = getattr(session, "average_rating", None)
        return {"registered": registered,
                "attended": int(getattr(session, "attended_count", 0) or 0),
                "places_left": max(session.capacity - registered, 0),
                "ratings": int(getattr(session, "rating_count", 0) or 0),
                "average_rating": round(float(average), 2) if average is not None else None}

    @extend_schema_field(RegistrationSerializer(many=True))
    def get_registrations(self, session: MentorSession) -> list[dict[str, Any]]:
        return list(RegistrationSerializer(self._shown(session), many=True).data)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_registered(self, session: MentorSession) -> bool:
        user = self._user()
        return user is not None and any(row.student_id == user.pk for row in self._shown(session))

    # null for those who may not read them (the schema said a string: found by make test-fuzz).
    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_notes(self, session: MentorSession) -> str | None:
        user = self._user()
        return session.notes if user is not None and may_manage(user, session) else None


class SessionCreateSerializer(TimeOrPeriodsMixin):
    space = StrictPrimaryKeyRelatedField(queryset=Space.objects.all())
    mentor = StrictPrimaryKeyRelatedField(
        queryset=Mentor.objects.select_related("user"), required=False, allow_null=True,
        default=None,
        help_text=_("Required when the Union or a manager creates it; a mentor creates "
                    "their own."))
    topic = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True,
                                        default="")
    kind = serializers.ChoiceField(choices=SessionKind.choices, default=SessionKind.MENTORING)
    capacity = serializers.IntegerField(min_value=1, max_value=10_000, default=30)
    projects = StrictPrimaryKeyRelatedField(queryset=Project.objects.all(), many=True,
                                            required=False, default=list)
    notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True,
                                  default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return self.resolve_time(attrs, attrs["space"].school_id)


class SessionUpdateSerializer(TimeOrPeriodsMixin):
    topic = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    kind = serializers.ChoiceField(choices=SessionKind.choices, required=False)
    capacity = serializers.IntegerField(min_value=1, max_value=10_000, required=False)
    projects = StrictPrimaryKeyRelatedField(queryset=Project.objects.all(), many=True,
                                            required=False)
    notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        session: MentorSession = self.context["session"]
        return self.resolve_time(attrs, session.school_id, required=False)


class RegisterSerializer(serializers.Serializer):
    student = StrictPrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, default=None,
        help_text=_("Who gets the place; yourself when empty (the mentor, managers and the "
                    "Union may register a student)."))


class AttendanceRowSerializer(serializers.Serializer):
    student = serializers.IntegerField(min_value=1)
    attended = serializers.BooleanField()


class AttendanceSerializer(serializers.Serializer):
    """Either everyone who came (`attended`: the rest of the registered were absent), or
    some registrations one by one."""

    attended = serializers.ListField(child=serializers.IntegerField(min_value=1),
                                     required=False, max_length=10_000,
                                     help_text=_("Ids of the students who came."))
    registrations = AttendanceRowSerializer(many=True, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("attended" in attrs) == ("registrations" in attrs):
            raise serializers.ValidationError(
                {"attended": [_("Give either attended (a list of student ids) or "
                                "registrations, not both.")]})
        if "attended" in attrs:
            return {"attended": dict.fromkeys(attrs["attended"], True), "complete": True}
        rows = attrs["registrations"]
        if len({row["student"] for row in rows}) != len(rows):
            raise serializers.ValidationError({"registrations": [_("List each student once.")]})
        return {"attended": {row["student"]: row["attended"] for row in rows},
                "complete": False}


class FeedbackSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                    default="")
