"""Server time of the admin's CronJobLog and Cron jobs pages over a large log.

One process: L log rows over 50 jobs (statuses mixed, durations varied),
then each page requested ``--requests`` times through Django's test client
(middleware, view, queries and template rendering: the server's share of a
request). Then the Cron jobs pages and the health endpoint with ``--cron-jobs``
jobs on cron expressions, after runcrons has stored their next due moments as
it does in production. Prints one JSON line per page with the median
milliseconds and the queries. Not a test: see benchmarks/README.md.

    python benchmarks/admin_bench.py --log-rows 1000000 \\
        --database postgres://postgres@127.0.0.1:5432/bench_admin
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from io import StringIO
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tick_bench import database_settings, make_jobs  # noqa: E402

JOBS = 50


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=10, help="requests per page")
    parser.add_argument("--database", default="sqlite:////tmp/django_cronjobs_admin_bench.sqlite3")
    parser.add_argument("--keep", action="store_true", help="reuse the rows of an earlier run")
    parser.add_argument(
        "--cron-jobs", type=int, default=2000, help="jobs on cron expressions (0: none)"
    )
    return parser.parse_args()


def setup_django(args: argparse.Namespace) -> None:
    import django
    from django.conf import settings

    sys.path.insert(0, str(HERE.parent))
    settings.configure(
        SECRET_KEY="benchmark",
        DEBUG=False,
        ALLOWED_HOSTS=["testserver"],
        DATABASES={"default": {**database_settings(args.database), "CONN_MAX_AGE": None}},
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django_cronjobs",
        ],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        ROOT_URLCONF="admin_bench_urls",
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        CRON_CLASSES=[],
        LOGGING_CONFIG=None,
    )
    urls = type(sys)("admin_bench_urls")
    sys.modules["admin_bench_urls"] = urls
    django.setup()
    from django.contrib import admin
    from django.urls import include, path

    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("admin/", admin.site.urls),
        path("cron/", include("django_cronjobs.urls")),
    ]
    settings.CRON_CLASSES = make_jobs("django_cronjobs", JOBS)


def fill_log(rows: int) -> None:
    """``rows`` runs of the benchmark's jobs, one a minute back from now."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_cronjobs_cronjoblog")
        statuses = "(ARRAY['succeeded','succeeded','succeeded','failed','missed'])"
        if connection.vendor == "postgresql":
            cursor.execute(
                "INSERT INTO django_cronjobs_cronjoblog (code, start_time, end_time, is_success,"
                " message, status, slot, hostname, host_id) "
                f"SELECT 'bench.job' || (n % {JOBS}), now() - n * interval '1 minute', "
                "now() - n * interval '1 minute' + (n % 997) * interval '10 milliseconds', "
                "n % 5 < 3, 'done', "
                f"{statuses}[n % 5 + 1], now() - n * interval '1 minute', 'host-' || n % 3, '' "
                f"FROM generate_series(1, {rows}) AS n"
            )
            cursor.execute("VACUUM ANALYZE django_cronjobs_cronjoblog")
        else:
            cursor.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                f"WHERE i < {rows}) "
                "INSERT INTO django_cronjobs_cronjoblog (code, start_time, end_time, is_success,"
                " message, status, slot, hostname, host_id) "
                f"SELECT 'bench.job' || (i % {JOBS}), datetime('now', '-' || i || ' minutes'), "
                "datetime('now', '-' || i || ' minutes', '+' || (i % 997) / 100.0 || ' seconds'), "
                "i % 5 < 3, 'done', "
                "CASE i % 5 WHEN 3 THEN 'failed' WHEN 4 THEN 'missed' ELSE 'succeeded' END, "
                "datetime('now', '-' || i || ' minutes'), 'host-' || i % 3, '' FROM n"
            )
            cursor.execute("ANALYZE")


# Cron expressions (with a minute and an hour filled in) and zones, taken in turn.
CRON_KINDS = (
    ("{minute} {hour} * * *", "UTC"),  # daily
    ("{minute} {hour} * * 1-5", "Europe/Berlin"),  # on working days
    ("{minute} {hour} 1 * *", "America/New_York"),  # monthly
    ("{minute}/15 * * * *", "UTC"),  # every quarter of an hour
)


