"""System checks: every misconfiguration django_cronjobs can see, with a stable id.

=====================  ===============================================
id                     problem
=====================  ===============================================
django_cronjobs.E001   a CRON_CLASSES entry cannot be imported
django_cronjobs.E002   an entry is not a CronJobBase subclass
django_cronjobs.E003   a job has no code
django_cronjobs.E004   a job's code is not a string of 1-64 characters
django_cronjobs.E005   two jobs share a code
django_cronjobs.E006   a job's schedule is not a Schedule
django_cronjobs.E007   invalid cron expression
django_cronjobs.E008   cron expression that never fires
django_cronjobs.E009   invalid run_at_times
django_cronjobs.E010   schedule with nothing to run on
django_cronjobs.E011   invalid minutes or seconds in a schedule
django_cronjobs.E012   invalid run_weekly_on_days / run_monthly_on_days
django_cronjobs.E013   unknown time zone
django_cronjobs.E014   unknown lock backend
django_cronjobs.E015   CRON_CLASSES is not a list of dotted paths
django_cronjobs.E016   the cache lock names an unknown cache
django_cronjobs.E017   invalid missed_slots, replay_limit or starting_deadline_seconds
django_cronjobs.E018   CRONJOBS_BATCH_SECONDS is not a finite number of seconds >= 0
django_cronjobs.E019   a job cannot be handed to its task backend
django_cronjobs.E020   a job's code contains control characters (NUL...)
django_cronjobs.E021   CRONJOBS_CLOCK_SKEW_LIMIT is not a number of seconds > 0 or None
django_cronjobs.E022   a job class does not define do()
django_cronjobs.W001   the cache lock on a cache that cannot lock across processes
django_cronjobs.W002   CRON_CLASSES lists no jobs
=====================  ===============================================

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

import sys
from typing import Any

from django.conf import settings
from django.core import checks

from .conf import DEFAULT_CLOCK_SKEW_LIMIT, conf, is_clock_skew_limit, is_finite_seconds
from .jobs.base import NO_JOBS, load_jobs
from .locks import lock_backend_class
from .locks.base import guards_in_claim

PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


# What to do about each problem, where the problem itself has no better hint.
HINTS = {
    "django_cronjobs.E001": "Check the dotted path in CRON_CLASSES.",
    "django_cronjobs.E002": "List subclasses of django_cronjobs.CronJobBase in CRON_CLASSES.",
    "django_cronjobs.E003": "Set code = 'app.job_name' on the class.",
    "django_cronjobs.E004": "Use a code of 1 to 64 characters, such as 'app.job_name'.",
    "django_cronjobs.E005": "Give each job a code of its own; the code keys its history.",
    "django_cronjobs.E006": "Set schedule = Schedule(...) on the class.",
    "django_cronjobs.E007": "Use five fields (minute hour day month weekday) or a macro.",
    "django_cronjobs.E008": "Pick days and months that exist together (not 31 February).",
    "django_cronjobs.E009": "Write run_at_times as a list of 'HH:MM' strings.",
    "django_cronjobs.E010": "Give run_every_mins, run_at_times or cron.",
    "django_cronjobs.E011": "Use whole minutes >= 0 and seconds >= 0, within ten years.",
    "django_cronjobs.E012": "Use lists of weekdays 0-6 (0 is Monday) or month days 1-31.",
    "django_cronjobs.E013": "Use a zone name from the tz database, such as 'Europe/Berlin'.",
    "django_cronjobs.E015": "Write CRON_CLASSES as a list of dotted class paths.",
    "django_cronjobs.E017": "missed_slots: 'latest', 'skip' or 'replay'; limits >= 0.",
    "django_cronjobs.E019": "Name a backend of TASKS and use the 'database' lock backend.",
    "django_cronjobs.E020": (
        "Use printable text: PostgreSQL cannot store NUL; line breaks garble logs."
    ),
    "django_cronjobs.E022": (
        "Define do(self) on the class: the job's work; what it returns is kept."
    ),
}


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
            hint=problem.hint or HINTS.get(problem.check_id),
            obj=entry.name,
            id=problem.check_id,
        )
        for entry in entries
        for problem in entry.problems
    ]


@checks.register()
def check_lock_backend(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    name = conf.LOCK_BACKEND
    try:
        backend = lock_backend_class(name)
    except (ImportError, AttributeError) as error:
        return [
            checks.Error(
                f"Unknown lock backend {name!r}: {error}",
                hint="Use 'database', 'cache', 'file', a dotted path to a lock class, or None.",
                id="django_cronjobs.E014",
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
                hint="Set CRONJOBS_CACHE to an alias of CACHES (default 'default').",
                id="django_cronjobs.E016",
            )
        ]
    if cache_settings.get("BACKEND") in PER_PROCESS_CACHES:
        return [
            checks.Warning(
                f"The cache lock uses {cache_settings['BACKEND']}, which cannot lock "
                "across processes.",
                hint="Use Redis or Memcached, or the default 'database' lock backend.",
                id="django_cronjobs.W001",
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
                hint="0 claims and records each run on its own; runs are not batched meanwhile.",
                id="django_cronjobs.E018",
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
                hint=f"None turns the guard off; runcrons uses {DEFAULT_CLOCK_SKEW_LIMIT:g} "
                "meanwhile.",
                id="django_cronjobs.E021",
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
                    hint=HINTS["django_cronjobs.E019"],
                    obj=entry.name,
                    id="django_cronjobs.E019",
                )
            )
    return errors
