"""SIGTERM and SIGINT: stop the current run, record it as interrupted, exit non-zero."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Interrupted(BaseException):
    """Raised in the main thread when runcrons receives SIGTERM or SIGINT.

    A BaseException, so that a job's ``except Exception`` does not swallow it,
    and not a KeyboardInterrupt, so that a job that raises KeyboardInterrupt
    itself is told apart from a real signal.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(error: BaseException) -> int:
    """The shell's convention: 128 + the signal's number."""
    if isinstance(error, Interrupted):
        return 128 + error.signum
    return 128 + signal.SIGINT


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def interrupt_on_signals() -> Iterator[bool]:
    """Turn SIGTERM and SIGINT into :class:`Interrupted` while the block runs.

    Yields whether the handlers are installed: outside the main thread
    Python cannot install them, and SIGINT stays a KeyboardInterrupt.
    """
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = {
        signum: signal.signal(signum, _raise_interrupted)
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield True
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
