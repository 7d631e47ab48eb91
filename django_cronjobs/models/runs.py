"""What runcrons records of each run: a CronJobLog row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from ..conf import conf
from ..jobs.base import run_name as run_name  # the models export it


class RunStatus(models.TextChoices):
    ENQUEUED = "enqueued", _("enqueued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")
    TIMED_OUT = "timed_out", _("timed out")
    INTERRUPTED = "interrupted", _("interrupted")
    ABANDONED = "abandoned", _("abandoned")
    MISSED = "missed", _("missed")


# A run with one of these outcomes counts as a failure for retries and alerts.
UNSUCCESSFUL = (
    RunStatus.FAILED,
    RunStatus.TIMED_OUT,
    RunStatus.INTERRUPTED,
    RunStatus.ABANDONED,
)


def failed_at(last_status: str, last_started_at: datetime | None) -> datetime | None:
    """When a job's last run started, if that run did not succeed (it may be retried)."""
    return last_started_at if last_status in UNSUCCESSFUL else None


class CronJobLogQuerySet(models.QuerySet["CronJobLog"]):
    def for_job(self, code: str) -> CronJobLogQuerySet:
        return self.filter(code=code)

    def running(self) -> CronJobLogQuerySet:
        return self.filter(status=RunStatus.RUNNING)

    def succeeded(self) -> CronJobLogQuerySet:
        return self.filter(is_success=True)

    def failed(self) -> CronJobLogQuerySet:
        """Runs that ended without success: not the running or enqueued ones, nor
        missed slots (rows written by django-cron count by ``is_success``)."""
        return self.filter(is_success=False).exclude(
            status__in=[RunStatus.RUNNING, RunStatus.ENQUEUED, RunStatus.MISSED]
        )

    def finished_before(self, moment: Any) -> CronJobLogQuerySet:
        return self.filter(end_time__lt=moment)


class CronJobsManager(models.Manager[Any]):
    """Queries go to CRONJOBS_DATABASE when it is set (else where the routers say)."""

    def get_queryset(self) -> models.QuerySet[Any]:
        queryset = super().get_queryset()
        alias = conf.DATABASE
        return queryset.using(alias) if alias and self._db is None else queryset


class CronJobLog(models.Model):
    """One run of a job: django-cron's fields, plus its status, slot, host and pid.

    A row created with django-cron's fields alone is valid: its status follows
    ``is_success``.
    """

    code = models.CharField(_("code"), max_length=64)
    start_time = models.DateTimeField(_("start time"))
    end_time = models.DateTimeField(
        _("end time"), null=True, blank=True, help_text=_("Empty while the run is running.")
    )
    is_success = models.BooleanField(_("success"), default=False)
    message = models.TextField(_("message"), default="", blank=True)
    entry = models.CharField(
        _("entry"),
        max_length=128,
        blank=True,
        default="",
        db_default="",
        help_text=_("The key of the CronEntry this run was for; empty for the job's own schedule."),
    )
    ran_at_time = models.TimeField(
        _("ran at time"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The local run_at_times entry this run was for, if any."),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RunStatus.choices,
        blank=True,
        default="",
        db_default="",  # rows written by django-cron's SQL stay valid
    )
    slot = models.DateTimeField(
        _("scheduled slot"),
        null=True,
        blank=True,
        help_text=_("The scheduled minute this run was for; empty for forced runs."),
    )
    hostname = models.CharField(_("host"), max_length=255, blank=True, default="", db_default="")
    pid = models.PositiveIntegerField(_("process id"), null=True, blank=True)
    process_started = models.BigIntegerField(
        _("process start"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "When the process with this pid started (clock ticks since boot): a pid the "
            "kernel gave to another process since is not taken for this run's."
        ),
    )
    host_id = models.CharField(
        _("host id"),
        max_length=255,
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text=_("Host name, boot id and pid namespace: where the pid means something."),
    )
    lease_expires_at = models.DateTimeField(
        _("lease expires at"),
        null=True,
        blank=True,
        help_text=_(
            "A running run whose heartbeat stops past this moment is abandoned; an enqueued "
            "run that no worker has started by then too."
        ),
    )
    task_id = models.CharField(
        _("task id"),
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text=_("The id of the task that runs it, when the job is handed to a task backend."),
    )

    objects = CronJobsManager.from_queryset(CronJobLogQuerySet)()

    class Meta:
        verbose_name = _("cron job log")
        verbose_name_plural = _("cron job logs")
        constraints = [
            # The last line behind "exactly once per slot".
            models.UniqueConstraint(
                fields=["code", "entry", "slot"], name="cronjobs_log_one_run_per_slot"
            ),
        ]
        indexes = [
            # Log retention deletes by end_time.
            models.Index(fields=["end_time"], name="cronjobs_log_end_time"),
            # The admin's list, newest first: all runs, one job's, one status's.
            # Crash recovery reads the running runs through the status one.
            # (Not partial indexes: MySQL has none.)
            models.Index(fields=["start_time"], name="cronjobs_log_start_time"),
            models.Index(fields=["code", "start_time"], name="cronjobs_log_code_start"),
            # A job's own runs, or one entry's, newest first.
            models.Index(fields=["code", "entry", "start_time"], name="cronjobs_log_entry_start"),
            models.Index(fields=["status", "start_time"], name="cronjobs_log_status_start"),
            # The admin's sorting by duration (where the database has
            # expression indexes: not MariaDB).
            models.Index(
                models.F("end_time") - models.F("start_time"), name="cronjobs_log_duration"
            ),
        ]

    def __str__(self) -> str:
        return "{} ({})".format(self.run_name, "Success" if self.is_success else "Fail")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.status:
            self.status = RunStatus.SUCCEEDED if self.is_success else RunStatus.FAILED
        if conf.DATABASE and not args:
            kwargs.setdefault("using", conf.DATABASE)
        super().save(*args, **kwargs)

    @property
    def run_name(self) -> str:
        """The job's code, or ``code[key]`` for a run of an entry (see :func:`run_name`)."""
        return run_name(self.code, self.entry)

    @property
    def duration(self) -> Any:
        """How long the run took, or None while it runs."""
        if self.end_time is None:
            return None
        return self.end_time - self.start_time
