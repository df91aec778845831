"""The pages satisfy the Content-Security-Policy without 'unsafe-inline': the browser
reports no violation (and no script error) on any of the main pages."""

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from projects.models import Project
from spaces.models import Space
from tests.e2e.conftest import log_in, wait_for


def console_problems(driver):
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" or "Content Security Policy" in entry["message"]]


@pytest.mark.django_db(transaction=True)
def test_main_pages_keep_the_policy(browser, live_server):
    call_command("seed_demo", stdout=io.StringIO())
    User.objects.filter(username="admin").update(is_superuser=True, is_staff=True)
    space = Space.objects.filter(school__slug="ndc").first()
    project = Project.objects.filter(school__slug="ndc").first()
    pages = {
        "teacher.ndc": ["/", f"/spaces/{space.pk}/", f"/spaces/{space.pk}/book/",
                        "/bookings/mine/", "/projects/", f"/projects/{project.pk}/",
                        f"/projects/{project.pk}/databook/", "/sessions/", "/calendars/",
                        "/api/v1/docs/"],
        "manager.ndc": ["/manage/approvals/", "/manage/loans/", "/dashboard/", "/admin/",
                        f"/spaces/{space.pk}/labels/"],
        "union": ["/dashboard/"],
    }
    problems = {}
    browser.get_log("browser")  # start clean
    for username, paths in pages.items():
        log_in(browser, live_server.url, username, paths[0])
        for path in paths:
            browser.get(live_server.url + path)
            wait_for(browser, lambda d: d.execute_script("return document.readyState")
                     == "complete")
            found = [message for message in console_problems(browser)
                     if "favicon" not in message]
            if found:
                problems[path] = found
    assert problems == {}


def test_policy_header_has_no_unsafe_inline(client, db):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
