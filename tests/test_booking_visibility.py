"""Who sees which booking: the query (API lists, the cancel page) and the check on one booking
in hand (the calendars' titles) must never disagree."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from bookings.models import Booking
from bookings.selectors import may_see, visible_bookings
from tests import factories as f

VIEWERS = ["student", "classmate", "teacher", "manager", "other_student", "other_manager",
           "mentor", "union", "admin_user"]


@pytest.fixture
def bookings(space, other_space, student, other_student):
    """Every status, at both schools, each asked for by a student of that school."""
    made = []
    day = f.next_weekday(1)
    for hour, status in enumerate(["pending", "approved", "rejected", "cancelled"], start=8):
        for where, who in ((space, student), (other_space, other_student)):
            made.append(f.booking(where, who, status=status, title=f"{status} {where.pk}",
                                  start=f.at(day, f"{hour:02d}:00"),
                                  end=f.at(day, f"{hour:02d}:45")))
    return made


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_query_and_the_check_agree(request, school, bookings, viewer):
    user = (f.user("classmate", role="student", school=school) if viewer == "classmate"
            else request.getfixturevalue(viewer))

    listed = set(visible_bookings(user).values_list("pk", flat=True))

    assert listed == {booking.pk for booking in bookings if may_see(user, booking)}
    # And the rule itself: approved for all; the rest for the organiser, the staff of the
    # school, the Union and administrators.
    for booking in Booking.objects.filter(pk__in=[b.pk for b in bookings]):
        staff = user.role in ("manager", "teacher") and user.school_id == booking.school_id
        expected = (booking.status == "approved" or booking.organizer_id == user.pk or staff
                    or user.is_union)
        assert (booking.pk in listed) is expected, (viewer, booking.title)


def test_visitors_see_only_approved_bookings(bookings):
    assert [b.status for b in bookings if may_see(AnonymousUser(), b)] == [
        "approved", "approved"]
