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


class Heartbeat:
    """``with Heartbeat(run, token, lock): job.do()``.

    Every quarter of ``CRONJOBS_LEASE_SECONDS`` it pushes the run's lease, its
    database lock and its lock backend's lock forward, on a connection of its
    own. Inside a caller's transaction it does nothing: the run's row is not
    visible to another connection, and the caller's transaction is not ours
    to wait on.
    """

    def __init__(self, run: CronJobLog, lock_token: str | None, lock: LockBackend | None) -> None:
        self.run = run
        self.lock_token = lock_token
        self.lock = lock
        self.beats = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        if not in_transaction():
            self._thread = threading.Thread(
                target=self._beat_until_stopped, name=f"heartbeat {self.run.code}", daemon=True
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
        interval = conf.LEASE_SECONDS / 4
        try:
            while not self._stop.wait(interval):
                try:
                    close_old_connections()  # reconnects after a dropped connection
                    claims.renew_lease(self.run, self.lock_token)
                    # A backend written for django-cron has no renew().
                    renew = getattr(self.lock, "renew", None)
                    if renew is not None:
                        renew()
                    self.beats += 1
                except Exception:
                    logger.exception("Heartbeat of cron job %s failed", self.run.code)
        finally:
            connections.close_all()
