"""projects/{id}/log/: the data book. Members write, authors change an entry for 7 days, the
advisor and mentors comment, attachments are checked by name and content; nothing is deleted."""

from __future__ import annotations

import datetime
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import AuditEntry
from projects.models import LogAttachment, LogComment, LogEntry
from tests import factories as f
from tests import project_factories as pf


@pytest.fixture
def teammate(school):
    return f.user("hs.ndc.2", role="student", school=school, full_name="Trần Minh Thư")


@pytest.fixture
def outsider(school):
    return f.user("hs.ndc.9", role="student", school=school)


@pytest.fixture
def project_mentor(mentor):
    return pf.mentor_profile(mentor)


@pytest.fixture
def other_mentor(db):
    user = f.user("mentor2", role="mentor")
    pf.mentor_profile(user)
    return user


@pytest.fixture
def project(school, student, teammate, teacher, project_mentor):
    return pf.project(school, leader=student, members=[teammate], advisor=teacher,
                      mentors=[project_mentor], title="Cảnh báo xâm nhập mặn")


@pytest.fixture
def public_project(project):
    project.visibility = "public"
    project.save()
    return project


def log_url(project, entry=None, tail=""):
    url = f"/api/v1/projects/{project.pk}/log/"
    if entry is not None:
        url += f"{entry.pk}/"
    return url + tail


def who(request, name):
    return None if name == "anon" else request.getfixturevalue(name)


def write(client, project, **extra):
    return client.post(log_url(project), {"date": timezone.localdate().isoformat(),
                                          "hours": "2.5", "body": "Hiệu chuẩn cảm biến độ mặn."}
                       | extra, format="json")


EVERYONE = ["anon", "other_student", "outsider", "student", "teammate", "teacher", "mentor",
            "other_mentor", "manager", "other_manager", "union"]
SEE_PRIVATE = {"student", "teammate", "teacher", "mentor", "manager", "union"}
MEMBERS = {"student", "teammate"}


# --- reading -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", EVERYONE)
def test_private_logbook_is_read_as_the_project(client_for, request, project, student, name):
    entry = pf.entry(project, student)
    client = client_for(who(request, name))
    expected = 200 if name in SEE_PRIVATE else 404
    assert client.get(log_url(project)).status_code == expected
    assert client.get(log_url(project, entry)).status_code == expected
    assert client.get(log_url(project, entry, "comments/")).status_code == expected
    assert client.get(log_url(project, entry, "attachments/")).status_code == expected


@pytest.mark.parametrize("name", ["other_student", "outsider", "other_mentor", "other_manager"])
def test_strangers_writing_to_a_private_project_find_nothing(client_for, request, project,
                                                             student, name):
    # The project is looked up before the body: a bad body must not tell that it exists.
    entry = pf.entry(project, student)
    client = client_for(request.getfixturevalue(name))
    for url, body in [(log_url(project), {"hours": "99"}),
                      (log_url(project, entry, "comments/"), {"body": ""}),
                      (f"/api/v1/projects/{project.pk}/milestones/", {"title": ""}),
                      (f"/api/v1/projects/{project.pk}/awards/", {"level": "galaxy"})]:
        response = client.post(url, body, format="json")
        assert response.status_code == 404, (url, response.json())
    assert LogComment.objects.count() == 0 and LogEntry.objects.count() == 1


@pytest.mark.parametrize("name", EVERYONE)
def test_public_logbook_is_read_by_anyone(client_for, request, public_project, student, name):
    pf.entry(public_project, student, hours="3")
    response = client_for(who(request, name)).get(log_url(public_project))
    assert response.status_code == 200
    assert response.json()["results"][0]["hours"] == "3.00"


def test_anonymous_readers_do_not_learn_who_wrote(anon, public_project, student, teacher, media):
    entry = pf.entry(public_project, student)
    pf.comment(entry, teacher)
    LogAttachment.objects.create(entry=entry, file="logbook/x.png", original_name="Bảo.png",
                                 content_type="image/png", size=10, uploaded_by=student)
    response = anon.get(log_url(public_project))
    text = response.content.decode()
    assert student.username not in text and student.full_name not in text
    assert "Bảo.png" not in text
    [row] = response.json()["results"]
    assert row["author"] is None and row["author_name"] is None
    assert row["attachments"][0]["name"] is None and row["attachments"][0]["url"] is None
    assert row["comments"][0]["author_name"] == teacher.full_name


