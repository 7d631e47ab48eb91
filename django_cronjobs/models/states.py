"""What runcrons keeps of each job between ticks: a CronJobState row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..conf import conf
from .runs import CronJobsManager, RunStatus, failed_at


class CronJobState(models.Model):
    """Per-job state that runcrons reads in one query per tick.

    ``last_slot`` is advanced by an atomic compare-and-set, which is what lets
    any number of processes run a slot exactly once; ``locked`` is the
    ``database`` lock backend's overlap lock. Also importable as
    ``CronJobLock``, django-cron's name: ``job_name`` holds the job's code.
    """

    job_name = models.CharField(_("job code"), max_length=200, unique=True)
    entry = models.OneToOneField(
        "django_cronjobs.CronEntry",
        verbose_name=_("entry"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.CASCADE,
        related_name="state",
        help_text=_("The entry whose runs this row keeps (job_name is then 'code[key]')."),
    )
    locked = models.BooleanField(_("locked"), default=False)
    lock_token = models.CharField(max_length=32, blank=True, default="", editable=False)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    lock_expires_at = models.DateTimeField(_("lock expires at"), null=True, blank=True)
    locked_by_host = models.CharField(_("locked by host"), max_length=255, blank=True, default="")
    locked_by_pid = models.PositiveIntegerField(_("locked by process"), null=True, blank=True)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_slot = models.DateTimeField(_("last slot"), null=True, blank=True)
    last_run_id = models.BigIntegerField(_("last run"), null=True, blank=True)
    last_status = models.CharField(
        _("last status"), max_length=16, choices=RunStatus.choices, blank=True, default=""
    )
    last_started_at = models.DateTimeField(_("last started"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    last_succeeded_at = models.DateTimeField(
        _("last succeeded"),
        null=True,
        blank=True,
        help_text=_("When the job's last successful run started."),
    )
    failure_streak = models.PositiveIntegerField(
        _("failures in a row"),
        default=0,
        db_default=0,
        help_text=_("Runs since the last success that did not succeed (missed slots aside)."),
    )
    alerted_at = models.DateTimeField(
        _("failures mailed at"),
        null=True,
        blank=True,
        help_text=_("When ADMINS were told of the current failure streak."),
    )
    paused = models.BooleanField(
        _("paused"),
        default=False,
        db_default=False,
        help_text=_("runcrons skips the slots of a paused job; a requested run still runs."),
    )
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    run_requested_at = models.DateTimeField(
        _("run requested at"),
        null=True,
        blank=True,
        help_text=_("The next runcrons runs the job once, outside its schedule, then clears this."),
    )
    next_due = models.DateTimeField(
        _("next due"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Before this moment the job is not due; valid while due_key matches."),
    )
    due_key = models.CharField(
        max_length=32,
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text=_("Digest of the schedule and state that next_due was worked out from."),
    )

    objects = CronJobsManager()

    class Meta:
        verbose_name = _("cron job state")
        verbose_name_plural = _("cron job states")

    def __str__(self) -> str:
        return self.job_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if conf.DATABASE and not args:
            kwargs.setdefault("using", conf.DATABASE)
        super().save(*args, **kwargs)

    @property
    def failed_at(self) -> datetime | None:
        """When the job's last run started, if that run did not succeed."""
        return failed_at(self.last_status, self.last_started_at)


CronJobLock = CronJobState


class CronJob(CronJobState):
    """A configured job as the admin shows it: the "Cron jobs" page.

    A proxy of the state row, for the page's permissions: ``view_cronjob``
    to see the page, ``pause_cronjob`` to pause and resume, ``run_cronjob``
    to request a run.
    """

    class Meta:
        proxy = True
        verbose_name = _("cron job")
        verbose_name_plural = _("cron jobs")
        default_permissions = ("view",)
        permissions = [
            ("pause_cronjob", _("Can pause and resume cron jobs")),
            ("run_cronjob", _("Can request an immediate run of a cron job")),
        ]


class ScheduleSet(models.Model):
    """The schedules of a set of jobs when a tick last stored every one's next due moment.

    A ``--silent`` tick reads only the state rows that need it (due, paused,
    running, asked to run) when the jobs it runs still have the schedules
    recorded here and no job's row was added or deleted since: the others'
    stored ``next_due`` is then still right. Any other tick reads every row
    and records the set anew. Internal: nothing shows it.
    """

    jobs = models.CharField(max_length=32, unique=True, help_text=_("Digest of the jobs' codes."))
    schedules = models.CharField(
        max_length=32, help_text=_("Digest of the jobs' codes, schedules and zones.")
    )
    state_rows = models.PositiveIntegerField(
        help_text=_("How many jobs' own state rows there were (entries' aside).")
    )
    state_max_id = models.BigIntegerField(
        help_text=_("The highest id among them: a row created and another deleted show.")
    )
    stored_at = models.DateTimeField()

    objects = CronJobsManager()

    class Meta:
        verbose_name = _("schedule set")
        verbose_name_plural = _("schedule sets")

    def __str__(self) -> str:
        return self.jobs
