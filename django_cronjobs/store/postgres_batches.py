"""A batch's two statements on PostgreSQL, each one data-modifying ``WITH``.

The runs go in as arrays (one per column, unpacked by ``unnest``), so the
text of each statement is the same for a batch of 2 runs or of 100: the
driver converts its placeholders once per process (its cache takes short
texts only) and PostgreSQL parses a short statement instead of a CASE with a
branch per run. Each statement, sent alone, is its
own transaction: one round trip and one commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connections
from django.db.models import Model
from django.utils import timezone

from ..databases import database_for_write
from ..models import CronJobLog, CronJobState, RunStatus
from . import claims
from .claims import Claim


def _columns(model: type[Model], alias: str) -> dict[str, str]:
    """Each concrete field's quoted column, by field name (the table's own name under ``alias``)."""
    quote = connections[alias].ops.quote_name
    return {field.name: quote(str(field.column)) for field in model._meta.concrete_fields}


PER_RUN = ("id", "code", "slot", "ran_at_time")
"""The columns of a new row that differ from run to run."""


@cache
def _claim_sql(alias: str) -> str:
    state, log = _columns(CronJobState, alias), _columns(CronJobLog, alias)
    quote = connections[alias].ops.quote_name
    from_claim = {name: f"claimed.{name}" for name in ("code", "slot", "ran_at_time")}
    new_row = [name for name in log if name != "id"]
    # The lock expires with the runs' lease, and holds their host and pid.
    return (
        "WITH wanted (code, slot, ran_at_time) AS ("
        "SELECT * FROM unnest(%(codes)s::text[], %(slots)s::timestamptz[], %(times)s::time[])), "
        f"claimed AS (UPDATE {quote(CronJobState._meta.db_table)} AS state SET "
        f"{state['last_slot']} = wanted.slot, "
        f"{state['next_due']} = NULL, "
        f"{state['last_status']} = %(running)s, "
        f"{state['last_started_at']} = %(now)s, "
        f"{state['locked']} = true, "
        f"{state['locked_at']} = %(now)s, "
        f"{state['lock_expires_at']} = %(lease_expires_at)s, "
        f"{state['locked_by_host']} = %(hostname)s, "
        f"{state['locked_by_pid']} = %(pid)s, "
        f"{state['lock_token']} = %(token)s "
        f"FROM wanted WHERE state.{state['job_name']} = wanted.code "
        f"AND (state.{state['last_slot']} IS NULL OR state.{state['last_slot']} < wanted.slot) "
        f"AND (state.{state['locked']} = false OR state.{state['lock_expires_at']} < %(now)s) "
        "RETURNING wanted.code, wanted.slot, wanted.ran_at_time) "
        f"INSERT INTO {quote(CronJobLog._meta.db_table)} "
        f"({', '.join(log[name] for name in new_row)}) "
        f"SELECT {', '.join(from_claim.get(name, f'%({name})s') for name in new_row)} "
        f"FROM claimed RETURNING {log['id']}, {log['code']}"
    )


def claim_and_start(wanted: Sequence[Claim], token: str) -> list[Claim]:
    """Claim the free slots of ``wanted`` and insert their ``running`` rows (see
    :func:`django_cronjobs.store.batch_claims.claim_and_start`); the claims that are ours."""
    alias = database_for_write()
    connection = connections[alias]
    now = timezone.now()
    # What every new row holds.
    template = claims.new_run("", None, None, now)
    fields = CronJobLog._meta.concrete_fields
    values = [getattr(template, field.attname) for field in fields]
    params = {
        field.name: field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values, strict=True)
        if field.name not in PER_RUN
    }
    params.update(
        codes=[claim.code for claim in wanted],
        slots=[claim.slot for claim in wanted],
        times=[claim.ran_at_time for claim in wanted],
        running=RunStatus.RUNNING.value,
        now=now,
        token=token,
    )
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(alias), params)
        ids = {code: pk for pk, code in cursor.fetchall()}
    position = {field.attname: index for index, field in enumerate(fields)}
    ours = []
    for claim in wanted:
        if claim.code not in ids:
            continue
        run_values = list(values)
        for name, value in zip(
            PER_RUN, (ids[claim.code], claim.code, claim.slot, claim.ran_at_time), strict=True
        ):
            run_values[position[name]] = value
        claim.run = CronJobLog.from_db(alias, list(position), run_values)
        ours.append(claim)
    return ours


@cache
def _finish_sql(alias: str) -> str:
    state, log = _columns(CronJobState, alias), _columns(CronJobLog, alias)
    quote = connections[alias].ops.quote_name

    def if_ours(name: str) -> str:
        return (
            f"{state[name]} = CASE WHEN state.{state['lock_token']} = %(token)s "
            f"THEN %(freed_{name})s ELSE state.{state[name]} END"
        )

    # Each assignment reads the row as it was: lock_token is tested as before.
    unlock = ", ".join(if_ours(name) for name in claims.FREED_LOCK)
    return (
        "WITH outcome (id, status, is_success, start_time, end_time, message) AS ("
        "SELECT * FROM unnest(%(ids)s::bigint[], %(statuses)s::text[], %(successes)s::boolean[], "
        "%(starts)s::timestamptz[], %(ends)s::timestamptz[], %(messages)s::text[])), "
        f"stored AS (UPDATE {quote(CronJobLog._meta.db_table)} AS log SET "
        f"{log['status']} = outcome.status, "
        f"{log['is_success']} = outcome.is_success, "
        f"{log['start_time']} = outcome.start_time, "
        f"{log['end_time']} = outcome.end_time, "
        f"{log['message']} = outcome.message, "
        f"{log['lease_expires_at']} = NULL "
        f"FROM outcome WHERE log.{log['id']} = outcome.id AND log.{log['status']} = %(running)s "
        f"RETURNING log.{log['id']} AS id, log.{log['code']} AS code, outcome.status, "
        "outcome.is_success, outcome.start_time, outcome.end_time), "
        f"states AS (UPDATE {quote(CronJobState._meta.db_table)} AS state SET "
        f"{state['last_run_id']} = stored.id, "
        f"{state['next_due']} = NULL, "
        f"{state['last_status']} = stored.status, "
        f"{state['last_started_at']} = stored.start_time, "
        f"{state['last_finished_at']} = stored.end_time, "
        f"{state['last_succeeded_at']} = CASE WHEN stored.is_success THEN stored.start_time "
        f"ELSE state.{state['last_succeeded_at']} END, "
        f"{state['failure_streak']} = CASE WHEN stored.is_success THEN 0 "
        f"ELSE state.{state['failure_streak']} + 1 END, "
        f"{unlock} "
        f"FROM stored WHERE state.{state['job_name']} = stored.code) "
        "SELECT id FROM stored"
    )


def finish_runs(runs: Sequence[CronJobLog], token: str) -> set[int]:
    """Store the outcomes of ``runs`` still ``running``, their jobs' states, and
    drop the locks ``token`` holds; the ids of the runs whose outcome was stored."""
    alias = database_for_write()
    params: dict[str, Any] = {
        "ids": [run.pk for run in runs],
        "statuses": [run.status for run in runs],
        "successes": [run.is_success for run in runs],
        "starts": [run.start_time for run in runs],
        "ends": [run.end_time for run in runs],
        "messages": [run.message for run in runs],
        "running": RunStatus.RUNNING.value,
        "token": token,
        **{f"freed_{name}": value for name, value in claims.FREED_LOCK.items()},
    }
    with connections[alias].cursor() as cursor:
        cursor.execute(_finish_sql(alias), params)
        return {pk for (pk,) in cursor.fetchall()}
