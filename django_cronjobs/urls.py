"""``path("cron/", include("django_cronjobs.urls"))``: the health endpoint."""

from __future__ import annotations

from django.urls import path

from .monitoring.health import health

app_name = "django_cronjobs"
urlpatterns = [path("health/", health, name="health")]
