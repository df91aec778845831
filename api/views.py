"""Thin viewsets: validate input, call the service, serialise the result."""

from __future__ import annotations

import datetime
from typing import Any, cast

from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, Throttled, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.audit import log_action
from accounts.models import Certification, Role, User
from api import filters, serializers
from api.authentication import token_expired
from api.permissions import (
    ReadAnyoneWriteManager,
    ReadAnyoneWriteSuperuser,
    SignedInWriteManager,
    sees_all_schools,
)
from bookings.availability import space_availability
from spaces import services
from spaces.availability import peak_use
from spaces.models import (
    Equipment,
    EquipmentCategory,
    Loan,
    Period,
    School,
    Space,
)


def caller(request: Request) -> User:
    """The signed-in user (permission classes have already turned anonymous callers away)."""
    return cast(User, request.user)


class TokenView(APIView):
    """Trade a username and password for an API token (POST), valid for API_TOKEN_TTL_DAYS;
    asking again gives the same token until it expires, then a new one. DELETE revokes the
    caller's token (signing out an app or a lost phone)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def signing_in(self) -> bool:
        return getattr(getattr(self, "request", None), "method", "") == "POST"

    def get_authenticators(self) -> list[Any]:
        # A sign-in needs no credentials but the password: an expired token sent along by
        # habit must not turn it into a 401.
        return [] if self.signing_in() else super().get_authenticators()

    def get_permissions(self) -> list[Any]:
        return [AllowAny()] if self.signing_in() else [IsAuthenticated()]

    @extend_schema(request=serializers.TokenRequestSerializer,
                   responses={200: serializers.TokenResponseSerializer,
                              400: OpenApiResponse(description="Wrong username or password")})
    def post(self, request: Request) -> Response:
        data = serializers.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request._request, username=data.validated_data["username"],
                            password=data.validated_data["password"])
        if getattr(request._request, "axes_locked_out", False):
            raise Throttled(detail=_("Too many failed attempts; try again later."))
        if user is None:
            raise ValidationError(
                {"non_field_errors": [_("Wrong username or password.")]})
        with transaction.atomic():
            token = Token.objects.select_for_update().filter(user=user).first()
            if token is not None and token_expired(token):
                token.delete()
                token = None
            if token is None:
                token = Token.objects.create(user=user)
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        Token.objects.filter(user=caller(request)).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=serializers.MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(serializers.MeSerializer(request.user, context={"request": request}).data)


class AvailabilityQuery(drf_serializers.Serializer):
    start = drf_serializers.DateTimeField()
    end = drf_serializers.DateTimeField()


class IntervalSerializer(drf_serializers.Serializer):
    start = drf_serializers.DateTimeField()
    end = drf_serializers.DateTimeField()


class AvailabilitySerializer(drf_serializers.Serializer):
    space = drf_serializers.IntegerField()
    busy = IntervalSerializer(many=True)
    free = IntervalSerializer(many=True)


class EquipmentWindowQuery(drf_serializers.Serializer):
    at = drf_serializers.DateTimeField(required=False)
    start = drf_serializers.DateTimeField(required=False)
    end = drf_serializers.DateTimeField(required=False)


class ResetFeedTokenView(APIView):
    """Make a new private calendar address; the old one stops working at once."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=serializers.MeSerializer)
    def post(self, request: Request) -> Response:
        user = caller(request)
        user.reset_feed_token()
        log_action(user, "user.feed_token_reset", actor=user, school_id=user.school_id)
        return Response(serializers.MeSerializer(user, context={"request": request}).data)


class NoDeleteModelViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                           mixins.UpdateModelMixin, mixins.ListModelMixin,
                           viewsets.GenericViewSet):
    """Nothing is deleted here: records are retired, cancelled or returned instead."""

    def service_create(self, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def service_update(self, instance: Any, data: dict[str, Any]) -> Any:
        raise NotImplementedError

    def output(self, instance: Any, code: int) -> Response:
        instance = self.get_queryset().get(pk=instance.pk)  # re-read with annotations
        return Response(self.get_serializer(instance).data, status=code)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.output(self.service_create(serializer.validated_data), status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data,
                                         partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        return self.output(self.service_update(instance, serializer.validated_data),
                           status.HTTP_200_OK)


class SchoolViewSet(NoDeleteModelViewSet):
    queryset = School.objects.all()
    serializer_class = serializers.SchoolSerializer
    permission_classes = [ReadAnyoneWriteSuperuser]

    def service_create(self, data: dict[str, Any]) -> School:
        return School.objects.create(**data)

    def service_update(self, instance: School, data: dict[str, Any]) -> School:
        for key, value in data.items():
            setattr(instance, key, value)
        instance.save()
        return instance


class SpaceViewSet(NoDeleteModelViewSet):
    serializer_class = serializers.SpaceSerializer
    permission_classes = [ReadAnyoneWriteManager]
    filterset_class = filters.SpaceFilter

    def get_queryset(self) -> QuerySet[Space]:
        return Space.objects.select_related("school").prefetch_related("opening_hours")

    def service_create(self, data: dict[str, Any]) -> Space:
        return services.space_save(actor=caller(self.request), **data)

    @extend_schema(parameters=[AvailabilityQuery], responses=AvailabilitySerializer)
    @action(detail=True, methods=["get"], permission_classes=[AllowAny])
    def availability(self, request: Request, pk: str | None = None) -> Response:
        """Busy and free intervals within opening hours, closures removed (at most 62 days)."""
        query = AvailabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(space_availability(self.get_object(), query.validated_data["start"],
                                           query.validated_data["end"]))

    def service_update(self, instance: Space, data: dict[str, Any]) -> Space:
        return services.space_save(actor=caller(self.request), space=instance, **data)


class PeriodViewSet(NoDeleteModelViewSet):
    serializer_class = serializers.PeriodSerializer
    permission_classes = [ReadAnyoneWriteManager]
    filterset_class = filters.PeriodFilter
    queryset = Period.objects.all()

    def service_create(self, data: dict[str, Any]) -> Period:
        return services.period_save(actor=caller(self.request), **data)

    def service_update(self, instance: Period, data: dict[str, Any]) -> Period:
        return services.period_save(actor=caller(self.request), period=instance, **data)


class EquipmentCategoryViewSet(NoDeleteModelViewSet):
    queryset = EquipmentCategory.objects.all()
    serializer_class = serializers.EquipmentCategorySerializer
    permission_classes = [SignedInWriteManager]

    def service_create(self, data: dict[str, Any]) -> EquipmentCategory:
        return EquipmentCategory.objects.create(**data)

    def service_update(self, instance: EquipmentCategory, data: dict[str, Any]
                       ) -> EquipmentCategory:
        for key, value in data.items():
            setattr(instance, key, value)
        instance.save()
        return instance


class EquipmentViewSet(NoDeleteModelViewSet):
    serializer_class = serializers.EquipmentSerializer
    permission_classes = [SignedInWriteManager]
    filterset_class = filters.EquipmentFilter

    def get_queryset(self) -> QuerySet[Equipment]:
        return (Equipment.objects.select_related("space", "category")
                .order_by("space_id", "name", "id"))

    def service_create(self, data: dict[str, Any]) -> Equipment:
        return services.equipment_create(actor=caller(self.request), **data)

    def window(self) -> tuple[datetime.datetime, datetime.datetime]:
        """`?at=`, or `?start=&end=`, or now: when `available_quantity` is counted."""
        query = EquipmentWindowQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        if data.get("start") or data.get("end"):
            if not (data.get("start") and data.get("end")):
                raise ValidationError({"end": [_("Give both start and end.")]})
            if data["start"] >= data["end"]:
                raise ValidationError({"end": [_("The end must be after the start.")]})
            return data["start"], data["end"]
        moment = data.get("at") or timezone.now()
        return moment, moment + datetime.timedelta(seconds=1)

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if args and args[0] is not None:
            items = args[0] if isinstance(args[0], list | tuple) else [args[0]]
            start, end = self.window()
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["in_use"] = peak_use([item.pk for item in items], start, end)
        return super().get_serializer(*args, **kwargs)

    @extend_schema(parameters=[EquipmentWindowQuery])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[EquipmentWindowQuery])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    def service_update(self, instance: Equipment, data: dict[str, Any]) -> Equipment:
        return services.equipment_update(actor=caller(self.request), equipment=instance, **data)

    @extend_schema(request=serializers.MaintenanceRecordSerializer,
                   responses=serializers.MaintenanceRecordSerializer(many=True))
    @action(detail=True, methods=["get", "post"],
            serializer_class=serializers.MaintenanceRecordSerializer)
    def maintenance(self, request: Request, pk: str | None = None) -> Response:
        """The item's maintenance and audit log; managers of its school add to it."""
        equipment = self.get_object()
        if request.method == "POST":
            serializer = serializers.MaintenanceRecordSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            record = services.maintenance_record(actor=caller(request), equipment=equipment,
                                                 **serializer.validated_data)
            return Response(serializers.MaintenanceRecordSerializer(record).data,
                            status=status.HTTP_201_CREATED)
        records = equipment.maintenance.all()
        page = self.paginate_queryset(records)
        return self.get_paginated_response(
            serializers.MaintenanceRecordSerializer(page, many=True).data)


class LoanViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin,
                  viewsets.GenericViewSet):
    """Loans: the borrower sees their own, managers their school's, the Union all."""

    serializer_class = serializers.LoanSerializer
    permission_classes = [SignedInWriteManager]
    filterset_class = filters.LoanFilter

    def get_queryset(self) -> QuerySet[Loan]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Loan.objects.none()
        user = caller(self.request)
        loans = Loan.objects.order_by("-checked_out_at", "-id")
        if sees_all_schools(user):
            return loans
        if user.role == Role.MANAGER:
            return loans.filter(equipment__space__school=user.school)
        return loans.filter(borrower=user)

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return serializers.LoanCreateSerializer
        if self.action == "return_":
            return serializers.LoanReturnSerializer
        return serializers.LoanSerializer

    @extend_schema(request=serializers.LoanCreateSerializer,
                   responses={201: serializers.LoanSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = serializers.LoanCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        loan = services.loan_create(actor=caller(request), **serializer.validated_data)
        return Response(serializers.LoanSerializer(loan).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.LoanReturnSerializer,
                   responses={200: serializers.LoanSerializer})
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        """Record that the borrower brought it back."""
        loan = self.get_object()
        serializer = serializers.LoanReturnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        loan = services.loan_return(actor=caller(request), loan=loan,
                                    condition=serializer.validated_data["condition"])
        return Response(serializers.LoanSerializer(loan).data)


class CertificationViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                           mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = serializers.CertificationSerializer
    permission_classes = [SignedInWriteManager]
    filterset_class = filters.CertificationFilter

    def get_queryset(self) -> QuerySet[Certification]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Certification.objects.none()
        user = caller(self.request)
        certs = Certification.objects.order_by("-certified_on", "-id")
        if sees_all_schools(user):
            return certs
        if user.role == Role.MANAGER:
            return certs.filter(Q(user__school_id=user.school_id) | Q(certified_by=user))
        return certs.filter(user=user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        cert = services.certification_grant(
            actor=caller(request), user=data["user"], category=data["category"],
            certified_on=data.get("certified_on"), expires_on=data.get("expires_on"),
            notes=data.get("notes", ""))
        return Response(self.get_serializer(cert).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.CertificationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        cert = services.certification_revoke(actor=caller(request),
                                             certification=self.get_object())
        return Response(self.get_serializer(cert).data)


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """People a manager can lend to or certify: their school's; the Union sees everyone."""

    serializer_class = serializers.UserSerializer
    filterset_class = filters.UserFilter

    def get_queryset(self) -> QuerySet[User]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return User.objects.none()
        user = caller(self.request)
        people = User.objects.filter(is_active=True).order_by("username")
        if sees_all_schools(user):
            return people
        if user.role == Role.MANAGER:
            return people.filter(school=user.school)
        raise PermissionDenied(_("Only managers and the Union can list people."))
