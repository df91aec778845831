"""The iCal feeds (API.md "iCal feeds"): thin views over api.ical.build_feed."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.models import User
from api.ical import cached_feed
from projects.models import Registration
from spaces.models import School, Space

CONTENT_TYPE = "text/calendar; charset=utf-8"


def _respond(request: HttpRequest, *, name: str, description: str, scope: Q,
             private: bool) -> HttpResponse:
    etag, changed, body = cached_feed(name=name, description=description, scope=scope,
                                      private=private)
    last_modified = int(changed.timestamp()) if changed else None
    # A 304 when the client's copy (If-None-Match, else If-Modified-Since) is current:
    # decided before anything is rendered.
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is None:
        response = HttpResponse(body(), content_type=CONTENT_TYPE)
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    # Calendar apps poll on their own schedule; make every poll a cheap revalidation.
    if private:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, no_cache=True)
    return response


@require_safe
def space_feed(request: HttpRequest, pk: int) -> HttpResponse:
    space = get_object_or_404(Space.objects.select_related("school"), pk=pk)
    names = {"space": space.name, "school": space.school.name}
    return _respond(
        request, name=_("Bookings: %(space)s (%(school)s)") % names,
        description=_("Approved bookings of %(space)s, %(school)s, from STEM Space.") % names,
        scope=Q(space=space), private=False)


@require_safe
def school_feed(request: HttpRequest, slug: str) -> HttpResponse:
    school = get_object_or_404(School, slug=slug)
    names = {"school": school.name}
    return _respond(
        request, name=_("Bookings: %(school)s") % names,
        description=_("Approved bookings of every STEM space of %(school)s, from STEM Space.")
        % names,
        scope=Q(school=school), private=False)


@require_safe
def user_feed(request: HttpRequest, token: str) -> HttpResponse:
    """Whoever holds the token (calendar apps cannot log in); a reset token 404s."""
    user = get_object_or_404(User.objects.only("pk"), feed_token=token, is_active=True)
    # Their own bookings (a mentor organises their sessions' bookings), and the mentor
    # sessions they registered for.
    registered = Registration.objects.filter(student=user, cancelled_at__isnull=True)
    return _respond(
        request, name=_("My bookings (STEM Space)"),
        description=_("Your bookings in the STEM spaces: approved, awaiting approval and "
                      "cancelled."),
        scope=Q(organizer=user) | Q(pk__in=registered.values("session__booking_id")),
        private=True)


@require_safe
def mentor_sessions_feed(request: HttpRequest) -> HttpResponse:
    """Mentor and training sessions: all, or one school's (`?school=slug`)."""
    scope = Q(mentor_session__isnull=False)
    slug = request.GET.get("school")
    if slug:
        school = get_object_or_404(School, slug=slug)
        scope &= Q(school=school)
        names = {"school": school.name}
        name = _("Mentor sessions: %(school)s") % names
        description = _("Mentoring, training and workshops by experts at %(school)s, from "
                        "STEM Space.") % names
    else:
        name = _("Mentor sessions (STEM Space)")
        description = _("Mentoring, training and workshops by experts in the STEM spaces, "
                        "from STEM Space.")
    return _respond(request, name=name, description=description, scope=scope, private=False)
