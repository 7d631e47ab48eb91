"""Telling whether the process that wrote a run is still the one alive under its pid.

A pid alone does not name a process for long: once runcrons dies (SIGKILL,
the OOM killer), the kernel hands its pid to the next process that starts,
and ``os.kill(pid, 0)`` then answers for a stranger. So each run also records
when its process started (Linux: ``/proc/<pid>/stat``, in clock ticks since
boot), and a process counts as the run's own only if both match.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress

# Field 22 of /proc/<pid>/stat, counted from the state field (field 3) that
# follows the command name.
_STARTTIME_AFTER_COMMAND = 22 - 3

_own: tuple[int, int | None] | None = None


def start_time(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot; None if there is
    no such process or the system does not say (not Linux)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            data = stat.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: the fields
    # that follow start after its last closing parenthesis.
    fields = data[data.rindex(b")") + 2 :].split()
    try:
        return int(fields[_STARTTIME_AFTER_COMMAND])
    except (IndexError, ValueError):
        return None


def own_start_time() -> int | None:
    """This process's :func:`start_time` (read once per process; a fork reads anew)."""
    global _own
    pid = os.getpid()
    if _own is None or _own[0] != pid:
        _own = (pid, start_time(pid))
    return _own[1]


def is_alive(pid: int, started: int | None = None) -> bool:
    """Whether the process ``pid`` that started at ``started`` still runs on this host.

    Without a recorded start time (rows of older versions, systems without
    ``/proc``), or when ``/proc`` does not show the process (``hidepid``), the
    pid alone decides.
    """
    if started is not None:
        current = start_time(pid)
        if current is not None:
            return current == started
        # No start time to read: the process is gone, or /proc hides another
        # user's processes (hidepid): the kernel tells those apart.
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


@contextmanager
def confined_to_this_process() -> Iterator[None]:
    """Around ``do()``: a process that the job forks ends where ``do()`` ends.

    A job that forks (``os.fork()``, a daemonising library) and whose child
    returns from ``do()`` or raises would otherwise send that child on
    through the rest of the tick: printing the parent's lines, running the
    next jobs, recording the parent's run. Such a child exits instead, with
    0 when ``do()`` returned, the code of its ``SystemExit``, or 1 after an
    exception (its traceback on stderr). Buffered output is not flushed: the
    buffers hold the parent's lines too.
    """
    pid = os.getpid()
    try:
        yield
    except SystemExit as exit:
        if os.getpid() != pid:
            code = exit.code
            os._exit(code if isinstance(code, int) else 0 if code is None else 1)
        raise
    except BaseException:
        if os.getpid() != pid:
            _write_stderr(traceback.format_exc())
            os._exit(1)
        raise
    if os.getpid() != pid:
        os._exit(0)


def _write_stderr(text: str) -> None:
    with suppress(OSError):
        os.write(2, text.encode(errors="replace"))
