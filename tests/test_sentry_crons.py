"""Sentry Crons check-ins, through the real sentry-sdk and a transport that keeps the envelopes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

sentry_sdk = pytest.importorskip("sentry_sdk")
from sentry_sdk.transport import Transport  # noqa: E402

from django_cronjobs import CronJobBase, Schedule  # noqa: E402
from django_cronjobs.engine.runner import Runner  # noqa: E402
from django_cronjobs.integrations.sentry_crons import monitor_config, monitor_slug  # noqa: E402
from django_cronjobs.models import CronEntry  # noqa: E402
from tests.jobs import ReportJob  # noqa: E402

pytestmark = pytest.mark.django_db


class KeptEnvelopes(Transport):
    """A transport that keeps what the SDK would send."""

    sent: list[Any] = []

    def capture_envelope(self, envelope: Any) -> None:
        KeptEnvelopes.sent.append(envelope)


@pytest.fixture
def check_ins() -> Iterator[list[dict[str, Any]]]:
    KeptEnvelopes.sent = []
    sentry_sdk.init(dsn="https://public@sentry.example.com/1", transport=KeptEnvelopes)
    payloads: list[dict[str, Any]] = []

    class Payloads(list):  # type: ignore[type-arg]
        def __iter__(self):  # read the envelopes as they are now
            payloads.clear()
            for envelope in KeptEnvelopes.sent:
                for item in envelope.items:
                    if item.type == "check_in":
                        payloads.append(item.payload.json)
            return iter(payloads)

    yield Payloads()
    sentry_sdk.init(dsn=None)


class Backup(CronJobBase):
    code = "ops.nightly_backup"
    schedule = Schedule(cron="30 2 * * 1-5", timezone="Europe/Berlin")
    TIMEOUT_SECONDS = 3600
    SENTRY_CRONS = True

    def do(self) -> str:
        return "ok"


class FailingBackup(CronJobBase):
    code = "ops.failing_backup"
    schedule = Schedule(cron="30 2 * * *")
    SENTRY_CRONS = True

    def do(self) -> str:
        raise RuntimeError("disk full")


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.CRON_CLASSES = [
        "tests.test_sentry_crons.Backup",
        "tests.test_sentry_crons.FailingBackup",
        "tests.jobs.EveryMinuteJob",
    ]


def test_a_run_checks_in_in_progress_then_ok_with_the_monitor_config(check_ins):
    Runner(silent=True, force=True).run(["ops.nightly_backup"])
    first, last = list(check_ins)
    assert first["monitor_slug"] == "ops-nightly_backup"
    assert first["status"] == "in_progress"
    assert first["monitor_config"] == {
        "schedule": {"type": "crontab", "value": "30 2 * * 1-5"},
        "timezone": "Europe/Berlin",
        "checkin_margin": 5,
        "max_runtime": 60,
    }
    assert last["status"] == "ok"
    assert last["check_in_id"] == first["check_in_id"]
    assert last["duration"] >= 0


def test_a_failed_run_checks_in_error(check_ins):
    Runner(silent=True, force=True).run(["ops.failing_backup"])
    assert [payload["status"] for payload in check_ins] == ["in_progress", "error"]


def test_only_jobs_that_ask_check_in(check_ins, settings):
    Runner(silent=True, force=True).run()
    jobs = {"ops-nightly_backup", "ops-failing_backup"}
    assert {payload["monitor_slug"] for payload in check_ins} == jobs
    settings.CRONJOBS_SENTRY_CRONS = True
    Runner(silent=True, force=True).run()
    assert {payload["monitor_slug"] for payload in check_ins} == {*jobs, "tests-every_minute"}


def test_entries_do_not_check_in(check_ins, settings, clock):
    settings.CRONJOBS_SENTRY_CRONS = True
    settings.CRON_CLASSES = ["tests.jobs.ReportJob"]
    CronEntry.objects.schedule(ReportJob, key="a", schedule=Schedule(run_every_mins=1))
    clock.at(datetime(2025, 1, 6, 0, 1, 5, tzinfo=UTC))
    report = Runner(silent=True).run()
    assert "tests.report[a]" in [result.code for result in report.ran]
    assert {payload["monitor_slug"] for payload in check_ins} <= {"tests-report"}
    assert not [p for p in check_ins if "[" in p["monitor_slug"]]


def schedule_of(**schedule: Any) -> dict[str, Any] | None:
    job = type("Job", (CronJobBase,), {"code": "x", "schedule": Schedule(**schedule)})
    config = monitor_config(job)
    return None if config is None else config["schedule"]


def test_the_monitor_schedule_follows_the_jobs():
    assert schedule_of(run_every_mins=15) == {"type": "interval", "value": 15, "unit": "minute"}
    assert schedule_of(run_at_times=["07:30", "19:30"]) == {
        "type": "crontab",
        "value": "30 7,19 * * *",
    }
    assert schedule_of(run_at_times=["07:30"], run_weekly_on_days=[0, 6]) == {
        "type": "crontab",
        "value": "30 7 * * 1,0",
    }
    assert schedule_of(cron="@daily", run_monthly_on_days=[1, 15]) == {
        "type": "crontab",
        "value": "0 0 1,15 * *",
    }
    assert schedule_of(run_at_times=["07:30", "19:45"]) is None
    assert schedule_of(run_every_mins=30, run_weekly_on_days=[0]) is None
    hashed = schedule_of(cron="H 8 * * *")
    assert hashed is not None
    assert "H" not in hashed["value"]


def test_the_slug_is_the_code_made_a_slug_or_the_jobs_own():
    attributes = {"code": "Shop.Send Digest!", "schedule": Schedule(cron="@daily")}
    job = type("Job", (CronJobBase,), attributes)
    assert monitor_slug(job, job.code) == "shop-send-digest"
    job.SENTRY_MONITOR_SLUG = "digest"
    assert monitor_slug(job, job.code) == "digest"


def test_check_ins_without_sentry_sdk_are_a_warning(monkeypatch):
    from django.core import checks

    from tests.conftest import without_module

    without_module(monkeypatch, "sentry_sdk")
    found = [m for m in checks.run_checks() if m.id == "django_cronjobs.W004"]
    assert len(found) == 1
    assert found[0].level == checks.WARNING


def test_a_run_found_dead_checks_in_an_error(check_ins, settings, clock):
    from django_cronjobs.store import claims
    from tests.test_recovery import crashed_run, dead_pid

    settings.CRONJOBS_SENTRY_CRONS = True
    settings.CRON_CLASSES = ["tests.jobs.EveryMinuteJob"]
    from django_cronjobs.integrations.run_ids import run_uuid

    crashed = crashed_run(claims.hostname(), dead_pid(), datetime(2025, 1, 6, 0, 2, tzinfo=UTC))
    Runner(silent=True).run()
    sentry_sdk.flush()
    statuses = [(c["monitor_slug"], c["status"]) for c in check_ins]
    assert statuses == [
        ("tests-every_minute", "error"),
        ("tests-every_minute", "in_progress"),
        ("tests-every_minute", "ok"),
    ]
    error, started, ended = check_ins
    # It closes the check-in the dead process opened (the same id), with no duration.
    assert error["check_in_id"] == run_uuid(crashed).hex
    assert "duration" not in error or error["duration"] is None
    assert started["check_in_id"] == ended["check_in_id"] != error["check_in_id"]
