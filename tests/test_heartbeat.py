"""The heartbeat thread: one per process, serving every run and batch in turn."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from django_cronjobs.engine.heartbeat import LeaseKeeper
from django_cronjobs.models import CronJobLog, RunStatus
from tests.conftest import runcrons_command


class Beating(LeaseKeeper):
    """Beats every 10 ms, noting the thread of each beat; ``hang`` holds a beat."""

    def __init__(self, name: str, hang: threading.Event | None = None) -> None:
        super().__init__(name)
        self.threads: list[threading.Thread] = []
        self.hang = hang

    def seconds_to_next_beat(self) -> float:
        return 0.01

    def beat(self) -> None:
        self.threads.append(threading.current_thread())
        if self.hang is not None:
            self.hang.wait(10)


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_one_thread_beats_for_every_keeper_of_a_process():
    keepers = [Beating(f"run {number}") for number in range(3)]
    for keeper in keepers:
        with keeper:
            wait_for(lambda keeper=keeper: keeper.beats >= 2)
    threads = {thread for keeper in keepers for thread in keeper.threads}
    assert len(threads) == 1, threads
    beats = keepers[0].beats
    time.sleep(0.05)
    assert keepers[0].beats == beats  # none after its block


def test_a_hung_beat_holds_its_block_a_quarter_lease_and_no_other_keeper(settings):
    settings.CRONJOBS_LEASE_SECONDS = 0.4
    hang = threading.Event()
    stuck = Beating("stuck", hang=hang)
    try:
        with stuck:
            wait_for(stuck.beating.locked)
            left = time.monotonic()
        assert time.monotonic() - left < 0.5  # a quarter lease (0.1 s), and some slack
        other = Beating("other")
        with other:
            wait_for(lambda: other.beats >= 2)
        assert set(other.threads).isdisjoint(stuck.threads)
    finally:
        hang.set()


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_under_a_running_job_is_one_line_not_a_traceback():
    # Cron mails stderr: the heartbeats that fail while the server is out of
    # reach (real connection attempts, refused) say so once, and the stored
    # outcome says it was stored.
    tick = runcrons_command("tests.jobs.DatabaseOutageJob", CRONJOBS_TEST_LEASE_SECONDS="0.4")
    assert tick.returncode == 0, tick.stderr
    assert "Traceback" not in tick.stderr
    lines = tick.stderr.splitlines()
    assert len(lines) == 2, tick.stderr
    assert lines[0].startswith(
        "Heartbeat of cron job tests.database_outage failed (OperationalError: "
    )
    assert lines[0].endswith("); beats go on, the lease lasts 0.4 s")
    assert lines[1].startswith("Cron job tests.database_outage: outcome stored (succeeded) after ")
    assert lines[1].endswith(" heartbeat(s) failed during the run")
    assert CronJobLog.objects.get().status == RunStatus.SUCCEEDED


class Failing(Beating):
    def __init__(self, error: Exception) -> None:
        super().__init__("failing")
        self.error = error

    def beat(self) -> None:
        super().beat()
        raise self.error


def test_only_an_outage_is_one_line_a_beat_that_fails_otherwise_keeps_its_traceback(caplog):
    from django.db import OperationalError, ProgrammingError

    outage, bug = Failing(OperationalError("refused")), Failing(ProgrammingError("no such column"))
    for keeper in (outage, bug):
        with keeper:
            wait_for(lambda keeper=keeper: len(keeper.threads) >= 3)
    outage_records = [r for r in caplog.records if "failing failed (OperationalError" in r.message]
    assert len(outage_records) == 1
    assert outage_records[0].exc_info is None
    bug_records = [r for r in caplog.records if r.message == "Heartbeat of failing failed"]
    assert bug_records
    assert all(record.exc_info is not None for record in bug_records)
