"""A job's own retention: ``KEEP_RUNS``, ``KEEP_DAYS`` and ``KEEP_FAILED_DAYS``, checked."""

from __future__ import annotations

import math
from typing import Any

RETENTION_ATTRIBUTES = ("KEEP_RUNS", "KEEP_DAYS", "KEEP_FAILED_DAYS")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _is_days(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and value > 0
    except OverflowError:  # an int too large for a float
        return False


def retention_problems(job_class: type) -> list[str]:
    """What is wrong with the class's retention attributes, each as
    ``"ATTRIBUTE must be ..., not value."``; None is always right."""
    problems = []
    keep_runs = getattr(job_class, "KEEP_RUNS", None)
    if keep_runs is not None and not _is_count(keep_runs):
        problems.append(f"KEEP_RUNS must be a whole number, 1 or more, not {keep_runs!r}.")
    for name in ("KEEP_DAYS", "KEEP_FAILED_DAYS"):
        days = getattr(job_class, name, None)
        if days is not None and not _is_days(days):
            problems.append(f"{name} must be a finite number of days > 0, not {days!r}.")
    return problems
