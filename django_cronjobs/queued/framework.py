"""Django's Tasks framework: ``django.tasks`` (Django 6) or the ``django-tasks`` backport.

Imported only by projects that hand jobs to a task backend.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from django.conf import settings


class TasksUnavailable(Exception):
    """Neither ``django.tasks`` nor the ``django-tasks`` backport can be imported."""


def framework() -> ModuleType:
    """``django.tasks`` where Django has it, else the backport's ``django_tasks``."""
    for name in ("django.tasks", "django_tasks"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise TasksUnavailable(
        "Handing jobs to a task backend needs Django 6's django.tasks, or on Django 5.2 "
        "the django-tasks backport (pip install 'dj-cronjobs[tasks]')."
    )


def configured_aliases() -> list[str]:
    """The aliases of TASKS (Django's default when the project sets none)."""
    tasks = getattr(settings, "TASKS", None)
    if not tasks:
        return [framework().DEFAULT_TASK_BACKEND_ALIAS]
    return list(tasks)


def backend(alias: str) -> Any:
    """The task backend of ``alias``; raises if it is not configured."""
    return framework().task_backends[alias]
