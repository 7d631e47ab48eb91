"""When a job runs: ``Schedule``, its slot rules, wall-clock time across daylight saving,
the checks of its arguments and its text in plain English.

Pure: nothing here reads the database or the clock; callers pass ``now``.
"""