def make_cron_jobs(count: int) -> list[str]:
    """A module ``bench_cron_jobs`` with ``count`` jobs on cron expressions (CRON_KINDS)."""
    import types

    from django_cronjobs import CronJobBase, Schedule

    module = types.ModuleType("bench_cron_jobs")
    for number in range(count):
        expression, zone = CRON_KINDS[number % len(CRON_KINDS)]
        cron = expression.format(minute=number % 15, hour=number // 15 % 24)
        module.__dict__[f"Job{number}"] = type(
            f"Job{number}",
            (CronJobBase,),
            {
                "__module__": "bench_cron_jobs",
                "code": f"bench.cron{number}",
                "schedule": Schedule(cron=cron, timezone=zone),
                "do": lambda self: None,
            },
        )
    sys.modules["bench_cron_jobs"] = module
    return [f"bench_cron_jobs.Job{number}" for number in range(count)]


LOG = "cronjoblog/"
PAGES = {
    "changelist": LOG,
    "changelist, one job": LOG + "?code=bench.job7",
    "changelist, failed": LOG + "?status__exact=failed",
    "changelist, last 7 days": LOG + "?start_time__gte={week_ago}&start_time__lt={tomorrow}",
    "changelist, search": LOG + "?q=job1",
    "changelist, by duration": LOG + "?o=4",
    "changelist, one job by duration": LOG + "?code=bench.job7&o=-4",
    "changelist, page 50": LOG + "?p=50",
    "detail": LOG + "{pk}/change/",
    "cron jobs overview": "cronjob/",
    "a job's page": "cronjob/job/bench.job7/",
}
# With --cron-jobs, after the pages above.
CRON_PAGES = {
    "cron jobs overview, cron jobs": "/admin/django_cronjobs/cronjob/",
    "a job's page, cron jobs": "/admin/django_cronjobs/cronjob/job/bench.cron7/",
    "health endpoint, cron jobs": "/cron/health/",
}


def measure(client: Any, name: str, url: str, requests: int, **figures: Any) -> None:
    """Print the median server time of ``requests`` requests for ``url``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ok = (200, 503) if url.startswith("/cron/") else (200,)  # 503: a job is unhealthy
    assert client.get(url).status_code in ok, url  # warm: templates, caches
    durations = []
    for _ in range(requests):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code in ok
    print(
        json.dumps(
            {
                "page": name,
                "database": connection.vendor,
                **figures,
                "ms_median": round(statistics.median(durations), 1),
                "queries": len(queries),
            }
        ),
        flush=True,
    )


def main() -> None:
    args = parse_args()
    setup_django(args)
    from datetime import timedelta
    from urllib.parse import quote

    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from django_cronjobs.models import CronJobLog
    from django_cronjobs.store.job_states import ensure_states

    if not args.keep or not CronJobLog.objects.exists():
        fill_log(args.log_rows)
    user = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", "bench@example.com", "bench"
    )
    client = Client()
    client.force_login(user)
    base = "/admin/django_cronjobs/"
    ensure_states([f"bench.job{n}" for n in range(JOBS)])  # as runcrons would have
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    values = {
        # What the date filter's "Past 7 days" link asks for.
        "week_ago": quote(str(today - timedelta(days=7))),
        "tomorrow": quote(str(today + timedelta(days=1))),
        "pk": CronJobLog.objects.order_by("-start_time").values_list("pk", flat=True).first(),
    }
    log_rows = CronJobLog.objects.count()
    for name, query in PAGES.items():
        measure(client, name, base + query.format(**values), args.requests, log_rows=log_rows)
    if args.cron_jobs:
        settings.CRON_CLASSES = make_cron_jobs(args.cron_jobs)
        # As two ticks of runcrons leave them: the first creates the state rows
        # (and runs the few jobs due now), the second stores their next due moments.
        for _ in range(2):
            call_command("runcrons", stdout=StringIO())
        for name, url in CRON_PAGES.items():
            measure(client, name, url, args.requests, jobs=args.cron_jobs)


if __name__ == "__main__":
    main()
