"""django-cron's ``django_cron.helpers``, for code that imported from it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _


def humanize_duration(duration: timedelta) -> str:
    """``duration`` in words: ``"1 day, 2 hours, 5 seconds"``; ``"< 1 second"`` when shorter."""
    units = (
        (duration.days, _("day,days")),
        (duration.seconds // 3600, _("hour,hours")),
        (duration.seconds % 3600 // 60, _("minute,minutes")),
        (duration.seconds % 60, _("second,seconds")),
    )
    parts = [f"{count} {pluralize(count, names)}" for count, names in units if count > 0]
    return ", ".join(parts) if parts else _("< 1 second")


def get_class(path: str) -> Any:
    """The object a dotted path names."""
    return import_string(path)


def get_current_time() -> datetime:
    """Now, in the current time zone."""
    return timezone.localtime()


__all__ = ["get_class", "get_current_time", "humanize_duration"]
