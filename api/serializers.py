"""Input and output shapes. Serializers validate types; the services apply the rules."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Certification, User
from spaces.models import (
    Equipment,
    EquipmentCategory,
    EquipmentStatus,
    Loan,
    MaintenanceRecord,
    OpeningHours,
    Period,
    School,
    Space,
)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id that refuses booleans (which Python would take as 0 and 1)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("username"), max_length=150)
    password = serializers.CharField(label=_("password"), max_length=128,
                                     style={"input_type": "password"}, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class MeSerializer(serializers.ModelSerializer):
    ical_url = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "role", "school", "ical_url"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_ical_url(self, user: User) -> str:
        path = f"/ical/users/{user.feed_token}.ics"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "full_name", "role", "school"]


class SchoolSerializer(serializers.ModelSerializer):
    class Meta:
        model = School
        fields = ["id", "name", "slug", "district", "address"]


class OpeningHoursSerializer(serializers.ModelSerializer):
    class Meta:
        model = OpeningHours
        fields = ["weekday", "opens", "closes"]


class SpaceRulesSerializer(serializers.ModelSerializer):
    class Meta:
        model = Space
        fields = ["min_duration_minutes", "max_duration_minutes", "max_days_ahead",
                  "min_notice_minutes", "student_bookings_need_approval"]


class SpaceSerializer(serializers.ModelSerializer):
    school = StrictPrimaryKeyRelatedField(queryset=School.objects.all())
    opening_hours = OpeningHoursSerializer(many=True, required=False,
                                           help_text=_("Replaces the whole week when given."))
    rules = SpaceRulesSerializer(source="*", required=False)

    class Meta:
        model = Space
        fields = ["id", "school", "name", "kind", "capacity", "description", "is_active",
                  "opening_hours", "rules"]
        validators: list[Any] = []  # the service names the field at fault


class PeriodSerializer(serializers.ModelSerializer):
    school = StrictPrimaryKeyRelatedField(queryset=School.objects.all())

    class Meta:
        model = Period
        fields = ["id", "school", "weekday", "number", "session", "start", "end"]
        # Uniqueness is the service's to check, with a clear message.
        validators: list[Any] = []


class EquipmentCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = EquipmentCategory
        fields = ["id", "name", "requires_certification", "description"]


class EquipmentSerializer(serializers.ModelSerializer):
    space = StrictPrimaryKeyRelatedField(queryset=Space.objects.all())
    category = StrictPrimaryKeyRelatedField(queryset=EquipmentCategory.objects.all())
    school = serializers.IntegerField(source="space.school_id", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    available_quantity = serializers.SerializerMethodField()
    requires_certification = serializers.BooleanField(
        source="category.requires_certification", read_only=True)
    is_low_stock = serializers.BooleanField(read_only=True)
    asset_tag = serializers.CharField(max_length=64, required=False, allow_null=True,
                                      allow_blank=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Equipment
        fields = ["id", "space", "school", "name", "category", "category_name", "kind",
                  "asset_tag", "serial_number", "quantity", "available_quantity", "unit",
                  "status", "requires_certification", "is_consumable", "low_stock_threshold",
                  "is_low_stock", "purchase_date", "cost_vnd", "funding_source",
                  "last_audit_on", "notes", "url"]

    @extend_schema_field(OpenApiTypes.INT)
    def get_available_quantity(self, equipment: Equipment) -> int:
        """Owned minus the most units on loan or reserved at once in the asked window."""
        in_use = self.context.get("in_use", {})
        if equipment.pk in in_use:
            if equipment.status != EquipmentStatus.AVAILABLE:
                return 0
            return max(equipment.quantity - in_use[equipment.pk], 0)
        available = getattr(equipment, "available", None)
        if available is None:  # not annotated: a freshly written item
            annotated = Equipment.objects.with_availability().get(pk=equipment.pk)
            available = annotated.available  # type: ignore[attr-defined]
        return max(int(available), 0)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, equipment: Equipment) -> str:
        path = reverse("equipment-detail", args=[equipment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class MaintenanceRecordSerializer(serializers.ModelSerializer):
    performed_by: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True)

    class Meta:
        model = MaintenanceRecord
        fields = ["id", "equipment", "kind", "performed_on", "performed_by", "description",
                  "cost_vnd", "created_at"]
        read_only_fields = ["equipment", "created_at"]


class LoanSerializer(serializers.ModelSerializer):
    is_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Loan
        fields = ["id", "equipment", "borrower", "quantity", "checked_out_at", "due_at",
                  "returned_at", "return_condition", "lent_by", "returned_to", "notes",
                  "is_overdue"]
        read_only_fields = fields


class LoanCreateSerializer(serializers.Serializer):
    equipment = StrictPrimaryKeyRelatedField(
        queryset=Equipment.objects.select_related("space", "category"))
    borrower = StrictPrimaryKeyRelatedField(queryset=User.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
    due_at = serializers.DateTimeField()
    notes = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class LoanReturnSerializer(serializers.Serializer):
    condition = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                      default="", help_text=_("The state it came back in."))


class CertificationSerializer(serializers.ModelSerializer):
    user = StrictPrimaryKeyRelatedField(queryset=User.objects.all())
    category = StrictPrimaryKeyRelatedField(queryset=EquipmentCategory.objects.all())
    is_current = serializers.SerializerMethodField()

    class Meta:
        model = Certification
        fields = ["id", "user", "category", "certified_on", "certified_by", "expires_on",
                  "revoked_at", "notes", "is_current"]
        read_only_fields = ["certified_by", "revoked_at"]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_current(self, cert: Certification) -> bool:
        return cert.is_valid_on(timezone.localdate())
