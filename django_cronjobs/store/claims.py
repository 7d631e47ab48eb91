"""The database statements behind "exactly once per slot" and "no overlap".

A run is claimed by one UPDATE of the job's CronJobState row that succeeds only
if the slot is newer than the last claimed one (and, with the database lock,
only if no live run holds the lock). Every database serialises concurrent
UPDATEs of one row and re-checks the condition on the row it updates, so of
any number of processes exactly one gets the row count 1. The unique
constraint on (code, slot) in CronJobLog stands behind it.
"""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from ..conf import conf
from ..databases import database_for_write, in_transaction
from ..models import CronJobLog, CronJobState, RunStatus
from .deadlocks import retrying_deadlocks
from .processes import own_start_time

if TYPE_CHECKING:
    from ..locks.base import LockBackend


FREED_LOCK: Mapping[str, object] = MappingProxyType(
    {"locked": False, "lock_expires_at": None, "lock_token": ""}
)
"""The columns of a job's state row that free its database lock, and their values.

``lock_token`` comes last: statements that free the lock only where a token
still holds it test that column in each assignment, and on MySQL an
assignment sees the ones written before it. The host, pid and time of the
last holder stay (nothing reads them while the lock is free).
"""


@dataclass
class Claim:
    """One slot of one job that a batch asks for."""

    code: str
    slot: datetime
    ran_at_time: time | None
    run: CronJobLog | None = None
    """The ``running`` row, once the slot is ours."""


@functools.cache
def hostname() -> str:
    return socket.gethostname()[:255]


@functools.cache
def host_id() -> str:
    """This host and pid namespace: cloned VMs and containers can share a hostname.

    Two processes see each other's pids only when their host ids are equal:
    same hostname, same boot (Linux's boot_id) and same pid namespace.
    """
    parts = [hostname()]
    try:
        with open("/proc/sys/kernel/random/boot_id") as boot_id:
            parts.append(boot_id.read().strip())
        parts.append(os.readlink("/proc/self/ns/pid"))
    except OSError:
        pass  # not Linux: the host name alone
    return "|".join(parts)[:255]


def insert_ignoring_duplicates(model: type[Model], rows: list[Any]) -> None:
    """INSERT rows, skipping those that exist, retrying when the database
    picks this statement as a deadlock's victim.

    MySQL/MariaDB take gap locks for INSERT IGNORE, so several hosts adding
    the same rows at once can deadlock; the insert is idempotent, so trying
    again is safe. (Inside a caller's transaction a deadlock aborts the
    whole transaction: there it is not retried.)
    """
    retrying_deadlocks(lambda: model._default_manager.bulk_create(rows, ignore_conflicts=True))


def claim(
    code: str,
    slot: datetime | None,
    lock: LockBackend | None,
    *,
    running: bool = True,
    request: datetime | None = None,
) -> bool:
    """Claim the run of ``code`` for ``slot`` (None: an unscheduled run).

    With a ``guards_in_claim`` lock, also take the job's overlap lock, unless a
    run whose lease has not run out holds it. ``running=False`` claims a slot
    that will not run (it was missed, or the job is paused). ``request`` (the
    job's ``run_requested_at``) claims that requested run and clears it, so
    of several hosts one runs it. True when this process has the slot.
    """
    now = timezone.now()
    rows = CronJobState.objects.filter(job_name=code)
    # What the row's stored due moment was worked out from changes.
    changes: dict[str, object] = {"next_due": None}
    if running:
        changes.update(last_status=RunStatus.RUNNING, last_started_at=now)
    if request is not None:
        # Whoever clears the flag has the run; its exact value is not
        # compared (it may have been read through another time zone).
        rows = rows.filter(run_requested_at__isnull=False)
        changes["run_requested_at"] = None
    if slot is not None:
        rows = rows.filter(Q(last_slot__isnull=True) | Q(last_slot__lt=slot))
        changes["last_slot"] = slot
    if lock is not None:
        rows = rows.filter(Q(locked=False) | Q(lock_expires_at__lt=now))
        changes.update(
            locked=True,
            lock_token=lock.token,  # type: ignore[attr-defined]
            locked_at=now,
            lock_expires_at=now + timedelta(seconds=conf.LEASE_SECONDS),
            locked_by_host=hostname(),
            locked_by_pid=os.getpid(),
        )
    return rows.update(**changes) == 1


def new_run(
    code: str,
    slot: datetime | None,
    ran_at_time: time | None,
    now: datetime,
    *,
    status: str = RunStatus.RUNNING,
    lease_seconds: float | None = None,
    entry: str = "",
) -> CronJobLog:
    """An unsaved row of a run by this process, starting ``now``; its lease lasts
    ``lease_seconds`` (default CRONJOBS_LEASE_SECONDS). ``entry`` is the key of
    the CronEntry it runs, if any."""
    seconds = conf.LEASE_SECONDS if lease_seconds is None else lease_seconds
    return CronJobLog(
        code=code,
        entry=entry,
        start_time=now,
        lease_expires_at=now + timedelta(seconds=seconds),
        status=status,
        slot=slot,
        ran_at_time=ran_at_time,
        hostname=hostname(),
        host_id=host_id(),
        pid=os.getpid(),
        process_started=own_start_time(),
    )


