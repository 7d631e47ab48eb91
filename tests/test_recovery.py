"""Runs whose process died are found, recorded as abandoned, and never block the job."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections

from django_cronjobs.engine import recovery, slot_runs
from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronJobLog, CronJobState, RunStatus
from django_cronjobs.schedules.wallclock import floor_minute
from django_cronjobs.store import claims, processes
from django_cronjobs.store.job_states import ensure_states
from tests import jobs
from tests.conftest import command_line_env, run_crons, runcrons_command

T0 = datetime(2025, 1, 6, tzinfo=UTC)
EVERY_MINUTE = "tests.jobs.EveryMinuteJob"


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def crashed_run(
    host: str,
    pid: int,
    lease_until: datetime,
    host_id: str = "",
    process_started: int | None = None,
) -> CronJobLog:
    """What a process that died mid-run leaves behind: a running row and a lock."""
    if not host_id:
        host_id = claims.host_id() if host == claims.hostname() else f"{host}|boot|ns"
    CronJobState.objects.create(
        job_name="tests.every_minute",
        last_slot=T0 - timedelta(minutes=1),
        last_status=RunStatus.RUNNING,
        locked=True,
        lock_token="theirs",
        lock_expires_at=lease_until,
        locked_by_host=host,
        locked_by_pid=pid,
    )
    return CronJobLog.objects.create(
        code="tests.every_minute",
        slot=T0 - timedelta(minutes=1),
        start_time=T0 - timedelta(minutes=1),
        status=RunStatus.RUNNING,
        hostname=host,
        host_id=host_id,
        pid=pid,
        process_started=process_started,
        lease_expires_at=lease_until,
    )


@pytest.mark.django_db
def test_a_dead_process_on_this_host_is_abandoned_at_once(clock):
    pid = dead_pid()
    crashed = crashed_run(claims.hostname(), pid, T0 + timedelta(minutes=2))
    out = run_crons(EVERY_MINUTE)
    assert f"process {pid} on {claims.hostname()} is gone" in out
    assert "[✔] tests.every_minute" in out
    crashed.refresh_from_db()
    assert crashed.status == RunStatus.ABANDONED
    assert not crashed.is_success
    assert crashed.end_time == T0
    assert CronJobLog.objects.get(slot=T0).is_success


@pytest.mark.django_db
def test_a_pid_that_now_belongs_to_another_process_does_not_keep_a_dead_run(clock):
    # The run's process died; the kernel gave its pid to an unrelated one.
    stranger = subprocess.Popen(["sleep", "30"])
    try:
        started = processes.start_time(stranger.pid)
        assert started is not None
        crashed_run(
            claims.hostname(), stranger.pid, T0 + timedelta(minutes=2), process_started=started - 1
        )
        out = run_crons(EVERY_MINUTE)
    finally:
        stranger.kill()
        stranger.wait()
    assert f"process {stranger.pid} on {claims.hostname()} is gone" in out
    assert "its pid now belongs to another process" in out
    assert "[✔] tests.every_minute" in out
    assert CronJobLog.objects.get(slot=T0 - timedelta(minutes=1)).status == RunStatus.ABANDONED


@pytest.mark.django_db
def test_the_run_of_a_live_process_with_its_start_time_is_left_alone(clock):
    crashed_run(
        claims.hostname(),
        os.getppid(),
        T0 - timedelta(hours=1),
        process_started=processes.start_time(os.getppid()),
    )
    report = Runner().run([EVERY_MINUTE])
    assert [result.outcome for result in report.results] == ["locked"]
    assert CronJobLog.objects.get().status == RunStatus.RUNNING


def _process_with_pid(pid: int) -> subprocess.Popen[bytes] | None:
    """Start a process that the kernel gives ``pid`` (Linux, as root), or None."""
    for _ in range(20):
        try:
            with open("/proc/sys/kernel/ns_last_pid", "w") as last_pid:
                last_pid.write(str(pid - 1))
        except OSError:
            return None
        process = subprocess.Popen(["sleep", "60"])
        if process.pid == pid:
            return process
        process.kill()
        process.wait()
    return None


@pytest.mark.django_db(transaction=True)
def test_a_killed_runcrons_whose_pid_is_reused_is_abandoned():
    # The OOM killer's case: runcrons dies mid-run, and the next process that
    # starts on the host gets its pid.
    env = command_line_env(CRONJOBS_TEST_SLEEP="60")
    killed = subprocess.Popen(
        [sys.executable, "-m", "django", "runcrons", "tests.jobs.SleepingJob"],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not CronJobLog.objects.running().exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    killed.kill()
    killed.wait()
    impostor = _process_with_pid(killed.pid)
    if impostor is None:
        if os.geteuid() == 0 and os.environ.get("CRONJOBS_REQUIRE_SERVICES") == "1":
            pytest.fail("cannot hand a pid out again here (/proc/sys/kernel/ns_last_pid)")
        pytest.skip("handing a pid out again needs root on Linux")
    try:
        Runner(silent=True).run(["tests.jobs.EveryMinuteJob"])
    finally:
        impostor.kill()
        impostor.wait()
    run = CronJobLog.objects.get(code="tests.sleeping", pid=killed.pid)
    assert run.status == RunStatus.ABANDONED
    assert "its pid now belongs to another process" in run.message
    assert not CronJobState.objects.get(job_name="tests.sleeping").locked


@pytest.mark.django_db
def test_another_hosts_run_is_abandoned_only_after_its_lease(clock):
    crashed = crashed_run("elsewhere", 4242, T0 + timedelta(minutes=2))
    assert "lock found" in run_crons(EVERY_MINUTE)
    crashed.refresh_from_db()
    assert crashed.status == RunStatus.RUNNING
    clock.at(T0 + timedelta(minutes=2, seconds=1))
    out = run_crons(EVERY_MINUTE)
    assert "no heartbeat from process 4242 on elsewhere" in out
    assert "[✔] tests.every_minute" in out
    crashed.refresh_from_db()
    assert crashed.status == RunStatus.ABANDONED
    assert "lease expired" in crashed.message


@pytest.mark.django_db
@pytest.mark.parametrize("lease", [timedelta(minutes=2), -timedelta(hours=1)])
def test_a_live_process_on_this_host_is_left_alone_even_when_its_lease_lags(clock, lease):
    crashed_run(claims.hostname(), os.getppid(), T0 + lease)
    report = Runner().run([EVERY_MINUTE])
    assert [result.outcome for result in report.results] == ["locked"]
    assert CronJobLog.objects.get().status == RunStatus.RUNNING


@pytest.mark.django_db
def test_a_clone_with_the_same_hostname_is_not_taken_for_this_host(clock):
    # A cloned VM or a container on the host network: same name, other pids.
    crashed_run(claims.hostname(), dead_pid(), T0 + timedelta(minutes=2), host_id="clone|b|n")
    report = Runner().run([EVERY_MINUTE])
    assert [result.outcome for result in report.results] == ["locked"]
    assert CronJobLog.objects.get().status == RunStatus.RUNNING


@pytest.mark.django_db
def test_an_abandoned_run_counts_as_a_failure_for_retries(clock, settings):
    pid = dead_pid()
    CronJobState.objects.create(
        job_name="tests.retrying",
        last_slot=T0,
        last_status=RunStatus.RUNNING,
        last_started_at=T0,
    )
    CronJobLog.objects.create(
        code="tests.retrying",
        slot=T0,
        start_time=T0,
        status=RunStatus.RUNNING,
        hostname=claims.hostname(),
        host_id=claims.host_id(),
        pid=pid,
    )
    clock.at(T0 + timedelta(minutes=1))
    run_crons("tests.jobs.RetryingJob")
    assert CronJobState.objects.get().last_status == RunStatus.ABANDONED
    clock.at(T0 + timedelta(minutes=5))
    assert "[✘] tests.retrying" in run_crons("tests.jobs.RetryingJob")


@pytest.mark.django_db(transaction=True)
def test_a_killed_runcrons_is_recorded_and_the_next_tick_runs(settings):
    killed = subprocess.Popen(
        [sys.executable, "-m", "django", "runcrons", "tests.jobs.SelfKillingJob"],
        env=command_line_env(),
        stdout=subprocess.DEVNULL,
    )
    assert killed.wait(timeout=60) == -signal.SIGKILL
    run = CronJobLog.objects.get(code="tests.self_killing")
    assert run.status == RunStatus.RUNNING
    assert CronJobState.objects.get(job_name="tests.self_killing").locked
    lines: list[str] = []
    report = Runner(force=True, write=lines.append).run(["tests.jobs.EveryMinuteJob"])
    # Told, not counted: the dead run is another job's than this tick's.
    assert any(line.startswith("[✘] tests.self_killing: Abandoned: process") for line in lines)
    assert [result.outcome for result in report.results] == [RunStatus.SUCCEEDED]
    run.refresh_from_db()
    assert run.status == RunStatus.ABANDONED
    assert run.pid == killed.pid
    assert run.hostname == claims.hostname()
    assert not CronJobState.objects.get(job_name="tests.self_killing").locked


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_pushes_the_lease_forward(settings):
    settings.CRONJOBS_LEASE_SECONDS = 0.4
    run_crons("tests.jobs.LeaseWatchingJob")
    run = CronJobLog.objects.get()
    assert run.is_success, run.message
    before, after = (datetime.fromisoformat(text) for text in run.message.split())
    assert after - before >= timedelta(seconds=0.5)
    assert run.lease_expires_at is None


def _run_long_job(lease: float) -> None:
    from django.conf import settings

    connections.close_all()
    settings.CRONJOBS_LEASE_SECONDS = lease
    os.environ["CRONJOBS_TEST_SLEEP"] = "5"
    report = Runner(silent=True).run(["tests.jobs.SleepingJob"])
    os._exit(0 if [result.outcome for result in report.results] == ["succeeded"] else 1)


@pytest.mark.django_db(transaction=True)
def test_a_live_long_job_on_another_host_is_never_taken_for_dead(settings, monkeypatch):
    # Leases of 2 s, renewed every 0.5 s, over a 5 s run: several leases.
    settings.CRONJOBS_LEASE_SECONDS = 2
    connections.close_all()
    child = multiprocessing.get_context("fork").Process(target=_run_long_job, args=(2,))
    child.start()
    deadline = time.monotonic() + 10
    while not CronJobLog.objects.running().exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # This process plays another host: it cannot see the child's pid.
    monkeypatch.setattr(recovery, "host_id", lambda: "another-host|boot|ns")
    outcomes = []
    # Ticks from "another host" while the job runs, lease after lease.
    while CronJobLog.objects.running().exists():
        report = Runner(force=True, silent=True).run(["tests.jobs.SleepingJob"])
        outcomes += [result.outcome for result in report.results]
        time.sleep(0.1)
    child.join()
    assert child.exitcode == 0
    assert len(outcomes) > 5
    # Each tick that started while the run was running found it locked; at
    # most the last one started after the run ended.
    assert set(outcomes[:-1]) == {"locked"}
    assert not CronJobLog.objects.filter(status=RunStatus.ABANDONED).exists()
    assert CronJobLog.objects.filter(status=RunStatus.SUCCEEDED, slot__isnull=False).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("signum", "returncode"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_records_the_run_as_interrupted_and_frees_the_lock(signum, returncode):
    env = command_line_env(CRONJOBS_TEST_SLEEP="30")
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "runcrons", "tests.jobs.SleepingJob", "tests.daily"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    # Signal as soon as the run is recorded: the bookkeeping around do() must
    # not be cut in half.
    while not CronJobLog.objects.running().exists():
        assert time.monotonic() < deadline, process.communicate()
        time.sleep(0.002)
    process.send_signal(signum)
    out, err = process.communicate(timeout=20)
    assert process.returncode == returncode, err
    run = CronJobLog.objects.get(code="tests.sleeping")
    assert run.status == RunStatus.INTERRUPTED
    assert signal.Signals(signum).name in run.message or "KeyboardInterrupt" in run.message
    assert run.end_time is not None
    assert not CronJobState.objects.get(job_name="tests.sleeping").locked
    assert "interrupted" in err
    # The tick stops: the jobs after the interrupted one do not start.
    assert "[✘] tests.sleeping" in out
    assert "tests.daily" not in out


@pytest.mark.django_db
def test_a_run_finishing_after_it_was_abandoned_keeps_the_verdict(clock):
    ensure_states(["tests.every_minute"])
    assert claims.claim("tests.every_minute", T0, None)
    run = claims.start_run("tests.every_minute", T0, None)
    CronJobLog.objects.filter(pk=run.pk).update(status=RunStatus.ABANDONED, message="Abandoned")
    CronJobState.objects.filter(job_name="tests.every_minute").update(
        last_status=RunStatus.RUNNING, last_run_id=None
    )  # a newer run of the job is running now
    run.status, run.is_success, run.message = RunStatus.SUCCEEDED, True, "done"
    assert claims.finish_run(run, None) is False
    run.refresh_from_db()
    assert run.status == RunStatus.ABANDONED
    assert run.message == "Abandoned\n[The process finished later: succeeded.]"
    state = CronJobState.objects.get(job_name="tests.every_minute")
    assert (state.last_status, state.last_run_id) == (RunStatus.RUNNING, None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["exit0", "sigkill", "sigsegv"])
def test_a_job_that_kills_its_process_does_not_starve_the_jobs_after_it(how):
    # Listed first, it ends the first tick before the other job can run.
    jobs = ("tests.jobs.ProcessKillingJob", "tests.jobs.EveryInvocationJob")
    first = runcrons_command(*jobs, CRONJOBS_TEST_CRASH=how)
    assert first.returncode == (
        0 if how == "exit0" else -signal.SIGKILL if how == "sigkill" else -signal.SIGSEGV
    )
    assert not CronJobLog.objects.filter(code="tests.every_invocation").exists()
    for _ in range(3):
        tick = runcrons_command(*jobs, CRONJOBS_TEST_CRASH=how)
        # The crash found, the other job run first, the crashing one in a child.
        assert tick.returncode == 1, tick.stderr
        assert "[✔] tests.every_invocation" in tick.stdout
        assert "[✘] tests.process_killing" in tick.stdout
    assert CronJobLog.objects.filter(code="tests.every_invocation", is_success=True).count() == 3
    crashes = CronJobLog.objects.filter(code="tests.process_killing").order_by("pk")
    assert [run.status for run in crashes] == [RunStatus.ABANDONED] * 4
    assert "ended without an outcome" in crashes.last().message
    assert not CronJobLog.objects.running().exists()
    assert not CronJobState.objects.filter(locked=True).exists()


@pytest.mark.django_db
def test_a_job_whose_last_run_died_runs_after_the_others(clock, monkeypatch):
    # Where no child process can be started (no DJANGO_SETTINGS_MODULE), the
    # order alone keeps a crashing job from taking the others down.
    monkeypatch.setattr(slot_runs, "can_spawn", lambda: False)
    crashed_run(claims.hostname(), dead_pid(), T0 + timedelta(minutes=2))
    clock.at(T0 + timedelta(minutes=5))
    report = Runner().run([EVERY_MINUTE, "tests.jobs.EveryFiveMinutesJob"])
    assert report.results[0].outcome == RunStatus.ABANDONED
    ran = [result.code for result in report.results if result.outcome == RunStatus.SUCCEEDED]
    assert ran[0] == "tests.every_five_minutes"
    assert set(ran[1:]) == {"tests.every_minute"}
    state = CronJobState.objects.get(job_name="tests.every_minute")
    assert state.last_status == RunStatus.SUCCEEDED


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("how", "exit_status"), [("return", 0), ("sys_exit", 0), ("raise", 1)])
@pytest.mark.parametrize("concurrency", ["1", "2"])  # in runcrons, in a child of its
def test_a_process_the_job_forks_ends_where_do_ends(how, exit_status, concurrency):
    tick = runcrons_command(
        "tests.jobs.ForkingJob",
        "tests.jobs.EveryInvocationJob",
        f"--concurrency={concurrency}",
        CRONJOBS_TEST_CHILD=how,
    )
    assert tick.returncode == 0, tick.stderr
    assert tick.stdout.count("[✔] tests.forking") == 1, tick.stdout
    assert tick.stdout.count("tests.every_invocation") == 1, tick.stdout
    assert "[✘]" not in tick.stdout
    run = CronJobLog.objects.get(code="tests.forking")
    assert (run.status, run.message) == (
        RunStatus.SUCCEEDED,
        f"parent; child exit status {exit_status}",
    )
    assert CronJobLog.objects.filter(code="tests.every_invocation").count() == 1


@pytest.fixture
def clock_moving_job():
    yield jobs.ClockMovingJob
    if jobs.ClockMovingJob.traveller is not None:
        jobs.ClockMovingJob.traveller.stop()
        jobs.ClockMovingJob.traveller = None


@pytest.mark.django_db
def test_a_job_that_moves_the_clock_far_ahead_cannot_make_the_others_claim_by_it(
    clock, clock_moving_job
):
    lines: list[str] = []
    report = Runner(write=lines.append).run(
        ["tests.jobs.ClockMovingJob", EVERY_MINUTE, "tests.jobs.DailyJob"]
    )
    # One line for the tick, whatever the number of jobs refused.
    assert [line for line in lines if "ahead" in line] == [
        "[✘] this host's clock reads 2100-01-01 00:00:00, "
        + report.results[1].detail.split(", ", 1)[1]
    ]
    assert [(result.code, result.outcome) for result in report.results] == [
        ("tests.clock_moving", RunStatus.SUCCEEDED),
        ("tests.every_minute", "clock_ahead"),
        ("tests.daily", "clock_ahead"),
    ]
    assert "ahead of the database's" in report.results[1].detail
    assert report.failed  # runcrons exits 1
    assert not CronJobState.objects.filter(last_slot__year=2100).exists()
    assert not CronJobLog.objects.filter(slot__year=2100).exists()
    clock_moving_job.traveller.stop()
    clock_moving_job.traveller = None
    # Once the clock is right again, the jobs run at their slots.
    report = Runner().run([EVERY_MINUTE])
    assert [result.outcome for result in report.results] == [RunStatus.SUCCEEDED]
    assert CronJobLog.objects.get(code="tests.every_minute").slot == T0


@pytest.mark.django_db
def test_a_slot_stored_far_ahead_is_taken_back_once_the_clock_is_sane(clock):
    # What a wrong clock left behind: the job's last slot in 2100, its next
    # due moment after it.
    ahead = datetime(2100, 1, 1, tzinfo=UTC)
    CronJobState.objects.create(
        job_name="tests.every_minute", last_slot=ahead, next_due=ahead, due_key="stale"
    )
    CronJobLog.objects.create(
        code="tests.every_minute", slot=ahead, start_time=ahead, end_time=ahead, is_success=True
    )
    out = run_crons(EVERY_MINUTE)
    assert "last slot 2100-01-01 00:00 was ahead of the database's clock" in out
    assert "[✔] tests.every_minute" in out
    assert CronJobLog.objects.filter(code="tests.every_minute", slot=T0).get().is_success
    assert CronJobState.objects.get(job_name="tests.every_minute").last_slot == T0
    clock.at(T0 + timedelta(minutes=1))
    assert "[✔] tests.every_minute" in run_crons(EVERY_MINUTE)


@pytest.mark.django_db(transaction=True)
def test_a_child_that_cannot_start_is_a_failed_run_not_an_abandoned_one():
    # Dying before do() (Django's set-up, the job's import) says nothing of
    # the job: its next run may go back to the runcrons process.
    report = Runner().run(["tests.jobs.ExitsBeforeDoJob"])
    run = report.results[0].run
    assert (run.status, run.message) == (
        RunStatus.FAILED,
        "The job's child process could not start (exit code 3).",
    )


@pytest.mark.django_db
def test_a_process_the_job_forks_sends_no_sql_for_the_callers_transaction(tmp_path):
    # Inside a caller's transaction the job gets a savepoint; a forked child
    # must not release or roll it back on the parent's connection.
    from django.db import connection

    statements = tmp_path / "statements"

    def note(execute, sql, params, many, context):
        with statements.open("a") as noted:  # the child's notes outlive it
            noted.write(f"{os.getpid()} {sql}\n")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note):
        report = Runner().run(["tests.jobs.ForkingJob"])
    assert [result.outcome for result in report.results] == [RunStatus.SUCCEEDED]
    by = {line.split(" ", 1)[0] for line in statements.read_text().splitlines()}
    assert by == {str(os.getpid())}, statements.read_text()


@pytest.mark.django_db
def test_a_live_process_that_proc_hides_is_left_alone(clock, monkeypatch):
    # /proc mounted with hidepid shows nothing of another user's processes.
    monkeypatch.setattr(processes, "start_time", lambda pid: None)
    crashed_run(claims.hostname(), os.getppid(), T0 + timedelta(minutes=2), process_started=123)
    report = Runner().run([EVERY_MINUTE])
    assert [result.outcome for result in report.results] == ["locked"]


@pytest.mark.django_db(transaction=True)
def test_a_slot_taken_back_runs_when_its_time_really_comes(settings):
    # A host two hours ahead ran the slot W; once taken back, W is free to
    # run when the clock really reaches it (no unique (code, slot) clash).
    import time_machine

    now = floor_minute(datetime.now(UTC))
    wrong = now + timedelta(hours=2)
    CronJobState.objects.create(job_name="tests.every_minute", last_slot=wrong)
    early = CronJobLog.objects.create(
        code="tests.every_minute", slot=wrong, start_time=wrong, end_time=wrong, is_success=True
    )
    settings.CRONJOBS_CLOCK_SKEW_LIMIT = 3600
    with time_machine.travel(now + timedelta(seconds=5), tick=False):
        assert [r.outcome for r in Runner().run([EVERY_MINUTE]).results] == ["succeeded"]
    early.refresh_from_db()
    assert early.slot is None
    assert early.message.endswith("[Its slot was ahead of the database's clock: taken back.]")
    settings.CRONJOBS_CLOCK_SKEW_LIMIT = None  # this test's clock is two hours ahead now
    with time_machine.travel(wrong + timedelta(seconds=5), tick=False):
        report = Runner().run([EVERY_MINUTE])
    assert wrong in [result.run.slot for result in report.ran]
    assert {result.outcome for result in report.ran} == {RunStatus.SUCCEEDED}
    assert CronJobState.objects.get(job_name="tests.every_minute").last_status == "succeeded"


class AbandonedWhileRunning(jobs.CronJobBase):
    """Another host declares its run dead while do() runs (its heartbeat stalled)."""

    code = "tests.abandoned_while_running"
    schedule = jobs.Schedule(run_every_mins=1)

    def do(self) -> str:
        CronJobLog.objects.filter(code=self.code, status=RunStatus.RUNNING).update(
            status=RunStatus.ABANDONED, message="Abandoned by another host"
        )
        return "done anyway"


@pytest.mark.django_db
@pytest.mark.parametrize("force", [False, True], ids=["in a batch", "alone"])
def test_a_run_abandoned_while_it_ran_is_reported_finished_only_by_its_verdict(clock, force):
    from django_cronjobs.signals import cron_job_finished

    heard: list[str] = []

    def finished(sender, *, status, **kwargs):
        heard.append(status)

    cron_job_finished.connect(finished, dispatch_uid="test-abandoned-while-running")
    try:
        Runner(silent=True, force=force).run(["tests.test_recovery.AbandonedWhileRunning"])
    finally:
        cron_job_finished.disconnect(dispatch_uid="test-abandoned-while-running")
    run = CronJobLog.objects.get(code="tests.abandoned_while_running")
    assert run.status == RunStatus.ABANDONED
    assert run.message.endswith("[The process finished later: succeeded.]")
    # The host that declared it dead told the receivers; the late outcome is not a second end.
    assert heard == []


@pytest.mark.django_db
def test_a_dead_run_of_a_job_this_tick_does_not_run_is_still_reported_finished(
    clock, settings, finished_runs
):
    settings.CRON_CLASSES = [EVERY_MINUTE, "tests.jobs.EveryFiveMinutesJob"]
    crashed = crashed_run(claims.hostname(), dead_pid(), T0 + timedelta(minutes=2))
    Runner(silent=True).run(["tests.jobs.EveryFiveMinutesJob"])
    crashed.refresh_from_db()
    assert crashed.status == RunStatus.ABANDONED
    assert ("tests.every_minute", "", "abandoned") in finished_runs
