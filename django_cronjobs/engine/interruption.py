"""SIGTERM and SIGINT: stop the current run, record it as interrupted, exit non-zero."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from ..exceptions import Interrupted


def exit_status(error: BaseException) -> int:
    """The shell's convention: 128 + the signal's number."""
    if isinstance(error, Interrupted):
        return 128 + error.signum
    return 128 + signal.SIGINT


SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _Deferral:
    """Whether the main thread is in a section a signal must not cut in half.

    Python runs signal handlers in the main thread, whichever thread the
    kernel gave the signal to, so a flag that the handler reads is enough
    (a signal mask would not be: another thread could take the signal).
    """

    active = False
    pending: int | None = None


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    if _Deferral.active:
        _Deferral.pending = signum  # raised when the section ends
        return
    raise Interrupted(signum)


@contextmanager
def signals_deferred(active: bool) -> Iterator[None]:
    """Hold SIGTERM and SIGINT back while the block runs, then deliver them.

    The bookkeeping around a run (claim, running row, outcome) must not be
    cut in half: a signal that arrives meanwhile takes effect after it.
    """
    if not active or _Deferral.active:
        yield
        return
    _Deferral.active = True
    try:
        yield
    except BaseException:
        _Deferral.pending = None  # something is already on its way out
        raise
    finally:
        _Deferral.active = False
    _deliver_pending()


def signal_pending() -> bool:
    """Whether a SIGTERM or SIGINT is held back, waiting for the section to end."""
    return _Deferral.pending is not None


@contextmanager
def signals_delivered(active: bool) -> Iterator[None]:
    """Inside :func:`signals_deferred`: let the signals through (while do() runs)."""
    if not active or not _Deferral.active:
        yield
        return
    _Deferral.active = False
    try:
        _deliver_pending()
        yield
    finally:
        _Deferral.active = True


def _deliver_pending() -> None:
    signum, _Deferral.pending = _Deferral.pending, None
    if signum is not None:
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
        _Deferral.active, _Deferral.pending = False, None
