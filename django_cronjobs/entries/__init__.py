"""Schedules as data: what a CronEntry means, apart from how it is stored and run.

Validation (the texts of the system checks), the moment an entry is first
and next due, and the job class a run of an entry executes.
"""
