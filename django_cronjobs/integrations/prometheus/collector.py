"""The metrics, as prometheus_client metric families built from the database's totals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

from ...databases import database_for_read, database_for_write
from ...models import CronJobState, RunStatus
from ...store.metric_tallies import Tally, read_tallies
from .series import (
    BUCKETS,
    DURATION,
    INFINITY,
    LAG,
    LAST_SUCCESS,
    MISSED,
    RUNS,
    SUM,
    TICK,
    bound_text,
)

HISTOGRAMS = {
    DURATION: ("cronjobs_run_duration_seconds", "How long runs took, by cron job."),
    LAG: (
        "cronjobs_run_lag_seconds",
        "How long after its slot each run started, by cron job.",
    ),
    TICK: ("cronjobs_tick_duration_seconds", "How long ticks (runcrons, cronloop rounds) took."),
}


class CronJobsCollector(Collector):
    """Every metric, read from the database at each ``collect()`` (one query for the
    totals, one for the jobs' last successes before metrics were kept).

    Register it in a registry of your own, or in prometheus_client's ``REGISTRY``
    to serve it from an existing ``/metrics`` endpoint::

        from prometheus_client import REGISTRY
        REGISTRY.register(CronJobsCollector())
    """

    def __init__(self, *, primary: bool = False) -> None:
        self.primary = primary
        """Read from the database that is written to, not a replica that may lag."""

    def describe(self) -> list[Metric]:
        # Registering must not query the database (it may happen at start-up).
        return []

    def collect(self) -> Iterator[Metric]:
        by_metric: dict[str, list[Tally]] = defaultdict(list)
        for tally in read_tallies(primary=self.primary):
            by_metric[tally.metric].append(tally)

        runs = CounterMetricFamily(
            "cronjobs_runs",
            "Runs that ended, by cron job and status.",
            labels=["cronjob", "status"],
        )
        for tally in by_metric[RUNS]:
            runs.add_metric([tally.cronjob, tally.label], tally.value)
        yield runs

        for metric, (name, documentation) in HISTOGRAMS.items():
            yield histogram(name, documentation, metric, by_metric[metric], by_metric[metric + SUM])

        missed = CounterMetricFamily(
            "cronjobs_missed_slots",
            "Slots recorded missed (runcrons did not run them in time), by cron job.",
            labels=["cronjob"],
        )
        for tally in by_metric[MISSED]:
            missed.add_metric([tally.cronjob], tally.value)
        yield missed

        last_success = GaugeMetricFamily(
            "cronjobs_last_success_timestamp_seconds",
            "When the last successful run of each cron job ended (Unix time).",
            labels=["cronjob"],
        )
        found = last_successes(by_metric[LAST_SUCCESS], primary=self.primary)
        for code, moment in sorted(found.items()):
            last_success.add_metric([code], moment)
        yield last_success


def registry_of_totals(*, primary: bool = False) -> CollectorRegistry:
    """A registry of the collector alone, for the view and the Pushgateway."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CronJobsCollector(primary=primary))
    return registry


def histogram(
    name: str, documentation: str, metric: str, buckets: list[Tally], sums: list[Tally]
) -> HistogramMetricFamily:
    """The histogram family of ``metric`` from per-bucket counts: each series'
    buckets added up (the tick's has no label, every other one ``cronjob``)."""
    labels = [] if metric == TICK else ["cronjob"]
    family = HistogramMetricFamily(name, documentation, labels=labels)
    counts: dict[str, dict[str, float]] = defaultdict(dict)
    for tally in buckets:
        counts[tally.cronjob][tally.label] = tally.value
    total_of = {tally.cronjob: tally.value for tally in sums}
    for cronjob, in_bucket in sorted(counts.items()):
        cumulative = 0.0
        points = []
        for bound in [*map(bound_text, BUCKETS[metric]), INFINITY]:
            cumulative += in_bucket.get(bound, 0.0)
            points.append((bound, cumulative))
        family.add_metric([cronjob] if labels else [], points, sum_value=total_of.get(cronjob, 0.0))
    return family


def last_successes(tallies: list[Tally], *, primary: bool = False) -> dict[str, float]:
    """Each job's latest success: counted since metrics are kept, or stored on its
    state (the end of its last run when that one succeeded, else the start of
    its last success: a state keeps no other end)."""
    latest = {tally.cronjob: tally.value for tally in tallies}
    alias = database_for_write() if primary else database_for_read()
    states = CronJobState.objects.using(alias).filter(
        entry__isnull=True, last_succeeded_at__isnull=False
    )
    rows = states.values_list("job_name", "last_status", "last_finished_at", "last_succeeded_at")
    for code, status, finished, succeeded in rows:
        moment = finished if status == RunStatus.SUCCEEDED and finished else succeeded
        latest[code] = max(latest.get(code, 0.0), moment.timestamp())
    return latest
