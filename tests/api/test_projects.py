"""projects/ and project-categories/: who sees and changes what, the team rules, privacy."""

from __future__ import annotations

import json

import pytest
from django.test.utils import override_settings

from accounts.models import AuditEntry
from projects.models import Membership, Project, ProjectCategory
from tests import factories as f
from tests import project_factories as pf

URL = "/api/v1/projects/"


@pytest.fixture
def teammate(school):
    return f.user("hs.ndc.2", role="student", school=school, full_name="Trần Minh Thư")


@pytest.fixture
def outsider(school):
    """A student of the same school, not on the team."""
    return f.user("hs.ndc.9", role="student", school=school, full_name="Lê Văn Ngoài")


@pytest.fixture
def other_teacher(school):
    return f.user("teacher2.ndc", role="teacher", school=school)


@pytest.fixture
def project_mentor(mentor):
    return pf.mentor_profile(mentor)


@pytest.fixture
def other_mentor(db):
    user = f.user("mentor2", role="mentor")
    pf.mentor_profile(user)
    return user


@pytest.fixture
def team_project(school, student, teammate, teacher, project_mentor):
    def make(visibility: str = "private", **fields):
        return pf.project(school, leader=student, members=[teammate], advisor=teacher,
                          mentors=[project_mentor], visibility=visibility,
                          title="Cảnh báo xâm nhập mặn", **fields)
    return make


def who(request, name):
    return None if name == "anon" else request.getfixturevalue(name)


def detail(project):
    return f"{URL}{project.pk}/"


EVERYONE = ["anon", "other_student", "outsider", "student", "teammate", "teacher",
            "other_teacher", "mentor", "other_mentor", "manager", "other_manager", "union",
            "admin_user"]
SEE_PRIVATE = {"student", "teammate", "teacher", "mentor", "manager", "union", "admin_user"}
EDIT = {"student", "teammate", "teacher", "admin_user"}


# --- reading ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", EVERYONE)
def test_private_project_is_seen_only_by_its_people(client_for, request, team_project, name):
    project = team_project("private")
    response = client_for(who(request, name)).get(detail(project))
    assert response.status_code == (200 if name in SEE_PRIVATE else 404)
    listed = client_for(who(request, name)).get(URL).json()["results"]
    assert [row["id"] for row in listed] == ([project.pk] if name in SEE_PRIVATE else [])


@pytest.mark.parametrize("name", EVERYONE)
def test_public_project_is_seen_by_everyone(client_for, request, team_project, name):
    project = team_project("public")
    response = client_for(who(request, name)).get(detail(project))
    assert response.status_code == 200
    assert response.json()["title"] == "Cảnh báo xâm nhập mặn"


def test_a_member_who_left_no_longer_sees_a_private_project(client_for, team_project, teammate):
    project = team_project("private")
    Membership.objects.filter(project=project, user=teammate).update(left_on="2026-01-01")
    assert client_for(teammate).get(detail(project)).status_code == 404


def test_full_shape_for_the_team(client_for, team_project, student, teammate, teacher,
                                 project_mentor):
    project = team_project("private")
    pf.entry(project, student, hours="2.5")
    pf.entry(project, teammate, hours="1")
    body = client_for(student).get(detail(project)).json()
    assert body["school"] == project.school_id
    assert body["advisor"] == teacher.pk and body["advisor_name"] == teacher.full_name
    assert body["mentors"] == [project_mentor.pk]
    assert body["mentor_names"] == [str(project_mentor.user)]
    assert body["members"] == [
        {"user": student.pk, "full_name": student.full_name, "role": "leader",
         "joined_on": project.memberships.get(user=student).joined_on.isoformat()},
        {"user": teammate.pk, "full_name": "Trần Minh Thư", "role": "member",
         "joined_on": project.memberships.get(user=teammate).joined_on.isoformat()},
    ]
    assert body["total_hours"] == "3.50"
    assert body["max_members"] == 3 and body["kind"] == "science"
    for field in ("id", "title", "summary", "category", "status", "visibility", "started_on",
                  "startup_stage", "ip_status"):
        assert field in body


