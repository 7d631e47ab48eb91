"""Prometheus metrics: runs by job and status, durations, lag, missed slots, ticks.

With ``CRONJOBS_PROMETHEUS = True`` each run's end, each set of missed slots
and each tick add to running totals in the database (:mod:`.tallies`), since
the processes that run jobs are short-lived and are not the ones scraped.
:class:`~.collector.CronJobsCollector` turns the totals into metric families;
the view ``path("cron/", include("django_cronjobs.urls"))`` serves them at
``cron/metrics/`` under the health endpoint's rules, and with
``CRONJOBS_PROMETHEUS_PUSHGATEWAY`` set each tick also pushes them
(:mod:`.push`). Needs ``prometheus-client`` (the ``prometheus`` extra) to
serve or push; counting needs nothing.
"""

from __future__ import annotations

from .tallies import connect

__all__ = ["connect"]
