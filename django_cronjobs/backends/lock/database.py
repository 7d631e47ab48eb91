"""django-cron's ``backends.lock.database``: the ``database`` lock backend under its old path."""

from __future__ import annotations

from django_cronjobs.locks.database import DatabaseLock

__all__ = ["DatabaseLock"]