# --- privacy of the public showcase ------------------------------------------------------------

def test_anonymous_showcase_never_names_students(anon, team_project, student, teammate,
                                                 teacher):
    team_project("public")
    response = anon.get(URL)
    assert response.status_code == 200
    text = response.content.decode()
    for secret in (student.username, student.full_name, teammate.username, teammate.full_name,
                   f'"user": {student.pk}', f'"user": {teammate.pk}'):
        assert secret not in text
    [row] = response.json()["results"]
    assert row["members"] == [
        {"user": None, "full_name": None, "role": "leader", "joined_on": None},
        {"user": None, "full_name": None, "role": "member", "joined_on": None},
    ]
    assert row["advisor_name"] == teacher.full_name  # an adult, named for their work


def test_signed_in_reader_of_a_public_project_sees_the_team(client_for, team_project,
                                                            other_student, teammate):
    project = team_project("public")
    members = client_for(other_student).get(detail(project)).json()["members"]
    assert {m["full_name"] for m in members} == {"Student Ndc", "Trần Minh Thư"}
    assert teammate.pk in {m["user"] for m in members}


# --- filters -----------------------------------------------------------------------------------

@pytest.mark.parametrize("params, expected", [
    ("", 4), ("school={school}", 3), ("school={other_school}", 1), ("status=active", 2),
    ("kind=startup", 1), ("visibility=public", 3), ("category={category}", 1),
    ("member=me", 2), ("member={teammate}", 2), ("member={other_student}", 0),
    ("kind=engineering&visibility=public", 1),
])
def test_project_filters(client_for, union, school, other_school, student, teammate,
                         other_student, params, expected):
    fair = pf.category("Embedded Systems")
    pf.project(school, leader=student, status="active", visibility="public", category=fair)
    pf.project(school, leader=student, members=[teammate], status="active", kind="startup")
    pf.project(school, leader=teammate, kind="engineering", visibility="public")
    pf.project(other_school, visibility="public")
    params = params.format(school=school.pk, other_school=other_school.pk, category=fair.pk,
                           teammate=teammate.pk, other_student=other_student.pk)
    # member=me is the caller; the Union sees every project, so the counts are the filter's.
    client = client_for(student if "member=me" in params else union)
    response = client.get(f"{URL}?{params}")
    assert response.status_code == 200, response.json()
    assert response.json()["count"] == expected


@pytest.mark.parametrize("params, field", [
    ("member=abc", "member"), ("status=dreaming", "status"), ("kind=x", "kind"),
    ("member=999999999999999999999999999999", "member"), ("member=%C2%B2", "member"),  # make test-fuzz
    ("school=999999", "school"), ("category=abc", "category"), ("visibility=secret", "visibility"),
])
def test_bad_filters_are_400(client_for, union, params, field):
    response = client_for(union).get(f"{URL}?{params}")
    assert response.status_code == 400
    assert field in response.json()


def test_anonymous_member_me_is_empty(anon, team_project):
    team_project("public")
    assert anon.get(f"{URL}?member=me").json()["count"] == 0


# --- starting a project ------------------------------------------------------------------------

def create(client, **extra):
    return client.post(URL, {"title": "Robot phân loại xoài", "summary": "Băng chuyền nhỏ.",
                             "kind": "engineering"} | extra, format="json")


def test_student_starts_a_project_and_leads_it(client_for, student, teammate, teacher):
    response = create(client_for(student), members=[{"user": teammate.pk}], advisor=teacher.pk)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["school"] == student.school_id
    assert [(m["user"], m["role"]) for m in body["members"]] == [
        (student.pk, "leader"), (teammate.pk, "member")]
    assert body["max_members"] == 3
    assert body["visibility"] == "private"
    assert AuditEntry.objects.filter(action="project.created", object_id=str(body["id"])).exists()


