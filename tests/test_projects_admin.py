"""The projects admin: managers look at their school's projects and logbooks; nobody edits a
logbook or deletes anything; an admin's change goes through the service (and its audit)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEntry
from projects.models import LogEntry, Project, ProjectCategory
from tests import project_factories as pf


def browser(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def admin_url(name: str, *args) -> str:
    return reverse(f"admin:{name}", args=args)


@pytest.fixture
def own(school, student, teacher):
    return pf.project(school, leader=student, advisor=teacher, title="Dự án của trường mình")


@pytest.fixture
def foreign(other_school, other_student):
    return pf.project(other_school, leader=other_student, title="Dự án trường khác")


def test_manager_sees_only_their_schools_projects(manager, own, foreign):
    client = browser(manager)
    response = client.get(admin_url("projects_project_changelist"))
    assert response.status_code == 200
    assert set(response.context["cl"].result_list) == {own}
    assert client.get(admin_url("projects_project_change", own.pk)).status_code == 200
    assert client.get(admin_url("projects_project_change", foreign.pk)).status_code == 404


def test_manager_cannot_change_add_or_delete_a_project(manager, own):
    client = browser(manager)
    response = client.post(admin_url("projects_project_change", own.pk), {"title": "Đổi"})
    assert response.status_code == 403
    assert client.get(admin_url("projects_project_add")).status_code == 403
    assert client.get(admin_url("projects_project_delete", own.pk)).status_code == 403
    own.refresh_from_db()
    assert own.title == "Dự án của trường mình"


def test_logbook_is_read_only_for_everyone(manager, admin_user, own, student, foreign,
                                           other_student):
    entry = pf.entry(own, student)
    other = pf.entry(foreign, other_student)
    client = browser(manager)
    listed = client.get(admin_url("projects_logentry_changelist")).context["cl"].result_list
    assert set(listed) == {entry}
    assert client.get(admin_url("projects_logentry_change", other.pk)).status_code == 404
    for user in (manager, admin_user):
        client = browser(user)
        assert client.get(admin_url("projects_logentry_change", entry.pk)).status_code == 200
        assert client.post(admin_url("projects_logentry_change", entry.pk),
                           {"body": "Sửa"}).status_code == 403
        assert client.get(admin_url("projects_logentry_delete", entry.pk)).status_code == 403
    assert LogEntry.objects.get(pk=entry.pk).body != "Sửa"


def test_admin_changes_a_project_through_the_service(admin_user, own, teacher):
    client = browser(admin_user)
    page = client.get(admin_url("projects_project_change", own.pk))
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {key: ("" if value is None else value) for key, value in data.items()}
    data.update({"title": "Tên đã sửa", "status": "active", "mentors": []})
    for prefix in ("memberships", "milestones", "awards"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
                     f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"})
    response = client.post(admin_url("projects_project_change", own.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    own.refresh_from_db()
    assert own.title == "Tên đã sửa" and own.status == "active"
    audit = AuditEntry.objects.get(action="project.changed")
    assert audit.actor == admin_user
    assert audit.data["title"] == ["Dự án của trường mình", "Tên đã sửa"]


def test_admin_keeps_categories_through_the_service(admin_user, manager):
    client = browser(admin_user)
    response = client.post(admin_url("projects_projectcategory_add"), {
        "name_vi": "Toán học", "name_en": "Mathematics", "year": 2026, "is_active": "on"})
    assert response.status_code == 302
    assert ProjectCategory.objects.get().name_vi == "Toán học"
    assert AuditEntry.objects.filter(action="project_category.created").exists()
    again = client.post(admin_url("projects_projectcategory_add"), {
        "name_vi": "Toán", "name_en": "mathematics", "year": 2026, "is_active": "on"})
    assert again.status_code == 200
    assert "already has a category" in again.content.decode()
    manager_client = browser(manager)
    assert manager_client.get(admin_url("projects_projectcategory_changelist")).status_code == 200
    assert manager_client.get(admin_url("projects_projectcategory_add")).status_code == 403


def test_nothing_is_deleted_even_by_an_admin(admin_user, own):
    client = browser(admin_user)
    assert client.get(admin_url("projects_project_delete", own.pk)).status_code == 403
    assert Project.objects.filter(pk=own.pk).exists()
