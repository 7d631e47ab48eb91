"""What a tick knows of each job: its CronJobState row, read in one query.

A tick reads the rows as plain tuples into :class:`JobState` records:
building a thousand model instances would cost more than the query.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import NotSupportedError, connections
from django.db.models import (
    BigIntegerField,
    DateTimeField,
    Exists,
    F,
    Func,
    Max,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone

from ..conf import conf
from ..databases import database_for_read
from ..models import CronEntry, CronJobLog, CronJobState, RunStatus, ScheduleSet, failed_at
from ..schedules.wallclock import floor_minute
from .claims import insert_ignoring_duplicates
from .schedule_sets import JobSet

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def to_microseconds(moment: datetime) -> int:
    """``moment`` as microseconds since 1970-01-01 (a naive one read as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // MICROSECOND


def from_microseconds(value: int) -> datetime:
    moment = EPOCH + timedelta(microseconds=value)
    return moment if settings.USE_TZ else moment.replace(tzinfo=None)


class Moment:
    """A datetime attribute of :class:`JobState`, kept as a number until read."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.index = MOMENTS.index(name)

    def __get__(self, state: JobState | None, owner: type) -> Any:
        if state is None:
            return self
        value = state.microseconds[self.index]
        return None if value is None else from_microseconds(value)

    def __set__(self, state: JobState, moment: datetime | None) -> None:
        state.microseconds[self.index] = None if moment is None else to_microseconds(moment)


# JobState's datetimes, in the order of JobState.microseconds.
MOMENTS = (
    "lock_expires_at",
    "first_seen",
    "last_slot",
    "last_started_at",
    "next_due",
    "run_requested_at",
    "last_finished_at",
)


class JobState:
    """The columns of a job's CronJobState row that a tick decides from.

    Its datetimes are kept as microseconds since 1970 (``microseconds``, in
    the order of MOMENTS) and become datetimes only when read: an idle tick
    compares numbers and reads none.
    """

    __slots__ = ("due_key", "job_name", "last_status", "locked", "microseconds", "paused", "pk")

    lock_expires_at = Moment()
    first_seen = Moment()
    last_slot = Moment()
    last_started_at = Moment()
    next_due = Moment()
    run_requested_at = Moment()
    last_finished_at = Moment()

    def __init__(
        self,
        pk: int | None,
        job_name: str,
        locked: bool = False,
        last_status: str = "",
        due_key: str = "",
        paused: bool = False,
        microseconds: list[int | None] | None = None,
        **moments: datetime | None,
    ) -> None:
        self.pk = pk
        self.job_name = job_name
        self.locked = bool(locked)
        self.last_status = last_status
        self.due_key = due_key
        self.paused = bool(paused)
        self.microseconds = microseconds or [None] * len(MOMENTS)
        for name, moment in moments.items():
            setattr(self, name, moment)

    def __repr__(self) -> str:
        return f"<JobState {self.job_name}>"

    @classmethod
    def of_row(cls, row: CronJobState) -> JobState:
        """The tick's copy of a state row read as a model instance."""
        return cls(
            row.pk,
            row.job_name,
            locked=row.locked,
            last_status=row.last_status,
            due_key=row.due_key,
            paused=row.paused,
            **{name: getattr(row, name) for name in MOMENTS},
        )

    @property
    def failed_at(self) -> datetime | None:
        """When the job's last run started, if that run did not succeed."""
        return failed_at(self.last_status, self.last_started_at)


# The columns a tick reads: the plain ones, then MOMENTS.
PLAIN_COLUMNS = ("pk", "job_name", "locked", "last_status", "due_key", "paused")
TICK_COLUMNS = (*PLAIN_COLUMNS, *MOMENTS)


class EpochMicroseconds(Func):
    """A datetime as whole microseconds since 1970-01-01 UTC.

    A tick reads thousands of datetimes; loading numbers instead costs a
    fraction of the time. Columns hold UTC (USE_TZ = True).
    """

    VENDORS = ("postgresql", "mysql", "sqlite")
    arity = 1
    output_field = BigIntegerField()

    def as_sql(self, *args: Any, **kwargs: Any) -> Any:
        raise NotSupportedError("EpochMicroseconds exists for PostgreSQL, MySQL and SQLite")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_mysql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', %(expressions)s)"
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Stored as text: 'YYYY-MM-DD HH:MM:SS', then a fraction of 0 to 6 digits.
        template = (
            "(CAST(STRFTIME('%%%%s', %(expressions)s) AS INTEGER) * 1000000"
            " + CAST(SUBSTR(SUBSTR(%(expressions)s, 21) || '000000', 1, 6) AS INTEGER))"
        )
        return super().as_sql(compiler, connection, template=template, **extra)


# The database server's clock in UTC, per vendor (elsewhere CURRENT_TIMESTAMP).
CLOCK_SQL = {
    "postgresql": "STATEMENT_TIMESTAMP()",
    "mysql": "UTC_TIMESTAMP(6)",  # CURRENT_TIMESTAMP is in the session's zone there
    "sqlite": "STRFTIME('%Y-%m-%d %H:%M:%f', 'NOW')",
}


class DatabaseNow(Func):
    """The database server's clock, in UTC, to measure this host's clock against."""

    template = "CURRENT_TIMESTAMP"
    output_field = DateTimeField()

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra: Any,
    ) -> Any:
        sql = CLOCK_SQL.get(connection.vendor)
        if template is None and sql is not None:
            # The template is %-formatted, then the SQL once more with its parameters.
            template = sql.replace("%", "%%%%")
        return super().as_sql(compiler, connection, function, template, arg_joiner, **extra)