def test_entry_shape(client_for, project, student, teacher, space, kit):
    booking = f.booking(space, student, start=f.at(timezone.localdate(), "08:00"),
                        end=f.at(timezone.localdate(), "10:00"))
    entry = pf.entry(project, student, hours="1.5", booking=booking)
    entry.equipment.set([kit])
    pf.comment(entry, teacher, "Tốt.")
    body = client_for(student).get(log_url(project, entry)).json()
    assert body["author"] == student.pk and body["author_name"] == student.full_name
    assert body["hours"] == "1.50" and body["equipment"] == [kit.pk]
    assert body["booking"] == booking.pk
    assert [c["body"] for c in body["comments"]] == ["Tốt."]
    assert body["attachments"] == []
    editable = datetime.datetime.fromisoformat(body["editable_until"])
    assert editable - entry.created_at == datetime.timedelta(days=7)
    assert body["editable_until"].endswith("+07:00")


# --- writing entries ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", EVERYONE)
def test_only_members_write_entries(client_for, request, project, name):
    response = write(client_for(who(request, name)), project)
    if name == "anon":
        expected = 401
    elif name in MEMBERS:
        expected = 201
    elif name in SEE_PRIVATE:
        expected = 403
    else:
        expected = 404
    assert response.status_code == expected
    assert LogEntry.objects.exists() == (expected == 201)


def test_outsiders_cannot_write_in_a_public_logbook(client_for, public_project, other_student,
                                                    other_mentor):
    assert write(client_for(other_student), public_project).status_code == 403
    assert write(client_for(other_mentor), public_project).status_code == 403


def test_member_writes_an_entry_with_equipment_and_booking(client_for, project, student, space,
                                                           kit):
    booking = f.booking(space, student, start=f.at(timezone.localdate(), "08:00"),
                        end=f.at(timezone.localdate(), "10:00"))
    response = write(client_for(student), project, equipment=[kit.pk], booking=booking.pk)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["author"] == student.pk and body["project"] == project.pk
    assert body["equipment"] == [kit.pk] and body["booking"] == booking.pk
    audit = AuditEntry.objects.get(action="logentry.created", object_id=str(body["id"]))
    assert audit.actor == student and audit.school_id == project.school_id
    assert audit.data["hours"] == "2.50" and audit.data["equipment"] == [kit.pk]


def test_a_member_who_left_cannot_write(client_for, project, teammate):
    project.memberships.filter(user=teammate).update(left_on=timezone.localdate())
    assert write(client_for(teammate), project).status_code == 404


