"""Faults: the database connection dropped between requests or the database not answering at all,
a request failing mid-transaction, a worker process killed mid-transaction, a full disk on an
upload. The app recovers on its own, writes nothing by halves, leaves no lock behind, and says
clearly what went wrong. (A real PostgreSQL restart under load: `make loadtest-db-restart`.)"""

from __future__ import annotations

import datetime
import errno
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from rest_framework.authtoken.models import Token

from accounts.models import AuditEntry
from bookings import services as booking_services
from bookings.models import Booking, BookingEquipment
from projects.models import LogAttachment
from spaces import services as space_services
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


# --- a worker killed mid-transaction -----------------------------------------------------------

def die_in_the_middle(what: str, actor_id: int, target_id: int, other_id: int, day: str) -> None:
    """Run in a child process (see below): a booking or a loan through its service, and the
    process SIGKILLed once the rows are written, before the commit — as gunicorn's master
    kills a worker that overran its timeout, or the kernel's OOM killer does."""
    from accounts.models import User as UserModel
    from bookings import services as booking_services
    from spaces import services as space_services
    from spaces.models import Equipment, Space

    def die(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    actor = UserModel.objects.get(pk=actor_id)
    if what == "booking":
        pytest.MonkeyPatch().setattr(booking_services, "log_action", die)  # written last
        date = datetime.date.fromisoformat(day)
        booking_services.booking_create(
            actor=actor, space=Space.objects.get(pk=target_id), title="CLB Robotics",
            kind="club", start=f.at(date, "08:00"), end=f.at(date, "09:00"),
            equipment=[booking_services.EquipmentRequest(Equipment.objects.get(pk=other_id), 6)])
    else:
        pytest.MonkeyPatch().setattr(space_services, "log_action", die)
        space_services.loan_create(
            actor=actor, equipment=Equipment.objects.get(pk=target_id),
            borrower=UserModel.objects.get(pk=other_id), quantity=10,
            due_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3))
    raise AssertionError("still alive")


def run_and_kill(what: str, *args: Any) -> subprocess.CompletedProcess[str]:
    """`die_in_the_middle` in a fresh Python process on the test database."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        url = (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
               f"{db['PORT'] or 5432}/{db['NAME']}")
    else:
        url = f"sqlite:///{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "STEMSPACE_DEV": "1",
           "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DATABASE_REPLICA_URL", None)
    code = ("import django; django.setup(); from tests.test_faults import die_in_the_middle; "
            f"die_in_the_middle(*{[what, *args]!r})")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parent.parent)


@contextmanager
def no_waiting_for_locks() -> Iterator[None]:
    """PostgreSQL: a lock left behind makes the next write fail at once instead of hanging."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '5s'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_booking_leaves_nothing_and_holds_nothing(teacher, space, kit):
    monday = f.next_weekday(0)

    killed = run_and_kill("booking", teacher.pk, space.pk, kit.pk, monday.isoformat())

    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not Booking.objects.exists() and not BookingEquipment.objects.exists()
    assert not AuditEntry.objects.exists()
    # Neither the slot nor the kits stay taken, and no lock is left to wait for.
    with no_waiting_for_locks():
        booking = booking_services.booking_create(
            actor=teacher, space=space, title="CLB Robotics", kind="club",
            start=f.at(monday, "08:00"), end=f.at(monday, "09:00"),
            equipment=[booking_services.EquipmentRequest(kit, 10)])
    assert booking.status == "approved"


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_loan_leaves_the_stock_whole_and_unlocked(manager, student, kit):
    killed = run_and_kill("loan", manager.pk, kit.pk, student.pk, "")

    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not Loan.objects.exists() and not AuditEntry.objects.exists()
    with no_waiting_for_locks():  # the killed worker held the kit's row lock
        loan = space_services.loan_create(
            actor=manager, equipment=kit, borrower=student, quantity=10,
            due_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3))
    assert loan.quantity == 10


# --- disk full on an upload -----------------------------------------------------------------

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
