"""The admin: the run log (:mod:`.log`) and the Cron jobs pages (:mod:`.jobs`)."""

from __future__ import annotations

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
    "CronJobAdmin",
    "CronJobLogAdmin",
    "configured_codes",
    "short_duration",
    "status_mark",
]