def test_student_listing_themselves_as_member_still_leads(client_for, student):
    response = create(client_for(student), members=[{"user": student.pk, "role": "member"}])
    assert [(m["user"], m["role"]) for m in response.json()["members"]] == [
        (student.pk, "leader")]


def test_teacher_starts_a_project_and_advises_it(client_for, teacher, student):
    response = create(client_for(teacher), members=[{"user": student.pk, "role": "leader"}])
    assert response.status_code == 201, response.json()
    assert response.json()["advisor"] == teacher.pk


def test_manager_starts_a_project_for_a_team(client_for, manager, student, teacher):
    response = create(client_for(manager), members=[{"user": student.pk, "role": "leader"}],
                      advisor=teacher.pk)
    assert response.status_code == 201, response.json()
    assert response.json()["advisor"] == teacher.pk


@pytest.mark.parametrize("kind, given, expected", [
    ("science", None, 3), ("engineering", None, 3), ("startup", None, 5), ("startup", 4, 4),
    ("science", 1, 1),
])
def test_team_size_comes_from_the_kind(client_for, student, kind, given, expected):
    extra = {"kind": kind} | ({"max_members": given} if given else {})
    response = create(client_for(student), **extra)
    assert response.status_code == 201, response.json()
    assert response.json()["max_members"] == expected


@override_settings(PROJECT_MAX_MEMBERS={"science": 2, "engineering": 4, "startup": 6})
def test_team_size_follows_the_setting(client_for, student):
    assert create(client_for(student), kind="startup").json()["max_members"] == 6


@pytest.mark.parametrize("name, code", [
    ("union", 403), ("mentor", 403), ("admin_user", 400),  # an admin must name the school
])
def test_who_may_not_start_a_project(client_for, request, name, code):
    response = create(client_for(request.getfixturevalue(name)))
    assert response.status_code == code
    assert not Project.objects.exists()


def test_anonymous_cannot_start_a_project(anon, db):
    assert create(anon).status_code == 401


def test_cannot_start_a_project_at_another_school(client_for, other_student, school):
    response = create(client_for(other_student), school=school.pk)
    assert response.status_code == 403
    assert not Project.objects.exists()


def test_admin_starts_a_project_at_a_named_school(client_for, admin_user, school, student):
    response = create(client_for(admin_user), school=school.pk,
                      members=[{"user": student.pk, "role": "leader"}])
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("extra, field", [
    ({"title": ""}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"summary": "x" * 5001}, "summary"),
    ({"kind": "art"}, "kind"),
    ({"status": "dreaming"}, "status"),
    ({"visibility": "secret"}, "visibility"),
    ({"started_on": "yesterday"}, "started_on"),
    ({"ip_status": "stolen"}, "ip_status"),
    ({"category": 999999}, "category"),
    ({"category": True}, "category"),
    ({"school": "abc"}, "school"),
    ({"mentors": [999999]}, "mentors"),
    ({"max_members": 0}, "max_members"),
    ({"max_members": 4}, "max_members"),             # engineering allows 3
    ({"startup_stage": "prototype"}, "startup_stage"),  # only startups have one
    ({"advisor": "{student}"}, "advisor"),            # not a teacher
    ({"advisor": "{other_teacher}"}, "advisor"),      # another school's teacher
    ({"members": "everyone"}, "members"),
    ({"members": [{"role": "leader"}]}, "members"),
    ({"members": [{"user": 999999}]}, "members"),
    ({"members": [{"user": "{other_student}"}]}, "members"),   # another school
    ({"members": [{"user": "{teacher}"}]}, "members"),          # not a student
    ({"members": [{"user": "{teammate}"}, {"user": "{teammate}"}]}, "members"),
    ({"members": [{"user": "{teammate}"}, {"user": "{outsider}"}, {"user": "{third}"}]},
     "members"),                                                # 4 with the leader: too many
    ({"members": [{"user": "{teammate}", "role": "boss"}]}, "members"),
])
def test_bad_project_input_is_400_and_writes_nothing(client_for, school, other_school, student,
                                                     teammate, outsider, teacher, other_student,
                                                     extra, field):
    people = {"student": student, "teammate": teammate, "outsider": outsider,
              "teacher": teacher, "other_student": other_student,
              "third": f.user("hs.ndc.3", role="student", school=school),
              "other_teacher": f.user("teacher.nqd", role="teacher", school=other_school)}
    text = json.dumps(extra)
    for key, person in people.items():
        text = text.replace(f'"{{{key}}}"', str(person.pk))
    response = create(client_for(student), **json.loads(text))
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert not Project.objects.exists() and not Membership.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="project").exists()


