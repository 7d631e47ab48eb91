"""Recurring jobs for Django, run by system cron: django-cron's API, done right.

Public API::

    from django_cronjobs import CronJobBase, Schedule
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

logger = logging.getLogger("django_cronjobs")

if TYPE_CHECKING:
    from .exceptions import BadCronJobError
    from .jobs.base import CronJobBase
    from .jobs.manager import CronJobManager
    from .schedules.schedule import Schedule


def __getattr__(name: str) -> Any:
    # Imported lazily so that "django_cronjobs" is importable before
    # django.setup() (INSTALLED_APPS, settings files).
    if name == "CronJobBase":
        from .jobs.base import CronJobBase

        return CronJobBase
    if name == "Schedule":
        from .schedules.schedule import Schedule

        return Schedule
    if name == "CronJobManager":
        from .jobs.manager import CronJobManager

        return CronJobManager
    if name == "BadCronJobError":
        from .exceptions import BadCronJobError

        return BadCronJobError
    if name == "get_current_time":
        from django.utils import timezone

        return lambda: timezone.localtime()
    if name == "get_class":
        from django.utils.module_loading import import_string

        return import_string
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["BadCronJobError", "CronJobBase", "CronJobManager", "Schedule", "logger"]
