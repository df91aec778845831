"""equipment/: read by anyone signed in, written by managers of the item's school."""

import pytest

from accounts.models import AuditEntry
from spaces.models import Equipment, MaintenanceRecord
from tests import factories as f

URL = "/api/v1/equipment/"


def test_anonymous_gets_401(anon, kit):
    assert anon.get(URL).status_code == 401
    assert anon.get(f"{URL}{kit.pk}/").status_code == 401


@pytest.mark.parametrize("who", ["student", "teacher", "other_manager", "mentor", "union"])
def test_signed_in_people_read_equipment(client_for, request, kit, laser, who):
    body = client_for(request.getfixturevalue(who)).get(URL).json()
    assert body["count"] == 2


def test_equipment_shape_and_availability(client_for, student, manager, kit):
    f.loan(kit, student, manager, quantity=3)
    f.loan(kit, student, manager, quantity=2, returned_at=kit.created_at)
    body = client_for(student).get(f"{URL}{kit.pk}/").json()
    assert body["quantity"] == 10
    assert body["available_quantity"] == 7
    assert body["kind"] == "stock"
    assert body["school"] == kit.space.school_id
    assert body["requires_certification"] is False
    for field in ("id", "space", "name", "category", "asset_tag", "serial_number", "status"):
        assert field in body


def test_broken_item_has_nothing_available(client_for, student, space, category):
    item = f.asset(space, category, status="broken")
    assert client_for(student).get(f"{URL}{item.pk}/").json()["available_quantity"] == 0


@pytest.mark.parametrize("params, expected", [
    ({}, 4),
    ({"kind": "asset"}, 2),
    ({"kind": "stock"}, 2),
    ({"status": "broken"}, 1),
    ({"category": "gated"}, 1),
    ({"school": "other"}, 1),
    ({"space": "own"}, 3),
    ({"search": "arduino"}, 1),
    ({"search": "NDC-LZ"}, 1),
])
def test_equipment_filters(client_for, student, kit, laser, space, other_space, category,
                           gated_category, params, expected):
    f.asset(space, category, name="Máy khoan", status="broken")
    f.stock(other_space, category, name="Kính bảo hộ", quantity=40)
    resolve = {"gated": gated_category.pk, "other": other_space.school_id, "own": space.pk}
    params = {key: resolve.get(value, value) for key, value in params.items()}
    assert client_for(student).get(URL, params).json()["count"] == expected


def test_unknown_filter_value_is_400(client_for, student, kit):
    response = client_for(student).get(URL, {"status": "lost"})
    assert response.status_code == 400
    assert "status" in response.json()


def asset_payload(space_, category_, **extra):
    return {"space": space_.pk, "category": category_.pk, "name": "Máy in 3D Bambu Lab A1",
            "kind": "asset", "asset_tag": "NDC-3D-009", "serial_number": "A1-0001",
            "cost_vnd": 9_990_000, "funding_source": "union", "purchase_date": "2026-03-01"} | extra


