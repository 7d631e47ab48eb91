from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError

from django_cronjobs.models import CronJobLock, CronJobLog, CronJobState, RunStatus
from django_cronjobs.store import claims
from django_cronjobs.store.job_states import ensure_states

T0 = datetime(2025, 1, 6, tzinfo=UTC)


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "django_cronjobs", "--check", "--dry-run", stdout=StringIO())


@pytest.mark.django_db
def test_a_row_with_django_cron_fields_only_is_valid():
    run = CronJobLog.objects.create(code="old", start_time=T0, end_time=T0, is_success=False)
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert str(run) == "old (Fail)"
    assert run.duration.total_seconds() == 0


@pytest.mark.django_db
def test_the_database_refuses_a_second_run_of_a_slot():
    CronJobLog.objects.create(code="job", start_time=T0, slot=T0)
    with pytest.raises(IntegrityError):
        CronJobLog.objects.create(code="job", start_time=T0, slot=T0)


@pytest.mark.django_db
def test_start_run_reports_a_slot_that_already_ran():
    assert claims.start_run("job", T0, None) is not None
    assert claims.start_run("job", T0, None) is None
    # Unscheduled runs have no slot and never collide.
    assert claims.start_run("job", None, None) is not None
    assert claims.start_run("job", None, None) is not None


@pytest.mark.django_db
def test_django_cron_lock_name_and_fields():
    assert CronJobLock is CronJobState
    lock = CronJobLock.objects.create(job_name="x", locked=True)
    assert CronJobLock.objects.filter(locked=True).get() == lock


@pytest.mark.django_db
def test_claim_is_a_compare_and_set_on_the_slot():
    ensure_states(["job"])
    assert claims.claim("job", T0, None)
    assert not claims.claim("job", T0, None)
    # An older slot is never run after a newer one.
    assert not claims.claim("job", T0 - timedelta(days=1), None)
    assert claims.claim("job", T0.replace(minute=1), None)


@pytest.mark.django_db
def test_a_row_inserted_with_django_crons_columns_only_is_valid():
    from django.db import connection

    table = CronJobLog._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (code, start_time, end_time, is_success, message) "
            "VALUES (%s, %s, %s, %s, %s)",
            ["old.job", T0, T0, True, "from django-cron"],
        )
    row = CronJobLog.objects.get()
    assert (row.status, row.hostname, row.slot, row.is_success) == ("", "", None, True)
    states = ensure_states(["old.job"])
    assert states["old.job"].last_slot == T0


@pytest.mark.django_db(transaction=True)
def test_inserting_states_retries_a_deadlock(monkeypatch):
    from django.db import OperationalError
    from django.db.models import QuerySet

    real = QuerySet.bulk_create
    failures = iter([OperationalError(1213, "Deadlock found when trying to get lock")])

    def deadlocking_once(self, *args, **kwargs):
        error = next(failures, None)
        if error is not None:
            raise error
        return real(self, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", deadlocking_once)
    states = ensure_states(["b", "a"])
    assert sorted(states) == ["a", "b"]
    assert CronJobState.objects.count() == 2


def always_deadlocking(tries: list[int]):
    from django.db import OperationalError

    def statement():
        tries.append(len(tries) + 1)
        raise OperationalError(1213, "Deadlock found when trying to get lock")

    return statement


@pytest.mark.django_db(transaction=True)
def test_a_statement_that_keeps_losing_deadlocks_gives_up_after_a_few_tries(monkeypatch):
    from django.db import OperationalError

    from django_cronjobs.store import deadlocks

    pauses: list[float] = []
    monkeypatch.setattr(deadlocks, "sleep", pauses.append)
    tries: list[int] = []
    with pytest.raises(OperationalError):
        deadlocks.retrying_deadlocks(always_deadlocking(tries))
    assert tries == [1, 2, 3, 4, 5]
    assert len(pauses) == 4
    assert all(0.01 * n <= pause <= 0.05 * n for n, pause in enumerate(pauses, 1))


@pytest.mark.django_db
def test_a_deadlock_inside_a_callers_transaction_is_not_tried_again():
    from django.db import OperationalError

    from django_cronjobs.store import deadlocks

    tries: list[int] = []
    with pytest.raises(OperationalError):
        deadlocks.retrying_deadlocks(always_deadlocking(tries))
    assert tries == [1]


@pytest.mark.django_db
def test_failed_runs_are_neither_running_nor_waiting_nor_missed_slots():
    from django.utils import timezone

    now = timezone.now()
    for status in RunStatus.values:
        CronJobLog.objects.create(
            code=f"tests.{status}", start_time=now, status=status, is_success=status == "succeeded"
        )
    failed = set(CronJobLog.objects.failed().values_list("status", flat=True))
    assert failed == {"failed", "timed_out", "interrupted", "abandoned"}
