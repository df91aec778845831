"""Bookings, series, closures and availability: thin views over bookings.services."""

from __future__ import annotations

import datetime
from typing import Any

import django_filters as filters
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import AuditEntry, Role
from api import booking_serializers as bs
from api.filters import MeOrIdFilter
from api.permissions import ReadAnyoneWriteManager, sees_all_schools
from api.views import caller
from bookings import services
from bookings.models import Booking, BookingKind, BookingStatus, Closure, Series
from bookings.selectors import visible_bookings
from spaces.models import School, Space


class BookingFilter(filters.FilterSet):
    space = filters.ModelChoiceFilter(queryset=Space.objects.all())
    school = filters.ModelChoiceFilter(queryset=School.objects.all())
    status = filters.ChoiceFilter(choices=BookingStatus.choices)
    kind = filters.ChoiceFilter(choices=BookingKind.choices)
    organizer = MeOrIdFilter(field_name="organizer")
    start_after = filters.IsoDateTimeFilter(field_name="start", lookup_expr="gte")
    end_before = filters.IsoDateTimeFilter(method="filter_end_before")
    series = filters.ModelChoiceFilter(queryset=Series.objects.all())

    class Meta:
        model = Booking
        fields = ["space", "school", "status", "kind", "organizer", "start_after", "end_before",
                  "series"]

    def filter_end_before(self, bookings: QuerySet[Booking], name: str,
                          value: datetime.datetime) -> QuerySet[Booking]:
        # start < end_before follows from end <= end_before; saying it lets the
        # (space, start) index stop at the window instead of reading the space's future.
        return bookings.filter(end__lte=value, start__lt=value)


class BookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = bs.BookingSerializer
    permission_classes = [IsAuthenticated]
    filterset_class = BookingFilter

    def get_queryset(self) -> QuerySet[Booking]:
        if getattr(self, "swagger_fake_view", False):
            return Booking.objects.none()
        return (visible_bookings(caller(self.request))
                .prefetch_related("equipment_items").order_by("start", "id"))

    def output(self, booking: Booking, code: int = status.HTTP_200_OK) -> Response:
        booking = Booking.objects.prefetch_related("equipment_items").get(pk=booking.pk)
        return Response(bs.BookingSerializer(booking).data, status=code)

    @extend_schema(request=bs.BookingWriteSerializer, responses={201: bs.BookingSerializer})
    def create(self, request: Request) -> Response:
        data = bs.BookingWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        booking = services.booking_create(actor=caller(request), **values)
        return self.output(booking, status.HTTP_201_CREATED)

    @extend_schema(request=bs.BookingUpdateSerializer, responses=bs.BookingSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        booking = self.get_object()
        data = bs.BookingUpdateSerializer(data=request.data, context={"booking": booking})
        data.is_valid(raise_exception=True)
        booking = services.booking_update(actor=caller(request), booking=booking,
                                          **data.validated_data)
        return self.output(booking)

    def _decision(self, request: Request, service: Any) -> Response:
        booking = self.get_object()
        data = bs.ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.output(service(actor=caller(request), booking=booking,
                                   reason=data.validated_data["reason"]))

    @extend_schema(request=bs.ReasonSerializer, responses=bs.BookingSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Managers of the booking's school approve a pending booking."""
        return self._decision(request, services.booking_approve)

    @extend_schema(request=bs.ReasonSerializer, responses=bs.BookingSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Managers of the booking's school reject a pending booking, with a reason."""
        return self._decision(request, services.booking_reject)

    @extend_schema(request=bs.ReasonSerializer, responses=bs.BookingSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """The organiser or a manager cancels: the row stays, the slot is freed."""
        return self._decision(request, services.booking_cancel)

    @extend_schema(responses=bs.AuditEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Who created, changed, approved, rejected or cancelled it, and when."""
        booking = self.get_object()
        user = caller(request)
        if not (user.pk == booking.organizer_id or user.is_union
                or user.manages_school(booking.school_id)):
            return Response(status=status.HTTP_403_FORBIDDEN)
        entries = AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Booking),
            object_id=str(booking.pk)).order_by("at", "id")
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(bs.AuditEntrySerializer(page, many=True).data)


class SeriesViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = bs.SeriesSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["space"]

    def get_queryset(self) -> QuerySet[Series]:
        if getattr(self, "swagger_fake_view", False):
            return Series.objects.none()
        user = caller(self.request)
        series = Series.objects.prefetch_related(
            Prefetch("bookings", queryset=Booking.objects.order_by("start"))).order_by("-id")
        if sees_all_schools(user) or user.role == Role.MENTOR:
            return series
        return series.filter(Q(school_id=user.school_id) | Q(organizer=user))

    @extend_schema(request=bs.SeriesWriteSerializer, responses={201: bs.SeriesSerializer})
    def create(self, request: Request) -> Response:
        data = bs.SeriesWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.series_create(actor=caller(request), **data.validated_data)
        body = dict(self.get_serializer(self.get_queryset().get(pk=result.series.pk)).data)
        body["created"] = len(result.created)
        body["skipped"] = result.skipped
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=bs.SeriesUpdateSerializer, responses=bs.SeriesSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change every occurrence not changed on its own (those keep their changes)."""
        series = self.get_object()
        data = bs.SeriesUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.series_update(actor=caller(request), series=series, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=series.pk)).data)

    @extend_schema(request=bs.SeriesCancelSerializer, responses=bs.SeriesSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel the rest of the series from a day on, or all of its future."""
        series = self.get_object()
        data = bs.SeriesCancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.series_cancel(actor=caller(request), series=series,
                               from_date=data.validated_data["from_date"],
                               reason=data.validated_data["reason"])
        return Response(self.get_serializer(self.get_queryset().get(pk=series.pk)).data)


class ClosureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.DestroyModelMixin, viewsets.GenericViewSet):
    queryset = Closure.objects.order_by("start_date", "id")
    serializer_class = bs.ClosureSerializer
    permission_classes = [ReadAnyoneWriteManager]
    filterset_fields = ["school", "space", "source"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        closure, affected, cancelled = services.closure_create(
            actor=caller(request), **data.validated_data)
        body = dict(self.get_serializer(closure).data)
        body["affected_bookings"] = [
            {"id": b.pk, "title": b.title, "start": timezone.localtime(b.start).isoformat(),
             "end": timezone.localtime(b.end).isoformat()} for b in affected]
        body["cancelled"] = cancelled
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.closure_delete(actor=caller(request), closure=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
