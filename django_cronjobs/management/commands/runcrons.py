"""``manage.py runcrons [names] [--force] [--silent] [--dry-run] [--concurrency N]``: one tick."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.db import DatabaseError

from django_cronjobs.management.tick_command import (
    TickCommand,
    database_error,
    raise_for_exit_status,
)


class Command(TickCommand):
    help = "Run the cron jobs that are due (all of CRON_CLASSES, or the ones named)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "cron_classes", nargs="*", help="Job codes or dotted class paths (default: all)."
        )
        super().add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = self.runner(options).run(options["cron_classes"] or None)
        except DatabaseError as error:
            raise database_error(error) from error
        if self.from_command_line:
            raise_for_exit_status(report)
