"""SIGTERM and SIGINT: stop the current run, record it as interrupted, exit non-zero."""

from __future__ import annotations

import contextlib
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


SIGNALS = (signal.SIGTERM, signal.SIGINT)


def signals_deferred(active: bool) -> contextlib.AbstractContextManager[None]:
    """Hold SIGTERM and SIGINT back while the block runs, then deliver them.

    The bookkeeping around a run (claim, running row, outcome) must not be
    cut in half: a signal that arrives meanwhile takes effect after it.
    Only for the main thread, and only while no other thread could take the
    signal instead.
    """
    return _masked(active, signal.SIG_BLOCK, signal.SIG_UNBLOCK)


def signals_delivered(active: bool) -> contextlib.AbstractContextManager[None]:
    """Inside :func:`signals_deferred`: let the signals through (while do() runs)."""
    return _masked(active, signal.SIG_UNBLOCK, signal.SIG_BLOCK)


@contextmanager
def _masked(active: bool, on_enter: int, on_exit: int) -> Iterator[None]:
    if not active:
        yield
        return
    signal.pthread_sigmask(on_enter, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(on_exit, SIGNALS)


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
