"""Vietnamese by default, English on request; the OpenAPI schema; the demo data."""

import pytest
from django.core.management import call_command

from accounts.models import User
from bookings.models import Booking, Closure, Series
from projects.models import MentorSession, Project, Registration
from spaces.models import Equipment, Loan, Period, School, Space


def test_required_field_message_in_vietnamese(client_for, manager):
    body = client_for(manager).post("/api/v1/loans/", {}, format="json").json()
    assert body["equipment"] == ["Trường này là bắt buộc."]


def test_required_field_message_in_english(client_for, manager):
    body = client_for(manager, language="en").post("/api/v1/loans/", {}, format="json").json()
    assert body["equipment"] == ["This field is required."]


def test_domain_error_follows_accept_language(client_for, manager, other_student, kit):
    payload = {"equipment": kit.pk, "borrower": other_student.pk, "due_at": "2099-01-01T08:00"}
    vi = client_for(manager).post("/api/v1/loans/", payload, format="json").json()
    en = client_for(manager, language="en").post("/api/v1/loans/", payload, format="json").json()
    assert en["borrower"] == ["The borrower belongs to another school."]
    assert vi["borrower"] == ["Người mượn thuộc trường khác."]


def test_stock_conflict_in_both_languages(client_for, manager, student, kit):
    payload = {"equipment": kit.pk, "borrower": student.pk, "due_at": "2099-01-01T08:00",
               "quantity": 11}
    vi = client_for(manager).post("/api/v1/loans/", payload, format="json")
    en = client_for(manager, language="en").post("/api/v1/loans/", payload, format="json")
    assert vi.status_code == en.status_code == 409
    assert en.json()["detail"] == "Only 10 available, 11 asked."
    assert vi.json()["detail"] == "Chỉ còn 10, yêu cầu 11."


def test_anonymous_message_in_vietnamese(anon):
    assert anon.get("/api/v1/me/").json()["detail"] == "Thông tin xác thực chưa được cung cấp."


def test_wrong_password_message_in_both_languages(client_for, teacher):
    from rest_framework.test import APIClient

    vi = APIClient().post("/api/v1/auth/token/", {"username": "teacher.ndc", "password": "x"},
                          format="json").json()
    en = APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/v1/auth/token/", {"username": "teacher.ndc", "password": "x"},
        format="json").json()
    assert vi["non_field_errors"] == ["Sai tên đăng nhập hoặc mật khẩu."]
    assert en["non_field_errors"] == ["Wrong username or password."]


def test_openapi_schema_describes_the_api(anon, db):
    response = anon.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/auth/token/", "/api/v1/me/", "/api/v1/schools/", "/api/v1/spaces/",
                 "/api/v1/periods/", "/api/v1/equipment/", "/api/v1/loans/",
                 "/api/v1/loans/{id}/return/"):
        assert path in schema["paths"], path


def test_swagger_ui_is_served_locally(anon, db):
    response = anon.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


@pytest.mark.django_db
def test_seed_demo_is_complete_and_idempotent():
    call_command("seed_demo", stdout=None)
    def counts():
        return (School.objects.count(), Space.objects.count(), Equipment.objects.count(),
                Loan.objects.count(), User.objects.count(), Period.objects.count(),
                Booking.objects.count(), Closure.objects.count(), Project.objects.count(),
                MentorSession.objects.count(), Registration.objects.count())

    before = counts()
    call_command("seed_demo")
    assert counts() == before
    assert set(School.objects.values_list("slug", flat=True)) == {"ndc", "nqd", "tm"}
    for slug in ("ndc", "nqd", "tm"):
        items = Equipment.objects.filter(space__school__slug=slug)
        assert items.count() >= 30
        assert items.filter(kind="asset", category__requires_certification=True).exists()
        assert items.filter(kind="stock", quantity__gte=10).exists()
        assert 2 <= Space.objects.filter(school__slug=slug).count() <= 4
        for role in ("manager", "teacher", "student"):
            user = User.objects.get(username=f"{role}.{slug}")
            assert user.school.slug == slug and user.check_password("demo12345")
    assert User.objects.get(username="union").role == "union"
    assert User.objects.get(username="mentor1").role == "mentor"
    assert Loan.objects.overdue().exists()
    for slug in ("ndc", "nqd", "tm"):
        assert Booking.objects.filter(school__slug=slug, status="approved").count() >= 5
        assert Booking.objects.filter(school__slug=slug, status="pending").exists()
        assert Series.objects.filter(school__slug=slug).exists()
        assert Closure.objects.filter(school__slug=slug, reason__icontains="Tết").exists()
        assert Project.objects.filter(school__slug=slug,
                                      memberships__user__username=f"student.{slug}").exists()
        assert MentorSession.objects.filter(school__slug=slug).exists()
    assert MentorSession.objects.filter(topic__icontains="nhãn hiệu").exists()
