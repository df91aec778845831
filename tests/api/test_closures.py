"""closures/: public reads; managers close their own school (or one space)."""

import datetime

import pytest

from bookings.models import Booking, Closure
from tests import factories as f

URL = "/api/v1/closures/"


@pytest.fixture
def monday():
    return f.next_weekday(0)


def closure(school_, day, **extra):
    return {"school": school_.pk, "start_date": day.isoformat(), "end_date": day.isoformat(),
            "reason": "Hội khỏe Phù Đổng"} | extra


def test_closures_are_public_and_filtered(anon, school, other_school, space, monday):
    Closure.objects.create(school=school, start_date=monday, end_date=monday, reason="A")
    Closure.objects.create(school=school, space=space, start_date=monday, end_date=monday,
                           reason="B")
    Closure.objects.create(school=other_school, start_date=monday, end_date=monday, reason="C")
    assert anon.get(URL).json()["count"] == 3
    assert anon.get(URL, {"school": school.pk}).json()["count"] == 2
    assert anon.get(URL, {"space": space.pk}).json()["count"] == 1
    row = anon.get(URL, {"space": space.pk}).json()["results"][0]
    assert set(row) == {"id", "school", "space", "start_date", "end_date", "reason", "source"}


def test_manager_closes_own_school_and_sees_affected_bookings(client_for, manager, teacher,
                                                              space, school, monday):
    booking = f.booking(space, teacher, start=f.at(monday, "08:00"), end=f.at(monday, "09:00"))
    response = client_for(manager).post(URL, closure(school, monday), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [row["id"] for row in body["affected_bookings"]] == [booking.pk]
    assert body["cancelled"] is False
    booking.refresh_from_db()
    assert booking.status == "approved"


def test_closure_can_cancel_the_bookings_it_falls_on(client_for, manager, teacher, space, school,
                                                     monday):
    booking = f.booking(space, teacher, start=f.at(monday, "08:00"), end=f.at(monday, "09:00"))
    response = client_for(manager).post(URL, closure(school, monday, cancel_bookings=True),
                                        format="json")
    assert response.json()["cancelled"] is True
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert "Hội khỏe" in booking.cancel_reason


@pytest.mark.parametrize("who", ["other_manager", "teacher", "student", "union", "mentor"])
def test_others_cannot_close_the_school(client_for, request, school, monday, who):
    response = client_for(request.getfixturevalue(who)).post(URL, closure(school, monday),
                                                             format="json")
    assert response.status_code == 403
    assert not Closure.objects.exists()


def test_anonymous_cannot_close(anon, school, monday):
    assert anon.post(URL, closure(school, monday), format="json").status_code == 401


def test_admin_closes_any_school(client_for, admin_user, other_school, monday):
    assert client_for(admin_user).post(URL, closure(other_school, monday),
                                       format="json").status_code == 201


@pytest.mark.parametrize("extra, field", [
    ({"end_date": "2020-01-01"}, "end_date"),
    ({"start_date": "31/12/2026"}, "start_date"),
    ({"reason": ""}, "reason"),
    ({"school": 9999}, "school"),
    ({"space": "other"}, "space"),
])
def test_bad_closures_are_400(client_for, manager, school, other_space, monday, extra, field):
    if extra.get("space") == "other":
        extra = {"space": other_space.pk}
    response = client_for(manager).post(URL, closure(school, monday, **extra), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Closure.objects.exists()


def test_delete_closure(client_for, manager, other_manager, school, monday):
    made = Closure.objects.create(school=school, start_date=monday, end_date=monday, reason="A")
    assert client_for(other_manager).delete(f"{URL}{made.pk}/").status_code == 403
    assert client_for(manager).delete(f"{URL}{made.pk}/").status_code == 204
    assert not Closure.objects.exists()


def test_closure_list_query_count(anon, school, monday, django_assert_num_queries):
    for i in range(3):
        Closure.objects.create(school=school, start_date=monday + datetime.timedelta(days=i),
                               end_date=monday + datetime.timedelta(days=i), reason=f"{i}")
    with django_assert_num_queries(2):
        anon.get(URL)
    assert not Booking.objects.exists()
