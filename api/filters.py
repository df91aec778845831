"""django-filter FilterSets: one per list endpoint, as API.md names them."""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from accounts.models import Certification, User
from spaces.models import (
    Equipment,
    EquipmentCategory,
    EquipmentKind,
    EquipmentStatus,
    Loan,
    Period,
    School,
    Space,
    SpaceKind,
)

MAX_ID = 2**63 - 1  # the largest id a database column holds


def parse_id(value: Any) -> int | None:
    """An id given as text, or None when it is not one (letters, other scripts' digits, more
    than a 64-bit column holds: the database refused those with a 500, found by make test-fuzz)."""
    text = str(value)
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        return int(text)
    return None


class MeOrIdFilter(filters.CharFilter):
    """A user id, or `me` for the caller."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in (None, ""):
            return qs
        if value == "me":
            user = self.parent.request.user if self.parent and self.parent.request else None
            return qs.filter(**{self.field_name: getattr(user, "pk", None)})
        user_id = parse_id(value)
        if user_id is None:
            raise ValidationError({self.field_name: [_("Give a user id or “me”.")]})
        return qs.filter(**{self.field_name: user_id})


class SpaceFilter(filters.FilterSet):
    school = filters.ModelChoiceFilter(queryset=School.objects.all())
    kind = filters.ChoiceFilter(choices=SpaceKind.choices)

    class Meta:
        model = Space
        fields = ["school", "kind", "is_active"]


class PeriodFilter(filters.FilterSet):
    school = filters.ModelChoiceFilter(queryset=School.objects.all())

    class Meta:
        model = Period
        fields = ["school", "weekday", "session"]


class EquipmentFilter(filters.FilterSet):
    space = filters.ModelChoiceFilter(queryset=Space.objects.all())
    school = filters.ModelChoiceFilter(field_name="space__school", queryset=School.objects.all())
    category = filters.ModelChoiceFilter(queryset=EquipmentCategory.objects.all())
    status = filters.ChoiceFilter(choices=EquipmentStatus.choices)
    kind = filters.ChoiceFilter(choices=EquipmentKind.choices)
    search = filters.CharFilter(method="filter_search", max_length=100,
                                label=_("name, asset tag or serial number contains"))

    class Meta:
        model = Equipment
        fields = ["space", "school", "category", "status", "kind", "search"]

    def filter_search(self, qs: QuerySet[Equipment], name: str, value: str
                      ) -> QuerySet[Equipment]:
        return qs.filter(Q(name__icontains=value) | Q(asset_tag__icontains=value)
                         | Q(serial_number__icontains=value))


class LoanFilter(filters.FilterSet):
    equipment = filters.ModelChoiceFilter(queryset=Equipment.objects.all())
    borrower = MeOrIdFilter(field_name="borrower")
    open = filters.BooleanFilter(field_name="returned_at", lookup_expr="isnull",
                                 label=_("not yet returned"))
    overdue = filters.BooleanFilter(method="filter_overdue", label=_("open and past due"))
    school = filters.ModelChoiceFilter(field_name="equipment__space__school",
                                       queryset=School.objects.all())

    class Meta:
        model = Loan
        fields = ["equipment", "borrower", "open", "overdue", "school"]

    def filter_overdue(self, qs: QuerySet[Loan], name: str, value: bool | None
                       ) -> QuerySet[Loan]:
        if value is None:
            return qs
        late = Q(returned_at__isnull=True, due_at__lt=timezone.now())
        return qs.filter(late) if value else qs.exclude(late)


class CertificationFilter(filters.FilterSet):
    user = MeOrIdFilter(field_name="user")
    category = filters.ModelChoiceFilter(queryset=EquipmentCategory.objects.all())

    class Meta:
        model = Certification
        fields = ["user", "category"]


class UserFilter(filters.FilterSet):
    school = filters.ModelChoiceFilter(queryset=School.objects.all())
    search = filters.CharFilter(method="filter_search", max_length=100)

    class Meta:
        model = User
        fields = ["school", "role", "search"]

    def filter_search(self, qs: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return qs.filter(Q(username__icontains=value) | Q(full_name__icontains=value))
