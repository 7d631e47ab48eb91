"""One way to write a moment, wherever the app shows one: console, commands, admin.

A job's moments are written in its schedule's zone, the zone its times are
given in: ``2026-12-01 03:06 Europe/Berlin``.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.utils import timezone


def in_zone(moment: datetime | None, zone: tzinfo) -> str:
    """``2026-12-01 03:06 Europe/Berlin``; ``-`` for none."""
    if moment is None:
        return "-"
    return f"{local_in(moment, zone)} {zone}"


def local_in(moment: datetime, zone: tzinfo) -> str:
    """``2026-12-01 03:06``: in a zone said nearby."""
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"


def clock_time(moment: datetime, zone: tzinfo) -> str:
    """``03:06``: a slot on a runcrons line, in the job's zone."""
    return f"{moment.astimezone(zone):%H:%M}"


def seconds(duration: float) -> str:
    """``0.004 s``: how long a run took."""
    return f"{duration:.3f} s"


def local(moment: datetime | None) -> str:
    """``2026-12-01 03:06:05`` in the current time zone (a run's start, its slot); ``-``."""
    if moment is None:
        return "-"
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"
