"""django-celery-beat's DatabaseScheduler and this project's entries, side by side.

    python benchmarks/celery_beat_compare.py --database postgres://postgres@127.0.0.1:5432 \\
        --schedules 10000 100000 1000000

For each N of ``--schedules``, the same N daily schedules are written for both
(customer i runs daily at one of the day's minutes, ``M H * * *``, the same
minute for both): PeriodicTask rows on shared CrontabSchedule rows (one per
minute of the day) in the database ``bench_beat_N``, and CronEntry rows of
one job (``schedule = None``) in ``bench_ours_beat_N``. The minutes from the
moment of writing to ``--quiet-minutes`` later get no schedule, so that
nothing is due while the figures are taken (each side checks it).

Then, in a process of its own for each side (django-celery-beat under a
throwaway virtual environment this script creates from PyPI, outside the
repository; this project under the interpreter that runs the script):

a. start-up, from before ``import django`` to the end of the first tick:
   beat: ``django.setup()``, import Celery, ``DatabaseScheduler(app=app)``
   (which loads the schedule: ``setup_schedule()``, ``all_as_schedule()``),
   then its first ``tick()`` (which builds its heap); ours:
   ``django.setup()`` and the first ``Runner(silent=True).run()``;
b. an idle tick (nothing due), the median of ``--ticks``: beat
   ``scheduler.tick()`` (with a ``memory://`` broker, never used: nothing is
   sent), ours ``Runner(silent=True).run()``;
c. one change: beat saves one PeriodicTask on another crontab, then the next
   ``scheduler.schedule`` reloads every task (timed alone) and the next
   ``tick()`` rebuilds the heap; ours ``CronEntry.objects.schedule()`` of one
   entry, then the next idle tick (``--changes`` of them; the write's figure is
   the median of the writes after a process's first one);
d. memory: the process's peak RSS (VmHWM) after ``django.setup()``, after
   the first tick and the idle ticks (the schedule loaded), and at the end
   (the change included).

Connections persist within a process (``CONN_MAX_AGE = None``) on both
sides. Prints JSON lines, then a table with both figures and their ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BEAT_REQUIREMENTS = [
    "celery==5.7.0",
    "django-celery-beat==2.9.0",
    "Django>=5.2,<5.3",  # the Django this project is measured on
    "psycopg[binary]>=3.1",
]
JOB_CODE = "bench.send_digest"
TASK_NAME = "bench.tasks.send_digest"
SETTINGS = """
import os

SECRET_KEY = "benchmark"
DATABASES = {{"default": {{**{database!r}, "NAME": os.environ["BENCH_DB"], "CONN_MAX_AGE": None}}}}
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", {app!r}]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
CRON_CLASSES = ["bench_beat_jobs.SendDigest"]
"""
JOBS = f"""
from django_cronjobs import CronJobBase


