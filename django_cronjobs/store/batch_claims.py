"""The database statements of a batch: many runs claimed, started and recorded at once.

They keep the rules of :mod:`django_cronjobs.store.claims` for each run: a slot is
claimed by a compare-and-set on its job's CronJobState row (slot newer than
the last one, no live lock), the run's row is written ``running`` before the
job starts, and its outcome and the freed lock are written in one
transaction. Only the commits are shared: one for the claims and running
rows of a whole batch, one for a batch's outcomes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta

from django.db import IntegrityError, OperationalError, connections, transaction
from django.db.models import (
    F,
    Value,
)
from django.db.models.functions import Concat
from django.utils import timezone

from ..conf import conf
from ..databases import database_for_write, in_transaction
from ..models import CronJobLog, CronJobState, RunStatus
from . import claims, postgres_batches
from .claims import Claim
from .deadlocks import retrying_deadlocks
from .job_states import JobState
from .update_sql import Statement


def claim_and_start(wanted: Sequence[Claim], token: str) -> list[Claim] | None:
    """Claim every slot of ``wanted`` that is free, take each job's lock with
    ``token`` and write their ``running`` rows, in one transaction.

    Returns the claims that are ours, with ``run`` set; None (and nothing
    claimed) when a slot has a row already, which a process with a stale view
    records as missed just after another claims it: then the runs go one at a
    time, taking such rows over. Several hosts claiming overlapping batches
    may deadlock on MySQL or PostgreSQL; the loser tries again (outside a
    caller's transaction).
    """
    try:
        return retrying_deadlocks(lambda: _claim_and_start(wanted, token))
    except IntegrityError:
        _forget_runs(wanted)
        return None
    except OperationalError:
        _forget_runs(wanted)
        raise


def _claim_and_start(wanted: Sequence[Claim], token: str) -> list[Claim]:
    """One try of :func:`claim_and_start`, in one transaction."""
    _forget_runs(wanted)  # set by a try the database rolled back
    if one_statement():
        # Alone, the statement is its own transaction; inside a
        # caller's, a savepoint keeps a refusal from breaking it.
        with transaction.atomic(using=database_for_write()) if in_transaction() else nullcontext():
            return postgres_batches.claim_and_start(wanted, token)
    with transaction.atomic(using=database_for_write()):
        return _start(_claim(wanted, token))


def _forget_runs(wanted: Sequence[Claim]) -> None:
    """Drop the ``running`` rows that a claim the database rolled back put on ``wanted``."""
    for claim in wanted:
        claim.run = None


def one_statement() -> bool:
    """Whether the database takes an UPDATE and an INSERT (or two UPDATEs) as one
    statement: PostgreSQL's data-modifying WITH. One statement is one round trip
    and, alone, one transaction without BEGIN and COMMIT."""
    return connections[database_for_write()].vendor == "postgresql"


def _claim(wanted: Sequence[Claim], token: str) -> list[Claim]:
    sql = _claim_statement(wanted, token, timezone.now())
    if sql.can_return:
        claimed = {code for (code,) in sql.execute_returning("job_name")}
    else:
        sql.execute()
        claimed = set(
            CronJobState.objects.filter(
                job_name__in=[claim.code for claim in wanted], lock_token=token
            ).values_list("job_name", flat=True)
        )
    return [claim for claim in wanted if claim.code in claimed]


def _claim_statement(wanted: Sequence[Claim], token: str, now: datetime) -> Statement:
    """The UPDATE that claims the slots of ``wanted`` (each a compare-and-set)."""
    sql = Statement(CronJobState)
    codes = sorted(claim.code for claim in wanted)
    slots = sql.case(
        "job_name", {claim.code: sql.moment(claim.slot) for claim in wanted}, "last_slot"
    )
    changes = {
        "next_due": None,
        "last_status": RunStatus.RUNNING,
        "last_started_at": sql.moment(now),
        "locked": True,
        "locked_at": sql.moment(now),
        "lock_expires_at": sql.moment(now + timedelta(seconds=conf.LEASE_SECONDS)),
        "locked_by_host": claims.hostname(),
        "locked_by_pid": os.getpid(),
        "lock_token": token,
    }
    sql.update(
        f"{sql.column('last_slot')} = {slots}, "
        + ", ".join(f"{sql.column(name)} = {sql.param(value)}" for name, value in changes.items())
    )
    sql.where(
        f"{sql.column('job_name')} IN {sql.params(codes)}"
        f" AND ({sql.column('last_slot')} IS NULL OR {sql.column('last_slot')} < {slots})"
        f" AND ({sql.column('locked')} = {sql.param(False)}"
        f" OR {sql.column('lock_expires_at')} < {sql.param(sql.moment(now))})"
    )
    return sql


def _start(ours: list[Claim]) -> list[Claim]:
    """Write the ``running`` rows of the claimed slots (IntegrityError if one has a row)."""
    if not ours:
        return []
    now = timezone.now()
    runs = []
    for claim in ours:
        claim.run = claims.new_run(claim.code, claim.slot, claim.ran_at_time, now)
        runs.append(claim.run)
    CronJobLog.objects.bulk_create(runs)
    if any(run.pk is None for run in runs):
        # The database cannot return the new rows' ids from a bulk insert.
        ids = {
            (code, slot): pk
            for code, slot, pk in CronJobLog.objects.filter(
                code__in=[run.code for run in runs], slot__in=[run.slot for run in runs]
            ).values_list("code", "slot", "pk")
        }
        for run in runs:
            run.pk = ids[run.code, run.slot]
    return ours


def renew_leases(runs: Sequence[CronJobLog], token: str) -> None:
    """The batch's heartbeat: push the leases of its runs and its locks forward."""
    expires = timezone.now() + timedelta(seconds=conf.LEASE_SECONDS)
    CronJobLog.objects.filter(pk__in=[run.pk for run in runs], status=RunStatus.RUNNING).update(
        lease_expires_at=expires
    )
    CronJobState.objects.filter(job_name__in=[run.code for run in runs], lock_token=token).update(
        lock_expires_at=expires
    )


def finish_runs(runs: Sequence[CronJobLog], token: str) -> list[CronJobLog]:
    """Store the outcomes of ``runs`` and their jobs' last status, and drop the
    locks ``token`` holds, in one transaction. Each run's ``start_time`` and
    ``end_time`` are already set.

    Returns the runs whose outcome was stored; a run declared abandoned
    meanwhile keeps that verdict (its message says how it ended).
    """
    if not runs:
        return []
    for run in runs:
        run.lease_expires_at = None
    if one_statement():
        return _finish_at_once(runs, token)
    with transaction.atomic(using=database_for_write()):
        stored = sum(_store_outcomes(chunk) for chunk in _by_size(runs))
        recorded = list(runs) if stored == len(runs) else _drop_abandoned(runs)
        if recorded:
            _store_states(recorded, token)
    return recorded


def _finish_at_once(runs: Sequence[CronJobLog], token: str) -> list[CronJobLog]:
    """PostgreSQL: the outcomes and the jobs' states in one statement."""
    stored = postgres_batches.finish_runs(runs, token)
    for run in runs:
        if run.pk not in stored:
            _note_finished_later(run)
    return [run for run in runs if run.pk in stored]


def _note_finished_later(run: CronJobLog) -> None:
    """A run declared abandoned meanwhile keeps the verdict; its message says how it ended."""
    CronJobLog.objects.filter(pk=run.pk).update(
        message=Concat(F("message"), Value(f"\n[The process finished later: {run.status}.]"))
    )


STATEMENT_TEXT = 1_000_000
"""Characters of messages one UPDATE carries at most (MySQL's max_allowed_packet)."""


def _by_size(runs: Sequence[CronJobLog]) -> list[list[CronJobLog]]:
    chunks: list[list[CronJobLog]] = [[]]
    size = 0
    for run in runs:
        if chunks[-1] and size + len(run.message) > STATEMENT_TEXT:
            chunks.append([])
            size = 0
        chunks[-1].append(run)
        size += len(run.message)
    return chunks


def _store_outcomes(runs: Sequence[CronJobLog]) -> int:
    """One UPDATE of the runs' rows that are still ``running``; the rows it changed."""
    sql = Statement(CronJobLog)
    ids = [run.pk for run in runs]

    changes: dict[str, Callable[[CronJobLog], object]] = {
        "status": lambda run: run.status,
        "is_success": lambda run: run.is_success,
        "start_time": lambda run: sql.moment(run.start_time),
        "end_time": lambda run: sql.moment(run.end_time),
        "message": lambda run: run.message,
    }
    sql.update(
        ", ".join(
            f"{sql.column(name)} = {sql.case('id', {run.pk: value(run) for run in runs}, name)}"
            for name, value in changes.items()
        )
        + f", {sql.column('lease_expires_at')} = NULL"
    )
    sql.where(
        f"{sql.column('id')} IN {sql.params(ids)}"
        f" AND {sql.column('status')} = {sql.param(RunStatus.RUNNING.value)}"
    )
    return sql.execute()


def _drop_abandoned(runs: Sequence[CronJobLog]) -> list[CronJobLog]:
    statuses = dict(
        CronJobLog.objects.filter(pk__in=[run.pk for run in runs]).values_list("pk", "status")
    )
    recorded = []
    for run in runs:
        if statuses.get(run.pk) == run.status:
            recorded.append(run)
            continue
        _note_finished_later(run)
    return recorded


def _store_states(runs: Sequence[CronJobLog], token: str) -> None:
    """Each job's last run, status and failure streak, and the locks ``token`` holds dropped."""
    sql = Statement(CronJobState)

    def per_job(
        name: str, runs: Sequence[CronJobLog], values: Callable[[CronJobLog], object]
    ) -> tuple[str, str]:
        return name, sql.case("job_name", {run.code: values(run) for run in runs}, name)

    successes = [run for run in runs if run.is_success]
    failures = [run.code for run in runs if not run.is_success]
    streak = sql.column("failure_streak")
    ours = f"{sql.column('lock_token')} = {sql.param(token)}"

    def if_ours(name: str, value: object) -> tuple[str, str]:
        return name, f"CASE WHEN {ours} THEN {sql.param(value)} ELSE {sql.column(name)} END"

    changes = [
        ("next_due", "NULL"),
        per_job("last_run_id", runs, lambda run: run.pk),
        per_job("last_status", runs, lambda run: run.status),
        per_job("last_started_at", runs, lambda run: sql.moment(run.start_time)),
        per_job("last_finished_at", runs, lambda run: sql.moment(run.end_time)),
        per_job("last_succeeded_at", successes, lambda run: sql.moment(run.start_time)),
        (
            "failure_streak",
            f"CASE WHEN {sql.column('job_name')} IN {sql.params(failures)} THEN {streak} + 1 "
            f"ELSE 0 END"
            if failures
            else "0",
        ),
        # On MySQL an assignment sees the ones before it: the lock's columns go
        # last, lock_token (which each of them tests) last of all.
        *(if_ours(name, value) for name, value in claims.FREED_LOCK.items()),
    ]
    sql.update(", ".join(f"{sql.column(name)} = {value}" for name, value in changes))
    sql.where(f"{sql.column('job_name')} IN {sql.params([run.code for run in runs])}")
    sql.execute()


def give_back(unstarted: Sequence[Claim], before: dict[str, JobState], token: str) -> None:
    """Undo the claims of runs that never started: their rows go, and each job's
    state is as ``before`` the claim, so a later tick runs them.

    Only where the row is still this run's ``running`` row and the state
    still holds this claim (its slot, our lock): a verdict or a claim made
    elsewhere meanwhile stands.
    """
    if not unstarted:
        return
    with transaction.atomic(using=database_for_write()):
        for claim in unstarted:
            assert claim.run is not None
            removed, _ = CronJobLog.objects.filter(
                pk=claim.run.pk, status=RunStatus.RUNNING
            ).delete()
            if not removed:
                continue
            state = before[claim.code]
            CronJobState.objects.filter(
                job_name=claim.code, lock_token=token, last_slot=claim.slot
            ).update(
                last_slot=state.last_slot,
                last_status=state.last_status,
                last_started_at=state.last_started_at,
                **claims.FREED_LOCK,
            )