def test_a_teacher_must_name_a_team(client_for, teacher):
    response = create(client_for(teacher))
    assert response.status_code == 400
    assert "members" in response.json()


def test_a_team_needs_a_leader(client_for, teacher, student):
    response = create(client_for(teacher), members=[{"user": student.pk, "role": "member"}])
    assert response.status_code == 400
    assert "members" in response.json()


def test_a_retired_category_cannot_be_chosen(client_for, student):
    old = pf.category("Energy", is_active=False)
    response = create(client_for(student), category=old.pk)
    assert response.status_code == 400
    assert "category" in response.json()


# --- changing a project ------------------------------------------------------------------------

@pytest.mark.parametrize("name", EVERYONE)
def test_who_may_change_a_private_project(client_for, request, team_project, name):
    project = team_project("private")
    response = client_for(who(request, name)).patch(detail(project), {"summary": "Mới."},
                                                    format="json")
    if name == "anon":
        expected = 401
    elif name in EDIT:
        expected = 200
    elif name in SEE_PRIVATE:
        expected = 403
    else:
        expected = 404
    assert response.status_code == expected
    project.refresh_from_db()
    assert (project.summary == "Mới.") == (expected == 200)


@pytest.mark.parametrize("name", EVERYONE)
def test_who_may_change_a_public_project(client_for, request, team_project, name):
    project = team_project("public")
    response = client_for(who(request, name)).patch(detail(project), {"status": "active"},
                                                    format="json")
    expected = 401 if name == "anon" else 200 if name in EDIT else 403
    assert response.status_code == expected


def test_a_change_is_audited(client_for, team_project, student):
    project = team_project()
    client_for(student).patch(detail(project), {"status": "prototype", "visibility": "public"},
                              format="json")
    entry = AuditEntry.objects.get(action="project.changed", object_id=str(project.pk))
    assert entry.actor == student
    assert entry.data == {"status": ["idea", "prototype"], "visibility": ["private", "public"]}
    assert entry.school_id == project.school_id


def test_nothing_is_deleted(client_for, team_project, student, admin_user):
    project = team_project()
    assert client_for(student).delete(detail(project)).status_code == 405
    assert client_for(admin_user).delete(detail(project)).status_code == 405
    assert Project.objects.filter(pk=project.pk).exists()


def test_members_replace_the_team_and_leavers_stay_in_history(client_for, team_project, student,
                                                               teammate, outsider):
    project = team_project()
    response = client_for(student).patch(detail(project), {"members": [
        {"user": student.pk, "role": "member"}, {"user": outsider.pk, "role": "leader"}]},
        format="json")
    assert response.status_code == 200, response.json()
    assert [(m["user"], m["role"]) for m in response.json()["members"]] == [
        (outsider.pk, "leader"), (student.pk, "member")]
    left = Membership.objects.get(project=project, user=teammate)
    assert left.left_on is not None
    data = AuditEntry.objects.get(action="project.changed").data["members"]
    assert data["left"] == [teammate.pk]
    assert data["joined"] == [[outsider.pk, "leader"]]
    assert data["roles"] == {str(student.pk): ["leader", "member"]}


