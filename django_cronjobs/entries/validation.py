"""What keeps an entry from being written: the system checks' texts, per field.

An entry is refused at the write (``ValidationError``) rather than found
broken by a tick: its job must be configured, its schedule valid, its key
storable and its keyword arguments accepted by the job's ``do()``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import Any, Protocol

from ..check_ids import E007, E009, E011, E012, E013, E017, E023, E024
from ..jobs.base import CronJobBase, load_jobs, run_name, unstorable_characters
from ..schedules.schedule import Schedule

KEY_LENGTH = 128

# Which field of an entry a schedule problem is about, by its check id.
FIELD_OF_CHECK = {
    E007.id: "cron",
    E009.id: "run_at_times",
    E013.id: "timezone",
    E017.id: "missed_slots",
}


class EntryFields(Protocol):
    """The columns of an entry that validation reads."""

    job: str
    key: str
    kwargs: Any

    @property
    def schedule(self) -> Schedule: ...


Problems = dict[str, list[str]]


def configured_job(code: str) -> type[CronJobBase] | None:
    """The runnable job of CRON_CLASSES with ``code``, if there is one."""
    for job in load_jobs():
        if job.runnable and job.code == code:
            return job.job_class
    return None


def job_problems(code: str) -> Problems:
    """Why entries of ``code`` cannot be written: its job is not configured."""
    if configured_job(code) is not None:
        return {}
    return {"job": [f"No job in CRON_CLASSES has the code {code!r}. ({E023.id})"]}


def entry_problems(entry: EntryFields, job_class: type[CronJobBase] | None = None) -> Problems:
    """Everything that keeps ``entry`` from being written, by field; empty when none.

    ``job_class`` saves looking the job up (the bulk form checks it once).
    """
    problems: Problems = {}
    if job_class is None:
        problems.update(job_problems(entry.job))
        job_class = configured_job(entry.job)
    _add(problems, "key", key_problems(entry.key, entry.job))
    _add(problems, "kwargs", kwargs_problems(entry.kwargs, job_class))
    for field, messages in schedule_problems(entry.schedule).items():
        _add(problems, field, messages)
    return problems


def key_problems(key: Any, code: str) -> list[str]:
    if not isinstance(key, str) or not key.strip() or len(key) > KEY_LENGTH:
        return [f"The key must be 1 to {KEY_LENGTH} characters, not {key!r}. ({E024.id})"]
    if unstorable_characters(key):
        return [f"The key contains control characters: {key!r}. ({E024.id})"]
    if configured_job(run_name(code, key)) is not None:
        return [f"The key would name the entry like the job {code}[{key}]. ({E024.id})"]
    return []


def kwargs_problems(kwargs: Any, job_class: type[CronJobBase] | None) -> list[str]:
    if not isinstance(kwargs, Mapping) or not all(isinstance(name, str) for name in kwargs):
        return [f"kwargs must be a dict with string keys, not {kwargs!r}. ({E024.id})"]
    try:
        json.dumps(kwargs)
    except (TypeError, ValueError) as error:
        return [f"kwargs must be JSON: {error}. ({E024.id})"]
    if job_class is None:
        return []
    try:
        inspect.signature(job_class.do).bind(None, **kwargs)
    except TypeError as error:
        return [f"{job_class.__name__}.do() refuses these kwargs: {error}. ({E024.id})"]
    return []


def schedule_problems(schedule: Schedule) -> Problems:
    problems: Problems = {}
    if schedule.run_every_mins == 0:
        _add(
            problems,
            "run_every_mins",
            [
                "An entry runs on a schedule: run_every_mins=0 (at every runcrons call) "
                f"is for a job's own schedule. ({E011.id})"
            ],
        )
    for found in schedule.problems():
        field = FIELD_OF_CHECK.get(found.check_id, "__all__")
        if found.check_id == E012.id:
            field = "run_monthly_on_days" if "monthly" in found.message else "run_weekly_on_days"
        _add(problems, field, [f"{found.message} ({found.check_id})"])
    return problems


def _add(problems: Problems, field: str, messages: list[str]) -> None:
    if messages:
        problems.setdefault(field, []).extend(messages)
