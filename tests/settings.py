"""Settings for the test suite.

SQLite by default; ``DATABASE_URL`` (read by dj-database-url) selects
PostgreSQL or MariaDB/MySQL, and ``REDIS_URL`` the Redis that the cache lock
tests use (default redis://127.0.0.1:6379/0).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile

import dj_database_url
import django

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"

_database_url = os.environ.get("DATABASE_URL", "")
if _database_url:
    _default = dj_database_url.parse(_database_url)
else:
    # A file, not :memory:, so that the many processes of the concurrency
    # tests share one test database.
    _default = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(tempfile.gettempdir(), "django_cronjobs_tests.sqlite3"),
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
if _default["ENGINE"] == "django.db.backends.sqlite3":
    # One file per test run, so that two runs on one machine never share it.
    # (Processes a test starts are told its name: CRONJOBS_TEST_DATABASE_NAME.)
    _default.setdefault("TEST", {})["NAME"] = os.path.join(
        tempfile.gettempdir(), f"django_cronjobs_test_{os.getpid()}.sqlite3"
    )
elif "mysql" in _default["ENGINE"]:
    _default.setdefault("OPTIONS", {})["charset"] = "utf8mb4"
    _default.setdefault("TEST", {}).update(CHARSET="utf8mb4", COLLATION="utf8mb4_unicode_ci")
# Child processes of the tests use the test database their parent created.
if os.environ.get("CRONJOBS_TEST_DATABASE_NAME"):
    _default["NAME"] = os.environ["CRONJOBS_TEST_DATABASE_NAME"]
# A second database for the tests of CRONJOBS_DATABASE: the same server (or a
# second SQLite file); only the tests that ask for it may touch it.
_cron_test: dict[str, str] = dict(_default.get("TEST", {}))
_cron = {**_default, "TEST": _cron_test}
if _cron["ENGINE"] == "django.db.backends.sqlite3":
    _cron["NAME"] = os.path.join(tempfile.gettempdir(), "django_cronjobs_tests_cron.sqlite3")
    _cron_test["NAME"] = os.path.join(
        tempfile.gettempdir(), f"django_cronjobs_test_cron_{os.getpid()}.sqlite3"
    )
else:
    _cron_test["NAME"] = f"test_{_default['NAME']}_cron"
DATABASES = {"default": _default, "cron": _cron}

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "redis": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_cronjobs",
    "tests",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
# Django's Tasks framework (the backport below Django 6): an immediate
# backend, a dummy one that keeps what is enqueued, and django-tasks-db's
# database backend that the db_worker processes of test_tasks.py serve.
_tasks = "django.tasks" if django.VERSION >= (6, 0) else "django_tasks"
TASKS: dict[str, dict[str, object]] = {
    "default": {"BACKEND": f"{_tasks}.backends.immediate.ImmediateBackend"},
    "dummy": {"BACKEND": f"{_tasks}.backends.dummy.DummyBackend"},
}
try:
    import django_tasks_db  # noqa: F401
except ImportError:
    pass
else:
    INSTALLED_APPS.append("django_tasks_db")
    TASKS["db"] = {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "cron"]}
# Celery and RQ on the machine's Redis, for the workers of test_task_workers.py:
# django-tasks-celery where Django has django.tasks (6.0 and later), else
# django-tasks-fennel; RQ through django-tasks-rq.
# They use databases 11 to 13 of the Redis server of REDIS_URL.
_redis_server, _, _redis_db = REDIS_URL.rpartition("/")
REDIS_WORKERS_URL = _redis_server if _redis_db.isdigit() else REDIS_URL.rstrip("/")
if django.VERSION >= (6, 0) and importlib.util.find_spec("django_tasks_celery"):
    TASKS["celery"] = {
        "BACKEND": "django_tasks_celery.CeleryBackend",
        "QUEUES": ["default", "cron"],
        "OPTIONS": {"CELERY_APP": "tests.celery_app.app"},
    }
    CELERY_WORKER_APP = "tests.celery_app"
elif importlib.util.find_spec("django_tasks_fennel"):
    INSTALLED_APPS.append("django_tasks_fennel")
    TASKS["celery"] = {
        "BACKEND": "django_tasks_fennel.CeleryBackend",
        "QUEUES": ["default", "cron"],
    }
    CELERY_WORKER_APP = "django_tasks_fennel.app"
if "celery" in TASKS:
    CELERY_BROKER_URL = f"{REDIS_WORKERS_URL}/11"
    CELERY_RESULT_BACKEND = f"{REDIS_WORKERS_URL}/12"
    CELERY_RESULT_EXTENDED = True
    CELERY_TASK_ACKS_LATE = True
    CELERY_WORKER_PREFETCH_MULTIPLIER = 1
    CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if importlib.util.find_spec("django_tasks_rq"):
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {
        "default": {"URL": f"{REDIS_WORKERS_URL}/13"},
        "cron": {"URL": f"{REDIS_WORKERS_URL}/13", "DEFAULT_TIMEOUT": 3600},
    }
    TASKS["rq"] = {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default", "cron"]}
if os.environ.get("CRONJOBS_TEST_LEASE_SECONDS"):
    CRONJOBS_LEASE_SECONDS = float(os.environ["CRONJOBS_TEST_LEASE_SECONDS"])
if django.VERSION >= (6, 1):
    # Django 6.1 configures email through MAILERS (the tests read mail.outbox).
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
CRON_CLASSES = [
    "tests.jobs.EveryMinuteJob",
    "tests.jobs.EveryFiveMinutesJob",
    "tests.jobs.DailyJob",
]
# A child process of a test that runs the cache lock on a Redis of its own.
if os.environ.get("CRONJOBS_TEST_CACHE_URL"):
    CACHES["own"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["CRONJOBS_TEST_CACHE_URL"],
    }
    CRONJOBS_LOCK_BACKEND = "cache"
    CRONJOBS_CACHE = "own"
CRONJOBS_LOCKFILE_PATH = os.path.join(tempfile.gettempdir(), "django_cronjobs_test_locks")
