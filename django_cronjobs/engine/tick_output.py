"""What a tick says and reports: runcrons' lines, and one JobResult per job in a TickReport.

Every line goes through :class:`TickOutput`, one line at a time (jobs that run
side by side never mix their lines); ``silent`` keeps back all but the lines
about what is broken or failed to run, which must reach cron's mail.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..check_ids import E002, E003
from ..conf import conf
from ..jobs.base import CronJobBase, Problem
from ..jobs.package_logger import package_logger
from ..locks import LockBackend
from ..models import UNSUCCESSFUL, CronJobLog
from ..schedules.schedule import SlotPlan
from ..store.job_states import JobState
from ..text.console_lines import (
    ARROW,
    BALLOT_X,
    CHECK_MARK,
    broken_line,
    not_due_line,
    run_line,
    would_run_line,
)
from ..text.log_text import failure_reason

logger = logging.getLogger("django_cronjobs")

# The problems django-cron raised as BadCronJobError: not a job class, no code.
BAD_CRON_JOB_CHECKS = (E002.id, E003.id)


@dataclass(slots=True)
class JobResult:
    """What one tick did with one job.

    ``outcome`` is a run status (``succeeded``, ``failed``, ``interrupted``...)
    when the job ran, else ``not_due``, ``locked``, ``missed``, ``paused``,
    ``would_run`` (dry run), ``broken`` or ``clock_ahead`` (not run: this host's
    clock was far ahead of the database's).
    """

    code: str
    outcome: str
    run: CronJobLog | None = None
    detail: str = ""


@dataclass
class TickReport:
    """Everything one tick did, job by job."""

    results: list[JobResult] = field(default_factory=list)
    interrupted: BaseException | None = None
    clock_skew: float | None = None
    """Seconds this host's clock is ahead of the database's (None: not measured)."""

    def with_outcome(self, *outcomes: str) -> list[JobResult]:
        return [result for result in self.results if result.outcome in outcomes]

    @property
    def failed(self) -> list[JobResult]:
        """Runs that did not succeed, and jobs that a lock backend failure or a clock
        far ahead of the database's kept from running."""
        return self.with_outcome(*UNSUCCESSFUL, "lock_backend_failed", "clock_ahead")

    @property
    def broken(self) -> list[JobResult]:
        return self.with_outcome("broken")

    @property
    def ran(self) -> list[JobResult]:
        return [result for result in self.results if result.run is not None]


class TickOutput:
    """runcrons' lines and the tick's report, written as the tick goes.

    ``write`` receives each line; ``silent`` keeps all but the error lines back;
    ``show_messages`` (``-v 2``) adds a failed run's whole message to its line,
    as ``CRONJOBS_OUTPUT_ERRORS`` does.
    """

    def __init__(
        self,
        write: Callable[[str], None] | None = None,
        *,
        silent: bool = False,
        show_messages: bool = False,
    ) -> None:
        self._write = write or (lambda line: None)
        self.silent = silent
        self.show_messages = show_messages
        self._lock = threading.Lock()
        self.report = TickReport()

    def say(self, line: str) -> None:
        if not self.silent:
            self.shout(line)

    def shout(self, line: str) -> None:
        """Print even when silent: what is broken must reach cron mail."""
        with self._lock:
            self._write(line)

    def result(
        self, code: str, outcome: str, run: CronJobLog | None = None, detail: str = ""
    ) -> None:
        self.report.results.append(JobResult(code, outcome, run, detail))

    def not_due_unread(self, codes: Iterable[str]) -> None:
        """Jobs whose state the tick did not read: their stored due moment is ahead."""
        self.report.results.extend(JobResult(code, "not_due") for code in codes)

    def broken(self, code: str, problem: Problem, name: str | None = None) -> None:
        """A broken entry: its line names it as configured (``name``: a code used
        twice is told apart from the job that keeps it by its class path)."""
        self.shout(broken_line(name or code, problem))
        if problem.check_id in BAD_CRON_JOB_CHECKS and not self.silent:
            # Where and how django-cron logged its BadCronJobError: its words alone.
            package_logger().info(problem.console or problem.message)
        self.result(code, "broken", detail=problem.message)

    def ran(self, run: CronJobLog, job_class: type[CronJobBase] | None = None) -> None:
        """A run whose outcome is stored: its slot in the job's zone and how long it
        took; a failure says why."""
        line = run_line(run, job_class)
        if run.is_success:
            self.say(f"[{CHECK_MARK}] {line}")
        else:
            self.say(f"[{BALLOT_X}] {line}: {failure_reason(run.status, run.message)}")
            if self.show_messages or conf.OUTPUT_ERRORS:
                # One write: lines of jobs failing side by side do not mix.
                self.say("\n".join(f"    {line}" for line in run.message.splitlines()))
        self.result(run.run_name, run.status, run)

    def handed_over(self, run: CronJobLog, alias: str) -> None:
        """A run handed to the task backend ``alias``."""
        self.say(f"[{ARROW}] {run.run_name} (task {run.task_id} on {alias})")
        self.result(run.run_name, str(run.status), run)

    def abandoned(self, run: CronJobLog, counted: bool) -> None:
        """A run whose process died; ``counted`` when the tick was asked to run its job."""
        self.shout(f"[{BALLOT_X}] {run.run_name}: {run.message.splitlines()[0]}")
        if counted:
            self.result(run.run_name, str(run.status), run)

    def not_run(self, code: str, outcome: str = "not_due") -> None:
        """``[ ] code``: not due, or its slot taken by another process."""
        self.say(f"[ ] {code}")
        self.result(code, outcome)

    def not_due(
        self, code: str, plan: SlotPlan, job_class: type[CronJobBase], state: JobState
    ) -> None:
        """A job not due, with its next run, or the slots it missed."""
        if not self.silent:  # the line costs more than the rest of the job's tick
            self.say(not_due_line(code, plan, job_class, state))
        self.result(code, "missed" if plan.missed else "not_due")

    def paused(self, code: str, *, told: bool) -> None:
        """A paused job (``told``: its requested run has had its line)."""
        if not told:
            self.say(f"[ ] {code} (paused)")
        self.result(code, "paused")

    def would_run(self, code: str) -> None:
        self.say(would_run_line(code))
        self.result(code, "would_run")

    def locked(self, code: str, lock: LockBackend) -> None:
        line = lock.lock_failed_message()
        self.say(line)
        if not self.silent:
            package_logger().info(line)  # as django-cron logged a lock held elsewhere
        self.result(code, "locked")

    def lock_backend_failed(self, code: str, error: Exception) -> None:
        """The lock backend itself failed: the job did not run (or its lock stays)."""
        self.shout(f"[{BALLOT_X}] {code}: {error}")
        self.result(code, "lock_backend_failed", detail=str(error))

    def clock_ahead(self, code: str, reason: str) -> None:
        self.result(code, "clock_ahead", detail=reason)

    def clock_refused(self, reason: str) -> None:
        """Claims stopped: this host's clock is far ahead of the database's."""
        logger.error("Cron jobs not run: %s", reason)
        self.shout(f"[{BALLOT_X}] {reason}")