@pytest.mark.parametrize("extra, field", [
    ({"hours": "25"}, "hours"),
    ({"hours": "-1"}, "hours"),
    ({"hours": "abc"}, "hours"),
    ({"hours": "1.234"}, "hours"),
    ({"hours": None}, "hours"),
    ({"body": ""}, "body"),
    ({"body": "   "}, "body"),
    ({"date": "hôm qua"}, "date"),
    ({"date": "{tomorrow}"}, "date"),
    ({"equipment": [999999]}, "equipment"),
    ({"equipment": "{other_kit}"}, "equipment"),
    ({"equipment": "kit"}, "equipment"),
    ({"booking": 999999}, "booking"),
    ({"booking": "{other_booking}"}, "booking"),
])
def test_bad_entry_input_is_400_and_writes_nothing(client_for, project, student, other_space,
                                                   other_manager, category, extra, field):
    other_kit = f.stock(other_space, category, name="Kit trường khác")
    day = f.next_weekday(0)
    other_booking = f.booking(other_space, other_manager, start=f.at(day, "08:00"),
                              end=f.at(day, "09:00"))
    values = {"{tomorrow}": (timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
              "{other_kit}": [other_kit.pk], "{other_booking}": other_booking.pk}
    extra = {key: values.get(value, value) if isinstance(value, str) else value
             for key, value in extra.items()}
    extra = {key: value for key, value in extra.items() if value is not None}
    body = {"date": timezone.localdate().isoformat(), "hours": "2", "body": "Đo."} | extra
    if field == "hours" and "hours" not in extra:
        del body["hours"]
    response = client_for(student).post(log_url(project), body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert not LogEntry.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="logentry").exists()


# --- the 7-day rule: append-only afterwards ----------------------------------------------------

def test_author_changes_an_entry_within_seven_days(client_for, project, student):
    entry = pf.entry(project, student, body="Đo 3 mẫu.", days_old=6.9)
    response = client_for(student).patch(log_url(project, entry), {"body": "Đo 4 mẫu."},
                                         format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["body"] == "Đo 4 mẫu."
    # The audit keeps what the entry said before.
    audit = AuditEntry.objects.get(action="logentry.changed", object_id=str(entry.pk))
    assert audit.data == {"body": ["Đo 3 mẫu.", "Đo 4 mẫu."]}


def test_after_seven_days_an_entry_is_fixed(client_for, project, student):
    entry = pf.entry(project, student, body="Đo 3 mẫu.", days_old=7.01)
    client = client_for(student)
    response = client.patch(log_url(project, entry), {"body": "Sửa lại."}, format="json")
    assert response.status_code == 403
    assert "7" in response.json()["detail"]
    assert client.put(log_url(project, entry), {"date": entry.date.isoformat(), "hours": "1",
                                                "body": "x"}, format="json").status_code == 403
    entry.refresh_from_db()
    assert entry.body == "Đo 3 mẫu."
    # Appending is still open.
    assert write(client, project).status_code == 201


def test_time_moving_past_the_window_locks_the_entry(client_for, project, student):
    entry = pf.entry(project, student)
    client = client_for(student)
    assert client.patch(log_url(project, entry), {"hours": "3"}, format="json").status_code == 200
    LogEntry.objects.filter(pk=entry.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=7, minutes=1))
    assert client.patch(log_url(project, entry), {"hours": "4"}, format="json").status_code == 403


@pytest.mark.parametrize("name, code", [
    ("teammate", 403), ("teacher", 403), ("manager", 403), ("union", 403), ("mentor", 403),
    ("other_student", 404), ("anon", 401),
])
def test_only_the_author_changes_an_entry(client_for, request, project, student, name, code):
    entry = pf.entry(project, student, body="Đo 3 mẫu.")
    response = client_for(who(request, name)).patch(log_url(project, entry), {"body": "Khác."},
                                                    format="json")
    assert response.status_code == code
    entry.refresh_from_db()
    assert entry.body == "Đo 3 mẫu."


@pytest.mark.parametrize("days_old", [0, 30])
@pytest.mark.parametrize("name", ["student", "teacher", "admin_user"])
def test_entries_are_never_deleted(client_for, request, project, student, name, days_old):
    entry = pf.entry(project, student, days_old=days_old)
    response = client_for(request.getfixturevalue(name)).delete(log_url(project, entry))
    assert response.status_code == 405
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_an_entry_change_is_checked_like_a_new_one(client_for, project, student, other_space,
                                                   category):
    entry = pf.entry(project, student)
    other_kit = f.stock(other_space, category)
    response = client_for(student).patch(log_url(project, entry), {"equipment": [other_kit.pk]},
                                         format="json")
    assert response.status_code == 400
    assert "equipment" in response.json()


# --- comments ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, code", [
    ("teacher", 201), ("mentor", 201), ("student", 403), ("teammate", 403), ("manager", 403),
    ("union", 403), ("other_mentor", 404), ("other_student", 404), ("outsider", 404),
    ("anon", 401),
])
def test_the_advisor_and_mentors_comment(client_for, request, project, student, name, code):
    entry = pf.entry(project, student, days_old=30)  # old entries are still commented on
    response = client_for(who(request, name)).post(log_url(project, entry, "comments/"),
                                                   {"body": "Ghi rõ đơn vị đo."}, format="json")
    assert response.status_code == code
    assert LogComment.objects.exists() == (code == 201)
    if code == 201:
        assert response.json()["author"] == request.getfixturevalue(name).pk
        assert AuditEntry.objects.filter(action="logcomment.created").exists()


