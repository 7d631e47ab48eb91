"""After a tick, the metrics go to a Pushgateway, when one is set.

Every host would push the same totals (they come from the shared database)
under one grouping key, so that nothing is counted twice; but two hosts
pushing at once could arrive in the wrong order, an older read replacing a
newer one, and Prometheus would take the drop for a counter reset. So pushes
take turns: at most one per :func:`push_spacing` seconds among all hosts (a
compare-and-set in the database), each reading the totals after taking its
turn and given up after ``CRONJOBS_PROMETHEUS_PUSH_TIMEOUT``, well within its
turn. A Pushgateway that is down or slow never fails the tick: the failure
is logged.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from ...conf import conf, is_finite_seconds
from ...store.metric_tallies import take_turn

logger = logging.getLogger("django_cronjobs")

MIN_PUSH_SPACING = 30.0
"""Seconds between two pushes at least (more with a long timeout: see push_spacing)."""
TURN = "push_turn"


def push_spacing(timeout: float) -> float:
    """Long enough that a push is over (sent, or given up) before the next may start."""
    return max(MIN_PUSH_SPACING, 3 * timeout)


def push() -> bool:
    """Push every metric to ``CRONJOBS_PROMETHEUS_PUSHGATEWAY`` if it is this
    process's turn; True when it went."""
    timeout = conf.PROMETHEUS_PUSH_TIMEOUT
    if not is_finite_seconds(timeout, zero=False):
        logger.warning(
            "Prometheus metrics: CRONJOBS_PROMETHEUS_PUSH_TIMEOUT must be a finite number of "
            "seconds > 0, not %r; nothing pushed",
            timeout,
        )
        return False
    try:
        from prometheus_client import push_to_gateway

        from .collector import registry_of_totals
    except ImportError:
        logger.warning("Prometheus metrics: prometheus-client is not installed; nothing pushed")
        return False
    if not take_turn(TURN, timezone.now().timestamp(), push_spacing(timeout)):
        return False
    try:
        push_to_gateway(
            conf.PROMETHEUS_PUSHGATEWAY,
            job=conf.PROMETHEUS_PUSH_JOB,
            registry=registry_of_totals(primary=True),
            timeout=timeout,
        )
    except Exception as error:  # an unreachable gateway, a refusal, a bad URL
        logger.warning(
            "Prometheus metrics: push to %s failed: %s", conf.PROMETHEUS_PUSHGATEWAY, error
        )
        return False
    return True
