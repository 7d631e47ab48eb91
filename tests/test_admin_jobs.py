"""The admin's Cron jobs pages: overview, job page, pause, resume and run-now."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_cronjobs import CronJobBase, Schedule
from django_cronjobs.admin import jobs as jobs_admin
from django_cronjobs.models import CronJobLog, CronJobState, RunStatus
from django_cronjobs.monitoring.run_history import RunStats, recent_runs
from tests import many_cron_jobs
from tests.conftest import run_crons
from tests.many_cron_jobs import schedules_evaluated
from tests.test_admin import log

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 6, tzinfo=UTC)
OVERVIEW = reverse("admin:django_cronjobs_cronjob_changelist")


class ScriptJob(CronJobBase):
    """A job whose code would run as a script if a page did not escape it."""

    code = "<script>alert('code')</script>"
    schedule = Schedule(run_every_mins=60)

    def do(self) -> str:
        return "<script>alert('message')</script>"


def job_url(code: str, action: str = "job") -> str:
    return reverse(f"admin:django_cronjobs_cronjob_{action}", args=[code])


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


def staff_client(*codenames: str) -> Client:
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def row_of(page: str, code: str) -> str:
    match = re.search(
        rf'<tr class="cronjobs-job" data-code="{re.escape(code)}">(.*?)</tr>', page, re.S
    )
    assert match, f"no row for {code}"
    return match.group(1)


def test_the_overview_lists_every_configured_job_with_schedule_and_next_runs(admin_client, clock):
    clock.at(T0 + timedelta(seconds=5))
    run_crons()
    page = admin_client.get(OVERVIEW).content.decode()
    daily = row_of(page, "tests.daily")
    assert "every day at 02:30 and 14:00 UTC" in daily
    assert "never run" in daily
    assert re.findall(r"<li>([^<]*)</li>", daily) == [
        "2025-01-06 02:30 UTC",  # the zone once, for the runs below too
        "2025-01-06 14:00",
        "2025-01-07 02:30",
        "2025-01-07 14:00",
        "2025-01-08 02:30",
    ]
    every_minute = row_of(page, "tests.every_minute")
    assert "cronjobs-status-succeeded" in every_minute
    assert 'href="/admin/django_cronjobs/cronjoblog/?code=tests.every_minute"' in every_minute
    assert 'href="/admin/django_cronjobs/cronjob/job/tests.every_minute/"' in every_minute


def test_the_overview_sums_up_recent_runs(admin_client, clock):
    clock.at(T0 + timedelta(hours=1))
    for minute, (status, seconds) in enumerate(
        [(RunStatus.SUCCEEDED, 1), (RunStatus.FAILED, 3), (RunStatus.SUCCEEDED, 2)]
    ):
        log(status=status, seconds=seconds, minute=minute)
    log(status=RunStatus.MISSED, seconds=0, minute=3)  # neither success nor failure
    CronJobState.objects.create(
        job_name="tests.every_minute",
        last_status=RunStatus.SUCCEEDED,
        last_started_at=T0 + timedelta(minutes=2),
        last_succeeded_at=T0 + timedelta(minutes=2),
        last_slot=T0 + timedelta(minutes=59),
    )
    row = row_of(admin_client.get(OVERVIEW).content.decode(), "tests.every_minute")
    assert ">67%<" in row
    assert "2.000 s" in row  # the average of 1, 3 and 2 s
    assert row.count('class="cronjobs-mark cronjobs-status-') == 4
    assert row.count("cronjobs-mark-empty") == 26
    assert "<polyline" in row
    assert "overdue" not in row


def test_the_overview_flags_overdue_paused_and_requested_jobs(admin_client, clock):
    clock.at(T0 + timedelta(seconds=5))
    run_crons()
    clock.at(T0 + timedelta(minutes=30))  # runcrons stopped running
    CronJobState.objects.filter(job_name="tests.every_five_minutes").update(
        paused=True, run_requested_at=T0
    )
    page = admin_client.get(OVERVIEW).content.decode()
    assert "cronjobs-flag-overdue" in row_of(page, "tests.every_minute")
    paused = row_of(page, "tests.every_five_minutes")
    assert "cronjobs-flag-paused" in paused
    assert "cronjobs-flag-requested" in paused
    assert "cronjobs-flag-overdue" not in paused


def test_the_overview_queries_do_not_grow_with_the_log(admin_client, clock):
    log()
    admin_client.get(OVERVIEW)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(OVERVIEW)
    CronJobLog.objects.bulk_create(
        CronJobLog(
            code=code,
            start_time=T0 + timedelta(minutes=minute),
            end_time=T0 + timedelta(minutes=minute, seconds=1),
            status=RunStatus.SUCCEEDED,
        )
        for minute in range(100)
        for code in ("tests.every_minute", "tests.daily")
    )
    with CaptureQueriesContext(connection) as many:
        admin_client.get(OVERVIEW)
    assert len(many) == len(few)
    # Session and user, the jobs' states, then their runs: in one query where
    # the database allows LIMIT inside UNION ALL, else one per job.
    per_job = not connection.features.supports_slicing_ordering_in_compound
    assert len(many) == 3 + (3 if per_job else 1), [q["sql"] for q in many.captured_queries]


def test_recent_runs_are_newest_first_and_bounded(clock):
    for minute in range(5):
        log(minute=minute, seconds=minute)
        log(code="tests.daily", minute=minute)
    runs = recent_runs(["tests.every_minute", "tests.daily", "tests.none"], limit=3)
    assert [run.start_time.minute for run in runs["tests.every_minute"]] == [4, 3, 2]
    assert len(runs["tests.daily"]) == 3
    assert runs["tests.none"] == []
    assert RunStats(runs["tests.every_minute"]).average_seconds == 3.0
    assert RunStats([]).success_rate is None


def test_the_job_page_shows_history_chart_and_log_links(admin_client, clock):
    clock.at(T0 + timedelta(hours=1))
    for minute in range(12):
        log(minute=minute, seconds=minute, status=RunStatus.FAILED if minute == 5 else "succeeded")
    page = admin_client.get(job_url("tests.every_minute")).content.decode()
    assert "every minute" in page
    assert "tests.jobs.EveryMinuteJob" in page
    assert page.count('class="cronjobs-bar cronjobs-status-') == 12
    assert page.count("cronjobs-bar cronjobs-status-failed") == 1
    assert "?code=tests.every_minute&amp;status__exact=failed" in page
    runs = CronJobLog.objects.filter(code="tests.every_minute").order_by("-start_time")
    assert reverse("admin:django_cronjobs_cronjoblog_change", args=[runs[0].pk]) in page
    assert (
        len(re.findall(r'<ul class="cronjobs-next">(.*?)</ul>', page, re.S)[0].split("<li>")) == 6
    )


def chart_geometry(page: str) -> tuple[list[tuple[float, float]], list[tuple[float, str]], float]:
    """The bars' (left, right) edges, the time labels' (x, anchor), the plot's right end."""
    chart = re.search(r'<svg class="cronjobs-chart".*?</svg>', page, re.S)
    assert chart, "no chart"
    svg = chart.group(0)
    bars = [
        (float(x), float(x) + float(w))
        for x, w in re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    ]
    times = [
        (float(x), anchor or "start")
        for x, anchor in re.findall(
            r'<text x="([\d.]+)" y="220"(?: text-anchor="(\w+)")? font-size="11">\d{4}-', svg
        )
    ]
    axis_end = float(re.search(r'<line x1="64" y1="[\d.]+" x2="([\d.]+)"', svg).group(1))
    return bars, times, axis_end


