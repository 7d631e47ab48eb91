"""``CronJobManager``: django-cron's per-job runner, for code that called it directly.

django-cron's runcrons ran each job through ``CronJobManager``, and some
projects (and their tests) do the same::

    with CronJobManager(MyJob, silent=True) as manager:
        manager.run(force=False)

Here it runs the job through :class:`~django_cronjobs.engine.runner.Runner`, so it
gets everything runcrons does: slots claimed once, locks, heartbeats, and
the run recorded. As in django-cron it never raises for a failed job.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import IO, Any

from ..engine.runner import Runner
from ..engine.tick_output import TickReport
from ..exceptions import BadCronJobError
from ..text.console_lines import HEADER
from .base import CronJobBase


class CronJobManager:
    """Runs one job class now if it is due (always with ``force``)."""

    def __init__(
        self,
        cron_job_class: type[CronJobBase],
        silent: bool = False,
        dry_run: bool = False,
        stdout: IO[str] | None = None,
    ) -> None:
        self.cron_job_class = cron_job_class
        self.silent = silent
        self.dry_run = dry_run
        self.stdout = stdout or sys.stdout
        self.report = TickReport()

    def __enter__(self) -> CronJobManager:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        # django-cron printed a bad class's message and went on.
        if isinstance(exc, BadCronJobError):
            if not self.silent:
                self.stdout.write(f"{exc}\n")
            return True
        return False

    def should_run_now(self, force: bool = False) -> bool:
        """Whether :meth:`run` would run the job now (nothing is run or recorded)."""
        self._check_class()
        report = Runner(force=force, dry_run=True, silent=True).run([self.cron_job_class])
        return any(result.outcome == "would_run" for result in report.results)

    def run(self, force: bool = False) -> TickReport:
        """Run the job if it is due, or at once with ``force``; print django-cron's line."""
        self._check_class()
        runner = Runner(force=force, dry_run=self.dry_run, silent=self.silent, write=self._write)
        self.report = runner.run([self.cron_job_class])
        return self.report

    def _check_class(self) -> None:
        job_class: Any = self.cron_job_class
        if not (isinstance(job_class, type) and issubclass(job_class, CronJobBase)):
            raise BadCronJobError(
                f"The cron_job to be run must be a subclass of {CronJobBase.__name__}"
            )
        if not isinstance(getattr(job_class, "code", None), str):
            raise BadCronJobError(
                f"Cron class '{job_class.__name__}' does not have a code attribute"
            )

    def _write(self, line: str) -> None:
        if line not in HEADER:
            self.stdout.write(f"{line}\n")
