"""SIGTERM and SIGINT: stop the current run, record it as interrupted, exit non-zero."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Interrupted(BaseException):
    """Raised in the main thread when runcrons receives SIGTERM.

    A BaseException, so that a job's ``except Exception`` does not swallow it.
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
def terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into :class:`Interrupted` while the block runs.

    SIGINT already raises KeyboardInterrupt. Outside the main thread (where
    Python cannot install handlers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
