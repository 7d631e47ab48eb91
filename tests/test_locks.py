"""The overlap lock backends, alone and under runcrons."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from django_cronjobs.backends.lock.base import DjangoCronJobLock
from django_cronjobs.engine.runner import Runner
from django_cronjobs.exceptions import LockBackendUnavailable
from django_cronjobs.locks import BUILTIN_BACKENDS, lock_backend_class
from django_cronjobs.locks.cache import CacheLock
from django_cronjobs.locks.database import DatabaseLock
from django_cronjobs.locks.file import FileLock
from django_cronjobs.models import CronJobLock, CronJobLog
from tests import jobs
from tests.conftest import run_crons


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("database", DatabaseLock),
        ("cache", CacheLock),
        ("file", FileLock),
        ("django_cron.backends.lock.cache.CacheLock", CacheLock),
        ("django_cron.backends.lock.file.FileLock", FileLock),
        ("django_cron.backends.lock.database.DatabaseLock", DatabaseLock),
        ("django_cronjobs.backends.lock.cache.CacheLock", CacheLock),
        ("django_cronjobs.locks.file.FileLock", FileLock),
        (None, None),
    ],
)
def test_backend_names_and_django_cron_aliases(name, expected):
    assert lock_backend_class(name) is expected


def test_every_alias_points_at_a_builtin_backend():
    for target in BUILTIN_BACKENDS.values():
        assert lock_backend_class(target) in (DatabaseLock, CacheLock, FileLock)


@pytest.mark.django_db
def test_database_lock_excludes_a_second_holder():
    first = DatabaseLock(jobs.EveryMinuteJob)
    second = DatabaseLock(jobs.EveryMinuteJob)
    assert first.lock()
    assert CronJobLock.objects.get(job_name="tests.every_minute").locked
    assert not second.lock()
    first.release()
    assert second.lock()
    second.release()
    assert not CronJobLock.objects.get(job_name="tests.every_minute").locked


@pytest.mark.django_db
def test_database_lock_as_a_context_manager():
    with (
        DatabaseLock(jobs.EveryMinuteJob),
        pytest.raises(DatabaseLock.LockFailedException),
        DatabaseLock(jobs.EveryMinuteJob),
    ):
        pass  # pragma: no cover


def test_file_lock_excludes_a_second_holder_and_dies_with_its_process(settings, tmp_path):
    settings.CRONJOBS_LOCKFILE_PATH = str(tmp_path)
    first = FileLock(jobs.EveryMinuteJob)
    assert first.lock()
    assert not FileLock(jobs.EveryMinuteJob).lock()
    first.release()
    # A process that dies holding the lock leaves nothing behind.
    child = multiprocessing.get_context("fork").Process(target=_lock_and_die, args=(str(tmp_path),))
    child.start()
    child.join()
    second = FileLock(jobs.EveryMinuteJob)
    assert second.lock()
    second.release()


def _lock_and_die(path: str) -> None:
    import os

    from django.conf import settings

    settings.CRONJOBS_LOCKFILE_PATH = path
    assert FileLock(jobs.EveryMinuteJob).lock()
    os._exit(0)


def test_cache_lock_excludes_a_second_holder(redis_cache):
    first = CacheLock(jobs.EveryMinuteJob)
    assert first.lock()
    second = CacheLock(jobs.EveryMinuteJob)
    assert not second.lock()
    assert "lock has been found" in second.lock_failed_message()
    # Releasing someone else's lock does nothing.
    second.release()
    assert not CacheLock(jobs.EveryMinuteJob).lock()
    first.release()
    assert second.lock()
    second.release()


def test_cache_lock_lives_a_lease_unless_renewed(redis_cache, settings):
    settings.CRONJOBS_LEASE_SECONDS = 1
    lock = CacheLock(jobs.EveryMinuteJob)
    assert lock.lock()
    time.sleep(0.6)
    lock.renew()
    time.sleep(0.6)
    assert not CacheLock(jobs.EveryMinuteJob).lock()
    time.sleep(0.6)
    assert CacheLock(jobs.EveryMinuteJob).lock()


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["file", "cache"])
def test_runcrons_with_a_held_lock_skips_the_job(clock, settings, tmp_path, backend, request):
    if backend == "cache":
        request.getfixturevalue("redis_cache")
        held = CacheLock(jobs.EveryMinuteJob)
    else:
        settings.CRONJOBS_LOCK_BACKEND = "file"
        settings.CRONJOBS_LOCKFILE_PATH = str(tmp_path)
        held = FileLock(jobs.EveryMinuteJob)
    assert held.lock()
    out = run_crons("tests.jobs.EveryMinuteJob")
    assert "lock" in out
    assert not CronJobLog.objects.exists()
    held.release()
    assert "[✔] tests.every_minute" in run_crons("tests.jobs.EveryMinuteJob")


@pytest.mark.django_db
def test_lock_switched_off_still_runs_each_slot_once(clock, settings):
    settings.CRONJOBS_LOCK_BACKEND = None
    run_crons("tests.jobs.EveryMinuteJob")
    run_crons("tests.jobs.EveryMinuteJob")
    assert CronJobLog.objects.count() == 1


@pytest.mark.django_db
def test_a_custom_django_cron_style_backend(clock, settings):
    settings.CRONJOBS_LOCK_BACKEND = "tests.test_locks.RefusingLock"
    out = run_crons("tests.jobs.EveryMinuteJob")
    assert "tests.jobs.EveryMinuteJob: lock found. Will try later." in out
    assert not CronJobLog.objects.exists()


class RefusingLock(FileLock):
    def lock(self) -> bool:
        return False

    def release(self) -> None:
        raise AssertionError("release() of a lock never taken")


@pytest.mark.django_db
def test_a_backend_written_for_django_cron(clock, settings):
    settings.CRONJOBS_LOCK_BACKEND = "tests.test_locks.MemoryLock"
    MemoryLock.held.clear()
    assert "[✔] tests.every_minute" in run_crons("tests.jobs.EveryMinuteJob")
    assert MemoryLock.calls == [
        "lock tests.jobs.EveryMinuteJob",
        "release tests.jobs.EveryMinuteJob",
    ]
    MemoryLock.held.add("tests.jobs.EveryFiveMinutesJob")
    out = run_crons("tests.jobs.EveryFiveMinutesJob")
    assert "tests.jobs.EveryFiveMinutesJob: lock found. Will try later." in out


class MemoryLock(DjangoCronJobLock):
    """A custom lock as django-cron's documentation shows them."""

    held: set[str] = set()
    calls: list[str] = []

    def lock(self):
        MemoryLock.calls.append(f"lock {self.job_name}")
        if self.job_name in self.held:
            return False
        self.held.add(self.job_name)
        return True

    def release(self):
        MemoryLock.calls.append(f"release {self.job_name}")
        self.held.discard(self.job_name)


@pytest.mark.django_db
def test_a_lock_that_cannot_be_released_breaks_nothing(clock, settings):
    settings.CRONJOBS_LOCK_BACKEND = "tests.test_locks.UnreleasableLock"
    report = Runner(write=lambda line: None).run(
        ["tests.jobs.EveryMinuteJob", "tests.jobs.EveryFiveMinutesJob"]
    )
    outcomes = [(result.code, result.outcome) for result in report.results]
    assert ("tests.every_minute", "succeeded") in outcomes
    assert ("tests.every_five_minutes", "succeeded") in outcomes
    assert ("tests.every_minute", "lock_backend_failed") in outcomes


class UnreleasableLock(FileLock):
    def release(self) -> None:
        super().release()
        raise LockBackendUnavailable("cache lock backend failed: connection refused")
