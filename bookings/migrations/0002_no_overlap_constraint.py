"""On PostgreSQL the database itself refuses overlapping active bookings of one space.

SQLite has no exclusion constraints; there the write path serialises (immediate
transactions) and checks in bookings.services.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE bookings_booking ADD CONSTRAINT booking_no_overlap
    EXCLUDE USING gist (space_id WITH =, tstzrange(start, "end", '[)') WITH &&)
    WHERE (status IN ('pending', 'approved'));
"""
DROP = "ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS booking_no_overlap;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
