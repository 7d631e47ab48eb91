"""Two hundred jobs on cron expressions (tests.cron.0 ... tests.cron.199, daily
at 00:00, 00:01, ...), and a way to see whose schedules a request evaluates."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from unittest import mock

from django.utils import timezone

from django_cronjobs import CronJobBase, Schedule
from django_cronjobs.models import CronJobState
from django_cronjobs.schedules import schedule as schedule_module
from tests.conftest import Clock, run_crons

COUNT = 200


def _make_job(number: int) -> type[CronJobBase]:
    return type(
        f"CronJob{number}",
        (CronJobBase,),
        {
            "__module__": __name__,
            "code": f"tests.cron.{number}",
            "schedule": Schedule(cron=f"{number % 60} {number // 60 % 24} * * *"),
            "do": lambda self: None,
        },
    )


JOBS = [_make_job(number) for number in range(COUNT)]
for _job in JOBS:
    globals()[_job.__name__] = _job
PATHS = [f"{__name__}.{job.__name__}" for job in JOBS]
CODES = [job.code for job in JOBS]


def configure(settings: Any, clock: Clock) -> None:
    """Make these the configured jobs, as two ticks of runcrons leave them.

    Ticks at 00:00 (the state rows are created and tests.cron.0 runs) and
    at 00:00:30 (each job's next due moment is stored).
    """
    settings.CRON_CLASSES = PATHS
    run_crons()
    clock.at(timezone.now() + timedelta(seconds=30))
    run_crons()
    assert not CronJobState.objects.filter(job_name__in=CODES, due_key="").exists()


@contextmanager
def schedules_evaluated() -> Iterator[list[str]]:
    """The codes of the jobs whose schedule was worked out, once per evaluation.

    Every slot search (for the next due moment or the upcoming runs) goes
    through ``Schedule.next_slots``.
    """
    # Counted as in a process of its own: the due moments this process worked
    # out before (and keeps, see Schedule.next_due) are forgotten.
    schedule_module._next_due_cache.clear()
    codes = {id(job.schedule): job.code for job in JOBS}
    evaluated: list[str] = []
    next_slots = Schedule.next_slots

    def spy(schedule: Schedule, *args: Any, **kwargs: Any) -> Any:
        evaluated.append(codes.get(id(schedule), repr(schedule)))
        return next_slots(schedule, *args, **kwargs)

    with mock.patch.object(Schedule, "next_slots", spy):
        yield evaluated
