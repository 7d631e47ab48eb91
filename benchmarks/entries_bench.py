"""Schedules as data: idle ticks, memory, one change and due work with N CronEntry rows.

Prints figures (JSON lines, then tables); not a test: see benchmarks/README.md.

    python benchmarks/entries_bench.py --entries 0 10000 100000 1000000 \\
        --database postgres://postgres@127.0.0.1:5432/bench_entries

For each N of ``--entries`` (one after the other, in one database whose
tables are rebuilt):

1. build: N entries of one job (``schedule = None``: it runs only through
   its entries) on ``--cron`` (default ``H H * * *``: the keys spread them
   over the day), written with ``schedule_many`` (timed: entries/second) or,
   above ``--schedule-many-max``, by COPY with ``counts_from`` and
   ``next_due`` worked out as the model does (a sample is checked against
   the model's own ``next_due_of``);
2. idle: ``--ticks`` ticks (``Runner(silent=True).run()``) after a warm-up
   tick, in the minute the entries were written (the clock frozen there with
   time-machine: nothing is due); median ms and queries per tick;
3. memory: peak RSS (VmHWM) of a fresh process that runs ``django.setup()``
   and one such idle tick;
4. changes: with the N entries present, the median ms and statements of
   creating one entry (``schedule()``), changing its schedule
   (``schedule()`` again), disabling it (``enabled = False; save()``) and
   deleting it (``filter(pk=...).delete()``).

Then (``--due``, default 2,000; 0 skips it) due work: that many entries on
``0 9 * * *`` written at 08:59:30, and ``--hosts`` processes (fork) that act
as hosts whose cron starts runcrons every minute: in simulated minute k
every host starts one tick together with the others (a barrier), 0-10 s
late, the clock running from 09:00 + k min + lateness during the tick
(time-machine, ``tick=True``). That is "runcrons every minute on H hosts" as
long as a tick ends within its minute; a longer one is reported (real cron
would start the next tick beside it). Minutes go on until every entry ran;
each entry must have run exactly once for 09:00. Repeated for each
``--entries-per-take`` (CRONJOBS_ENTRIES_PER_TAKE).
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import types
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tick_bench import database_settings  # noqa: E402

JOBS_MODULE = "bench_entry_jobs"
CODE = "bench.entries"  # the job whose N entries wait
DUE_CODE = "bench.due"  # the job whose entries are due at 09:00
# The entries are written at WRITTEN; idle ticks run in the same minute, at
# IDLE_AT: every entry's first slot is after that minute, so none is due.
# (A Monday in the past: this host's clock behind the database's is allowed.)
WRITTEN = datetime(2026, 1, 5, 10, 0, 5, tzinfo=UTC)
IDLE_AT = WRITTEN + timedelta(seconds=40)
DUE_SLOT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DUE_WRITTEN = DUE_SLOT - timedelta(seconds=30)
# Checked against the model's next_due_of() when the entries are written by COPY.
SAMPLE = 2000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite:////tmp/bench_entries.sqlite3")
    parser.add_argument(
        "--entries", type=int, nargs="+", default=[0, 10_000], help="entries waiting (N)"
    )
    parser.add_argument("--ticks", type=int, default=20, help="idle ticks to time per N")
    parser.add_argument("--cron", default="H H * * *", help="the waiting entries' schedule")
    parser.add_argument(
        "--schedule-many-max",
        type=int,
        default=100_000,
        help="write at most this many entries with schedule_many (timed); COPY above",
    )
    parser.add_argument("--changes", type=int, default=20, help="changes of each kind to time")
    parser.add_argument("--no-memory", action="store_true", help="skip the RSS processes")
    parser.add_argument("--memory-runs", type=int, default=3, help="RSS processes per N")
    parser.add_argument("--reuse", action="store_true", help="keep N entries already there")
    parser.add_argument("--due", type=int, default=2000, help="entries due at 09:00 (0: skip)")
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument(
        "--entries-per-take", type=int, nargs="+", default=[200], help="CRONJOBS_ENTRIES_PER_TAKE"
    )
    parser.add_argument("--max-minutes", type=int, default=60, help="give the due work up after")
    parser.add_argument(
        "--no-jit",
        action="store_true",
        help="PostgreSQL: connect with jit=off (before 961fdb9 a tick of thousands of due"
        " entries stored their next due moments with a CASE of as many branches, which JIT"
        " compiled for minutes)",
    )
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- Django --------------------------------------------------------------------


def make_jobs() -> list[str]:
    """A module with two jobs that run only through their entries, doing nothing."""
    from django_cronjobs import CronJobBase

    def do(self: Any, **kwargs: Any) -> None:
        return None

    module = types.ModuleType(JOBS_MODULE)
    for name, code in (("EntryJob", CODE), ("DueJob", DUE_CODE)):
        module.__dict__[name] = type(
            name,
            (CronJobBase,),
            {"__module__": JOBS_MODULE, "code": code, "schedule": None, "do": do},
        )
    sys.modules[JOBS_MODULE] = module
    return [f"{JOBS_MODULE}.EntryJob", f"{JOBS_MODULE}.DueJob"]


def setup_django(url: str, *, jit: bool = True) -> None:
    import django
    from django.conf import settings

    sys.path.insert(0, str(HERE.parent))
    # Connections persist from tick to tick, as within one process.
    database = {**database_settings(url), "CONN_MAX_AGE": None}
    if not jit and database["ENGINE"].endswith("postgresql"):
        database["OPTIONS"] = {"options": "-c jit=off"}
    settings.configure(
        DATABASES={"default": database},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_cronjobs"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        CRON_CLASSES=[],
        LOGGING_CONFIG=None,
        # The ticks run at a moment in the past (time-machine): no warning per tick.
        CRONJOBS_CLOCK_SKEW_WARNING=10**10,
    )
    django.setup()
    settings.CRON_CLASSES = make_jobs()


def reset_tables() -> None:
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table.startswith("django_cronjobs_"):
                cursor.execute(
                    f"DROP TABLE {table} CASCADE" if postgres() else f"DROP TABLE {table}"
                )
        if "django_migrations" in connection.introspection.table_names():
            cursor.execute("DELETE FROM django_migrations WHERE app = 'django_cronjobs'")
    call_command("migrate", verbosity=0)


def postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if postgres() else "ANALYZE")


@contextmanager
def counted() -> Iterator[list[str]]:
    """The statements run on the default connection meanwhile."""
    from django.db import connection

    statements: list[str] = []

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield statements


def travel(moment: datetime, *, tick: bool = False) -> Any:
    import time_machine

    return time_machine.travel(moment, tick=tick)


# -- 1. build ------------------------------------------------------------------


def key(number: int) -> str:
    return f"customer-{number}"


def build(args: argparse.Namespace, count: int) -> dict[str, Any]:
    """``count`` entries of CODE, all written at WRITTEN; how they were written."""
    from django_cronjobs.models import CronEntry

    if args.reuse and CronEntry.objects.filter(job=CODE).count() == count:
        return {"written_by": "reused"}
    reset_tables()
    figures: dict[str, Any] = {}
    if count <= args.schedule_many_max:
        figures.update(write_with_schedule_many(args.cron, count))
    else:
        # schedule_many's own throughput first, on as many as it may write.
        figures.update(write_with_schedule_many(args.cron, args.schedule_many_max))
        started = time.perf_counter()
        write_with_copy(args.cron, args.schedule_many_max, count)
        figures["copy_seconds"] = round(time.perf_counter() - started, 1)
        figures["written_by"] = f"schedule_many {args.schedule_many_max:,}, COPY the rest"
        figures["sample_checked"] = check_sample(count)
    started = time.perf_counter()
    analyze()
    figures["analyze_seconds"] = round(time.perf_counter() - started, 1)
    assert CronEntry.objects.filter(job=CODE).count() == count
    return figures


def write_with_schedule_many(cron: str, count: int) -> dict[str, Any]:
    from django_cronjobs import Schedule
    from django_cronjobs.models import CronEntry
    from django_cronjobs.models.entries import EntrySpec

    schedule = Schedule(cron=cron)
    specs = (EntrySpec(key(n), schedule, {"customer": n}) for n in range(count))
    with travel(WRITTEN):
        started = time.perf_counter()
        done = CronEntry.objects.schedule_many(CODE, specs)
        seconds = time.perf_counter() - started
    assert done.created == count, done
    return {
        "written_by": "schedule_many",
        "schedule_many_entries": count,
        "schedule_many_seconds": round(seconds, 2),
        "schedule_many_per_second": round(count / seconds) if seconds else None,
    }


def copy_rows(cron: str, first: int, last: int) -> Iterator[tuple[Any, ...]]:
    """The rows schedule_many would write for entries first..last-1, written at WRITTEN.

    Each entry's ``H`` fields are resolved with the package's own hash
    (seed ``code[key]``, as ``CronEntry.schedule`` seeds them); the next slot
    after the minute of the write is worked out with croniter once per
    resolved expression (at most 1,440 of them for ``H H * * *``).
    """
    from croniter import croniter

    from django_cronjobs.models.runs import run_name
    from django_cronjobs.schedules.hashed_cron import resolve_hashes
    from django_cronjobs.schedules.wallclock import floor_minute

    anchor = floor_minute(WRITTEN)
    next_slot: dict[str, datetime] = {}
    for number in range(first, last):
        name = key(number)
        resolved = resolve_hashes(cron, run_name(CODE, name))
        due = next_slot.get(resolved)
        if due is None:
            due = next_slot[resolved] = croniter(resolved, anchor).get_next(datetime)
        yield (CODE, name, json.dumps({"customer": number}), cron, due)


def write_with_copy(cron: str, first: int, last: int) -> None:
    """Entries first..last-1 by COPY (PostgreSQL), the other columns as the model's defaults."""
    from django.db import connection, transaction

    if not postgres():
        raise SystemExit("more entries than --schedule-many-max need PostgreSQL (COPY)")
    columns = (
        "job, key, kwargs, description, enabled, run_every_mins, run_at_times, cron, timezone,"
        " run_weekly_on_days, run_monthly_on_days, retry_after_failure_mins,"
        " run_tolerance_seconds, missed_slots, replay_limit, starting_deadline_seconds,"
        " created_at, updated_at, counts_from, next_due"
    )
    written = WRITTEN.isoformat()
    sql = f"COPY django_cronjobs_cronentry ({columns}) FROM STDIN"
    connection.ensure_connection()
    with transaction.atomic(), connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
        for job, name, kwargs, expression, due in copy_rows(cron, first, last):
            copy.write_row(
                (
                    job, name, kwargs, "", True, None, "[]", expression, "",
                    None, None, None, 0, "latest", 10, None,
                    written, written, written, due.isoformat(),
                )
            )  # fmt: skip


