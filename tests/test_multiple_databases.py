"""CRONJOBS_DATABASE: every read and write of the app goes to that database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import reverse

from django_cronjobs.databases import CronJobsRouter
from django_cronjobs.models import CronJobLog, CronJobState
from django_cronjobs.monitoring import controls
from tests.conftest import run_crons

pytestmark = pytest.mark.django_db(databases=["default", "cron"])

T0 = datetime(2025, 1, 6, tzinfo=UTC)


class RouteToCron:
    """A project's own router that puts the app on the "cron" database."""

    def db_for_read(self, model, **hints):
        return "cron" if model._meta.app_label == "django_cronjobs" else None

    db_for_write = db_for_read


@contextmanager
def app_tables_untouched(alias: str) -> Iterator[list[str]]:
    """Fail on any statement about the app's tables on ``alias``."""
    seen: list[str] = []

    def watch(execute, sql, params, many, context):
        if "django_cronjobs_" in sql:
            seen.append(sql)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(watch):
        yield seen
    assert seen == [], seen


def rows(alias: str) -> tuple[int, int]:
    return (
        CronJobLog.objects.using(alias).count(),
        CronJobState.objects.using(alias).count(),
    )


@pytest.fixture(params=["setting", "router"])
def on_cron_database(request, settings):
    if request.param == "setting":
        settings.CRONJOBS_DATABASE = "cron"
    else:
        settings.DATABASE_ROUTERS = [f"{__name__}.RouteToCron"]


def test_ticks_runs_and_recovery_use_the_apps_database(on_cron_database, clock):
    with app_tables_untouched("default"):
        run_crons()
        clock.at(T0 + timedelta(minutes=1, seconds=5))
        out = run_crons()
        CronJobState.objects.filter(job_name="tests.every_minute").update(last_status="running")
        run_crons()  # looks for dead runs
    assert "[✔] tests.every_minute" in out
    assert rows("cron") == (3, 3)
    assert rows("default") == (0, 0)


def test_controls_and_commands_use_the_apps_database(on_cron_database, clock):
    with app_tables_untouched("default"):
        controls.pause("tests.daily")
        controls.request_run("tests.daily")
        run_crons()
        call_command("cronjobs", "list", stdout=StringIO())
    assert CronJobState.objects.using("cron").get(job_name="tests.daily").paused
    assert CronJobLog.objects.using("cron").filter(code="tests.daily").count() == 1


def test_the_admin_pages_use_the_apps_database(on_cron_database, clock):
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    run_crons()
    with app_tables_untouched("default"):
        for url in (
            reverse("admin:django_cronjobs_cronjob_changelist"),
            reverse("admin:django_cronjobs_cronjob_job", args=["tests.daily"]),
            reverse("admin:django_cronjobs_cronjoblog_changelist"),
        ):
            assert client.get(url).status_code == 200
        response = client.post(reverse("admin:django_cronjobs_cronjob_pause", args=["tests.daily"]))
        assert response.status_code == 302
    assert CronJobState.objects.using("cron").get(job_name="tests.daily").paused


def test_the_router_keeps_the_tables_on_that_database_only(settings):
    settings.CRONJOBS_DATABASE = "cron"
    router = CronJobsRouter()
    assert router.allow_migrate("cron", "django_cronjobs") is True
    assert router.allow_migrate("default", "django_cronjobs") is False
    assert router.allow_migrate("default", "auth") is None
    assert router.db_for_write(CronJobLog) == "cron"
    assert router.db_for_read(User) is None
    settings.CRONJOBS_DATABASE = None
    assert router.allow_migrate("default", "django_cronjobs") is None
