"""Ping monitors: healthchecks.io, Cronitor's and Better Stack's heartbeats, and the like.

A job with a ping URL (its ``PING_URL``, or ``CRONJOBS_PING_URL`` with
``{code}`` and ``{entry}`` in it) pings ``<url>/start`` when a run starts,
``<url>`` when it succeeds and ``<url>/fail`` (with the failure's reason as
the body) when it does not, each with the run's id as ``?rid=`` so that the
monitor pairs a start with its end and measures the run.

A monitor that is down or slow never fails, delays or stops a run: pings go
out from one background thread, in order, each with a short timeout
(``CRONJOBS_PING_TIMEOUT``) and a few retries; what cannot be sent is
logged. Before the process exits, the pings still queued get up to
``CRONJOBS_PING_FLUSH_SECONDS`` to go out.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from ..conf import conf
from ..text.log_text import failure_reason
from .run_ids import run_uuid

logger = logging.getLogger("django_cronjobs")

# Attempts per ping, and the pause before each retry (seconds).
ATTEMPTS = 3
RETRY_PAUSES = (0.5, 2.0)
# What a failure's body holds at most (healthchecks.io keeps 100 KB).
BODY_LENGTH = 10_000


@dataclass(frozen=True)
class Ping:
    """One request to a monitor."""

    url: str
    body: bytes | None = None

    def send(self, timeout: float) -> None:
        """Send it, retrying; raise the last error when every attempt failed."""
        request = urllib.request.Request(
            self.url,
            data=self.body,
            method="POST" if self.body is not None else "GET",
            headers={"User-Agent": "django_cronjobs"},
        )
        for attempt in range(ATTEMPTS):
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    response.read()
                return
            except (OSError, ValueError):  # urllib's URLError and HTTPError are OSErrors
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(RETRY_PAUSES[min(attempt, len(RETRY_PAUSES) - 1)])


def ping_url(job_class: type, code: str, entry: str) -> str | None:
    """The base URL ``job_class`` pings for a run of ``code`` (and ``entry``), or None."""
    url = getattr(job_class, "PING_URL", None)
    if url is False:
        return None  # this job opts out of CRONJOBS_PING_URL
    template = url or conf.PING_URL
    if not template:
        return None
    base = str(template).format(code=quote(code, safe=""), entry=quote(entry, safe=""))
    return base.rstrip("/")


def run_id(run: Any) -> str:
    """The run's id for the monitor, a UUID (healthchecks.io wants one): the same
    for its start and its end, unique across runs."""
    return str(run_uuid(run))


def started(sender: type, *, code: str, entry: str, run: Any, **_: Any) -> None:
    """``cron_job_started``: ping ``/start``."""
    base = ping_url(sender, code, entry)
    if base is not None:
        _sender().put(Ping(f"{base}/start?{urlencode({'rid': run_id(run)})}"))


def finished(sender: type, *, code: str, entry: str, run: Any, succeeded: bool, **_: Any) -> None:
    """``cron_job_finished``: ping success, or ``/fail`` with the reason as the body."""
    base = ping_url(sender, code, entry)
    if base is None:
        return
    query = urlencode({"rid": run_id(run)})
    if succeeded:
        _sender().put(Ping(f"{base}?{query}"))
        return
    reason = failure_reason(run.status, run.message or "")
    body = f"{reason}\n\n{run.message or ''}".strip()[:BODY_LENGTH]
    _sender().put(Ping(f"{base}/fail?{query}", body.encode()))


class PingSender:
    """One background thread that sends the pings in the order they came."""

    def __init__(self) -> None:
        self.pings: queue.Queue[Ping] = queue.Queue()
        self.thread = threading.Thread(target=self._send_all, name="cronjobs-pings", daemon=True)
        self.thread.start()
        atexit.register(self.flush)

    def put(self, ping: Ping) -> None:
        self.pings.put(ping)

    def flush(self, seconds: float | None = None) -> bool:
        """Wait for the queued pings, for up to ``seconds``; True when none is left."""
        deadline = time.monotonic() + (conf.PING_FLUSH_SECONDS if seconds is None else seconds)
        while self.pings.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self.pings.unfinished_tasks

    def _send_all(self) -> None:
        while True:
            ping = self.pings.get()
            try:
                ping.send(conf.PING_TIMEOUT)
            except Exception as error:
                logger.warning("Could not ping %s: %r", ping.url.split("?")[0], error)
            finally:
                self.pings.task_done()


_lock = threading.Lock()
_current: PingSender | None = None


def _sender() -> PingSender:
    """The process's sender, started on the first ping (and again in a forked child)."""
    global _current
    with _lock:
        if _current is None or not _current.thread.is_alive():
            _current = PingSender()
        return _current


def flush(seconds: float | None = None) -> bool:
    """Wait for the pings queued so far (see :meth:`PingSender.flush`)."""
    return _current.flush(seconds) if _current is not None else True


def connect() -> None:
    """Listen to the runs' signals (the app's ``ready()`` does it)."""
    from ..signals import cron_job_finished, cron_job_started

    cron_job_started.connect(started, dispatch_uid="django_cronjobs.pings.started")
    cron_job_finished.connect(finished, dispatch_uid="django_cronjobs.pings.finished")
