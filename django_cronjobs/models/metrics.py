"""The running totals behind the Prometheus metrics: one row per series."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .runs import CronJobsManager


class MetricTally(models.Model):
    """One running total: a count or sum that every process adds to, or a latest moment.

    Runs are counted where they end and scraped from a web process, so the
    totals live in the database rather than in any process's memory. Kept
    only with ``CRONJOBS_PROMETHEUS`` (or a Pushgateway) on. Internal: the
    metrics view and the Pushgateway show it.
    """

    metric = models.CharField(_("metric"), max_length=32)
    cronjob = models.CharField(
        _("cron job"), max_length=64, blank=True, default="", help_text=_("Empty for a tick's.")
    )
    label = models.CharField(
        _("label"),
        max_length=32,
        blank=True,
        default="",
        help_text=_("A run's status, or a histogram bucket's upper bound."),
    )
    value = models.FloatField(_("value"), default=0)

    objects = CronJobsManager()

    class Meta:
        verbose_name = _("metric tally")
        verbose_name_plural = _("metric tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "cronjob", "label"], name="cronjobs_tally_series"
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric}{{{self.cronjob},{self.label}}} = {self.value}"
