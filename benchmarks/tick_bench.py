"""One benchmark process: N jobs, L log rows, ticks of runcrons, timed.

Runs under this project or, with ``--framework django-cron``, under
django-cron 0.6.0 (in the throwaway environment that ``compare.py`` makes).
Prints one JSON line of figures. Not a test: see benchmarks/README.md.

    python benchmarks/tick_bench.py --jobs 1000 --log-rows 1000000 \\
        --database postgres://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import types
from datetime import datetime, timedelta
from pathlib import Path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=["ours", "django-cron"], default="ours")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--log-rows", type=int, default=0)
    parser.add_argument("--ticks", type=int, default=20, help="idle ticks to time")
    parser.add_argument(
        "--busy-ticks", type=int, default=5, help="busy ticks to time (every job due once)"
    )
    parser.add_argument("--database", default="sqlite:////tmp/django_cronjobs_bench.sqlite3")
    return parser.parse_args()


def database_settings(url: str) -> dict[str, object]:
    if url.startswith("sqlite:///"):
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": url[len("sqlite:///") :]}
    if url.startswith(("postgres://", "postgresql://")):
        rest = url.split("://", 1)[1]
        user, _, host_db = rest.rpartition("@")
        host_port, _, name = host_db.partition("/")
        host, _, port = host_port.partition(":")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": user,
            "HOST": host,
            "PORT": port or "5432",
        }
    raise SystemExit(f"unsupported database URL: {url}")


def make_jobs(package: str, count: int) -> list[str]:
    """A module ``bench_jobs`` with ``count`` jobs that run once a day."""
    base = __import__(package, fromlist=["CronJobBase", "Schedule"])
    module = types.ModuleType("bench_jobs")
    for number in range(count):
        module.__dict__[f"Job{number}"] = type(
            f"Job{number}",
            (base.CronJobBase,),
            {
                "__module__": "bench_jobs",
                "code": f"bench.job{number}",
                "schedule": base.Schedule(run_every_mins=24 * 60),
                "do": lambda self: None,
            },
        )
    sys.modules["bench_jobs"] = module
    return [f"bench_jobs.Job{number}" for number in range(count)]


def setup_django(args: argparse.Namespace) -> None:
    import django
    from django.conf import settings

    package = "django_cron" if args.framework == "django-cron" else "django_cronjobs"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    # Connections persist from tick to tick, as they do within one process:
    # connecting belongs to a process's start (see process_bench.py).
    database = {**database_settings(args.database), "CONN_MAX_AGE": None}
    settings.configure(
        DATABASES={"default": database},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", package],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        CRON_CLASSES=[],
        LOGGING_CONFIG=None,
    )
    django.setup()
    settings.CRON_CLASSES = make_jobs(package, args.jobs)


def reset_tables(args: argparse.Namespace) -> str:
    """Empty tables, then ``log_rows`` old runs spread over the jobs. Returns the log table."""
    from django.core.management import call_command
    from django.db import connection

    app = "django_cron" if args.framework == "django-cron" else "django_cronjobs"
    # Fresh tables, even if an earlier version of the schema is there.
    cascade = " CASCADE" if connection.vendor == "postgresql" else ""
    with connection.constraint_checks_disabled(), connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table.startswith(f"{app}_"):
                cursor.execute(f"DROP TABLE IF EXISTS {table}{cascade}")
        if "django_migrations" in connection.introspection.table_names():
            cursor.execute("DELETE FROM django_migrations WHERE app = %s", [app])
    call_command("migrate", verbosity=0)
    log_table = f"{app}_cronjoblog"
    with connection.cursor() as cursor:
        if args.log_rows:
            insert_old_runs(cursor, connection.vendor, log_table, args.log_rows, args.jobs, app)
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {log_table}")
    return log_table


def insert_old_runs(cursor, vendor: str, table: str, rows: int, jobs: int, app: str) -> None:
    extra = ", status" if app == "django_cronjobs" else ""
    extra_value = ", 'succeeded'" if app == "django_cronjobs" else ""
    if vendor == "postgresql":
        cursor.execute(
            f"INSERT INTO {table} (code, start_time, end_time, is_success, message{extra}) "
            f"SELECT 'bench.job' || (n % {jobs}), "
            f"now() - interval '30 days' - n * interval '1 second', "
            f"now() - interval '30 days' - n * interval '1 second', true, ''{extra_value} "
            f"FROM generate_series(1, {rows}) AS n"
        )
    else:
        cursor.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) "
            f"INSERT INTO {table} (code, start_time, end_time, is_success, message{extra}) "
            f"SELECT 'bench.job' || (i % {jobs}), "
            f"datetime('now', '-30 days', '-' || i || ' seconds'), "
            f"datetime('now', '-30 days', '-' || i || ' seconds'), 1, ''{extra_value} FROM n"
        )


def tick(framework: str) -> None:
    from django.core.management import call_command

    call_command("runcrons", silent=True)


def timed_ticks(framework: str, count: int) -> tuple[list[float], int]:
    """Milliseconds of each tick, and queries per tick (of the last one)."""
    from django.db import connection

    durations = []
    counted: list[str] = []

    def count_query(execute, sql, params, many, context):
        counted.append(sql)
        return execute(sql, params, many, context)

    for _ in range(count):
        counted.clear()
        with connection.execute_wrapper(count_query):
            started = time.perf_counter()
            tick(framework)
            durations.append((time.perf_counter() - started) * 1000)
    return durations, len(counted)


def a_day_earlier(framework: str, since: datetime, tick_number: int = 1) -> None:
    """Move the jobs' state a day back: each job is due once more.

    The runs recorded since ``since`` (by busy tick number ``tick_number``)
    move ``tick_number`` days back, below those of earlier busy ticks: a slot
    holds one run. (Moving the data instead of the clock keeps the clock real
    in both frameworks and lets the database agree with it.)
    """
    from django.db.models import F

    day, runs_back = timedelta(days=1), timedelta(days=tick_number)
    if framework == "django-cron":
        from django_cron.models import CronJobLog

        CronJobLog.objects.filter(start_time__gte=since).update(
            start_time=F("start_time") - runs_back, end_time=F("end_time") - runs_back
        )
        return
    from django_cronjobs.models import CronJobLog, CronJobState

    CronJobLog.objects.filter(start_time__gte=since).update(
        start_time=F("start_time") - runs_back,
        end_time=F("end_time") - runs_back,
        slot=F("slot") - runs_back,
    )
    CronJobState.objects.update(
        first_seen=F("first_seen") - day,
        last_slot=F("last_slot") - day,
        last_started_at=F("last_started_at") - day,
        last_finished_at=F("last_finished_at") - day,
        next_due=None,
        due_key="",
    )


def forget_missed_slots(framework: str) -> None:
    """Drop the ``missed`` rows the first tick wrote for the days between the old
    runs and now: the busy ticks move their runs into those days."""
    if framework == "ours":
        from django_cronjobs.models import CronJobLog, RunStatus

        CronJobLog.objects.filter(status=RunStatus.MISSED).delete()


def main() -> None:
    args = parse_args()
    setup_django(args)
    from django.db import connection
    from django.utils import timezone

    reset_tables(args)
    since = timezone.now()
    tick(args.framework)  # every job is new: all run once, state is created
    forget_missed_slots(args.framework)
    busy: list[float] = []
    for number in range(1, args.busy_ticks + 1):
        a_day_earlier(args.framework, since, number)
        since = timezone.now()
        durations, busy_queries = timed_ticks(args.framework, 1)  # every job is due once
        busy += durations
    tick(args.framework)  # the first idle tick after runs: ours stores when each is next due
    idle, idle_queries = timed_ticks(args.framework, args.ticks)
    busy_ms = statistics.median(busy)
    print(
        json.dumps(
            {
                "framework": args.framework,
                "database": connection.vendor,
                "jobs": args.jobs,
                "log_rows": args.log_rows,
                "idle_ms_median": round(statistics.median(idle), 2),
                "idle_queries": idle_queries,
                "busy_ms_median": round(busy_ms, 2),
                "busy_ms_first": round(busy[0], 2),
                "busy_ms_per_run": round(busy_ms / args.jobs, 3),
                "busy_queries_per_run": round(busy_queries / args.jobs, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