@dataclass
class StatesRead:
    """Every job's state, and the database server's clock when they were read."""

    states: dict[str, JobState]
    database_now: datetime | None
    entries_due: bool | None = None
    """Whether some entry (of any job) was due; None when the read could not tell."""
    only_due: bool = False
    """The states are only those of jobs that need the tick (see :func:`read_states`);
    the set's other jobs are known not to be due."""
    set_changed: bool = False
    """A set of jobs was given, and its schedules or rows had changed since recorded."""

    @property
    def rows_read(self) -> tuple[int, int]:
        """How many jobs' state rows were read, and their highest id (0 for none)."""
        return len(self.states), max((state.pk or 0 for state in self.states.values()), default=0)


def read_states(now: datetime | None = None, *, job_set: JobSet | None = None) -> StatesRead:
    """Every job's state, in one query whatever the number of jobs, entries or log rows.

    The rows are the jobs' own (an entry's state row is read when the entry
    is due). With ``now``, the same query says whether any entry is due at
    that moment: an idle tick then reads no entry at all. With USE_TZ on
    PostgreSQL, MySQL and SQLite, the database turns the datetimes into
    numbers and the rows come straight from the cursor.

    With ``job_set`` (and ``now``) recorded unchanged (see
    :mod:`.schedule_sets`), the query returns only the rows a tick must look
    at: due, never worked out, paused, running, asked to run, or with a slot
    ahead of the clock guard's limit (``only_due``). Changed, the rows are
    all read by a second query (``set_changed``).
    """
    database = database_for_read()
    connection = connections[database]
    due_at = now or timezone.now()
    if job_set is not None and now is not None and _reads_numbers(connection):
        due = _read_due_states(database, connection, due_at, job_set)
        if due is not None:
            return due
        return replace(read_states(now), set_changed=True)
    rows: Iterable[Sequence[Any]]
    if _reads_numbers(connection):
        sql, params = _states_as_numbers(database)
        with connection.cursor() as cursor:
            cursor.execute(sql, _with_values(params, {_MOMENT_PLACEHOLDER: due_at}, connection))
            rows = cursor.fetchall()
    else:
        rows = [
            (
                *row[: len(PLAIN_COLUMNS)],
                *map(_microseconds, row[len(PLAIN_COLUMNS) : len(TICK_COLUMNS)]),
                row[-2],
                _microseconds(row[-1]),
            )
            for row in _code_states(database).values_list(
                *TICK_COLUMNS, _entries_due(due_at), DatabaseNow()
            )
        ]
    states: dict[str, JobState] = {}
    database_now = None
    entries_due = None
    for row in rows:
        state = _from_row(row)
        states[state.job_name] = state
        entries_due, database_now = bool(row[-2]), row[-1]
    if now is None:
        entries_due = None
    if not settings.USE_TZ:
        # The database's local time would not compare.
        return StatesRead(states, None, entries_due)
    if database_now is None:
        # No state row yet (a first tick) to read the clock with.
        return StatesRead(states, _database_clock(connection), entries_due)
    return StatesRead(states, from_microseconds(database_now), entries_due)


