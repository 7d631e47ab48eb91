"""``cron/metrics/``: the metrics in Prometheus' text format, for a scraper.

The same rules as the health endpoint: the ``CRONJOBS_HEALTH_TOKEN`` as a
bearer token (Prometheus' ``authorization`` or ``bearer_token`` settings) or
``?token=``, or a staff session that may view the Cron jobs pages; without
either, 403. With metrics off (``CRONJOBS_PROMETHEUS``) it answers 404, and
501 without prometheus-client, each with a line that says so.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ...conf import conf
from ...monitoring.health import allowed


def _text(line: str, status: int) -> HttpResponse:
    return HttpResponse(line + "\n", status=status, content_type="text/plain; charset=utf-8")


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return _text("forbidden", 403)
    if not conf.prometheus_enabled:
        return _text("Prometheus metrics are off: set CRONJOBS_PROMETHEUS = True.", 404)
    try:
        from prometheus_client.exposition import choose_encoder

        from .collector import registry_of_totals
    except ImportError:
        return _text(
            "Prometheus metrics need prometheus-client: pip install prometheus-client.", 501
        )
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(registry_of_totals()), content_type=content_type)
