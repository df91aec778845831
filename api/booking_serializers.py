"""Shapes of bookings, series and closures. Rules live in bookings.services."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers import StrictPrimaryKeyRelatedField
from bookings.models import Booking, BookingEquipment, BookingKind, Closure, Series
from bookings.services import EquipmentRequest
from spaces.models import Equipment, School, Space
from spaces.services import period_times


class ReservationSerializer(serializers.Serializer):
    equipment = StrictPrimaryKeyRelatedField(queryset=Equipment.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=10_000, default=1)


class BookingEquipmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = BookingEquipment
        fields = ["equipment", "quantity"]


class BookingSerializer(serializers.ModelSerializer):
    equipment = BookingEquipmentSerializer(source="equipment_items", many=True, read_only=True)

    class Meta:
        model = Booking
        fields = ["id", "space", "school", "title", "description", "kind", "organizer", "start",
                  "end", "status", "attendees", "equipment", "series", "recurrence_id",
                  "is_exception", "sequence", "rules_overridden", "decision_reason",
                  "cancel_reason", "created_at", "updated_at"]
        read_only_fields = fields


class TimeOrPeriodsMixin(serializers.Serializer):
    """A booking's time: `start`/`end`, or `date` with `period_from`/`period_to`."""

    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    date = serializers.DateField(required=False, write_only=True)
    period_from = serializers.IntegerField(required=False, min_value=1, max_value=20,
                                           write_only=True)
    period_to = serializers.IntegerField(required=False, min_value=1, max_value=20,
                                         write_only=True)

    def resolve_time(self, attrs: dict[str, Any], school_id: int | None,
                     required: bool = True) -> dict[str, Any]:
        by_period = {"date", "period_from", "period_to"} & set(attrs)
        if by_period:
            missing = {"date", "period_from", "period_to"} - set(attrs)
            if missing:
                raise serializers.ValidationError(
                    {name: [_("Give the date and the first and last period.")] for name in missing})
            if "start" in attrs or "end" in attrs:
                raise serializers.ValidationError(
                    {"date": [_("Give either start and end, or a date and periods, not both.")]})
            if school_id is None:
                raise serializers.ValidationError({"space": [_("This field is required.")]})
            attrs["start"], attrs["end"] = period_times(
                school_id=school_id, day=attrs.pop("date"), first=attrs.pop("period_from"),
                last=attrs.pop("period_to"))
        elif required:
            errors = {name: [_("This field is required.")] for name in ("start", "end")
                      if name not in attrs}
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class BookingWriteSerializer(TimeOrPeriodsMixin):
    space = StrictPrimaryKeyRelatedField(queryset=Space.objects.all())
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000,
                                        default="")
    kind = serializers.ChoiceField(choices=BookingKind.choices, default=BookingKind.CLASS)
    attendees = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    equipment = ReservationSerializer(many=True, required=False, default=list)
    override_rules = serializers.BooleanField(
        default=False, help_text=_("Managers only: book outside opening hours or the horizon."))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = self.resolve_time(attrs, attrs["space"].school_id)
        attrs["equipment"] = [EquipmentRequest(row["equipment"], row["quantity"])
                              for row in attrs.get("equipment", [])]
        return attrs


class BookingUpdateSerializer(TimeOrPeriodsMixin):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    kind = serializers.ChoiceField(choices=BookingKind.choices, required=False)
    attendees = serializers.IntegerField(min_value=0, max_value=10_000, required=False)
    equipment = ReservationSerializer(many=True, required=False)
    override_rules = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        booking: Booking = self.context["booking"]
        attrs = self.resolve_time(attrs, booking.school_id, required=False)
        if "equipment" in attrs:
            attrs["equipment"] = [EquipmentRequest(row["equipment"], row["quantity"])
                                  for row in attrs["equipment"]]
        return attrs


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class OccurrenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Booking
        fields = ["id", "start", "end", "status", "title", "is_exception"]


class SeriesSerializer(serializers.ModelSerializer):
    occurrences = OccurrenceSerializer(source="bookings", many=True, read_only=True)

    class Meta:
        model = Series
        fields = ["id", "space", "school", "title", "description", "kind", "organizer",
                  "attendees", "rrule", "start", "end", "sequence", "cancelled_at",
                  "occurrences"]
        read_only_fields = fields


class SeriesWriteSerializer(TimeOrPeriodsMixin):
    space = StrictPrimaryKeyRelatedField(queryset=Space.objects.all())
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000,
                                        default="")
    kind = serializers.ChoiceField(choices=BookingKind.choices, default=BookingKind.CLASS)
    attendees = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    rrule = serializers.CharField(max_length=500, help_text=_(
        "RFC 5545, e.g. FREQ=WEEKLY;BYDAY=TU;UNTIL=20270115T000000Z"))
    equipment = ReservationSerializer(many=True, required=False, default=list)
    skip_conflicts = serializers.BooleanField(default=False)
    override_rules = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = self.resolve_time(attrs, attrs["space"].school_id)
        attrs["equipment"] = [EquipmentRequest(row["equipment"], row["quantity"])
                              for row in attrs.get("equipment", [])]
        return attrs


class SeriesUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    kind = serializers.ChoiceField(choices=BookingKind.choices, required=False)
    attendees = serializers.IntegerField(min_value=0, max_value=10_000, required=False)


class SeriesCancelSerializer(serializers.Serializer):
    from_date = serializers.DateField(required=False, allow_null=True, default=None, help_text=_(
        "Cancel the occurrences from this day on; empty: every future occurrence."))
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ClosureSerializer(serializers.ModelSerializer):
    school = StrictPrimaryKeyRelatedField(queryset=School.objects.all())
    space = StrictPrimaryKeyRelatedField(queryset=Space.objects.all(), required=False,
                                         allow_null=True, default=None)
    cancel_bookings = serializers.BooleanField(
        default=False, write_only=True,
        help_text=_("Also cancel the bookings it falls on (their organisers are told)."))

    class Meta:
        model = Closure
        fields = ["id", "school", "space", "start_date", "end_date", "reason", "source",
                  "cancel_bookings"]
        read_only_fields = ["source"]


class AuditEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    action = serializers.CharField()
    details = serializers.JSONField(source="data")
