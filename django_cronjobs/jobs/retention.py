"""A job's own retention: ``KEEP_RUNS``, ``KEEP_DAYS`` and ``KEEP_FAILED_DAYS``, checked."""

from __future__ import annotations

from ..conf import is_at_least_one, is_finite_seconds

RETENTION_ATTRIBUTES = ("KEEP_RUNS", "KEEP_DAYS", "KEEP_FAILED_DAYS")


def retention_problems(job_class: type) -> list[str]:
    """What is wrong with the class's retention attributes, each as
    ``"ATTRIBUTE must be ..., not value."``; None is always right."""
    problems = []
    keep_runs = getattr(job_class, "KEEP_RUNS", None)
    if keep_runs is not None and not is_at_least_one(keep_runs):
        problems.append(f"KEEP_RUNS must be a whole number, 1 or more, not {keep_runs!r}.")
    for name in ("KEEP_DAYS", "KEEP_FAILED_DAYS"):
        days = getattr(job_class, name, None)
        # Days or seconds, the same test: a finite number above 0.
        if days is not None and not is_finite_seconds(days, zero=False):
            problems.append(f"{name} must be a finite number of days > 0, not {days!r}.")
    return problems
