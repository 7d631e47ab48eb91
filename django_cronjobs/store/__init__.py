"""Every statement the tick sends: reading states, claiming slots, starting and recording
runs (one by one or in batches, with PostgreSQL's own statements), stored due times,
retention, and the import of django-cron's history."""
