"""Job classes the tests configure."""

from __future__ import annotations

from typing import Any, ClassVar

from django_cronjobs import CronJobBase, Schedule


class EveryMinuteJob(CronJobBase):
    code = "tests.every_minute"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> str:
        return "done"


class EveryFiveMinutesJob(CronJobBase):
    code = "tests.every_five_minutes"
    schedule = Schedule(run_every_mins=5)

    def do(self) -> None:
        return None


class DailyJob(CronJobBase):
    code = "tests.daily"
    schedule = Schedule(run_at_times=["02:30", "14:00"])

    def do(self) -> str:
        return "daily"


class CronExpressionJob(CronJobBase):
    code = "tests.cron_expression"
    schedule = Schedule(cron="*/15 * * * *")

    def do(self) -> str:
        return "cron"


class EveryInvocationJob(CronJobBase):
    code = "tests.every_invocation"
    schedule = Schedule(run_every_mins=0)

    def do(self) -> str:
        return "again"


class FailingJob(CronJobBase):
    code = "tests.failing"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> Any:
        raise ValueError("boom")


class RetryingJob(CronJobBase):
    code = "tests.retrying"
    schedule = Schedule(run_every_mins=60, retry_after_failure_mins=5)
    fail = True

    def do(self) -> str:
        if RetryingJob.fail:
            raise RuntimeError("not yet")
        return "recovered"


class FlakyJob(CronJobBase):
    """Fails while ``FlakyJob.fail``; mails after three failures in a row."""

    code = "tests.flaky"
    schedule = Schedule(run_every_mins=1)
    MIN_NUM_FAILURES = 3
    fail = True

    def do(self) -> str:
        if FlakyJob.fail:
            raise RuntimeError("flaky")
        return "fine"


class ParallelJob(CronJobBase):
    code = "tests.parallel"
    schedule = Schedule(run_every_mins=1)
    ALLOW_PARALLEL_RUNS = True

    def do(self) -> str:
        return "parallel"


class ReturnsJob(CronJobBase):
    """Returns whatever the test put in ``value``."""

    code = "tests.returns"
    schedule = Schedule(run_every_mins=1)
    value: Any = None

    def do(self) -> Any:
        return ReturnsJob.value


class NotAJob:
    code = "tests.not_a_job"


class NoCodeJob(CronJobBase):
    schedule = Schedule(run_every_mins=1)

    def do(self) -> None:
        return None


class SleepingJob(CronJobBase):
    """Sleeps ``CRONJOBS_TEST_SLEEP`` seconds (default 30)."""

    code = "tests.sleeping"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> str:
        import os
        import time

        time.sleep(float(os.environ.get("CRONJOBS_TEST_SLEEP", "30")))
        return "slept"


class SelfKillingJob(CronJobBase):
    """Dies as an OOM-killed process does: SIGKILL, no cleanup."""

    code = "tests.self_killing"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> None:
        import os
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


class LeaseWatchingJob(CronJobBase):
    """Returns its own run's lease before and after a wait, to see the heartbeat."""

    code = "tests.lease_watching"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> str:
        import time

        from django_cronjobs.models import CronJobLog

        def lease() -> Any:
            return CronJobLog.objects.running().get(code=self.code).lease_expires_at

        before = lease()
        time.sleep(1.0)
        return f"{before.isoformat()} {lease().isoformat()}"


class ReplayingJob(CronJobBase):
    code = "tests.replaying"
    schedule = Schedule(run_every_mins=60, missed_slots="replay")

    def do(self) -> str:
        return "replayed"


class SkippingJob(CronJobBase):
    code = "tests.skipping"
    schedule = Schedule(run_every_mins=60, missed_slots="skip")

    def do(self) -> str:
        return "on time"


class LoudJob(CronJobBase):
    """Writes megabytes and undecodable bytes to stdout and stderr."""

    code = "tests.loud"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> str:
        import sys

        sys.stdout.write("x" * 3_000_000 + "\n")
        sys.stdout.flush()
        sys.stderr.buffer.write(b"\xff\xfe\x00 binary noise\n" * 10_000)
        sys.stderr.flush()
        return "loud"


class ExitingJob(CronJobBase):
    code = "tests.exiting"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> None:
        import sys

        sys.exit(3)


class KeyboardInterruptJob(CronJobBase):
    code = "tests.keyboard_interrupt"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> None:
        raise KeyboardInterrupt


class LeakyTransactionJob(CronJobBase):
    """Opens a transaction, writes in it, and never closes it."""

    code = "tests.leaky_transaction"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> str:
        from django.db import transaction
        from django.utils import timezone

        from django_cronjobs.models import CronJobLog

        transaction.atomic().__enter__()
        CronJobLog.objects.create(code="tests.leaked_write", start_time=timezone.now())
        return "leaked"


