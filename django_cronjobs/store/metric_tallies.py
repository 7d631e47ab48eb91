"""The metrics' running totals: added to in one statement, read in one query.

Many processes add to the same rows at once (each host's runcrons, the task
workers), so a total is never read, changed and written back: one upsert per
call adds to the stored value (or keeps the later of two moments) inside the
database, which serialises the writers on each row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from django.db import connections, transaction

from ..databases import database_for_read, database_for_write, in_transaction
from ..models import MetricTally
from .deadlocks import retrying_deadlocks


class Tally(NamedTuple):
    """One series' total: ``metric`` for ``cronjob`` ("" for a tick's) and ``label``."""

    metric: str
    cronjob: str
    label: str
    value: float


def record(added: Iterable[Tally], latest: Iterable[Tally] = ()) -> None:
    """Add ``added``'s values to their totals, and raise ``latest``'s to their
    values where those are later; one statement for all of them.

    A metric is either added to or raised, never both. Rows with the same key
    are merged first (a statement may not touch a row twice) and sorted, so
    that writers lock rows in one order.
    """
    merged: dict[tuple[str, str, str], tuple[float, bool]] = {}
    for tally in added:
        value, _ = merged.get(tally[:3], (0.0, False))
        merged[tally[:3]] = (value + tally.value, False)
    for tally in latest:
        value, _ = merged.get(tally[:3], (tally.value, True))
        merged[tally[:3]] = (max(value, tally.value), True)
    if not merged:
        return
    rows = sorted((*key, value) for key, (value, _) in merged.items())
    latest_metrics = sorted({key[0] for key, (_, is_latest) in merged.items() if is_latest})
    sql, params = _upsert(rows, latest_metrics)
    alias = database_for_write()

    def execute() -> None:
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)

    if in_transaction():
        # A savepoint: should the statement fail, the caller's transaction lives
        # on (except on MySQL/MariaDB after a deadlock, which ends the transaction).
        with transaction.atomic(using=alias):
            execute()
    else:
        retrying_deadlocks(execute)


def _upsert(rows: list[tuple[str, str, str, float]], latest: list[str]) -> tuple[str, list[Any]]:
    connection = connections[database_for_write()]
    quote = connection.ops.quote_name
    table = quote(MetricTally._meta.db_table)
    metric, cronjob, label, value = map(quote, ("metric", "cronjob", "label", "value"))
    params: list[Any] = []
    for row in rows:
        params.extend(row)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    insert = f"INSERT INTO {table} ({metric}, {cronjob}, {label}, {value}) VALUES {values}"
    if connection.vendor == "mysql":
        stored, old, new = metric, value, f"VALUES({value})"
    else:
        stored, old, new = f"{table}.{metric}", f"{table}.{value}", f"EXCLUDED.{value}"
    later = "MAX" if connection.vendor == "sqlite" else "GREATEST"
    combined = f"{old} + {new}"
    if latest:
        names = ", ".join(["%s"] * len(latest))
        combined = f"CASE WHEN {stored} IN ({names}) THEN {later}({old}, {new}) ELSE {combined} END"
        params.extend(latest)
    if connection.vendor == "mysql":
        return f"{insert} ON DUPLICATE KEY UPDATE {value} = {combined}", params
    conflict = f"ON CONFLICT ({metric}, {cronjob}, {label}) DO UPDATE SET {value} = {combined}"
    return f"{insert} {conflict}", params


def read_tallies(*, primary: bool = False) -> list[Tally]:
    """Every total, in one query; from the database that is written to with
    ``primary`` (a replica may lag)."""
    alias = database_for_write() if primary else database_for_read()
    rows = MetricTally.objects.using(alias).values_list("metric", "cronjob", "label", "value")
    return [Tally(*row) for row in rows.order_by("metric", "cronjob", "label")]


def take_turn(name: str, now: float, spacing: float) -> bool:
    """Whether this process may do ``name`` now: at most once per ``spacing``
    seconds among all processes (a compare-and-set on the row ``name``, whose
    value is when it was last done)."""
    tallies = MetricTally.objects.using(database_for_write())
    row = tallies.filter(metric=name, cronjob="", label="")
    for _ in range(2):
        if row.filter(value__lte=now - spacing).update(value=now):
            return True
        if row.exists():
            return False
        # The first time ever: a row that any process may take, then the same race.
        tallies.bulk_create([MetricTally(metric=name, value=0.0)], ignore_conflicts=True)
    return False