def check_sample(count: int) -> int:
    """Compare a sample of the COPYed entries with what the model works out for them."""
    from django_cronjobs.entries.due import next_due_of
    from django_cronjobs.models import CronEntry

    keys = [key(n) for n in random.Random(0).sample(range(count), min(SAMPLE, count))]
    checked = 0
    for entry in CronEntry.objects.filter(job=CODE, key__in=keys):
        assert entry.counts_from == WRITTEN, entry
        assert next_due_of(entry) == entry.next_due, (entry, next_due_of(entry), entry.next_due)
        checked += 1
    return checked


# -- 2. idle ticks -----------------------------------------------------------------


def idle_ticks(count: int) -> dict[str, Any]:
    from django_cronjobs.engine.runner import Runner

    durations, queries = [], []
    with travel(IDLE_AT):
        report = Runner(silent=True).run()  # warm-up: creates the jobs' state rows
        assert not report.ran, report.results
        for _ in range(count):
            with counted() as statements:
                started = time.perf_counter()
                report = Runner(silent=True).run()
                durations.append((time.perf_counter() - started) * 1000)
            assert not report.ran, report.results
            assert not report.failed, report.results
            queries.append(len(statements))
    return {
        "idle_ms_median": round(statistics.median(durations), 2),
        "idle_ms_min": round(min(durations), 2),
        "idle_queries": max(queries),
    }


