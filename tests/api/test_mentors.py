"""mentors/: anyone reads the Department's experts; the Union adds and edits them."""

import unicodedata

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import AuditEntry
from projects.models import DEFAULT_ORGANIZATION, Mentor
from projects.sessions import mentor_profile_save
from tests import factories as f

URL = "/api/v1/mentors/"


@pytest.fixture
def profile(mentor):
    return mentor_profile_save(actor=None, user=mentor, expertise=["IoT", "Hệ thống nhúng"],
                               bio="Chuyên gia IoT")


@pytest.fixture
def ip_mentor(db):
    user = f.user("mentor2", role="mentor", full_name="ThS. Lê Thị Mỹ Hạnh")
    return mentor_profile_save(actor=None, user=user, organization="Cục Sở hữu trí tuệ",
                               expertise=["Sở hữu trí tuệ", "Nhãn hiệu"])


def test_anyone_lists_mentors(anon, profile):
    response = anon.get(URL)

    assert response.status_code == 200
    assert response.json()["results"] == [{
        "id": profile.pk, "user": profile.user_id, "full_name": "Mentor1",
        "organization": DEFAULT_ORGANIZATION, "expertise": ["IoT", "Hệ thống nhúng"],
        "bio": "Chuyên gia IoT"}]
    assert anon.get(f"{URL}{profile.pk}/").json()["full_name"] == "Mentor1"


def test_union_gives_a_mentor_user_a_profile(client_for, union, mentor):
    response = client_for(union).post(URL, {
        "user": mentor.pk, "expertise": [" IoT ", "iot", "Cảm biến"], "bio": "Tiến sĩ"},
        format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["organization"] == DEFAULT_ORGANIZATION
    assert body["expertise"] == ["IoT", "Cảm biến"]  # trimmed, repeats dropped
    assert Mentor.objects.get().user == mentor
    assert AuditEntry.objects.filter(action="mentor.created", actor=union).exists()


@pytest.mark.parametrize("who, code", [
    ("anon", 401), ("student", 403), ("teacher", 403), ("manager", 403), ("mentor", 403),
])
def test_only_the_union_creates_profiles(client_for, request, mentor, who, code):
    client = client_for(None if who == "anon" else request.getfixturevalue(who))

    response = client.post(URL, {"user": mentor.pk, "expertise": ["IoT"]}, format="json")

    assert response.status_code == code
    assert not Mentor.objects.exists()


@pytest.mark.parametrize("who, code", [
    ("anon", 401), ("student", 403), ("manager", 403), ("mentor", 403), ("union", 200),
    ("admin_user", 200),
])
def test_only_the_union_edits_profiles(client_for, request, profile, who, code):
    client = client_for(None if who == "anon" else request.getfixturevalue(who))

    response = client.patch(f"{URL}{profile.pk}/", {"bio": "Mới"}, format="json")

    assert response.status_code == code
    profile.refresh_from_db()
    assert (profile.bio == "Mới") is (code == 200)


def test_union_edits_a_profile(client_for, union, profile):
    response = client_for(union).patch(f"{URL}{profile.pk}/", {
        "organization": "", "expertise": ["IoT", "LoRa"]}, format="json")

    assert response.status_code == 200
    assert response.json()["expertise"] == ["IoT", "LoRa"]
    assert response.json()["organization"] == DEFAULT_ORGANIZATION  # blank: the default
    assert AuditEntry.objects.get(action="mentor.changed").data == {
        "expertise": [["IoT", "Hệ thống nhúng"], ["IoT", "LoRa"]]}


def test_profiles_are_never_deleted_or_replaced(client_for, union, profile):
    assert client_for(union).delete(f"{URL}{profile.pk}/").status_code == 405
    assert client_for(union).put(f"{URL}{profile.pk}/", {"bio": "x"},
                                 format="json").status_code == 405


MISSING = object()


@pytest.mark.parametrize("body, field", [
    ({"user": MISSING}, "user"),
    ({"user": "abc"}, "user"),
    ({"user": 99999}, "user"),
    ({"user": True}, "user"),
    ({"user": "teacher"}, "user"),          # not a mentor
    ({"user": "profiled"}, "user"),         # has a profile already
    ({"expertise": "IoT"}, "expertise"),
    ({"expertise": [{"area": "IoT"}]}, "expertise"),
    ({"expertise": ["x" * 101]}, "expertise"),
    ({"expertise": [f"area {i}" for i in range(21)]}, "expertise"),
    ({"bio": "x" * 5001}, "bio"),
    ({"organization": "x" * 201}, "organization"),
])
def test_bad_input_is_400_naming_the_field(client_for, union, mentor, teacher, body, field):
    profiled = f.user("mentor9", role="mentor")
    mentor_profile_save(actor=None, user=profiled)
    users = {"teacher": teacher.pk, "profiled": profiled.pk}
    body = {key: users.get(value, value) if key == "user" else value
            for key, value in ({"user": mentor.pk} | body).items() if value is not MISSING}

    response = client_for(union).post(URL, body, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert Mentor.objects.count() == 1


@pytest.mark.parametrize("expertise, expected", [
    ("iot", {"mentor1"}),
    ("IOT", {"mentor1"}),
    ("nhúng", {"mentor1"}),
    ("NHÃN HIỆU", {"mentor2"}),
    (unicodedata.normalize("NFD", "nhãn hiệu"), {"mentor2"}),  # typed decomposed
    ("trí", {"mentor2"}),
    ("hệ", {"mentor1"}),
    ("blockchain", set()),
    ("", {"mentor1", "mentor2"}),
])
def test_expertise_filter_contains_ignoring_case(anon, profile, ip_mentor, expertise, expected):
    rows = anon.get(URL, {"expertise": expertise}).json()["results"]

    assert {Mentor.objects.get(pk=row["id"]).user.username for row in rows} == expected


def test_disabled_mentors_are_listed_only_to_the_union(anon, client_for, union, profile,
                                                       ip_mentor):
    ip_mentor.user.is_active = False
    ip_mentor.user.save()

    assert anon.get(URL).json()["count"] == 1
    assert client_for(union).get(URL).json()["count"] == 2


def test_list_makes_a_fixed_number_of_queries(anon, profile):
    def queries(params):
        with CaptureQueriesContext(connection) as ctx:
            assert anon.get(URL, params).status_code == 200
        return len(ctx.captured_queries)

    small = queries({}), queries({"expertise": "iot"})
    for i in range(12):
        mentor_profile_save(actor=None, user=f.user(f"expert{i}", role="mentor"),
                            expertise=["IoT", f"Lĩnh vực {i}"])
    large = queries({}), queries({"expertise": "iot"})

    assert anon.get(URL, {"expertise": "iot"}).json()["count"] == 13
    assert small == large == (2, 3)
