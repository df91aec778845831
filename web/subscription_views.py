"""/calendars/: the iCal feeds a signed-in person can subscribe to, with webcal:// and
https links, and the reset of their private link (the old one then 404s)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.models import Role, User
from spaces.models import School, Space


@dataclass(frozen=True)
class Feed:
    name: str
    https: str

    @property
    def webcal(self) -> str:
        # The same address under the scheme calendar apps open as a subscription.
        return "webcal://" + self.https.split("://", 1)[1]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # behind login_required
    return user


def sees_all_spaces(user: User) -> bool:
    """The Union and mentors work in every school; the others in their own."""
    return user.is_union or user.role == Role.MENTOR or user.school_id is None


@require_safe
@login_required
def calendars(request: HttpRequest) -> HttpResponse:
    user = _user(request)

    def feed(name: str, path: str) -> Feed:
        return Feed(name=name, https=request.build_absolute_uri(path))

    schools = list(School.objects.order_by("name").prefetch_related(
        Prefetch("spaces", queryset=Space.objects.filter(is_active=True).order_by("name"))))
    space_schools = [school for school in schools
                     if sees_all_spaces(user) or school.pk == user.school_id]
    sessions_path = reverse("ical:mentor-sessions")
    return render(request, "web/subscriptions.html", {
        "private": feed(_("My bookings and sessions"),
                        reverse("ical:user", args=[user.feed_token])),
        "spaces": [(school, [feed(space.name, reverse("ical:space", args=[space.pk]))
                             for space in school.spaces.all()]) for school in space_schools],
        "schools": [feed(school.name, reverse("ical:school", args=[school.slug]))
                    for school in schools],
        "sessions": [feed(_("All mentor sessions"), sessions_path),
                     *(feed(school.name, f"{sessions_path}?{urlencode({'school': school.slug})}")
                       for school in schools)],
    })


@login_required
def calendars_reset(request: HttpRequest) -> HttpResponse:
    """GET asks to confirm; POST makes a new private link (the old one stops working)."""
    if request.method != "POST":
        return render(request, "web/subscriptions_reset.html")
    _user(request).reset_feed_token()
    messages.success(request, _("Your private calendar link was reset. Subscribe again with "
                                "the new link below; the old one no longer works."))
    return redirect(reverse("calendars") + "#private")