def _reads_numbers(connection: Any) -> bool:
    """Whether the database can hand the state rows' datetimes over as numbers."""
    return bool(settings.USE_TZ) and connection.vendor in EpochMicroseconds.VENDORS


def _read_due_states(
    database: str, connection: Any, now: datetime, job_set: JobSet
) -> StatesRead | None:
    """The rows a tick must look at, if ``job_set`` is recorded unchanged; else None."""
    sql, params = _due_states_as_numbers(database)
    limit = conf.clock_skew_limit
    ahead = now + timedelta(seconds=limit) if limit is not None and limit < TEN_YEARS else None
    values = {
        _MOMENT_PLACEHOLDER: now,
        _AHEAD_PLACEHOLDER: ahead or FAR_AHEAD,
        _JOBS_PLACEHOLDER: job_set.jobs,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, _with_values(params, values, connection))
        rows = cursor.fetchall()
    if not rows:
        return None  # the set was never recorded
    schedules, recorded_rows, recorded_max, state_rows, max_id, entries_due, database_now = rows[0][
        :HEADER
    ]
    if (schedules, recorded_rows, recorded_max) != (job_set.schedules, state_rows, max_id):
        return None
    states = {}
    for row in rows:
        if row[HEADER] is not None:
            state = _from_row(row[HEADER:])
            states[state.job_name] = state
    return StatesRead(states, from_microseconds(database_now), bool(entries_due), only_due=True)


# The columns before a state's in a row of _due_states_as_numbers.
HEADER = 7

# Stand for the query's values in the query built once; replaced at each read.
_AHEAD_PLACEHOLDER = datetime(1970, 1, 3, 4, 5, 6, 789012, tzinfo=UTC)
_JOBS_PLACEHOLDER = "(the job set's digest)"
FAR_AHEAD = datetime(9000, 1, 1, tzinfo=UTC)
TEN_YEARS = 10 * 366 * 86400


@functools.cache
def _due_states_as_numbers(database: str) -> tuple[str, tuple[Any, ...]]:
    """The query of :func:`_read_due_states`: the job set's record, then the
    rows a tick must look at (none: one row of NULLs), built once per database."""

    def of_code_rows(function: str) -> Subquery:
        return Subquery(
            _code_states(database)
            .order_by()
            .annotate(found=Func(F("pk"), function=function, output_field=BigIntegerField()))
            .values("found")
        )

    header = (
        ScheduleSet.objects.using(database)
        .filter(jobs=_JOBS_PLACEHOLDER)
        .annotate(
            tick_state_rows=of_code_rows("COUNT"),
            tick_state_max_id=of_code_rows("MAX"),
            tick_entries_due=_entries_due(_MOMENT_PLACEHOLDER),
            tick_clock=EpochMicroseconds(DatabaseNow()),
        )
        .values_list(
            "schedules",
            "state_rows",
            "state_max_id",
            "tick_state_rows",
            "tick_state_max_id",
            "tick_entries_due",
            "tick_clock",
        )
    )
    needed = (
        Q(next_due__isnull=True)
        | Q(next_due__lte=_MOMENT_PLACEHOLDER)
        | Q(run_requested_at__isnull=False)
        | Q(paused=True)
        | Q(last_status=RunStatus.RUNNING)
        | Q(last_slot__gt=_AHEAD_PLACEHOLDER)
    )
    states = (
        _code_states(database)
        .filter(needed)
        .values_list(*PLAIN_COLUMNS, *map(EpochMicroseconds, MOMENTS))
    )
    header_sql, header_params = header.query.get_compiler(database).as_sql()
    states_sql, states_params = states.query.get_compiler(database).as_sql()
    sql = f"SELECT * FROM ({header_sql}) tick_header LEFT JOIN ({states_sql}) tick_states ON 1 = 1"
    return sql, (*header_params, *states_params)


def _code_states(database: str) -> QuerySet[CronJobState]:
    """The state rows of the jobs' own schedules (not those of entries)."""
    return CronJobState.objects.using(database).filter(entry__isnull=True)