class AutocommitOffJob(CronJobBase):
    code = "tests.autocommit_off"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> str:
        from django.db import transaction
        from django.utils import timezone

        from django_cronjobs.models import CronJobLog

        transaction.set_autocommit(False)
        CronJobLog.objects.create(code="tests.leaked_write", start_time=timezone.now())
        return "autocommit off"


class ConnectionClosingJob(CronJobBase):
    code = "tests.connection_closing"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> str:
        from django.db import connection

        connection.close()
        return "closed it"


class ConnectionKilledJob(CronJobBase):
    """Its database connection is killed from outside while it runs."""

    code = "tests.connection_killed"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> str:
        from tests.database_tools import kill_connection

        kill_connection()
        return "survived"


class DatabaseErrorJob(CronJobBase):
    """Fails with an IntegrityError, which breaks a transaction it runs in."""

    code = "tests.database_error"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> None:
        from django_cronjobs.models import CronJobState

        CronJobState.objects.create(job_name="tests.duplicate")
        CronJobState.objects.create(job_name="tests.duplicate")


class DjangoCronTimesJob(CronJobBase):
    code = "tests.django_cron_times"
    schedule = Schedule(run_at_times=["6:30"], timezone="UTC")

    def do(self) -> str:
        return "6:30"


class TimeoutJob(CronJobBase):
    """Sleeps far past its one-second timeout."""

    code = "tests.timeout"
    schedule = Schedule(run_every_mins=1)
    TIMEOUT_SECONDS = 1

    def do(self) -> str:
        import time

        time.sleep(60)
        return "never"


class StubbornJob(CronJobBase):
    """Ignores SIGTERM: only SIGKILL stops it."""

    code = "tests.stubborn"
    schedule = Schedule(run_every_mins=1)
    TIMEOUT_SECONDS = 0.5

    def do(self) -> str:
        import signal
        import time

        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)
        return "never"


class QuickTimedJob(CronJobBase):
    """Has a timeout, finishes well within it: runs in a child, reports back."""

    code = "tests.quick_timed"
    schedule = Schedule(run_every_mins=1)
    TIMEOUT_SECONDS = 30

    def do(self) -> dict[str, int]:
        from django_cronjobs.models import CronJobLog

        return {"runs": CronJobLog.objects.filter(code=self.code).count()}


class FailingTimedJob(CronJobBase):
    code = "tests.failing_timed"
    schedule = Schedule(run_every_mins=1)
    TIMEOUT_SECONDS = 30

    def do(self) -> None:
        raise ValueError("inside the child")


class SlowJob(CronJobBase):
    code = "tests.slow"
    schedule = Schedule(run_every_mins=1)

    def do(self) -> str:
        import time

        time.sleep(3)
        return "slow"


class PidWritingJob(CronJobBase):
    """Writes its pid to CRONJOBS_TEST_PID_FILE, then sleeps; runs in a child (timeout)."""

    code = "tests.pid_writing"
    schedule = Schedule(run_every_mins=1)
    TIMEOUT_SECONDS = 120

    def do(self) -> str:
        import os
        import time

        with open(os.environ["CRONJOBS_TEST_PID_FILE"], "w") as file:
            file.write(str(os.getpid()))
        time.sleep(60)
        return "never"


class ThreadLeavingJob(CronJobBase):
    """Returns at once but leaves a non-daemon thread that keeps its process up."""

    code = "tests.thread_leaving"
    schedule = Schedule(run_every_mins=1)
    TIMEOUT_SECONDS = 60

    def do(self) -> str:
        import threading
        import time

        threading.Thread(target=time.sleep, args=(60,)).start()
        return "done, thread left behind"


class SpawningJob(CronJobBase):
    """Starts a long ``sleep`` of its own, writes its pid to CRONJOBS_TEST_PID_FILE, then hangs."""

    code = "tests.spawning"
    schedule = Schedule(run_every_mins=1)
    TIMEOUT_SECONDS = 1

    def do(self) -> str:
        import os
        import subprocess
        import time

        sleeper = subprocess.Popen(["sleep", "300"])
        with open(os.environ["CRONJOBS_TEST_PID_FILE"], "w") as pid_file:
            pid_file.write(str(sleeper.pid))
        time.sleep(60)
        return "never"


class ProcessKillingJob(CronJobBase):
    """Ends the process it runs in at every call, as a crash would.

    ``CRONJOBS_TEST_CRASH`` says how: ``exit0`` (``os._exit(0)``), ``sigkill``
    (the OOM killer) or ``sigsegv``.
    """

    code = "tests.process_killing"
    schedule = Schedule(run_every_mins=0)

    def do(self) -> None:
        import os
        import signal

        how = os.environ.get("CRONJOBS_TEST_CRASH", "sigkill")
        if how == "exit0":
            os._exit(0)
        os.kill(os.getpid(), signal.SIGSEGV if how == "sigsegv" else signal.SIGKILL)


