"""Backup and restore: a backup restored into a fresh database holds every booking, loan and
logbook entry (on the database the suite runs on: SQLite here, PostgreSQL in make
test-postgres)."""

import decimal
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from bookings.models import Booking
from projects.models import LogEntry, Project
from spaces.models import Loan
from tests import factories as f

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "STEMSPACE_DEV": "1"}
    env.pop("DATABASE_REPLICA_URL", None)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def counts(cursor):
    found = {}
    for table in ("bookings_booking", "spaces_loan", "projects_logentry"):
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        found[table] = cursor.fetchone()[0]
    cursor.execute("SELECT title FROM bookings_booking ORDER BY id")
    found["titles"] = [row[0] for row in cursor.fetchall()]
    return found


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_a_fresh_database(tmp_path):
    school = f.school(slug="ndc")
    manager = f.user("manager.ndc", role="manager", school=school)
    student = f.user("student.ndc", role="student", school=school)
    space = f.space(school)
    day = f.next_weekday(0)
    for hour in (8, 10, 13):
        f.booking(space, manager, start=f.at(day, f"{hour:02d}:00"), end=f.at(day, f"{hour:02d}:45"),
                  title=f"Tiết học {hour}h — Vật lý")
    kit = f.stock(space, f.category("Vi điều khiển"))
    f.loan(kit, student, manager, quantity=2)
    project = Project.objects.create(school=school, title="Lọc nước", max_members=3)
    LogEntry.objects.create(project=project, author=student, hours=decimal.Decimal("2.5"),
                            body="Đo độ đục")
    expected = {"bookings_booking": Booking.objects.count(), "spaces_loan": Loan.objects.count(),
                "projects_logentry": LogEntry.objects.count(),
                "titles": list(Booking.objects.order_by("id").values_list("title", flat=True))}
    backup = tmp_path / "stemspace.backup"
    call_command("backup", str(backup))
    assert backup.stat().st_size > 0

    if connection.vendor == "sqlite":
        fresh = tmp_path / "restored.sqlite3"
        result = manage("restore", str(backup), database_url=f"sqlite:///{fresh}")
        assert result.returncode == 0, result.stderr
        with sqlite3.connect(fresh) as restored:
            assert counts(restored.cursor()) == expected
        return

    import psycopg

    settings = connection.settings_dict
    name = f"restore_{uuid.uuid4().hex[:10]}"
    params = {"host": settings["HOST"] or None, "port": settings["PORT"] or None,
              "user": settings["USER"], "password": settings["PASSWORD"]}
    with psycopg.connect(dbname=settings["NAME"], autocommit=True, **params) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = (f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:"
               f"{settings['PORT']}/{name}")
        result = manage("restore", str(backup), database_url=url)
        assert result.returncode == 0, result.stderr
        with psycopg.connect(dbname=name, **params) as restored:
            assert counts(restored.cursor()) == expected
            # The no-overlap constraint came back with the data.
            row = restored.execute("SELECT count(*) FROM pg_constraint "
                                   "WHERE conname = 'booking_no_overlap'").fetchone()
            assert row == (1,)
    finally:
        with psycopg.connect(dbname=settings["NAME"], autocommit=True, **params) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_restore_of_a_missing_file_fails_clearly(tmp_path):
    result = manage("restore", str(tmp_path / "nope.backup"),
                    database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
    assert result.returncode != 0
    assert "does not exist" in result.stderr
