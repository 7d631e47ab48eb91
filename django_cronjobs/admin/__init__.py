"""The admin: the run log (:mod:`.log`), the Cron jobs pages (:mod:`.jobs`) and the
entries (:mod:`.entries`)."""

from __future__ import annotations

from .entries import CronEntryAdmin
from .jobs import CronJobAdmin
from .log import (
    COUNT_LIMIT,
    CappedCountPaginator,
    CodeFilter,
    CronJobLogAdmin,
    configured_codes,
    short_duration,
    status_mark,
)

__all__ = [
    "COUNT_LIMIT",
    "CappedCountPaginator",
    "CodeFilter",
    "CronEntryAdmin",
    "CronJobAdmin",
    "CronJobLogAdmin",
    "configured_codes",
    "short_duration",
    "status_mark",
]
