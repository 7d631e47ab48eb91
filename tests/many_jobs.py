"""Fifty idle jobs (Job0 ... Job49), for query-count tests."""

from __future__ import annotations

from django_cronjobs import CronJobBase, Schedule


def _make_job(number: int) -> type[CronJobBase]:
    return type(
        f"Job{number}",
        (CronJobBase,),
        {
            "__module__": __name__,
            "code": f"tests.many.{number}",
            "schedule": Schedule(run_every_mins=60 + number),
            "do": lambda self: None,
        },
    )


for _number in range(50):
    globals()[f"Job{_number}"] = _make_job(_number)
