"""Quick jobs due in one tick are claimed, started and recorded in batches.

Each run keeps its guarantees (claimed once, locked, a row before it starts,
its outcome stored); only the commits are shared.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F

from django_cronjobs.engine.runner import Runner
from django_cronjobs.engine.slot_runs import SlotRuns
from django_cronjobs.models import CronJobLog, CronJobState, RunStatus
from django_cronjobs.store import batch_claims
from tests.conftest import command_line_env, refusing_non_ascii, run_crons

T0 = datetime(2025, 1, 6, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
FIRST, SECOND, THIRD = (f"tests.batch_jobs.{name}" for name in ("First", "Second", "Third"))
QUICK = [FIRST, SECOND, THIRD]
MANY = [f"tests.many_jobs.Job{number}" for number in range(50)]


@pytest.fixture
def batched(monkeypatch):
    """The codes of each batch claimed, in order."""
    batches: list[list[str]] = []
    claim_and_start = batch_claims.claim_and_start

    def spy(wanted, token):
        batches.append([claim.code for claim in wanted])
        return claim_and_start(wanted, token)

    monkeypatch.setattr(batch_claims, "claim_and_start", spy)
    return batches


def statements(sent: list[str]) -> list[str]:
    return [sql for sql in sent if not sql.startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))]


def recording_into(sent: list[str]) -> Callable[..., object]:
    """An execute wrapper that keeps the text of each statement as the driver gets it
    (without the parameters)."""

    def record(execute: Callable[..., object], sql: str, *args: object) -> object:
        sent.append(sql)
        return execute(sql, *args)

    return record


def outcomes() -> list[tuple[object, ...]]:
    return list(
        CronJobLog.objects.order_by("code", "slot").values_list(
            "code", "slot", "status", "is_success", "message", "start_time", "end_time",
            "lease_expires_at", "hostname", "ran_at_time",
        )
    )  # fmt: skip


def states() -> list[tuple[object, ...]]:
    runs = {run.pk: (run.code, run.slot) for run in CronJobLog.objects.all()}
    return [
        (*row, runs.get(last_run_id))
        for *row, last_run_id in CronJobState.objects.order_by("job_name").values_list(
            "job_name", "last_slot", "last_status", "last_started_at", "last_finished_at",
            "last_succeeded_at", "failure_streak", "locked", "lock_token", "lock_expires_at",
            "last_run_id",
        )
    ]  # fmt: skip


@pytest.mark.django_db
class TestBusyTick:
    def test_a_batch_costs_the_same_statements_for_5_jobs_as_for_50(self, clock, batched):
        counts, texts = [], []
        for jobs in (5, 50):
            CronJobLog.objects.all().delete()
            CronJobState.objects.all().delete()
            clock.at(T0)
            run_crons(*MANY[:jobs])  # first runs: one at a time
            clock.at(T0 + timedelta(minutes=109))  # each job is due once
            sent: list[str] = []
            with connection.execute_wrapper(recording_into(sent)):
                out = run_crons(*MANY[:jobs])
            assert out.count("[✔]") == jobs
            counts.append(len(statements(sent)))
            texts.append(statements(sent))
        assert [len(batch) for batch in batched] == [5, 50]
        # Read the states; claim (returning what it claimed; MySQL needs a
        # SELECT for that), insert the running rows; store the outcomes,
        # store the states. PostgreSQL claims and inserts in one statement,
        # and stores outcomes and states in another.
        expected = {"mysql": 6, "postgresql": 3}.get(connection.vendor, 5)
        assert counts == [expected, expected], counts
        if connection.vendor == "postgresql":
            # The runs go in as arrays: the same text for 5 runs as for 50,
            # which the driver converts once and PostgreSQL parses quickly.
            assert texts[0] == texts[1]

    def test_batches_record_what_runs_one_at_a_time_record(self, clock, settings, batched):
        jobs = [FIRST, "tests.batch_jobs.Failing", SECOND, THIRD]
        recorded = []
        for batch_seconds in (0, 0.5):
            assert batched == []  # none with batches off
            CronJobLog.objects.all().delete()
            CronJobState.objects.all().delete()
            settings.CRONJOBS_BATCH_SECONDS = batch_seconds
            for minute in range(4):
                clock.at(T0 + minute * MINUTE)
                run_crons(*jobs)
            recorded.append((outcomes(), states()))
        one_at_a_time, together = recorded
        assert together == one_at_a_time
        # The first minute ran each job alone (no duration known yet), the others in batches.
        assert batched == [["batch.first", "batch.failing", "batch.second", "batch.third"]] * 3
        failing = CronJobState.objects.get(job_name="batch.failing")
        assert failing.failure_streak == 4
        assert CronJobLog.objects.filter(status=RunStatus.SUCCEEDED).count() == 12

    def test_lines_come_in_the_order_of_the_jobs(self, clock, batched):
        jobs = [FIRST, "tests.batch_jobs.Failing", SECOND, "tests.jobs.DailyJob", THIRD]
        run_crons(*jobs)
        clock.at(T0 + MINUTE)
        assert run_crons(*jobs).splitlines()[2:] == [
            "[✔] batch.first 00:01 0.000 s",
            "[✘] batch.failing 00:01 0.000 s: ValueError: quick and broken",
            "[✔] batch.second 00:01 0.000 s",
            "[ ] tests.daily next 2025-01-06 02:30 UTC",
            "[✔] batch.third 00:01 0.000 s",
        ]
        assert batched == [["batch.first", "batch.failing", "batch.second", "batch.third"]]

    def test_a_slot_another_process_has_is_left_to_it(self, clock, batched, monkeypatch):
        run_crons(*QUICK)
        clock.at(T0 + MINUTE)
        claim_and_start = batch_claims.claim_and_start

        def claimed_by_another_meanwhile(wanted, token):
            CronJobState.objects.filter(job_name="batch.second").update(last_slot=T0 + MINUTE)
            return claim_and_start(wanted, token)

        monkeypatch.setattr(batch_claims, "claim_and_start", claimed_by_another_meanwhile)
        out = run_crons(*QUICK)
        assert "[ ] batch.second" in out
        assert batched == [["batch.first", "batch.second", "batch.third"]]
        assert not CronJobLog.objects.filter(code="batch.second", slot=T0 + MINUTE).exists()
        assert CronJobLog.objects.filter(slot=T0 + MINUTE, status=RunStatus.SUCCEEDED).count() == 2
        assert not CronJobState.objects.filter(locked=True).exists()

    def test_a_slot_recorded_missed_by_a_stale_process_is_taken_over(self, clock, batched):
        run_crons(*QUICK)
        clock.at(T0 + MINUTE)
        CronJobLog.objects.create(
            code="batch.second", slot=T0 + MINUTE, start_time=T0, status=RunStatus.MISSED
        )
        assert run_crons(*QUICK).count("[✔]") == 3
        run = CronJobLog.objects.get(code="batch.second", slot=T0 + MINUTE)
        assert (run.status, run.message) == (RunStatus.SUCCEEDED, "second")
        state = CronJobState.objects.get(job_name="batch.second")
        assert (state.last_run_id, state.locked) == (run.pk, False)

    def test_without_ids_back_from_the_insert_the_rows_are_found(self, clock, monkeypatch, batched):
        run_crons(*QUICK)
        clock.at(T0 + MINUTE)
        features = type(connection.features)
        monkeypatch.setattr(features, "can_return_rows_from_bulk_insert", False)
        assert run_crons(*QUICK).count("[✔]") == 3
        for state in CronJobState.objects.all():
            run = CronJobLog.objects.get(pk=state.last_run_id)
            assert (run.slot, run.status) == (T0 + MINUTE, RunStatus.SUCCEEDED)
        assert batched == [["batch.first", "batch.second", "batch.third"]]

    def test_a_run_declared_abandoned_meanwhile_keeps_the_verdict(self, clock, batched):
        jobs = [FIRST, "tests.batch_jobs.AbandonedMeanwhile", THIRD]
        run_crons(*jobs)
        # Its first run was abandoned too, and kept the lock: as if it had
        # succeeded.
        CronJobState.objects.filter(job_name="batch.abandonedmeanwhile").update(
            last_status=RunStatus.SUCCEEDED, last_finished_at=F("last_started_at"), locked=False
        )
        clock.at(T0 + MINUTE)
        CronJobLog.objects.all().delete()
        run_crons(*jobs)
        run = CronJobLog.objects.get(code="batch.abandonedmeanwhile")
        assert run.status == RunStatus.ABANDONED
        assert run.message.endswith("[The process finished later: succeeded.]")
        statuses = dict(CronJobLog.objects.values_list("code", "status"))
        assert statuses["batch.first"] == statuses["batch.third"] == RunStatus.SUCCEEDED
        state = CronJobState.objects.get(job_name="batch.abandonedmeanwhile")
        assert state.last_run_id != run.pk
        assert batched == [["batch.first", "batch.abandonedmeanwhile", "batch.third"]]

    def test_a_failure_while_reporting_never_stores_an_outcome_twice(
        self, clock, settings, monkeypatch
    ):
        settings.CRONJOBS_BATCH_SECONDS = 1e-6  # store after every run
        jobs = ["tests.batch_jobs.Failing", FIRST]
        run_crons(*jobs)
        clock.at(T0 + MINUTE)
        reported = SlotRuns.ran

        def broken_pipe(self, run, job_class=None):
            monkeypatch.setattr(SlotRuns, "ran", reported)
            raise BrokenPipeError("cron mail went away")

        monkeypatch.setattr(SlotRuns, "ran", broken_pipe)
        with pytest.raises(BrokenPipeError):
            run_crons(*jobs)
        assert CronJobState.objects.get(job_name="batch.failing").failure_streak == 2
        # First had not started: given back, it runs at the next tick.
        assert list(CronJobLog.objects.filter(slot=T0 + MINUTE).values_list("code", flat=True)) == [
            "batch.failing"
        ]
        assert not CronJobState.objects.filter(locked=True).exists()
        assert "[✔] batch.first" in run_crons(*jobs)

    @pytest.mark.parametrize(("batch_seconds", "seen"), [(1e-6, "succeeded"), (60, "running")])
    def test_outcomes_are_stored_once_the_batch_has_taken_its_time(
        self, clock, settings, batch_seconds, seen
    ):
        settings.CRONJOBS_BATCH_SECONDS = batch_seconds
        jobs = [FIRST, "tests.batch_jobs.FirstIsStored"]
        run_crons(*jobs)
        clock.at(T0 + MINUTE)
        run_crons(*jobs)
        watcher = CronJobLog.objects.filter(code="batch.firstisstored").latest("slot")
        assert watcher.message == seen

    def test_an_interruption_keeps_what_ran_and_gives_back_what_did_not_start(self, clock, batched):
        jobs = [FIRST, "tests.batch_jobs.Terminated", SECOND, THIRD]
        run_crons(FIRST, SECOND, THIRD)
        # Terminated's first run, on its own (it knows no duration yet).
        report = Runner(handle_signals=True, silent=True).run(["tests.batch_jobs.Terminated"])
        assert report.interrupted is not None
        CronJobState.objects.filter(job_name="batch.terminated").update(
            last_status=RunStatus.SUCCEEDED, last_finished_at=F("last_started_at")
        )
        clock.at(T0 + MINUTE)
        report = Runner(handle_signals=True, silent=True).run(jobs)
        assert report.interrupted is not None
        slot = T0 + MINUTE
        ran = dict(CronJobLog.objects.filter(slot=slot).values_list("code", "status"))
        assert ran == {"batch.first": RunStatus.SUCCEEDED, "batch.terminated": "interrupted"}
        # All four were claimed together; the two that never started left no row.
        assert batched == [["batch.first", "batch.terminated", "batch.second", "batch.third"]]
        for code in ("batch.second", "batch.third"):
            state = CronJobState.objects.get(job_name=code)
            assert (state.last_slot, state.last_status, state.locked) == (
                T0,
                RunStatus.SUCCEEDED,
                False,
            )
        # The next tick runs the slots given back, and only those.
        out = run_crons(*jobs)
        assert out.splitlines()[2:] == [
            "[ ] batch.first next 2025-01-06 00:02 UTC",
            "[ ] batch.terminated next 2025-01-06 00:02 UTC",
            "[✔] batch.second 00:01 0.000 s",
            "[✔] batch.third 00:01 0.000 s",
        ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "change",
    [
        "never ran",
        "slow last run",
        "parallel runs",
        "timeout",
        "no batches",
        "file lock",
        "concurrency",
    ],
)
def test_these_jobs_run_on_their_own(clock, settings, batched, monkeypatch, change):
    from tests.batch_jobs import Second

    jobs = [FIRST, THIRD, SECOND]
    if change != "never ran":
        run_crons(*jobs)
    clock.at(T0 + MINUTE)
    if change == "slow last run":
        CronJobState.objects.filter(job_name="batch.second").update(
            last_finished_at=F("last_started_at") + timedelta(seconds=0.6)
        )
    elif change == "parallel runs":
        monkeypatch.setattr(Second, "ALLOW_PARALLEL_RUNS", True)
    elif change == "timeout":
        monkeypatch.setattr(Second, "TIMEOUT_SECONDS", 30)
    elif change == "no batches":
        settings.CRONJOBS_BATCH_SECONDS = 0
    elif change == "file lock":
        settings.CRONJOBS_LOCK_BACKEND = "file"
    report = Runner(concurrency=2 if change == "concurrency" else 1).run(jobs)
    assert [result.outcome for result in report.results] == ["succeeded"] * 3
    assert CronJobLog.objects.filter(slot=T0 + MINUTE, status=RunStatus.SUCCEEDED).count() == 3
    if change in ("never ran", "no batches", "file lock", "concurrency"):
        assert batched == []
    else:
        assert batched == [["batch.first", "batch.third"]]


@pytest.mark.django_db(transaction=True)
def test_a_batch_claim_the_database_picks_as_a_deadlock_victim_is_tried_again(
    clock, batched, monkeypatch
):
    from django.db import OperationalError

    from django_cronjobs.store import claims

    run_crons(*QUICK)
    clock.at(T0 + MINUTE)
    new_run = claims.new_run
    victims = iter([OperationalError(1213, "Deadlock found when trying to get lock")])

    def deadlocking_once(*args, **kwargs):
        # Within the batch's claim: before PostgreSQL's one statement; elsewhere
        # after the UPDATE that claimed the slots, which the database rolls back.
        error = next(victims, None)
        if error is not None:
            raise error
        return new_run(*args, **kwargs)

    monkeypatch.setattr(claims, "new_run", deadlocking_once)
    assert run_crons(*QUICK).count("[✔]") == 3
    assert batched == [["batch.first", "batch.second", "batch.third"]]
    assert CronJobLog.objects.filter(slot=T0 + MINUTE, status=RunStatus.SUCCEEDED).count() == 3
    assert not CronJobState.objects.filter(locked=True).exists()


@pytest.mark.django_db(transaction=True)
def test_messages_the_database_refuses_are_stored_escaped(clock, batched, monkeypatch, caplog):
    from tests.batch_jobs import First

    run_crons(*QUICK)
    clock.at(T0 + MINUTE)
    monkeypatch.setattr(First, "do", lambda self: "first \N{PARTY POPPER}")
    monkeypatch.setattr(batch_claims, "finish_runs", refusing_non_ascii(batch_claims.finish_runs))
    assert run_crons(*QUICK).count("[✔]") == 3
    assert batched == [["batch.first", "batch.second", "batch.third"]]
    messages = dict(CronJobLog.objects.filter(slot=T0 + MINUTE).values_list("code", "message"))
    assert messages == {
        "batch.first": "first \\U0001f389",
        "batch.second": "second",
        "batch.third": "third",
    }
    assert not CronJobState.objects.filter(locked=True).exists()
    assert (
        'Storing the outcomes of 3 runs failed ((1366, "Incorrect string value: '
        "'\\xF0\\x9F\\x8E\\x89'\")\nmore); retrying"
    ) in caplog.messages


def early_in_a_minute() -> None:
    """Tests on the real clock: begin early in a minute, so that all their ticks fall
    in it (a tick in the next minute would see a missed slot and run jobs alone)."""
    now = datetime.now(UTC)
    second = now.second + now.microsecond / 1_000_000
    if second > 40:
        time.sleep(60.5 - second)


def due_again() -> None:
    """Every job's history a minute earlier: due once more, on the real clock."""
    CronJobLog.objects.update(slot=F("slot") - MINUTE)
    CronJobState.objects.update(last_slot=F("last_slot") - MINUTE, next_due=None, due_key="")


