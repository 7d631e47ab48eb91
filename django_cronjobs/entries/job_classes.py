"""The class a run of an entry executes: the job's class with the entry's schedule and kwargs.

The engine runs an entry as it runs a job: claims, locks, leases, timeouts,
retries and mails all work on this class, whose ``run_name()`` (``code[key]``)
names the entry's state row and whose ``do()`` gets the entry's kwargs.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..jobs.base import CronJobBase
from ..schedules.schedule import Schedule


def entry_job_class(
    job_class: type[CronJobBase], key: str, schedule: Schedule, kwargs: Mapping[str, Any]
) -> type[CronJobBase]:
    """A subclass of ``job_class`` that runs the entry ``key``."""
    attributes = {
        "__module__": job_class.__module__,
        "__qualname__": job_class.__qualname__,
        "__doc__": job_class.__doc__,
        "schedule": schedule,
        "entry_key": key,
        "entry_kwargs": MappingProxyType(dict(kwargs)),
    }
    return type(job_class.__name__, (job_class,), attributes)
