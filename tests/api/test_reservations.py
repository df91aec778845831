"""Equipment reserved with bookings: never more than owned at any moment, loans included."""

import datetime

import pytest

from bookings.models import BookingEquipment
from tests import factories as f

URL = "/api/v1/bookings/"


@pytest.fixture
def monday():
    return f.next_weekday(0)


def book(client, space, day, start, end, items, **extra):
    return client.post(URL, {"space": space.pk, "title": "CLB Robotics", "kind": "club",
                             "start": f"{day}T{start}", "end": f"{day}T{end}",
                             "equipment": items} | extra, format="json")


def test_reservation_is_kept_with_the_booking(client_for, teacher, space, kit, monday):
    response = book(client_for(teacher), space, monday, "08:00", "09:00",
                    [{"equipment": kit.pk, "quantity": 6}])
    assert response.status_code == 201, response.json()
    assert response.json()["equipment"] == [{"equipment": kit.pk, "quantity": 6}]


def test_overlapping_reservations_cannot_exceed_stock(client_for, teacher, manager, space,
                                                      school, kit, monday):
    other_room = f.space(school, name="Phòng STEM")
    assert book(client_for(teacher), space, monday, "08:00", "10:00",
                [{"equipment": kit.pk, "quantity": 6}]).status_code == 201
    response = book(client_for(manager), other_room, monday, "09:00", "11:00",
                    [{"equipment": kit.pk, "quantity": 5}])
    assert response.status_code == 409
    assert "equipment" in response.json()
    # Four are still free then; and later in the day all ten are.
    assert book(client_for(manager), other_room, monday, "09:00", "11:00",
                [{"equipment": kit.pk, "quantity": 4}]).status_code == 201
    assert book(client_for(manager), other_room, monday, "13:00", "14:00",
                [{"equipment": kit.pk, "quantity": 10}]).status_code == 201


def test_peak_not_sum_counts(client_for, teacher, space, school, kit, monday):
    """Two reservations that never overlap each other leave room for a third."""
    rooms = [space, f.space(school, name="A"), f.space(school, name="B")]
    client = client_for(teacher)
    assert book(client, rooms[0], monday, "08:00", "09:00",
                [{"equipment": kit.pk, "quantity": 6}]).status_code == 201
    assert book(client, rooms[1], monday, "09:00", "10:00",
                [{"equipment": kit.pk, "quantity": 6}]).status_code == 201
    assert book(client, rooms[2], monday, "08:00", "10:00",
                [{"equipment": kit.pk, "quantity": 4}]).status_code == 201
    assert book(client, rooms[2], monday, "10:00", "11:00",
                [{"equipment": kit.pk, "quantity": 10}]).status_code == 201


def test_units_on_loan_are_not_reservable(client_for, teacher, manager, student, space, kit,
                                          monday):
    f.loan(kit, student, manager, quantity=7, days=30)
    response = book(client_for(teacher), space, monday, "08:00", "09:00",
                    [{"equipment": kit.pk, "quantity": 4}])
    assert response.status_code == 409


def test_loans_respect_future_reservations(client_for, teacher, manager, student, space, kit,
                                           monday):
    book(client_for(teacher), space, monday, "08:00", "09:00",
         [{"equipment": kit.pk, "quantity": 8}])
    due = f.at(monday + datetime.timedelta(days=1), "08:00").isoformat()
    response = client_for(manager).post("/api/v1/loans/", {
        "equipment": kit.pk, "borrower": student.pk, "quantity": 3, "due_at": due},
        format="json")
    assert response.status_code == 409
    response = client_for(manager).post("/api/v1/loans/", {
        "equipment": kit.pk, "borrower": student.pk, "quantity": 2, "due_at": due},
        format="json")
    assert response.status_code == 201


