"""Restore a backup made by `manage.py backup` into an EMPTY database.

PostgreSQL: `createdb NEW && DATABASE_URL=postgres://…/NEW manage.py restore FILE`
(pg_restore; the database must exist and be empty). SQLite: the file is copied into place
with the backup API (`DATABASE_URL=sqlite:////path/new.sqlite3 manage.py restore FILE`).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from accounts.management.commands.backup import pg_environment


class Command(BaseCommand):
    help = "Restore FILE (made by `manage.py backup`) into the configured, empty database."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        source = options["file"]
        if not os.path.exists(source):
            raise CommandError(f"{source} does not exist.")
        connection = connections[options["database"]]
        if connection.vendor == "postgresql":
            conn_args, env = pg_environment(connection.settings_dict)
            result = subprocess.run(
                ["pg_restore", "--no-owner", "--exit-on-error", "--dbname",
                 connection.settings_dict["NAME"], *conn_args, source],
                env=env, capture_output=True, text=True)
            if result.returncode != 0:
                raise CommandError(result.stderr.strip())
        elif connection.vendor == "sqlite":
            connection.ensure_connection()
            with sqlite3.connect(source) as backup:
                backup.backup(connection.connection)
            backup.close()
        else:
            raise CommandError(f"No restore for {connection.vendor}.")
        self.stdout.write(f"Restored {source}.")
