"""Doing to a test's database connection what production does to it."""

from __future__ import annotations

from django.db import connection


def kill_connection() -> None:
    """Kill this thread's database connection from another connection, as a
    DBA's ``pg_terminate_backend`` or MariaDB's ``KILL`` does."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_backend_pid()")
            (victim,) = cursor.fetchone()
            killer = connection.copy()
            with killer.cursor() as other:
                other.execute("SELECT pg_terminate_backend(%s)", [victim])
            killer.close()
        elif connection.vendor == "mysql":
            cursor.execute("SELECT CONNECTION_ID()")
            (victim,) = cursor.fetchone()
            killer = connection.copy()
            with killer.cursor() as other:
                other.execute(f"KILL {int(victim)}")
            killer.close()
        else:
            raise NotImplementedError(connection.vendor)
