"""Schedules as data: a CronEntry row is one schedule of one job, with its own arguments.

``CronEntry.objects.schedule(SendDigest, key=..., kwargs=..., schedule=Schedule(...))``
creates or updates the entry of that job and key. The row stores its next due
moment (``next_due``, indexed with the job): a tick reads the entries that are
due and nothing else. Every write keeps that moment right; a schedule that is
created, changed or enabled again counts from the write (``counts_from``), so
an edit never runs at once and never catches up on slots before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, router, transaction
from django.utils import timezone as django_timezone
from django.utils.translation import gettext_lazy as _

from ..conf import conf
from ..entries.due import next_due_of
from ..entries.validation import KEY_LENGTH, configured_job, entry_problems, job_problems
from ..jobs.base import CronJobBase
from ..schedules.problems import MissedSlots
from ..schedules.schedule import Schedule
from .runs import CronJobsManager, run_name

# The Schedule arguments an entry stores, in the order Schedule() takes them by name.
SCHEDULE_FIELDS = (
    "run_every_mins",
    "run_at_times",
    "cron",
    "timezone",
    "run_weekly_on_days",
    "run_monthly_on_days",
    "retry_after_failure_mins",
    "run_tolerance_seconds",
    "missed_slots",
    "replay_limit",
    "starting_deadline_seconds",
)
# What else, changed, makes the schedule count from the write.
COUNTING_FIELDS = (*SCHEDULE_FIELDS, "enabled")
# What a write may change besides those.
OTHER_FIELDS = ("kwargs", "description")


@dataclass(frozen=True)
class EntrySpec:
    """One entry for :meth:`CronEntryQuerySet.schedule_many`."""

    key: str
    schedule: Schedule
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    enabled: bool = True
    description: str = ""


@dataclass
class Scheduled:
    """What :meth:`CronEntryQuerySet.schedule_many` did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _code(job: type[CronJobBase] | str) -> str:
    return job if isinstance(job, str) else job.code


class CronEntryQuerySet(models.QuerySet["CronEntry"]):
    """Entries, with the writes that keep their due moments right."""

    def for_job(self, job: type[CronJobBase] | str) -> CronEntryQuerySet:
        """The entries of ``job`` (a job class or its code)."""
        return self.filter(job=_code(job))

    def schedule(
        self,
        job: type[CronJobBase] | str,
        *,
        key: str,
        schedule: Schedule,
        kwargs: Mapping[str, Any] | None = None,
        enabled: bool = True,
        description: str = "",
    ) -> CronEntry:
        """Create the entry of ``job`` named ``key``, or update it; return it.

        A new schedule, a changed one or an entry enabled again counts from
        now: its first run is its first slot after this call. Changing only
        ``kwargs`` or ``description`` keeps its due moment. Raises
        ``ValidationError`` (with the system checks' texts) for an entry that
        could not run. Two statements, whatever the number of entries.
        """
        wanted = self.model(
            job=_code(job),
            key=key,
            kwargs=dict(kwargs or {}),
            enabled=enabled,
            description=description,
        )
        wanted.schedule = schedule
        problems = entry_problems(wanted)
        if problems:
            raise ValidationError(problems)
        wanted._validated = True
        database = self._database_for_write()
        for attempt in (1, 2):
            try:
                with transaction.atomic(using=database):
                    return self._write(wanted, database)
            except IntegrityError:
                if attempt == 2:
                    raise
                # Another process created it meanwhile: update that one.
        raise AssertionError("unreachable")

    def _database_for_write(self) -> str:
        # The queryset's own database (CRONJOBS_DATABASE, using()), else the routers'.
        if getattr(self, "_db", None) is not None:
            return self.db
        return router.db_for_write(self.model)

    def _write(self, wanted: CronEntry, database: str) -> CronEntry:
        rows = self.model._default_manager.using(database)
        existing = rows.select_for_update().filter(job=wanted.job, key=wanted.key).first()
        now = django_timezone.now()
        if existing is None:
            wanted.created_at = wanted.updated_at = now
            wanted.save(using=database, force_insert=True)
            return wanted
        changed = existing.take(wanted, now)
        if changed:
            existing._validated = True
            existing.save(using=database, update_fields=changed)
        return existing

    def schedule_many(
        self,
        job: type[CronJobBase] | str,
        entries: Iterable[EntrySpec],
        *,
        batch_size: int = 2000,
    ) -> Scheduled:
        """:meth:`schedule` for many entries of one job, ``batch_size`` at a time.

        Each batch is validated whole before anything of it is written (a
        ``ValidationError`` names the keys at fault), then written in one
        transaction: one query reads the batch's existing rows, one inserts the
        new ones, one updates the changed ones.
        """
        code = _code(job)
        problems = job_problems(code)
        if problems:
            raise ValidationError(problems)
        job_class = configured_job(code)
        assert job_class is not None
        database = self._database_for_write()
        done = Scheduled()
        batch: list[CronEntry] = []
        for spec in entries:
            batch.append(self._wanted(code, spec, job_class))
            if len(batch) >= batch_size:
                self._write_many(batch, database, done)
                batch = []
        if batch:
            self._write_many(batch, database, done)
        return done

    def _wanted(self, code: str, spec: EntrySpec, job_class: type[CronJobBase]) -> CronEntry:
        wanted = self.model(
            job=code,
            key=spec.key,
            kwargs=dict(spec.kwargs),
            enabled=spec.enabled,
            description=spec.description,
        )
        wanted.schedule = spec.schedule
        problems = entry_problems(wanted, job_class)
        if problems:
            raise ValidationError(
                {f"{spec.key}: {name}": found for name, found in problems.items()}
            )
        return wanted

    def _write_many(self, batch: list[CronEntry], database: str, done: Scheduled) -> None:
        wanted = {entry.key: entry for entry in batch}  # a key given twice: the last one
        rows = self.model._default_manager.using(database)
        now = django_timezone.now()
        with transaction.atomic(using=database):
            existing = {
                entry.key: entry
                for entry in rows.select_for_update().filter(job=batch[0].job, key__in=list(wanted))
            }
            new = []
            for key, entry in wanted.items():
                if key not in existing:
                    entry.created_at = entry.updated_at = now
                    entry.count_from(now)
                    new.append(entry)
            changed: list[CronEntry] = []
            fields: set[str] = set()
            for key, row in existing.items():
                names = row.take(wanted[key], now)
                if names:
                    changed.append(row)
                    fields.update(names)
            rows.bulk_create(new)
            if changed:
                rows.bulk_update(changed, sorted(fields))
        done.created += len(new)
        done.updated += len(changed)
        done.unchanged += len(existing) - len(changed)


