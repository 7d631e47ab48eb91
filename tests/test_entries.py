"""Schedules as data: CronEntry rows, written with validation, run by runcrons per entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_cronjobs import Schedule
from django_cronjobs.models import CronEntry, CronJobLog, CronJobState, EntrySpec, RunStatus
from django_cronjobs.schedules.hashed_cron import resolve_hashes
from tests.conftest import run_crons
from tests.jobs import DigestJob, ReportJob

pytestmark = pytest.mark.django_db

DIGEST = "tests.jobs.DigestJob"
REPORT = "tests.jobs.ReportJob"
MONDAY = datetime(2025, 1, 6, tzinfo=UTC)  # where the clock fixture starts


@pytest.fixture(autouse=True)
def _configured(settings):
    settings.CRON_CLASSES = [DIGEST, REPORT, "tests.jobs.EveryMinuteJob"]
    settings.TIME_ZONE = "UTC"


def digest(customer: int, **schedule: object) -> CronEntry:
    arguments = schedule or {"cron": "0 8 * * *"}
    return CronEntry.objects.schedule(
        DigestJob,
        key=f"customer-{customer}",
        kwargs={"customer_id": customer},
        schedule=Schedule(**arguments),  # type: ignore[arg-type]
    )


def runs_of(key: str) -> list[CronJobLog]:
    return list(CronJobLog.objects.filter(code="tests.digest", entry=key).order_by("start_time"))


# -- writing entries ----------------------------------------------------------


def test_a_new_entry_is_first_due_at_its_first_slot_after_the_write(clock):
    clock.at(MONDAY.replace(hour=7, minute=59, second=30))
    entry = digest(1)
    assert entry.next_due == MONDAY.replace(hour=8)
    clock.at(MONDAY.replace(hour=8, second=30))
    assert digest(2).next_due == MONDAY.replace(hour=8) + timedelta(days=1)


def test_an_interval_entry_counts_its_interval_from_the_write(clock):
    clock.at(MONDAY.replace(hour=10, minute=0, second=20))
    assert digest(1, run_every_mins=15).next_due == MONDAY.replace(hour=10, minute=15)


def test_schedule_updates_the_entry_of_the_same_key(clock):
    clock.at(MONDAY.replace(hour=6))
    first = digest(1)
    again = CronEntry.objects.schedule(
        DigestJob, key="customer-1", kwargs={"customer_id": 99}, schedule=Schedule(cron="0 8 * * *")
    )
    assert again.pk == first.pk
    assert again.kwargs == {"customer_id": 99}
    assert again.counts_from == first.counts_from  # the schedule did not change
    assert CronEntry.objects.count() == 1


def test_a_changed_schedule_counts_from_the_change(clock):
    clock.at(MONDAY.replace(hour=6))
    digest(1, run_every_mins=60)
    clock.at(MONDAY.replace(hour=6, minute=59))
    entry = digest(1, run_every_mins=30)
    assert entry.counts_from == MONDAY.replace(hour=6, minute=59)
    assert entry.next_due == MONDAY.replace(hour=7, minute=29)


def test_the_shortcut_on_the_job_class_names_its_entries(clock):
    DigestJob.entries.schedule(
        key="customer-7", kwargs={"customer_id": 7}, schedule=Schedule(cron="0 8 * * *")
    )
    ReportJob.entries.schedule(key="weekly", schedule=Schedule(cron="0 9 * * 1"))
    assert [entry.key for entry in DigestJob.entries.all()] == ["customer-7"]
    assert DigestJob.entries.count() == 1
    assert [entry.key for entry in ReportJob.entries] == ["weekly"]


@pytest.mark.parametrize(
    ("job", "key", "kwargs", "schedule", "field", "words"),
    [
        ("tests.nowhere", "k", {}, Schedule(cron="@daily"), "job", "django_cronjobs.E023"),
        (DigestJob, "k", {"customer_id": 1}, Schedule(cron="61 * * * *"), "cron", "E007"),
        (
            DigestJob,
            "k",
            {"customer_id": 1},
            Schedule(cron="@daily", timezone="Mars/Base"),
            "timezone",
            "E013",
        ),
        (
            DigestJob,
            "k",
            {"customer": 1},
            Schedule(cron="@daily"),
            "kwargs",
            "django_cronjobs.E024",
        ),
        (DigestJob, "k", {}, Schedule(cron="@daily"), "kwargs", "missing a required"),
        (DigestJob, "k", {"customer_id": object()}, Schedule(cron="@daily"), "kwargs", "JSON"),
        (DigestJob, "a\nb", {"customer_id": 1}, Schedule(cron="@daily"), "key", "control"),
        (DigestJob, "", {"customer_id": 1}, Schedule(cron="@daily"), "key", "1 to 128"),
        (
            DigestJob,
            "k",
            {"customer_id": 1},
            Schedule(run_every_mins=0),
            "run_every_mins",
            "every runcrons call",
        ),
        (DigestJob, "k", {"customer_id": 1}, Schedule(), "__all__", "E010"),
        (DigestJob, "k", {"customer_id": 1}, Schedule(cron="H(40-20) * * * *"), "cron", "H(40-20)"),
    ],
)
def test_a_wrong_entry_is_refused_with_the_checks_text(job, key, kwargs, schedule, field, words):
    with pytest.raises(ValidationError) as refused:
        CronEntry.objects.schedule(job, key=key, kwargs=kwargs, schedule=schedule)
    messages = refused.value.message_dict[field]
    assert any(words in message for message in messages), messages
    assert not CronEntry.objects.exists()


def test_saving_an_entry_validates_it_and_counts_from_the_change(clock):
    clock.at(MONDAY.replace(hour=6))
    entry = digest(1)
    entry.cron = "not cron"
    with pytest.raises(ValidationError):
        entry.save()
    entry = CronEntry.objects.get()
    clock.at(MONDAY.replace(hour=9))
    entry.cron = "30 9 * * *"
    entry.save()
    entry.refresh_from_db()
    assert (entry.counts_from, entry.next_due) == (clock_now(), MONDAY.replace(hour=9, minute=30))
    clock.at(MONDAY.replace(hour=9, minute=10))
    entry.description = "only the text"
    entry.save()
    entry.refresh_from_db()
    assert entry.counts_from == MONDAY.replace(hour=9)  # not a schedule change


def clock_now() -> datetime:
    from django.utils import timezone

    return timezone.now()


# -- runs -----------------------------------------------------------------------


def test_runcrons_runs_a_due_entry_once_with_its_kwargs(clock):
    clock.at(MONDAY.replace(hour=7))
    digest(1)
    digest(2, cron="0 9 * * *")
    clock.at(MONDAY.replace(hour=8, second=5))
    output = run_crons()
    assert "[✔] tests.digest[customer-1]" in output
    assert "customer-2" not in output  # not due: not even read
    assert "[ ] tests.digest (entries only)" in output
    assert DigestJob.calls == [1]
    (run,) = runs_of("customer-1")
    assert (run.code, run.entry, run.slot, run.status) == (
        "tests.digest",
        "customer-1",
        MONDAY.replace(hour=8),
        RunStatus.SUCCEEDED,
    )
    assert run.message == "digest for 1"
    assert str(run) == "tests.digest[customer-1] (Success)"
    run_crons()
    assert DigestJob.calls == [1]  # exactly once per slot
    entry = CronEntry.objects.get(key="customer-1")
    assert entry.next_due == MONDAY.replace(hour=8) + timedelta(days=1)
    state = CronJobState.objects.get(entry=entry)
    assert state.job_name == "tests.digest[customer-1]"


def test_entries_of_one_job_share_a_slot_and_run_apart(clock):
    clock.at(MONDAY.replace(hour=7))
    for customer in range(5):
        digest(customer)
    clock.at(MONDAY.replace(hour=8))
    run_crons()
    assert sorted(DigestJob.calls) == [0, 1, 2, 3, 4]
    assert CronJobLog.objects.filter(code="tests.digest", slot=MONDAY.replace(hour=8)).count() == 5


def test_a_job_runs_its_own_schedule_and_its_entries(clock):
    clock.at(MONDAY.replace(hour=5))
    ReportJob.entries.schedule(
        key="eu", kwargs={"region": "eu"}, schedule=Schedule(cron="0 6 * * *")
    )
    clock.at(MONDAY.replace(hour=6))
    run_crons()
    assert sorted(map(str, ReportJob.calls)) == ["{'region': 'eu'}", "{}"]
    runs = CronJobLog.objects.filter(code="tests.report").order_by("entry")
    assert [(run.entry, run.slot) for run in runs] == [
        ("", MONDAY.replace(hour=6)),
        ("eu", MONDAY.replace(hour=6)),
    ]


def test_an_edit_never_fires_at_once(clock):
    clock.at(MONDAY.replace(hour=6))
    digest(1, run_every_mins=60)
    clock.at(MONDAY.replace(hour=6, minute=59, second=50))
    digest(1, run_every_mins=30)  # would have been due at 7:00
    clock.at(MONDAY.replace(hour=7, second=10))
    run_crons()
    assert DigestJob.calls == []
    clock.at(MONDAY.replace(hour=7, minute=29, second=10))
    run_crons()
    assert DigestJob.calls == [1]


def test_a_changed_entry_does_not_catch_up(clock):
    clock.at(MONDAY.replace(hour=6))
    digest(1, cron="0 * * * *")
    clock.at(MONDAY.replace(hour=7))
    run_crons()
    assert DigestJob.calls == [1]
    # Hours later (runcrons was down), the schedule changes: no catch-up run.
    clock.at(MONDAY.replace(hour=12, minute=10))
    digest(1, cron="0,30 * * * *")
    run_crons()
    assert DigestJob.calls == [1]
    clock.at(MONDAY.replace(hour=12, minute=30))
    run_crons()
    assert DigestJob.calls == [1, 1]


def test_a_disabled_entry_does_not_run_and_counts_from_its_enabling(clock):
    clock.at(MONDAY.replace(hour=6))
    entry = digest(1, cron="0 * * * *")
    entry.enabled = False
    entry.save()
    assert CronEntry.objects.get().next_due is None
    clock.at(MONDAY.replace(hour=7))
    run_crons()
    clock.at(MONDAY.replace(hour=9, minute=30))
    entry = CronEntry.objects.get()
    entry.enabled = True
    entry.save()
    assert entry.next_due == MONDAY.replace(hour=10)
    run_crons()
    assert DigestJob.calls == []


def test_a_failing_entry_does_not_stop_the_others_and_retries_alone(clock):
    clock.at(MONDAY.replace(hour=7))
    for customer in (1, 2, 3):
        digest(customer, cron="0 8 * * *", retry_after_failure_mins=10)
    DigestJob.failing.add(2)
    clock.at(MONDAY.replace(hour=8))
    output = run_crons()
    assert sorted(DigestJob.calls) == [1, 2, 3]
    assert "[✘] tests.digest[customer-2] 08:00 0.000 s: RuntimeError: no digest for 2" in output
    assert CronEntry.objects.get(key="customer-2").next_due == MONDAY.replace(hour=8, minute=10)
    assert CronEntry.objects.get(key="customer-1").next_due == MONDAY.replace(hour=8) + timedelta(
        days=1
    )
    DigestJob.failing.clear()
    clock.at(MONDAY.replace(hour=8, minute=10))
    run_crons()
    assert sorted(DigestJob.calls) == [1, 2, 2, 3]
    assert [run.status for run in runs_of("customer-2")] == [RunStatus.FAILED, RunStatus.SUCCEEDED]


def test_entries_of_a_job_no_longer_configured_wait_and_stop_nothing(clock, settings):
    clock.at(MONDAY.replace(hour=7))
    digest(1)
    ReportJob.entries.schedule(key="eu", schedule=Schedule(cron="0 8 * * *"))
    settings.CRON_CLASSES = [REPORT]
    clock.at(MONDAY.replace(hour=8))
    run_crons()
    assert DigestJob.calls == []
    assert ReportJob.calls == [{}]
    # Configured again, the entry runs its latest missed slot, as a job would.
    settings.CRON_CLASSES = [DIGEST, REPORT]
    clock.at(MONDAY.replace(hour=8, minute=30))
    run_crons()
    assert DigestJob.calls == [1]


def test_h_spreads_entries_of_one_schedule(clock):
    clock.at(MONDAY.replace(hour=7))
    entries = [digest(customer, cron="H 8 * * *") for customer in range(40)]
    minutes = {entry.next_due.minute for entry in entries}
    assert len(minutes) > 20
    for entry in entries:
        expected = resolve_hashes("H 8 * * *", entry.run_name).split()[0]
        assert entry.next_due == MONDAY.replace(hour=8, minute=int(expected))
    assert entries[0].schedule.describe() == f"every day at 08:{entries[0].next_due.minute:02d} UTC"


def test_deleting_an_entry_deletes_its_state_and_keeps_its_runs(clock):
    clock.at(MONDAY.replace(hour=7))
    digest(1)
    clock.at(MONDAY.replace(hour=8))
    run_crons()
    CronEntry.objects.filter(key="customer-1").delete()
    assert not CronJobState.objects.filter(job_name="tests.digest[customer-1]").exists()
    assert len(runs_of("customer-1")) == 1


def test_a_dry_run_reports_a_due_entry_and_writes_nothing(clock):
    clock.at(MONDAY.replace(hour=7))
    digest(1)
    clock.at(MONDAY.replace(hour=8))
    output = run_crons("--dry-run")
    assert "tests.digest[customer-1]" in output
    assert DigestJob.calls == []
    assert not CronJobState.objects.filter(entry__isnull=False).exists()


def test_force_runs_the_jobs_own_schedules_not_the_entries(clock):
    clock.at(MONDAY.replace(hour=7))
    digest(1)
    clock.at(MONDAY.replace(hour=8))
    run_crons("--force", "tests.every_minute")
    assert DigestJob.calls == []


# -- the idle tick ----------------------------------------------------------------


def idle_tick_queries() -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        run_crons("tests.every_minute")
    return [query["sql"] for query in queries.captured_queries]


def test_entries_that_are_not_due_cost_the_idle_tick_nothing(clock):
    clock.at(MONDAY.replace(hour=7))
    run_crons()
    clock.at(MONDAY.replace(hour=7, second=20))
    run_crons("tests.every_minute")  # stores the due moments
    clock.at(MONDAY.replace(hour=7, second=30))
    without = idle_tick_queries()
    CronEntry.objects.schedule_many(
        DigestJob,
        (
            EntrySpec(f"customer-{n}", Schedule(cron="H 8 * * *"), {"customer_id": n})
            for n in range(300)
        ),
    )
    with_entries = idle_tick_queries()
    # One read either way: the job states, and whether any entry is due (none is).
    assert len(with_entries) == len(without) == 1
    assert with_entries == without
    assert "next_due" in with_entries[0]
    assert "cronentry" in with_entries[0].lower()


# -- the bulk form ------------------------------------------------------------------


def test_schedule_many_writes_in_batches_with_a_constant_number_of_statements(clock):
    clock.at(MONDAY.replace(hour=7))
    specs = [
        EntrySpec(f"customer-{n}", Schedule(cron="0 8 * * *"), {"customer_id": n})
        for n in range(1000)
    ]
    with CaptureQueriesContext(connection) as queries:
        done = CronEntry.objects.schedule_many(DigestJob, specs, batch_size=500)
    assert (done.created, done.updated, done.unchanged) == (1000, 0, 0)
    writes = [
        query["sql"]
        for query in queries.captured_queries
        if "cronentry" in query["sql"].lower()
        and query["sql"].lstrip().upper().startswith("INSERT")
    ]
    # One INSERT per batch, or as many as the database's limit on parameters needs.
    fields = [field for field in CronEntry._meta.concrete_fields if not field.primary_key]
    per_insert = connection.ops.bulk_batch_size(fields, specs[:500]) or 500
    assert len(writes) == 2 * -(-500 // per_insert)
    assert len(queries.captured_queries) == len(writes) + 2 * 3  # + read, and a transaction
    assert CronEntry.objects.count() == 1000
    assert set(CronEntry.objects.values_list("next_due", flat=True)) == {MONDAY.replace(hour=8)}
    clock.at(MONDAY.replace(hour=7, minute=30))
    specs[0] = EntrySpec("customer-0", Schedule(cron="0 9 * * *"), {"customer_id": 0})
    specs[1] = EntrySpec(
        "customer-1", Schedule(cron="0 8 * * *"), {"customer_id": 1}, description="x"
    )
    done = CronEntry.objects.schedule_many(DigestJob, specs)
    assert (done.created, done.updated, done.unchanged) == (0, 2, 998)
    first, second = CronEntry.objects.filter(key__in=["customer-0", "customer-1"]).order_by("key")
    assert (first.next_due, first.counts_from) == (
        MONDAY.replace(hour=9),
        MONDAY.replace(hour=7, minute=30),
    )
    assert (second.description, second.counts_from) == ("x", MONDAY.replace(hour=7))


def test_schedule_many_refuses_a_batch_with_a_wrong_entry_and_names_its_key(clock):
    specs = [
        EntrySpec("good", Schedule(cron="0 8 * * *"), {"customer_id": 1}),
        EntrySpec("bad", Schedule(cron="0 8 * *"), {"customer_id": 2}),
    ]
    with pytest.raises(ValidationError) as refused:
        CronEntry.objects.schedule_many(DigestJob, specs)
    assert "bad: cron" in refused.value.message_dict
    assert not CronEntry.objects.exists()
    with pytest.raises(ValidationError, match="E023"):
        CronEntry.objects.schedule_many("tests.nowhere", specs[:1])


# -- cronjobs list / status / next -------------------------------------------------


def cronjobs(*args: str) -> str:
    out = StringIO()
    call_command("cronjobs", *args, stdout=out)
    return out.getvalue()


def test_cronjobs_list_and_status_summarise_entries_and_name_the_failing_ones(clock, settings):
    clock.at(MONDAY.replace(hour=7))
    for customer in (1, 2, 3):
        digest(customer)
    entry = digest(4)
    entry.enabled = False
    entry.save()
    DigestJob.failing.add(2)
    clock.at(MONDAY.replace(hour=8))
    run_crons()
    listed = cronjobs("list", "--wide")
    assert "tests.digest[…]" in listed
    assert "4 entries: 3 enabled, 1 failing" in listed
    status = cronjobs("status")
    assert "tests.digest: 4 entries: 3 enabled, 1 failing; next 2025-01-07 08:00 UTC" in status
    assert "tests.digest[customer-2]: failing, 1 in a row; last failed 2025-01-06 08:00 UTC" in (
        status
    )
    assert "customer-1" not in status
    assert "tests.digest: never run" not in status  # no schedule of its own to report
    assert cronjobs("next", "tests.digest").strip() == "tests.digest runs only through its entries."
    # A failing entry is a warning for a monitor, the jobs being fine.
    out = StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("cronjobs", "status", "--check", stdout=out)
    assert exit_status.value.code == 1
    assert out.getvalue().splitlines()[0] == (
        "CRONJOBS WARNING - 1 entry failing: tests.digest (1)"
    )
    # Its job left CRON_CLASSES: the entries are told, not run.
    settings.CRON_CLASSES = [REPORT]
    assert "tests.digest: 4 entries of a job not in CRON_CLASSES (django_cronjobs.E023)" in (
        cronjobs("status")
    )


# -- crash recovery ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_entry_whose_run_killed_its_process_is_abandoned_and_runs_again(settings):
    import signal
    import subprocess
    import sys

    import time_machine
    from django.utils import timezone

    from django_cronjobs.engine.runner import Runner
    from django_cronjobs.store.due_entries import ENTRY_LEASE
    from tests.conftest import command_line_env
    from tests.jobs import KillingEntryJob

    settings.CRON_CLASSES = ["tests.jobs.KillingEntryJob"]
    entry = KillingEntryJob.entries.schedule(
        key="k", kwargs={"kill": True}, schedule=Schedule(run_every_mins=1)
    )
    now = timezone.now()
    CronEntry.objects.filter(pk=entry.pk).update(
        counts_from=now - timedelta(minutes=5), next_due=now - timedelta(minutes=4)
    )
    killed = subprocess.Popen(
        [sys.executable, "-m", "django", "runcrons", "tests.jobs.KillingEntryJob"],
        env=command_line_env(),
        stdout=subprocess.DEVNULL,
    )
    assert killed.wait(timeout=60) == -signal.SIGKILL
    (run,) = runs_of_code("tests.killing_entry")
    assert run.status == RunStatus.RUNNING
    assert CronJobState.objects.get(entry=entry).locked
    # The dead tick had taken the entry for a lease; once it has passed, the
    # entry is due again and the next tick on this host finds the run dead
    # at once, and runs the slots after it.
    CronEntry.objects.filter(pk=entry.pk).update(kwargs={"kill": False})
    lines: list[str] = []
    with time_machine.travel(now + timedelta(minutes=1), tick=False):
        Runner(write=lines.append).run(["tests.jobs.KillingEntryJob"])
    assert lines[2:] == ["[ ] tests.killing_entry (entries only)"]  # taken: not read yet
    lines.clear()
    with time_machine.travel(now + ENTRY_LEASE + timedelta(seconds=5), tick=False):
        report = Runner(write=lines.append).run(["tests.jobs.KillingEntryJob"])
    assert any(
        line.startswith("[✘] tests.killing_entry[k]: Abandoned: process") for line in lines
    ), lines
    run.refresh_from_db()
    assert run.status == RunStatus.ABANDONED
    outcomes = [result.outcome for result in report.results if result.code.endswith("[k]")]
    assert outcomes[0] == RunStatus.ABANDONED
    assert set(outcomes[1:]) == {RunStatus.SUCCEEDED}
    # The slot of the run that died is not run again; the slots after it are.
    slots = [result.run.slot for result in report.results[1:] if result.run is not None]
    assert run.slot not in slots
    assert slots
    state = CronJobState.objects.get(entry=entry)
    assert not state.locked
    assert state.last_status == RunStatus.SUCCEEDED


def runs_of_code(code: str) -> list[CronJobLog]:
    """The runs of ``code`` that started (not the slots recorded as missed)."""
    runs = CronJobLog.objects.filter(code=code).exclude(status=RunStatus.MISSED)
    return list(runs.order_by("start_time"))


def test_an_edit_made_while_a_tick_runs_keeps_the_moment_it_set(clock):
    from django_cronjobs.store import due_entries

    clock.at(MONDAY.replace(hour=7))
    for customer in (1, 2):
        digest(customer)
    clock.at(MONDAY.replace(hour=8))
    due = due_entries.read_due_entries(["tests.digest"], clock_now(), 10)
    assert [item.entry.key for item in due] == ["customer-1", "customer-2"]
    for item in due:  # both ran their 08:00 slot
        CronJobState.objects.create(
            job_name=item.entry.run_name,
            entry=item.entry,
            last_slot=MONDAY.replace(hour=8),
            last_status=RunStatus.SUCCEEDED,
        )
    clock.at(MONDAY.replace(hour=8, minute=1))
    digest(2, cron="30 8 * * *")  # edited while the tick ran the old schedule
    due_entries.store_next_due([item.entry for item in due], clock_now())
    first, second = CronEntry.objects.order_by("key")
    assert first.next_due == MONDAY.replace(hour=8) + timedelta(days=1)
    assert second.next_due == MONDAY.replace(hour=8, minute=30)


def test_a_tick_takes_due_entries_in_rounds_until_none_is_left(clock, settings):
    settings.CRONJOBS_ENTRIES_PER_TAKE = 2
    clock.at(MONDAY.replace(hour=7))
    for customer in range(5):
        digest(customer)
    clock.at(MONDAY.replace(hour=8))
    run_crons()
    assert sorted(DigestJob.calls) == [0, 1, 2, 3, 4]
    assert set(CronEntry.objects.values_list("next_due", flat=True)) == {
        MONDAY.replace(hour=8) + timedelta(days=1)
    }


def test_ticks_at_once_take_different_entries(clock):
    from django_cronjobs.store import due_entries

    clock.at(MONDAY.replace(hour=7))
    for customer in range(5):
        digest(customer)
    clock.at(MONDAY.replace(hour=8))
    first = due_entries.take_due_entries(["tests.digest"], clock_now(), 3)
    second = due_entries.take_due_entries(["tests.digest"], clock_now(), 3)
    assert [item.entry.key for item in first] == ["customer-0", "customer-1", "customer-2"]
    assert [item.entry.key for item in second] == ["customer-3", "customer-4"]
    assert due_entries.take_due_entries(["tests.digest"], clock_now(), 3) == []
    # Taken, they are not due for anyone until the tick stores their next moment.
    assert len(due_entries.read_due_entries(["tests.digest"], clock_now(), 10)) == 0


# -- signals, mails, overlap and timeouts per entry -------------------------------------


def test_signals_name_the_configured_class_and_the_entry(clock):
    from django_cronjobs.signals import cron_job_finished, cron_job_started

    received = []

    def on_started(sender, code, entry, run, **extra):
        received.append(("started", sender, code, entry, run.entry))

    def on_finished(sender, code, entry, run, status, **extra):
        received.append(("finished", sender, code, entry, status))

    cron_job_started.connect(on_started, sender=DigestJob)
    cron_job_finished.connect(on_finished, sender=DigestJob)
    try:
        clock.at(MONDAY.replace(hour=7))
        digest(1)
        clock.at(MONDAY.replace(hour=8))
        run_crons()
    finally:
        cron_job_started.disconnect(on_started, sender=DigestJob)
        cron_job_finished.disconnect(on_finished, sender=DigestJob)
    assert received == [
        ("started", DigestJob, "tests.digest", "customer-1", "customer-1"),
        ("finished", DigestJob, "tests.digest", "customer-1", RunStatus.SUCCEEDED),
    ]


def test_failure_mails_are_per_entry(clock, settings, monkeypatch):
    from django.core import mail

    settings.ADMINS = (
        ["ops@example.com"]
        if __import__("django").VERSION >= (6, 0)
        else [("Ops", "ops@example.com")]
    )
    settings.CRONJOBS_NOTIFY_FAILURES = True
    monkeypatch.setattr(DigestJob, "MIN_NUM_FAILURES", 2)
    clock.at(MONDAY.replace(hour=7))
    digest(1, cron="0 * * * *")
    digest(2, cron="0 * * * *")
    DigestJob.failing.add(2)
    for hour in (8, 9):
        clock.at(MONDAY.replace(hour=hour))
        run_crons()
    assert [message.subject for message in mail.outbox] == [
        "[Django] Cron job tests.digest[customer-2] failed 2 times in a row"
    ]
    DigestJob.failing.clear()
    clock.at(MONDAY.replace(hour=10))
    run_crons()
    assert mail.outbox[1].subject == "[Django] Cron job tests.digest[customer-2] succeeded again"


def test_an_entry_does_not_overlap_itself_but_its_siblings_run(clock):
    clock.at(MONDAY.replace(hour=7))
    digest(1)
    digest(2)
    # customer-1's previous run still holds its lock (a live run on another host).
    first = CronEntry.objects.get(key="customer-1")
    CronJobState.objects.create(
        job_name=first.run_name,
        entry=first,
        locked=True,
        lock_token="x" * 32,
        lock_expires_at=MONDAY.replace(hour=9),
        last_status=RunStatus.RUNNING,
    )
    clock.at(MONDAY.replace(hour=8))
    output = run_crons()
    assert DigestJob.calls == [2]
    assert "tests.jobs.DigestJob[customer-1]: lock found. Will try later." in output


@pytest.mark.django_db(transaction=True)
def test_an_entry_past_its_timeout_is_stopped_and_its_kwargs_reach_the_child(settings):
    import time_machine

    from django_cronjobs.models import CronJobLog
    from tests.jobs import SleepyEntryJob

    settings.CRON_CLASSES = ["tests.jobs.SleepyEntryJob"]
    with time_machine.travel(MONDAY.replace(hour=7), tick=False):
        for key, seconds in (("quick", 0), ("slow", 30)):
            SleepyEntryJob.entries.schedule(
                key=key, kwargs={"seconds": seconds}, schedule=Schedule(cron="0 8 * * *")
            )
    with time_machine.travel(MONDAY.replace(hour=8), tick=True):
        run_crons()
    runs = {run.entry: run for run in CronJobLog.objects.filter(code="tests.sleepy_entry")}
    assert (runs["quick"].status, runs["quick"].message) == (RunStatus.SUCCEEDED, "slept 0")
    assert runs["slow"].status == RunStatus.TIMED_OUT
