"""A whole ``manage.py runcrons`` process with nothing due, against the floor.

The floor is a process that only runs ``django.setup()`` and one query with
the same settings: what any management command costs at the least. Both are
started ``--runs`` times, alternately; the script prints the median wall and
CPU (user + system) time of each and their ratios as one JSON line. CPU time
varies less from run to run on a shared machine.

    python benchmarks/process_bench.py --jobs 10 \\
        --database postgres://postgres@127.0.0.1:5432/bench_ours

With ``--framework django-cron`` (under django-cron's throwaway environment,
see compare.py) it measures django-cron 0.6.0's runcrons the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tick_bench import database_settings  # noqa: E402

FLOOR = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=["ours", "django-cron"], default="ours")
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--runs", type=int, default=20, help="processes of each kind")
    parser.add_argument("--database", default="sqlite:////tmp/django_cronjobs_bench.sqlite3")
    return parser.parse_args()


def write_project(directory: Path, args: argparse.Namespace) -> None:
    """A minimal project: settings, a module of daily no-op jobs, manage.py."""
    package = "django_cron" if args.framework == "django-cron" else "django_cronjobs"
    classes = [f"bench_process_jobs.Job{number}" for number in range(args.jobs)]
    (directory / "bench_process_settings.py").write_text(
        textwrap.dedent(
            f"""
            SECRET_KEY = "benchmark"
            DATABASES = {{"default": {database_settings(args.database)!r}}}
            INSTALLED_APPS = [
                "django.contrib.contenttypes", "django.contrib.auth", {package!r}
            ]
            USE_TZ = True
            TIME_ZONE = "UTC"
            DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
            CRON_CLASSES = {classes!r}
            """
        )
    )
    jobs = [f"from {package} import CronJobBase, Schedule\n"]
    for number in range(args.jobs):
        jobs.append(
            f"class Job{number}(CronJobBase):\n"
            f"    code = 'bench.process{number}'\n"
            f"    schedule = Schedule(run_every_mins=24 * 60)\n"
            f"    def do(self):\n"
            f"        pass\n"
        )
    (directory / "bench_process_jobs.py").write_text("\n".join(jobs))
    (directory / "manage.py").write_text(
        "import sys\n"
        "from django.core.management import execute_from_command_line\n"
        "execute_from_command_line(sys.argv)\n"
    )
    (directory / "floor.py").write_text(FLOOR)


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        write_project(directory, args)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench_process_settings",
            "PYTHONPATH": os.pathsep.join([str(directory), str(HERE.parent)]),
        }
        # Modules load from bytecode, as they do once pip installed them: the
        # setup runs below write it for this project and the generated jobs.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        python = sys.executable
        manage = [python, "manage.py"]
        app = "django_cron" if args.framework == "django-cron" else "django_cronjobs"
        for migrate in (["migrate"], ["migrate", app, "zero"], ["migrate"]):  # fresh tables
            subprocess.run([*manage, *migrate, "-v0"], env=env, cwd=directory, check=True)
        # Every job runs once, then one tick finds nothing due (ours stores
        # when each job is next due): what follows is a steady idle minute.
        for _ in range(2):
            subprocess.run(
                [*manage, "runcrons"], env=env, cwd=directory, check=True, stdout=subprocess.DEVNULL
            )
        runcrons, floor = [], []
        for _ in range(args.runs):
            runcrons.append(timed([*manage, "runcrons"], env, directory))
            floor.append(timed([python, "floor.py"], env, directory))
    wall = [statistics.median(times) for times in zip(*runcrons, strict=True)]
    floor_wall = [statistics.median(times) for times in zip(*floor, strict=True)]
    result = {
        "framework": args.framework,
        "jobs": args.jobs,
        "runcrons_ms_median": round(wall[0], 1),
        "floor_ms_median": round(floor_wall[0], 1),
        "ratio": round(wall[0] / floor_wall[0], 3),
        "runcrons_cpu_ms_median": round(wall[1], 1),
        "floor_cpu_ms_median": round(floor_wall[1], 1),
        "cpu_ratio": round(wall[1] / floor_wall[1], 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
