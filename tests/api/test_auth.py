import pytest
from rest_framework.authtoken.models import Token

URL = "/api/v1/auth/token/"


def test_token_for_right_password(anon, teacher):
    response = anon.post(URL, {"username": "teacher.ndc", "password": "demo12345"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=teacher).key}


def test_token_refused_for_wrong_password(anon, teacher):
    response = anon.post(URL, {"username": "teacher.ndc", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert not Token.objects.exists()


def test_token_requires_both_fields(anon):
    response = anon.post(URL, {"username": "x"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_token_rejects_malformed_json(anon):
    response = anon.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_token_authenticates_later_requests(anon, teacher):
    key = anon.post(URL, {"username": "teacher.ndc", "password": "demo12345"},
                    format="json").json()["token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anon.get("/api/v1/me/").json()["username"] == "teacher.ndc"


def test_login_attempts_are_rate_limited(anon, teacher, settings):
    statuses = [anon.post(URL, {"username": "teacher.ndc", "password": "bad"},
                          format="json").status_code
                for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [400] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    # Locked out now, even with the right password.
    response = anon.post(URL, {"username": "teacher.ndc", "password": "demo12345"},
                         format="json")
    assert response.status_code == 429


def test_token_endpoint_throttles_bursts(anon, db, settings):
    statuses = [anon.post(URL, {"username": f"u{i}", "password": "x"}, format="json").status_code
                for i in range(12)]
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]


def test_me_for_anonymous_is_401(anon):
    response = anon.get("/api/v1/me/")
    assert response.status_code == 401


@pytest.mark.parametrize("who", ["teacher", "union"])
def test_me_describes_the_caller(client_for, request, who):
    user = request.getfixturevalue(who)
    body = client_for(user).get("/api/v1/me/").json()
    assert body == {
        "id": user.pk, "username": user.username, "full_name": user.full_name,
        "role": user.role, "school": user.school_id,
        "ical_url": f"http://testserver/ical/users/{user.feed_token}.ics",
    }


def test_feed_token_reset_changes_the_ical_url(client_for, teacher):
    before = client_for(teacher).get("/api/v1/me/").json()["ical_url"]
    teacher.reset_feed_token()
    after = client_for(teacher).get("/api/v1/me/").json()["ical_url"]
    assert before != after
    assert len(teacher.feed_token) >= 40


def test_session_api_requires_csrf(teacher, manager, kit):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager)
    response = client.post("/api/v1/loans/", {"equipment": kit.pk, "borrower": teacher.pk,
                                              "due_at": "2099-01-01T10:00"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_reset_feed_token_through_the_api(client_for, teacher, anon):
    old = teacher.feed_token
    response = client_for(teacher).post("/api/v1/me/reset-feed-token/")
    assert response.status_code == 200
    teacher.refresh_from_db()
    assert teacher.feed_token != old
    assert response.json()["ical_url"].endswith(f"/ical/users/{teacher.feed_token}.ics")
    assert anon.post("/api/v1/me/reset-feed-token/").status_code == 401


def test_writes_are_throttled_per_user_reads_are_not(client_for, manager, other_manager):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = dict(api_settings.DEFAULT_THROTTLE_RATES) | {"writes": "3/min"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        client = client_for(manager)
        codes = [client.post("/api/v1/equipment-categories/", {"name": f"Loại {i}"},
                             format="json").status_code for i in range(5)]
        assert codes == [201, 201, 201, 429, 429]
        assert client.get("/api/v1/equipment-categories/").status_code == 200
        # Another person has their own allowance.
        assert client_for(other_manager).post("/api/v1/equipment-categories/", {"name": "X"},
                                              format="json").status_code == 201
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
