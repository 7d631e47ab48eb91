"""A background thread that keeps a running run's lease alive."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from django.db import close_old_connections, connections

from . import claims
from .conf import conf
from .databases import in_transaction
from .locks.base import LockBackend
from .models import CronJobLog

logger = logging.getLogger("django_cronjobs")


class LeaseKeeper:
    """A daemon thread that calls :meth:`beat` every quarter of ``CRONJOBS_LEASE_SECONDS``
    while the ``with`` block runs, on a connection of its own.

    Inside a caller's transaction it does nothing: the runs' rows are not
    visible to another connection, and the caller's transaction is not ours
    to wait on.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.beats = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        raise NotImplementedError

    def seconds_to_next_beat(self) -> float:
        return conf.LEASE_SECONDS / 4

    def __enter__(self) -> LeaseKeeper:
        if not in_transaction():
            self._thread = threading.Thread(
                target=self._beat_until_stopped, name=f"heartbeat {self.name}", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            # A beat stuck on a dead connection must not hold up the outcome.
            self._thread.join(timeout=conf.LEASE_SECONDS / 4)

    def _beat_until_stopped(self) -> None:
        try:
            while not self._stop.wait(self.seconds_to_next_beat()):
                try:
                    close_old_connections()  # reconnects after a dropped connection
                    self.beat()
                    self.beats += 1
                except Exception:
                    logger.exception("Heartbeat of %s failed", self.name)
        finally:
            connections.close_all()


class Heartbeat(LeaseKeeper):
    """``with Heartbeat(run, token, lock): job.do()``: keeps one run alive.

    Each beat pushes the run's lease, its database lock and its lock
    backend's lock forward.
    """

    def __init__(self, run: CronJobLog, lock_token: str | None, lock: LockBackend | None) -> None:
        super().__init__(f"cron job {run.code}")
        self.run = run
        self.lock_token = lock_token
        self.lock = lock

    def beat(self) -> None:
        claims.renew_lease(self.run, self.lock_token)
        # A backend written for django-cron has no renew().
        renew = getattr(self.lock, "renew", None)
        if renew is not None:
            renew()
