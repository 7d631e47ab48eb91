"""``manage.py cronloop [--sleep S] [--repeat N]``: runcrons in a loop, for containers."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from django_cronjobs.runner import Runner

from .runcrons import database_unavailable, raise_for_exit_status


class Command(BaseCommand):
    help = "Run cron jobs in a loop."
    requires_system_checks: list[str] = []

    from_command_line = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "-s",
            "--sleep",
            type=int,
            default=60,
            help="Sleep interval in seconds (default 60: every minute, like cron).",
        )
        parser.add_argument(
            "--cron_classes", "--cron-classes", nargs="+", help="List of cron classes to run."
        )
        parser.add_argument("--repeat", type=int, help="Repeat only X times.")
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
            "--concurrency", type=int, default=None, help="Run up to N due jobs at once."
        )

    def run_from_argv(self, argv: list[str]) -> None:
        self.from_command_line = True
        super().run_from_argv(argv)

    def handle(self, *args: Any, **options: Any) -> None:
        repeat = options["repeat"]
        done = 0
        try:
            while repeat is None or done < repeat:
                done += 1
                last = repeat is not None and done >= repeat
                try:
                    report = Runner(
                        force=options["force"],
                        dry_run=options["dry_run"],
                        silent=options["silent"],
                        write=self.stdout.write,
                        handle_signals=self.from_command_line,
                        concurrency=options["concurrency"],
                    ).run(options["cron_classes"] or None)
                except DatabaseError as error:
                    if last and self.from_command_line:
                        raise database_unavailable(error) from error
                    # A loop outlives a database restart: say so and go on.
                    self.stderr.write(str(database_unavailable(error)))
                else:
                    if report.interrupted is not None or last:
                        if self.from_command_line:
                            raise_for_exit_status(report)
                        return
                time.sleep(options["sleep"])
        except KeyboardInterrupt:
            return
