"""Runs handed to a task backend of Django's Tasks framework: runcrons enqueues them
(``enqueue``), a worker runs the task :func:`django_cronjobs.tasks.run_cron_job`, which
starts each run at most once (``worker``); ``framework`` finds ``django.tasks`` or the
``django-tasks`` backport."""