def test_a_member_who_leaves_gets_the_outcome_once(client_for, team_project, student, teammate):
    project = team_project()
    response = client_for(teammate).patch(detail(project), {"members": [
        {"user": student.pk, "role": "leader"}]}, format="json")
    assert response.status_code == 200
    assert client_for(teammate).get(detail(project)).status_code == 404


def test_team_larger_than_the_project_allows_is_400(client_for, team_project, student, teammate,
                                                    outsider, school):
    project = team_project()
    fourth = f.user("hs.ndc.4", role="student", school=school)
    response = client_for(student).patch(detail(project), {"members": [
        {"user": student.pk, "role": "leader"}, {"user": teammate.pk},
        {"user": outsider.pk}, {"user": fourth.pk}]}, format="json")
    assert response.status_code == 400
    assert "members" in response.json()
    assert project.memberships.filter(left_on__isnull=True).count() == 2


@pytest.mark.parametrize("members", [[], [{"user": "teammate", "role": "member"}]])
def test_team_cannot_be_emptied_or_leaderless(client_for, team_project, student, teammate,
                                              members):
    project = team_project()
    rows = [{"user": teammate.pk, "role": row["role"]} for row in members]
    response = client_for(student).patch(detail(project), {"members": rows}, format="json")
    assert response.status_code == 400
    assert "members" in response.json()


def test_max_members_cannot_drop_below_the_team(client_for, team_project, student):
    project = team_project()
    response = client_for(student).patch(detail(project), {"max_members": 1}, format="json")
    assert response.status_code == 400
    assert "max_members" in response.json()
    assert client_for(student).patch(detail(project), {"max_members": 2},
                                     format="json").status_code == 200


def test_a_startup_of_five_cannot_become_a_science_project(client_for, school, student, teacher):
    team = [f.user(f"hs.ndc.s{i}", role="student", school=school) for i in range(4)]
    project = pf.project(school, leader=student, members=team, advisor=teacher, kind="startup",
                         startup_stage="prototype")
    response = client_for(teacher).patch(detail(project), {"kind": "science"}, format="json")
    assert response.status_code == 400
    assert "max_members" in response.json()


def test_a_startup_becoming_engineering_drops_its_stage(client_for, school, student, teacher):
    project = pf.project(school, leader=student, advisor=teacher, kind="startup",
                         startup_stage="prototype")
    body = client_for(teacher).patch(detail(project), {"kind": "engineering"}, format="json").json()
    assert body["startup_stage"] == "" and body["max_members"] == 3


def test_a_project_stays_at_its_school(client_for, team_project, student, other_school):
    project = team_project()
    response = client_for(student).patch(detail(project), {"school": other_school.pk},
                                         format="json")
    assert response.status_code == 400
    assert "school" in response.json()


def test_members_cannot_replace_the_advisor(client_for, team_project, student, other_teacher):
    project = team_project()
    response = client_for(student).patch(detail(project), {"advisor": other_teacher.pk},
                                         format="json")
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.advisor.username == "teacher.ndc"


