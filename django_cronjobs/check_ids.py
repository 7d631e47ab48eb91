"""Every system check's id, with what it reports and its usual hint.

One catalogue for the system checks, runcrons' lines and the documentation
(``docs/checks.md`` lists the same ids; a test compares them). Problems
found in one place carry the id from here, never as a string of their own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckId:
    """A check's stable id (``django_cronjobs.E001``), what it reports, and a hint."""

    id: str
    summary: str
    hint: str = ""


E001 = CheckId(
    "django_cronjobs.E001",
    "a CRON_CLASSES entry cannot be imported",
    "Check the dotted path in CRON_CLASSES.",
)

E002 = CheckId(
    "django_cronjobs.E002",
    "an entry is not a CronJobBase subclass",
    "List subclasses of django_cronjobs.CronJobBase in CRON_CLASSES.",
)

E003 = CheckId(
    "django_cronjobs.E003",
    "a job has no code",
    "Set code = 'app.job_name' on the class.",
)

E004 = CheckId(
    "django_cronjobs.E004",
    "a job's code is not a string of 1-64 characters",
    "Use a code of 1 to 64 characters, such as 'app.job_name'.",
)

E005 = CheckId(
    "django_cronjobs.E005",
    "two jobs share a code",
    "Give each job a code of its own; the code keys its history.",
)

E006 = CheckId(
    "django_cronjobs.E006",
    "a job's schedule is not a Schedule",
    "Set schedule = Schedule(...) on the class.",
)

E007 = CheckId(
    "django_cronjobs.E007",
    "invalid cron expression",
    "Use five fields (minute hour day month weekday) or a macro.",
)

E008 = CheckId(
    "django_cronjobs.E008",
    "cron expression that never fires",
    "Pick days and months that exist together (not 31 February).",
)

E009 = CheckId(
    "django_cronjobs.E009",
    "invalid run_at_times",
    "Write run_at_times as a list of 'HH:MM' strings.",
)

E010 = CheckId(
    "django_cronjobs.E010",
    "schedule with nothing to run on",
    "Give run_every_mins, run_at_times or cron.",
)

E011 = CheckId(
    "django_cronjobs.E011",
    "invalid minutes or seconds in a schedule",
    "Use whole minutes >= 0 and seconds >= 0, within ten years.",
)

E012 = CheckId(
    "django_cronjobs.E012",
    "invalid run_weekly_on_days / run_monthly_on_days",
    "Use lists of weekdays 0-6 (0 is Monday) or month days 1-31.",
)

E013 = CheckId(
    "django_cronjobs.E013",
    "unknown time zone",
    "Use a zone name from the tz database, such as 'Europe/Berlin'.",
)

E014 = CheckId(
    "django_cronjobs.E014",
    "unknown lock backend",
    "Use 'database', 'cache', 'file', a dotted path to a lock class, or None.",
)

E015 = CheckId(
    "django_cronjobs.E015",
    "CRON_CLASSES is not a list of dotted paths",
    "Write CRON_CLASSES as a list of dotted class paths.",
)

E016 = CheckId(
    "django_cronjobs.E016",
    "the cache lock names an unknown cache",
    "Set CRONJOBS_CACHE to an alias of CACHES (default 'default').",
)

E017 = CheckId(
    "django_cronjobs.E017",
    "invalid missed_slots, replay_limit or starting_deadline_seconds",
    "missed_slots: 'latest', 'skip' or 'replay'; limits >= 0.",
)

E018 = CheckId(
    "django_cronjobs.E018",
    "CRONJOBS_BATCH_SECONDS is not a finite number of seconds >= 0",
    "0 claims and records each run on its own; runs are not batched meanwhile.",
)

E019 = CheckId(
    "django_cronjobs.E019",
    "a job cannot be handed to its task backend",
    "Name a backend of TASKS and use the 'database' lock backend.",
)

E020 = CheckId(
    "django_cronjobs.E020",
    "a job's code contains control characters (NUL...)",
    "Use printable text: PostgreSQL cannot store NUL; line breaks garble logs.",
)

E021 = CheckId(
    "django_cronjobs.E021",
    "CRONJOBS_CLOCK_SKEW_LIMIT is not a number of seconds > 0 or None",
    "None turns the guard off; runcrons uses 3600 meanwhile.",
)

E022 = CheckId(
    "django_cronjobs.E022",
    "a job class does not define do()",
    "Define do(self) on the class: the job's work; what it returns is kept.",
)

E023 = CheckId(
    "django_cronjobs.E023",
    "a cron entry names a job that is not in CRON_CLASSES",
    "Add the job's class to CRON_CLASSES, or delete the job's entries.",
)

E024 = CheckId(
    "django_cronjobs.E024",
    "a cron entry's key or keyword arguments are not usable",
    "Keys: 1-128 characters, no control characters; do() must accept the kwargs.",
)

W001 = CheckId(
    "django_cronjobs.W001",
    "the cache lock on a cache that cannot lock across processes",
    "Use Redis or Memcached, or the default 'database' lock backend.",
)

W002 = CheckId(
    "django_cronjobs.W002",
    "CRON_CLASSES lists no jobs",
    "Add the dotted paths of the job classes to CRON_CLASSES.",
)


W003 = CheckId(
    "django_cronjobs.W003",
    "a fixed time of the schedule does not exist, or happens twice, on a coming day of its zone",
    "Choose a time outside the hour the clocks change, or UTC.",
)

W004 = CheckId(
    "django_cronjobs.W004",
    "Sentry Crons check-ins are asked for, but sentry-sdk is not installed",
    "pip install sentry-sdk (the 'sentry' extra), or turn SENTRY_CRONS off.",
)

E025 = CheckId(
    "django_cronjobs.E025",
    "a job's KEEP_RUNS, KEEP_DAYS or KEEP_FAILED_DAYS is not usable",
    "KEEP_RUNS: a whole number, 1 or more; the days: a number > 0; or None.",
)

W005 = CheckId(
    "django_cronjobs.W005",
    "Prometheus metrics are asked for, but prometheus-client is not installed",
    "pip install prometheus-client (the 'prometheus' extra), or turn PROMETHEUS off.",
)

W006 = CheckId(
    "django_cronjobs.W006",
    "CRONJOBS_PROMETHEUS_PUSH_TIMEOUT is not a finite number of seconds > 0",
    "Set it to a few seconds (the default is 5); nothing is pushed meanwhile.",
)


CATALOGUE: tuple[CheckId, ...] = (
    E001,
    E002,
    E003,
    E004,
    E005,
    E006,
    E007,
    E008,
    E009,
    E010,
    E011,
    E012,
    E013,
    E014,
    E015,
    E016,
    E017,
    E018,
    E019,
    E020,
    E021,
    E022,
    E023,
    E024,
    E025,
    W001,
    W002,
    W003,
    W004,
    W005,
    W006,
)

"""Every check, in the order of their ids."""

BY_ID = {check.id: check for check in CATALOGUE}
