"""django-cron's lock module paths; the backends live in :mod:`django_cronjobs.locks`."""
