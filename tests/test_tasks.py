"""Jobs handed to Django's Tasks framework: runcrons enqueues, a worker runs.

The slot is claimed once as for any run; the task's worker moves the run
from ``enqueued`` to ``running`` (once), runs it and records its outcome in
the same CronJobLog row; a run that no worker starts by its deadline is
abandoned.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import UTC, datetime, timedelta

import pytest

from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronJobLog, CronJobState, RunStatus
from django_cronjobs.queued.worker import run_enqueued
from tests.conftest import run_crons

T0 = datetime(2025, 1, 6, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
IMMEDIATE = "tests.task_jobs.TaskJob"
QUEUED = "tests.task_jobs.QueuedJob"

pytestmark = pytest.mark.django_db


def test_a_run_goes_through_the_task_and_lands_in_its_row(clock):
    assert run_crons(IMMEDIATE).splitlines()[2:] == ["[✔] tasks.immediate 00:00 0.000 s"]
    run = CronJobLog.objects.get()
    assert (run.status, run.is_success, run.slot) == (RunStatus.SUCCEEDED, True, T0)
    assert run.message == f"pid {os.getpid()}"
    assert run.task_id
    state = CronJobState.objects.get()
    assert (state.locked, state.last_run_id, state.last_status) == (False, run.pk, "succeeded")
    clock.at(T0 + MINUTE)
    run_crons(IMMEDIATE)
    assert CronJobLog.objects.filter(status=RunStatus.SUCCEEDED).count() == 2


def test_a_failed_task_run_is_retried_as_any_failed_run(clock):
    from tests.task_jobs import RetriedOnTheWorker

    try:
        assert "[✘] tasks.retried" in run_crons("tests.task_jobs.RetriedOnTheWorker")
        assert CronJobState.objects.get().failure_streak == 1
        clock.at(T0 + 4 * MINUTE)
        assert "[ ] tasks.retried" in run_crons("tests.task_jobs.RetriedOnTheWorker")
        RetriedOnTheWorker.fail = False
        clock.at(T0 + 5 * MINUTE)
        assert "[✔] tasks.retried" in run_crons("tests.task_jobs.RetriedOnTheWorker")
    finally:
        RetriedOnTheWorker.fail = True
    statuses = list(CronJobLog.objects.order_by("pk").values_list("status", "task_id"))
    assert [status for status, _ in statuses] == ["failed", "succeeded"]
    assert all(task_id for _, task_id in statuses)
    assert CronJobState.objects.get().failure_streak == 0


def test_an_enqueued_run_holds_the_lock_until_its_deadline_then_is_abandoned(clock, settings):
    settings.CRONJOBS_TASK_START_SECONDS = 300
    out = run_crons(QUEUED)
    run = CronJobLog.objects.get()
    assert out.splitlines()[2:] == [f"[→] tasks.queued (task {run.task_id} on dummy)"]
    assert run.status == RunStatus.ENQUEUED
    assert run.lease_expires_at == T0 + timedelta(seconds=300)
    state = CronJobState.objects.get()
    assert state.locked
    assert state.lock_expires_at == T0 + timedelta(seconds=300)
    # No worker: the next slots wait for the lock (no overlap) ...
    clock.at(T0 + 2 * MINUTE)
    report = Runner().run([QUEUED])
    assert [result.outcome for result in report.results] == ["locked"]
    # ... until the deadline, when the run is abandoned and the job goes on.
    clock.at(T0 + 6 * MINUTE)
    report = Runner().run([QUEUED])
    run.refresh_from_db()
    assert run.status == RunStatus.ABANDONED
    assert f"no worker started task {run.task_id}" in run.message
    assert [result.outcome for result in report.results] == [RunStatus.ABANDONED, "enqueued"]
    assert CronJobLog.objects.filter(status=RunStatus.ENQUEUED).count() == 1


def test_a_task_delivered_twice_runs_the_job_once(clock):
    run_crons(QUEUED)
    run = CronJobLog.objects.get()
    token = CronJobState.objects.get().lock_token
    assert run_enqueued(run.pk, QUEUED, token) == RunStatus.SUCCEEDED
    assert run_enqueued(run.pk, QUEUED, token) == "not started: succeeded"
    run.refresh_from_db()
    assert (run.status, run.message) == (RunStatus.SUCCEEDED, "ran")
    assert run.pid == os.getpid()
    state = CronJobState.objects.get()
    assert (state.locked, state.last_run_id) == (False, run.pk)


def test_a_worker_whose_lock_is_gone_does_not_start_the_run(clock):
    run_crons(QUEUED)
    run = CronJobLog.objects.get()
    token = CronJobState.objects.get().lock_token
    # The lock ran out and another runcrons took it for a later slot.
    CronJobState.objects.update(lock_token="another", lock_expires_at=T0 + 10 * MINUTE)
    assert run_enqueued(run.pk, QUEUED, token) == "not started: lock gone"
    run.refresh_from_db()
    assert run.status == RunStatus.ENQUEUED  # rolled back: the deadline decides
    assert CronJobState.objects.get().lock_token == "another"


def test_a_slot_recorded_missed_by_a_stale_process_is_enqueued_in_that_row(clock):
    from django_cronjobs.queued.enqueue import enqueue
    from django_cronjobs.store import claims
    from django_cronjobs.store.job_states import ensure_states
    from tests.task_jobs import QueuedJob

    ensure_states([QueuedJob.code])
    assert claims.claim(QueuedJob.code, T0, None)
    CronJobLog.objects.create(
        code=QueuedJob.code, slot=T0, start_time=T0, status=RunStatus.MISSED, message="Missed"
    )
    run = enqueue(QueuedJob, T0, None, None, "dummy")
    assert run is not None
    assert CronJobLog.objects.get().pk == run.pk
    assert (run.status, run.message) == (RunStatus.ENQUEUED, "")
    assert run.task_id


def test_a_worker_past_the_deadline_does_not_start_the_run(clock, settings):
    settings.CRONJOBS_TASK_START_SECONDS = 60
    run_crons(QUEUED)
    run = CronJobLog.objects.get()
    clock.at(T0 + 2 * MINUTE)
    assert run_enqueued(run.pk, QUEUED, "") == "not started: enqueued"
    run.refresh_from_db()
    assert run.status == RunStatus.ENQUEUED  # the next runcrons abandons it


def test_a_backend_that_refuses_the_task_fails_the_run_and_frees_the_lock(
    clock, monkeypatch, finished_runs
):
    from django_cronjobs import tasks
    from tests.task_jobs import QueuedJob

    def refuse(*args, **kwargs):
        raise ConnectionError("queue is down")

    task = tasks.run_cron_job.using(backend="dummy")
    monkeypatch.setattr(type(task), "enqueue", refuse)
    report = Runner().run([QueuedJob])
    run = CronJobLog.objects.get()
    assert (run.status, run.is_success) == (RunStatus.FAILED, False)
    assert "queue is down" in run.message
    assert [result.outcome for result in report.results] == ["failed"]
    assert not CronJobState.objects.get().locked
    assert finished_runs == [("tasks.queued", "", "failed")]


def test_the_setting_hands_every_job_over_unless_it_says_no(clock, settings):
    settings.CRONJOBS_TASK_BACKEND = "dummy"
    run_crons("tests.task_jobs.FollowsTheSetting", "tests.task_jobs.StaysInRuncrons")
    statuses = dict(CronJobLog.objects.values_list("code", "status"))
    assert statuses == {"tasks.follows": "enqueued", "tasks.stays": "succeeded"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("alias", "task backend 'nowhere' is not usable"),
        ("lock", "needs the 'database' lock backend"),
    ],
)
def test_a_job_that_cannot_be_handed_over_is_reported_and_the_others_run(
    clock, settings, change, reason
):
    settings.CRON_CLASSES = ["tests.task_jobs.FollowsTheSetting", "tests.task_jobs.StaysInRuncrons"]
    if change == "alias":
        settings.CRONJOBS_TASK_BACKEND = "nowhere"
    else:
        settings.CRONJOBS_LOCK_BACKEND = "file"
        settings.CRONJOBS_TASK_BACKEND = "dummy"
    report = Runner().run()
    broken, ran = report.results
    assert (broken.outcome, ran.outcome) == ("broken", "succeeded")
    assert reason in broken.detail
    from django_cronjobs.checks import check_task_backends

    assert [error.id for error in check_task_backends()] == ["django_cronjobs.E019"]


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_dies_mid_run_leaves_an_abandoned_run_and_a_free_lock():
    from django.db import connections

    Runner().run(["tests.task_jobs.DiesOnTheWorker"])
    run = CronJobLog.objects.get()
    token = CronJobState.objects.get().lock_token
    connections.close_all()
    worker = multiprocessing.get_context("fork").Process(
        target=run_enqueued, args=(run.pk, "tests.task_jobs.DiesOnTheWorker", token)
    )
    worker.start()
    worker.join(timeout=60)
    assert worker.exitcode == -signal.SIGKILL
    run.refresh_from_db()
    assert (run.status, run.pid) == (RunStatus.RUNNING, worker.pid)
    # The next runcrons on this host sees the worker's process gone.
    Runner().run(["tests.task_jobs.TaskJob"])
    run.refresh_from_db()
    assert run.status == RunStatus.ABANDONED
    assert f"process {worker.pid}" in run.message
    assert not CronJobState.objects.get(job_name="tasks.dies").locked


def test_an_entry_goes_through_the_task_with_its_kwargs(clock, settings, finished_runs):
    from django_cronjobs import Schedule
    from django_cronjobs.models import CronEntry
    from tests.task_jobs import EntryTaskJob, QueuedEntryJob

    settings.CRON_CLASSES = ["tests.task_jobs.EntryTaskJob", "tests.task_jobs.QueuedEntryJob"]
    EntryTaskJob.entries.schedule(key="seven", kwargs={"n": 7}, schedule=Schedule(run_every_mins=1))
    QueuedEntryJob.entries.schedule(
        key="eight", kwargs={"n": 8}, schedule=Schedule(run_every_mins=1)
    )
    clock.at(T0 + MINUTE)
    output = run_crons()
    assert "[✔] tasks.entries[seven]" in output
    run = CronJobLog.objects.get(code="tasks.entries")
    assert (run.entry, run.status, run.slot) == ("seven", RunStatus.SUCCEEDED, T0 + MINUTE)
    assert run.message == f"entry 7 in pid {os.getpid()}"
    assert run.task_id
    # A worker picks the queued entry's task up, twice: it runs once, with the entry's kwargs.
    queued = CronJobLog.objects.get(code="tasks.queued_entries")
    assert (queued.entry, queued.status) == ("eight", RunStatus.ENQUEUED)
    state = CronJobState.objects.get(entry__key="eight")
    assert state.locked
    path = "tests.task_jobs.QueuedEntryJob"
    assert run_enqueued(queued.pk, path, state.lock_token) == RunStatus.SUCCEEDED
    assert run_enqueued(queued.pk, path, state.lock_token) == "not started: succeeded"
    queued.refresh_from_db()
    assert (queued.status, queued.message) == (RunStatus.SUCCEEDED, "entry 8")
    state.refresh_from_db()
    assert (state.locked, state.last_run_id) == (False, queued.pk)
    # An entry deleted while its task waits: the task does not start, and
    # the run says why (its state row, which recovery reads, went with it).
    clock.at(T0 + 2 * MINUTE)
    run_crons()
    waiting = CronJobLog.objects.get(code="tasks.queued_entries", status=RunStatus.ENQUEUED)
    token = CronJobState.objects.get(entry__key="eight").lock_token
    CronEntry.objects.filter(key="eight").delete()
    assert run_enqueued(waiting.pk, path, token) == "not started: lock gone"
    waiting.refresh_from_db()
    assert waiting.status == RunStatus.FAILED
    assert "the entry tasks.queued_entries[eight] was deleted" in waiting.message
    assert finished_runs[-1] == ("tasks.queued_entries", "eight", "failed")


def test_a_worker_that_cannot_import_the_job_fails_the_run_and_says_so(
    clock, settings, finished_runs
):
    settings.CRON_CLASSES = [QUEUED]
    run_crons(QUEUED)
    run = CronJobLog.objects.get()
    token = CronJobState.objects.get().lock_token
    assert run_enqueued(run.pk, "tests.task_jobs.Renamed", token) == RunStatus.FAILED
    run.refresh_from_db()
    assert run.message.startswith("Cannot import the job 'tests.task_jobs.Renamed'")
    assert not CronJobState.objects.get().locked
    assert finished_runs == [("tasks.queued", "", "failed")]
