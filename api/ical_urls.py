"""/ical/…: calendar subscriptions (iCalendar over HTTP, not DRF)."""

from django.urls import URLPattern, path

from api import ical_views

app_name = "ical"

urlpatterns: list[URLPattern] = [
    path("spaces/<int:pk>.ics", ical_views.space_feed, name="space"),
    path("schools/<slug:slug>.ics", ical_views.school_feed, name="school"),
    path("mentor-sessions.ics", ical_views.mentor_sessions_feed, name="mentor-sessions"),
    # Feed tokens are secrets.token_urlsafe: exactly the slug alphabet.
    path("users/<slug:token>.ics", ical_views.user_feed, name="user"),
]
