"""Exceptions django_cronjobs raises or lets a caller catch."""

from __future__ import annotations

import signal


class BadCronJobError(AssertionError):
    """A CRON_CLASSES entry cannot run: not importable, not a job, or no code.

    Kept under django-cron's name, and as an AssertionError as there.
    """


class LockFailedException(Exception):
    """A lock backend could not take a job's lock: the job is running elsewhere."""


class LockBackendUnavailable(Exception):
    """The lock backend itself failed (its cache or file system is down)."""


class Interrupted(BaseException):
    """Raised in the main thread when runcrons receives SIGTERM or SIGINT.

    A BaseException, so that a job's ``except Exception`` does not swallow it,
    and not a KeyboardInterrupt, so that a job that raises KeyboardInterrupt
    itself is told apart from a real signal.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
