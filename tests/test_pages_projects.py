"""/projects/: the showcase, a project's page and the phone logbook form."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from projects.models import Award, LogAttachment, LogComment, LogEntry, Milestone
from tests import factories as f
from tests import project_factories as pf

LEADER_NAME = "Nguyễn Văn An"
TEAMMATE_NAME = "Trần Minh Thư"


@pytest.fixture
def teammate(school):
    return f.user("hs.ndc.2", role="student", school=school, full_name=TEAMMATE_NAME)


@pytest.fixture
def leader(school):
    return f.user("hs.ndc.1", role="student", school=school, full_name=LEADER_NAME)


@pytest.fixture
def project(school, leader, teammate, teacher, mentor):
    project = pf.project(school, leader=leader, members=[teammate], advisor=teacher,
                         mentors=[pf.mentor_profile(mentor)], title="Trà hoa sen sấy lạnh",
                         kind="startup", visibility="public", summary="Sấy lạnh giữ hương sen.",
                         category=pf.category("Food", name_vi="Thực phẩm"))
    Milestone.objects.create(project=project, title="Nộp đơn nhãn hiệu",
                             due_on=datetime.date(2026, 3, 1))
    Award.objects.create(project=project, competition="Khởi nghiệp cấp tỉnh", level="province",
                         year=2025, result="Giải Nhì")
    return project


@pytest.fixture
def private_project(school, student):
    return pf.project(school, leader=student, title="Dự án bí mật")


def page(user=None, language="vi") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


# --- the showcase -------------------------------------------------------------------------------

def test_anonymous_showcase_shows_public_projects_without_students_names(project,
                                                                       private_project):
    response = page().get("/projects/")

    assert response.status_code == 200
    body = html(response)
    assert '<html lang="vi">' in body
    assert "Trà hoa sen sấy lạnh" in body
    assert "Giải Nhì" in body and "Khởi nghiệp cấp tỉnh" in body
    assert "Thực phẩm" in body
    assert "Dự án bí mật" not in body
    assert LEADER_NAME not in body and TEAMMATE_NAME not in body
    assert "hs.ndc" not in body


def test_anonymous_team_is_shown_as_size_and_roles(project):
    body = html(page(language="en").get("/projects/"))

    assert "a team of 2 students: 1 leader, 1 member" in body


def test_signed_in_people_see_names_and_their_private_projects(project, private_project,
                                                               student):
    body = html(page(student).get("/projects/"))

    assert "Dự án bí mật" in body
    assert LEADER_NAME in body


def test_others_do_not_see_a_private_project(private_project, other_student):
    assert "Dự án bí mật" not in html(page(other_student).get("/projects/"))


@pytest.mark.parametrize("query, shown", [
    ("", {"Trà hoa sen sấy lạnh", "Robot tưới cây"}),
    ("kind=startup", {"Trà hoa sen sấy lạnh"}),
    ("kind=engineering", {"Robot tưới cây"}),
    ("status=prototype", {"Robot tưới cây"}),
    ("school=OTHER", {"Robot tưới cây"}),
    ("category=CATEGORY", {"Trà hoa sen sấy lạnh"}),
])
def test_showcase_filters(project, other_school, query, shown):
    pf.project(other_school, title="Robot tưới cây", kind="engineering", status="prototype",
               visibility="public")
    query = (query.replace("OTHER", str(other_school.pk))
             .replace("CATEGORY", str(project.category_id)))
    body = html(page().get(f"/projects/?{query}"))

    titles = {"Trà hoa sen sấy lạnh", "Robot tưới cây"}
    assert {title for title in titles if title in body} == shown


def test_a_bad_filter_is_ignored_with_an_error_on_its_field(project):
    body = html(page().get("/projects/?school=999999"))

    assert "Trà hoa sen sấy lạnh" in body
    assert 'aria-describedby="id_school_errors"' in body
    assert 'id="id_school_errors"' in body


def _fill_showcase(school, count):
    students = [f.user(role="student", school=school) for _ in range(count)]
    for index, person in enumerate(students):
        project = pf.project(school, leader=person, visibility="public")
        Award.objects.create(project=project, competition=f"Cuộc thi {index}", level="school",
                             year=2025, result="Giải Ba")


@pytest.mark.parametrize("who", [None, "student"])
def test_showcase_makes_a_fixed_number_of_queries(school, request, who,
                                                  django_assert_num_queries):
    client = page(request.getfixturevalue(who) if who else None)
    # Anonymous: count, projects, teams, awards, schools, categories. Signed in: + session,
    # user.
    expected = 6 if who is None else 8
    _fill_showcase(school, 2)
    with django_assert_num_queries(expected):
        client.get("/projects/")
    _fill_showcase(school, 8)
    with django_assert_num_queries(expected):
        client.get("/projects/")


# --- a project's page ---------------------------------------------------------------------------

def test_project_page_anonymous_sees_the_work_but_no_students(project, leader, teacher, mentor,
                                                              kit, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    entry = pf.entry(project, leader, date=datetime.date(2026, 2, 3), hours="1.5",
                     body="Thử sấy ở 40 độ.")
    entry.equipment.set([kit])
    pf.comment(entry, teacher, "Ghi nhiệt độ mỗi giờ.")
    LogAttachment.objects.create(entry=entry, file="logbook/x.png", original_name="ảnh-máy.png",
                                 content_type="image/png", size=10, uploaded_by=leader)

    body = html(page().get(f"/projects/{project.pk}/"))

    assert "Trà hoa sen sấy lạnh" in body
    assert "03/02/2026" in body and "1,5" in body
    assert "Thử sấy ở 40 độ." in body
    assert "Bộ kit Arduino" in body
    assert "Ghi nhiệt độ mỗi giờ." in body
    assert teacher.full_name in body and mentor.full_name in body  # adults at work
    assert "Nộp đơn nhãn hiệu" in body and "01/03/2026" in body
    assert "Giải Nhì" in body
    assert f'href="/projects/{project.pk}/databook/"' in body
    assert LEADER_NAME not in body and TEAMMATE_NAME not in body
    assert "ảnh-máy.png" not in body  # attachments: a count, no file
    assert "/file/" not in body


def test_project_page_for_signed_in_shows_team_and_attachments(project, leader, other_student,
                                                               tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    entry = pf.entry(project, leader)
    attachment = LogAttachment.objects.create(entry=entry, file="logbook/x.png",
                                              original_name="ảnh-máy.png",
                                              content_type="image/png", size=10,
                                              uploaded_by=leader)
    body = html(page(other_student).get(f"/projects/{project.pk}/"))

    assert LEADER_NAME in body and TEAMMATE_NAME in body
    assert "ảnh-máy.png" in body
    assert (f"/api/v1/projects/{project.pk}/log/{entry.pk}/attachments/"
            f"{attachment.pk}/file/") in body
    # Only members are offered the logbook form.
    assert f"/projects/{project.pk}/log/new/" not in body


def test_members_are_offered_the_logbook_form(project, leader):
    assert f'href="/projects/{project.pk}/log/new/"' in html(page(leader).get(
        f"/projects/{project.pk}/"))


def test_private_project_page(private_project, student, other_student, union):
    url = f"/projects/{private_project.pk}/"
    assert page(student).get(url).status_code == 200
    assert page(union).get(url).status_code == 200
    assert page(other_student).get(url).status_code == 404
    anonymous = page().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_missing_project_is_404_for_signed_in(student):
    assert page(student).get("/projects/999999/").status_code == 404


@pytest.mark.parametrize("who", [None, "leader"])
def test_project_page_makes_a_fixed_number_of_queries(project, teammate, kit, teacher, request,
                                                      who, django_assert_num_queries):
    client = page(request.getfixturevalue(who) if who else None)
    # project, team, mentors, entries, equipment, attachments, comments, milestones, awards;
    # signed in: + session, user, may_comment (is_mentor_of is not asked of a student).
    expected = 9 if who is None else 11

    def fill(count):
        for _ in range(count):
            entry = pf.entry(project, teammate)
            entry.equipment.set([kit])
            pf.comment(entry, teacher)

    fill(2)
    with django_assert_num_queries(expected):
        client.get(f"/projects/{project.pk}/")
    fill(8)
    with django_assert_num_queries(expected):
        client.get(f"/projects/{project.pk}/")


# --- writing the logbook ------------------------------------------------------------------------

def log_url(project):
    return f"/projects/{project.pk}/log/new/"


def test_log_form_defaults_to_today_and_lists_the_schools_equipment(project, leader, kit,
                                                                    other_space):
    other_kit = f.stock(other_space, f.category("Khác"), name="Kit trường khác")
    body = html(page(leader).get(log_url(project)))

    assert f'value="{timezone.localdate().isoformat()}"' in body
    assert 'type="date"' in body and 'inputmode="decimal"' in body
    assert 'type="file"' in body and 'accept="image/*' in body
    assert "Bộ kit Arduino" in body and other_kit.name not in body
    assert 'name="viewport"' in body


def test_member_writes_an_entry_with_equipment(project, leader, kit):
    response = page(leader).post(log_url(project), {
        "date": "2026-01-05", "hours": "2.5", "body": "Đo độ ẩm sau sấy.",
        "equipment": [kit.pk]})

    entry = LogEntry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/#entry-{entry.pk}"
    assert (entry.author, entry.date, str(entry.hours)) == (leader, datetime.date(2026, 1, 5),
                                                            "2.50")
    assert list(entry.equipment.all()) == [kit]


def test_member_attaches_a_photo_through_the_attachment_service(project, leader, tmp_path,
                                                                settings):
    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile("máy sấy.png", pf.PNG, content_type="image/png")
    response = page(leader).post(log_url(project), {
        "date": timezone.localdate().isoformat(), "hours": "1", "body": "Chụp mẫu.",
        "photo": photo})

    assert response.status_code == 302
    attachment = LogAttachment.objects.get()
    assert attachment.original_name == "máy sấy.png"
    assert attachment.content_type == "image/png"
    assert (tmp_path / attachment.file.name).exists()


def test_a_refused_photo_writes_no_entry_and_says_why_on_the_field(project, leader, tmp_path,
                                                                   settings):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("virus.png", pf.EXE, content_type="image/png")
    response = page(leader, "en").post(log_url(project), {
        "date": timezone.localdate().isoformat(), "hours": "1", "body": "Chụp mẫu.",
        "photo": fake})

    assert response.status_code == 200
    body = html(response)
    assert "The file&#x27;s content is not a .png file." in body
    assert re.search(r'<input[^>]*type="file"[^>]*aria-describedby="id_photo_errors', body)
    assert not LogEntry.objects.exists() and not LogAttachment.objects.exists()


def test_future_date_is_refused_on_the_date_field(project, leader):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = page(leader, "en").post(log_url(project), {
        "date": tomorrow.isoformat(), "hours": "1", "body": "x"})

    body = html(response)
    assert "A logbook entry cannot be dated in the future." in body
    assert 'id="id_date_errors"' in body
    assert 'aria-invalid="true"' in body
    assert not LogEntry.objects.exists()


def test_missing_fields_are_tied_to_their_inputs(project, leader):
    body = html(page(leader).post(log_url(project), {"date": "", "hours": "", "body": ""}))

    for name in ("date", "hours", "body"):
        assert f'aria-describedby="id_{name}_errors"' in body
        assert f'id="id_{name}_errors"' in body


@pytest.mark.parametrize("who, code", [("teacher", 403), ("other_student", 403),
                                       ("student", 403)])
def test_only_members_write_the_logbook(project, request, who, code):
    client = page(request.getfixturevalue(who))
    assert client.get(log_url(project)).status_code == code
    assert client.post(log_url(project), {"date": "2026-01-05", "hours": "1",
                                          "body": "x"}).status_code == code
    assert not LogEntry.objects.exists()


def test_an_unseen_project_is_404(private_project, other_student):
    assert page(other_student).get(log_url(private_project)).status_code == 404


def test_anonymous_is_sent_to_log_in(project):
    response = page().get(log_url(project))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- comments -----------------------------------------------------------------------------------

def comment_url(project, entry):
    return f"/projects/{project.pk}/log/{entry.pk}/comment/"


@pytest.mark.parametrize("who", ["teacher", "mentor"])
def test_advisor_and_mentors_comment(project, leader, request, who):
    entry = pf.entry(project, leader)
    user = request.getfixturevalue(who)
    client = page(user)
    assert 'name="body"' in html(client.get(f"/projects/{project.pk}/"))

    response = client.post(comment_url(project, entry), {"body": "Thêm đối chứng."})

    assert response.status_code == 302
    assert LogComment.objects.get().author == user


def test_members_cannot_comment(project, leader):
    entry = pf.entry(project, leader)
    response = page(leader).post(comment_url(project, entry), {"body": "Tự khen."}, follow=True)

    assert not LogComment.objects.exists()
    assert "alert" in html(response) or "message error" in html(response)
