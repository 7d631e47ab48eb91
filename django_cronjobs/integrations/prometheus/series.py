"""The metrics' series as the database keeps them: names, labels, buckets.

Every series is per job code: an entry's runs count for its job, as one
label value per entry would make a series per entry (Prometheus advises
against labels without a bound). Histograms are kept as a count per bucket
(not cumulative, so a run adds to one bucket) and a sum; the collector adds
the buckets up.
"""

from __future__ import annotations

from collections.abc import Sequence

RUNS = "runs"
DURATION = "duration"
LAG = "lag"
MISSED = "missed"
LAST_SUCCESS = "last_success"
TICK = "tick"
SUM = "_sum"
"""A histogram's sum is kept as the metric ``<name>_sum``, label ""."""

# Upper bounds of the histograms' buckets, in seconds (+Inf is added).
DURATION_BUCKETS: tuple[float, ...] = (
    0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400,
)  # fmt: skip
LAG_BUCKETS: tuple[float, ...] = (1, 5, 15, 30, 60, 120, 300, 900, 3600, 21600)
TICK_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
BUCKETS = {DURATION: DURATION_BUCKETS, LAG: LAG_BUCKETS, TICK: TICK_BUCKETS}
INFINITY = "+Inf"


def bound_text(bound: float) -> str:
    """A bucket's upper bound as its ``le`` label reads: ``1.0``, ``0.05``."""
    return repr(float(bound))


def bucket_of(seconds: float, bounds: Sequence[float]) -> str:
    """The label of the first bucket that holds ``seconds``."""
    for bound in bounds:
        if seconds <= bound:
            return bound_text(bound)
    return INFINITY