def test_members_give_a_project_without_advisor_one(client_for, school, student, teacher):
    project = pf.project(school, leader=student)
    response = client_for(student).patch(detail(project), {"advisor": teacher.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["advisor"] == teacher.pk


def test_the_advisor_hands_over(client_for, team_project, teacher, other_teacher):
    project = team_project()
    response = client_for(teacher).patch(detail(project), {"advisor": other_teacher.pk},
                                         format="json")
    assert response.status_code == 200
    assert client_for(teacher).get(detail(project)).status_code == 404
    assert client_for(other_teacher).get(detail(project)).status_code == 200


def test_members_choose_mentors(client_for, team_project, student, mentor, other_mentor):
    project = team_project()
    profile = other_mentor.mentor_profile
    response = client_for(student).patch(detail(project), {"mentors": [profile.pk]},
                                         format="json")
    assert response.status_code == 200
    assert response.json()["mentors"] == [profile.pk]
    assert client_for(other_mentor).get(detail(project)).status_code == 200
    assert client_for(mentor).get(detail(project)).status_code == 404


def test_put_replaces_the_project(client_for, team_project, student, teammate):
    project = team_project()
    response = client_for(student).put(detail(project), {
        "title": "Tên mới", "kind": "science", "members": [
            {"user": student.pk, "role": "leader"}, {"user": teammate.pk}]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Tên mới"


# --- query counts ------------------------------------------------------------------------------

def grow(school, students, teacher, mentor, count):
    for _ in range(count):
        pf.project(school, leader=students[0], members=students[1:], advisor=teacher,
                   mentors=[mentor], visibility="public")


@pytest.mark.parametrize("name", ["union", "anon", "student"])
def test_project_list_query_count_is_constant(client_for, request, django_assert_num_queries,
                                              school, student, teammate, teacher,
                                              project_mentor, name):
    """COUNT, the page, the active teams with their people, the mentors with theirs."""
    client = client_for(who(request, name))
    sizes = []
    for count in (2, 13):
        grow(school, [student, teammate], teacher, project_mentor, count)
        with django_assert_num_queries(4):
            response = client.get(URL)
        sizes.append(response.json()["count"])
    assert sizes == [2, 15]


# --- categories --------------------------------------------------------------------------------

CATEGORIES = "/api/v1/project-categories/"


def test_anyone_reads_categories_in_their_language(client_for, anon, db):
    pf.category("Plant Sciences", name_vi="Khoa học thực vật", year=2026)
    pf.category("Plant Sciences", name_vi="Khoa học thực vật", year=2025)
    body = anon.get(f"{CATEGORIES}?year=2026").json()
    assert body["count"] == 1
    assert body["results"][0]["name"] == "Khoa học thực vật"
    english = client_for(None, language="en").get(f"{CATEGORIES}?year=2026").json()
    assert english["results"][0]["name"] == "Plant Sciences"


@pytest.mark.parametrize("name, code", [
    ("union", 201), ("admin_user", 201), ("manager", 403), ("teacher", 403), ("student", 403),
    ("mentor", 403),
])
def test_the_union_keeps_the_categories(client_for, request, name, code):
    response = client_for(request.getfixturevalue(name)).post(CATEGORIES, {
        "name_en": "Mathematics", "name_vi": "Toán học", "year": 2026}, format="json")
    assert response.status_code == code
    assert ProjectCategory.objects.exists() == (code == 201)
    if code == 201:
        assert AuditEntry.objects.filter(action="project_category.created").exists()


def test_anonymous_cannot_write_categories(anon, db):
    assert anon.post(CATEGORIES, {"name_en": "X", "name_vi": "X", "year": 2026},
                     format="json").status_code == 401


@pytest.mark.parametrize("extra, field", [
    ({"name_en": "Mathematics"}, "name_en"),   # already in 2026
    ({"name_en": ""}, "name_en"),
    ({"name_vi": "  "}, "name_vi"),
    ({"year": 1999}, "year"),
    ({"year": "next"}, "year"),
])
def test_bad_category_input_is_400(client_for, union, extra, field):
    pf.category("Mathematics", year=2026)
    body = {"name_en": "Microbiology", "name_vi": "Vi sinh", "year": 2026} | extra
    response = client_for(union).post(CATEGORIES, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert ProjectCategory.objects.count() == 1


def test_a_category_is_retired_not_deleted(client_for, union):
    fair = pf.category("Energy")
    url = f"{CATEGORIES}{fair.pk}/"
    assert client_for(union).delete(url).status_code == 405
    response = client_for(union).patch(url, {"is_active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert AuditEntry.objects.get(action="project_category.changed").data == {
        "is_active": [True, False]}
