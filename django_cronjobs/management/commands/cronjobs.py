"""``manage.py cronjobs``: list, next, status, crontab, pause, resume, run, import-django-cron."""

from __future__ import annotations

import os
import shlex
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from django_cronjobs.check_ids import E023
from django_cronjobs.jobs.base import NO_JOBS, job_path
from django_cronjobs.management.tick_command import database_error
from django_cronjobs.monitoring import controls
from django_cronjobs.monitoring.entries_health import (
    FAILING_NAMED,
    EntriesSummary,
    entries_by_job,
    failing_entries,
    orphaned_entries,
)
from django_cronjobs.monitoring.overview import (
    JobStatus,
    Standing,
    job_statuses,
    standing,
    upcoming_runs,
)
from django_cronjobs.schedules.dst_notes import dst_notes
from django_cronjobs.store import django_cron_history as django_cron_import
from django_cronjobs.text.moments import in_zone

# The subcommands that set a job's flags, for the next runcrons to honour.
CONTROLS = {
    "pause": "Pause a job: runcrons skips its slots until it is resumed.",
    "resume": "Resume a paused job: it runs again from its next slot.",
    "run": "Ask the next runcrons to run a job once, outside its schedule.",
}

# Nagios plugin exit statuses.
EXIT_OK = 0
EXIT_WARNING = 1
EXIT_CRITICAL = 2
CHECK_EXIT_STATUS = {
    "ok": EXIT_OK,
    "no jobs": EXIT_WARNING,
    "failing": EXIT_CRITICAL,
    "broken": EXIT_CRITICAL,
}


