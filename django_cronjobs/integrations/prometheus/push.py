"""After each tick, the metrics go to a Pushgateway, when one is set.

Every host pushes the same totals (they come from the shared database), all
under one grouping key, so the last push is always the whole picture and
nothing is counted twice. A Pushgateway that is down or slow never fails the
tick: the push gives up after ``CRONJOBS_PROMETHEUS_PUSH_TIMEOUT`` and is
logged.
"""

from __future__ import annotations

import logging

from ...conf import conf

logger = logging.getLogger("django_cronjobs")


def push() -> bool:
    """Push every metric to ``CRONJOBS_PROMETHEUS_PUSHGATEWAY``; True when it went."""
    try:
        from prometheus_client import CollectorRegistry, push_to_gateway

        from .collector import CronJobsCollector
    except ImportError:
        logger.warning("Prometheus metrics: prometheus-client is not installed; nothing pushed")
        return False
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CronJobsCollector())
    try:
        push_to_gateway(
            conf.PROMETHEUS_PUSHGATEWAY,
            job=conf.PROMETHEUS_PUSH_JOB,
            registry=registry,
            timeout=conf.PROMETHEUS_PUSH_TIMEOUT,
        )
    except Exception as error:  # an unreachable gateway, a refusal, a bad URL
        logger.warning(
            "Prometheus metrics: push to %s failed: %s", conf.PROMETHEUS_PUSHGATEWAY, error
        )
        return False
    return True
