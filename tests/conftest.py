"""Shared fixtures: two schools, a person of every role, spaces and equipment.

Build data with the small factories in tests/factories.py; fixtures here are
the cast most tests need (an owner, an outsider from the other school, anonymous).
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests import factories as f


@pytest.fixture(autouse=True)
def _vietnamese_by_default(settings):
    settings.LANGUAGE_CODE = "vi"
    # Fast hashing: tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests write in a transaction the replica's connection cannot see: reports read the
    # primary, except in the test of the replica itself.
    settings.REPORTS_DATABASE = "default"


@pytest.fixture
def school(db):
    return f.school(slug="ndc", name="THPT Chuyên Nguyễn Đình Chiểu")


@pytest.fixture
def other_school(db):
    return f.school(slug="nqd", name="THPT Chuyên Nguyễn Quang Diêu")


@pytest.fixture
def manager(school):
    return f.user("manager.ndc", role="manager", school=school)


@pytest.fixture
def teacher(school):
    return f.user("teacher.ndc", role="teacher", school=school)


@pytest.fixture
def student(school):
    return f.user("student.ndc", role="student", school=school)


@pytest.fixture
def other_manager(other_school):
    return f.user("manager.nqd", role="manager", school=other_school)


@pytest.fixture
def other_student(other_school):
    return f.user("student.nqd", role="student", school=other_school)


@pytest.fixture
def union(db):
    return f.user("union", role="union")


@pytest.fixture
def mentor(db):
    return f.user("mentor1", role="mentor")


@pytest.fixture
def admin_user(db):
    return f.user("admin", role="union", is_superuser=True, is_staff=True)


@pytest.fixture
def space(school):
    return f.space(school, name="Phòng chế tạo", kind="makerspace")


@pytest.fixture
def other_space(other_school):
    return f.space(other_school, name="Phòng STEM", kind="lab")


@pytest.fixture
def category(db):
    return f.category("Vi điều khiển")


@pytest.fixture
def gated_category(db):
    return f.category("Máy cắt laser", requires_certification=True)


@pytest.fixture
def kit(space, category):
    """A pooled stock item: 10 Arduino kits."""
    return f.stock(space, category, name="Bộ kit Arduino", quantity=10)


@pytest.fixture
def laser(space, gated_category):
    return f.asset(space, gated_category, name="Máy cắt laser CO2", asset_tag="NDC-LZ-001")


@pytest.fixture
def media(settings, tmp_path):
    """Uploads go to a throw-away folder; logbook attachments up to 1 MB."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LOGBOOK_ATTACHMENT_MAX_BYTES = 1024 * 1024
    return settings.MEDIA_ROOT


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def client_for():
    """client_for(user) → an APIClient authenticated as that user."""

    def make(user=None, language: str = "vi") -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache: start every test with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
