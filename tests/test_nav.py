"""The menu offers the dashboard to those who may open it, and to nobody else."""

import pytest


@pytest.mark.parametrize("who, shown", [("union", True), ("manager", True), ("teacher", False),
                                        ("student", False), ("mentor", False)])
def test_dashboard_link(client, request, who, shown):
    client.force_login(request.getfixturevalue(who))
    html = client.get("/").content.decode()
    assert ('href="/dashboard/"' in html) == shown


def test_no_dashboard_link_for_visitors(client, db):
    assert 'href="/dashboard/"' not in client.get("/").content.decode()