# Stands for the tick's moment in the query built once; replaced at each read.
_MOMENT_PLACEHOLDER = datetime(1970, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def _entries_due(moment: datetime) -> Exists:
    """Whether some entry is due at ``moment``: one probe of the entries' due index."""
    return Exists(CronEntry.objects.filter(next_due__lte=moment))


def _with_values(
    params: tuple[Any, ...], values: dict[Any, Any], connection: Any
) -> tuple[Any, ...]:
    """``params`` with each placeholder among ``values``' keys replaced by its value."""
    field = CronEntry._meta.get_field("next_due")

    def prepared(value: Any) -> Any:
        return field.get_db_prep_value(value, connection) if isinstance(value, datetime) else value

    replaced = {prepared(key): prepared(value) for key, value in values.items()}
    return tuple(replaced.get(param, param) for param in params)


def _database_clock(connection: Any) -> datetime | None:
    """The database server's clock, read alone (where the state read cannot bring it)."""
    sql = CLOCK_SQL.get(connection.vendor)
    if sql is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}")
        (value,) = cursor.fetchone()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@functools.cache
def _states_as_numbers(database: str) -> tuple[str, tuple[Any, ...]]:
    """The query of :func:`read_states`, its datetimes as numbers: built once per
    database, as it takes longer to build than to run."""
    numbers = _code_states(database).values_list(
        *PLAIN_COLUMNS,
        *map(EpochMicroseconds, MOMENTS),
        _entries_due(_MOMENT_PLACEHOLDER),
        EpochMicroseconds(DatabaseNow()),
    )
    sql, params = numbers.query.get_compiler(database).as_sql()
    return sql, tuple(params)


def _from_row(row: Sequence[Any]) -> JobState:
    """A JobState from TICK_COLUMNS, its moments already numbers."""
    pk, job_name, locked, last_status, due_key, paused = row[: len(PLAIN_COLUMNS)]
    moments = list(row[len(PLAIN_COLUMNS) : len(TICK_COLUMNS)])
    return JobState(pk, job_name, locked, last_status, due_key, paused, microseconds=moments)


def _microseconds(moment: datetime | None) -> int | None:
    return None if moment is None else to_microseconds(moment)


def ensure_states(
    codes: Iterable[str], known: dict[str, JobState] | None = None
) -> dict[str, JobState]:
    """Create the state rows that ``codes`` lack; return them with the known ones.

    A new job's ``last_slot`` is seeded from CronJobLog history (rows written
    by django-cron count), so a job whose state is new does not run again for
    a slot it already ran. This costs queries only for jobs never seen before.
    """
    states = dict(known) if known is not None else {}
    missing = [code for code in dict.fromkeys(codes) if code not in states]
    if known is None and missing:
        rows = CronJobState.objects.filter(job_name__in=missing).values_list(*TICK_COLUMNS)
        plain = len(PLAIN_COLUMNS)
        states.update(
            (row[1], _from_row((*row[:plain], *map(_microseconds, row[plain:])))) for row in rows
        )
        missing = [code for code in missing if code not in states]
    if not missing:
        return states
    history = {
        row["code"]: row
        for row in CronJobLog.objects.filter(code__in=missing)
        .exclude(status=RunStatus.RUNNING)
        .values("code")
        .annotate(last_slot=Max("slot"), last_success=Max("start_time", filter=Q(is_success=True)))
    }
    now = timezone.now()
    new_states = []
    for code in missing:
        seen = history.get(code)
        last_slot = seen["last_slot"] if seen else None
        if last_slot is None and seen and seen["last_success"] is not None:
            last_slot = floor_minute(seen["last_success"])
        if last_slot is not None and last_slot > now:
            # History stored ahead of this clock (local times read as UTC, a
            # skewed host) must not hold the job back.
            last_slot = floor_minute(now)
        new_states.append(
            CronJobState(
                job_name=code,
                first_seen=now,
                last_slot=last_slot,
                last_succeeded_at=min(seen["last_success"], now)
                if seen and seen["last_success"]
                else None,
            )
        )
    new_states.sort(key=lambda state: state.job_name)  # one lock order for every process
    insert_ignoring_duplicates(CronJobState, new_states)
    states.update(
        (row.job_name, JobState(None, row.job_name, first_seen=now, last_slot=row.last_slot))
        for row in new_states
    )
    return states
