"""series/: an RRULE becomes one booking per occurrence, all or nothing."""

import datetime

import pytest

from bookings.models import Booking, Closure, Series
from tests import factories as f

URL = "/api/v1/series/"


@pytest.fixture
def tuesday():
    return f.next_weekday(1)


def until(day, weeks):
    return (day + datetime.timedelta(weeks=weeks)).strftime("%Y%m%dT235959Z")


def weekly(space, day, weeks=4, **extra):
    return {"space": space.pk, "title": "CLB Robotics", "kind": "club",
            "rrule": f"FREQ=WEEKLY;BYDAY=TU;UNTIL={until(day, weeks - 1)}",
            "start": f"{day}T14:00", "end": f"{day}T15:30"} | extra


def test_teacher_creates_a_weekly_series(client_for, teacher, space, tuesday):
    response = client_for(teacher).post(URL, weekly(space, tuesday), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 4 and body["skipped"] == []
    assert [o["start"][:10] for o in body["occurrences"]] == [
        (tuesday + datetime.timedelta(weeks=i)).isoformat() for i in range(4)]
    assert all(o["status"] == "approved" for o in body["occurrences"])
    assert body["rrule"].startswith("FREQ=WEEKLY")
    assert Booking.objects.filter(series_id=body["id"]).count() == 4


def test_series_by_periods(client_for, teacher, space, school, tuesday):
    f.period(school, 6, "13:30", "14:15", session="afternoon")
    f.period(school, 7, "14:20", "15:05", session="afternoon")
    response = client_for(teacher).post(URL, {
        "space": space.pk, "title": "Tin học", "rrule": "FREQ=WEEKLY;COUNT=3",
        "date": tuesday.isoformat(), "period_from": 6, "period_to": 7}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["occurrences"][2]["end"].endswith("T15:05:00+07:00")


def test_conflict_creates_nothing_and_lists_every_clash(client_for, teacher, manager, space,
                                                        tuesday):
    for week in (1, 3):
        day = tuesday + datetime.timedelta(weeks=week)
        f.booking(space, manager, start=f.at(day, "15:00"), end=f.at(day, "16:00"))
    response = client_for(teacher).post(URL, weekly(space, tuesday), format="json")
    assert response.status_code == 409
    conflicts = response.json()["conflicts"]
    assert [row["start"][:10] for row in conflicts] == [
        (tuesday + datetime.timedelta(weeks=w)).isoformat() for w in (1, 3)]
    assert all(row["conflicts"] for row in conflicts)
    assert not Series.objects.exists()
    assert Booking.objects.count() == 2


def test_skip_conflicts_books_the_rest(client_for, teacher, manager, space, tuesday):
    day = tuesday + datetime.timedelta(weeks=2)
    f.booking(space, manager, start=f.at(day, "15:00"), end=f.at(day, "16:00"))
    response = client_for(teacher).post(URL, weekly(space, tuesday, skip_conflicts=True),
                                        format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 3
    assert [row["start"][:10] for row in body["skipped"]] == [day.isoformat()]


def test_occurrences_on_closures_are_skipped_and_reported(client_for, teacher, space, school,
                                                          tuesday):
    day = tuesday + datetime.timedelta(weeks=1)
    Closure.objects.create(school=school, start_date=day, end_date=day, reason="Giỗ Tổ")
    response = client_for(teacher).post(URL, weekly(space, tuesday), format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 3
    assert body["skipped"][0]["start"][:10] == day.isoformat()
    assert "Giỗ Tổ" in body["skipped"][0]["reason"]


def test_student_series_is_pending(client_for, student, space, tuesday):
    body = client_for(student).post(URL, weekly(space, tuesday, kind="project_work"),
                                    format="json").json()
    assert {o["status"] for o in body["occurrences"]} == {"pending"}


@pytest.mark.parametrize("rrule", [
    "FREQ=HOURLY;COUNT=3",
    "FREQ=WEEKLY",
    "BYDAY=TU;COUNT=3",
    "FREQ=WEEKLY;COUNT=3;COUNT=4",
    "FREQ=WEEKLY;BYDAY=XX;COUNT=3",
    "FREQ=DAILY;COUNT=500",
    "FREQ=WEEKLY;UNTIL=20990101T000000Z",
    "FREQ=WEEKLY;UNTIL=tomorrow",
    "garbage",
])
def test_bad_rules_are_400(client_for, teacher, space, tuesday, rrule):
    response = client_for(teacher).post(URL, weekly(space, tuesday, rrule=rrule), format="json")
    assert response.status_code == 400, response.json()
    assert "rrule" in response.json()
    assert not Booking.objects.exists()


def test_rule_violation_on_any_occurrence_is_400(client_for, teacher, space, tuesday):
    space.max_days_ahead = 10
    space.save()
    response = client_for(teacher).post(URL, weekly(space, tuesday), format="json")
    assert response.status_code == 400
    assert "start" in response.json()
    assert not Booking.objects.exists()


@pytest.mark.parametrize("who", ["other_manager", "other_student", "union", "mentor"])
def test_others_cannot_create_series(client_for, request, space, tuesday, who):
    response = client_for(request.getfixturevalue(who)).post(URL, weekly(space, tuesday),
                                                             format="json")
    assert response.status_code == 403
    assert not Series.objects.exists()


def test_anonymous_cannot_use_series(anon, space, tuesday):
    assert anon.post(URL, weekly(space, tuesday), format="json").status_code == 401
    assert anon.get(URL).status_code == 401


def make_series(client, space, tuesday, weeks=4):
    body = client.post(URL, weekly(space, tuesday, weeks=weeks), format="json").json()
    return body["id"], [o["id"] for o in body["occurrences"]]


def test_change_one_occurrence_then_the_series_keeps_it(client_for, teacher, space, tuesday):
    client = client_for(teacher)
    series_id, ids = make_series(client, space, tuesday)
    day = tuesday + datetime.timedelta(weeks=1)
    moved = client.patch(f"/api/v1/bookings/{ids[1]}/", {
        "title": "CLB Robotics — thi thử", "start": f"{day}T15:00", "end": f"{day}T16:30"},
        format="json")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["is_exception"] is True
    response = client.patch(f"{URL}{series_id}/", {"title": "CLB Robotics nâng cao"},
                            format="json")
    assert response.status_code == 200
    titles = dict(Booking.objects.filter(series_id=series_id).values_list("id", "title"))
    assert titles[ids[1]] == "CLB Robotics — thi thử"
    assert {titles[i] for i in (ids[0], ids[2], ids[3])} == {"CLB Robotics nâng cao"}
    assert Booking.objects.get(pk=ids[1]).start.hour == 8  # 15:00 in Vietnam is 08:00 UTC


def test_cancel_one_occurrence(client_for, teacher, space, tuesday):
    client = client_for(teacher)
    series_id, ids = make_series(client, space, tuesday)
    assert client.post(f"/api/v1/bookings/{ids[2]}/cancel/").status_code == 200
    statuses = client.get(f"{URL}{series_id}/").json()["occurrences"]
    assert [o["status"] for o in statuses] == ["approved", "approved", "cancelled", "approved"]


def test_cancel_the_rest_from_a_date_keeps_earlier_changes(client_for, teacher, space, tuesday):
    client = client_for(teacher)
    series_id, ids = make_series(client, space, tuesday)
    client.patch(f"/api/v1/bookings/{ids[0]}/", {"title": "Buổi đầu"}, format="json")
    from_day = tuesday + datetime.timedelta(weeks=2)
    response = client.post(f"{URL}{series_id}/cancel/", {"from_date": from_day.isoformat()},
                           format="json")
    assert response.status_code == 200
    body = response.json()
    assert [o["status"] for o in body["occurrences"]] == ["approved", "approved", "cancelled",
                                                          "cancelled"]
    assert body["occurrences"][0]["title"] == "Buổi đầu"
    assert body["cancelled_at"] is None


def test_cancel_the_whole_series(client_for, teacher, manager, student, space, tuesday):
    series_id, _ids = make_series(client_for(teacher), space, tuesday)
    assert client_for(student).post(f"{URL}{series_id}/cancel/").status_code == 403
    response = client_for(manager).post(f"{URL}{series_id}/cancel/", {"reason": "Hết học kỳ"},
                                        format="json")
    assert response.status_code == 200
    assert {o["status"] for o in response.json()["occurrences"]} == {"cancelled"}
    assert response.json()["cancelled_at"] is not None
    assert Booking.objects.filter(series_id=series_id).count() == 4


def test_series_list_is_scoped_and_constant(client_for, teacher, other_manager, union, space,
                                            tuesday, django_assert_num_queries):
    client = client_for(teacher)
    make_series(client, space, tuesday, weeks=2)
    with django_assert_num_queries(3):
        client.get(URL)
    make_series(client, space, tuesday + datetime.timedelta(weeks=3), weeks=3)
    with django_assert_num_queries(3):
        assert client.get(URL).json()["count"] == 2
    assert client_for(other_manager).get(URL).json()["count"] == 0
    assert client_for(union).get(URL).json()["count"] == 2


def test_series_kind_change_rechecks_the_certification_gate(client_for, teacher, space, laser,
                                                            tuesday):
    body = client_for(teacher).post(URL, weekly(space, tuesday, kind="class", equipment=[
        {"equipment": laser.pk, "quantity": 1}]), format="json").json()
    response = client_for(teacher).patch(f"{URL}{body['id']}/", {"kind": "project_work"},
                                         format="json")
    assert response.status_code == 403
    assert set(Booking.objects.values_list("kind", flat=True)) == {"class"}


def test_cancelling_a_cancelled_series_is_409(client_for, teacher, space, tuesday):
    series_id, _ids = make_series(client_for(teacher), space, tuesday)
    assert client_for(teacher).post(f"{URL}{series_id}/cancel/").status_code == 200
    assert client_for(teacher).post(f"{URL}{series_id}/cancel/").status_code == 409


def test_series_start_is_the_rules_first_occurrence(client_for, teacher, space, tuesday):
    monday = tuesday + datetime.timedelta(days=6)  # not a Tuesday: the rule starts a day later
    body = client_for(teacher).post(URL, weekly(space, monday, weeks=3), format="json").json()
    assert body["occurrences"][0]["start"] == f"{monday + datetime.timedelta(days=1)}T14:00:00+07:00"
    assert body["start"] == body["occurrences"][0]["start"]
    assert body["end"] == body["occurrences"][0]["end"]
