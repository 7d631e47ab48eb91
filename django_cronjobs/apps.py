from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CronJobsConfig(AppConfig):
    name = "django_cronjobs"
    # Not "Cron jobs": that is the name of one of its pages, and the
    # breadcrumbs would read "Cron jobs > Cron jobs".
    verbose_name = _("Cron")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .integrations import pings, prometheus, sentry_crons

        pings.connect()
        prometheus.connect()
        sentry_crons.connect()
