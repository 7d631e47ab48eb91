"""Statements tried again when the database picks them as a deadlock's victim.

Several hosts writing the same rows at once can deadlock (MySQL's gap locks
for INSERT IGNORE, overlapping batch claims on MySQL or PostgreSQL); the
database then aborts one of them, which may simply try again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from time import sleep
from typing import TypeVar

from django.db import OperationalError

from ..databases import in_transaction

T = TypeVar("T")

DEADLOCK_RETRIES = 5
"""Tries in all of a statement that keeps losing."""


def retrying_deadlocks(attempt: Callable[[], T]) -> T:
    """``attempt()``, tried again while it raises OperationalError, up to
    :data:`DEADLOCK_RETRIES` tries in all; the last error is raised.

    ``attempt`` must be safe to repeat: idempotent, or a transaction of its
    own that the database rolled back. Inside a caller's transaction nothing
    is tried again: a deadlock aborts that whole transaction, and only its
    owner can start it over.
    """
    for tries in range(1, DEADLOCK_RETRIES):
        try:
            return attempt()
        except OperationalError:
            if in_transaction():
                raise
        # Random and growing, so that the processes that collided drift apart.
        sleep(random.uniform(0.01, 0.05) * tries)
    return attempt()
