"""/calendars/: the feeds a person can subscribe to, with webcal:// and https links, and
the reset of their private link (the old one then 404s)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests import factories as f


def page(user=None, language="vi") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def html(response) -> str:
    return response.content.decode()


def test_needs_sign_in(db):
    response = page().get("/calendars/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_private_feed_with_webcal_and_https_links(teacher):
    body = html(page(teacher).get("/calendars/"))

    path = f"/ical/users/{teacher.feed_token}.ics"
    assert f'href="http://testserver{path}"' in body
    assert f'href="webcal://testserver{path}"' in body


def test_https_links_follow_the_request(teacher):
    body = html(page(teacher).get("/calendars/", secure=True))

    assert f'href="https://testserver/ical/users/{teacher.feed_token}.ics"' in body
    assert f'href="webcal://testserver/ical/users/{teacher.feed_token}.ics"' in body


def test_a_teacher_sees_the_spaces_of_their_school_and_every_school(teacher, space,
                                                                    other_space):
    body = html(page(teacher).get("/calendars/"))

    assert f"webcal://testserver/ical/spaces/{space.pk}.ics" in body
    assert f"/ical/spaces/{other_space.pk}.ics" not in body
    assert "webcal://testserver/ical/schools/ndc.ics" in body
    assert "webcal://testserver/ical/schools/nqd.ics" in body
    assert "webcal://testserver/ical/mentor-sessions.ics\"" in body
    assert "webcal://testserver/ical/mentor-sessions.ics?school=nqd" in body


@pytest.mark.parametrize("who", ["union", "mentor"])
def test_union_and_mentors_see_every_space(request, who, space, other_space):
    body = html(page(request.getfixturevalue(who)).get("/calendars/"))

    assert f"/ical/spaces/{space.pk}.ics" in body
    assert f"/ical/spaces/{other_space.pk}.ics" in body


def test_every_link_is_served(client, teacher, space, other_space):
    body = html(page(teacher).get("/calendars/"))
    links = set(re.findall(r'href="http://testserver(/ical/[^"]+)"', body))

    assert len(links) >= 6
    for link in links:
        assert page().get(link.replace("&amp;", "&")).status_code == 200, link


def test_instructions_for_google_outlook_and_iphone(teacher):
    body = html(page(teacher, "en").get("/calendars/"))

    assert "Google Calendar" in body and "From URL" in body
    assert "Subscribe from web" in body
    assert "Add Subscribed Calendar" in body


def test_reset_asks_first_then_makes_a_new_link_and_the_old_one_404s(teacher):
    client = page(teacher)
    old = teacher.feed_token
    assert client.get(f"/ical/users/{old}.ics").status_code == 200

    confirm = client.get("/calendars/reset/")
    assert confirm.status_code == 200
    assert 'method="post"' in html(confirm)
    teacher.refresh_from_db()
    assert teacher.feed_token == old  # asking changes nothing

    response = client.post("/calendars/reset/", follow=True)

    teacher.refresh_from_db()
    assert teacher.feed_token != old
    assert f"webcal://testserver/ical/users/{teacher.feed_token}.ics" in html(response)
    assert old not in html(response)
    assert client.get(f"/ical/users/{old}.ics").status_code == 404
    assert client.get(f"/ical/users/{teacher.feed_token}.ics").status_code == 200


def test_reset_needs_sign_in(db):
    response = page().post("/calendars/reset/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_menu_offers_my_calendars_to_signed_in_people_only(teacher):
    assert 'href="/calendars/"' in html(page(teacher).get("/"))
    assert 'href="/calendars/"' not in html(page().get("/"))
    assert 'href="/projects/"' in html(page().get("/"))
    assert 'href="/sessions/"' in html(page().get("/"))


def test_query_count_does_not_grow_with_spaces(union, school, django_assert_num_queries):
    client = page(union)
    f.space(school)
    with django_assert_num_queries(4):  # session, user, schools, spaces
        client.get("/calendars/")
    for _ in range(5):
        f.space(f.school())
    with django_assert_num_queries(4):
        client.get("/calendars/")
