"""A kernel lock (``fcntl.flock``) on a file per job: one host only.

The kernel drops the lock when the process dies, so a crash never leaves it
behind. Processes on other hosts do not see it.
"""

from __future__ import annotations

import fcntl
import os
from typing import IO, Any

from django_cronjobs.conf import conf

from .base import LockBackend


class FileLock(LockBackend):
    """Overlap lock on ``<CRONJOBS_LOCKFILE_PATH>/<code>.lock``."""

    crosses_hosts = False

    def __init__(self, cron_class: Any, silent: bool = False, *args: Any, **kwargs: Any) -> None:
        super().__init__(cron_class, silent, *args, **kwargs)
        self._file: IO[bytes] | None = None

    def get_lock_name(self) -> str:
        directory = conf.LOCKFILE_PATH
        os.makedirs(directory, exist_ok=True)
        safe_code = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.job_code)
        return os.path.join(directory, f"django_cronjobs.{safe_code}.lock")

    def lock(self) -> bool:
        handle = open(self.get_lock_name(), "a+b")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
