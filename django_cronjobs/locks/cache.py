"""A lock in Django's cache, taken with the atomic ``cache.add``.

It holds across processes and hosts only on a shared cache (Redis,
Memcached, the database cache); a system check warns about LocMem and Dummy.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from django.core.cache import BaseCache, caches

from django_cronjobs.conf import conf
from django_cronjobs.exceptions import LockBackendUnavailable

from .base import LockBackend

KEY_PREFIX = "django_cronjobs.lock."


class CacheLock(LockBackend):
    """Overlap lock stored under ``django_cronjobs.lock.<code>`` in ``CRONJOBS_CACHE``."""

    def __init__(self, cron_class: Any, silent: bool = False, *args: Any, **kwargs: Any) -> None:
        super().__init__(cron_class, silent, *args, **kwargs)
        self.cache: BaseCache = caches[conf.CACHE]
        self.lock_name = KEY_PREFIX + self.job_code
        self.token = uuid.uuid4().hex

    def lock(self) -> bool:
        try:
            return bool(self.cache.add(self.lock_name, self.token, self._cache_timeout))
        except Exception as error:
            raise LockBackendUnavailable(f"cache lock backend failed: {error}") from error

    @property
    def _cache_timeout(self) -> int:
        # The lock lives for a lease and the heartbeat renews it, so the lock
        # of a process that died frees itself within a lease.
        return max(1, math.ceil(self.lease))

    def renew(self) -> None:
        # Only our own lock (after an expiry the key may be someone else's).
        if self.cache.get(self.lock_name) == self.token:
            self.cache.touch(self.lock_name, self._cache_timeout)

    def release(self) -> None:
        # Only our own lock: after a timeout another run may hold the key.
        try:
            if self.cache.get(self.lock_name) == self.token:
                self.cache.delete(self.lock_name)
        except Exception as error:
            raise LockBackendUnavailable(f"cache lock backend failed: {error}") from error

    def lock_failed_message(self) -> str:
        return (
            f"{self.job_name}: lock has been found. Current timeout for job {self.job_name} "
            f"is {self._cache_timeout} seconds (cache key name is '{self.lock_name}')."
        )
