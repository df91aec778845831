"""SQLite has no exclusion constraint: triggers make it refuse overlapping active bookings
too, so a write that bypasses the service fails on either database."""

from django.db import migrations

OVERLAP = """
    NEW.status IN ('pending', 'approved') AND EXISTS (
        SELECT 1 FROM bookings_booking other
        WHERE other.space_id = NEW.space_id AND other.id IS NOT NEW.id
          AND other.status IN ('pending', 'approved')
          AND other.start < NEW."end" AND other."end" > NEW.start)
"""
CREATE = [
    f"""CREATE TRIGGER booking_no_overlap_insert BEFORE INSERT ON bookings_booking
        WHEN {OVERLAP} BEGIN SELECT RAISE(ABORT, 'booking_no_overlap'); END;""",
    f"""CREATE TRIGGER booking_no_overlap_update BEFORE UPDATE ON bookings_booking
        WHEN {OVERLAP} BEGIN SELECT RAISE(ABORT, 'booking_no_overlap'); END;""",
]
DROP = ["DROP TRIGGER IF EXISTS booking_no_overlap_insert;",
        "DROP TRIGGER IF EXISTS booking_no_overlap_update;"]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_no_overlap_constraint")]
    operations = [migrations.RunPython(create, drop)]
