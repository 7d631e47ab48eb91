"""A broken CRON_CLASSES, seen from the command line: runcrons, status --check, migrate."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from django_cronjobs.models import CronJobLog
from tests.conftest import command_line_env, runcrons_command

MISSING_COMMA = (
    "ERROR CRON_CLASSES: (django_cronjobs.E015) CRON_CLASSES must be a list of dotted paths, "
    "not 'tests.jobs.EveryMinuteJob'."
)


def settings_module(tmp_path: Path, cron_classes: str) -> dict[str, str]:
    """The environment of a child process whose settings are the tests' but for CRON_CLASSES."""
    (tmp_path / "slip_settings.py").write_text(
        f"from tests.settings import *  # noqa: F403\nCRON_CLASSES = {cron_classes}\n"
    )
    return {
        "DJANGO_SETTINGS_MODULE": "slip_settings",
        "PYTHONPATH": os.pathsep.join([os.getcwd(), str(tmp_path)]),
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("silent", [[], ["--silent"]])
def test_runcrons_exits_2_on_a_missing_comma(tmp_path, silent):
    # CRON_CLASSES = ("myapp.cron.Hello") is a string: runcrons printed its
    # header, ran nothing and exited 0.
    process = runcrons_command(
        *silent, **settings_module(tmp_path, '("tests.jobs.EveryMinuteJob")')
    )
    assert process.returncode == 2, process.stderr
    assert MISSING_COMMA in process.stdout.splitlines()
    assert "broken cron job configuration: CRON_CLASSES" in process.stderr
    assert not CronJobLog.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_runcrons_exits_2_on_an_entry_that_is_not_a_path(tmp_path):
    process = runcrons_command(
        "--silent", **settings_module(tmp_path, '["tests.jobs.EveryMinuteJob", 42]')
    )
    assert process.returncode == 2, process.stderr
    assert process.stdout.splitlines() == [
        "ERROR 42: (django_cronjobs.E015) CRON_CLASSES must list dotted paths, not 42."
    ]
    assert list(CronJobLog.objects.values_list("code", flat=True)) == ["tests.every_minute"]


def status_check() -> tuple[object, list[str]]:
    """``cronjobs status --check``: its exit status and lines."""
    out = StringIO()
    status: object = 0
    try:
        call_command("cronjobs", "status", "--check", stdout=out)
    except SystemExit as exited:
        status = exited.code
    return status, out.getvalue().splitlines()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cron_classes", "status", "summary"),
    [
        (
            "tests.jobs.DailyJob",
            2,
            "CRONJOBS CRITICAL - 1 of 1: CRON_CLASSES (broken: django_cronjobs.E015)",
        ),
        (
            ["tests.jobs.DailyJob", 42],
            2,
            "CRONJOBS CRITICAL - 1 of 2: 42 (broken: django_cronjobs.E015)",
        ),
        (
            ["tests.jobs.DailyJob", "tests.broken_jobs.NulCodeJob", "tests.jobs.Missing"],
            2,
            "CRONJOBS CRITICAL - 2 of 3: tests.broken_jobs.NulCodeJob (broken: "
            "django_cronjobs.E020), tests.jobs.Missing (broken: django_cronjobs.E001)",
        ),
        (
            [],
            1,
            "CRONJOBS WARNING - no jobs: CRON_CLASSES lists no jobs: runcrons has nothing "
            "to run. (django_cronjobs.W002)",
        ),
        (["tests.jobs.DailyJob"], 0, "CRONJOBS OK - 1 jobs"),
    ],
)
def test_status_check_does_not_call_a_broken_or_empty_configuration_ok(
    settings, cron_classes, status, summary
):
    settings.CRON_CLASSES = cron_classes
    assert status_check()[0] == status
    assert status_check()[1][0] == summary


@pytest.mark.django_db
def test_status_lists_the_broken_entries_with_their_check_ids(settings):
    settings.CRON_CLASSES = ["tests.jobs.DailyJob", 42]
    out = StringIO()
    call_command("cronjobs", "status", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "42: broken (django_cronjobs.E015) CRON_CLASSES must list dotted paths, not 42."
    )
    assert lines[1].startswith("tests.daily: never run; no run yet; next ")
    assert len(lines) == 2


def manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m django ARGS`` on a throwaway SQLite database, with one broken job."""
    env = command_line_env(
        CRONJOBS_TEST_DATABASE_NAME="",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        **settings_module(tmp_path, '["tests.broken_jobs.GoodJob", "tests.broken_jobs.Missing"]'),
    )
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_migrate_runs_beside_a_broken_job(tmp_path):
    # A deploy that fixes a job and migrates in one go must not be stopped
    # by the job it fixes: migrate reports it as a warning, with its id.
    migrated = manage(tmp_path, "migrate", "--no-input")
    assert migrated.returncode == 0, migrated.stderr
    assert "WARNINGS:" in migrated.stderr
    assert "tests.broken_jobs.Missing: (django_cronjobs.E001) Cannot import" in migrated.stderr
    assert "Applying django_cronjobs.0001" in migrated.stdout
    # manage.py check still fails on it, with the same id.
    checked = manage(tmp_path, "check")
    assert checked.returncode == 1
    assert "ERRORS:" in checked.stderr
    assert "tests.broken_jobs.Missing: (django_cronjobs.E001) Cannot import" in checked.stderr
