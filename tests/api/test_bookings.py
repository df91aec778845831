"""bookings/: the rules, conflicts (409), approvals, cancellation and periods."""

import datetime

import pytest
from django.core import mail

from accounts.models import AuditEntry
from bookings.models import Booking, Closure
from tests import factories as f

URL = "/api/v1/bookings/"


@pytest.fixture
def monday():
    return f.next_weekday(0)


def payload(space, day, start="08:00", end="09:30", **extra):
    return {"space": space.pk, "title": "Lớp 11 Tin — Arduino", "kind": "class",
            "start": f"{day.isoformat()}T{start}", "end": f"{day.isoformat()}T{end}",
            "attendees": 20} | extra


def book(client, space, day, **extra):
    return client.post(URL, payload(space, day, **extra), format="json")


def test_teacher_books_own_school(client_for, teacher, space, monday):
    response = book(client_for(teacher), space, monday)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "approved"
    assert body["organizer"] == teacher.pk
    assert body["start"] == f"{monday.isoformat()}T08:00:00+07:00"
    assert AuditEntry.objects.filter(action="booking.created", object_id=str(body["id"])).exists()


def test_student_request_is_pending(client_for, student, space, monday):
    response = book(client_for(student), space, monday, kind="project_work")
    assert response.status_code == 201
    assert response.json()["status"] == "pending"


def test_student_booking_approved_when_space_needs_no_approval(client_for, student, space, monday):
    space.student_bookings_need_approval = False
    space.save()
    assert book(client_for(student), space, monday).json()["status"] == "approved"


@pytest.mark.parametrize("who", ["other_manager", "other_student", "union", "mentor"])
def test_others_cannot_book(client_for, request, space, monday, who):
    response = book(client_for(request.getfixturevalue(who)), space, monday)
    assert response.status_code == 403
    assert not Booking.objects.exists()


def test_anonymous_cannot_book_or_list(anon, space, monday):
    assert book(anon, space, monday).status_code == 401
    assert anon.get(URL).status_code == 401


def test_overlap_is_409_listing_the_conflict(client_for, teacher, manager, space, monday):
    first = book(client_for(teacher), space, monday).json()
    response = book(client_for(manager), space, monday, start="09:00", end="10:00")
    assert response.status_code == 409
    body = response.json()
    assert "detail" in body
    assert body["conflicts"] == [{"id": first["id"], "start": first["start"],
                                  "end": first["end"], "title": first["title"]}]
    assert Booking.objects.count() == 1


def test_back_to_back_bookings_do_not_conflict(client_for, teacher, space, monday):
    assert book(client_for(teacher), space, monday).status_code == 201
    assert book(client_for(teacher), space, monday, start="09:30", end="10:30").status_code == 201


def test_pending_requests_hold_the_slot(client_for, student, teacher, space, monday):
    assert book(client_for(student), space, monday).status_code == 201
    assert book(client_for(teacher), space, monday).status_code == 409


def test_cancelled_booking_frees_the_slot(client_for, teacher, space, monday):
    first = book(client_for(teacher), space, monday).json()
    assert client_for(teacher).post(f"{URL}{first['id']}/cancel/").status_code == 200
    assert book(client_for(teacher), space, monday).status_code == 201
    assert Booking.objects.filter(status="cancelled").count() == 1


@pytest.mark.parametrize("extra, field", [
    ({"start": None}, "start"),
    ({"end": "2020-01-01T09:00"}, "end"),
    ({"title": ""}, "title"),
    ({"title": "x" * 300}, "title"),
    ({"kind": "party"}, "kind"),
    ({"attendees": -1}, "attendees"),
    ({"attendees": 500}, "attendees"),
    ({"space": 99999}, "space"),
    ({"space": "abc"}, "space"),
    ({"equipment": [{"equipment": 99999, "quantity": 1}]}, "equipment"),
    ({"equipment": [{"quantity": 1}]}, "equipment"),
    ({"equipment": "all"}, "equipment"),
    ({"start": "not a date"}, "start"),
])
def test_bad_input_is_400(client_for, teacher, space, monday, extra, field):
    body = payload(space, monday) | extra
    body = {key: value for key, value in body.items() if value is not None}
    response = client_for(teacher).post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert not Booking.objects.exists()


