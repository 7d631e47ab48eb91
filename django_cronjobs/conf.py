"""Every setting django_cronjobs reads, with its default and its django-cron name.

Settings are read on access, so ``override_settings`` works; during a tick
(:func:`held_for_a_tick`) each is read once. Where django-cron
used another name, the new name wins and the old one is still honoured.
"""

from __future__ import annotations

import math
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings as django_settings

from .schedules.problems import is_seconds_between

_MISSING = object()
DEFAULT_CLOCK_SKEW_LIMIT = 3600.0
T = TypeVar("T")


_held: ContextVar[dict[str, Any] | None] = ContextVar("django_cronjobs_held", default=None)


@contextmanager
def held_for_a_tick() -> Iterator[None]:
    """Within the block, each setting (and each :func:`once_per_tick` value) is
    read once: a tick reads the same ones for every job, and reading a setting
    a project does not set costs Django an exception each time."""
    token = _held.set({})
    try:
        yield
    finally:
        _held.reset(token)


def once_per_tick(key: str, read: Callable[[], T]) -> T:
    """``read()``, at most once within :func:`held_for_a_tick` (in this thread)."""
    held = _held.get()
    if held is None:
        return read()
    value = held.get(key, _NOT_HELD)
    if value is _NOT_HELD:  # (a setting's own _MISSING is a value to hold)
        value = held[key] = read()
    return value  # type: ignore[no-any-return]


_NOT_HELD = object()


def _setting(name: str, old_name: str | None, default: Any) -> Any:
    return once_per_tick(name, lambda: _read_setting(name, old_name, default))


def _read_setting(name: str, old_name: str | None, default: Any) -> Any:
    value = getattr(django_settings, name, _MISSING)
    if value is _MISSING and old_name is not None:
        value = getattr(django_settings, old_name, _MISSING)
    return default if value is _MISSING else value


def is_finite_seconds(value: Any, *, zero: bool) -> bool:
    """Whether a setting's ``value`` is a finite number of seconds (> 0, or >= 0 with ``zero``).

    No such setting means "forever" by infinity, and NaN fails every
    comparison it later meets: both are refused, as is an int too large to
    become a float.
    """
    return is_seconds_between(value, 0, sys.float_info.max, above_low=not zero)