class ForkingJob(CronJobBase):
    """Forks; the child ends as ``CRONJOBS_TEST_CHILD`` says (``return``, ``sys_exit``,
    ``raise``) without an exit of its own, and the parent waits for it."""

    code = "tests.forking"
    schedule = Schedule(run_every_mins=0)

    def do(self) -> str:
        import os
        import sys

        child = os.fork()
        if child == 0:
            how = os.environ.get("CRONJOBS_TEST_CHILD", "return")
            if how == "sys_exit":
                sys.exit()
            if how == "raise":
                raise RuntimeError("the forked child failed")
            return "the child's return"
        _, status = os.waitpid(child, 0)
        return f"parent; child exit status {os.waitstatus_to_exitcode(status)}"


class ClockMovingJob(CronJobBase):
    """Moves the process's clock to 2100 and leaves it there, as a leaked
    freezegun or time-machine would; ``traveller`` is kept for the test to stop."""

    code = "tests.clock_moving"
    schedule = Schedule(run_every_mins=0)
    traveller: object = None

    def do(self) -> None:
        from datetime import UTC, datetime

        import time_machine

        travel = time_machine.travel(datetime(2100, 1, 1, tzinfo=UTC), tick=False)
        travel.start()
        ClockMovingJob.traveller = travel


class DatabaseOutageJob(CronJobBase):
    """Runs through a database outage of the heartbeat's: while do() sleeps, new
    connections go to a closed port (a file that cannot exist on SQLite) and
    fail as they do while the server is stopped; the open one is kept."""

    code = "tests.database_outage"
    schedule = Schedule(run_every_mins=0)

    def do(self) -> str:
        import time

        from django.db import connections

        # New connections, in any thread, are made from this dict.
        database = connections.settings["default"]
        saved = dict(database)
        if database["ENGINE"].endswith("sqlite3"):
            database["NAME"] = "/nonexistent/directory/outage.sqlite3"
        else:
            database.update(HOST="127.0.0.1", PORT="1")
        try:
            time.sleep(0.7)
        finally:
            database.clear()
            database.update(saved)
        return "done"


class ExitsBeforeDoJob(CronJobBase):
    """Its child process ends while it sets up, before do() starts."""

    code = "tests.exits_before_do"
    schedule = Schedule(run_every_mins=0)
    TIMEOUT_SECONDS = 30

    def __init__(self) -> None:
        import os

        os._exit(3)

    def do(self) -> None:
        return None


class LongScheduleJob(CronJobBase):
    """A schedule whose plain-English text is long."""

    code = "tests.long_schedule"
    schedule = Schedule(
        run_at_times=["01:15", "03:45", "07:30", "12:00", "18:20", "22:10"],
        run_weekly_on_days=[0, 2, 4],
        retry_after_failure_mins=15,
        timezone="Asia/Kolkata",
    )

    def do(self) -> None:
        return None


class DigestJob(CronJobBase):
    """Runs only through its entries; each entry names a customer."""

    code = "tests.digest"
    schedule = None
    calls: ClassVar[list[int]] = []
    failing: ClassVar[set[int]] = set()

    def do(self, *, customer_id: int) -> str:
        DigestJob.calls.append(customer_id)
        if customer_id in DigestJob.failing:
            raise RuntimeError(f"no digest for {customer_id}")
        return f"digest for {customer_id}"


class ReportJob(CronJobBase):
    """A job with a schedule of its own and entries too."""

    code = "tests.report"
    schedule = Schedule(run_at_times=["06:00"], timezone="UTC")
    calls: ClassVar[list[dict[str, Any]]] = []

    def do(self, **kwargs: Any) -> str:
        ReportJob.calls.append(kwargs)
        return "report"


class KillingEntryJob(CronJobBase):
    """Its entries' runs die as an OOM-killed process does, when their kwargs say so."""

    code = "tests.killing_entry"
    schedule = None

    def do(self, *, kill: bool) -> str:
        import os
        import signal

        if kill:
            os.kill(os.getpid(), signal.SIGKILL)
        return "alive"


class SleepyEntryJob(CronJobBase):
    """Its entries sleep as long as their kwargs say, in a child process with a timeout."""

    code = "tests.sleepy_entry"
    schedule = None
    TIMEOUT_SECONDS = 1.5

    def do(self, *, seconds: float) -> str:
        import time

        time.sleep(seconds)
        return f"slept {seconds}"
