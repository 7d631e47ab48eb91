"""What runcrons and cronloop share: options, the runner, the exit status."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, OperationalError

from django_cronjobs.conf import is_at_least_one
from django_cronjobs.engine.interruption import exit_status
from django_cronjobs.engine.runner import Runner
from django_cronjobs.engine.tick_output import JobResult, TickReport
from django_cronjobs.text.log_text import failure_reason, first_line

EXIT_JOB_FAILED = 1
EXIT_CONFIGURATION_BROKEN = 2
EXIT_DATABASE_UNAVAILABLE = 3


class TickCommand(BaseCommand):
    """A command that runs ticks of the runner."""

    # The runner reports broken jobs itself and keeps running the valid ones;
    # skipping Django's checks also keeps a tick's start-up short.
    requires_system_checks: list[str] = []

    from_command_line = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Force cron runs")
        parser.add_argument(
            "--silent", action="store_true", help="Do not push any message on console"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Just show what crons would be run; don't actually run them",
        )
        parser.add_argument(
            "--concurrency",
            type=at_least_one,
            default=None,
            help="Run up to N due jobs at once, each in its own process "
            "(default: CRONJOBS_CONCURRENCY, 1).",
        )

    def run_from_argv(self, argv: list[str]) -> None:
        # Only a real command line gets a failing exit status: call_command()
        # keeps django-cron's behaviour of not raising for a failed job.
        self.from_command_line = True
        super().run_from_argv(argv)

    def write_line(self, line: str) -> None:
        """Print one of the runner's lines."""
        self.stdout.write(line)

    def runner(self, options: dict[str, Any]) -> Runner:
        concurrency = options.get("concurrency")
        # call_command(concurrency=...) passes it past argparse's check.
        if concurrency is not None and not is_at_least_one(concurrency):
            raise CommandError(f"--concurrency {AT_LEAST_ONE} got {concurrency!r}")
        return Runner(
            force=options["force"],
            dry_run=options["dry_run"],
            silent=options["silent"],
            write=self.write_line,
            handle_signals=self.from_command_line,
            concurrency=options.get("concurrency"),
            show_messages=options.get("verbosity", 1) >= 2,
        )


AT_LEAST_ONE = "must be a whole number, 1 or more;"


def at_least_one(text: str) -> int:
    """``--concurrency``: a whole number of jobs at once, 1 or more."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if not is_at_least_one(number):
        raise argparse.ArgumentTypeError(f"{AT_LEAST_ONE} got {text!r}")
    return number


def database_error(error: DatabaseError) -> CommandError:
    """One line instead of a traceback: cron mail should say what is wrong.

    Only a database out of reach (an OperationalError: cannot connect, lost
    the connection) is "database unavailable", exit status 3, which monitors
    read as an outage. A statement the database refused (bad data, a missing
    table) is "database error", exit status 1.
    """
    if isinstance(error, OperationalError):
        return CommandError(
            f"database unavailable: {first_line(error)}", returncode=EXIT_DATABASE_UNAVAILABLE
        )
    return CommandError(f"database error: {type(error).__name__}: {first_line(error)}")


def raise_for_exit_status(report: TickReport) -> None:
    """Turn a tick's failures into the command's exit status."""
    if report.interrupted is not None:
        raise CommandError(
            f"interrupted by {report.interrupted!r}", returncode=exit_status(report.interrupted)
        )
    if report.broken:
        codes = ", ".join(sorted({result.code for result in report.broken}))
        raise CommandError(
            f"broken cron job configuration: {codes}", returncode=EXIT_CONFIGURATION_BROKEN
        )
    if report.failed:
        raise CommandError(
            f"cron jobs failed: {', '.join(map(failed_job, report.failed))}",
            returncode=EXIT_JOB_FAILED,
        )


def failed_job(result: JobResult) -> str:
    """``code (reason)``: cron mail with --silent says why from this line alone."""
    if result.run is not None:
        return f"{result.code} ({failure_reason(result.run.status, result.run.message)})"
    return f"{result.code} ({result.outcome})"
