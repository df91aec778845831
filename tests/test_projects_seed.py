"""seed_demo_projects and load_project_categories: complete and safe to run again."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from bookings.holidays import current_school_year
from projects.categories import VISEF_CATEGORIES
from projects.models import (
    Award,
    LogAttachment,
    LogComment,
    LogEntry,
    Membership,
    Milestone,
    Project,
    ProjectCategory,
)


def counts():
    return tuple(model.objects.count() for model in (
        Project, Membership, LogEntry, LogComment, LogAttachment, Milestone, Award,
        ProjectCategory, User))


@pytest.mark.django_db
def test_seed_demo_projects_is_complete_and_idempotent(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo_projects", stdout=io.StringIO())
    before = counts()
    call_command("seed_demo_projects", stdout=io.StringIO())
    assert counts() == before

    today = timezone.localdate()
    year = current_school_year(today)
    assert ProjectCategory.objects.filter(year=year).count() == len(VISEF_CATEGORIES) == 21
    for slug in ("ndc", "nqd", "tm"):
        projects = Project.objects.filter(school__slug=slug)
        assert 3 <= projects.count() <= 5
        assert len(set(projects.values_list("kind", flat=True))) >= 2
        assert len(set(projects.values_list("status", flat=True))) >= 2
        assert projects.filter(visibility="public").exists()
        assert projects.filter(memberships__user__username=f"student.{slug}",
                               memberships__left_on__isnull=True).exists()
        assert not projects.exclude(advisor__username=f"teacher.{slug}").exists()
        assert projects.filter(mentors__user__username="mentor1").exists()
        assert Award.objects.filter(project__school__slug=slug).count() in (1, 2)
        assert Milestone.objects.filter(project__school__slug=slug).exists()
        entries = LogEntry.objects.filter(project__school__slug=slug)
        dates = sorted(entries.values_list("date", flat=True))
        assert entries.count() >= 8 and dates[-1] < today
        assert (dates[-1] - dates[0]).days >= 21  # several weeks of work
        for project in projects:
            members = Membership.objects.filter(project=project, left_on__isnull=True)
            assert 1 <= members.count() <= project.max_members
            assert members.filter(role="leader").exists()
            assert not members.exclude(user__school__slug=slug).exists()
    assert LogComment.objects.exists() and LogAttachment.objects.exists()
    # Older entries are already fixed, as if written on their day.
    assert LogEntry.objects.filter(created_at__date__lt=today).exists()
    # The extra students fill teams but cannot sign in.
    assert not User.objects.get(username="hs1.ndc").has_usable_password()


@pytest.mark.django_db
def test_load_project_categories_is_idempotent_and_keeps_edits():
    out = io.StringIO()
    call_command("load_project_categories", "--year", "2026", stdout=out)
    assert "đã tạo 21" in out.getvalue()
    ProjectCategory.objects.filter(year=2026, name_en="Mathematics").update(name_vi="Toán")
    out = io.StringIO()
    call_command("load_project_categories", "--year", "2026", stdout=out)
    assert "đã tạo 0, 21 đã có" in out.getvalue()
    assert ProjectCategory.objects.get(year=2026, name_en="Mathematics").name_vi == "Toán"
    robotics = ProjectCategory.objects.get(year=2026, name_en="Robotics and Intelligent Machines")
    assert robotics.name_vi == "Rô-bốt và máy thông minh"


@pytest.mark.django_db
def test_a_year_copies_the_unions_edited_list():
    call_command("load_project_categories", "--year", "2025", stdout=io.StringIO())
    ProjectCategory.objects.filter(year=2025, name_en="Energy: Sustainable Materials and Design"
                                   ).update(is_active=False)
    ProjectCategory.objects.create(year=2025, name_en="Startups", name_vi="Khởi nghiệp")
    call_command("load_project_categories", "--year", "2026", "--from-year", "2025",
                 stdout=io.StringIO())
    copied = ProjectCategory.objects.filter(year=2026)
    assert copied.count() == 22
    assert copied.get(name_en="Startups").name_vi == "Khởi nghiệp"
    assert not copied.get(name_en="Energy: Sustainable Materials and Design").is_active


@pytest.mark.django_db
def test_copying_from_an_empty_year_fails_clearly():
    with pytest.raises(CommandError, match="2019"):
        call_command("load_project_categories", "--year", "2026", "--from-year", "2019")
