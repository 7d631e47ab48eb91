"""Running ``do()`` in a child process that can really be stopped.

A job with a timeout, or any job when a tick runs jobs concurrently, runs in
a fresh Python process (multiprocessing's "spawn": no threads or connections
inherited) while runcrons waits, keeps the heartbeat and can stop it: past
the timeout it sends SIGTERM, then SIGKILL after a grace period, to the
child's process group: the processes the job started stop with it. The
child imports the job by its dotted path and uses ``DJANGO_SETTINGS_MODULE``.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from django.db import connections

from ..exceptions import Interrupted
from ..store.processes import confined_to_this_process

# How often the parent looks at the child, the clock and the stop flag.
POLL_SECONDS = 0.05
# How long a child may take to exit after SIGTERM before it gets SIGKILL.
TERMINATE_GRACE_SECONDS = 5.0
# How long a child may take to start Django before do(); the timeout counts
# from do() on.
STARTUP_SECONDS = 120.0
STARTED = "started"
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ChildOutcome:
    """What a run in a child process came to: a RunStatus value and its message."""

    status: str
    message: str


def database_names() -> dict[str, Any]:
    """The database names in use, so a child reaches the same databases.

    They differ from the settings file under a test runner, which renames
    the databases.
    """
    return {alias: connections[alias].settings_dict["NAME"] for alias in connections}


def run_in_child(
    job_path: str,
    timeout: float | None,
    message_limit: int,
    stop: threading.Event | None = None,
    kwargs: Mapping[str, Any] | None = None,
) -> ChildOutcome:
    """Run ``job_path``'s ``do(**kwargs)`` in a child; wait for it, up to ``timeout`` seconds.

    Raises :class:`Interrupted` (after stopping the child) when ``stop`` is set.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main,
        args=(job_path, database_names(), sender, message_limit, os.getpid(), dict(kwargs or {})),
        name=f"cron job {job_path}",
    )
    try:
        child.start()
        sender.close()
        return _wait_for(child, receiver, timeout, stop)
    except BaseException:
        if child.pid is not None and child.is_alive():
            _stop(child)
        raise
    finally:
        receiver.close()


def _wait_for(
    child: multiprocessing.process.BaseProcess,
    receiver: Connection,
    timeout: float | None,
    stop: threading.Event | None,
) -> ChildOutcome:
    deadline = None if timeout is None else time.monotonic() + STARTUP_SECONDS + timeout
    started = False
    while True:
        if receiver.poll(POLL_SECONDS):
            try:
                status, message = receiver.recv()
            except EOFError:  # the child died without a word
                return _no_outcome(child, stop, started)
            if status == STARTED:
                started = True
                if timeout is not None:
                    deadline = time.monotonic() + timeout
                continue
            child.join(TERMINATE_GRACE_SECONDS)
            if child.is_alive():  # a thread the job left behind keeps it up
                _stop(child)
            return ChildOutcome(status, message)
        if not child.is_alive() and not receiver.poll(0):
            return _no_outcome(child, stop, started)
        if deadline is not None and time.monotonic() >= deadline:
            how = _stop(child)
            return ChildOutcome("timed_out", f"Timed out after {timeout:g} s: {how}.")
        if stop is not None and stop.is_set():
            _stop(child)
            raise Interrupted(signal.SIGTERM)


def _no_outcome(
    child: multiprocessing.process.BaseProcess, stop: threading.Event | None, started: bool
) -> ChildOutcome:
    """A child that ended without sending an outcome.

    Once ``do()`` has started, the run died with its process: ``abandoned``,
    which keeps the job's next run in a child too. Before that, the child
    could not set up (Django, the job's import): a failed run, which sends
    the next one back to the runcrons process.
    """
    child.join()
    if stop is not None and stop.is_set():
        raise Interrupted(signal.SIGTERM)
    code = child.exitcode
    how = (
        f"killed by {signal.Signals(-code).name}"
        if code is not None and code < 0
        else f"exit code {code}"
    )
    if not started:
        return ChildOutcome("failed", f"The job's child process could not start ({how}).")
    return ChildOutcome(
        "abandoned", f"Abandoned: the job's process ended without an outcome ({how})."
    )


def _die_with(parent: int) -> None:
    """Make the kernel kill this process when runcrons dies (Linux).

    Otherwise a runcrons killed with SIGKILL would leave the job running
    while its run is found abandoned, and the job could run twice at once.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return  # not Linux: the lease still frees the job
    if os.getppid() != parent:  # runcrons died before the line above
        os._exit(1)


def _stop(child: multiprocessing.process.BaseProcess) -> str:
    """SIGTERM, then SIGKILL if the child is still there after the grace period.

    The signals go to the child's process group, so that the processes the
    job started are stopped with it; what is left of the group after the
    grace period gets SIGKILL too.
    """
    _signal_group(child, signal.SIGTERM)
    child.join(TERMINATE_GRACE_SECONDS)
    if child.is_alive():
        _signal_group(child, signal.SIGKILL)
        child.join()
        return f"stopped with SIGKILL ({TERMINATE_GRACE_SECONDS:g} s after SIGTERM)"
    _signal_group(child, signal.SIGKILL)  # what the job started and left behind
    return "stopped with SIGTERM"


def _signal_group(child: multiprocessing.process.BaseProcess, number: int) -> None:
    """Signal the child's process group, or the child alone before it has one."""
    pid = child.pid
    if pid is None:
        return
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, number)
            return
    except ProcessLookupError:
        pass  # the child is gone (its group may not be)
    except PermissionError:
        return
    try:
        os.killpg(pid, number)  # the group outlives its leader
    except (ProcessLookupError, PermissionError):
        if child.is_alive():
            os.kill(pid, number)


def _child_main(
    job_path: str,
    names: dict[str, Any],
    sender: Connection,
    message_limit: int,
    parent: int,
    kwargs: dict[str, Any],
) -> None:
    """The child: set Django up, run the job, send (status, message) back."""
    _die_with(parent)
    # A group of its own: stopping the job stops what it started, too.
    os.setpgid(0, 0)
    import django

    django.setup()
    from django.utils.module_loading import import_string

    from ..text.log_text import as_log_text

    for alias, name in names.items():
        connections[alias].settings_dict["NAME"] = name
    try:
        job = import_string(job_path)()
        sender.send((STARTED, ""))
        with confined_to_this_process():
            result = job.do(**kwargs)
    except BaseException:
        outcome = ("failed", as_log_text(traceback.format_exc(), message_limit))
    else:
        outcome = ("succeeded", as_log_text(result, message_limit))
    finally:
        connections.close_all()
    sender.send(outcome)
    sender.close()
