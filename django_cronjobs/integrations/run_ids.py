"""A run's id for the monitors outside: the same in every process, for its start and its end.

A run that dies is ended by another process (the tick that finds it dead),
which must name the same run the dead one started; the id is worked out from
the run's row, never kept in memory.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..models import RunStatus

RUN_IDS = uuid.UUID("8a1f4c0e-2f59-4d8c-9a55-6f0e6c1d7b42")


def run_uuid(run: Any) -> uuid.UUID:
    """Stable for the run, unique across runs (and across entries of a job)."""
    return uuid.uuid5(RUN_IDS, f"{run.code}\0{run.entry}\0{run.pk}")


def seconds_taken(run: Any) -> float | None:
    """How long the run took, if it ended on its own; None for a run found dead,
    whose end is when it was found."""
    if run.status == RunStatus.ABANDONED or run.start_time is None or run.end_time is None:
        return None
    return float((run.end_time - run.start_time).total_seconds())
