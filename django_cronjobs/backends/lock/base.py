"""``DjangoCronJobLock``, the base class of django-cron's custom lock backends."""

from __future__ import annotations

from django_cronjobs.locks.base import DjangoCronJobLock

__all__ = ["DjangoCronJobLock"]