@pytest.mark.parametrize("count", [2, 3, 12, 200])
def test_the_duration_chart_spans_the_runs_it_draws(admin_client, clock, count):
    clock.at(T0 + timedelta(days=1))
    for minute in range(count):
        log(minute=minute, seconds=1 + minute % 5)
    bars, times, axis_end = chart_geometry(
        admin_client.get(job_url("tests.every_minute")).content.decode()
    )
    assert len(bars) == count
    gap = bars[0][0] - 64
    # The bars fill the axis evenly, from its start to its end.
    assert 0 <= gap <= 760 / count
    assert axis_end - bars[-1][1] == pytest.approx(gap, abs=0.2)
    # The first time is written from under the first bar, the last ends under the last.
    assert times == [
        (pytest.approx(bars[0][0], abs=0.2), "start"),
        (pytest.approx(bars[-1][1], abs=0.2), "end"),
    ]


def test_a_chart_of_one_run_has_one_time_under_it(admin_client, clock):
    clock.at(T0 + timedelta(days=1))
    log(seconds=3)
    bars, times, _ = chart_geometry(
        admin_client.get(job_url("tests.every_minute")).content.decode()
    )
    assert len(bars) == 1
    assert times == [(pytest.approx((bars[0][0] + bars[0][1]) / 2, abs=0.2), "middle")]


