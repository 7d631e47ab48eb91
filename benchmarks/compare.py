"""Idle and busy ticks of this project and of django-cron 0.6.0, side by side.

    python benchmarks/compare.py --database postgres://postgres@127.0.0.1:5432 \\
        --jobs 10 100 1000 --log-rows 0 1000000 --django-cron

Each measurement runs in a process of its own (``tick_bench.py``); with
``--django-cron`` the same measurement runs under django-cron 0.6.0 and
Django 4.2 in a throwaway virtual environment that this script creates (from
PyPI, outside the repository). Prints a table and the ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DJANGO_CRON_REQUIREMENTS = [
    "Django>=4.2,<5",
    "django-cron==0.6.0",
    "psycopg[binary]>=3.1",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database",
        default="sqlite:////tmp",
        help="postgres://user@host:port (databases bench_ours and bench_django_cron are "
        "created there) or sqlite:////directory",
    )
    parser.add_argument("--jobs", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--log-rows", type=int, nargs="+", default=[0])
    parser.add_argument("--ticks", type=int, default=20, help="idle ticks per measurement")
    parser.add_argument("--busy-ticks", type=int, default=5, help="busy ticks per measurement")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure each combination this many times, the frameworks taking turns; "
        "the table shows the medians",
    )
    parser.add_argument("--django-cron", action="store_true", help="also measure django-cron")
    parser.add_argument(
        "--process",
        type=int,
        metavar="JOBS",
        help="also time whole runcrons processes with JOBS jobs against the django.setup() floor",
    )
    parser.add_argument("--process-runs", type=int, default=20)
    parser.add_argument("--skip-ticks", action="store_true", help="only the process measurement")
    parser.add_argument("--venv", default="/tmp/django-cron-0.6.0-venv")
    return parser.parse_args()


def django_cron_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *DJANGO_CRON_REQUIREMENTS], check=True
        )
    return python


def database_url(base: str, framework: str, prefix: str = "bench") -> str:
    name = f"{prefix}_django_cron" if framework == "django-cron" else f"{prefix}_ours"
    if base.startswith("sqlite:///"):
        return f"{base.rstrip('/')}/{name}.sqlite3"
    server = base.rstrip("/")
    user_host = server.split("://", 1)[1]
    user, _, host_port = user_host.rpartition("@")
    host, _, port = host_port.partition(":")
    for statement in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        # A fresh database for every measurement.
        psql = ["psql", "-q", "-h", host, "-p", port or "5432", "-U", user, "-d", "postgres"]
        subprocess.run(
            [*psql, "-c", statement],
            capture_output=True,
            check=True,
        )
    return f"{server}/{name}"


def measure(
    python: Path, framework: str, url: str, jobs: int, rows: int, ticks: int, busy_ticks: int
) -> dict:
    output = subprocess.run(
        [
            str(python),
            str(HERE / "tick_bench.py"),
            "--framework",
            framework,
            "--database",
            url,
            "--jobs",
            str(jobs),
            "--log-rows",
            str(rows),
            "--ticks",
            str(ticks),
            "--busy-ticks",
            str(busy_ticks),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure_processes(frameworks: dict[str, Path], args: argparse.Namespace) -> None:
    print(
        f"{'framework':<12} {'jobs':>6} {'runcrons ms':>12} {'floor ms':>9} {'ratio':>6} "
        f"{'runcrons cpu':>13} {'floor cpu':>10} {'cpu ratio':>10}"
    )
    for framework, python in frameworks.items():
        url = database_url(args.database, framework, prefix="bench_process")
        output = subprocess.run(
            [
                str(python),
                str(HERE / "process_bench.py"),
                "--framework",
                framework,
                "--database",
                url,
                "--jobs",
                str(args.process),
                "--runs",
                str(args.process_runs),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(output.strip().splitlines()[-1])
        print(
            f"{framework:<12} {result['jobs']:>6} {result['runcrons_ms_median']:>12} "
            f"{result['floor_ms_median']:>9} {result['ratio']:>5}x "
            f"{result['runcrons_cpu_ms_median']:>13} {result['floor_cpu_ms_median']:>10} "
            f"{result['cpu_ratio']:>9}x",
            flush=True,
        )


def main() -> None:
    args = parse_args()
    frameworks = {"ours": Path(sys.executable)}
    if args.django_cron:
        frameworks["django-cron"] = django_cron_python(Path(args.venv))
    if not args.skip_ticks:
        measure_ticks(frameworks, args)
    if args.process:
        measure_processes(frameworks, args)


def measure_ticks(frameworks: dict[str, Path], args: argparse.Namespace) -> None:
    header = (
        f"{'framework':<12} {'db':<10} {'jobs':>6} {'log rows':>10} {'idle ms':>9} "
        f"{'idle q':>7} {'busy ms/run':>12} {'busy q/run':>11}"
    )
    print(header)
    print("-" * len(header))
    for rows in args.log_rows:
        for jobs in args.jobs:
            runs: dict[str, list[dict]] = {framework: [] for framework in frameworks}
            for _ in range(args.repeat):
                for framework, python in frameworks.items():
                    # django-cron's idle tick takes seconds at 1,000 jobs: fewer ticks.
                    ticks = args.ticks if framework == "ours" or jobs < 1000 else 3
                    url = database_url(args.database, framework)
                    runs[framework].append(
                        measure(python, framework, url, jobs, rows, ticks, args.busy_ticks)
                    )
            found = {framework: medians(results) for framework, results in runs.items()}
            for framework, result in found.items():
                print(
                    f"{framework:<12} {result['database']:<10} {jobs:>6} {rows:>10} "
                    f"{result['idle_ms_median']:>9} {result['idle_queries']:>7} "
                    f"{result['busy_ms_per_run']:>12} {result['busy_queries_per_run']:>11}",
                    flush=True,
                )
            if len(found) == 2:
                ours, theirs = found["ours"], found["django-cron"]
                print(
                    f"{'ratio':<12} {'':<10} {jobs:>6} {rows:>10} "
                    f"{theirs['idle_ms_median'] / max(ours['idle_ms_median'], 0.001):>8.1f}x "
                    f"{'':>7} "
                    f"{theirs['busy_ms_per_run'] / max(ours['busy_ms_per_run'], 0.001):>11.1f}x",
                    flush=True,
                )


def medians(results: list[dict]) -> dict:
    """The median of each timing over repeated measurements (counts are the same in each)."""
    merged = dict(results[0])
    for key in ("idle_ms_median", "busy_ms_median", "busy_ms_first", "busy_ms_per_run"):
        merged[key] = round(statistics.median(result[key] for result in results), 3)
    return merged


if __name__ == "__main__":
    main()
