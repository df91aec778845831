"""Decree 13/2023: a person can see all their data, and a leaver is anonymised while the
usage statistics stay the same."""

import datetime
import decimal
import io
import json

import pytest
from django.core.management import CommandError, call_command

from projects.models import LogEntry, Membership, Project
from reports.usage import usage_report
from tests import factories as f


@pytest.fixture
def history(school, student, manager, space, kit):
    day = datetime.date(2026, 3, 3)
    f.booking(space, student, start=f.at(day, "08:00"), end=f.at(day, "10:00"),
              title="Nhóm lọc nước")
    f.loan(kit, student, manager, checked_out_at=f.at(day, "08:00"))
    project = Project.objects.create(school=school, title="Lọc nước", max_members=3)
    Membership.objects.create(project=project, user=student, role="leader")
    LogEntry.objects.create(project=project, author=student, date=day,
                            hours=decimal.Decimal("2"), body="Đo độ đục")
    return day


def test_export_lists_everything(student, history):
    student.email = "bao@example.vn"
    student.save()
    out = io.StringIO()
    call_command("export_person", "student.ndc", stdout=out)
    data = json.loads(out.getvalue())
    assert data["user"]["full_name"] == student.full_name
    assert data["user"]["email"] == "bao@example.vn"
    assert [b["title"] for b in data["bookings"]] == ["Nhóm lọc nước"]
    assert len(data["loans"]) == 1 and len(data["logbook_entries"]) == 1
    assert data["project_memberships"][0]["role"] == "leader"


def test_anonymise_keeps_the_statistics(student, history, school, client):
    before = usage_report(date_from=history, date_to=history, group_by="school")
    old_token = student.feed_token
    call_command("anonymise_person", "student.ndc", "--yes", stdout=io.StringIO())
    student.refresh_from_db()
    assert student.username == f"removed-{student.pk}"
    assert (student.full_name, student.email, student.is_active) == ("", "", False)
    assert not student.has_usable_password()
    assert client.get(f"/ical/users/{old_token}.ics").status_code == 404
    after = usage_report(date_from=history, date_to=history, group_by="school")
    assert after == before
    out = io.StringIO()
    call_command("export_person", student.username, stdout=out)
    assert "Nguyễn" not in out.getvalue() and "student.ndc" not in out.getvalue()


def test_anonymise_needs_yes_and_refuses_admins(student, admin_user):
    with pytest.raises(CommandError):
        call_command("anonymise_person", "student.ndc")
    with pytest.raises(CommandError):
        call_command("anonymise_person", "admin", "--yes")
    with pytest.raises(CommandError):
        call_command("export_person", "nobody")