@pytest.mark.parametrize("start, end, field, words", [
    ("09:00", "08:00", "end", "after the start"),
    ("06:00", "07:30", "start", "opening hours"),
    ("16:30", "17:30", "start", "opening hours"),
    ("08:00", "08:10", "end", "at least 30"),
    ("07:00", "13:00", "end", "at most 300"),
])
def test_rule_violations_are_400_with_the_reason(client_for, teacher, space, monday, start, end,
                                                 field, words):
    response = client_for(teacher, language="en").post(URL, payload(space, monday, start, end),
                                                       format="json")
    assert response.status_code == 400
    assert words in response.json()[field][0]


def test_sunday_is_closed(client_for, teacher, space):
    response = book(client_for(teacher), space, f.next_weekday(6))
    assert response.status_code == 400
    assert "start" in response.json()


def test_past_is_refused_even_for_managers(client_for, manager, space):
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    response = book(client_for(manager), space, yesterday, override_rules=True)
    assert response.status_code == 400
    assert "start" in response.json()


def test_horizon_and_notice(client_for, teacher, space):
    space.max_days_ahead = 14
    space.save()
    far = f.next_weekday(0, weeks=3)
    assert book(client_for(teacher), space, far).status_code == 400
    space.min_notice_minutes = 60 * 24 * 30
    space.max_days_ahead = 180
    space.save()
    assert book(client_for(teacher), space, f.next_weekday(0)).status_code == 400


def test_closure_refuses_bookings(client_for, teacher, space, school, monday):
    Closure.objects.create(school=school, start_date=monday, end_date=monday,
                           reason="Hội thao")
    response = book(client_for(teacher), space, monday)
    assert response.status_code == 400
    assert "Hội thao" in response.json()["start"][0]


def test_closure_of_another_space_does_not_matter(client_for, teacher, space, school, monday):
    other = f.space(school, name="Phòng khác")
    Closure.objects.create(school=school, space=other, start_date=monday, end_date=monday,
                           reason="Sửa chữa")
    assert book(client_for(teacher), space, monday).status_code == 201


def test_manager_override_is_recorded(client_for, manager, teacher, space, monday):
    response = book(client_for(manager), space, monday, start="18:00", end="20:00",
                    override_rules=True)
    assert response.status_code == 201, response.json()
    assert response.json()["rules_overridden"] is True
    assert AuditEntry.objects.get(action="booking.created").data["rules_overridden"] is True
    assert book(client_for(teacher), space, monday, start="18:00", end="20:00",
                override_rules=True).status_code == 403