@pytest.mark.django_db(transaction=True)
def test_the_batch_heartbeat_keeps_every_run_of_the_batch_alive(settings):
    early_in_a_minute()
    settings.CRONJOBS_LEASE_SECONDS = 0.4
    settings.CRONJOBS_BATCH_SECONDS = 5
    jobs = [FIRST, "tests.batch_jobs.LeaseWatching", THIRD]
    Runner(silent=True).run(jobs)
    due_again()
    report = Runner(silent=True).run(jobs)
    assert [result.outcome for result in report.results] == ["succeeded"] * 3
    watcher = CronJobLog.objects.filter(code="batch.leasewatching").latest("pk")
    before, after = (eval(line) for line in watcher.message.splitlines())
    # First (finished, outcome not stored yet), LeaseWatching, Third (not started).
    assert len(before) == len(after) == 3
    assert all(later > earlier for earlier, later in zip(before, after, strict=True))
    assert not CronJobLog.objects.filter(lease_expires_at__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_slow_job_gives_the_batch_s_unstarted_runs_back(settings, batched):
    early_in_a_minute()
    settings.CRONJOBS_BATCH_SECONDS = 0.1  # given back after 1.1 s
    jobs = [FIRST, "tests.batch_jobs.WaitsForThird", THIRD]
    Runner(silent=True).run(jobs)
    due_again()
    report = Runner(silent=True).run(jobs)
    assert [result.outcome for result in report.results] == ["succeeded"] * 3
    assert batched == [["batch.first", "batch.waitsforthird", "batch.third"]]
    watcher = CronJobLog.objects.filter(code="batch.waitsforthird").latest("pk")
    # While it ran, Third's claim and lock were given back; Third ran after it.
    assert watcher.message == "given back"
    assert CronJobLog.objects.filter(code="batch.third").count() == 2
    assert not CronJobState.objects.filter(locked=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_batch_killed_midway_is_recorded_abandoned_and_unlocked():
    early_in_a_minute()
    jobs = [FIRST, "tests.batch_jobs.KilledSecondTime", THIRD]
    Runner(silent=True).run(jobs)
    due_again()
    killed = subprocess.Popen(
        [sys.executable, "-m", "django", "runcrons", *jobs],
        env=command_line_env(),
        stdout=subprocess.DEVNULL,
    )
    assert killed.wait(timeout=60) == -signal.SIGKILL
    # First ran and Third was claimed: both wait for an outcome, as the
    # killed run does.
    assert CronJobLog.objects.running().count() == 3
    call_command("runcrons", "tests.jobs.EveryMinuteJob", "--force", verbosity=0, silent=True)
    abandoned = CronJobLog.objects.filter(status=RunStatus.ABANDONED, pid=killed.pid)
    assert sorted(abandoned.values_list("code", flat=True)) == [
        "batch.first",
        "batch.killedsecondtime",
        "batch.third",
    ]
    assert not CronJobState.objects.filter(locked=True).exists()
