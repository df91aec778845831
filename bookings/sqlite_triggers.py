"""SQLite has no exclusion constraint: triggers refuse overlapping active bookings there, so
a write that bypasses the service fails on either database (PostgreSQL: booking_no_overlap).

SQLite rebuilds a table to alter a column, which drops its triggers: they are created by
migration 0003 and made sure of again after every migrate (post_migrate).
"""

from __future__ import annotations

from typing import Any

OVERLAP = """
    NEW.status IN ('pending', 'approved') AND EXISTS (
        SELECT 1 FROM bookings_booking other
        WHERE other.space_id = NEW.space_id AND other.id IS NOT NEW.id
          AND other.status IN ('pending', 'approved')
          AND other.start < NEW."end" AND other."end" > NEW.start)
"""
CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS booking_no_overlap_insert BEFORE INSERT ON bookings_booking
        WHEN {OVERLAP} BEGIN SELECT RAISE(ABORT, 'booking_no_overlap'); END;""",
    f"""CREATE TRIGGER IF NOT EXISTS booking_no_overlap_update BEFORE UPDATE ON bookings_booking
        WHEN {OVERLAP} BEGIN SELECT RAISE(ABORT, 'booking_no_overlap'); END;""",
]
DROP = ["DROP TRIGGER IF EXISTS booking_no_overlap_insert;",
        "DROP TRIGGER IF EXISTS booking_no_overlap_update;"]


def ensure_triggers(connection: Any) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='bookings_booking'")
        if cursor.fetchone() is None:
            return
        for statement in CREATE:
            cursor.execute(statement)


def drop_triggers(connection: Any) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for statement in DROP:
            cursor.execute(statement)