def test_a_job_without_runs_has_no_chart_and_no_count_of_none(admin_client, clock):
    clock.at(T0 + timedelta(days=1))
    log(minute=1, status=RunStatus.MISSED, seconds=0)
    page = admin_client.get(job_url("tests.every_minute")).content.decode()
    assert '<svg class="cronjobs-chart"' not in page
    assert "Duration of the last" not in page


def test_missed_slots_are_not_bars_of_the_duration_chart(admin_client, clock):
    clock.at(T0 + timedelta(days=1))
    log(minute=0, seconds=2)
    log(minute=1, status=RunStatus.MISSED, seconds=0)
    log(minute=2, status=RunStatus.MISSED, seconds=0)
    log(minute=3, seconds=4)
    page = admin_client.get(job_url("tests.every_minute")).content.decode()
    bars, _, _ = chart_geometry(page)
    assert len(bars) == 2
    assert "cronjobs-bar cronjobs-status-missed" not in page
    assert "Duration of the last 2 runs" in page
    # The strip still shows the missed slots, as missed slots, not as runs of 0 s.
    assert page.count('title="missed slot 2025-01-06 00:0') == 2
    assert "missed at" not in page


def test_unknown_jobs_get_404(admin_client):
    assert admin_client.get(job_url("tests.nope")).status_code == 404
    assert admin_client.post(job_url("tests.nope", "pause")).status_code == 404


def test_pause_resume_and_run_now_set_flags_and_are_recorded(admin_client, clock):
    code = "tests.daily"
    response = admin_client.post(job_url(code, "pause"))
    assert response.status_code == 302
    assert response["Location"] == job_url(code)
    state = CronJobState.objects.get(job_name=code)
    assert state.paused
    page = admin_client.get(job_url(code)).content.decode()
    assert 'name="resume"' in page
    admin_client.post(job_url(code, "run"))
    assert CronJobState.objects.get(job_name=code).run_requested_at == T0
    assert not CronJobLog.objects.exists()  # nothing ran in the request
    assert "[✔] tests.daily" in run_crons()  # the next runcrons runs it
    admin_client.post(job_url(code, "resume"))
    assert not CronJobState.objects.get(job_name=code).paused
    entries = LogEntry.objects.order_by("action_time", "pk")
    assert [(entry.user.username, entry.get_change_message()) for entry in entries] == [
        ("admin", "Paused."),
        ("admin", "Requested a run."),
        ("admin", "Resumed."),
    ]
    assert {entry.object_repr for entry in entries} == {code}
    page = admin_client.get(job_url(code)).content.decode()
    assert "admin: Resumed." in page
    history = reverse("admin:django_cronjobs_cronjob_history", args=[state.pk])
    assert history in page
    assert admin_client.get(history).status_code == 200


def test_a_repeated_action_changes_and_records_nothing(admin_client, clock):
    admin_client.post(job_url("tests.daily", "pause"))
    response = admin_client.post(job_url("tests.daily", "pause"), follow=True)
    assert "Nothing changed: tests.daily was already paused." in response.content.decode()
    assert LogEntry.objects.count() == 1