def is_at_least_one(value: Any) -> bool:
    """Whether ``value`` is a whole number (an int, not a bool), 1 or more."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def is_clock_skew_limit(value: Any) -> bool:
    """Whether ``value`` is a CRONJOBS_CLOCK_SKEW_LIMIT that runcrons applies
    (None, which turns the guard off, aside): seconds above 0, or infinity,
    a limit no clock exceeds."""
    return is_finite_seconds(value, zero=False) or (isinstance(value, float) and value == math.inf)


class Settings:
    """Typed access to the project's settings."""

    @property
    def CRON_CLASSES(self) -> Sequence[str]:
        """Dotted paths of the job classes runcrons runs when given no names."""
        return _setting("CRON_CLASSES", None, ())  # type: ignore[no-any-return]

    @property
    def DATABASE(self) -> str | None:
        """The database alias that holds the app's tables; None: as DATABASE_ROUTERS say."""
        value = _setting("CRONJOBS_DATABASE", None, None)
        return str(value) if value else None

    @property
    def LOCK_BACKEND(self) -> str | None:
        """``"database"`` (default), ``"cache"``, ``"file"``, a dotted path, or None.

        None switches the overlap lock off; slots still run exactly once.
        """
        return _setting("CRONJOBS_LOCK_BACKEND", "DJANGO_CRON_LOCK_BACKEND", "database")  # type: ignore[no-any-return]

    @property
    def DEFAULT_TIMEOUT_SECONDS(self) -> float | None:
        """Timeout of jobs that set no TIMEOUT_SECONDS; None: no timeout."""
        return _setting("CRONJOBS_DEFAULT_TIMEOUT_SECONDS", None, None)  # type: ignore[no-any-return]

    @property
    def NOTIFY_FAILURES(self) -> bool:
        """Mail ADMINS when a job fails MIN_NUM_FAILURES times in a row, and when it recovers."""
        return bool(_setting("CRONJOBS_NOTIFY_FAILURES", None, False))

    @property
    def FAILURE_EMAIL_PREFIX(self) -> str:
        """Put before the subject of failure mails (after EMAIL_SUBJECT_PREFIX)."""
        return str(
            _setting("CRONJOBS_FAILURE_EMAIL_PREFIX", "FAILED_RUNS_CRONJOB_EMAIL_PREFIX", "")
        )

    @property
    def HEALTH_TOKEN(self) -> str:
        """The secret a monitor sends to the health endpoint; empty: staff sessions only."""
        return str(_setting("CRONJOBS_HEALTH_TOKEN", None, "") or "")

    @property
    def CONCURRENCY(self) -> int:
        """How many due jobs of one tick run at once (each in its own process)."""
        return _setting("CRONJOBS_CONCURRENCY", None, 1)  # type: ignore[no-any-return]

    @property
    def CLOCK_SKEW_WARNING(self) -> float:
        """Seconds of difference from the database's clock that runcrons warns about."""
        return _setting("CRONJOBS_CLOCK_SKEW_WARNING", None, 30)  # type: ignore[no-any-return]

    @property
    def CLOCK_SKEW_LIMIT(self) -> float | None:
        """Seconds this host's clock may run ahead of the database's before runcrons
        refuses to claim slots by it (and takes a stored slot that far ahead for wrong);
        None turns that off."""
        return _setting("CRONJOBS_CLOCK_SKEW_LIMIT", None, DEFAULT_CLOCK_SKEW_LIMIT)  # type: ignore[no-any-return]

    @property
    def clock_skew_limit(self) -> float | None:
        """CLOCK_SKEW_LIMIT as runcrons applies it: a value check E021 refuses counts
        as the default."""
        value = self.CLOCK_SKEW_LIMIT
        if value is None:
            return None
        return float(value) if is_clock_skew_limit(value) else DEFAULT_CLOCK_SKEW_LIMIT

    @property
    def LOCK_TIME(self) -> int:
        """Lock timeout (seconds) handed to custom lock backends as ``self.timeout``.

        The built-in backends expire a lock with the run's lease instead.
        """
        return _setting("CRONJOBS_LOCK_TIME", "DJANGO_CRON_LOCK_TIME", 24 * 60 * 60)  # type: ignore[no-any-return]

    @property
    def LEASE_SECONDS(self) -> float:
        """How long a run stays claimed without a heartbeat (renewed every quarter).

        A run whose process died is taken for abandoned once its lease ran out
        (at once on its own host, where its pid is seen to be gone).
        """
        return _setting("CRONJOBS_LEASE_SECONDS", None, 120)  # type: ignore[no-any-return]

    @property
    def CACHE(self) -> str:
        """Alias of the cache the ``cache`` lock backend uses."""
        return _setting("CRONJOBS_CACHE", "DJANGO_CRON_CACHE", "default")  # type: ignore[no-any-return]

    @property
    def LOCKFILE_PATH(self) -> str:
        """Directory for the ``file`` lock backend's lock files."""
        return _setting(  # type: ignore[no-any-return]
            "CRONJOBS_LOCKFILE_PATH", "DJANGO_CRON_LOCKFILE_PATH", tempfile.gettempdir()
        )

    @property
    def BATCH_SECONDS(self) -> float:
        """Quick jobs due in one tick are claimed and recorded together, in batches
        whose last run times add up to at most this many seconds; 0 claims each
        run on its own."""
        return _setting("CRONJOBS_BATCH_SECONDS", None, 0.5)  # type: ignore[no-any-return]

    @property
    def TASK_BACKEND(self) -> str | None:
        """Alias in TASKS of the task backend that runs every job's runs; None: in runcrons."""
        return _setting("CRONJOBS_TASK_BACKEND", None, None)  # type: ignore[no-any-return]

    @property
    def TASK_QUEUE_NAME(self) -> str:
        """Queue of the tasks that run jobs (a job's TASK_QUEUE_NAME wins)."""
        return _setting("CRONJOBS_TASK_QUEUE_NAME", None, "default")  # type: ignore[no-any-return]

    @property
    def TASK_START_SECONDS(self) -> float:
        """Seconds a worker has to start an enqueued run before it is abandoned."""
        return _setting("CRONJOBS_TASK_START_SECONDS", None, 600)  # type: ignore[no-any-return]

    @property
    def DELETE_LOGS_OLDER_THAN(self) -> float | None:
        """Days after which finished CronJobLog rows are deleted; None keeps them."""
        return _setting(  # type: ignore[no-any-return]
            "CRONJOBS_DELETE_LOGS_OLDER_THAN", "DJANGO_CRON_DELETE_LOGS_OLDER_THAN", None
        )

    @property
    def DELETE_FAILED_LOGS_OLDER_THAN(self) -> float | None:
        """Days after which runs that did not succeed are deleted; None keeps them.
        Unset, it is DELETE_LOGS_OLDER_THAN."""
        return self.failed_logs_days(self.DELETE_LOGS_OLDER_THAN)

    def failed_logs_days(self, days: float | None) -> float | None:
        """DELETE_FAILED_LOGS_OLDER_THAN when it is set (None keeps failures), else ``days``."""
        value = _setting("CRONJOBS_DELETE_FAILED_LOGS_OLDER_THAN", None, _MISSING)
        return days if value is _MISSING else value

    @property
    def REMOVE_SUCCESSFUL_LOGS(self) -> bool:
        """Delete a job's older successful logs after each success (all jobs)."""
        return bool(
            _setting("CRONJOBS_REMOVE_SUCCESSFUL_LOGS", "REMOVE_SUCCESSFUL_CRON_LOGS", False)
        )

    @property
    def OUTPUT_ERRORS(self) -> bool:
        """Also log each failure through the ``django_cronjobs`` logger at ERROR."""
        return bool(_setting("CRONJOBS_OUTPUT_ERRORS", "DJANGO_CRON_OUTPUT_ERRORS", False))

    @property
    def MESSAGE_MAX_LENGTH(self) -> int:
        """Characters of a run's message kept; longer text is cut with a marker."""
        return _setting("CRONJOBS_MESSAGE_MAX_LENGTH", None, 100_000)  # type: ignore[no-any-return]

    @property
    def ENTRIES_PER_TAKE(self) -> int:
        """Due entries a tick takes at a time; it takes again while a take comes back full."""
        return _setting("CRONJOBS_ENTRIES_PER_TAKE", None, 200)  # type: ignore[no-any-return]

    @property
    def PING_URL(self) -> str:
        """Ping monitor URL of every job, with ``{code}`` and ``{entry}``; empty: none."""
        return _setting("CRONJOBS_PING_URL", None, "") or ""

    @property
    def PING_TIMEOUT(self) -> float:
        """Seconds one ping may take before it is retried."""
        return _setting("CRONJOBS_PING_TIMEOUT", None, 5)  # type: ignore[no-any-return]

    @property
    def PING_FLUSH_SECONDS(self) -> float:
        """Seconds a process about to exit waits for its queued pings."""
        return _setting("CRONJOBS_PING_FLUSH_SECONDS", None, 10)  # type: ignore[no-any-return]

    @property
    def SENTRY_CRONS(self) -> bool:
        """Send Sentry Crons check-ins for every job that does not say otherwise."""
        return bool(_setting("CRONJOBS_SENTRY_CRONS", None, False))

    @property
    def SENTRY_CHECKIN_MARGIN(self) -> int:
        """Minutes a Sentry monitor waits past a slot before it counts a check-in missed."""
        return _setting("CRONJOBS_SENTRY_CHECKIN_MARGIN", None, 5)  # type: ignore[no-any-return]

    @property
    def PROMETHEUS(self) -> bool:
        """Keep the running totals behind the Prometheus metrics (a write per run and tick)."""
        return bool(_setting("CRONJOBS_PROMETHEUS", None, False))

    @property
    def PROMETHEUS_PUSHGATEWAY(self) -> str:
        """Pushgateway URL each tick pushes the metrics to; empty: no push."""
        return _setting("CRONJOBS_PROMETHEUS_PUSHGATEWAY", None, "") or ""

    @property
    def PROMETHEUS_PUSH_JOB(self) -> str:
        """The ``job`` grouping key of the pushed metrics."""
        return (
            _setting("CRONJOBS_PROMETHEUS_PUSH_JOB", None, "django_cronjobs") or "django_cronjobs"
        )

    @property
    def PROMETHEUS_PUSH_TIMEOUT(self) -> float:
        """Seconds a push to the Pushgateway may take."""
        return _setting("CRONJOBS_PROMETHEUS_PUSH_TIMEOUT", None, 5)  # type: ignore[no-any-return]

    @property
    def prometheus_enabled(self) -> bool:
        """Metrics are kept when asked for, or when a Pushgateway is set."""
        return self.PROMETHEUS or bool(self.PROMETHEUS_PUSHGATEWAY)

    @property
    def RETENTION_BATCH_SIZE(self) -> int:
        """Rows deleted per statement by log retention."""
        return _setting("CRONJOBS_RETENTION_BATCH_SIZE", None, 1000)  # type: ignore[no-any-return]


conf = Settings()