def explain_idle_probe() -> str:
    """The plan of the idle tick's probe for a due entry (PostgreSQL)."""
    from django.db import connection

    if not postgres():
        return ""
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT 1 FROM"
            " django_cronjobs_cronentry WHERE next_due <= %s LIMIT 1",
            [IDLE_AT],
        )
        return " | ".join(row[0].strip() for row in cursor.fetchall())


# -- 3. memory ---------------------------------------------------------------------


def memory_child(args: argparse.Namespace) -> None:
    """In a fresh process: django.setup() and one idle tick; print the peak RSS in KiB."""
    setup_django(args.database, jit=not args.no_jit)
    from django_cronjobs.engine.runner import Runner

    after_setup = peak_kib()
    with travel(IDLE_AT):
        report = Runner(silent=True).run()
    assert not report.ran, report.results
    print(json.dumps({"setup_kib": after_setup, "tick_kib": peak_kib()}))


def peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory(args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--memory-child", "--database", args.database]
    if args.no_jit:
        command.append("--no-jit")
    peaks = []
    for _ in range(args.memory_runs):
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        peaks.append(json.loads(output.strip().splitlines()[-1]))
    return {
        "rss_after_setup_kib": statistics.median(peak["setup_kib"] for peak in peaks),
        "rss_peak_kib": statistics.median(peak["tick_kib"] for peak in peaks),
    }


# -- 4. changes --------------------------------------------------------------------


def changes(count: int) -> dict[str, Any]:
    """Median ms and statements of each kind of change to one entry, ``count`` times."""
    from django_cronjobs import Schedule
    from django_cronjobs.models import CronEntry

    timings: dict[str, list[float]] = {}
    statements: dict[str, list[int]] = {}

    def timed(kind: str, change: Callable[[], Any]) -> Any:
        with counted() as run:
            started = time.perf_counter()
            result = change()
            timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        statements.setdefault(kind, []).append(len(run))
        return result

    with travel(IDLE_AT):
        for number in range(count):
            name = f"change-{number}"
            entry = timed(
                "create",
                lambda name=name: CronEntry.objects.schedule(
                    CODE, key=name, schedule=Schedule(cron="H 8 * * *"), kwargs={"customer": 0}
                ),
            )
            timed(
                "edit schedule",
                lambda name=name: CronEntry.objects.schedule(
                    CODE, key=name, schedule=Schedule(cron="H 9 * * 1-5"), kwargs={"customer": 0}
                ),
            )
            entry = CronEntry.objects.get(pk=entry.pk)

            def disable(entry: CronEntry = entry) -> None:
                entry.enabled = False
                entry.save()

            timed("disable", disable)
            assert CronEntry.objects.get(pk=entry.pk).next_due is None
            timed("delete", lambda pk=entry.pk: CronEntry.objects.filter(pk=pk).delete())
    return {
        kind: {
            "ms_median": round(statistics.median(times), 2),
            "ms_max": round(max(times), 2),
            "statements": sorted(set(statements[kind])),
        }
        for kind, times in timings.items()
    }


# -- 5. due work -------------------------------------------------------------------


def write_due(count: int) -> None:
    from django_cronjobs import Schedule
    from django_cronjobs.models import CronEntry
    from django_cronjobs.models.entries import EntrySpec

    schedule = Schedule(cron="0 9 * * *")
    specs = (EntrySpec(f"due-{n}", schedule, {"n": n}) for n in range(count))
    with travel(DUE_WRITTEN):
        CronEntry.objects.schedule_many(DUE_CODE, specs)
    assert CronEntry.objects.filter(job=DUE_CODE, next_due=DUE_SLOT).count() == count
    analyze()


def due_host(number: int, barrier: Any, stop: Any, folder: str, max_minutes: int) -> None:
    """One host: a tick per simulated minute, with the others; its ticks in a JSON file."""
    from django.db import connections

    from django_cronjobs.engine.runner import Runner

    connections.close_all()
    lateness = random.Random(number)
    ticks = []
    try:
        for minute in range(max_minutes):
            barrier.wait(timeout=600)
            if stop.value:
                break
            late = lateness.uniform(0, 10)
            with travel(DUE_SLOT + timedelta(minutes=minute, seconds=late), tick=True):
                started = time.perf_counter()
                report = Runner(silent=True).run([f"{JOBS_MODULE}.DueJob"])
                seconds = time.perf_counter() - started
            assert not report.failed, report.failed[:3]
            outcomes = Counter(result.outcome for result in report.results if "[" in result.code)
            ticks.append({"minute": minute, "seconds": seconds, "outcomes": outcomes})
            barrier.wait(timeout=600)  # every host's tick of this minute is over
            if number == 0:
                stop.value = int(all_due_ran())
    except BaseException:
        traceback.print_exc()
        barrier.abort()  # the other hosts stop waiting for this one
        os._exit(1)
    Path(folder, f"host{number}.json").write_text(json.dumps(ticks))
    connections.close_all()
    os._exit(0)


def all_due_ran() -> bool:
    from django_cronjobs.models import CronEntry

    return not CronEntry.objects.filter(job=DUE_CODE, next_due__lte=DUE_SLOT).exists()


def due_work(args: argparse.Namespace, per_take: int) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connections

    if not postgres() and args.hosts > 1:
        # SQLite takes one writer at a time: hosts side by side fail with "database is locked".
        print("due work: SQLite, so one host instead of", args.hosts, file=sys.stderr)
        args.hosts = 1
    reset_tables()
    write_due(args.due)
    settings.CRONJOBS_ENTRIES_PER_TAKE = per_take
    connections.close_all()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(args.hosts)
    stop = context.Value("i", 0)
    with tempfile.TemporaryDirectory() as folder:
        hosts = [
            context.Process(
                target=due_host,
                args=(number, barrier, stop, folder, args.max_minutes),
            )
            for number in range(args.hosts)
        ]
        started = time.perf_counter()
        for host in hosts:
            host.start()
        for host in hosts:
            host.join()
        wall = time.perf_counter() - started
        assert [host.exitcode for host in hosts] == [0] * args.hosts
        ticks = [json.loads(Path(folder, f"host{n}.json").read_text()) for n in range(args.hosts)]
    return {
        "entries_per_take": per_take,
        "wall_seconds": round(wall, 1),
        **due_figures(args, ticks),
    }


def due_figures(args: argparse.Namespace, ticks: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """What the hosts did, and whether each entry ran exactly once for 09:00."""
    from django.db.models import Count, F, Max, Min

    from django_cronjobs.models import CronJobLog

    runs = CronJobLog.objects.filter(code=DUE_CODE)
    duplicates = runs.values("entry", "slot").annotate(n=Count("id")).filter(n__gt=1).count()
    slots = sorted(set(runs.values_list("slot", flat=True)))
    lateness = runs.aggregate(
        first=Min(F("start_time") - F("slot")), last=Max(F("start_time") - F("slot"))
    )
    by_host = Counter(runs.values_list("pid", flat=True))
    minutes = max(len(host) for host in ticks)
    outcomes: Counter[str] = Counter()
    for host in ticks:
        for tick in host:
            outcomes.update(tick["outcomes"])
    longest = [
        max((host[m]["seconds"] for host in ticks if m < len(host)), default=0)
        for m in range(minutes)
    ]
    ran = runs.filter(slot=DUE_SLOT).values("entry").distinct().count()
    per_minute = [
        sum(
            sum(n for outcome, n in host[m]["outcomes"].items() if outcome == "succeeded")
            for host in ticks
            if m < len(host)
        )
        for m in range(minutes)
    ]
    tick_seconds = sum(longest)
    return {
        "due": args.due,
        "hosts": args.hosts,
        "ran_entries": ran,
        "all_ran": ran == args.due,
        "duplicates": duplicates,
        "other_slots": [str(slot) for slot in slots if slot != DUE_SLOT],
        "minutes_until_all_ran": minutes,
        "tick_seconds_until_all_ran": round(tick_seconds, 1),
        "runs_per_minute": per_minute,
        "runs_per_host": sorted(by_host.values(), reverse=True),
        "runs_per_second_per_host": round(sum(per_minute) / tick_seconds / args.hosts, 1),
        "runs_per_second_all_hosts": round(sum(per_minute) / tick_seconds, 1),
        "longest_tick_seconds": [round(seconds, 1) for seconds in longest],
        "ticks_over_60_s": sum(seconds > 60 for seconds in longest),
        "outcomes": dict(outcomes),
        "start_after_slot_seconds_min": lateness["first"].total_seconds(),
        "start_after_slot_seconds_max": lateness["last"].total_seconds(),
        "started_within_60_s": runs.filter(start_time__gt=DUE_SLOT + timedelta(seconds=60)).count()
        == 0,
    }


# -- main --------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    if args.memory_child:
        memory_child(args)
        return
    setup_django(args.database, jit=not args.no_jit)
    from django.db import connection

    results = []
    for count in args.entries:
        started = time.perf_counter()
        figures: dict[str, Any] = {"entries": count, "database": connection.vendor}
        figures.update(build(args, count))
        figures["build_seconds"] = round(time.perf_counter() - started, 1)
        figures.update(idle_ticks(args.ticks))
        figures["probe_plan"] = explain_idle_probe()
        connection.close()
        if not args.no_memory:
            figures.update(memory(args))
        figures["changes"] = changes(args.changes)
        print(json.dumps(figures), flush=True)
        results.append(figures)
    due = []
    if args.due:
        for per_take in args.entries_per_take:
            figures = due_work(args, per_take)
            print(json.dumps(figures), flush=True)
            due.append(figures)
    print(tables(results, due))


def tables(results: list[dict[str, Any]], due: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if results:
        out.write("\n| entries | written by | schedule_many entries/s | idle ms | idle queries |")
        out.write(" peak RSS MiB | RSS ratio |\n|---:|---|---:|---:|---:|---:|---:|\n")
        base = results[0].get("rss_peak_kib")
        for row in results:
            rss = row.get("rss_peak_kib")
            ratio = f"{rss / base:.3f}x" if rss and base else ""
            mib = f"{rss / 1024:.1f}" if rss else ""
            out.write(
                f"| {row['entries']:,} | {row['written_by']} |"
                f" {row.get('schedule_many_per_second') or ''} | {row['idle_ms_median']} |"
                f" {row['idle_queries']} | {mib} | {ratio} |\n"
            )
        kinds = list(results[0]["changes"])
        out.write("\n| entries | " + " | ".join(f"{kind} ms (statements)" for kind in kinds))
        out.write(" |\n|---:|" + "---:|" * len(kinds) + "\n")
        for row in results:
            cells = [
                f"{row['changes'][kind]['ms_median']} "
                f"({'/'.join(map(str, row['changes'][kind]['statements']))})"
                for kind in kinds
            ]
            out.write(f"| {row['entries']:,} | " + " | ".join(cells) + " |\n")
    if due:
        out.write(
            "\n| due | hosts | entries per take | all ran | duplicates | minutes (ticks) |"
            " tick seconds | runs/s per host | runs per minute | not claimed |"
            " latest start after slot s |\n"
            "|---:|---:|---:|---|---:|---:|---:|---:|---|---:|---:|\n"
        )
        for row in due:
            not_claimed = sum(n for outcome, n in row["outcomes"].items() if outcome != "succeeded")
            out.write(
                f"| {row['due']:,} | {row['hosts']} | {row['entries_per_take']:,} |"
                f" {row['all_ran']} | {row['duplicates']} | {row['minutes_until_all_ran']} |"
                f" {row['tick_seconds_until_all_ran']} | {row['runs_per_second_per_host']} |"
                f" {', '.join(map(str, row['runs_per_minute']))} | {not_claimed} |"
                f" {row['start_after_slot_seconds_max']:.0f} |\n"
            )
    return out.getvalue()


if __name__ == "__main__":
    main()