def test_actions_need_post_and_a_csrf_token(clock):
    User.objects.create_superuser("admin", "admin@example.com", "pw")
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get())
    assert client.get(job_url("tests.daily", "pause")).status_code == 405
    assert client.post(job_url("tests.daily", "pause")).status_code == 403
    assert not CronJobState.objects.filter(paused=True).exists()
    page = client.get(job_url("tests.daily"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token
    response = client.post(job_url("tests.daily", "pause"), {"csrfmiddlewaretoken": token.group(1)})
    assert response.status_code == 302
    assert CronJobState.objects.get(job_name="tests.daily").paused


def test_each_page_and_action_needs_its_permission(clock):
    nobody = staff_client()
    for url in (OVERVIEW, job_url("tests.daily")):
        assert nobody.get(url).status_code == 403
    for action in ("pause", "resume", "run"):
        assert nobody.post(job_url("tests.daily", action)).status_code == 403
    User.objects.all().delete()

    viewer = staff_client("view_cronjob")
    assert viewer.get(OVERVIEW).status_code == 200
    page = viewer.get(job_url("tests.daily")).content.decode()
    assert 'name="pause"' not in page
    assert 'name="run"' not in page
    for action in ("pause", "resume", "run"):
        assert viewer.post(job_url("tests.daily", action)).status_code == 403
    assert not CronJobState.objects.filter(paused=True).exists()
    User.objects.all().delete()

    pauser = staff_client("view_cronjob", "pause_cronjob")
    assert pauser.post(job_url("tests.daily", "pause")).status_code == 302
    assert pauser.post(job_url("tests.daily", "run")).status_code == 403
    User.objects.all().delete()

    runner = staff_client("view_cronjob", "run_cronjob")
    assert runner.post(job_url("tests.daily", "run")).status_code == 302
    assert runner.post(job_url("tests.daily", "resume")).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for url in (OVERVIEW, job_url("tests.daily")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert client.post(job_url("tests.daily", "pause")).status_code == 302
    assert not CronJobState.objects.filter(paused=True).exists()


def test_codes_and_messages_are_escaped_everywhere(admin_client, clock, settings):
    settings.CRON_CLASSES = [*settings.CRON_CLASSES, "tests.test_admin_jobs.ScriptJob"]
    run_crons()
    run = CronJobLog.objects.get(code=ScriptJob.code)
    assert run.message == "<script>alert('message')</script>"
    pages = [
        admin_client.get(OVERVIEW),
        admin_client.get(job_url(ScriptJob.code)),
        admin_client.post(job_url(ScriptJob.code, "pause"), follow=True),
        admin_client.get(reverse("admin:django_cronjobs_cronjoblog_change", args=[run.pk])),
    ]
    for response in pages:
        assert response.status_code == 200
        page = response.content.decode()
        assert "<script>alert(" not in page
        assert "&lt;script&gt;alert(" in page
    assert CronJobState.objects.get(job_name=ScriptJob.code).paused


def test_a_state_rows_admin_address_leads_to_its_job_page(admin_client, clock):
    run_crons()
    state = CronJobState.objects.get(job_name="tests.daily")
    response = admin_client.get(reverse("admin:django_cronjobs_cronjob_change", args=[state.pk]))
    assert response.status_code == 302
    assert response["Location"] == job_url("tests.daily")


def test_the_overview_filters_by_health_and_code(admin_client, clock):
    clock.at(T0 + timedelta(seconds=5))
    run_crons()
    CronJobState.objects.filter(job_name="tests.every_five_minutes").update(
        last_status=RunStatus.FAILED
    )
    page = admin_client.get(OVERVIEW).content.decode()
    assert "all (3)" in page
    assert "failing (1)" in page
    assert "never run (1)" in page

    def codes(**query):
        page = admin_client.get(OVERVIEW, query).content.decode()
        return re.findall(r'<tr class="cronjobs-job" data-code="([^"]+)">', page)

    assert codes(health="failing") == ["tests.every_five_minutes"]
    assert codes(health="never run") == ["tests.daily"]
    assert codes(q="MINUTE") == ["tests.every_minute", "tests.every_five_minutes"]
    assert codes(q="minute", health="ok") == ["tests.every_minute"]
    assert "No job matches." in admin_client.get(OVERVIEW, {"q": "nothing"}).content.decode()
    escaped = admin_client.get(OVERVIEW, {"q": "<script>x</script>"}).content.decode()
    assert "<script>x</script>" not in escaped


class SlashJob(CronJobBase):
    """A job whose code looks like the end of an action's address."""

    code = "reports/run"
    schedule = Schedule(run_every_mins=60)

    def do(self) -> str:
        return "ran"


def test_a_code_with_slashes_has_its_page_and_actions(admin_client, clock, settings):
    settings.CRON_CLASSES = [*settings.CRON_CLASSES, "tests.test_admin_jobs.SlashJob"]
    page = admin_client.get(job_url("reports/run"))
    assert page.status_code == 200
    assert "<h1>reports/run</h1>" in page.content.decode()
    assert admin_client.post(job_url("reports/run", "pause")).status_code == 302
    assert CronJobState.objects.get(job_name="reports/run").paused


def shown_codes(page: str) -> list[str]:
    return re.findall(r'<tr class="cronjobs-job" data-code="([^"]+)">', page)


def test_the_overview_works_out_the_next_runs_of_the_jobs_it_shows_only(
    admin_client, clock, settings
):
    many_cron_jobs.configure(settings, clock)
    with schedules_evaluated() as evaluated:
        page = admin_client.get(OVERVIEW).content.decode()
    # Each shown job's upcoming runs; the others' health comes from their stored moments.
    first = many_cron_jobs.CODES[: jobs_admin.JOBS_PER_PAGE]
    assert shown_codes(page) == first
    assert sorted(evaluated) == sorted(first)
    assert "all (200)" in page
    assert "ok (1)" in page
    assert "never run (199)" in page
    with schedules_evaluated() as evaluated:
        page = admin_client.get(OVERVIEW, {"p": 2}).content.decode()
    assert sorted(evaluated) == sorted(shown_codes(page))
    assert shown_codes(page) == many_cron_jobs.CODES[jobs_admin.JOBS_PER_PAGE :]


def test_the_overviews_health_filter_needs_no_schedule_of_the_jobs_it_hides(
    admin_client, clock, settings
):
    many_cron_jobs.configure(settings, clock)
    clock.at(T0 + timedelta(minutes=10))  # 00:01 to 00:06 are more than 3 minutes past
    failing = many_cron_jobs.CODES[150:155]
    CronJobState.objects.filter(job_name__in=failing).update(last_status=RunStatus.FAILED)
    with schedules_evaluated() as evaluated:
        page = admin_client.get(OVERVIEW, {"health": "overdue"}).content.decode()
    assert shown_codes(page) == many_cron_jobs.CODES[1:7]
    assert sorted(evaluated) == sorted(many_cron_jobs.CODES[1:7])
    assert "overdue (6)" in page
    assert "failing (5)" in page
    with schedules_evaluated() as evaluated:
        page = admin_client.get(OVERVIEW, {"health": "failing"}).content.decode()
    assert shown_codes(page) == failing
    assert sorted(evaluated) == sorted(failing)


def test_a_jobs_page_works_out_that_jobs_schedule_only(admin_client, clock, settings):
    many_cron_jobs.configure(settings, clock)
    with schedules_evaluated() as evaluated:
        page = admin_client.get(job_url("tests.cron.7")).content.decode()
    assert evaluated == ["tests.cron.7"]
    assert "2025-01-06 00:07 UTC" in page


# Django's default way of writing a moment in English: "Jan. 6, 2025, 1 a.m.".
DJANGO_DEFAULT_MOMENT = re.compile(
    r"\b[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}|\b[ap]\.m\.|\bmidnight\b|\bnoon\b"
)


def test_every_page_of_the_app_writes_moments_one_way(admin_client, clock):
    clock.at(T0 + timedelta(hours=1))
    ran = log(minute=0, seconds=2)
    missed = log(minute=1, status=RunStatus.MISSED, seconds=0)
    admin_client.post(job_url("tests.every_minute", "pause"))
    state = CronJobState.objects.get(job_name="tests.every_minute")
    pages = {
        "overview": OVERVIEW,
        "job": job_url("tests.every_minute"),
        "history": reverse("admin:django_cronjobs_cronjob_history", args=[state.pk]),
        "log": reverse("admin:django_cronjobs_cronjoblog_changelist"),
        "run": reverse("admin:django_cronjobs_cronjoblog_change", args=[ran.pk]),
        "missed": reverse("admin:django_cronjobs_cronjoblog_change", args=[missed.pk]),
    }
    for name, url in pages.items():
        response = admin_client.get(url, follow=True)
        assert response.status_code == 200, name
        page = response.content.decode()
        assert not DJANGO_DEFAULT_MOMENT.findall(page), name
    job_page = admin_client.get(job_url("tests.every_minute")).content.decode()
    assert "2025-01-06 00:00:00" in job_page  # the run's start
    assert re.search(r"<li>2025-01-06 01:00:00 &mdash; admin: ", job_page)  # the pause
    history = admin_client.get(pages["history"]).content.decode()
    assert re.search(r'<th scope="row">2025-01-06 01:00:00</th>\s*<td>admin</td>', history)