def test_manager_adds_equipment(client_for, manager, space, category):
    response = client_for(manager).post(URL, asset_payload(space, category), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["quantity"] == 1 and body["available_quantity"] == 1
    item = Equipment.objects.get(pk=body["id"])
    assert AuditEntry.objects.filter(action="equipment.created", object_id=str(item.pk),
                                     actor=manager).exists()


@pytest.mark.parametrize("who", ["other_manager", "teacher", "student", "union", "mentor"])
def test_others_cannot_add_equipment(client_for, request, space, category, who):
    response = client_for(request.getfixturevalue(who)).post(
        URL, asset_payload(space, category), format="json")
    assert response.status_code == 403
    assert not Equipment.objects.exists()


def test_anonymous_cannot_add_equipment(anon, space, category):
    assert anon.post(URL, asset_payload(space, category), format="json").status_code == 401


@pytest.mark.parametrize("extra, field", [
    ({"kind": "asset", "quantity": 3}, "quantity"),
    ({"asset_tag": ""}, "asset_tag"),
    ({"kind": "stock", "quantity": 5}, "asset_tag"),
    ({"quantity": -1}, "quantity"),
    ({"quantity": "ten"}, "quantity"),
    ({"cost_vnd": -5}, "cost_vnd"),
    ({"space": 999999}, "space"),
    ({"category": 999999}, "category"),
    ({"status": "lost"}, "status"),
    ({"kind": "thing"}, "kind"),
    ({"name": ""}, "name"),
    ({"name": "x" * 300}, "name"),
    ({"purchase_date": "31/02/2025"}, "purchase_date"),
    ({"asset_tag": "NDC-LZ-001"}, "asset_tag"),
])
def test_bad_equipment_input_is_400(client_for, manager, space, category, laser, extra, field):
    before = Equipment.objects.count()
    response = client_for(manager).post(URL, asset_payload(space, category, **extra),
                                        format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert Equipment.objects.count() == before


def test_missing_fields_are_named(client_for, manager):
    response = client_for(manager).post(URL, {}, format="json")
    assert response.status_code == 400
    assert {"space", "category", "name"} <= set(response.json())


def test_manager_cannot_move_item_to_other_school(client_for, manager, kit, other_space):
    response = client_for(manager).patch(f"{URL}{kit.pk}/", {"space": other_space.pk},
                                         format="json")
    assert response.status_code == 403
    kit.refresh_from_db()
    assert kit.space_id != other_space.pk


def test_other_manager_cannot_change_item(client_for, other_manager, kit):
    response = client_for(other_manager).patch(f"{URL}{kit.pk}/", {"quantity": 1},
                                               format="json")
    assert response.status_code == 403
    kit.refresh_from_db()
    assert kit.quantity == 10


def test_quantity_cannot_drop_below_units_on_loan(client_for, manager, student, kit):
    f.loan(kit, student, manager, quantity=6)
    response = client_for(manager).patch(f"{URL}{kit.pk}/", {"quantity": 5}, format="json")
    assert response.status_code == 409
    assert "quantity" in response.json()
    kit.refresh_from_db()
    assert kit.quantity == 10


def test_update_is_audited_with_before_and_after(client_for, manager, kit):
    response = client_for(manager).patch(f"{URL}{kit.pk}/", {"quantity": 12}, format="json")
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action="equipment.changed", object_id=str(kit.pk))
    assert entry.data == {"quantity": [10, 12]}
    assert entry.actor == manager


def test_equipment_is_retired_not_deleted(client_for, manager, kit):
    client = client_for(manager)
    assert client.delete(f"{URL}{kit.pk}/").status_code == 405
    response = client.patch(f"{URL}{kit.pk}/", {"status": "retired"}, format="json")
    assert response.status_code == 200
    assert response.json()["available_quantity"] == 0
    assert Equipment.objects.filter(pk=kit.pk).exists()


def test_maintenance_log(client_for, manager, student, other_manager, laser):
    url = f"{URL}{laser.pk}/maintenance/"
    response = client_for(manager).post(url, {"kind": "audit", "description": "Kiểm kê HK1",
                                              "cost_vnd": 0}, format="json")
    assert response.status_code == 201, response.json()
    laser.refresh_from_db()
    assert laser.last_audit_on is not None
    assert client_for(student).get(url).json()["count"] == 1
    assert client_for(other_manager).post(url, {"description": "x"},
                                          format="json").status_code == 403
    assert client_for(student).post(url, {"description": "x"}, format="json").status_code == 403
    assert client_for(manager).post(url, {"cost_vnd": -1}, format="json").status_code == 400
    assert MaintenanceRecord.objects.count() == 1


def test_categories(client_for, manager, student, anon, category):
    assert anon.get("/api/v1/equipment-categories/").status_code == 401
    assert client_for(student).get("/api/v1/equipment-categories/").json()["count"] == 1
    assert client_for(student).post("/api/v1/equipment-categories/", {"name": "Drone"},
                                    format="json").status_code == 403
    response = client_for(manager).post(
        "/api/v1/equipment-categories/", {"name": "Drone", "requires_certification": True},
        format="json")
    assert response.status_code == 201
    assert client_for(manager).post("/api/v1/equipment-categories/", {"name": "Drone"},
                                    format="json").status_code == 400
