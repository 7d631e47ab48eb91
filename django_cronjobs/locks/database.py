"""The default lock: the ``locked`` column of the job's CronJobState row.

runcrons takes it in the very UPDATE that claims the slot (a compare-and-set
that the database serialises on every backend) and drops it in the one that
records the outcome. It holds across hosts with no extra setup.
"""

from __future__ import annotations

import uuid
from typing import Any

from django_cronjobs.store import claims
from django_cronjobs.store.job_states import ensure_states

from .base import LockBackend


class DatabaseLock(LockBackend):
    """Overlap lock in the CronJobState table (django-cron's CronJobLock)."""

    guards_in_claim = True

    def __init__(self, cron_class: Any, silent: bool = False, *args: Any, **kwargs: Any) -> None:
        super().__init__(cron_class, silent, *args, **kwargs)
        self.token = uuid.uuid4().hex

    def lock(self) -> bool:
        ensure_states([self.job_code])
        return claims.claim(self.job_code, slot=None, lock=self, running=False)

    def release(self) -> None:
        claims.release_lock(self.job_code, self.token)
