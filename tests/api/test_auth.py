import datetime

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

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


def sign_in(client, username="teacher.ndc"):
    return client.post(URL, {"username": username, "password": "demo12345"}, format="json")


def age(token, days):
    Token.objects.filter(pk=token).update(created=timezone.now() - datetime.timedelta(days=days))


def test_a_token_lasts_thirty_days_then_is_refused_with_the_reason(anon, teacher):
    key = sign_in(anon).json()["token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    age(key, 29)
    assert anon.get("/api/v1/me/").status_code == 200

    age(key, 30)
    response = anon.get("/api/v1/me/")

    assert response.status_code == 401
    assert response.json()["detail"].startswith("Mã truy cập này đã hết hạn")
    assert response["WWW-Authenticate"] == "Token"


def test_asking_again_gives_the_same_token_until_it_expires_then_a_new_one(anon, teacher):
    first = sign_in(anon).json()["token"]
    assert sign_in(anon).json()["token"] == first

    age(first, 31)
    second = sign_in(anon).json()["token"]

    assert second != first and list(Token.objects.values_list("key", flat=True)) == [second]


def test_an_expired_token_sent_along_does_not_stop_a_sign_in(anon, teacher):
    old = sign_in(anon).json()["token"]
    age(old, 31)
    anon.credentials(HTTP_AUTHORIZATION=f"Token {old}")

    response = sign_in(anon)

    assert response.status_code == 200 and response.json()["token"] != old


def test_tokens_can_be_made_to_last_for_ever(anon, teacher, settings):
    settings.API_TOKEN_TTL_DAYS = 0
    key = sign_in(anon).json()["token"]
    age(key, 3650)
    anon.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert anon.get("/api/v1/me/").status_code == 200


def test_delete_revokes_the_callers_token_only(anon, teacher, manager, client_for):
    mine = sign_in(anon).json()["token"]
    theirs = sign_in(client_for(None), "manager.ndc").json()["token"]
    anon.credentials(HTTP_AUTHORIZATION=f"Token {mine}")

    assert anon.delete(URL).status_code == 204

    assert anon.get("/api/v1/me/").status_code == 401
    assert list(Token.objects.values_list("key", flat=True)) == [theirs]


def test_anonymous_callers_have_no_token_to_revoke(anon, teacher):
    sign_in(APIClient())
    assert anon.delete(URL).status_code == 401
    assert Token.objects.count() == 1


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
