"""Prometheus metrics: what keeping them costs a tick and a run, and what a scrape costs.

Prints one JSON line; not a test: see benchmarks/README.md.

    python benchmarks/metrics_bench.py --jobs 1000 \\
        --database postgres://postgres@127.0.0.1:5432/bench_metrics

With ``--jobs`` jobs that run once a day (tables rebuilt first):

1. idle: ``--ticks`` idle ticks (``runcrons --silent``, nothing due) with
   ``CRONJOBS_PROMETHEUS`` off, then on; median ms and queries per tick;
2. run: ``--runs`` times, what one run adds to the totals (its count, its
   duration and lag, its end), as the signal's receiver does; median and 95th
   percentile ms (one statement each);
3. scrape: the totals of a succeeded and a failed run for every job, then
   ``--scrapes`` expositions of the collector (``generate_latest``); median
   ms, size and lines.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tick_bench import reset_tables, setup_django, tick, timed_ticks  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--scrapes", type=int, default=10)
    args = parser.parse_args()
    args.framework, args.log_rows = "ours", 0
    return args


def idle_ticks(count: int) -> tuple[float, int]:
    tick("ours")  # every job is new: it is seen, and its next due moment stored
    tick("ours")
    durations, queries = timed_ticks("ours", count)
    return statistics.median(durations), queries


def a_run(number: int, status: str) -> SimpleNamespace:
    """What the receiver reads of a run: a duration and a lag that vary."""
    start = datetime(2026, 1, 5, 6, 0, 5, tzinfo=UTC)
    return SimpleNamespace(
        status=status,
        slot=start - timedelta(seconds=number % 90),
        start_time=start,
        end_time=start + timedelta(seconds=number % 700),
    )


def main() -> None:
    args = parse_args()
    setup_django(args)
    reset_tables(args)
    from django.conf import settings
    from prometheus_client import CollectorRegistry, generate_latest

    from django_cronjobs.integrations.prometheus.collector import CronJobsCollector
    from django_cronjobs.integrations.prometheus.tallies import run_tallies
    from django_cronjobs.models import MetricTally
    from django_cronjobs.store.metric_tallies import record

    settings.CRONJOBS_PROMETHEUS = False
    idle_off, queries_off = idle_ticks(args.ticks)
    settings.CRONJOBS_PROMETHEUS = True
    idle_on, queries_on = idle_ticks(args.ticks)

    MetricTally.objects.all().delete()
    run_ms = []
    for number in range(args.runs):
        added, latest = run_tallies(
            f"bench.job{number % args.jobs}", a_run(number, "succeeded"), "succeeded"
        )
        started = time.perf_counter()
        record(added, latest)
        run_ms.append((time.perf_counter() - started) * 1000)

    for number in range(args.jobs):
        for status in ("succeeded", "failed"):
            record(*run_tallies(f"bench.job{number}", a_run(number, status), status))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CronJobsCollector())
    scrape_ms = []
    for _ in range(args.scrapes):
        started = time.perf_counter()
        text = generate_latest(registry)
        scrape_ms.append((time.perf_counter() - started) * 1000)

    print(
        json.dumps(
            {
                "jobs": args.jobs,
                "idle_tick_ms_off": round(idle_off, 2),
                "idle_tick_queries_off": queries_off,
                "idle_tick_ms_on": round(idle_on, 2),
                "idle_tick_queries_on": queries_on,
                "run_tally_ms_median": round(statistics.median(run_ms), 3),
                "run_tally_ms_p95": round(sorted(run_ms)[int(len(run_ms) * 0.95)], 3),
                "tally_rows": MetricTally.objects.count(),
                "scrape_ms_median": round(statistics.median(scrape_ms), 1),
                "scrape_bytes": len(text),
                "scrape_lines": text.count(b"\n"),
            }
        )
    )


if __name__ == "__main__":
    main()
