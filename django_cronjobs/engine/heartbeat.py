"""The heartbeat: one thread per process keeps the leases of running runs alive."""

from __future__ import annotations

import logging
import os
import threading
import time
from types import TracebackType

from django.db import InterfaceError, OperationalError, connections

from ..conf import conf
from ..databases import in_transaction
from ..exceptions import LockBackendUnavailable
from ..locks.base import LockBackend
from ..models import CronJobLog
from ..store import claims
from ..text.log_text import first_line

logger = logging.getLogger("django_cronjobs")


class LeaseKeeper:
    """Calls :meth:`beat` every quarter of ``CRONJOBS_LEASE_SECONDS`` while the
    ``with`` block runs, from the process's heartbeat thread (:class:`Pacemaker`),
    on a connection of its own.

    Inside a caller's transaction it does nothing: the runs' rows are not
    visible to another connection, and the caller's transaction is not ours
    to wait on.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.beats = 0
        self.beating = threading.Lock()
        """Held by the heartbeat thread during a beat."""
        self.missed_beats = 0
        """Beats that could not reach the database or the lock backend."""
        self._kept = False

    def beat(self) -> None:
        raise NotImplementedError

    def missed_beat(self, error: Exception) -> None:
        """A beat failed on an outage: one line for the first (cron mails stderr), none
        for the next ones of the same run; the lease holds the run meanwhile."""
        self.missed_beats += 1
        if self.missed_beats == 1:
            logger.warning(
                "Heartbeat of %s failed (%s: %s); beats go on, the lease lasts %g s",
                self.name,
                type(error).__name__,
                first_line(error),
                conf.LEASE_SECONDS,
            )

    def seconds_to_next_beat(self) -> float:
        return conf.LEASE_SECONDS / 4

    def __enter__(self) -> LeaseKeeper:
        if not in_transaction():
            pacemaker.keep(self)
            self._kept = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._kept:
            self._kept = False
            pacemaker.release(self)


class Pacemaker:
    """The thread that beats for every :class:`LeaseKeeper` of the process.

    It starts with the first keeper and stays for the next ones: a tick
    starts no thread per run or batch, a cronloop none per tick. When a beat
    hangs (a dead connection), the keeper's ``with`` block stops waiting for
    it after a quarter of the lease, and the next keeper gets a new thread.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next_beat: dict[LeaseKeeper, float] = {}
        self._thread: threading.Thread | None = None

    def keep(self, keeper: LeaseKeeper) -> None:
        with self._changed:
            self._next_beat[keeper] = time.monotonic() + keeper.seconds_to_next_beat()
            if self._thread is None or not self._thread.is_alive():
                self._start()
            self._changed.notify()

    def release(self, keeper: LeaseKeeper) -> None:
        """No more beats for ``keeper``; waits for one in progress (a quarter lease at most)."""
        with self._changed:
            self._next_beat.pop(keeper, None)
        if keeper.beating.acquire(timeout=conf.LEASE_SECONDS / 4):
            keeper.beating.release()
            return
        with self._changed:
            # The thread hangs in that beat: other keepers get a new one.
            self._thread = None
            if self._next_beat:
                self._start()

    def _start(self) -> None:
        self._thread = threading.Thread(
            target=self._beat, name="django_cronjobs heartbeat", daemon=True
        )
        self._thread.start()

    def _beat(self) -> None:
        me = threading.current_thread()
        while True:
            with self._changed:
                if self._thread is not me:
                    return
                if not self._next_beat:
                    self._changed.wait()
                    continue
                keeper, due = min(self._next_beat.items(), key=lambda item: item[1])
                if due > time.monotonic():
                    self._changed.wait(due - time.monotonic())
                    continue
                keeper.beating.acquire()
            try:
                keeper.beat()
                keeper.beats += 1
            except (OperationalError, InterfaceError, LockBackendUnavailable) as error:
                keeper.missed_beat(error)  # an outage; other errors are bugs, with tracebacks
            except Exception:
                logger.exception("Heartbeat of %s failed", keeper.name)
            finally:
                # A beat every quarter lease can afford its own connection;
                # none is left open between ticks.
                connections.close_all()
                keeper.beating.release()
            with self._changed:
                if keeper in self._next_beat:
                    self._next_beat[keeper] = time.monotonic() + keeper.seconds_to_next_beat()

    def forget_threads(self) -> None:
        """In a forked child: the parent's thread is not there, nor its locks."""
        self._changed = threading.Condition()
        self._next_beat = {}
        self._thread = None


pacemaker = Pacemaker()
os.register_at_fork(after_in_child=pacemaker.forget_threads)


class Heartbeat(LeaseKeeper):
    """``with Heartbeat(run, token, lock): job.do()``: keeps one run alive.

    Each beat pushes the run's lease, its database lock and its lock
    backend's lock forward.
    """

    def __init__(self, run: CronJobLog, lock_token: str | None, lock: LockBackend | None) -> None:
        super().__init__(f"cron job {run.run_name}")
        self.run = run
        self.lock_token = lock_token
        self.lock = lock

    def beat(self) -> None:
        claims.renew_lease(self.run, self.lock_token)
        # A backend written for django-cron has no renew().
        renew = getattr(self.lock, "renew", None)
        if renew is not None:
            renew()
