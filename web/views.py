"""Server-rendered pages for people: home, equipment items, QR labels."""

from __future__ import annotations

import math
from typing import Any

from axes.conf import settings as axes_settings
from axes.helpers import get_cool_off, get_failure_limit
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from accounts.models import User
from spaces import labels
from spaces.models import Equipment, School, Space
from web.role_home import role_home

MAINTENANCE_SHOWN = 5


def can_see_school_people(user: User | AnonymousUser, school_id: int) -> bool:
    """Managers of the school, the Union and admins see who borrows what and print labels."""
    return isinstance(user, User) and (user.is_union or user.manages_school(school_id))


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    schools = list(School.objects.prefetch_related(
        Prefetch("spaces", queryset=Space.objects.filter(is_active=True).order_by("name"))))
    user = request.user
    # Found among the schools already fetched: no extra query.
    own_school = next((s for s in schools if s.pk == getattr(user, "school_id", None)), None)
    return render(request, "web/home.html", {
        "schools": schools,
        "own_school": own_school,
        "label_school_ids": {s.pk for s in schools if can_see_school_people(user, s.pk)},
        **role_home(user),
    })


@require_safe
@login_required
def equipment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        Equipment.objects.with_availability().select_related("space__school", "category"), pk=pk)
    privileged = can_see_school_people(request.user, item.space.school_id)
    open_loans = item.loans.open().order_by("due_at", "id")
    if privileged:
        open_loans = open_loans.select_related("borrower")
    maintenance = item.maintenance.select_related("performed_by")[:MAINTENANCE_SHOWN]
    return render(request, "web/equipment_detail.html", {
        "item": item,
        "open_loans": list(open_loans),
        "maintenance": list(maintenance),
        "show_people": privileged,
    })


def _label_space(request: HttpRequest, pk: int) -> Space:
    """The space whose labels this user may print: its school's managers, the Union, admins."""
    space = get_object_or_404(Space.objects.select_related("school"), pk=pk)
    if not can_see_school_people(request.user, space.school_id):
        raise PermissionDenied
    return space


def _labels(request: HttpRequest, space: Space) -> list[labels.Label]:
    def url_for(item: Equipment) -> str:
        return request.build_absolute_uri(reverse("equipment-detail", args=[item.pk]))

    include_stock = request.GET.get("stock") == "1"
    return labels.labels_for_space(space, url_for, include_stock=include_stock)


@require_safe
@login_required
def space_labels_svg(request: HttpRequest, pk: int) -> HttpResponse:
    space = _label_space(request, pk)
    response = HttpResponse(labels.render_sheet(_labels(request, space)),
                            content_type="image/svg+xml; charset=utf-8")
    filename = f"labels-{space.school.slug}-{space.pk}.svg"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_safe
@login_required
def space_labels_print(request: HttpRequest, pk: int) -> HttpResponse:
    space = _label_space(request, pk)
    # The SVG is built by spaces.labels, which escapes every text it prints.
    space_labels = _labels(request, space)
    pages = [mark_safe(page) for page in labels.render_pages(space_labels)]
    return render(request, "web/space_labels.html", {
        "space": space,
        "pages": pages,
        "label_count": len(space_labels),
        "include_stock": request.GET.get("stock") == "1",
    })


def locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
               credentials: dict[str, Any] | None = None) -> HttpResponse:
    """django-axes' answer to a locked-out login (AXES_LOCKOUT_CALLABLE): a page, not plain text.

    The API answers for itself (its own 429 in its own JSON shape), so its response is kept.
    """
    if request.path.startswith("/api/") and original_response is not None:
        return original_response
    cool_off = get_cool_off(request)
    return render(request, "registration/locked_out.html", {
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": math.ceil(cool_off.total_seconds() / 60) if cool_off else None,
    }, status=axes_settings.AXES_HTTP_RESPONSE_CODE)
