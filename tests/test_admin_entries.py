"""The Cron entries pages: list, filters, search, the validated form, the next runs, actions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from django_cronjobs import Schedule
from django_cronjobs.models import CronEntry, CronJobLog, CronJobState, RunStatus
from tests.conftest import run_crons
from tests.jobs import DigestJob
from tests.test_admin_jobs import job_url, staff_client

pytestmark = pytest.mark.django_db

MONDAY = datetime(2025, 1, 6, tzinfo=UTC)
CHANGELIST = "admin:django_cronjobs_cronentry_changelist"


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.CRON_CLASSES = ["tests.jobs.DigestJob", "tests.jobs.ReportJob"]
    settings.TIME_ZONE = "UTC"


def digest(customer: int, cron: str = "0 8 * * *") -> CronEntry:
    return DigestJob.entries.schedule(
        key=f"customer-{customer}", kwargs={"customer_id": customer}, schedule=Schedule(cron=cron)
    )


def form_data(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "job": "tests.digest",
        "key": "customer-9",
        "kwargs": '{"customer_id": 9}',
        "description": "",
        "enabled": "on",
        "cron": "30 7 * * 1-5",
        "run_every_mins": "",
        "run_at_times": "[]",
        "timezone": "Europe/Berlin",
        "run_weekly_on_days": "null",
        "run_monthly_on_days": "null",
        "retry_after_failure_mins": "",
        "run_tolerance_seconds": "0",
        "missed_slots": "latest",
        "replay_limit": "10",
        "starting_deadline_seconds": "",
    }
    data.update(changes)
    return data


def test_the_list_shows_each_entry_with_its_schedule_and_next_run(admin_client, clock):
    clock.at(MONDAY.replace(hour=7))
    digest(1)
    digest(2, "0 9 * * *")
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "customer-1" in page
    assert "customer-2" in page
    assert "every day at 08:00 UTC" in page
    assert "2025-01-06 09:00 UTC" in page


def test_the_list_filters_by_job_and_health_and_searches_keys(admin_client, clock):
    clock.at(MONDAY.replace(hour=7))
    for customer in (1, 2, 3):
        digest(customer)
    ReportJob_entry = CronEntry.objects.schedule(
        "tests.report", key="eu", schedule=Schedule(cron="0 8 * * *")
    )
    DigestJob.failing.add(2)
    clock.at(MONDAY.replace(hour=8))
    run_crons()
    url = reverse(CHANGELIST)
    by_job = admin_client.get(url, {"job": "tests.report"}).content.decode()
    assert ReportJob_entry.key in by_job
    assert "customer-1" not in by_job
    failing = admin_client.get(url, {"health": "failing"}).content.decode()
    assert "customer-2" in failing
    assert "customer-1" not in failing
    found = admin_client.get(url, {"q": "customer-3"}).content.decode()
    assert "customer-3" in found
    assert "customer-1" not in found


def test_the_form_refuses_a_wrong_entry_with_the_checks_text(admin_client, clock):
    add = reverse("admin:django_cronjobs_cronentry_add")
    response = admin_client.post(add, form_data(cron="0 25 * * *"))
    assert response.status_code == 200
    assert "django_cronjobs.E007" in response.content.decode()
    response = admin_client.post(add, form_data(kwargs='{"customer": 9}'))
    assert "django_cronjobs.E024" in response.content.decode()
    assert not CronEntry.objects.exists()


def test_the_form_creates_an_entry_that_counts_from_the_save(admin_client, clock):
    clock.at(MONDAY.replace(hour=7, minute=30, second=10))  # 08:30 in Berlin
    response = admin_client.post(reverse("admin:django_cronjobs_cronentry_add"), form_data())
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = CronEntry.objects.get()
    assert entry.kwargs == {"customer_id": 9}
    assert entry.next_due == datetime(2025, 1, 7, 6, 30, tzinfo=UTC)  # tomorrow 07:30 Berlin
    page = admin_client.get(
        reverse("admin:django_cronjobs_cronentry_change", args=[entry.pk])
    ).content.decode()
    assert "2025-01-07 07:30 Europe/Berlin" in page  # the next runs, in the entry's zone
    assert "2025-01-08 07:30" in page
    assert "counts from the moment it is saved" in page


def test_editing_the_schedule_counts_from_the_edit(admin_client, clock):
    clock.at(MONDAY.replace(hour=6))
    entry = digest(1, "0 * * * *")
    clock.at(MONDAY.replace(hour=9, minute=40))
    change = reverse("admin:django_cronjobs_cronentry_change", args=[entry.pk])
    data = form_data(key="customer-1", kwargs='{"customer_id": 1}', cron="*/30 * * * *")
    data["timezone"] = ""
    response = admin_client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry.refresh_from_db()
    assert entry.counts_from == MONDAY.replace(hour=9, minute=40)
    assert entry.next_due == MONDAY.replace(hour=10)


def test_actions_need_their_permissions(clock):
    clock.at(MONDAY.replace(hour=7))
    entry = digest(1)
    url = reverse(CHANGELIST)
    viewer = staff_client("view_cronentry")
    assert "disable_entries" not in viewer.get(url).content.decode()
    for action in ("disable_entries", "run_entries"):
        viewer.post(url, {"action": action, "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.enabled
    assert not CronJobState.objects.filter(entry=entry, run_requested_at__isnull=False).exists()


def test_disable_enable_and_run_now(admin_client, clock):
    clock.at(MONDAY.replace(hour=7))
    entry = digest(1)
    url = reverse(CHANGELIST)
    admin_client.post(url, {"action": "disable_entries", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert (entry.enabled, entry.next_due) == (False, None)
    clock.at(MONDAY.replace(hour=9, minute=10))
    admin_client.post(url, {"action": "enable_entries", "_selected_action": [entry.pk]})
    entry.refresh_from_db()
    assert entry.enabled
    assert entry.next_due == MONDAY.replace(hour=8) + timedelta(days=1)
    admin_client.post(url, {"action": "run_entries", "_selected_action": [entry.pk]})
    state = CronJobState.objects.get(entry=entry)
    assert state.run_requested_at == MONDAY.replace(hour=9, minute=10)
    output = run_crons()
    assert "[✔] tests.digest[customer-1]" in output
    assert DigestJob.calls == [1]
    run = CronJobLog.objects.get(entry="customer-1")
    assert run.slot is None  # outside the schedule
    entry.refresh_from_db()
    assert entry.next_due == MONDAY.replace(hour=8) + timedelta(days=1)
    messages = set(LogEntry.objects.values_list("change_message", flat=True))
    assert {"Disabled.", "Enabled.", "Requested a run."} <= messages


def test_the_job_page_shows_how_its_entries_stand(admin_client, clock):
    clock.at(MONDAY.replace(hour=7))
    for customer in (1, 2, 3):
        digest(customer)
    DigestJob.failing.add(3)
    clock.at(MONDAY.replace(hour=8))
    run_crons()
    page = admin_client.get(job_url("tests.digest")).content.decode()
    assert "3 entries: 3 enabled, 1 failing" in page
    assert "only through its entries" in page
    assert "customer-3" in page
    assert "customer-1" not in page
    assert "at every runcrons call" not in page
    # The Cron jobs page lists jobs, not the state rows of entries.
    overview = admin_client.get(reverse("admin:django_cronjobs_cronjob_changelist")).content
    assert b"customer-1" not in overview


def test_an_entrys_runs_are_listed_in_the_log(admin_client, clock):
    clock.at(MONDAY.replace(hour=7))
    digest(1)
    digest(2)
    clock.at(MONDAY.replace(hour=8))
    run_crons()
    url = reverse("admin:django_cronjobs_cronjoblog_changelist")
    page = admin_client.get(url, {"code": "tests.digest", "entry": "customer-2"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "tests.digest[customer-2]" in text
    assert "tests.digest[customer-1]" not in text
    assert CronJobLog.objects.filter(status=RunStatus.SUCCEEDED).count() == 2


def test_the_form_shows_no_filter_as_an_empty_box(admin_client):
    page = admin_client.get(reverse("admin:django_cronjobs_cronentry_add")).content.decode()
    weekly = re.search(r'<input[^>]*name="run_weekly_on_days"[^>]*>', page)
    assert weekly is not None
    assert "null" not in weekly.group(0)
    assert 'type="text"' in weekly.group(0)  # one line, not a textarea


PREVIEW = "admin:django_cronjobs_cronentry_preview"


def test_the_preview_shows_the_next_runs_of_a_new_entry_and_saves_nothing(admin_client, clock):
    clock.at(MONDAY.replace(hour=7, minute=30, second=10))  # 08:30 in Berlin
    answer = admin_client.post(reverse(PREVIEW), form_data()).json()
    assert answer["runs"][0] == "2025-01-07 07:30 Europe/Berlin"
    assert answer["runs"][1:3] == ["2025-01-08 07:30", "2025-01-09 07:30"]
    assert len(answer["runs"]) == 5
    assert not CronEntry.objects.exists()


def test_the_preview_gives_the_checks_text_for_a_wrong_entry(admin_client, clock):
    answer = admin_client.post(reverse(PREVIEW), form_data(cron="0 25 * * *")).json()
    assert "runs" not in answer
    assert any("django_cronjobs.E007" in error for error in answer["errors"]["cron"])


def test_the_preview_of_a_change_counts_a_changed_schedule_from_now(admin_client, clock):
    clock.at(MONDAY.replace(hour=6))
    entry = digest(1, "0 * * * *")
    clock.at(MONDAY.replace(hour=9, minute=40))
    url = f"{reverse(PREVIEW)}?entry={entry.pk}"
    data = form_data(key="customer-1", kwargs='{"customer_id": 1}', timezone="")
    answer = admin_client.post(url, {**data, "cron": "*/30 * * * *"}).json()
    assert answer["runs"][:2] == ["2025-01-06 10:00 UTC", "2025-01-06 10:30"]
    entry.refresh_from_db()
    assert entry.cron == "0 * * * *"
    assert entry.counts_from == MONDAY.replace(hour=6)
    disabled = admin_client.post(url, {**data, "cron": "0 * * * *", "enabled": ""}).json()
    assert disabled == {"runs": [], "note": "none while it is disabled"}


def test_the_preview_needs_the_permission_to_add_or_change(clock):
    viewer = staff_client("view_cronentry")
    assert viewer.post(reverse(PREVIEW), form_data()).status_code == 403
    entry = digest(1)
    assert viewer.post(f"{reverse(PREVIEW)}?entry={entry.pk}", form_data()).status_code == 403
    user = User.objects.get(username="staff")
    user.user_permissions.add(Permission.objects.get(codename="add_cronentry"))
    assert viewer.post(reverse(PREVIEW), form_data()).status_code == 200


def test_the_form_has_the_preview_button(admin_client):
    page = admin_client.get(reverse("admin:django_cronjobs_cronentry_add")).content.decode()
    assert "Preview the next runs" in page
    assert "django_cronjobs/entry_preview.js" in page


def test_the_entrys_page_has_disable_and_run_now_buttons(admin_client, clock):
    clock.at(MONDAY.replace(hour=7))
    entry = digest(1)
    change = reverse("admin:django_cronjobs_cronentry_change", args=[entry.pk])
    page = admin_client.get(change).content.decode()
    assert reverse("admin:django_cronjobs_cronentry_disable", args=[entry.pk]) in page
    assert reverse("admin:django_cronjobs_cronentry_run", args=[entry.pk]) in page
    disable = reverse("admin:django_cronjobs_cronentry_disable", args=[entry.pk])
    assert admin_client.get(disable).status_code == 405
    response = admin_client.post(disable)
    assert response.status_code == 302
    assert response["Location"] == change
    entry.refresh_from_db()
    assert not entry.enabled
    page = admin_client.get(change).content.decode()
    assert reverse("admin:django_cronjobs_cronentry_enable", args=[entry.pk]) in page
    admin_client.post(reverse("admin:django_cronjobs_cronentry_enable", args=[entry.pk]))
    admin_client.post(reverse("admin:django_cronjobs_cronentry_run", args=[entry.pk]))
    entry.refresh_from_db()
    assert entry.enabled
    assert CronJobState.objects.get(entry=entry).run_requested_at == MONDAY.replace(hour=7)
    history = LogEntry.objects.filter(object_id=str(entry.pk)).values_list(
        "change_message", flat=True
    )
    assert sorted(history) == ["Disabled.", "Enabled.", "Requested a run."]


def test_the_entrys_buttons_need_their_permissions(clock):
    clock.at(MONDAY.replace(hour=7))
    entry = digest(1)
    editor = staff_client("view_cronentry", "change_cronentry")
    change = reverse("admin:django_cronjobs_cronentry_change", args=[entry.pk])
    page = editor.get(change).content.decode()
    assert reverse("admin:django_cronjobs_cronentry_run", args=[entry.pk]) not in page
    for name in ("disable", "run"):
        url = reverse(f"admin:django_cronjobs_cronentry_{name}", args=[entry.pk])
        assert editor.post(url).status_code == 403
    entry.refresh_from_db()
    assert entry.enabled
    assert not CronJobState.objects.filter(entry=entry, run_requested_at__isnull=False).exists()


def test_a_new_entrys_form_has_no_runs_section(admin_client, clock):
    add = admin_client.get(reverse("admin:django_cronjobs_cronentry_add")).content.decode()
    assert "Run log" not in add
    entry = digest(1)
    change = reverse("admin:django_cronjobs_cronentry_change", args=[entry.pk])
    assert "Run log" in admin_client.get(change).content.decode()