class SendDigest(CronJobBase):
    code = {JOB_CODE!r}
    schedule = None  # runs only through its entries

    def do(self, *, customer_id):
        pass
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        default="postgres://postgres@127.0.0.1:5432",
        help="postgres://user@host:port (databases bench_beat_N and bench_ours_beat_N are "
        "created there)",
    )
    parser.add_argument("--schedules", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--ticks", type=int, default=10, help="idle ticks per measurement")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measuring processes per side and N, the sides taking turns; medians are shown",
    )
    parser.add_argument(
        "--quiet-minutes",
        type=int,
        default=30,
        help="minutes after the writing that get no schedule: the measurements of one N "
        "must end within them",
    )
    parser.add_argument(
        "--schedule-many-max",
        type=int,
        default=100_000,
        help="write at most this many entries with schedule_many; above, the rest are copied "
        "in SQL from the entries schedule_many wrote for the same minute",
    )
    parser.add_argument(
        "--timeout", type=int, default=1200, help="seconds a measuring process may take"
    )
    parser.add_argument(
        "--changes", type=int, default=3, help="changes per measuring process (medians)"
    )
    parser.add_argument(
        "--suffix", default="", help="appended to the databases' names: bench_beat_N<suffix>"
    )
    parser.add_argument("--venv", default="/tmp/celery-beat-venv")
    parser.add_argument("--side", choices=["beat", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--phase", choices=["fill", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--quiet-from", help=argparse.SUPPRESS)
    return parser.parse_args()


# -- both sides: the schedules ---------------------------------------------------------


def minutes_of_day(quiet_from: datetime, quiet_minutes: int) -> list[tuple[int, int]]:
    """(hour, minute) of each schedule's daily run: every minute of the day but the quiet
    ones (from a minute before ``quiet_from`` to ``quiet_minutes`` after it)."""
    start = quiet_from.hour * 60 + quiet_from.minute - 1
    quiet = {(start + offset) % 1440 for offset in range(quiet_minutes + 2)}
    return [(m // 60, m % 60) for m in range(1440) if m not in quiet]


def change_targets(now: datetime) -> list[tuple[int, int]]:
    """Two daily minutes far from ``now`` (twelve hours on): a change moves a schedule to one."""
    moments = [now + timedelta(hours=12), now + timedelta(hours=12, minutes=1)]
    return [(moment.hour, moment.minute) for moment in moments]


def peak_kib() -> dict[str, int]:
    """This process's peak and current RSS (KiB)."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmHWM:", "VmRSS:")):
            found[line[:5]] = int(line.split()[1])
    return {"hwm_kib": found["VmHWM"], "rss_kib": found["VmRSS"]}


def emit(**figures: Any) -> None:
    print(json.dumps(figures), flush=True)


class Queries:
    """Counts the statements run on the default connection."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# -- django-celery-beat -------------------------------------------------------------------


def beat_fill(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone
    from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    quiet_from = datetime.fromisoformat(args.quiet_from)
    minutes = minutes_of_day(quiet_from, args.quiet_minutes)
    crontabs = CrontabSchedule.objects.bulk_create(
        CrontabSchedule(
            minute=str(minute),
            hour=str(hour),
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        for hour, minute in minutes
    )
    # The change moves a task onto one of these (existing ones are reused).
    for hour, minute in change_targets(timezone.now()):
        CrontabSchedule.objects.get_or_create(
            minute=str(minute), hour=str(hour), day_of_week="*", day_of_month="*",
            month_of_year="*", timezone="UTC",
        )  # fmt: skip
    batch = 10_000
    for first in range(0, args.count, batch):
        PeriodicTask.objects.bulk_create(
            PeriodicTask(
                name=f"customer-{number}",
                task=TASK_NAME,
                crontab=crontabs[number % len(crontabs)],
                kwargs=json.dumps({"customer_id": number}),
            )
            for number in range(first, min(first + batch, args.count))
        )
    PeriodicTasks.update_changed()
    write_seconds = time.perf_counter() - started
    analyze()
    emit(
        side="beat",
        schedules=PeriodicTask.objects.count(),
        crontabs=len(crontabs),
        written_by="bulk_create",
        write_seconds=round(write_seconds, 1),
    )


def beat_measure(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    import django

    django.setup()
    setup_ms = (time.perf_counter() - started) * 1000
    setup_memory = peak_kib()
    import celery
    import django_celery_beat
    from celery import Celery
    from django.db import connection
    from django.utils import timezone
    from django_celery_beat.models import CrontabSchedule, PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    app = Celery("bench", broker="memory://", set_as_current=True)
    app.conf.timezone = "UTC"
    queries = Queries()
    with connection.execute_wrapper(queries):
        scheduler = DatabaseScheduler(app=app)
    loaded_ms = (time.perf_counter() - started) * 1000
    load_queries = queries.count
    loaded = len(scheduler._schedule)
    sent: list[str] = []
    scheduler.apply_entry = lambda entry, producer=None: sent.append(entry.name)
    # Full reloads (beat forces one every 5 minutes): counted, to tell them from idle ticks.
    reloads = [0]
    load = scheduler.all_as_schedule

    def counted_load() -> dict[str, Any]:
        reloads[0] += 1
        return load()

    scheduler.all_as_schedule = counted_load
    tick_started = time.perf_counter()
    scheduler.tick()
    first_tick_ms = (time.perf_counter() - tick_started) * 1000
    startup_ms = (time.perf_counter() - started) * 1000
    emit(
        side="beat",
        versions={
            "celery": celery.__version__,
            "django-celery-beat": django_celery_beat.__version__,
            "Django": django.get_version(),
        },
        setup_ms=round(setup_ms, 1),
        loaded_ms=round(loaded_ms, 1),
        load_queries=load_queries,
        first_tick_ms=round(first_tick_ms, 1),
        startup_ms=round(startup_ms, 1),
        loaded=loaded,
        schedules=args.count,
        rss_setup_kib=setup_memory["hwm_kib"],
        rss_loaded_kib=peak_kib()["hwm_kib"],
    )
    idle, idle_queries = timed_ticks(scheduler.tick, args.ticks)
    emit(
        idle_ms_median=round(statistics.median(idle), 2),
        idle_ms_min=round(min(idle), 2),
        idle_ms_max=round(max(idle), 2),
        idle_queries=idle_queries,
        idle_reloads=reloads[0],
        rss_idle_kib=peak_kib()["hwm_kib"],
    )
    # Changes: another crontab for one task, each followed by the reload and the heap.
    changes: dict[str, list[float]] = {"write": [], "reload": [], "heap": []}
    counts: dict[str, int] = {}
    reloaded = []
    for _ in range(args.changes):
        task = PeriodicTask.objects.get(name="customer-0")
        targets = [
            CrontabSchedule.objects.filter(minute=str(minute), hour=str(hour), timezone="UTC")
            .order_by("pk")
            .first()
            for hour, minute in change_targets(timezone.now())
        ]
        task.crontab = next(target for target in targets if target.pk != task.crontab_id)
        queries = Queries()
        with connection.execute_wrapper(queries):
            write_started = time.perf_counter()
            task.save()
            changes["write"].append((time.perf_counter() - write_started) * 1000)
            counts["write"] = queries.count
            reload_started = time.perf_counter()
            scheduler.schedule  # noqa: B018 - the property: schedule_changed(), then the reload
            changes["reload"].append((time.perf_counter() - reload_started) * 1000)
            counts["reload"] = queries.count - counts["write"]
            reloaded.append(scheduler._heap_invalidated)
            heap_started = time.perf_counter()
            scheduler.tick()
            changes["heap"].append((time.perf_counter() - heap_started) * 1000)
    after, _ = timed_ticks(scheduler.tick, max(1, args.ticks // 2))
    reload_ms = statistics.median(changes["reload"])
    heap_ms = statistics.median(changes["heap"])
    emit(
        change_write_ms=round(statistics.median(steady(changes["write"])), 2),
        change_write_first_ms=round(changes["write"][0], 2),
        change_write_queries=counts["write"],
        change_reload_ms=round(reload_ms, 1),
        change_reload_queries=counts["reload"],
        change_reloaded=all(reloaded),
        change_heap_ms=round(heap_ms, 1),
        change_next_tick_ms=round(reload_ms + heap_ms, 1),
        idle_after_change_ms=round(statistics.median(after), 2),
        reloads_total=reloads[0],
        sent=len(sent),
        rss_end_kib=peak_kib()["hwm_kib"],
    )


# -- this project -------------------------------------------------------------------------


def ours_fill(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from django_cronjobs import Schedule
    from django_cronjobs.engine.runner import Runner
    from django_cronjobs.entries.due import next_due_of
    from django_cronjobs.models import CronEntry, EntrySpec

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    quiet_from = datetime.fromisoformat(args.quiet_from)
    minutes = minutes_of_day(quiet_from, args.quiet_minutes)
    schedules = [Schedule(cron=f"{minute} {hour} * * *") for hour, minute in minutes]
    by_orm = min(args.count, max(args.schedule_many_max, len(minutes)))
    CronEntry.objects.schedule_many(
        JOB_CODE,
        (
            EntrySpec(f"customer-{n}", schedules[n % len(minutes)], {"customer_id": n})
            for n in range(by_orm)
        ),
    )
    orm_seconds = time.perf_counter() - started
    if by_orm < args.count:
        # Entry i runs at the minute of entry i % len(minutes), which schedule_many wrote:
        # copy that row (schedule, counts_from, next_due) under entry i's key and kwargs.
        columns = [
            field.column
            for field in CronEntry._meta.concrete_fields
            if field.column not in ("id", "key", "kwargs")
        ]
        table = CronEntry._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (key, kwargs, {', '.join(columns)}) "
                f"SELECT 'customer-' || n, jsonb_build_object('customer_id', n), "
                f"{', '.join(f'p.{column}' for column in columns)} "
                f"FROM generate_series(%s, %s) AS n JOIN {table} AS p "
                f"ON p.job = %s AND p.key = 'customer-' || (n %% %s)",
                [by_orm, args.count - 1, JOB_CODE, len(minutes)],
            )
        # The copies agree with what the model works out for them.
        sample = range(by_orm, args.count, max(1, (args.count - by_orm) // 500))
        keys = [f"customer-{number}" for number in sample]
        for entry in CronEntry.objects.filter(job=JOB_CODE, key__in=keys):
            assert entry.next_due == next_due_of(entry), entry
    write_seconds = time.perf_counter() - started
    report = Runner(silent=True).run()  # the job's own state row: a steady tick follows
    assert not report.ran, report.results
    analyze()
    emit(
        side="ours",
        schedules=CronEntry.objects.count(),
        written_by="schedule_many"
        if by_orm == args.count
        else f"schedule_many {by_orm:,}, SQL copies of those rows for the rest",
        schedule_many_per_second=round(by_orm / orm_seconds),
        write_seconds=round(write_seconds, 1),
    )


def ours_measure(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    import django

    django.setup()
    setup_ms = (time.perf_counter() - started) * 1000
    setup_memory = peak_kib()
    from django.db import connection
    from django.utils import timezone

    from django_cronjobs import Schedule
    from django_cronjobs.engine.runner import Runner
    from django_cronjobs.models import CronEntry

    queries = Queries()
    with connection.execute_wrapper(queries):
        report = Runner(silent=True).run()
    startup_ms = (time.perf_counter() - started) * 1000
    assert not report.ran, report.results
    assert not report.failed, report.results
    emit(
        side="ours",
        setup_ms=round(setup_ms, 1),
        startup_ms=round(startup_ms, 1),
        first_tick_ms=round(startup_ms - setup_ms, 1),
        first_tick_queries=queries.count,
        loaded=0,
        schedules=args.count,
        rss_setup_kib=setup_memory["hwm_kib"],
        rss_loaded_kib=peak_kib()["hwm_kib"],
    )

    def tick() -> None:
        report = Runner(silent=True).run()
        assert not report.ran, report.results
        assert not report.failed, report.results

    idle, idle_queries = timed_ticks(tick, args.ticks)
    emit(
        idle_ms_median=round(statistics.median(idle), 2),
        idle_ms_min=round(min(idle), 2),
        idle_ms_max=round(max(idle), 2),
        idle_queries=idle_queries,
        rss_idle_kib=peak_kib()["hwm_kib"],
    )
    # Changes: another schedule for one entry, each followed by an idle tick.
    writes, ticks = [], []
    for _ in range(args.changes):
        entry = CronEntry.objects.get(job=JOB_CODE, key="customer-0")
        current = (int(entry.cron.split()[1]), int(entry.cron.split()[0]))
        hour, minute = next(t for t in change_targets(timezone.now()) if t != current)
        queries = Queries()
        with connection.execute_wrapper(queries):
            write_started = time.perf_counter()
            CronEntry.objects.schedule(
                JOB_CODE,
                key="customer-0",
                schedule=Schedule(cron=f"{minute} {hour} * * *"),
                kwargs={"customer_id": 0},
            )
            writes.append((time.perf_counter() - write_started) * 1000)
            write_queries = queries.count
            tick_started = time.perf_counter()
            tick()
            ticks.append((time.perf_counter() - tick_started) * 1000)
            next_tick_queries = queries.count - write_queries
    after, _ = timed_ticks(tick, max(1, args.ticks // 2))
    emit(
        change_write_ms=round(statistics.median(steady(writes)), 2),
        change_write_first_ms=round(writes[0], 2),
        change_write_queries=write_queries,
        change_next_tick_ms=round(statistics.median(ticks), 2),
        change_next_tick_queries=next_tick_queries,
        idle_after_change_ms=round(statistics.median(after), 2),
        sent=0,
        rss_end_kib=peak_kib()["hwm_kib"],
    )


def steady(writes: list[float]) -> list[float]:
    """The writes after the first: a process's first write also imports what it needs
    (croniter, on our side), which a long-lived process does once."""
    return writes[1:] or writes


def timed_ticks(tick: Any, count: int) -> tuple[list[float], int]:
    """Milliseconds of each of ``count`` calls of ``tick``; statements of the last one."""
    from django.db import connection

    durations = []
    queries = Queries()
    for _ in range(count):
        queries.count = 0
        with connection.execute_wrapper(queries):
            started = time.perf_counter()
            tick()
            durations.append((time.perf_counter() - started) * 1000)
    return durations, queries.count


# -- the driver ---------------------------------------------------------------------------


def beat_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *BEAT_REQUIREMENTS], check=True)
    return python


def create_database(server: str, name: str) -> None:
    assert name.startswith(("bench_beat_", "bench_ours_beat_")), name
    assert name.replace("_", "").isalnum(), name
    user_host = server.rstrip("/").split("://", 1)[1]
    user, _, host_port = user_host.rpartition("@")
    host, _, port = host_port.partition(":")
    psql = ["psql", "-q", "-h", host, "-p", port or "5432", "-U", user, "-tA"]
    exists = subprocess.run(
        [*psql, "-d", "postgres", "-c", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(
            [*psql, "-d", "postgres", "-c", f"CREATE DATABASE {name}"],
            capture_output=True,
            check=True,
        )
        return
    # Emptied rather than dropped: DROP DATABASE waits for every backend of the server
    # (a ProcSignalBarrier), which a long statement elsewhere can hold up for minutes.
    subprocess.run(
        [*psql, "-d", name, "-c", "DROP SCHEMA public CASCADE; CREATE SCHEMA public"],
        capture_output=True,
        check=True,
    )


def database_settings(server: str) -> dict[str, str]:
    user_host = server.rstrip("/").split("://", 1)[1]
    user, _, host_port = user_host.rpartition("@")
    host, _, port = host_port.partition(":")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "USER": user,
        "HOST": host,
        "PORT": port or "5432",
    }


def write_project(directory: Path, server: str) -> None:
    database = database_settings(server)
    for side, app in (("beat", "django_celery_beat"), ("ours", "django_cronjobs")):
        (directory / f"bench_beat_settings_{side}.py").write_text(
            SETTINGS.format(database=database, app=app)
        )
    (directory / "bench_beat_jobs.py").write_text(textwrap.dedent(JOBS))


def run_side(
    python: Path,
    side: str,
    phase: str,
    directory: Path,
    database: str,
    args: argparse.Namespace,
    count: int,
    quiet_from: datetime,
) -> dict[str, Any]:
    """One worker process; its JSON lines merged. Its peak RSS is watched from here as well,
    so that a process that runs out of time still says how much memory it took."""
    paths = [str(directory)] + ([str(HERE.parent)] if side == "ours" else [])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": f"bench_beat_settings_{side}",
        "PYTHONPATH": os.pathsep.join(paths),
        "BENCH_DB": database,
    }
    command = [
        str(python), __file__, "--side", side, "--phase", phase, "--count", str(count),
        "--ticks", str(args.ticks), "--quiet-from", quiet_from.isoformat(),
        "--quiet-minutes", str(args.quiet_minutes),
        "--schedule-many-max", str(args.schedule_many_max), "--changes", str(args.changes),
    ]  # fmt: skip
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        started, watched = time.monotonic(), 0
        timeout = args.timeout if phase == "measure" else 4 * args.timeout
        while process.poll() is None:
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        watched = max(watched, int(line.split()[1]))
            except (FileNotFoundError, ProcessLookupError):
                pass
            if time.monotonic() - started > timeout:
                process.kill()
                process.wait()
                break
            time.sleep(0.2)
        out.seek(0)
        err.seek(0)
        result: dict[str, Any] = {"side": side, "process_seconds": time.monotonic() - started}
        for line in out.read().splitlines():
            if line.startswith("{"):
                result.update(json.loads(line))
        if process.returncode == -9:
            result["timed_out"] = f"killed after {args.timeout} s"
            result["rss_watched_kib"] = watched
        elif process.returncode != 0:
            raise SystemExit(f"{side} {phase} failed:\n{err.read()}")
    return result


def medians(results: list[dict[str, Any]]) -> dict[str, Any]:
    merged = dict(results[-1])
    for key, value in results[0].items():
        values = [result[key] for result in results if isinstance(result.get(key), int | float)]
        if isinstance(value, int | float) and not isinstance(value, bool) and values:
            middle = statistics.median(values)
            whole = all(isinstance(found, int) for found in values) and middle == int(middle)
            merged[key] = int(middle) if whole else round(middle, 2)
    merged["runs"] = len(results)
    return merged


def mib(kib: Any) -> str:
    return f"{kib / 1024:,.0f}" if isinstance(kib, int | float) else "-"


def number(value: Any, digits: int = 1) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value:,.{digits}f}" if value < 100 else f"{value:,.0f}"


def ratio(theirs: Any, ours: Any) -> str:
    if not isinstance(theirs, int | float) or not isinstance(ours, int | float) or not ours:
        return "-"
    return f"{theirs / ours:,.1f}x"


def table(rows: list[tuple[int, dict[str, Any], dict[str, Any]]]) -> str:
    lines = [
        "| schedules | side | loaded | start-up ms (of which first tick) | idle tick ms "
        "(queries) | one change: write ms | one change: next tick ms (reload + heap) "
        "| peak RSS MiB: setup / loaded + idle / end |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for count, beat, ours in rows:
        for name, side in (("django-celery-beat", beat), ("ours", ours)):
            if side.get("timed_out"):
                lines.append(
                    f"| {count:,} | {name} | {side.get('loaded', '-')} | {side['timed_out']}, "
                    f"peak RSS {mib(side.get('rss_watched_kib'))} MiB | | | | |"
                )
                continue
            next_tick = number(side.get("change_next_tick_ms"))
            if name != "ours":
                next_tick += (
                    f" ({number(side.get('change_reload_ms'))} + "
                    f"{number(side.get('change_heap_ms'))})"
                )
            lines.append(
                f"| {count:,} | {name} | {side.get('loaded', 0):,} | "
                f"{number(side.get('startup_ms'))} ({number(side.get('first_tick_ms'))}) | "
                f"{number(side.get('idle_ms_median'), 2)} ({side.get('idle_queries', '-')}) | "
                f"{number(side.get('change_write_ms'), 2)} | {next_tick} | "
                f"{mib(side.get('rss_setup_kib'))} / {mib(side.get('rss_idle_kib'))} / "
                f"{mib(side.get('rss_end_kib'))} |"
            )
        lines.append(
            f"| {count:,} | ratio | | {ratio(beat.get('startup_ms'), ours.get('startup_ms'))} | "
            f"{ratio(beat.get('idle_ms_median'), ours.get('idle_ms_median'))} | "
            f"{ratio(beat.get('change_write_ms'), ours.get('change_write_ms'))} | "
            f"{ratio(beat.get('change_next_tick_ms'), ours.get('change_next_tick_ms'))} | "
            f"{ratio(beat.get('rss_idle_kib'), ours.get('rss_idle_kib'))} |"
        )
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    if args.side:
        workers = {
            ("beat", "fill"): beat_fill,
            ("beat", "measure"): beat_measure,
            ("ours", "fill"): ours_fill,
            ("ours", "measure"): ours_measure,
        }
        workers[args.side, args.phase](args)
        return
    pythons = {"beat": beat_python(Path(args.venv)), "ours": Path(sys.executable)}
    rows = []
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        write_project(directory, args.database)
        for count in args.schedules:
            databases = {
                "beat": f"bench_beat_{count}{args.suffix}",
                "ours": f"bench_ours_beat_{count}{args.suffix}",
            }
            quiet_from = datetime.now(UTC)
            for side, python in pythons.items():
                create_database(args.database, databases[side])
                filled = run_side(
                    python, side, "fill", directory, databases[side], args, count, quiet_from
                )
                print(json.dumps({"count": count, "fill": filled}), flush=True)
            runs: dict[str, list[dict[str, Any]]] = {"beat": [], "ours": []}
            for _ in range(args.repeat):
                for side, python in pythons.items():
                    result = run_side(
                        python, side, "measure", directory, databases[side], args, count,
                        quiet_from,
                    )  # fmt: skip
                    print(json.dumps({"count": count, "measure": result}), flush=True)
                    if result.get("sent"):
                        print(f"warning: beat found {result['sent']} tasks due", flush=True)
                    runs[side].append(result)
            quiet_until = quiet_from + timedelta(minutes=args.quiet_minutes)
            if datetime.now(UTC) > quiet_until:
                print(f"warning: N={count} took longer than --quiet-minutes", flush=True)
            rows.append((count, medians(runs["beat"]), medians(runs["ours"])))
            print(table(rows[-1:]), flush=True)
    print()
    versions = ", ".join(
        f"{name} {version}" for name, version in rows[-1][1].get("versions", {}).items()
    )
    print(f"started {started:%Y-%m-%d %H:%M} UTC; django-celery-beat side: {versions}")
    print(table(rows))


if __name__ == "__main__":
    main()
