"""The interface every lock backend offers: django-cron's, so its custom backends still work."""

from __future__ import annotations

from typing import Any, ClassVar

from django_cronjobs.conf import conf
from django_cronjobs.exceptions import LockFailedException


class LockBackend:
    """Keeps two runs of one job from overlapping.

    Used as ``with Backend(job_class, silent): ...`` or through ``lock()`` and
    ``release()``. ``lock()`` returns False when another run holds the lock.
    """

    LockFailedException: ClassVar[type[Exception]] = LockFailedException

    guards_in_claim: ClassVar[bool] = False
    """True when runcrons takes this lock in the same statement that claims the
    job's slot, and releases it in the one that records the outcome, so the
    lock costs no statement of its own. Such a backend's ``lock()`` and
    ``release()`` serve only callers outside runcrons."""

    crosses_hosts: ClassVar[bool] = True
    """True when the lock holds across processes on different hosts."""

    def __init__(self, cron_class: Any, silent: bool = False, *args: Any, **kwargs: Any) -> None:
        self.job_name = f"{cron_class.__module__}.{cron_class.__name__}"
        self.job_code: str = cron_class.code
        entry = getattr(cron_class, "entry_key", "")
        if entry:
            # Each entry of a job is locked on its own: it overlaps only with itself.
            self.job_name += f"[{entry}]"
            self.job_code += f"[{entry}]"
        self.parallel = bool(getattr(cron_class, "ALLOW_PARALLEL_RUNS", False))
        self.silent = silent
        self.timeout = int(getattr(cron_class, "DJANGO_CRON_LOCK_TIME", None) or conf.LOCK_TIME)
        self.lease = conf.LEASE_SECONDS

    def lock(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def renew(self) -> None:
        """Extend the lock by a lease; called by the run's heartbeat.

        Backends whose lock lasts as long as the process (file) need nothing.
        """

    def lock_failed_message(self) -> str:
        return f"{self.job_name}: lock found. Will try later."

    def __enter__(self) -> LockBackend:
        if not self.parallel and not self.lock():
            raise self.LockFailedException(self.lock_failed_message())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.parallel:
            self.release()


def guards_in_claim(lock: LockBackend | type[LockBackend]) -> bool:
    """Whether runcrons takes ``lock`` (a backend or its class) in the claim itself,
    as the ``database`` backend's is (see :attr:`LockBackend.guards_in_claim`)."""
    # A custom backend written for django-cron may lack the flag.
    return bool(getattr(lock, "guards_in_claim", False))


# django-cron's name for the base class.
DjangoCronJobLock = LockBackend
