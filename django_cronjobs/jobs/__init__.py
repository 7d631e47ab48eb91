"""The jobs a project configures: ``CronJobBase``, the loading of ``CRON_CLASSES``, and
django-cron's ``CronJobManager`` and logger for code written against them."""