def test_other_mentors_cannot_comment_on_a_public_project(client_for, public_project, student,
                                                         other_mentor):
    entry = pf.entry(public_project, student)
    response = client_for(other_mentor).post(log_url(public_project, entry, "comments/"),
                                             {"body": "Hay."}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": "   "}, {"body": "x" * 5001}])
def test_bad_comment_is_400(client_for, project, student, teacher, body):
    entry = pf.entry(project, student)
    response = client_for(teacher).post(log_url(project, entry, "comments/"), body,
                                        format="json")
    assert response.status_code == 400
    assert "body" in response.json()
    assert not LogComment.objects.exists()


def test_comments_are_never_changed_or_deleted(client_for, project, student, teacher):
    comment = pf.comment(pf.entry(project, student), teacher)
    url = log_url(project, comment.entry, f"comments/{comment.pk}/")
    assert client_for(teacher).delete(url).status_code == 405
    assert client_for(teacher).patch(url, {"body": "x"}, format="json").status_code == 405


def test_comment_on_an_entry_of_another_project_is_404(client_for, project, school, student,
                                                       teacher):
    elsewhere = pf.project(school, leader=student, advisor=teacher)
    entry = pf.entry(elsewhere, student)
    response = client_for(teacher).post(log_url(project, entry, "comments/"), {"body": "x"},
                                        format="json")
    assert response.status_code == 404


# --- attachments -------------------------------------------------------------------------------

def upload(client, project, entry, name, content, content_type="application/octet-stream"):
    return client.post(log_url(project, entry, "attachments/"),
                       {"file": SimpleUploadedFile(name, content, content_type=content_type)},
                       format="multipart")


def stored_files(root):
    return [os.path.join(folder, name) for folder, _dirs, names in os.walk(root)
            for name in names]


@pytest.mark.parametrize("name, content, content_type", [
    ("ảnh mạch.png", pf.PNG, "image/png"),
    ("IMG_0001.JPG", pf.JPEG, "image/jpeg"),
    ("bao-cao.pdf", pf.PDF, "application/pdf"),
    ("so-lieu.csv", "giờ,độ mặn\n06:00,1.2\n".encode(), "text/csv"),
    ("ghi-chu.txt", "\ufeffNhật ký đo đạc\r\n".encode(), "text/plain"),
    ("bao-cao.docx", pf.office("word/document.xml"),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("so-lieu.xlsx", pf.office("xl/workbook.xml"),
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
], ids=lambda value: value if isinstance(value, str) and "/" not in value else "")
def test_member_attaches_files(client_for, project, student, media, name, content,
                               content_type):
    entry = pf.entry(project, student)
    response = upload(client_for(student), project, entry, name, content)
    assert response.status_code == 201, response.json()
    body = response.json()
    stem, extension = os.path.splitext(name)
    assert body["name"] == stem + extension.lower()
    assert body["content_type"] == content_type
    assert body["uploaded_by"] == student.pk
    attachment = LogAttachment.objects.get()
    # The size is the stored file's: a photo is written anew (tests/test_uploads_metadata.py),
    # anything else is kept byte for byte.
    with attachment.file.open("rb") as handle:
        stored = handle.read()
    assert body["size"] == attachment.size == len(stored)
    if not content_type.startswith("image/"):
        assert stored == content
    # Stored under a name of ours: never the client's.
    assert attachment.file.name.startswith("logbook/")
    assert os.path.splitext(name)[0] not in attachment.file.name
    assert attachment.file.name.endswith(os.path.splitext(name)[1].lower())
    assert AuditEntry.objects.filter(action="logattachment.added").exists()
    listed = client_for(student).get(log_url(project, entry)).json()["attachments"]
    assert [row["id"] for row in listed] == [body["id"]]


def test_a_teammate_attaches_to_an_open_entry(client_for, project, student, teammate, media):
    entry = pf.entry(project, student)
    assert upload(client_for(teammate), project, entry, "a.png", pf.PNG).status_code == 201


def test_file_names_are_cleaned(client_for, project, student, media):
    entry = pf.entry(project, student)
    response = upload(client_for(student), project, entry,
                      "..\\..\\etc/\u202egnp.exe\u0000 ảnh.PNG", pf.PNG)
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "gnp.exe ảnh.png"
    assert all(str(media) in path for path in stored_files(media))


@pytest.mark.parametrize("name, content", [
    ("virus.exe", pf.EXE),
    ("trang.html", b"<html><script>alert(1)</script></html>"),
    ("ảnh.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
    ("khong-duoi", pf.PNG),
    ("ảnh.png", pf.EXE),                    # an exe dressed as a photo
    ("ảnh.jpg", pf.PNG),                    # a PNG is not a JPEG
    ("bao-cao.pdf", b"not a pdf at all"),
    ("bao-cao.docx", pf.office("xl/workbook.xml")),   # a workbook is not a document
    ("bao-cao.docx", b"PK\x03\x04 broken zip"),
    ("so-lieu.csv", pf.EXE),                # binary is not text
    ("so-lieu.csv", b"\xff\xfe\x00bad utf-8"),
], ids=lambda value: value if isinstance(value, str) else "")
def test_wrong_types_are_refused(client_for, project, student, media, name, content):
    entry = pf.entry(project, student)
    response = upload(client_for(student), project, entry, name, content, "image/png")
    assert response.status_code == 400, response.json()
    assert "file" in response.json()
    assert not LogAttachment.objects.exists()
    assert stored_files(media) == []


def test_oversize_files_are_refused(client_for, project, student, media, settings):
    settings.LOGBOOK_ATTACHMENT_MAX_BYTES = 1000
    entry = pf.entry(project, student)
    response = upload(client_for(student), project, entry, "to.png", pf.PNG + b"\x00" * 1000)
    assert response.status_code == 400
    assert "file" in response.json()
    assert not LogAttachment.objects.exists() and stored_files(media) == []
    assert upload(client_for(student), project, entry, "vua.png", pf.PNG).status_code == 201


def test_a_huge_body_is_refused_before_it_is_read(client_for, project, student, media,
                                                  settings):
    settings.LOGBOOK_ATTACHMENT_MAX_BYTES = 1000
    entry = pf.entry(project, student)
    response = upload(client_for(student), project, entry, "to.png", pf.PNG + b"\x00" * 200_000)
    assert response.status_code == 400
    assert "file" in response.json()


def test_empty_or_missing_file_is_400(client_for, project, student, media):
    entry = pf.entry(project, student)
    client = client_for(student)
    assert "file" in upload(client, project, entry, "rong.png", b"").json()
    response = client.post(log_url(project, entry, "attachments/"), {}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()


def test_attachments_per_entry_are_limited(client_for, project, student, media, settings):
    settings.LOGBOOK_ATTACHMENTS_PER_ENTRY = 2
    entry = pf.entry(project, student)
    client = client_for(student)
    for _ in range(2):
        assert upload(client, project, entry, "a.png", pf.PNG).status_code == 201
    response = upload(client, project, entry, "a.png", pf.PNG)
    assert response.status_code == 400 and "file" in response.json()


@pytest.mark.parametrize("name, code", [
    ("teacher", 403), ("mentor", 403), ("manager", 403), ("union", 403),
    ("other_student", 404), ("anon", 401),
])
def test_only_members_attach(client_for, request, project, student, media, name, code):
    entry = pf.entry(project, student)
    response = upload(client_for(who(request, name)), project, entry, "a.png", pf.PNG)
    assert response.status_code == code
    assert not LogAttachment.objects.exists() and stored_files(media) == []


def test_a_fixed_entry_takes_no_attachments(client_for, project, student, media):
    entry = pf.entry(project, student, days_old=8)
    assert upload(client_for(student), project, entry, "a.png", pf.PNG).status_code == 403
    assert stored_files(media) == []


def test_attachments_are_never_deleted(client_for, project, student, media):
    entry = pf.entry(project, student)
    attachment_id = upload(client_for(student), project, entry, "a.png", pf.PNG).json()["id"]
    url = log_url(project, entry, f"attachments/{attachment_id}/")
    assert client_for(student).delete(url).status_code == 405
    assert LogAttachment.objects.filter(pk=attachment_id).exists()


# A private project does not exist for anonymous callers either (404); a public one
# answers them 401 (test_anonymous_cannot_download_even_from_a_public_project).
@pytest.mark.parametrize("name, code", [
    ("student", 200), ("teacher", 200), ("mentor", 200), ("manager", 200), ("union", 200),
    ("other_student", 404), ("other_mentor", 404), ("anon", 404),
])
def test_download_as_the_project(client_for, request, project, student, media, name, code):
    entry = pf.entry(project, student)
    body = upload(client_for(student), project, entry, "số liệu.csv", b"a,b\n1,2\n").json()
    response = client_for(who(request, name)).get(
        log_url(project, entry, f"attachments/{body['id']}/file/"))
    assert response.status_code == code
    if code == 200:
        assert b"".join(response.streaming_content) == b"a,b\n1,2\n"
        assert response["Content-Type"] == "text/csv"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "utf-8''s%E1%BB%91%20li%E1%BB%87u.csv" in response["Content-Disposition"]
        assert body["url"].endswith(f"attachments/{body['id']}/file/")


def test_anonymous_cannot_download_even_from_a_public_project(anon, public_project, student,
                                                              client_for, media):
    entry = pf.entry(public_project, student)
    body = upload(client_for(student), public_project, entry, "a.png", pf.PNG).json()
    url = log_url(public_project, entry, f"attachments/{body['id']}/file/")
    assert anon.get(url).status_code == 401
    assert anon.get(log_url(public_project, entry, "attachments/")).status_code == 200


# --- query counts ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["student", "anon"])
def test_logbook_list_query_count_is_constant(client_for, request, django_assert_num_queries,
                                              public_project, student, teammate, teacher, kit,
                                              name):
    """The project, COUNT, the page with authors, then equipment, attachments and comments."""
    client = client_for(who(request, name))
    sizes = []
    for count in (2, 12):
        for index in range(count):
            entry = pf.entry(public_project, [student, teammate][index % 2])
            entry.equipment.set([kit])
            pf.comment(entry, teacher)
            LogAttachment.objects.create(entry=entry, file="logbook/a.png", original_name="a.png",
                                         content_type="image/png", size=3, uploaded_by=student)
        with django_assert_num_queries(6):
            response = client.get(log_url(public_project))
        sizes.append(response.json()["count"])
    assert sizes == [2, 14]
