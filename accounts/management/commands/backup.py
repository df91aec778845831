"""A consistent backup of the database: `manage.py backup FILE` (restore: `manage.py restore`).

PostgreSQL: `pg_dump --format=custom` (a consistent snapshot while the app keeps running).
SQLite: the online backup API (a consistent copy, even in WAL mode with writers).
Uploads (MEDIA_ROOT) are files: copy them with rsync or tar next to the database backup.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections


def pg_environment(settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """Connection arguments and environment for pg_dump / pg_restore / psql."""
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    args = []
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings_dict.get(key):
            args += [flag, str(settings_dict[key])]
    return args, env


class Command(BaseCommand):
    help = "Write a consistent backup of the database to FILE."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        target = options["file"]
        if connection.vendor == "postgresql":
            conn_args, env = pg_environment(connection.settings_dict)
            result = subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", "--file", target, *conn_args,
                 connection.settings_dict["NAME"]], env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise CommandError(result.stderr.strip())
        elif connection.vendor == "sqlite":
            connection.ensure_connection()
            with sqlite3.connect(target) as copy:
                connection.connection.backup(copy)
            copy.close()
        else:
            raise CommandError(f"No backup for {connection.vendor}.")
        self.stdout.write(f"Backup written to {target} ({os.path.getsize(target)} bytes).")
