"""``manage.py cronloop [--sleep S] [--repeat N]``: runcrons in a loop, for containers."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import CommandParser
from django.db import DatabaseError
from django.utils import timezone

from django_cronjobs.management.tick_command import (
    TickCommand,
    database_error,
    raise_for_exit_status,
)


class Command(TickCommand):
    help = "Run cron jobs in a loop."

    def write_line(self, line: str) -> None:
        """A loop's lines end up in a container's log: each says when."""
        self.stdout.write(f"{stamp()} {line}")

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
        super().add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        repeat = options["repeat"]
        done = 0
        try:
            while repeat is None or done < repeat:
                done += 1
                last = repeat is not None and done >= repeat
                try:
                    report = self.runner(options).run(options["cron_classes"] or None)
                except DatabaseError as error:
                    if last and self.from_command_line:
                        raise database_error(error) from error
                    # A loop outlives a database restart: say so and go on.
                    self.stderr.write(f"{stamp()} {database_error(error)}")
                else:
                    if report.interrupted is not None or last:
                        if self.from_command_line:
                            raise_for_exit_status(report)
                        return
                time.sleep(options["sleep"])
        except KeyboardInterrupt:
            return


def stamp() -> str:
    """Now, to the second, in the current time zone with its UTC offset (none
    with ``USE_TZ = False``, where now is naive)."""
    now = timezone.now()
    if timezone.is_aware(now):
        now = timezone.localtime(now)
    return now.strftime("%Y-%m-%d %H:%M:%S%z")
