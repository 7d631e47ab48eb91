"""The health endpoint: a token, or staff who may view cron jobs; 503 when a job is unhealthy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from django_cronjobs.models import CronJobState, RunStatus
from django_cronjobs.monitoring import controls
from tests import many_cron_jobs
from tests.conftest import run_crons
from tests.many_cron_jobs import schedules_evaluated

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 6, tzinfo=UTC)
TOKEN = "s3cret-token"


@pytest.fixture
def url(settings):
    settings.CRONJOBS_HEALTH_TOKEN = TOKEN
    return reverse("django_cronjobs:health")


def test_with_the_token_it_reports_every_job(client, clock, url):
    clock.at(T0 + timedelta(seconds=5))
    run_crons()
    response = client.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["status"] == "ok"
    assert body["unhealthy"] == []
    jobs = {job["code"]: job for job in body["jobs"]}
    assert list(jobs) == ["tests.every_minute", "tests.every_five_minutes", "tests.daily"]
    assert jobs["tests.every_minute"] == {
        "code": "tests.every_minute",
        "health": "ok",
        "last_status": "succeeded",
        "last_started": "2025-01-06T00:00:05+00:00",
        "next_run": "2025-01-06T00:01:00+00:00",
        "overdue": False,
        "failing": False,
        "paused": False,
    }
    assert jobs["tests.daily"]["health"] == "never run"


def test_a_failing_or_overdue_job_makes_it_503(client, clock, url):
    clock.at(T0 + timedelta(seconds=5))
    run_crons()
    CronJobState.objects.filter(job_name="tests.daily").update(last_status=RunStatus.FAILED)
    response = client.get(url, {"token": TOKEN})
    assert response.status_code == 503
    assert response.json()["unhealthy"] == ["tests.daily"]
    clock.at(T0 + timedelta(minutes=10))  # runcrons stopped running
    body = client.get(url, {"token": TOKEN}).json()
    assert body["unhealthy"] == ["tests.every_minute", "tests.every_five_minutes", "tests.daily"]
    # Pausing a job acknowledges it.
    for code in body["unhealthy"]:
        controls.pause(code)
    response = client.get(url, {"token": TOKEN})
    assert response.status_code == 200
    assert {job["health"] for job in response.json()["jobs"]} == {"paused"}


def test_a_broken_configuration_is_not_ok(client, clock, url, settings):
    # The missing comma: a string where a list belongs.
    settings.CRON_CLASSES = "tests.jobs.EveryMinuteJob"
    response = client.get(url, {"token": TOKEN})
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "broken"
    assert body["unhealthy"] == ["CRON_CLASSES"]
    assert body["broken"][0]["checks"] == ["django_cronjobs.E015"]
    settings.CRON_CLASSES = ["tests.jobs.EveryMinuteJob", "tests.jobs.Missing"]
    body = client.get(url, {"token": TOKEN}).json()
    assert body["status"] == "broken"
    assert [entry["checks"] for entry in body["broken"]] == [["django_cronjobs.E001"]]
    assert [job["code"] for job in body["jobs"]] == ["tests.every_minute"]


def test_no_jobs_at_all_is_not_ok(client, url, settings):
    settings.CRON_CLASSES = []
    response = client.get(url, {"token": TOKEN})
    assert response.status_code == 503
    assert response.json() == {
        "status": "no jobs",
        "unhealthy": [],
        "failing_entries": {},
        "jobs": [],
        "checks": ["django_cronjobs.W002"],
    }


@pytest.mark.parametrize(
    "credentials",
    [
        {},
        {"headers": {"Authorization": "Bearer wrong"}},
        {"data": {"token": "wrong"}},
        {"headers": {"Authorization": TOKEN}},  # not a bearer token
    ],
)
def test_without_a_valid_token_it_reveals_nothing(client, clock, url, credentials):
    run_crons()
    response = client.get(url, **credentials)
    assert response.status_code == 403
    assert response.json() == {"detail": "forbidden"}
    assert b"tests." not in response.content


def test_no_token_is_configured_means_staff_who_may_view_cron_jobs_only(client, clock, settings):
    settings.CRONJOBS_HEALTH_TOKEN = ""
    url = reverse("django_cronjobs:health")
    assert client.get(url, {"token": ""}).status_code == 403
    user = User.objects.create_user("user", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="view_cronjob"))
    client.force_login(user)
    assert client.get(url).status_code == 403  # not staff
    user.is_staff = True
    user.save()
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("token", [TOKEN, ""])
def test_a_session_needs_the_permission_of_the_cron_jobs_pages(client, clock, settings, token):
    settings.CRONJOBS_HEALTH_TOKEN = token
    url = reverse("django_cronjobs:health")
    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(url).status_code == 403
    assert client.get(reverse("admin:django_cronjobs_cronjob_changelist")).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_cronjob"))
    assert client.get(url).status_code == 200
    assert client.get(reverse("admin:django_cronjobs_cronjob_changelist")).status_code == 200
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    assert client.get(url).status_code == 200


def test_only_get(client, url):
    assert client.post(url, {"token": TOKEN}).status_code == 405


@pytest.fixture
def stored_moments(clock, settings):
    """200 jobs on cron expressions, whose next due moments runcrons stored."""
    many_cron_jobs.configure(settings, clock)


def test_stored_next_due_moments_spare_evaluating_every_schedule(client, url, stored_moments):
    with schedules_evaluated() as evaluated:
        stored = client.get(url, {"token": TOKEN})
    assert evaluated == []
    assert stored.status_code == 200
    # Without the stored moments the schedules give the same answer.
    CronJobState.objects.update(next_due=None, due_key="")
    with schedules_evaluated() as evaluated:
        worked_out = client.get(url, {"token": TOKEN})
    assert sorted(evaluated) == sorted(many_cron_jobs.CODES)
    assert worked_out.json() == stored.json()
    jobs = stored.json()["jobs"]
    assert [job["next_run"] for job in jobs[:2]] == [
        "2025-01-07T00:00:00+00:00",
        "2025-01-06T00:01:00+00:00",
    ]
    assert [job["health"] for job in jobs[:2]] == ["ok", "never run"]


def test_a_job_whose_state_changed_since_has_its_schedule_evaluated(
    client, clock, url, stored_moments
):
    # Another host ran the job's slot of 00:01 after its next due moment was stored.
    clock.at(T0 + timedelta(minutes=1, seconds=30))
    CronJobState.objects.filter(job_name="tests.cron.1").update(
        last_slot=T0 + timedelta(minutes=1),
        last_started_at=T0 + timedelta(minutes=1),
        last_status=RunStatus.SUCCEEDED,
    )
    with schedules_evaluated() as evaluated:
        body = client.get(url, {"token": TOKEN}).json()
    assert evaluated == ["tests.cron.1"]
    assert body["jobs"][1]["next_run"] == "2025-01-07T00:01:00+00:00"
    assert body["jobs"][1]["health"] == "ok"


def test_a_jobs_entries_are_reported_and_failing_ones_named_without_a_503(
    client, clock, url, settings
):
    from django_cronjobs import Schedule
    from tests.jobs import DigestJob

    settings.CRON_CLASSES = ["tests.jobs.EveryMinuteJob", "tests.jobs.DigestJob"]
    for customer in (7, 8):
        DigestJob.entries.schedule(
            key=f"customer {customer}",
            kwargs={"customer_id": customer},
            schedule=Schedule(run_every_mins=1),
        )
    clock.at(T0 + timedelta(minutes=1, seconds=5))
    run_crons()
    CronJobState.objects.filter(entry__key="customer 8").update(last_status=RunStatus.FAILED)
    response = client.get(url, {"token": TOKEN})
    assert response.status_code == 200  # worth a look, not a page
    body = response.json()
    assert body["failing_entries"] == {"tests.digest": 1}
    jobs = {job["code"]: job for job in body["jobs"]}
    assert "entries" not in jobs["tests.every_minute"]
    assert jobs["tests.digest"]["entries"] == {
        "total": 2,
        "enabled": 2,
        "failing": 1,
        "running": 0,
        "next_run": "2025-01-06T00:02:00+00:00",
        "failing_keys": ["customer 8"],
    }
