"""A small project that shows django_cronjobs at work, on SQLite."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("EXAMPLE_SECRET_KEY", "example-only-not-secret")
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_cronjobs",
    "chores",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "exampleproject.urls"
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
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DATABASE", str(BASE_DIR / "db.sqlite3")),
        # WAL and a busy timeout let several runcrons processes share the file.
        "OPTIONS": {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"},
    }
}
USE_TZ = True
TIME_ZONE = "Europe/Berlin"
STATIC_URL = "static/"
ADMINS = [("Operations", "ops@example.com")]
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# The jobs runcrons runs, in this order.
CRON_CLASSES = [
    "chores.cron.Heartbeat",
    "chores.cron.ClearExpiredSessions",
    "chores.cron.DailySignupReport",
    "chores.cron.WeeklyDigest",
    "chores.cron.Reminder",
]
# Keep a month of run history.
CRONJOBS_DELETE_LOGS_OLDER_THAN = 30
