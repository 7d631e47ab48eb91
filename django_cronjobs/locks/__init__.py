"""Overlap locks: keep a job from starting while its previous run still runs.

Chosen by ``CRONJOBS_LOCK_BACKEND`` (django-cron: ``DJANGO_CRON_LOCK_BACKEND``):
``"database"`` (default), ``"cache"``, ``"file"``, a dotted path to a class
with django-cron's lock interface, or None to switch overlap locking off. The
exactly-once-per-slot guarantee does not depend on the lock: the database
enforces it whatever the backend.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

from .base import LockBackend

BUILTIN_BACKENDS = {
    "database": "django_cronjobs.locks.database.DatabaseLock",
    "cache": "django_cronjobs.locks.cache.CacheLock",
    "file": "django_cronjobs.locks.file.FileLock",
}
# django-cron's dotted paths, before and after renaming the import.
for _old_package in ("django_cron", "django_cronjobs"):
    BUILTIN_BACKENDS[f"{_old_package}.backends.lock.database.DatabaseLock"] = BUILTIN_BACKENDS[
        "database"
    ]
    BUILTIN_BACKENDS[f"{_old_package}.backends.lock.cache.CacheLock"] = BUILTIN_BACKENDS["cache"]
    BUILTIN_BACKENDS[f"{_old_package}.backends.lock.file.FileLock"] = BUILTIN_BACKENDS["file"]


def lock_backend_class(name: str | None) -> type[LockBackend] | None:
    """The lock class a setting value names; None when locking is off.

    Raises ImportError (or AttributeError) for a name that is not a class.
    """
    if name is None:
        return None
    backend = import_string(BUILTIN_BACKENDS.get(name, name))
    if not isinstance(backend, type):
        raise ImportError(f"{name!r} is not a class")
    return backend


__all__ = ["BUILTIN_BACKENDS", "LockBackend", "lock_backend_class"]
