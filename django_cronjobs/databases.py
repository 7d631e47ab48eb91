"""Which database holds the app's tables: CRONJOBS_DATABASE, else the routers.

Every read and write of CronJobLog and CronJobState goes through the alias
these return: the models' managers, the transactions around claims and
outcomes, and the raw SQL of the tick.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, connections, router

from .conf import conf, once_per_tick


def database_for_write() -> str:
    from .models import CronJobState

    return once_per_tick(
        "database for write", lambda: conf.DATABASE or router.db_for_write(CronJobState)
    )


def database_for_read() -> str:
    from .models import CronJobState

    return once_per_tick(
        "database for read", lambda: conf.DATABASE or router.db_for_read(CronJobState)
    )


def cronjobs_connection() -> Any:
    """The connection that writes the app's tables."""
    return connections[database_for_write()]


def in_transaction() -> bool:
    """Whether the caller holds a transaction on the app's database or the default one.

    Other connections cannot see what such a transaction wrote, and Django
    must not close its connection.
    """
    return bool(connection.in_atomic_block or cronjobs_connection().in_atomic_block)


class CronJobsRouter:
    """Keeps the app's tables on CRONJOBS_DATABASE, and only there.

    Optional: CRONJOBS_DATABASE alone sends every query there. Add this to
    DATABASE_ROUTERS so that ``migrate`` creates the tables on that database
    only (``manage.py migrate --database <alias>``) and the other databases
    do not get them.
    """

    app_label = "django_cronjobs"

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return conf.DATABASE if model._meta.app_label == self.app_label else None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return conf.DATABASE if model._meta.app_label == self.app_label else None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if app_label != self.app_label or not conf.DATABASE:
            return None
        return db == conf.DATABASE
