"""The Celery app of the worker tests on django-tasks-celery (its ``CELERY_APP`` option,
and ``celery -A tests.celery_app worker``): configured from the ``CELERY_*`` settings."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

app = Celery("tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # django_cronjobs.tasks, once Django is set up