class Command(BaseCommand):
    help = "Show the configured cron jobs, their next runs and their health."

    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        listing = commands.add_parser(
            "list", help="Each job: next run, status and schedule, in 100 columns."
        )
        listing.add_argument(
            "--wide",
            action="store_true",
            help="One line per job, with its last run too, however wide.",
        )
        upcoming = commands.add_parser("next", help="The next run times of one job.")
        upcoming.add_argument("code", help="The job's code or dotted class path.")
        upcoming.add_argument("-n", type=int, default=5, help="How many (default 5).")
        status = commands.add_parser("status", help="Which jobs are failing or overdue.")
        status.add_argument(
            "--check",
            action="store_true",
            help="Print one summary line first and exit 2 when a job is failing or overdue "
            "(a Nagios-style check).",
        )
        crontab = commands.add_parser("crontab", help="The crontab line that runs this project.")
        crontab.add_argument(
            "--manage-py", help="Path of manage.py (default: the one running this command)."
        )
        moving = commands.add_parser(
            "import-django-cron",
            help="Copy django-cron's run history into this log; safe to run again.",
        )
        moving.add_argument(
            "--table", default=django_cron_import.TABLE, help="django-cron's log table."
        )
        moving.add_argument(
            "--source-database",
            help="The database alias that holds that table (default: this app's database).",
        )
        moving.add_argument(
            "--dry-run", action="store_true", help="Count what would be copied; write nothing."
        )
        for name, text in CONTROLS.items():
            control = commands.add_parser(name, help=text)
            control.add_argument("code", help="The job's code or dotted class path.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "handle_" + options["subcommand"].replace("-", "_"))(options)
        except DatabaseError as error:
            raise database_error(error) from error

    # -- list -----------------------------------------------------------------

    def handle_list(self, options: dict[str, Any]) -> None:
        statuses = job_statuses()
        wide = options["wide"]
        rows: list[list[str]] = [
            ["CODE", "NEXT RUN", "STATUS", *(["LAST RUN"] if wide else []), "SCHEDULE"]
        ]
        entries = entries_by_job(job.code for job in statuses)
        for job in statuses:
            last = [moment(job.last_started, job)] if wide else []
            rows.append([job.code, next_or_paused(job), status_word(job), *last, job.schedule])
            summary = entries.get(job.code)
            if summary is not None:
                rows.append(
                    [f"  {job.code}[…]", moment(summary.next_due, job), "", *last, summary.text()]
                )
        for line in table(rows, width=None if wide else LIST_WIDTH):
            self.stdout.write(line)

    # -- next -----------------------------------------------------------------

    def handle_next(self, options: dict[str, Any]) -> None:
        if options["n"] < 1:
            raise CommandError("-n must be at least 1.")
        job = find_job(options["code"])
        schedule = job.job_class.schedule
        if schedule.every_invocation:
            self.stdout.write(f"{job.code} runs at every runcrons call.")
            return
        if job.entries_only:
            self.stdout.write(f"{job.code} runs only through its entries.")
            return
        slots = upcoming_runs(job.job_class, job.state, job.now, options["n"])
        days = (slots[-1] - job.now).days + 2 if slots else 0
        notes = {note.runs_at: note for note in dst_notes(schedule, job.now, days)}
        for slot in slots:
            note = notes.get(slot)
            line = in_zone(slot, schedule.zone)
            self.stdout.write(f"{line}  ({note.text()})" if note else line)

    # -- status ---------------------------------------------------------------

    def handle_status(self, options: dict[str, Any]) -> None:
        found = standing()
        entries = entries_by_job(job.code for job in found.jobs)
        if options["check"]:
            self.stdout.write(check_summary(found, entries))
        for entry in found.broken:
            for problem in entry.problems:
                self.stdout.write(f"{entry.code}: broken ({problem.check_id}) {problem.message}")
        for job in found.jobs:
            last = f"last {job.last_status} {moment(job.last_started, job)}"
            if not job.last_status:
                last = "no run yet"
            if not job.entries_only:
                self.stdout.write(
                    f"{job.code}: {job.health}; {last}; next {describe_next_run(job)}"
                )
            summary = entries.get(job.code)
            if summary is not None:
                self.write_entries(job, summary)
        for code, count in orphaned_entries([job.code for job in found.jobs]).items():
            self.stdout.write(
                f"{code}: {count:,} {'entry' if count == 1 else 'entries'} of a job not in "
                f"CRON_CLASSES ({E023.id}): they do not run"
            )
        if options["check"]:
            status = CHECK_EXIT_STATUS[found.status]
            if status == EXIT_OK and any(summary.failing for summary in entries.values()):
                status = EXIT_WARNING
            if status != EXIT_OK:
                # Not a CommandError: the summary line above is the whole message.
                sys.stdout.flush()
                raise SystemExit(status)

    def write_entries(self, job: JobStatus, summary: EntriesSummary) -> None:
        """The job's entries in one line, then one line per failing entry."""
        self.stdout.write(f"{job.code}: {summary.text()}; next {moment(summary.next_due, job)}")
        for entry in failing_entries(job.code) if summary.failing else []:
            state = entry.state
            self.stdout.write(
                f"{entry.run_name}: failing, {state.failure_streak} in a row; "
                f"last {state.last_status} {moment(state.last_started_at, job)}"
            )
        if summary.failing > FAILING_NAMED:
            self.stdout.write(f"{job.code}: and {summary.failing - FAILING_NAMED:,} more failing")

    # -- pause, resume, run ---------------------------------------------------

    def handle_pause(self, options: dict[str, Any]) -> None:
        code = find_job(options["code"]).code
        done = controls.pause(code)
        self.stdout.write(f"{code} paused." if done else f"{code} was already paused.")

    def handle_resume(self, options: dict[str, Any]) -> None:
        code = find_job(options["code"]).code
        done = controls.resume(code)
        self.stdout.write(f"{code} resumed." if done else f"{code} was not paused.")

    def handle_run(self, options: dict[str, Any]) -> None:
        code = find_job(options["code"]).code
        done = controls.request_run(code)
        self.stdout.write(
            f"{code} will run at the next runcrons."
            if done
            else f"A run of {code} was already requested."
        )

    # -- import-django-cron ---------------------------------------------------

    def handle_import_django_cron(self, options: dict[str, Any]) -> None:
        try:
            report = django_cron_import.import_django_cron_history(
                table=options["table"],
                source=options["source_database"],
                dry_run=options["dry_run"],
            )
        except django_cron_import.NoDjangoCronTable as error:
            raise CommandError(f"{error} Is --table or --source-database wrong?") from error
        verb = "Would import" if options["dry_run"] else "Imported"
        self.stdout.write(
            f"Read {report.read} django-cron runs from {options['table']}: {verb.lower()} "
            f"{report.imported}, skipped {report.skipped} already in the log."
        )
        if report.codes:
            self.stdout.write(f"{verb} runs of: {', '.join(sorted(report.codes))}.")
        if report.updated_jobs:
            self.stdout.write(
                "Continuing the schedules of: " + ", ".join(report.updated_jobs) + "."
            )

    # -- crontab --------------------------------------------------------------

    def handle_crontab(self, options: dict[str, Any]) -> None:
        manage_py = options["manage_py"] or find_manage_py()
        if manage_py is None:
            raise CommandError("Cannot tell where manage.py is: pass --manage-py PATH.")
        path = Path(manage_py).resolve()
        settings_module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
        environment = (
            f"DJANGO_SETTINGS_MODULE={shlex.quote(settings_module)} " if settings_module else ""
        )
        self.stdout.write(
            "# Run the due cron jobs every minute (crontab -e). runcrons prints only what\n"
            "# went wrong with --silent, so cron mails you exactly then.\n"
            f"* * * * * cd {shlex.quote(str(path.parent))} && {environment}"
            f"{shlex.quote(os.path.abspath(sys.executable))} {shlex.quote(str(path))} "
            "runcrons --silent"
        )


def check_summary(found: Standing, entries: dict[str, EntriesSummary] | None = None) -> str:
    """The Nagios-style first line of ``status --check``.

    A broken CRON_CLASSES entry is critical (that job never runs); no jobs
    at all is a warning, as the system check W002 says; so are failing
    entries, when the jobs themselves are fine: one customer's entry failing
    is worth a look, not a page.
    """
    if found.status in ("broken", "failing"):
        listed = [
            f"{entry.code} (broken: {', '.join(problem.check_id for problem in entry.problems)})"
            for entry in found.broken
        ] + [f"{job.code} ({job.health})" for job in found.unhealthy]
        total = len(found.jobs) + len(found.broken)
        return f"CRONJOBS CRITICAL - {len(listed)} of {total}: {', '.join(listed)}"
    if found.status == "no jobs":
        return f"CRONJOBS WARNING - no jobs: {NO_JOBS.message} ({NO_JOBS.check_id})"
    failing = {code: each.failing for code, each in (entries or {}).items() if each.failing}
    if failing:
        jobs = ", ".join(f"{code} ({count:,})" for code, count in failing.items())
        total = sum(failing.values())
        noun = "entry" if total == 1 else "entries"
        return f"CRONJOBS WARNING - {total:,} {noun} failing: {jobs}"
    return f"CRONJOBS OK - {len(found.jobs)} jobs"


def find_job(wanted: str) -> JobStatus:
    """The configured job with the code or class path ``wanted``."""
    for job in job_statuses():
        if wanted in (job.code, job_path(job.job_class)):
            return job
    raise CommandError(f"No configured cron job has the code or path {wanted!r}.")


def moment(value: datetime | None, job: JobStatus) -> str:
    """``2026-11-26 02:30 Europe/Berlin`` in the job's zone; ``-`` for none."""
    return in_zone(value, job.job_class.schedule.zone)


# `cronjobs list` fits a terminal this wide; its last column wraps.
LIST_WIDTH = 100


def table(rows: list[list[str]], width: int | None) -> list[str]:
    """Rows in aligned columns; the last one wraps so that lines fit ``width``
    (while the other columns leave it room)."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    indent = sum(widths) + 2 * len(widths)
    room = None if width is None else max(width - indent, 10)
    lines = []
    for row in rows:
        cells = [cell.ljust(size) for cell, size in zip(row, widths, strict=False)]
        last = [row[-1]] if room is None else wrap(row[-1], room)
        lines.append("  ".join([*cells, last[0]]).rstrip())
        lines += [" " * indent + more for more in last[1:]]
    return lines


def wrap(text: str, room: int) -> list[str]:
    """``text`` in lines of ``room`` characters, words (zone names) kept whole."""
    return textwrap.wrap(text, room, break_long_words=False, break_on_hyphens=False) or [""]


def next_or_paused(job: JobStatus) -> str:
    """A paused job has no next run: it says so instead."""
    return "paused" if job.paused else describe_next_run(job)


def status_word(job: JobStatus) -> str:
    return job.health if job.health not in ("ok", "paused") else job.last_status or "-"


def describe_next_run(job: JobStatus) -> str:
    if job.entries_only:
        return "entries"
    if job.next_run is None:
        return "every call"
    if job.next_run <= job.now:
        return "due now"
    return moment(job.next_run, job)


def find_manage_py() -> str | None:
    """The manage.py this process runs, or one in the current directory."""
    script = Path(sys.argv[0]) if sys.argv else None
    if script is not None and script.name == "manage.py" and script.exists():
        return str(script)
    here = Path.cwd() / "manage.py"
    return str(here) if here.exists() else None
