"""SQLite: triggers that refuse overlapping active bookings (see bookings.sqlite_triggers)."""

from django.db import migrations

from bookings.sqlite_triggers import drop_triggers, ensure_triggers


def create(apps, schema_editor):
    ensure_triggers(schema_editor.connection)


def drop(apps, schema_editor):
    drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_no_overlap_constraint")]
    operations = [migrations.RunPython(create, drop)]
