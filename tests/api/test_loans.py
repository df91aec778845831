"""loans/: managers lend and take back; borrowers see their own; the Union sees all."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from spaces.models import Loan
from tests import factories as f

URL = "/api/v1/loans/"


def due(days=7):
    return (timezone.now() + datetime.timedelta(days=days)).isoformat()


def lend(client, item, person, quantity=1, **extra):
    return client.post(URL, {"equipment": item.pk, "borrower": person.pk,
                             "quantity": quantity, "due_at": due()} | extra, format="json")


def test_manager_lends_from_a_pool(client_for, manager, student, kit):
    response = lend(client_for(manager), kit, student, quantity=4)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["quantity"] == 4 and body["returned_at"] is None
    assert body["borrower"] == student.pk and body["lent_by"] == manager.pk
    assert body["checked_out_at"].endswith("+07:00")
    assert AuditEntry.objects.filter(action="loan.created", object_id=str(body["id"])).exists()
    available = client_for(student).get(f"/api/v1/equipment/{kit.pk}/").json()
    assert available["available_quantity"] == 6


def test_due_time_without_offset_means_vietnam_time(client_for, manager, student, kit):
    response = lend(client_for(manager), kit, student, due_at="2099-01-01T10:00")
    assert response.status_code == 201
    assert response.json()["due_at"] == "2099-01-01T10:00:00+07:00"


def test_lending_more_than_available_is_409(client_for, manager, student, teacher, kit):
    f.loan(kit, teacher, manager, quantity=8)
    response = lend(client_for(manager), kit, student, quantity=3)
    assert response.status_code == 409
    assert "detail" in response.json()
    assert Loan.objects.count() == 1


def test_an_asset_on_loan_cannot_be_lent_again(client_for, manager, student, teacher, space,
                                               category):
    laptop = f.asset(space, category, name="Laptop")
    assert lend(client_for(manager), laptop, teacher).status_code == 201
    assert lend(client_for(manager), laptop, student).status_code == 409


def test_broken_item_cannot_be_lent(client_for, manager, student, space, category):
    drill = f.asset(space, category, name="Máy khoan", status="broken")
    assert lend(client_for(manager), drill, student).status_code == 409


def test_certification_gate(client_for, manager, student, laser):
    response = lend(client_for(manager), laser, student)
    assert response.status_code == 403
    assert "laser" in response.json()["detail"].lower()
    f.certification(student, laser.category, manager)
    assert lend(client_for(manager), laser, student).status_code == 201


def test_expired_certification_does_not_count(client_for, manager, student, laser):
    f.certification(student, laser.category, manager,
                    certified_on=datetime.date(2024, 1, 1), expires_on=datetime.date(2024, 6, 1))
    assert lend(client_for(manager), laser, student).status_code == 403


@pytest.mark.parametrize("who", ["other_manager", "teacher", "student", "union", "mentor"])
def test_only_the_schools_manager_lends(client_for, request, student, kit, who):
    response = lend(client_for(request.getfixturevalue(who)), kit, student)
    assert response.status_code == 403
    assert not Loan.objects.exists()


def test_anonymous_cannot_lend(anon, student, kit):
    assert lend(anon, kit, student).status_code == 401


def test_cannot_lend_to_another_schools_student(client_for, manager, other_student, kit):
    response = lend(client_for(manager), kit, other_student)
    assert response.status_code == 400
    assert "borrower" in response.json()


@pytest.mark.parametrize("extra, field", [
    ({"quantity": 0}, "quantity"),
    ({"quantity": -2}, "quantity"),
    ({"quantity": "two"}, "quantity"),
    ({"due_at": "tomorrow"}, "due_at"),
    ({"due_at": "2020-01-01T10:00:00+07:00"}, "due_at"),
    ({"equipment": 999999}, "equipment"),
    ({"borrower": 999999}, "borrower"),
    ({"borrower": None}, "borrower"),
    ({"notes": "x" * 1000}, "notes"),
])
def test_bad_loan_input_is_400(client_for, manager, student, kit, extra, field):
    response = lend(client_for(manager), kit, student, **extra)
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Loan.objects.exists()


def test_return(client_for, manager, student, other_manager, kit):
    loan = f.loan(kit, student, manager, quantity=2)
    url = f"{URL}{loan.pk}/return/"
    assert client_for(student).post(url, {}, format="json").status_code == 403
    assert client_for(other_manager).post(url, {}, format="json").status_code == 404
    response = client_for(manager).post(url, {"condition": "Tốt"}, format="json")
    assert response.status_code == 200
    assert response.json()["returned_at"] is not None
    assert response.json()["return_condition"] == "Tốt"
    assert client_for(manager).post(url, {}, format="json").status_code == 409
    assert AuditEntry.objects.filter(action="loan.returned").count() == 1
    kit_body = client_for(manager).get(f"/api/v1/equipment/{kit.pk}/").json()
    assert kit_body["available_quantity"] == 10


def test_return_of_unknown_loan_is_404(client_for, manager, db):
    assert client_for(manager).post(f"{URL}999999/return/", {}, format="json").status_code == 404


def test_return_rejects_bad_condition(client_for, manager, student, kit):
    loan = f.loan(kit, student, manager)
    response = client_for(manager).post(f"{URL}{loan.pk}/return/", {"condition": "x" * 300},
                                        format="json")
    assert response.status_code == 400
    loan.refresh_from_db()
    assert loan.returned_at is None


def test_who_sees_which_loans(client_for, manager, student, teacher, other_manager, union,
                              other_student, kit, other_space, category):
    mine = f.loan(kit, student, manager)
    f.loan(kit, teacher, manager)
    other_kit = f.stock(other_space, category)
    f.loan(other_kit, other_student, other_manager)

    def ids(user):
        return {row["id"] for row in client_for(user).get(URL).json()["results"]}

    assert ids(student) == {mine.pk}
    assert len(ids(manager)) == 2
    assert len(ids(other_manager)) == 1
    assert len(ids(union)) == 3
    assert client_for(other_manager).get(f"{URL}{mine.pk}/").status_code == 404
    assert client_for(teacher).get(f"{URL}{mine.pk}/").status_code == 404


def test_anonymous_cannot_list_loans(anon):
    assert anon.get(URL).status_code == 401


def test_loan_filters(client_for, manager, student, teacher, kit):
    now = timezone.now()
    f.loan(kit, student, manager, checked_out_at=now - datetime.timedelta(days=10), days=3)
    f.loan(kit, teacher, manager)
    f.loan(kit, teacher, manager, returned_at=now)
    client = client_for(manager)
    assert client.get(URL, {"overdue": "true"}).json()["count"] == 1
    assert client.get(URL, {"overdue": "false"}).json()["count"] == 2
    assert client.get(URL, {"open": "true"}).json()["count"] == 2
    assert client.get(URL, {"open": "false"}).json()["count"] == 1
    assert client.get(URL, {"borrower": teacher.pk}).json()["count"] == 2
    assert client.get(URL, {"borrower": "me"}).json()["count"] == 0
    assert client_for(student).get(URL, {"borrower": "me"}).json()["count"] == 1
    assert client.get(URL, {"equipment": kit.pk}).json()["count"] == 3
    assert client.get(URL, {"borrower": "someone"}).status_code == 400
    overdue = client.get(URL, {"overdue": "true"}).json()["results"][0]
    assert overdue["is_overdue"] is True


@pytest.mark.parametrize("borrower", ["999999999999999999999999999999", "²", "١"])
def test_borrower_filter_out_of_range_is_400(client_for, manager, borrower):
    # Found by make test-fuzz: an id larger than the database holds was a 500.
    response = client_for(manager).get(URL, {"borrower": borrower})
    assert response.status_code == 400
    assert "borrower" in response.json()


def test_loans_cannot_be_deleted_or_edited(client_for, manager, student, kit):
    loan = f.loan(kit, student, manager)
    client = client_for(manager)
    assert client.delete(f"{URL}{loan.pk}/").status_code == 405
    assert client.patch(f"{URL}{loan.pk}/", {"quantity": 9}, format="json").status_code == 405
