"""Several jobs of one tick at once: a thread each, waiting on the job's child process.

Used by the runner with ``--concurrency N``. The threads only wait: each job
runs in a child process (see :mod:`.isolation`), so a slow job does not hold
up the others and each can be stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import connections

from ..exceptions import Interrupted

Item = TypeVar("Item")

# How long the main thread waits at a time, to stay ready for a signal.
WAIT_SECONDS = 0.2


def run_side_by_side(
    items: Sequence[Item],
    run: Callable[[Item], None],
    workers: int,
    stop: threading.Event,
) -> None:
    """``run(item)`` for each item, ``workers`` at a time.

    On an interruption of the main thread, ``stop`` is set (each running job
    stops its child and records it), the threads are awaited and the
    interruption is raised again. An error raised in a thread (the database,
    say) is raised here afterwards, as it would have been without threads.
    """
    from concurrent.futures import ThreadPoolExecutor, wait

    def in_thread(item: Item) -> None:
        if stop.is_set():
            return
        try:
            run(item)
        except Interrupted:
            pass  # recorded; the main thread raises its own
        finally:
            connections.close_all()  # this thread's connections

    with ThreadPoolExecutor(workers, thread_name_prefix="cronjobs") as pool:
        futures = [pool.submit(in_thread, item) for item in items]
        pending = set(futures)
        try:
            while pending:
                _, pending = wait(pending, timeout=WAIT_SECONDS)
        except (KeyboardInterrupt, Interrupted):
            stop.set()
            wait(pending)
            raise
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
