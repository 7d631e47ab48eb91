"""One way to write a moment, wherever the app shows one: console, commands, admin.

A job's moments are written in its schedule's zone, the zone its times are
given in: ``2026-12-01 03:06 Europe/Berlin``. A wall time that a zone shows
twice (the hour repeated when daylight saving time ends) carries its UTC
offset: ``2026-10-25 02:30 Europe/Berlin (+01:00)``.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.utils import timezone


def in_zone(moment: datetime | None, zone: tzinfo) -> str:
    """``2026-12-01 03:06 Europe/Berlin``; ``-`` for none."""
    if moment is None:
        return "-"
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {zone}{repeated_hour(local)}"


def local_in(moment: datetime, zone: tzinfo) -> str:
    """``2026-12-01 03:06``: in a zone said nearby."""
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M}{repeated_hour(local)}"


def clock_time(moment: datetime, zone: tzinfo) -> str:
    """``03:06``: a slot on a runcrons line, in the job's zone."""
    local = moment.astimezone(zone)
    return f"{local:%H:%M}{repeated_hour(local)}"


def repeated_hour(local: datetime) -> str:
    """`` (+01:00)`` when the zone shows this wall time twice; else nothing."""
    twin = local.replace(fold=1 - local.fold)
    if twin.utcoffset() == local.utcoffset():
        return ""
    offset = local.isoformat()[-6:]
    return f" ({offset})"


def duration_text(seconds: float | None) -> str:
    """How long a run took: ``1.234 s``, ``2 min 5 s``, ``3 h 4 min``; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.3f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def local(moment: datetime | None) -> str:
    """``2026-12-01 03:06:05`` in the current time zone (a run's start, its slot); ``-``.

    With ``USE_TZ = False`` moments are naive and written as they are.
    """
    if moment is None:
        return "-"
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{moment:%Y-%m-%d %H:%M:%S}"
