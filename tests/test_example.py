"""The example project works as the README says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "example" / "manage.py"


def test_example_migrates_and_runs_its_jobs(tmp_path):
    env = {**os.environ, "EXAMPLE_DATABASE": str(tmp_path / "db.sqlite3")}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def manage(*args):
        return subprocess.run(
            [sys.executable, str(EXAMPLE), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
        )

    assert manage("migrate", "-v0").returncode == 0
    checked = manage("check", "--fail-level", "WARNING")
    assert checked.returncode == 0, checked.stderr
    first = manage("runcrons")
    assert first.returncode == 0, first.stderr
    assert "[✔] chores.heartbeat" in first.stdout
    assert "[✔] chores.clear_expired_sessions" in first.stdout
    second = manage("runcrons")
    assert "[ ] chores.clear_expired_sessions" in second.stdout
    forced = manage("runcrons", "chores.daily_signup_report", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "Subject: [Django] Sign-ups" in forced.stdout


@pytest.mark.django_db
def test_the_weekly_digest_does_not_count_missed_slots_as_failures(monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from django_cronjobs.models import CronJobLog, RunStatus

    monkeypatch.syspath_prepend(str(EXAMPLE.parent))
    from chores.cron import WeeklyDigest

    now = timezone.now().replace(second=0, microsecond=0)
    rows = [(RunStatus.SUCCEEDED, None), (RunStatus.FAILED, None)]
    rows += [(RunStatus.MISSED, now - timedelta(minutes=minutes)) for minutes in (1, 2)]
    for status, slot in rows:
        CronJobLog.objects.create(
            code="chores.heartbeat",
            start_time=now,
            end_time=now,
            status=status,
            is_success=status == RunStatus.SUCCEEDED,
            slot=slot,
        )
    assert WeeklyDigest().do() == "2 runs last week, 1 failed; 2 slots missed"