class CronEntry(models.Model):
    """One schedule of one job, with the keyword arguments its runs get.

    Runs are CronJobLog rows with the job's ``code`` and this entry's ``key``
    in ``entry``; exactly once per (job, entry, slot), as for a job's own
    schedule. Write entries with :meth:`CronEntryQuerySet.schedule` and
    :meth:`CronEntryQuerySet.schedule_many`, or in the admin: both validate.
    """

    job = models.CharField(
        _("job"), max_length=64, help_text=_("The code of the job whose do() the entry runs.")
    )
    key = models.CharField(
        _("key"),
        max_length=KEY_LENGTH,
        help_text=_("Names the entry among the job's entries: 'customer-42'."),
    )
    kwargs = models.JSONField(
        _("keyword arguments"),
        default=dict,
        blank=True,
        help_text=_("Passed to the job's do() as keyword arguments."),
    )
    description = models.TextField(_("description"), blank=True, default="")
    enabled = models.BooleanField(
        _("enabled"),
        default=True,
        help_text=_("A disabled entry does not run; enabled again, it counts from then."),
    )
    run_every_mins = models.PositiveIntegerField(_("every N minutes"), null=True, blank=True)
    run_at_times = models.JSONField(
        _("at times"), default=list, blank=True, help_text=_('Local times: ["07:30", "19:00"].')
    )
    cron = models.CharField(
        _("cron"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("Five fields or a macro; H picks a minute of the entry's own: 'H 8 * * 1-5'."),
    )
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        default="",
        help_text=_("IANA name, such as 'Europe/Berlin'; empty: settings.TIME_ZONE."),
    )
    run_weekly_on_days = models.JSONField(
        _("weekdays"), null=True, blank=True, help_text=_("0 = Monday … 6 = Sunday.")
    )
    run_monthly_on_days = models.JSONField(_("days of the month"), null=True, blank=True)
    retry_after_failure_mins = models.PositiveIntegerField(
        _("retry after failure (minutes)"), null=True, blank=True
    )
    run_tolerance_seconds = models.FloatField(_("tolerance (seconds)"), default=0)
    missed_slots = models.CharField(
        _("missed slots"), max_length=8, choices=MissedSlots.choices, default=MissedSlots.LATEST
    )
    replay_limit = models.PositiveIntegerField(_("replay limit"), default=10)
    starting_deadline_seconds = models.FloatField(
        _("starting deadline (seconds)"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), default=django_timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=django_timezone.now, editable=False)
    counts_from = models.DateTimeField(
        _("counts from"),
        default=django_timezone.now,
        editable=False,
        help_text=_("When the schedule was last created, changed or enabled: slots before wait."),
    )
    next_due = models.DateTimeField(
        _("next due"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When runcrons next reads the entry; empty while it is disabled."),
    )

    objects = CronJobsManager.from_queryset(CronEntryQuerySet)()

    # Not columns: whether save() may skip validation, and the counting fields as read.
    _validated = False
    _as_loaded: tuple[Any, ...] | None = None

    class Meta:
        verbose_name = _("cron entry")
        verbose_name_plural = _("cron entries")
        constraints = [
            models.UniqueConstraint(fields=["job", "key"], name="cronjobs_entry_job_key"),
        ]
        indexes = [
            # The tick's reads: whether any entry is due, and the due ones.
            models.Index(fields=["next_due"], name="cronjobs_entry_due"),
        ]
        permissions = [
            ("pause_cronentry", _("Can pause and resume cron entries")),
            ("run_cronentry", _("Can request an immediate run of a cron entry")),
        ]

    def __str__(self) -> str:
        return self.run_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Validate the entry, and make a new or changed schedule count from now.

        Raises ``ValidationError`` with the system checks' texts for an entry
        that could not run.
        """
        if not getattr(self, "_validated", False):
            self.clean()
        now = django_timezone.now()
        if self._state.adding or self.counting_changed():
            self.count_from(now)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "counts_from", "next_due"}
        if conf.DATABASE and not args:
            kwargs.setdefault("using", conf.DATABASE)
        super().save(*args, **kwargs)
        self._as_loaded = self._counting_values()
        self._validated = False  # a later change is validated again

    @property
    def run_name(self) -> str:
        """``job[key]``: how runcrons, the admin and the job's state row name it."""
        return run_name(self.job, self.key)

    @property
    def schedule(self) -> Schedule:
        """The entry's schedule; ``H`` in its cron is worked out from its job and key."""
        arguments: dict[str, Any] = {name: getattr(self, name) for name in SCHEDULE_FIELDS}
        arguments["cron"] = arguments["cron"] or None
        arguments["timezone"] = arguments["timezone"] or None
        return Schedule(**arguments).seeded(self.run_name)

    @schedule.setter
    def schedule(self, schedule: Schedule) -> None:
        for name, value in schedule_fields(schedule).items():
            setattr(self, name, value)

    def clean(self) -> None:
        problems = entry_problems(self)
        if problems:
            raise ValidationError(problems)

    def take(self, wanted: CronEntry, now: datetime) -> list[str]:
        """Copy what differs in ``wanted`` onto this row; the names of the fields to save.

        A change of the schedule or of ``enabled`` makes the schedule count
        from ``now``.
        """
        changed = [
            name
            for name in (*COUNTING_FIELDS, *OTHER_FIELDS)
            if getattr(self, name) != getattr(wanted, name)
        ]
        if not changed:
            return []
        for name in changed:
            setattr(self, name, getattr(wanted, name))
        self.updated_at = now
        changed.append("updated_at")
        if any(name in COUNTING_FIELDS for name in changed):
            self.count_from(now)
            changed += ["counts_from", "next_due"]
        return changed

    @classmethod
    def from_db(cls, *args: Any, **kwargs: Any) -> CronEntry:
        entry = super().from_db(*args, **kwargs)
        entry._as_loaded = entry._counting_values()
        return entry

    def _counting_values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name, None) for name in COUNTING_FIELDS)

    def counting_changed(self) -> bool:
        """Whether the schedule or ``enabled`` differ from the row as read: saved,
        the entry then counts from the moment of the save."""
        return self._counting_values() != getattr(self, "_as_loaded", None)

    def count_from(self, now: datetime) -> None:
        """Make the schedule count from ``now``: its first slot is the first one after it."""
        self.counts_from = now
        self.next_due = next_due_of(self)


def schedule_fields(schedule: Schedule) -> dict[str, Any]:
    """The entry's columns for ``schedule``."""
    zone = schedule.timezone
    return {
        "run_every_mins": schedule.run_every_mins,
        "run_at_times": list(schedule.run_at_times or []),
        "cron": schedule.cron or "",
        "timezone": str(zone) if zone is not None else "",
        "run_weekly_on_days": _listed(schedule.run_weekly_on_days),
        "run_monthly_on_days": _listed(schedule.run_monthly_on_days),
        "retry_after_failure_mins": schedule.retry_after_failure_mins,
        "run_tolerance_seconds": schedule.run_tolerance_seconds or 0,
        "missed_slots": schedule.missed_slots,
        "replay_limit": schedule.replay_limit,
        "starting_deadline_seconds": schedule.starting_deadline_seconds,
    }


def _listed(days: Any) -> Any:
    return None if days is None else list(days)
