"""Jobs that watch or disturb the batch they run in (see test_batches.py)."""

from __future__ import annotations

import os
import signal

from django_cronjobs import CronJobBase, Schedule
from django_cronjobs.models import CronJobLog, RunStatus


def _job(name: str, do: object) -> type[CronJobBase]:
    return type(
        name,
        (CronJobBase,),
        {
            "__module__": __name__,
            "code": f"batch.{name.lower()}",
            "schedule": Schedule(run_every_mins=1),
            "do": do,
        },
    )


First = _job("First", lambda self: "first")
Second = _job("Second", lambda self: "second")
Third = _job("Third", lambda self: "third")


def _fail(self: CronJobBase) -> None:
    raise ValueError("quick and broken")


Failing = _job("Failing", _fail)


def _first_is_stored(self: CronJobBase) -> str:
    """What the database says of First's run while this job runs."""
    return CronJobLog.objects.filter(code="batch.first").latest("pk").status


FirstIsStored = _job("FirstIsStored", _first_is_stored)


def _abandoned_meanwhile(self: CronJobBase) -> str:
    """Its own run is declared abandoned while it runs (a stalled heartbeat)."""
    CronJobLog.objects.filter(code=self.code, status=RunStatus.RUNNING).update(
        status=RunStatus.ABANDONED, message="Abandoned: the lease ran out."
    )
    return "done anyway"


AbandonedMeanwhile = _job("AbandonedMeanwhile", _abandoned_meanwhile)


def _terminated(self: CronJobBase) -> None:
    """Receives SIGTERM while it runs."""
    os.kill(os.getpid(), signal.SIGTERM)


Terminated = _job("Terminated", _terminated)


def _killed_second_time(self: CronJobBase) -> str:
    """Quick the first time; the second time its process dies (SIGKILL)."""
    if CronJobLog.objects.filter(code=self.code, status=RunStatus.SUCCEEDED).exists():
        os.kill(os.getpid(), signal.SIGKILL)
    return "alive"


KilledSecondTime = _job("KilledSecondTime", _killed_second_time)


def _lease_now(self: CronJobBase) -> str:
    """Waits for two heartbeats, then returns the runs' leases it saw before and after."""
    import time

    def leases() -> list[str]:
        return [
            str(lease)
            for lease in CronJobLog.objects.running()
            .order_by("code")
            .values_list("lease_expires_at", flat=True)
        ]

    before = leases()
    time.sleep(1.0)
    return f"{before}\n{leases()}"


LeaseWatching = _job("LeaseWatching", _lease_now)


def _waits_for_third(self: CronJobBase) -> str:
    """Runs until Third's claim is given back (at most 10 s): a job slower than its batch."""
    import time

    from django_cronjobs.models import CronJobState

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not CronJobState.objects.get(job_name="batch.third").locked:
            return "given back"
        time.sleep(0.05)
    return "held"


WaitsForThird = _job("WaitsForThird", _waits_for_third)
