"""Exceptions django_cronjobs raises or lets a caller catch."""

from __future__ import annotations


class BadCronJobError(AssertionError):
    """A CRON_CLASSES entry cannot run: not importable, not a job, or no code.

    Kept under django-cron's name, and as an AssertionError as there.
    """


class LockFailedException(Exception):
    """A lock backend could not take a job's lock: the job is running elsewhere."""


class LockBackendUnavailable(Exception):
    """The lock backend itself failed (its cache or file system is down)."""
