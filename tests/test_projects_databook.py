"""/projects/<id>/databook/: the printable data book, for whoever may see the project."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.test import Client

from projects.models import Award, Milestone
from tests import factories as f
from tests import project_factories as pf


@pytest.fixture
def teammate(school):
    return f.user("hs.ndc.2", role="student", school=school, full_name="Trần Minh Thư")


@pytest.fixture
def project(school, student, teammate, teacher, mentor):
    project = pf.project(school, leader=student, members=[teammate], advisor=teacher,
                         mentors=[pf.mentor_profile(mentor)], title="Trà hoa sen sấy lạnh",
                         kind="startup", startup_stage="first_customers",
                         ip_status="trademark_filed")
    Milestone.objects.create(project=project, title="Nộp đơn nhãn hiệu",
                             due_on=datetime.date(2026, 3, 1))
    Award.objects.create(project=project, competition="Khởi nghiệp cấp tỉnh", level="province",
                         year=2025, result="Giải Nhì")
    return project


def browser(user=None, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def url(project):
    return f"/projects/{project.pk}/databook/"


def fill(project, student, teammate, teacher, kit, count):
    for index in range(count):
        entry = pf.entry(project, [student, teammate][index % 2],
                         date=datetime.date(2026, 1, 1) + datetime.timedelta(days=index),
                         hours="1.5", body=f"Buổi làm việc số {index + 1}.")
        entry.equipment.set([kit])
        pf.comment(entry, teacher, f"Nhận xét {index + 1}.")


def test_the_team_prints_the_whole_data_book(project, student, teammate, teacher, kit):
    fill(project, student, teammate, teacher, kit, 3)
    pf.entry(project, student, date=datetime.date(2026, 1, 20), hours="2.25",
             body="Bán thử 50 hộp.")
    response = browser(student).get(url(project))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="total-hours">6.75<' in html
    for text in ("Trà hoa sen sấy lạnh", "Trần Minh Thư", "Student Ndc", "Teacher Ndc",
                 "Nộp đơn nhãn hiệu", "Giải Nhì", "Buổi làm việc số 3", "Bán thử 50 hộp.",
                 "Nhận xét 2.", kit.name, "01/01/2026", "20/01/2026", "Trademark filed",
                 "First customers", "/static/css/databook.css"):
        assert text in html, text
    stylesheet = (settings.BASE_DIR / "static" / "css" / "databook.css").read_text()
    assert "@page { size: A4" in stylesheet
    # Entries by date, oldest first.
    assert html.index("Buổi làm việc số 1") < html.index("Buổi làm việc số 3") < html.index(
        "Bán thử")


def test_data_book_is_vietnamese_by_default(project, student):
    pf.entry(project, student, hours="2.5")
    html = browser(student, language="vi").get(url(project)).content.decode()
    assert '<html lang="vi">' in html
    assert 'id="total-hours">2,50<' in html


def test_no_external_resources(project, student):
    html = browser(student).get(url(project)).content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', html)


@pytest.mark.parametrize("name, code", [
    ("student", 200), ("teammate", 200), ("teacher", 200), ("mentor", 200), ("manager", 200),
    ("union", 200), ("other_student", 404), ("other_manager", 404),
])
def test_private_data_book_is_seen_as_the_project(request, project, name, code):
    assert browser(request.getfixturevalue(name)).get(url(project)).status_code == code


def test_anonymous_is_sent_to_sign_in_for_a_private_project(project, db):
    response = browser().get(url(project))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    missing = browser().get("/projects/999999/databook/")
    assert missing.status_code == 302  # the same answer: no hint that it exists


def test_public_data_book_hides_students_from_anonymous(project, student, teammate, teacher,
                                                       kit):
    project.visibility = "public"
    project.save()
    fill(project, student, teammate, teacher, kit, 2)
    response = browser().get(url(project))
    assert response.status_code == 200
    html = response.content.decode()
    for secret in (student.full_name, student.username, teammate.full_name, teammate.username):
        assert secret not in html
    assert "A student" in html and 'id="total-hours">3<' in html


@pytest.mark.parametrize("count", [1, 8])
def test_data_book_query_count_is_constant(django_assert_num_queries, project, student,
                                           teammate, teacher, kit, count):
    fill(project, student, teammate, teacher, kit, count)
    client = browser(student)
    client.get(url(project))  # warm the session
    # session, user, the project (visibility included), entries, their equipment, attachments
    # and comments, the team, mentors, milestones, awards
    with django_assert_num_queries(11):
        response = client.get(url(project))
    assert response.content.decode().count("Buổi làm việc số") == count