def test_booking_by_periods(client_for, teacher, space, school, monday):
    f.period(school, 1, "07:00", "07:45")
    f.period(school, 2, "07:50", "08:35")
    f.period(school, 3, "08:50", "09:35")
    response = client_for(teacher).post(URL, {
        "space": space.pk, "title": "Tiết 2–3", "date": monday.isoformat(),
        "period_from": 2, "period_to": 3}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["start"] == f"{monday.isoformat()}T07:50:00+07:00"
    assert body["end"] == f"{monday.isoformat()}T09:35:00+07:00"


def test_periods_follow_the_weekday_schedule(client_for, teacher, space, school, monday):
    f.period(school, 1, "07:00", "07:45")
    f.period(school, 1, "07:30", "08:15", weekday=0)
    response = client_for(teacher).post(URL, {
        "space": space.pk, "title": "Chào cờ xong", "date": monday.isoformat(),
        "period_from": 1, "period_to": 1}, format="json")
    assert response.json()["start"] == f"{monday.isoformat()}T07:30:00+07:00"
    tuesday = monday + datetime.timedelta(days=1)
    response = client_for(teacher).post(URL, {
        "space": space.pk, "title": "Thứ ba", "date": tuesday.isoformat(),
        "period_from": 1, "period_to": 1}, format="json")
    assert response.json()["start"] == f"{tuesday.isoformat()}T07:00:00+07:00"


@pytest.mark.parametrize("extra, field", [
    ({"period_from": 3, "period_to": 2}, "period_to"),
    ({"period_from": 1, "period_to": 9}, "period_to"),
    ({"period_from": 1}, "period_to"),
    ({"period_from": 1, "period_to": 1, "start": "2030-01-01T08:00"}, "date"),
])
def test_bad_periods_are_400(client_for, teacher, space, school, monday, extra, field):
    f.period(school, 1, "07:00", "07:45")
    f.period(school, 2, "07:50", "08:35")
    f.period(school, 3, "08:50", "09:35")
    body = {"space": space.pk, "title": "x", "date": monday.isoformat()} | extra
    response = client_for(teacher).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_approve_and_reject(client_for, manager, other_manager, student, teacher, space, monday,
                            django_capture_on_commit_callbacks):
    student.email = "bao@example.vn"
    student.save()
    first = book(client_for(student), space, monday).json()
    second = book(client_for(student), space, monday, start="10:00", end="11:00").json()
    assert client_for(teacher).post(f"{URL}{first['id']}/approve/").status_code == 403
    assert client_for(student).post(f"{URL}{first['id']}/approve/").status_code == 403
    assert client_for(other_manager).post(f"{URL}{first['id']}/approve/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        approved = client_for(manager).post(f"{URL}{first['id']}/approve/")
        rejected = client_for(manager).post(f"{URL}{second['id']}/reject/",
                                            {"reason": "Trùng lịch thi"}, format="json")
    assert approved.json()["status"] == "approved"
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "Trùng lịch thi"
    assert len(mail.outbox) == 2
    assert "Trùng lịch thi" in mail.outbox[1].body
    assert client_for(manager).post(f"{URL}{first['id']}/approve/").status_code == 409
    assert client_for(manager).post(f"{URL}{second['id']}/approve/").status_code == 409


def test_rejected_booking_frees_the_slot(client_for, manager, student, teacher, space, monday):
    pending = book(client_for(student), space, monday).json()
    client_for(manager).post(f"{URL}{pending['id']}/reject/")
    assert book(client_for(teacher), space, monday).status_code == 201


def test_cancel_rights(client_for, manager, teacher, student, other_manager, space, monday):
    mine = book(client_for(teacher), space, monday).json()
    assert client_for(student).post(f"{URL}{mine['id']}/cancel/").status_code == 403
    assert client_for(other_manager).post(f"{URL}{mine['id']}/cancel/").status_code == 403
    response = client_for(manager).post(f"{URL}{mine['id']}/cancel/", {"reason": "Mất điện"},
                                        format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Mất điện"
    assert client_for(teacher).post(f"{URL}{mine['id']}/cancel/").status_code == 409
    assert client_for(teacher).delete(f"{URL}{mine['id']}/").status_code == 405


def test_change_a_booking(client_for, teacher, manager, student, space, monday):
    mine = book(client_for(teacher), space, monday).json()
    other = book(client_for(teacher), space, monday, start="10:00", end="11:00").json()
    url = f"{URL}{mine['id']}/"
    assert client_for(student).patch(url, {"title": "x"}, format="json").status_code == 403
    moved = client_for(teacher).patch(url, {"start": f"{monday}T13:00", "end": f"{monday}T14:00"},
                                      format="json")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["sequence"] == 1
    clash = client_for(teacher).patch(url, {"start": f"{monday}T10:30", "end": f"{monday}T11:30"},
                                      format="json")
    assert clash.status_code == 409
    assert clash.json()["conflicts"][0]["id"] == other["id"]
    history = client_for(teacher).get(f"{url}history/").json()
    assert [row["action"] for row in history["results"]] == ["booking.created", "booking.changed"]
    assert client_for(student).get(f"{url}history/").status_code == 403


def test_who_sees_which_bookings(client_for, teacher, student, manager, other_student, union,
                                 space, monday):
    approved = book(client_for(teacher), space, monday).json()
    pending = book(client_for(student), space, monday, start="10:00", end="11:00").json()

    def ids(user, **params):
        return {row["id"] for row in client_for(user).get(URL, params).json()["results"]}

    assert ids(teacher) == {approved["id"], pending["id"]}
    assert ids(manager) == {approved["id"], pending["id"]}
    assert ids(union) == {approved["id"], pending["id"]}
    assert ids(student) == {approved["id"], pending["id"]}
    assert ids(other_student) == {approved["id"]}
    assert client_for(other_student).get(f"{URL}{pending['id']}/").status_code == 404
    assert ids(student, organizer="me") == {pending["id"]}
    assert ids(manager, status="pending") == {pending["id"]}


def test_booking_filters(client_for, teacher, space, school, monday):
    other_space = f.space(school, name="Phòng STEM")
    book(client_for(teacher), space, monday)
    book(client_for(teacher), other_space, monday, kind="club")
    book(client_for(teacher), space, monday + datetime.timedelta(days=1))
    client = client_for(teacher)
    assert client.get(URL, {"space": space.pk}).json()["count"] == 2
    assert client.get(URL, {"kind": "club"}).json()["count"] == 1
    assert client.get(URL, {"school": school.pk}).json()["count"] == 3
    after = f"{monday + datetime.timedelta(days=1)}T00:00:00+07:00"
    assert client.get(URL, {"start_after": after}).json()["count"] == 1
    assert client.get(URL, {"end_before": after}).json()["count"] == 2
    assert client.get(URL, {"kind": "party"}).status_code == 400
    assert client.get(URL, {"start_after": "soon"}).status_code == 400


def test_availability(anon, space, teacher, school, monday):
    f.booking(space, teacher, start=f.at(monday, "08:00"), end=f.at(monday, "09:30"))
    f.booking(space, teacher, start=f.at(monday, "10:00"), end=f.at(monday, "11:00"),
              status="cancelled")
    tuesday = monday + datetime.timedelta(days=1)
    Closure.objects.create(school=school, start_date=tuesday, end_date=tuesday, reason="Lễ")
    response = anon.get(f"/api/v1/spaces/{space.pk}/availability/", {
        "start": f"{monday}T00:00", "end": f"{tuesday + datetime.timedelta(days=1)}T00:00"})
    assert response.status_code == 200
    day = monday.isoformat()
    assert response.json() == {
        "space": space.pk,
        "busy": [{"start": f"{day}T08:00:00+07:00", "end": f"{day}T09:30:00+07:00"}],
        "free": [{"start": f"{day}T07:00:00+07:00", "end": f"{day}T08:00:00+07:00"},
                 {"start": f"{day}T09:30:00+07:00", "end": f"{day}T17:00:00+07:00"}],
    }


def test_availability_query_count_is_fixed(anon, space, teacher, monday,
                                           django_assert_num_queries):
    for hour in range(8, 16):
        f.booking(space, teacher, start=f.at(monday, f"{hour:02d}:00"),
                  end=f.at(monday, f"{hour:02d}:30"))
    with django_assert_num_queries(4):
        anon.get(f"/api/v1/spaces/{space.pk}/availability/",
                 {"start": f"{monday}T00:00", "end": f"{monday + datetime.timedelta(days=7)}T00:00"})


@pytest.mark.parametrize("params, field", [
    ({"start": "2030-01-01T00:00"}, "end"),
    ({"start": "x", "end": "y"}, "start"),
    ({"start": "2030-01-02T00:00", "end": "2030-01-01T00:00"}, "end"),
    ({"start": "2030-01-01T00:00", "end": "2030-06-01T00:00"}, "end"),
])
def test_availability_bad_window(anon, space, params, field):
    response = anon.get(f"/api/v1/spaces/{space.pk}/availability/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_bookings_list_query_count_is_constant(client_for, teacher, space, monday, kit,
                                               django_assert_num_queries):
    client = client_for(teacher)
    book(client, space, monday, equipment=[{"equipment": kit.pk, "quantity": 1}])
    with django_assert_num_queries(3):
        client.get(URL)
    for hour in range(10, 16):
        book(client, space, monday, start=f"{hour}:00", end=f"{hour}:45",
             equipment=[{"equipment": kit.pk, "quantity": 1}])
    with django_assert_num_queries(3):
        assert client.get(URL).json()["count"] == 7


def test_manager_override_on_change_is_recorded(client_for, manager, teacher, space, monday):
    booking = book(client_for(teacher), space, monday).json()
    response = client_for(manager).patch(f"{URL}{booking['id']}/", {
        "start": f"{monday}T18:00", "end": f"{monday}T19:00", "override_rules": True},
        format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["rules_overridden"] is True
    assert AuditEntry.objects.get(action="booking.changed").data["rules_overridden"] is True
