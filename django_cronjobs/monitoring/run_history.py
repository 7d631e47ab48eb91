"""Each job's recent runs and what they add up to: success rate, average duration.

For the admin's Cron jobs pages. Every read is bounded: the newest runs of
each job through the (code, start_time) index, never a scan or an aggregate
over the whole log. Where the database allows LIMIT inside UNION ALL
(MySQL, MariaDB), the runs of up to :data:`UNION_CHUNK` jobs come in one
query; PostgreSQL reads every job's in one LATERAL join; SQLite reads them
job by job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import chain
from typing import Any, NamedTuple

from django.db import connections

from ..databases import database_for_read
from ..models import UNSUCCESSFUL, CronJobLog, RunStatus

# How many runs the overview's success rate, average and strip cover.
RECENT_RUNS = 30
# How many jobs' runs one UNION ALL query reads.
UNION_CHUNK = 100

COLUMNS = ("pk", "code", "status", "start_time", "end_time", "slot")
FINISHED = (RunStatus.SUCCEEDED, *UNSUCCESSFUL)


class RunSummary(NamedTuple):
    """One CronJobLog row, without its message (a tuple: pages build thousands)."""

    pk: int
    code: str
    status: str
    start_time: datetime
    end_time: datetime | None
    slot: datetime | None

    @property
    def seconds(self) -> float | None:
        """How long it ran; None while running."""
        if self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds()


@dataclass(frozen=True)
class RunStats:
    """Figures over ``runs``, newest first."""

    runs: Sequence[RunSummary]

    @cached_property
    def finished(self) -> list[RunSummary]:
        """The runs that ran to an outcome (not running, not missed)."""
        return [run for run in self.runs if run.status in FINISHED]

    @property
    def success_rate(self) -> float | None:
        """Succeeded runs among the finished ones, 0 to 1; None without any."""
        if not self.finished:
            return None
        succeeded = sum(run.status == RunStatus.SUCCEEDED for run in self.finished)
        return succeeded / len(self.finished)

    @property
    def average_seconds(self) -> float | None:
        durations = [run.seconds for run in self.finished if run.seconds is not None]
        return sum(durations) / len(durations) if durations else None


def recent_runs(codes: Iterable[str], limit: int = RECENT_RUNS) -> dict[str, list[RunSummary]]:
    """The newest ``limit`` runs of each job in ``codes``, newest first."""
    codes = list(dict.fromkeys(codes))
    found: dict[str, list[RunSummary]] = {code: [] for code in codes}
    if not codes or limit < 1:
        return found
    database = database_for_read()
    connection = connections[database]
    features = connection.features
    rows: Iterable[Sequence[Any]]
    if connection.vendor == "postgresql":
        rows = _lateral(connection, codes, limit)
    elif features.supports_slicing_ordering_in_compound:
        rows = chain.from_iterable(
            _union(database, codes[start : start + UNION_CHUNK], limit)
            for start in range(0, len(codes), UNION_CHUNK)
        )
    else:
        rows = chain.from_iterable(_newest(database, code, limit) for code in codes)
    for row in rows:
        # A case-insensitive collation (MySQL) also matches codes that
        # differ only in case: those belong to other jobs.
        if row[1] in found:
            found[row[1]].append(RunSummary._make(row))
    for runs in found.values():
        runs.sort(key=lambda run: (run.start_time, run.pk), reverse=True)
    return found


def _newest(database: str, code: str, limit: int) -> Any:
    runs = CronJobLog.objects.using(database).filter(code=code, entry="")
    return runs.order_by("-start_time", "-pk").values_list(*COLUMNS)[:limit]


def _lateral(connection: Any, codes: list[str], limit: int) -> list[tuple[Any, ...]]:
    """PostgreSQL: one plan for every job's newest runs (a UNION plans each part)."""
    table = connection.ops.quote_name(CronJobLog._meta.db_table)
    names = ", ".join(f"runs.{connection.ops.quote_name(column)}" for column in SQL_COLUMNS)
    sql = (
        f"SELECT {names} FROM unnest(%s::text[]) AS wanted(code) "
        f"CROSS JOIN LATERAL (SELECT * FROM {table} AS log WHERE log.code = wanted.code "
        "AND log.entry = '' "
        "ORDER BY log.start_time DESC, log.id DESC LIMIT %s) AS runs"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [codes, limit])
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


SQL_COLUMNS = ("id", *COLUMNS[1:])


def _union(database: str, codes: list[str], limit: int) -> Any:
    first, *rest = (_newest(database, code, limit) for code in codes)
    return first.union(*rest, all=True) if rest else first
