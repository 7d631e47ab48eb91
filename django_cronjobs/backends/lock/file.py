"""django-cron's ``backends.lock.file``: the ``file`` lock backend under its old path."""

from __future__ import annotations

from django_cronjobs.locks.file import FileLock

__all__ = ["FileLock"]
