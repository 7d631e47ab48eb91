"""Finding runs whose process died, and recording them as abandoned.

A running run keeps a lease that its heartbeat pushes forward. On the host
that ran it, a run is abandoned as soon as its process is gone; from any other
host, once its lease has run out. Abandoning is a compare-and-set on the run's
status, so of several processes that notice, one records it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db.models import F, Q
from django.utils import timezone

from ..models import CronJobLog, CronJobState, RunStatus
from ..store.claims import FREED_LOCK, host_id
from ..store.processes import is_alive, start_time

logger = logging.getLogger("django_cronjobs")


@dataclass
class RecoveryScan:
    """What a look at the running runs found.

    ``held`` are the codes of jobs whose run lives on this host although its
    lease ran out (its heartbeat lagged): their lock must be honoured anyway.
    """

    abandoned: list[CronJobLog] = field(default_factory=list)
    held: set[str] = field(default_factory=set)


def abandon_dead_runs() -> RecoveryScan:
    """Mark every running run whose process died as abandoned; free its lock.

    On the run's own host (same host id) the kernel is asked whether the
    run's process (its pid and start time) still runs, and its answer wins
    over the lease either way: a live process is never abandoned, even if its
    heartbeat lagged, and a pid that now belongs to another process does not
    keep a dead run alive. Elsewhere the lease decides.
    """
    now = timezone.now()
    here = host_id()
    suspects = CronJobLog.objects.running().filter(Q(lease_expires_at__lt=now) | Q(host_id=here))
    scan = RecoveryScan()
    for run in suspects:
        local = run.host_id == here and run.pid is not None
        gone = local and not is_alive(run.pid, run.process_started)  # type: ignore[arg-type]
        expired = run.lease_expires_at is not None and run.lease_expires_at < now
        if local and not gone:
            if expired:
                scan.held.add(run.run_name)
            continue
        if not (gone or expired):
            continue
        why = (
            f"process {run.pid} on {run.hostname} is gone{_reused(run.pid)}"
            if gone
            else f"no heartbeat from process {run.pid} on {run.hostname} since "
            f"{run.lease_expires_at:%Y-%m-%d %H:%M:%S} (lease expired)"
        )
        if _abandon(run, why):
            scan.abandoned.append(run)
    # Enqueued runs: their pid is the runcrons that enqueued them; only the
    # start deadline counts.
    for run in CronJobLog.objects.filter(status=RunStatus.ENQUEUED, lease_expires_at__lt=now):
        why = (
            f"no worker started task {run.task_id or '(not enqueued)'} by "
            f"{run.lease_expires_at:%Y-%m-%d %H:%M:%S} (its start deadline)"
        )
        if _abandon(run, why):
            scan.abandoned.append(run)
    return scan


def _reused(pid: int | None) -> str:
    if pid is not None and start_time(pid) is not None:
        return " (its pid now belongs to another process)"
    return ""


def _abandon(run: CronJobLog, why: str) -> bool:
    now = timezone.now()
    message = f"Abandoned: {why}.\n{run.message}".rstrip("\n")
    updated = CronJobLog.objects.filter(pk=run.pk, status=run.status).update(
        status=RunStatus.ABANDONED,
        is_success=False,
        end_time=now,
        lease_expires_at=None,
        message=message,
    )
    if not updated:
        return False  # finished, or another process got there first
    logger.warning("Cron job %s run %s abandoned: %s", run.run_name, run.pk, why)
    state = CronJobState.objects.filter(job_name=run.run_name)
    state.filter(locked=True, locked_by_host=run.hostname, locked_by_pid=run.pid).update(
        **FREED_LOCK
    )
    state.filter(last_status=RunStatus.RUNNING).update(
        last_status=RunStatus.ABANDONED,
        last_run_id=run.pk,
        last_finished_at=now,
        failure_streak=F("failure_streak") + 1,
        next_due=None,
    )
    run.status, run.is_success, run.end_time, run.message = (
        RunStatus.ABANDONED,
        False,
        now,
        message,
    )
    return True
