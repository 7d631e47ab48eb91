"""What each run, each set of missed slots and each tick adds to the metrics' totals."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import DatabaseError

from ...conf import conf
from ...models import RunStatus
from ...store.metric_tallies import Tally, record
from ..run_ids import seconds_taken
from .series import (
    BUCKETS,
    DURATION,
    LAG,
    LAST_SUCCESS,
    MISSED,
    RUNS,
    SUM,
    TICK,
    bucket_of,
)

logger = logging.getLogger("django_cronjobs")


def observed(metric: str, cronjob: str, seconds: float) -> list[Tally]:
    """A histogram's observation: one more in its bucket, and its sum."""
    seconds = max(seconds, 0.0)
    return [
        Tally(metric, cronjob, bucket_of(seconds, BUCKETS[metric]), 1),
        Tally(metric + SUM, cronjob, "", seconds),
    ]


def run_tallies(code: str, run: Any, status: str) -> tuple[list[Tally], list[Tally]]:
    """What a run that ended adds: its count by status, duration and lag; its end.

    A run found dead adds only its count: its end is when it was found, and
    one whose task never started has no start to measure a lag to.
    """
    added = [Tally(RUNS, code, status, 1)]
    duration = seconds_taken(run)
    if duration is not None:
        added += observed(DURATION, code, duration)
    if status != RunStatus.ABANDONED and run.slot is not None and run.start_time is not None:
        added += observed(LAG, code, (run.start_time - run.slot).total_seconds())
    latest = []
    if status == RunStatus.SUCCEEDED and run.end_time is not None:
        latest.append(Tally(LAST_SUCCESS, code, "", run.end_time.timestamp()))
    return added, latest


def _record(what: str, added: list[Tally], latest: Sequence[Tally] = ()) -> None:
    try:
        record(added, latest)
    except DatabaseError as error:
        # Metrics must not fail a run: the run's own record is already stored.
        logger.warning("Prometheus metrics: could not count %s: %s", what, error)


def run_finished(sender: type, *, code: str, run: Any, status: str, **_: Any) -> None:
    """``cron_job_finished``."""
    if conf.prometheus_enabled:
        _record(f"a run of {code}", *run_tallies(code, run, status))


def slots_missed(sender: type, *, code: str, slots: Sequence[datetime], **_: Any) -> None:
    """``cron_slots_missed``."""
    if conf.prometheus_enabled and slots:
        _record(f"missed slots of {code}", [Tally(MISSED, code, "", len(slots))])


def tick_finished(sender: type, *, seconds: float, **_: Any) -> None:
    """``cron_tick_finished``: count the tick, then push when a Pushgateway is set."""
    if not conf.prometheus_enabled:
        return
    _record("a tick", observed(TICK, "", seconds))
    if conf.PROMETHEUS_PUSHGATEWAY:
        from .push import push

        push()


def connect() -> None:
    """Listen to the signals (the app's ``ready()``); each receiver reads the setting."""
    from ...signals import cron_job_finished, cron_slots_missed, cron_tick_finished

    uid = "django_cronjobs.prometheus."
    cron_job_finished.connect(run_finished, dispatch_uid=uid + "run_finished")
    cron_slots_missed.connect(slots_missed, dispatch_uid=uid + "slots_missed")
    cron_tick_finished.connect(tick_finished, dispatch_uid=uid + "tick_finished")
