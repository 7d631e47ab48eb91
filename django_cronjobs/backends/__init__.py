"""django-cron's module layout, kept so that renaming the import name is enough."""
