"""Idle ticks without schedule evaluation: each job's next due moment, stored.

Working out a schedule costs tens of microseconds a job; an idle tick with
thousands of jobs would spend its time there. So once a tick finds a job not
due, it stores in the job's state row the moment the job next becomes due
(``next_due``) with ``due_key``, a digest of everything that moment was
worked out from: the schedule, its zone and the state's slot, first sighting
and last failure. Later ticks that compute the same digest from the row they
read skip the job until that moment without evaluating its schedule.

The digest makes the stored moment safe without locks: when another host
changes the row (claims a slot, records a failure) or a deploy changes the
schedule, the digest no longer matches and the schedule is evaluated again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connections, transaction

from ..databases import database_for_write
from ..jobs.base import CronJobBase
from ..models import UNSUCCESSFUL, CronJobState
from .deadlocks import retrying_deadlocks
from .job_states import MOMENTS, JobState, to_microseconds
from .schedule_sets import JobSet, record_job_set
from .update_sql import update_joined

NEXT_DUE = MOMENTS.index("next_due")


def due_key(job_class: type[CronJobBase], state: JobState) -> str:
    schedule = job_class.schedule
    _, first_seen, last_slot, last_started_at, *_ = state.microseconds
    inputs = (
        schedule.fingerprint,
        str(schedule.zone),
        last_slot,
        first_seen if last_slot is None else None,
        last_started_at if state.last_status in UNSUCCESSFUL else None,
    )
    key = _due_keys.get(inputs)
    if key is None:
        if len(_due_keys) >= DUE_KEYS_KEPT:
            _due_keys.clear()
        text = f"{inputs[0]}|{inputs[1]}|{inputs[2:]}"
        key = _due_keys[inputs] = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return key


# Digests worked out before, by their inputs: an idle tick finds most of them
# here instead of hashing again.
DUE_KEYS_KEPT = 100_000
_due_keys: dict[tuple[Any, ...], str] = {}


def stored_next_due(
    job_class: type[CronJobBase], state: JobState | CronJobState
) -> datetime | None:
    """The next due moment stored on the state row, if still valid; None otherwise.

    Valid, it is what the schedule's ``next_due`` gives for this state, read
    instead of worked out: pages that show every job's next run use it.
    """
    if state.next_due is None or not state.due_key:
        return None
    if not isinstance(state, JobState):
        state = JobState.of_row(state)
    return state.next_due if state.due_key == due_key(job_class, state) else None


def known_not_due(job_class: type[CronJobBase], state: JobState, now: datetime) -> bool:
    """Whether the state row says, still validly, that the job is not due at ``now``."""
    next_due = state.microseconds[NEXT_DUE]
    return (
        next_due is not None
        and to_microseconds(now) < next_due
        and state.due_key == due_key(job_class, state)
    )


def note_not_due(job_class: type[CronJobBase], state: JobState) -> bool:
    """Put the job's next due moment on ``state``; True if the row needs writing.

    A state without its row's id (the row was created in this tick) gets the
    moment too, for runcrons' line, but it is stored by a later tick.
    """
    next_due = job_class.schedule.next_due_from(state)
    key = due_key(job_class, state) if next_due is not None else ""
    if (state.next_due, state.due_key) == (next_due, key):
        return False
    state.next_due, state.due_key = next_due, key
    return state.pk is not None


def store_next_due(
    states: Sequence[JobState],
    *,
    job_set: JobSet | None = None,
    rows_read: tuple[int, int] | None = None,
) -> None:
    """Write the next due moments that :func:`note_not_due` put on ``states``.

    Several hosts may do this at once for overlapping rows, while others
    claim and finish runs. Rows another transaction holds are skipped (the
    next tick works their moment out again): the write never waits, so it
    can neither deadlock nor delay a claim. SQLite locks the whole database
    instead and needs none of this. A row changed since the tick read it
    (another host claimed, ran or gave up a run meanwhile) keeps what that
    write left: each moment is stored only where the row still holds what
    it was worked out from.

    ``job_set``: every other job of the set has a valid moment stored; when
    all of ``states`` are written too, the set is recorded in the same
    transaction with ``rows_read`` (how many jobs' state rows the tick read,
    and their highest id), so that a row created or deleted since shows.
    """
    rows = {state.pk: state for state in states if state.pk is not None}
    if not rows and job_set is None:
        return
    retrying_deadlocks(lambda: _store(rows, job_set, rows_read))


# What a stored moment was worked out from, besides the schedule (see due_key).
WORKED_OUT_FROM = ("last_slot", "last_status", "last_started_at", "first_seen")


def _store(
    rows: dict[int, JobState], job_set: JobSet | None, rows_read: tuple[int, int] | None
) -> None:
    database = database_for_write()
    features = connections[database].features
    with transaction.atomic(using=database):
        if features.has_select_for_update_skip_locked:
            free = CronJobState.objects.using(database).select_for_update(skip_locked=True)
            pks = sorted(free.filter(pk__in=list(rows)).values_list("pk", flat=True))
        elif features.has_select_for_update:
            locked = CronJobState.objects.using(database).select_for_update().order_by("pk")
            pks = list(locked.filter(pk__in=list(rows)).values_list("pk", flat=True))
        else:
            pks = sorted(rows)
        written = update_joined(
            CronJobState,
            [
                (
                    pk,
                    *(getattr(rows[pk], name) for name in WORKED_OUT_FROM),
                    rows[pk].next_due,
                    rows[pk].due_key,
                )
                for pk in pks
            ],
            match=("id", *WORKED_OUT_FROM),
            assign=("next_due", "due_key"),
        )
        if job_set is not None and rows_read is not None and written == len(rows):
            record_job_set(job_set, *rows_read, database)
