"""Moving from django-cron: copy its CronJobLog history into ours.

django-cron keeps its runs in the table ``django_cron_cronjoblog``. This
reads that table straight from the database (django-cron need not be
installed), copies each run into :class:`~django_cronjobs.models.CronJobLog`
and brings the state of each configured job up to date, so that runcrons
continues each job's schedule from its last run instead of running it again.

Importing twice copies nothing twice: a run whose code and start time are
already in the log is skipped. Each batch is its own transaction, so an
import that stops half-way can simply be started again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps.registry import Apps
from django.db import connections, models, transaction
from django.db.models import Q
from django.utils import timezone

from ..databases import database_for_write
from ..jobs.base import load_jobs
from ..models import CronJobLog, CronJobState, RunStatus
from ..schedules.wallclock import floor_minute
from .job_states import ensure_states

TABLE = "django_cron_cronjoblog"
BATCH_SIZE = 2000


class NoDjangoCronTable(LookupError):
    """The database has no table of django-cron's runs by that name."""


@dataclass
class ImportReport:
    """What an import read, copied and skipped."""

    read: int = 0
    imported: int = 0
    skipped: int = 0
    codes: set[str] = field(default_factory=set)
    updated_jobs: list[str] = field(default_factory=list)


def django_cron_log_model(table: str) -> type[models.Model]:
    """django-cron's CronJobLog, on ``table``, outside the app registry.

    Reading through a model lets each database backend convert its values
    (times stored as UTC, booleans stored as integers) as for our own.
    """

    class Meta:
        apps = Apps()
        app_label = "django_cron"
        db_table = table
        managed = False

    attributes = {
        "__module__": __name__,
        "Meta": Meta,
        "code": models.CharField(max_length=64),
        "start_time": models.DateTimeField(),
        "end_time": models.DateTimeField(null=True),
        "is_success": models.BooleanField(default=False),
        "message": models.TextField(default=""),
        "ran_at_time": models.TimeField(null=True),
    }
    return type("DjangoCronLog", (models.Model,), attributes)


def import_django_cron_history(
    *,
    table: str = TABLE,
    source: str | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Copy django-cron's runs from ``table`` on the database ``source``.

    ``source`` defaults to the database that holds our log. With ``dry_run``
    nothing is written; the report tells what would be. Raises
    NoDjangoCronTable when the table does not exist.
    """
    target = database_for_write()
    source = source or target
    their_log = django_cron_log_model(table)
    if table not in connections[source].introspection.table_names():
        raise NoDjangoCronTable(f"The database {source!r} has no table {table!r}.")
    report = ImportReport()
    after = 0
    columns = ("pk", "code", "start_time", "end_time", "is_success", "message", "ran_at_time")
    while True:
        rows = list(
            their_log._default_manager.using(source)
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list(*columns)[:batch_size]
        )
        if not rows:
            break
        after = rows[-1][0]
        _copy_batch(rows, target, report, dry_run)
        if progress is not None:
            progress(report)
    if not dry_run:
        report.updated_jobs = _catch_up_states(report.codes, target)
    return report


def _copy_batch(
    rows: list[tuple[Any, ...]], target: str, report: ImportReport, dry_run: bool
) -> None:
    report.read += len(rows)
    codes = {row[1] for row in rows}
    report.codes |= codes  # caught up even if copied by an earlier, interrupted import
    starts = [row[2] for row in rows]
    seen = set(
        CronJobLog.objects.using(target)
        .filter(code__in=codes, start_time__gte=min(starts), start_time__lte=max(starts))
        .values_list("code", "start_time")
    )
    new = []
    for _, code, start_time, end_time, is_success, message, ran_at_time in rows:
        if (code, start_time) in seen:
            report.skipped += 1
            continue
        seen.add((code, start_time))  # the same run twice in their table
        new.append(
            CronJobLog(
                code=code,
                start_time=start_time,
                end_time=end_time or start_time,
                is_success=bool(is_success),
                status=RunStatus.SUCCEEDED if is_success else RunStatus.FAILED,
                message=message or "",
                ran_at_time=ran_at_time,
            )
        )
    report.imported += len(new)
    if new and not dry_run:
        with transaction.atomic(using=target):
            CronJobLog.objects.using(target).bulk_create(new, batch_size=500)


def _catch_up_states(codes: Iterable[str], database: str) -> list[str]:
    """Bring the state of the configured jobs among ``codes`` up to their history.

    A job's last slot becomes the minute of its last successful run (as a
    new job's is, see ensure_states) unless it already ran later here; its
    last run and last success show in ``cronjobs list`` and the admin.
    Nothing is set later than now: times that django-cron stored in local
    time (USE_TZ = False) and read here as UTC must not hold a job back.
    """
    now = timezone.now()
    configured = {entry.code for entry in load_jobs() if entry.runnable}
    wanted = sorted(set(codes) & configured)
    ensure_states(wanted)
    updated = []
    for code in wanted:
        runs = CronJobLog.objects.using(database).filter(code=code)
        runs = runs.exclude(status=RunStatus.RUNNING)
        newest = runs.order_by("-start_time").first()
        success = runs.filter(is_success=True).order_by("-start_time").first()
        state = CronJobState.objects.using(database).filter(job_name=code)
        changed = 0
        if newest is not None:
            changed += _advance(
                state,
                "last_started_at",
                min(newest.start_time, now),
                last_status=newest.status,
                last_finished_at=newest.end_time,
                last_run_id=newest.pk,
                next_due=None,
            )
        if success is not None:
            changed += _advance(state, "last_succeeded_at", min(success.start_time, now))
            slot = floor_minute(min(success.start_time, now))
            changed += _advance(state, "last_slot", slot, next_due=None, due_key="")
        if changed:
            updated.append(code)
    return updated


def _advance(state: models.QuerySet[CronJobState], name: str, moment: datetime, **also: Any) -> int:
    """Set ``name`` to ``moment`` (and ``also``) where it is empty or earlier."""
    earlier = Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__lt": moment})
    return state.filter(earlier).update(**{name: moment}, **also)
