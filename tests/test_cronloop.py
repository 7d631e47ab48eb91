"""cronloop: runcrons in a loop, passing its options through."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronJobLog

pytestmark = pytest.mark.django_db

JOB = "tests.jobs.EveryMinuteJob"


def loop(**options: object) -> str:
    out = StringIO()
    call_command("cronloop", sleep=0, repeat=3, cron_classes=[JOB], stdout=out, **options)
    return out.getvalue()


def test_repeats_runcrons(clock):
    out = loop()
    assert out.count("Running Crons") == 3
    # Same simulated minute: the slot runs once.
    assert CronJobLog.objects.count() == 1


def test_passes_force_through(clock):
    loop(force=True)
    assert CronJobLog.objects.filter(slot__isnull=True).count() == 3


def test_passes_dry_run_through(clock):
    assert "[✔] tests.every_minute" in loop(dry_run=True)
    assert not CronJobLog.objects.exists()


def test_each_line_says_when(clock):
    clock.at(datetime(2025, 1, 6, 0, 3, 5, tzinfo=UTC))
    lines = loop().splitlines()[:3]
    assert lines == [
        "2025-01-06 00:03:05+0000 Running Crons",
        "2025-01-06 00:03:05+0000 " + "=" * 40,
        "2025-01-06 00:03:05+0000 [✔] tests.every_minute 00:03 0.000 s",
    ]


def test_passes_silent_through(clock):
    assert loop(silent=True) == ""
    assert CronJobLog.objects.count() == 1


def test_sleeps_between_runs(clock, monkeypatch):
    naps: list[float] = []
    monkeypatch.setattr("time.sleep", naps.append)
    call_command("cronloop", sleep=42, repeat=3, cron_classes=[JOB], stdout=StringIO())
    assert naps == [42, 42]


@pytest.mark.parametrize(
    ("error", "line"),
    [
        ("OperationalError", "database unavailable: connection refused"),
        ("DataError", "database error: DataError: connection refused"),
    ],
)
def test_a_loop_tells_a_database_out_of_reach_from_a_refused_statement(
    clock, monkeypatch, error, line
):
    import django.db

    def fail(self, names=None):
        raise getattr(django.db, error)("connection refused\nDETAIL: more")

    monkeypatch.setattr(Runner, "run", fail)
    err = StringIO()
    call_command("cronloop", repeat=2, sleep=0, stdout=StringIO(), stderr=err)
    assert err.getvalue().splitlines() == [f"2025-01-06 00:00:00+0000 {line}"] * 2


def test_lines_say_when_with_use_tz_off_too(settings):
    from django_cronjobs.management.commands.cronloop import stamp
    from django_cronjobs.text.moments import local

    settings.USE_TZ = False
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", stamp())
    assert local(datetime(2025, 1, 6, 2, 30)) == "2025-01-06 02:30:00"