def start_run(
    code: str, slot: datetime | None, ran_at_time: time | None, *, entry: str = ""
) -> CronJobLog | None:
    """Record the run as running; None if the slot already has a run."""
    return insert_run(new_run(code, slot, ran_at_time, timezone.now(), entry=entry))


def insert_run(run: CronJobLog) -> CronJobLog | None:
    """Insert ``run``; None if its slot has a run already (a ``missed`` row is taken over)."""
    try:
        if in_transaction():
            with transaction.atomic(using=database_for_write()):
                run.save(force_insert=True)
        else:
            run.save(force_insert=True)
    except IntegrityError:
        return _take_over_missed(run)
    return run


def _take_over_missed(run: CronJobLog) -> CronJobLog | None:
    """Turn a ``missed`` row for our slot into our run.

    A process with a stale view may record a slot as missed just after we
    claimed it; the claim is ours, so the run goes ahead in that row.
    """
    if run.slot is None:
        return None
    fields = [
        "start_time",
        "status",
        "ran_at_time",
        "hostname",
        "host_id",
        "pid",
        "process_started",
    ]
    updated = CronJobLog.objects.filter(
        code=run.code, entry=run.entry, slot=run.slot, status=RunStatus.MISSED
    ).update(
        message="",
        end_time=None,
        lease_expires_at=run.lease_expires_at,
        **{name: getattr(run, name) for name in fields},
    )
    if not updated:
        return None
    run.pk = CronJobLog.objects.get(code=run.code, entry=run.entry, slot=run.slot).pk
    return run


def finish_run(
    run: CronJobLog, lock_token: str | None, *, expected: str = RunStatus.RUNNING
) -> bool:
    """Store the run's outcome and the job's last status; drop our database lock.

    One transaction: the outcome and the freed lock are written together,
    and the database flushes its log once. ``expected`` is the status the
    run's row must still have (``enqueued`` for a run that never started).
    False when the row had another status (declared abandoned meanwhile): its
    verdict stands, and only the message says how the run ended.
    """
    run.end_time = timezone.now()
    run.lease_expires_at = None
    changes: dict[str, object] = {
        "last_run_id": run.pk,
        "last_status": run.status,
        "last_finished_at": run.end_time,
        "failure_streak": 0 if run.is_success else F("failure_streak") + 1,
        "next_due": None,  # worked out again from the outcome (a retry, say)
    }
    if run.is_success:
        changes["last_succeeded_at"] = run.start_time
    with transaction.atomic(using=database_for_write()):
        recorded = CronJobLog.objects.filter(pk=run.pk, status=expected).update(
            status=run.status,
            is_success=run.is_success,
            end_time=run.end_time,
            message=run.message,
            lease_expires_at=None,
        )
        if not recorded:
            # Declared abandoned meanwhile (its heartbeat stalled past the
            # lease): that verdict and the job's newer runs stand.
            CronJobLog.objects.filter(pk=run.pk).update(
                message=Concat(
                    F("message"), Value(f"\n[The process finished later: {run.status}.]")
                )
            )
            return False
        rows = CronJobState.objects.filter(job_name=run.run_name)
        if not (lock_token and rows.filter(lock_token=lock_token).update(**FREED_LOCK, **changes)):
            rows.update(**changes)
    return True


def renew_lease(run: CronJobLog, lock_token: str | None) -> None:
    """The heartbeat: push the run's lease (and its database lock) forward."""
    expires = timezone.now() + timedelta(seconds=conf.LEASE_SECONDS)
    CronJobLog.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(lease_expires_at=expires)
    if lock_token:
        CronJobState.objects.filter(job_name=run.run_name, lock_token=lock_token).update(
            lock_expires_at=expires
        )


def record_missed(
    code: str, slots: list[datetime], more: bool, reason: str, *, entry: str = ""
) -> None:
    """Record slots that were not run, so that none disappears silently."""
    now = timezone.now()
    rows = [
        CronJobLog(
            code=code,
            entry=entry,
            start_time=now,
            end_time=now,
            status=RunStatus.MISSED,
            is_success=False,
            slot=slot,
            message=reason,
            hostname=hostname(),
            pid=os.getpid(),
        )
        for slot in slots
    ]
    if rows and more:
        rows[0].message += "\nEarlier slots were missed too; only the latest ones are listed."
    insert_ignoring_duplicates(CronJobLog, rows)


def take_back_slot(code: str, wrong: datetime, slot: datetime) -> bool:
    """Replace the job's last slot ``wrong`` (stored by a clock far ahead) with ``slot``.

    A compare-and-set, so of several hosts one does it; the job's stored next
    due moment goes with it. The runs recorded for slots after ``slot`` lose
    their slot (their message says why), so that those slots can run when
    their time really comes. True when this process did.
    """
    with transaction.atomic(using=database_for_write()):
        taken = CronJobState.objects.filter(job_name=code, last_slot=wrong).update(
            last_slot=slot, next_due=None, due_key=""
        )
        if taken:
            CronJobLog.objects.filter(code=code, entry="", slot__gt=slot).update(
                slot=None,
                message=Concat(
                    F("message"),
                    Value("\n[Its slot was ahead of the database's clock: taken back.]"),
                ),
            )
    return taken == 1


def release_lock(code: str, token: str) -> None:
    """Drop the database lock on ``code`` if ``token`` still holds it."""
    CronJobState.objects.filter(job_name=code, lock_token=token).update(**FREED_LOCK)
