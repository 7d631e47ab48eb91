"""``path("cron/", include("django_cronjobs.urls"))``: the health endpoint and the metrics."""

from __future__ import annotations

from django.urls import path

from .integrations.prometheus.views import metrics
from .monitoring.health import health

app_name = "django_cronjobs"
urlpatterns = [
    path("health/", health, name="health"),
    path("metrics/", metrics, name="metrics"),
]
