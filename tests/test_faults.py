"""Faults: the database connection dropped between requests, a request failing mid-transaction,
a full disk on an upload. The app recovers on its own, writes nothing by halves, and says
clearly what went wrong."""

from __future__ import annotations

import datetime
import errno
import io
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from rest_framework.authtoken.models import Token

from accounts.models import AuditEntry
from bookings.models import Booking, BookingEquipment
from projects.models import LogAttachment
from spaces.models import Loan
from tests import factories as f
from tests import project_factories as pf

# --- the database going away between two requests ------------------------------------------


def wsgi_get(path: str, token: str | None = None) -> tuple[int, bytes]:
    status, _headers, body = wsgi_call(path, token)
    return status, body


def wsgi_call(path: str, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET through Django's real WSGI handler, as gunicorn calls it: unlike the test client,
    it sends request_started / request_finished, which run the connection health checks, and
    answers an uncaught error with handler500 instead of raising it."""
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": path,
                               "SERVER_NAME": "testserver", "HTTP_HOST": "testserver",
                               "wsgi.input": io.BytesIO(b"")}
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Token {token}"
    setup_testing_defaults(environ)
    status: list[str] = []
    headers: dict[str, str] = {}

    def start_response(line: str, response_headers: list[tuple[str, str]],
                       exc_info: Any = None) -> Callable[[bytes], object]:
        status.append(line)
        headers.update(response_headers)
        return lambda _data: None

    response = WSGIHandler()(environ, start_response)
    try:
        body = b"".join(response)
    finally:
        response.close()  # request_finished, as a WSGI server does
    return int(status[0].split()[0]), headers, body


def backend_pid() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_backend_pid()")
            return int(cursor.fetchone()[0])
    return id(connection.connection)


def drop_connection_from_outside() -> None:
    """PostgreSQL: a second connection terminates the app's backend (what a server restart or
    a failover does to it). SQLite has no server: the connection is closed under the app."""
    if connection.vendor == "postgresql":
        pid = backend_pid()
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                assert cursor.fetchone()[0] is True
        finally:
            other.close()
    else:
        connection.close()
        assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_next_request_after_the_database_dropped_the_connection_succeeds(settings, school):
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    user = f.user("gv.faults", role="teacher", school=school)
    token = Token.objects.create(user=user).key
    f.space(school, name="Phòng Lab Hóa")

    status, _body = wsgi_get("/api/v1/me/", token)
    assert status == 200
    before = backend_pid()
    drop_connection_from_outside()

    status, body = wsgi_get("/api/v1/spaces/", token)
    assert status == 200, body[:500]
    assert b"Ph\\u00f2ng Lab H\\u00f3a" in body or "Phòng Lab Hóa".encode() in body
    if connection.vendor == "postgresql":
        assert backend_pid() != before  # a new backend: the dead one was noticed and replaced
    status, body = wsgi_get("/healthz")
    assert status == 200, body


@pytest.mark.django_db(transaction=True)
def test_healthz_reconnects_after_the_connection_was_dropped(school):
    assert wsgi_get("/healthz")[0] == 200
    drop_connection_from_outside()
    status, body = wsgi_get("/healthz")
    assert status == 200, body
    assert b'"database": "ok"' in body or b'"database":"ok"' in body


@contextmanager
def database_unreachable() -> Iterator[None]:
    """The database stops answering (a restart, a failover): the app's connection is gone
    and new ones are refused — PostgreSQL on a port nobody listens on, SQLite in a folder
    that does not exist. Afterwards, everything as it was."""
    settings_dict = connection.settings_dict
    key, unreachable = (("PORT", "1") if connection.vendor == "postgresql"
                        else ("NAME", "/nonexistent-stemspace/db.sqlite3"))
    saved = settings_dict[key]
    connection.close()
    settings_dict[key] = unreachable
    try:
        yield
    finally:
        connection.close()
        settings_dict[key] = saved


@pytest.mark.django_db(transaction=True)
def test_while_the_database_is_down_callers_hear_503_and_then_it_recovers_by_itself(space):
    with database_unreachable():
        status, headers, body = wsgi_call("/api/v1/spaces/")
        assert status == 503, body[:300]
        assert headers["Retry-After"] == "30"
        assert json.loads(body) == {"detail": "Cơ sở dữ liệu tạm thời không phản hồi. Vui lòng "
                                              "thử lại sau một phút."}

        status, headers, body = wsgi_call(f"/spaces/{space.pk}/")
        assert status == 503 and headers["Retry-After"] == "30"
        assert "Tạm thời gián đoạn" in body.decode()

        assert wsgi_call("/healthz")[0] == 503

    # The same process, no restart: the next requests connect again.
    assert wsgi_call("/healthz")[0] == 200
    status, _headers, body = wsgi_call("/api/v1/spaces/")
    assert status == 200
    assert [row["name"] for row in json.loads(body)["results"]] == [space.name]


def test_other_uncaught_errors_stay_500_without_retry_after(client, monkeypatch, space):
    monkeypatch.setattr("web.calendar.build_grid", fail)
    client.raise_request_exception = False

    page = client.get(f"/spaces/{space.pk}/")
    assert page.status_code == 500 and "Retry-After" not in page
    assert "Lỗi máy chủ" in page.content.decode()
    monkeypatch.setattr("api.views.SchoolViewSet.list", fail)
    api = client.get("/api/v1/schools/")
    assert api.status_code == 500 and api.json()["detail"].startswith("Đã có lỗi")


# --- a request failing mid-transaction ------------------------------------------------------

class Injected(RuntimeError):
    """The fault we inject: a server-side failure after the first writes."""


def fail(*args: Any, **kwargs: Any) -> None:
    raise Injected("injected fault")


@pytest.fixture
def server_errors(client_for):
    """A client that gets the 500 a real server answers, instead of the exception."""

    def make(user):
        client = client_for(user)
        client.raise_request_exception = False
        return client

    return make


def test_booking_failing_after_its_writes_leaves_no_booking_nor_reservation(
        server_errors, teacher, space, kit, monkeypatch):
    monday = f.next_weekday(0)
    # The booking and its reservations are written; the audit entry, last, fails.
    monkeypatch.setattr("bookings.services.log_action", fail)
    client = server_errors(teacher)
    response = client.post("/api/v1/bookings/", {
        "space": space.pk, "title": "CLB Robotics", "kind": "club",
        "start": f"{monday}T08:00", "end": f"{monday}T09:00",
        "equipment": [{"equipment": kit.pk, "quantity": 6}]}, format="json")
    assert response.status_code == 500
    assert not Booking.objects.exists()
    assert not BookingEquipment.objects.exists()
    assert not AuditEntry.objects.filter(action="booking.created").exists()

    # Nothing half-written holds the slot or the kits: the same booking goes through.
    monkeypatch.undo()
    response = client.post("/api/v1/bookings/", {
        "space": space.pk, "title": "CLB Robotics", "kind": "club",
        "start": f"{monday}T08:00", "end": f"{monday}T09:00",
        "equipment": [{"equipment": kit.pk, "quantity": 10}]}, format="json")
    assert response.status_code == 201, response.content
    assert BookingEquipment.objects.get().quantity == 10


def test_reservations_failing_leave_no_booking(server_errors, teacher, space, kit, monkeypatch):
    monday = f.next_weekday(0)
    monkeypatch.setattr(BookingEquipment.objects, "bulk_create", fail)
    response = server_errors(teacher).post("/api/v1/bookings/", {
        "space": space.pk, "title": "CLB Robotics", "kind": "club",
        "start": f"{monday}T10:00", "end": f"{monday}T11:00",
        "equipment": [{"equipment": kit.pk, "quantity": 2}]}, format="json")
    assert response.status_code == 500
    assert not Booking.objects.exists()
    assert not BookingEquipment.objects.exists()


def test_loan_failing_after_its_write_leaves_the_stock_whole(server_errors, manager, student,
                                                            kit, monkeypatch):
    monkeypatch.setattr("spaces.services.log_action", fail)
    due = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3)).isoformat()
    client = server_errors(manager)
    response = client.post("/api/v1/loans/", {"equipment": kit.pk, "borrower": student.pk,
                                              "quantity": 10, "due_at": due}, format="json")
    assert response.status_code == 500
    assert not Loan.objects.exists()
    monkeypatch.undo()
    # All ten kits are still there to lend.
    response = client.post("/api/v1/loans/", {"equipment": kit.pk, "borrower": student.pk,
                                              "quantity": 10, "due_at": due}, format="json")
    assert response.status_code == 201, response.content


# --- disk full on an upload -----------------------------------------------------------------

@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LOGBOOK_ATTACHMENT_MAX_BYTES = 1024 * 1024
    return settings.MEDIA_ROOT


@pytest.fixture
def entry(school, student, teacher):
    project = pf.project(school, leader=student, advisor=teacher, title="Cảnh báo xâm nhập mặn")
    return pf.entry(project, student)


def stored_files(root) -> list[str]:
    return [os.path.join(folder, name) for folder, _dirs, names in os.walk(root)
            for name in names]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_disk_full_on_an_upload_is_a_clear_507(client_for, entry, student, media, monkeypatch,
                                               code):
    def full(self, name, content):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(FileSystemStorage, "_save", full)
    url = f"/api/v1/projects/{entry.project_id}/log/{entry.pk}/attachments/"
    response = client_for(student, language="en").post(
        url, {"file": SimpleUploadedFile("anh.png", pf.PNG, content_type="image/png")},
        format="multipart")
    assert response.status_code == 507
    body = response.json()
    assert "no room left" in body["detail"]
    assert body["file"] == [body["detail"]]
    assert not LogAttachment.objects.exists()
    assert not AuditEntry.objects.filter(action="logattachment.added").exists()
    assert stored_files(media) == []
    response = client_for(student).post(
        url, {"file": SimpleUploadedFile("anh.png", pf.PNG, content_type="image/png")},
        format="multipart")
    assert response.status_code == 507
    assert "hết chỗ" in response.json()["detail"]  # in the caller's language

    # Once there is room again, the same upload works.
    monkeypatch.undo()
    response = client_for(student).post(
        url, {"file": SimpleUploadedFile("anh.png", pf.PNG, content_type="image/png")},
        format="multipart")
    assert response.status_code == 201, response.content


def test_other_storage_errors_are_not_disguised(client_for, entry, student, media, monkeypatch):
    """Only a full disk is the 507; a permission error is a server fault and stays a 500."""
    def denied(self, name, content):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(FileSystemStorage, "_save", denied)
    client = client_for(student)
    client.raise_request_exception = False
    response = client.post(
        f"/api/v1/projects/{entry.project_id}/log/{entry.pk}/attachments/",
        {"file": SimpleUploadedFile("anh.png", pf.PNG, content_type="image/png")},
        format="multipart")
    assert response.status_code == 500
    assert not LogAttachment.objects.exists()
