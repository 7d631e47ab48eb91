"""What a tick did: one JobResult per job, gathered in a TickReport."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import UNSUCCESSFUL, CronJobLog


@dataclass
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
