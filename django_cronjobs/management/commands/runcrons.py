"""``manage.py runcrons [names] [--force] [--silent] [--dry-run] [--concurrency N]``: one tick."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError, OperationalError

from django_cronjobs.log_text import first_line
from django_cronjobs.management.tick_command import (
    TickCommand,
    database_unavailable,
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
        except OperationalError as error:  # cannot connect, lost the connection...
            raise database_unavailable(error) from error
        except DatabaseError as error:
            raise database_refused(error) from error
        if self.from_command_line:
            raise_for_exit_status(report)


def database_refused(error: DatabaseError) -> CommandError:
    """A statement the database answered with an error (bad data, a missing table...).

    The database is there, so this is not "database unavailable" (exit
    status 3, which monitors read as an outage): one line, exit status 1.
    """
    return CommandError(f"database error: {type(error).__name__}: {first_line(error)}")
