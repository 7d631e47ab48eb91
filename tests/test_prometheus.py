"""Prometheus metrics: kept in the database, served by the view, pushed to a Pushgateway.

The exposition is read back with prometheus_client's own parser.
"""

from __future__ import annotations

import http.server
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_cronjobs import CronJobBase, Schedule
from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronEntry, CronJobState, MetricTally
from django_cronjobs.store import claims
from tests.conftest import http_server, run_crons, without_module
from tests.jobs import DigestJob
from tests.test_recovery import crashed_run, dead_pid

prometheus_client = pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 6, tzinfo=UTC)
TOKEN = "metrics-token"
HERE = "tests.test_prometheus.Timed"


class Timed(CronJobBase):
    """Takes ``takes`` of simulated time; fails when ``fail``."""

    code = "tests.timed"
    schedule = Schedule(run_every_mins=60)
    takes = timedelta(seconds=42)
    fail = False
    clock = None

    def do(self) -> str:
        Timed.clock.traveller.shift(Timed.takes)
        if Timed.fail:
            raise RuntimeError("the disk is full")
        return "done"


@pytest.fixture(autouse=True)
def _metrics_on(settings, clock, monkeypatch):
    settings.CRONJOBS_PROMETHEUS = True
    settings.CRONJOBS_HEALTH_TOKEN = TOKEN
    settings.CRON_CLASSES = [HERE]
    monkeypatch.setattr(Timed, "clock", clock)
    monkeypatch.setattr(Timed, "fail", False)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client, **extra: str) -> Samples:
    response = client.get("/cron/metrics/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **extra)
    assert response.status_code == 200, response.content
    return parse(response.content.decode())


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_runs_durations_lag_missed_slots_last_success_and_ticks(client, clock):
    clock.at(T0 + timedelta(seconds=5))
    run_crons()  # slot 00:00, 5 s late, takes 42 s
    Timed.fail = True
    clock.at(T0 + timedelta(hours=3, seconds=20))
    run_crons()  # 01:00 and 02:00 missed; slot 03:00, 20 s late, fails after 42 s
    samples = scrape(client)
    job = {"cronjob": "tests.timed"}
    assert sample(samples, "cronjobs_runs_total", status="succeeded", **job) == 1
    assert sample(samples, "cronjobs_runs_total", status="failed", **job) == 1
    assert sample(samples, "cronjobs_run_duration_seconds_count", **job) == 2
    assert sample(samples, "cronjobs_run_duration_seconds_sum", **job) == 84
    assert sample(samples, "cronjobs_run_duration_seconds_bucket", le="30.0", **job) == 0
    assert sample(samples, "cronjobs_run_duration_seconds_bucket", le="60.0", **job) == 2
    assert sample(samples, "cronjobs_run_duration_seconds_bucket", le="+Inf", **job) == 2
    assert sample(samples, "cronjobs_run_lag_seconds_bucket", le="5.0", **job) == 1
    assert sample(samples, "cronjobs_run_lag_seconds_bucket", le="30.0", **job) == 2
    assert sample(samples, "cronjobs_run_lag_seconds_sum", **job) == 25
    assert sample(samples, "cronjobs_missed_slots_total", **job) == 2
    ended = T0 + timedelta(seconds=47)
    assert sample(samples, "cronjobs_last_success_timestamp_seconds", **job) == ended.timestamp()
    assert sample(samples, "cronjobs_tick_duration_seconds_count") == 2
    assert sample(samples, "cronjobs_tick_duration_seconds_sum") > 0


def test_a_run_adds_to_its_totals_in_one_statement(settings):
    with CaptureQueriesContext(connection) as queries:
        Runner(silent=True).run()
    tallied = [query["sql"] for query in queries if MetricTally._meta.db_table in query["sql"]]
    assert len(tallied) == 2  # the run's, the tick's
    assert all(sql.startswith("INSERT") for sql in tallied)


def test_metrics_are_off_by_default_and_nothing_is_written(client, settings):
    settings.CRONJOBS_PROMETHEUS = False
    with CaptureQueriesContext(connection) as queries:
        Runner(silent=True).run()
    assert not any(MetricTally._meta.db_table in query["sql"] for query in queries)
    response = client.get("/cron/metrics/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 404
    assert b"CRONJOBS_PROMETHEUS = True" in response.content


def test_the_view_follows_the_health_endpoints_rules(client):
    assert client.get("/cron/metrics/").status_code == 403
    assert client.get("/cron/metrics/", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get(f"/cron/metrics/?token={TOKEN}").status_code == 200
    staff = User.objects.create_user("op", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get("/cron/metrics/").status_code == 403  # no view permission
    client.force_login(User.objects.create_superuser("root", password="pw"))
    assert client.get("/cron/metrics/").status_code == 200


def test_a_scraper_that_asks_for_openmetrics_gets_it(client):
    run_crons()
    response = client.get(
        "/cron/metrics/",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
        HTTP_ACCEPT="application/openmetrics-text; version=1.0.0",
    )
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.decode().rstrip().endswith("# EOF")


def test_an_abandoned_run_counts_without_a_duration(client, settings):
    settings.CRON_CLASSES = ["tests.jobs.EveryMinuteJob"]
    crashed_run(claims.hostname(), dead_pid(), T0 + timedelta(minutes=2))
    run_crons()
    samples = scrape(client)
    job = {"cronjob": "tests.every_minute"}
    assert sample(samples, "cronjobs_runs_total", status="abandoned", **job) == 1
    assert sample(samples, "cronjobs_runs_total", status="succeeded", **job) == 1
    assert sample(samples, "cronjobs_run_duration_seconds_count", **job) == 1


def test_an_entrys_runs_count_for_its_job(client, settings, clock):
    settings.CRON_CLASSES = ["tests.jobs.DigestJob"]
    for customer in (7, 8):
        CronEntry.objects.schedule(
            DigestJob,
            key=f"customer {customer}",
            kwargs={"customer_id": customer},
            schedule=Schedule(run_every_mins=1),
        )
    clock.at(T0 + timedelta(minutes=1, seconds=5))
    run_crons()
    samples = scrape(client)
    assert sample(samples, "cronjobs_runs_total", cronjob="tests.digest", status="succeeded") == 2
    assert not any("customer" in str(labels) for _, labels in samples)


def test_a_success_from_before_metrics_were_kept_still_shows(client):
    started = T0 - timedelta(days=3)
    CronJobState.objects.create(
        job_name="tests.timed",
        last_succeeded_at=started,
        last_status="succeeded",
        last_finished_at=started + timedelta(minutes=2),
    )
    CronJobState.objects.create(
        job_name="tests.every_minute", last_succeeded_at=started, last_status="failed"
    )
    samples = scrape(client)
    last = "cronjobs_last_success_timestamp_seconds"
    # The end of the last run when it succeeded; else the start of the last success.
    ended = started + timedelta(minutes=2)
    assert sample(samples, last, cronjob="tests.timed") == ended.timestamp()
    assert sample(samples, last, cronjob="tests.every_minute") == started.timestamp()


def test_a_dry_run_is_not_a_tick(client):
    run_crons(dry_run=True)
    assert sample(scrape(client), "cronjobs_tick_duration_seconds_count") is None


def test_a_database_error_while_counting_is_logged_and_the_run_stands(monkeypatch, caplog):
    from django.db import DatabaseError

    from django_cronjobs.integrations.prometheus import tallies

    def broken(*args: object) -> None:
        raise DatabaseError("the tallies table is gone")

    monkeypatch.setattr(tallies, "record", broken)
    report = Runner(silent=True).run()
    assert [result.outcome for result in report.results] == ["succeeded"]
    assert "could not count a run of tests.timed: the tallies table is gone" in caplog.text


@dataclass
class Gateway:
    """A Pushgateway stand-in: what it was sent, as (method, path, body)."""

    url: str = ""
    received: list[tuple[str, str, str]] = field(default_factory=list)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    state = Gateway()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            state.received.append((self.command, self.path, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with http_server(Handler) as state.url:
        yield state


def test_each_tick_pushes_the_totals_to_the_pushgateway(gateway, settings, clock):
    settings.CRONJOBS_PROMETHEUS = False  # the Pushgateway alone turns metrics on
    settings.CRONJOBS_PROMETHEUS_PUSHGATEWAY = gateway.url
    settings.CRONJOBS_PROMETHEUS_PUSH_JOB = "billing"
    run_crons()
    clock.at(T0 + timedelta(hours=1, seconds=3))
    run_crons()
    assert [(method, path) for method, path, _ in gateway.received] == [
        ("PUT", "/metrics/job/billing")
    ] * 2
    pushed = parse(gateway.received[-1][2])
    assert sample(pushed, "cronjobs_runs_total", cronjob="tests.timed", status="succeeded") == 2
    assert sample(pushed, "cronjobs_tick_duration_seconds_count") == 2


def test_a_pushgateway_that_is_down_does_not_fail_the_tick(settings, caplog):
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    closed = f"http://127.0.0.1:{server.server_address[1]}"
    server.server_close()
    settings.CRONJOBS_PROMETHEUS_PUSHGATEWAY = closed
    report = Runner(silent=True).run()
    assert [result.outcome for result in report.results] == ["succeeded"]
    assert f"push to {closed} failed" in caplog.text


def test_the_collector_serves_from_any_registry_without_querying_when_registered(
    django_assert_num_queries,
):
    from prometheus_client import CollectorRegistry, generate_latest

    from django_cronjobs.integrations.prometheus.collector import CronJobsCollector

    run_crons()
    registry = CollectorRegistry()
    with django_assert_num_queries(0):
        registry.register(CronJobsCollector())
    with django_assert_num_queries(2):
        text = generate_latest(registry).decode()
    assert 'cronjobs_runs_total{cronjob="tests.timed",status="succeeded"} 1.0' in text


def test_metrics_without_prometheus_client_are_a_warning(monkeypatch, settings):
    from django.core import checks

    without_module(monkeypatch, "prometheus_client")
    found = [m for m in checks.run_checks() if m.id == "django_cronjobs.W005"]
    assert len(found) == 1
    assert found[0].level == checks.WARNING
    settings.CRONJOBS_PROMETHEUS = False
    assert not [m for m in checks.run_checks() if m.id == "django_cronjobs.W005"]


def test_a_bad_push_timeout_is_w006_and_nothing_is_pushed(gateway, settings, caplog):
    from django.core import checks

    settings.CRONJOBS_PROMETHEUS_PUSHGATEWAY = gateway.url
    settings.CRONJOBS_PROMETHEUS_PUSH_TIMEOUT = None
    found = [m for m in checks.run_checks() if m.id == "django_cronjobs.W006"]
    assert [m.msg for m in found] == [
        "CRONJOBS_PROMETHEUS_PUSH_TIMEOUT must be a finite number of seconds > 0, not None."
    ]
    report = Runner(silent=True).run()
    assert [result.outcome for result in report.results] == ["succeeded"]
    assert gateway.received == []
    assert "nothing pushed" in caplog.text


def test_hosts_take_turns_to_push_so_an_older_read_never_lands_last(gateway, settings, clock):
    settings.CRONJOBS_PROMETHEUS_PUSHGATEWAY = gateway.url
    settings.CRON_CLASSES = ["tests.jobs.EveryMinuteJob"]
    for seconds in (1, 2, 3):  # three hosts ticking in the same minute
        clock.at(T0 + timedelta(seconds=seconds))
        Runner(silent=True).run()
    assert len(gateway.received) == 1
    clock.at(T0 + timedelta(seconds=31))  # the next turn
    Runner(silent=True).run()
    assert len(gateway.received) == 2
    pushed = parse(gateway.received[-1][2])
    assert sample(pushed, "cronjobs_tick_duration_seconds_count") == 4
