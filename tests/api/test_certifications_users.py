"""certifications/ and users/: managers certify and look up people of their school."""

import datetime

import pytest

from accounts.models import AuditEntry, Certification
from tests import factories as f

URL = "/api/v1/certifications/"


def certify(client, person, category, **extra):
    return client.post(URL, {"user": person.pk, "category": category.pk} | extra, format="json")


def test_manager_certifies_own_student(client_for, manager, student, gated_category):
    response = certify(client_for(manager), student, gated_category, expires_on="2099-12-31")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["certified_by"] == manager.pk and body["is_current"] is True
    assert AuditEntry.objects.filter(action="certification.granted").exists()


@pytest.mark.parametrize("who", ["other_manager", "teacher", "student", "union", "mentor"])
def test_others_cannot_certify(client_for, request, student, gated_category, who):
    response = certify(client_for(request.getfixturevalue(who)), student, gated_category)
    assert response.status_code == 403
    assert not Certification.objects.exists()


def test_anonymous_cannot_certify(anon, student, gated_category):
    assert certify(anon, student, gated_category).status_code == 401


@pytest.mark.parametrize("extra, field", [
    ({"certified_on": "2026-05-01", "expires_on": "2026-01-01"}, "expires_on"),
    ({"expires_on": "someday"}, "expires_on"),
    ({"category": 99999}, "category"),
    ({"user": 99999}, "user"),
])
def test_bad_certification_is_400(client_for, manager, student, gated_category, extra, field):
    body = {"user": student.pk, "category": gated_category.pk} | extra
    response = client_for(manager).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Certification.objects.exists()


def test_who_sees_certifications(client_for, manager, student, teacher, other_manager, union,
                                 gated_category):
    cert = f.certification(student, gated_category, manager)
    f.certification(teacher, gated_category, manager)
    assert client_for(student).get(URL).json()["count"] == 1
    assert client_for(manager).get(URL).json()["count"] == 2
    assert client_for(union).get(URL).json()["count"] == 2
    assert client_for(other_manager).get(URL).json()["count"] == 0
    assert client_for(other_manager).get(f"{URL}{cert.pk}/").status_code == 404
    assert client_for(student).get(URL, {"user": "me"}).json()["count"] == 1


def test_revoke(client_for, manager, other_manager, student, gated_category):
    cert = f.certification(student, gated_category, manager)
    assert client_for(student).post(f"{URL}{cert.pk}/revoke/").status_code == 403
    assert client_for(other_manager).post(f"{URL}{cert.pk}/revoke/").status_code == 404
    response = client_for(manager).post(f"{URL}{cert.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["is_current"] is False


def test_expiry_is_respected(manager, student, gated_category):
    cert = f.certification(student, gated_category, manager,
                           certified_on=datetime.date(2026, 1, 1),
                           expires_on=datetime.date(2026, 6, 30))
    assert cert.is_valid_on(datetime.date(2026, 6, 30))
    assert not cert.is_valid_on(datetime.date(2026, 7, 1))


def test_users_list_is_scoped(client_for, manager, teacher, student, other_student, union,
                              anon):
    assert anon.get("/api/v1/users/").status_code == 401
    assert client_for(teacher).get("/api/v1/users/").status_code == 403
    assert client_for(student).get("/api/v1/users/").status_code == 403
    names = {row["username"] for row in client_for(manager).get("/api/v1/users/").json()["results"]}
    assert names == {"manager.ndc", "teacher.ndc", "student.ndc"}
    assert client_for(union).get("/api/v1/users/").json()["count"] == 5
    assert client_for(manager).get("/api/v1/users/", {"role": "student"}).json()["count"] == 1
    assert client_for(manager).get(f"/api/v1/users/{other_student.pk}/").status_code == 404
