"""The app's models: runs (CronJobLog), job states (CronJobState), entries (CronEntry)
and the metrics' running totals (MetricTally)."""

from __future__ import annotations

from .entries import CronEntry, CronEntryQuerySet, EntrySpec, Scheduled
from .metrics import MetricTally
from .runs import (
    UNSUCCESSFUL,
    CronJobLog,
    CronJobLogQuerySet,
    CronJobsManager,
    RunStatus,
    failed_at,
    run_name,
)
from .states import CronJob, CronJobLock, CronJobState, ScheduleSet

__all__ = [
    "UNSUCCESSFUL",
    "CronEntry",
    "CronEntryQuerySet",
    "CronJob",
    "CronJobLock",
    "CronJobLog",
    "CronJobLogQuerySet",
    "CronJobState",
    "CronJobsManager",
    "EntrySpec",
    "MetricTally",
    "RunStatus",
    "ScheduleSet",
    "Scheduled",
    "failed_at",
    "run_name",
]
