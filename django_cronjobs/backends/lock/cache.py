"""django-cron's ``backends.lock.cache``: the ``cache`` lock backend under its old path."""

from __future__ import annotations

from django_cronjobs.locks.cache import CacheLock

__all__ = ["CacheLock"]
