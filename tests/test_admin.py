"""The CronJobLog admin: read-only, escaped, and no query that scans the log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_cronjobs import admin as cron_admin
from django_cronjobs.models import CronJobLog, RunStatus

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 6, tzinfo=UTC)
CHANGELIST = "admin:django_cronjobs_cronjoblog_changelist"


def log(code="tests.every_minute", status=RunStatus.SUCCEEDED, seconds=1.5, minute=0, **fields):
    start = T0 + timedelta(minutes=minute)
    return CronJobLog.objects.create(
        code=code,
        status=status,
        is_success=status == RunStatus.SUCCEEDED,
        start_time=start,
        end_time=start + timedelta(seconds=seconds),
        slot=start,
        hostname="web-1",
        **fields,
    )


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("admin", "admin@example.com", "pw"))
    return client


def test_the_list_shows_code_status_mark_slot_duration_and_host(admin_client):
    log(status=RunStatus.FAILED, seconds=75)
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "tests.every_minute" in page
    assert "cronjobs-status-failed" in page
    assert "1 min 15 s" in page
    assert "web-1" in page


def test_the_list_sorts_by_duration(admin_client):
    log(code="tests.daily", seconds=30, minute=1)
    log(code="tests.every_five_minutes", seconds=5, minute=2)
    log(code="tests.every_minute", seconds=60, minute=3)
    columns = cron_admin.CronJobLogAdmin.list_display
    order = columns.index("run_duration")
    page = admin_client.get(reverse(CHANGELIST), {"o": str(order)}).content.decode()
    assert listed_codes(page) == ["tests.every_five_minutes", "tests.daily", "tests.every_minute"]


def test_code_filter_lists_the_configured_jobs_without_reading_the_log(admin_client):
    log(code="tests.removed_long_ago")
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "?code=tests.daily" in page
    assert "?code=tests.removed_long_ago" not in page
    assert not [query for query in queries if "DISTINCT" in query["sql"].upper()]


def test_the_list_never_counts_the_whole_log(admin_client):
    for minute in range(3):
        log(minute=minute)
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(reverse(CHANGELIST))
    counts = [query["sql"] for query in queries if "COUNT(" in query["sql"].upper()]
    assert counts
    assert all("LIMIT" in sql.upper() for sql in counts), counts


def test_the_list_takes_the_same_queries_for_many_rows(admin_client):
    log()
    with CaptureQueriesContext(connection) as few:
        admin_client.get(reverse(CHANGELIST))
    CronJobLog.objects.bulk_create(
        CronJobLog(code="tests.daily", start_time=T0, end_time=T0, status=RunStatus.SUCCEEDED)
        for _ in range(300)
    )
    with CaptureQueriesContext(connection) as many:
        admin_client.get(reverse(CHANGELIST))
    assert len(many) == len(few)


def listed_codes(page: str) -> list[str]:
    """The codes in the rows of a changelist page."""
    return re.findall(r'class="field-job"><a href="[^"]*">([^<]*)</a>', page)


def test_search_matches_configured_codes_by_part_and_others_exactly(admin_client):
    log(code="tests.daily")
    log(code="tests.every_minute", minute=1)
    log(code="gone.job", minute=2)

    def search(term):
        return listed_codes(admin_client.get(reverse(CHANGELIST), {"q": term}).content.decode())

    assert search("DAIL") == ["tests.daily"]
    assert search("gone.job") == ["gone.job"]
    assert search("gone") == []
    assert len(search("")) == 3


def test_the_detail_page_shows_the_message_escaped_in_pre(admin_client):
    run = log(
        code="<script>alert('code')</script>",
        status=RunStatus.FAILED,
        message="Traceback:\n<script>alert('message')</script>",
    )
    page = admin_client.get(
        reverse("admin:django_cronjobs_cronjoblog_change", args=[run.pk])
    ).content.decode()
    assert (
        '<pre class="cronjobs-message" style="white-space: pre-wrap; overflow-wrap: anywhere; '
        'margin: 0">Traceback:\n&lt;script&gt;'
    ) in page
    assert "<script>alert(" not in page
    # What happened first, wrapped; where it ran after it.
    assert page.index("cronjobs-message") < page.index("field-hostname")
    assert page.index("cronjobs-message") < page.index("field-host_id")
    listing = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "&lt;script&gt;alert(" in listing
    assert "<script>alert(" not in listing


def test_logs_cannot_be_added_changed_or_deleted(admin_client):
    run = log()
    assert admin_client.get(reverse("admin:django_cronjobs_cronjoblog_add")).status_code == 403
    change = reverse("admin:django_cronjobs_cronjoblog_change", args=[run.pk])
    assert admin_client.post(change, {"code": "edited"}).status_code == 403
    delete = reverse("admin:django_cronjobs_cronjoblog_delete", args=[run.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert CronJobLog.objects.get().code == "tests.every_minute"


def test_staff_without_the_view_permission_get_403(client):
    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    run = log()
    change = reverse("admin:django_cronjobs_cronjoblog_change", args=[run.pk])
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.get(change).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_cronjoblog"))
    assert client.get(reverse(CHANGELIST)).status_code == 200


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (None, ""),
        (timedelta(seconds=1.2344), "1.234 s"),
        (timedelta(seconds=125), "2 min 5 s"),
        (timedelta(hours=3, minutes=4, seconds=59), "3 h 4 min"),
    ],
)
def test_short_duration(duration, text):
    assert cron_admin.short_duration(duration) == text


def row_with(page: str, text: str) -> str:
    rows = re.findall(r"<tr[^>]*>.*?</tr>", page, re.DOTALL)
    return next(row for row in rows if text in row)


def test_the_list_says_why_a_run_failed_and_shows_missed_slots_as_missed(admin_client):
    log(
        code="tests.daily",
        status=RunStatus.FAILED,
        minute=1,
        message='Traceback (most recent call last):\n  File "x.py"\nValueError: the feed said no',
    )
    log(code="tests.every_minute", status=RunStatus.MISSED, seconds=0, minute=2, message="Missed")
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    failed = row_with(page, "tests.daily")
    assert "ValueError: the feed said no" in failed
    assert "2025-01-06 00:01:00" in failed  # one way to write a moment
    missed = row_with(page, "tests.every_minute")
    assert "0.000 s" not in missed
    assert '<td class="field-started">-</td>' in missed
    assert '<td class="field-run_duration">-</td>' in missed


def test_a_runs_page_says_its_status_as_everywhere_and_breadcrumbs_do_not_repeat(admin_client):
    run = log(status=RunStatus.TIMED_OUT)
    page = admin_client.get(
        reverse("admin:django_cronjobs_cronjoblog_change", args=[run.pk])
    ).content.decode()
    assert "<h2>tests.every_minute (timed out)</h2>" in page
    assert "(Fail)</h2>" not in page
    crumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', page, re.DOTALL).group(1)
    names = [name.strip() for name in re.sub(r"<[^>]+>", "", crumbs).split("&rsaquo;")]
    assert names == ["Home", "Cron", "Cron job logs", "tests.every_minute (timed out)"]
