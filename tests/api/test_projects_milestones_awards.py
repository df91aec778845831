"""projects/{id}/milestones/ and /awards/: read as the project, written (and deleted, audited)
by the team and the advisor."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from accounts.models import AuditEntry
from projects.models import Award, Milestone
from tests import factories as f
from tests import project_factories as pf


@pytest.fixture
def teammate(school):
    return f.user("hs.ndc.2", role="student", school=school)


@pytest.fixture
def project(school, student, teammate, teacher, mentor):
    return pf.project(school, leader=student, members=[teammate], advisor=teacher,
                      mentors=[pf.mentor_profile(mentor)])


def who(request, name):
    return None if name == "anon" else request.getfixturevalue(name)


def milestone_payload(**extra):
    return {"title": "Hoàn thành mạch đo", "description": "Hiệu chuẩn 3 mức.",
            "due_on": "2026-12-15"} | extra


def award_payload(**extra):
    return {"competition": "Cuộc thi Khoa học kỹ thuật cấp tỉnh", "level": "province",
            "year": timezone.localdate().year, "result": "Giải Ba"} | extra


RESOURCES = [("milestones", Milestone, milestone_payload), ("awards", Award, award_payload)]
WRITE_CODES = {"student": 201, "teammate": 201, "teacher": 201, "admin_user": 201,
               "mentor": 403, "manager": 403, "union": 403, "other_student": 404,
               "other_manager": 404, "anon": 401}


@pytest.mark.parametrize("resource, model, payload", RESOURCES)
@pytest.mark.parametrize("name", WRITE_CODES)
def test_who_writes_milestones_and_awards(client_for, request, project, resource, model,
                                          payload, name):
    url = f"/api/v1/projects/{project.pk}/{resource}/"
    response = client_for(who(request, name)).post(url, payload(), format="json")
    assert response.status_code == WRITE_CODES[name]
    assert model.objects.exists() == (WRITE_CODES[name] == 201)
    if WRITE_CODES[name] == 201:
        assert response.json()["project"] == project.pk
        assert AuditEntry.objects.filter(action__endswith=".created",
                                         object_id=str(response.json()["id"])).exists()


@pytest.mark.parametrize("resource, model, payload", RESOURCES)
def test_outsiders_cannot_write_on_a_public_project(client_for, project, other_student, resource,
                                                    model, payload):
    project.visibility = "public"
    project.save()
    url = f"/api/v1/projects/{project.pk}/{resource}/"
    assert client_for(other_student).post(url, payload(), format="json").status_code == 403


@pytest.mark.parametrize("resource, model, payload", RESOURCES)
@pytest.mark.parametrize("visibility, name, code", [
    ("private", "anon", 404), ("private", "other_student", 404), ("private", "mentor", 200),
    ("private", "manager", 200), ("private", "union", 200), ("public", "anon", 200),
    ("public", "other_student", 200),
])
def test_read_as_the_project(client_for, request, project, resource, model, payload,
                             visibility, name, code):
    project.visibility = visibility
    project.save()
    if model is Milestone:
        Milestone.objects.create(project=project, title="Mốc", due_on=datetime.date(2026, 12, 1))
    else:
        Award.objects.create(project=project, competition="ViSEF", level="national", year=2025,
                             result="Giải Tư")
    response = client_for(who(request, name)).get(f"/api/v1/projects/{project.pk}/{resource}/")
    assert response.status_code == code
    if code == 200:
        assert response.json()["count"] == 1


def test_milestone_is_completed_and_changes_are_audited(client_for, project, teacher):
    milestone = Milestone.objects.create(project=project, title="Mốc",
                                         due_on=datetime.date(2026, 1, 10))
    today = timezone.localdate().isoformat()
    response = client_for(teacher).patch(
        f"/api/v1/projects/{project.pk}/milestones/{milestone.pk}/", {"completed_on": today},
        format="json")
    assert response.status_code == 200
    assert response.json()["completed_on"] == today
    audit = AuditEntry.objects.get(action="milestone.changed")
    assert audit.data == {"completed_on": [None, today]} and audit.actor == teacher


@pytest.mark.parametrize("resource, model, payload", RESOURCES)
@pytest.mark.parametrize("name, code", [
    ("student", 204), ("teacher", 204), ("mentor", 403), ("manager", 403), ("union", 403),
    ("other_student", 404), ("anon", 401),
])
def test_delete_by_the_team_and_advisor_is_audited(client_for, request, project, resource, model,
                                                   payload, name, code):
    if model is Milestone:
        obj = Milestone.objects.create(project=project, title="Mốc sai",
                                       due_on=datetime.date(2026, 12, 1))
    else:
        obj = Award.objects.create(project=project, competition="Nhập nhầm", level="school",
                                   year=2025, result="Giải Nhất")
    response = client_for(who(request, name)).delete(
        f"/api/v1/projects/{project.pk}/{resource}/{obj.pk}/")
    assert response.status_code == code
    assert model.objects.filter(pk=obj.pk).exists() == (code != 204)
    if code == 204:
        audit = AuditEntry.objects.get(action__endswith=".deleted")
        assert audit.object_id == str(obj.pk) and audit.data["project"] == project.pk


def test_a_milestone_of_another_project_is_404(client_for, project, school, student):
    elsewhere = pf.project(school, leader=student)
    milestone = Milestone.objects.create(project=elsewhere, title="Mốc",
                                         due_on=datetime.date(2026, 12, 1))
    response = client_for(student).patch(
        f"/api/v1/projects/{project.pk}/milestones/{milestone.pk}/", {"title": "x"},
        format="json")
    assert response.status_code == 404


TOMORROW = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()


@pytest.mark.parametrize("extra, field", [
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"due_on": None}, "due_on"),
    ({"due_on": "mai"}, "due_on"),
    ({"completed_on": TOMORROW}, "completed_on"),
    ({"description": "x" * 5001}, "description"),
])
def test_bad_milestone_is_400(client_for, project, student, extra, field):
    body = {key: value for key, value in milestone_payload(**extra).items() if value is not None}
    response = client_for(student).post(f"/api/v1/projects/{project.pk}/milestones/", body,
                                        format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Milestone.objects.exists()


@pytest.mark.parametrize("extra, field", [
    ({"competition": ""}, "competition"),
    ({"level": "galactic"}, "level"),
    ({"year": 1999}, "year"),
    ({"year": 2999}, "year"),
    ({"year": datetime.date.today().year + 1}, "year"),
    ({"result": ""}, "result"),
    ({"result": "x" * 121}, "result"),
])
def test_bad_award_is_400(client_for, project, student, extra, field):
    response = client_for(student).post(f"/api/v1/projects/{project.pk}/awards/",
                                        award_payload(**extra), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert not Award.objects.exists()
