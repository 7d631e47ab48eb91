"""System checks: every misconfiguration django_cronjobs can see, with a stable id.

The ids, what each reports and its usual hint are in
:mod:`django_cronjobs.check_ids` (and ``docs/checks.md``).

The problems of CRON_CLASSES and its jobs (E001-E013, E015, E017, E019,
E020, E022) concern those jobs only: runcrons reports them and runs the others.
They are errors for ``manage.py check``, ``runserver`` and the test runner,
and warnings, with the same ids, when ``migrate`` runs the checks, so that a
broken job never keeps a deploy from migrating. (Django gives a check no
sign of the command that runs it, and from Django 6.1 on passes every check
the databases whatever the command: the check looks for the ``migrate``
command in the calls that led to it.) The settings of the
app's machinery (E014, E016, E018, E021) stop every job: they stay errors.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils import timezone

from .check_ids import (
    BY_ID,
    E014,
    E016,
    E018,
    E019,
    E021,
    W001,
    W003,
    W004,
    W005,
    W006,
)
from .conf import conf, is_clock_skew_limit, is_finite_seconds
from .jobs.base import NO_JOBS, load_jobs
from .locks import lock_backend_class
from .locks.base import guards_in_claim
from .schedules.dst_notes import dst_notes

PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def job_problem_level() -> type[checks.Error] | type[checks.Warning]:
    """How a problem of one job reports: an error, or a warning under ``migrate``."""
    return checks.Warning if running_migrate() else checks.Error


def running_migrate() -> bool:
    """Whether Django's ``migrate`` command (or a subclass of it) runs these checks."""
    from django.core.management.commands.migrate import Command as Migrate

    frame = sys._getframe(1)
    while frame is not None:
        if isinstance(frame.f_locals.get("self"), Migrate):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


@checks.register()
def check_cron_classes(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    entries = load_jobs()
    if not entries:
        return [checks.Warning(NO_JOBS.message, hint=NO_JOBS.hint, id=NO_JOBS.check_id)]
    level = job_problem_level()
    return [
        level(
            problem.message,
            hint=problem.hint or BY_ID[problem.check_id].hint or None,
            obj=entry.name,
            id=problem.check_id,
        )
        for entry in entries
        for problem in entry.problems
    ]


@checks.register()
def check_daylight_saving(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """W003: a job's fixed time that a coming daylight saving change skips or repeats."""
    now = timezone.now()
    warnings: list[checks.CheckMessage] = []
    for entry in load_jobs():
        schedule = getattr(entry.job_class, "schedule", None)
        if not entry.runnable or schedule is None or schedule.every_invocation:
            continue
        notes = dst_notes(schedule, now)
        if notes:
            zone = schedule.zone
            warnings.append(
                checks.Warning(
                    f"Cron job {entry.code}, in {zone}: "
                    + "; ".join(note.text() for note in notes[:2]),
                    hint=W003.hint,
                    obj=entry.name,
                    id=W003.id,
                )
            )
    return warnings


@checks.register()
def check_sentry_crons(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """W004: check-ins asked for (the setting, or a job's SENTRY_CRONS) without sentry-sdk."""
    wanted = conf.SENTRY_CRONS or any(
        getattr(entry.job_class, "SENTRY_CRONS", False) for entry in load_jobs() if entry.runnable
    )
    if not wanted or importlib.util.find_spec("sentry_sdk") is not None:
        return []
    return [
        checks.Warning(
            "Sentry Crons check-ins are asked for, but sentry-sdk is not installed: "
            "no check-in is sent.",
            hint=W004.hint,
            id=W004.id,
        )
    ]


@checks.register()
def check_prometheus(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """W005: metrics asked for (the setting, or a Pushgateway) without prometheus-client
    (the totals are still kept; nothing can serve or push them). W006: a push
    timeout that is not a number of seconds (nothing is pushed)."""
    if not conf.prometheus_enabled:
        return []
    found: list[checks.CheckMessage] = []
    if importlib.util.find_spec("prometheus_client") is None:
        found.append(
            checks.Warning(
                "Prometheus metrics are asked for, but prometheus-client is not installed: "
                "the metrics view answers 501 and nothing is pushed.",
                hint=W005.hint,
                id=W005.id,
            )
        )
    timeout = conf.PROMETHEUS_PUSH_TIMEOUT
    if conf.PROMETHEUS_PUSHGATEWAY and not is_finite_seconds(timeout, zero=False):
        found.append(
            checks.Warning(
                "CRONJOBS_PROMETHEUS_PUSH_TIMEOUT must be a finite number of seconds > 0, "
                f"not {timeout!r}.",
                hint=W006.hint,
                id=W006.id,
            )
        )
    return found


@checks.register()
def check_lock_backend(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    name = conf.LOCK_BACKEND
    try:
        backend = lock_backend_class(name)
    except (ImportError, AttributeError) as error:
        return [
            checks.Error(
                f"Unknown lock backend {name!r}: {error}",
                hint=E014.hint,
                id=E014.id,
            )
        ]
    from .locks.cache import CacheLock

    if backend is None or not issubclass(backend, CacheLock):
        return []
    cache_settings = settings.CACHES.get(conf.CACHE)
    if cache_settings is None:
        return [
            checks.Error(
                f"The cache lock uses the cache {conf.CACHE!r}, which CACHES does not define.",
                hint=E016.hint,
                id=E016.id,
            )
        ]
    if cache_settings.get("BACKEND") in PER_PROCESS_CACHES:
        return [
            checks.Warning(
                f"The cache lock uses {cache_settings['BACKEND']}, which cannot lock "
                "across processes.",
                hint=W001.hint,
                id=W001.id,
            )
        ]
    return []


@checks.register()
def check_batch_seconds(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    value = conf.BATCH_SECONDS
    if not is_finite_seconds(value, zero=True):
        return [
            checks.Error(
                "CRONJOBS_BATCH_SECONDS must be a finite number of seconds, 0 or more; "
                f"got {value!r}.",
                hint=E018.hint,
                id=E018.id,
            )
        ]
    return []


@checks.register()
def check_clock_skew_limit(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    value = conf.CLOCK_SKEW_LIMIT
    if value is not None and not is_clock_skew_limit(value):
        return [
            checks.Error(
                "CRONJOBS_CLOCK_SKEW_LIMIT must be a number of seconds above 0, or None; "
                f"got {value!r}.",
                hint=E021.hint,
                id=E021.id,
            )
        ]
    return []


@checks.register()
def check_task_backends(
    app_configs: Any = None, databases: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    entries = [entry for entry in load_jobs() if entry.runnable and entry.job_class is not None]
    handed_over = [
        (entry, alias)
        for entry in entries
        if entry.job_class is not None and (alias := entry.job_class.task_backend()) is not None
    ]
    if not handed_over:
        return []
    from .queued.enqueue import usable

    try:
        lock_class = lock_backend_class(conf.LOCK_BACKEND)
    except (ImportError, AttributeError):
        return []  # E014 says it
    database_lock = lock_class is None or guards_in_claim(lock_class)
    level = job_problem_level()
    errors: list[checks.CheckMessage] = []
    for entry, alias in handed_over:
        assert entry.job_class is not None
        problem = usable(entry.job_class, alias, database_lock)
        if problem:
            errors.append(
                level(
                    problem,
                    hint=E019.hint,
                    obj=entry.name,
                    id=E019.id,
                )
            )
    return errors