def test_certification_gate_on_reservations(client_for, student, teacher, manager, space,
                                            laser, monday):
    response = book(client_for(student), space, monday, "08:00", "09:00",
                    [{"equipment": laser.pk, "quantity": 1}], kind="project_work")
    assert response.status_code == 403
    assert "detail" in response.json()
    f.certification(student, laser.category, manager)
    assert book(client_for(student), space, monday, "08:00", "09:00",
                [{"equipment": laser.pk, "quantity": 1}], kind="project_work").status_code == 201


def test_teacher_reserves_gated_machine_for_a_class_they_supervise(client_for, teacher, space,
                                                                   laser, monday):
    assert book(client_for(teacher), space, monday, "08:00", "09:00",
                [{"equipment": laser.pk, "quantity": 1}], kind="class").status_code == 201
    assert book(client_for(teacher), space, monday, "10:00", "11:00",
                [{"equipment": laser.pk, "quantity": 1}],
                kind="project_work").status_code == 403


def test_other_schools_equipment_is_refused(client_for, teacher, space, other_space, category,
                                            monday):
    theirs = f.stock(other_space, category, quantity=5)
    response = book(client_for(teacher), space, monday, "08:00", "09:00",
                    [{"equipment": theirs.pk, "quantity": 1}])
    assert response.status_code == 400
    assert "equipment" in response.json()


@pytest.mark.parametrize("items", [
    [{"equipment": "KIT", "quantity": 1}],
    [{"equipment": 1, "quantity": 0}],
    [{"equipment": 1, "quantity": -4}],
    [{"equipment": 1, "quantity": 1}, {"equipment": 1, "quantity": 2}],
])
def test_bad_reservations_are_400(client_for, teacher, space, kit, monday, items):
    for row in items:
        if row["equipment"] == 1:
            row["equipment"] = kit.pk
    response = book(client_for(teacher), space, monday, "08:00", "09:00", items)
    assert response.status_code == 400
    assert "equipment" in response.json()
    assert not BookingEquipment.objects.exists()


def test_available_quantity_is_time_aware(client_for, teacher, space, kit, monday):
    book(client_for(teacher), space, monday, "08:00", "10:00",
         [{"equipment": kit.pk, "quantity": 6}])
    client = client_for(teacher)
    url = f"/api/v1/equipment/{kit.pk}/"
    assert client.get(url).json()["available_quantity"] == 10
    assert client.get(url, {"at": f"{monday}T09:00"}).json()["available_quantity"] == 4
    assert client.get(url, {"start": f"{monday}T10:00",
                            "end": f"{monday}T11:00"}).json()["available_quantity"] == 10
    assert client.get(url, {"start": f"{monday}T07:00",
                            "end": f"{monday}T08:30"}).json()["available_quantity"] == 4
    assert client.get(url, {"at": "yesterday"}).status_code == 400
    assert client.get(url, {"start": f"{monday}T07:00"}).status_code == 400


def test_changing_time_rechecks_equipment(client_for, teacher, space, school, kit, monday):
    other_room = f.space(school, name="Phòng STEM")
    client = client_for(teacher)
    book(client, space, monday, "08:00", "09:00", [{"equipment": kit.pk, "quantity": 6}])
    later = book(client, other_room, monday, "10:00", "11:00",
                 [{"equipment": kit.pk, "quantity": 6}]).json()
    response = client.patch(f"{URL}{later['id']}/", {"start": f"{monday}T08:30",
                                                     "end": f"{monday}T09:30"}, format="json")
    assert response.status_code == 409
    response = client.patch(f"{URL}{later['id']}/", {"equipment": [
        {"equipment": kit.pk, "quantity": 10}]}, format="json")
    assert response.status_code == 200
    assert response.json()["equipment"] == [{"equipment": kit.pk, "quantity": 10}]


def test_changing_kind_rechecks_the_certification_gate(client_for, teacher, space, laser, monday):
    booking = book(client_for(teacher), space, monday, "08:00", "09:00",
                   [{"equipment": laser.pk, "quantity": 1}], kind="class").json()
    response = client_for(teacher).patch(f"{URL}{booking['id']}/", {"kind": "project_work"},
                                         format="json")
    assert response.status_code == 403
