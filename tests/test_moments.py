"""Moments are written one way; a wall time that a zone shows twice says which."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django_cronjobs.text.moments import clock_time, in_zone, local_in

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_moment_in_its_zone():
    assert in_zone(datetime(2026, 12, 1, 2, 6, tzinfo=UTC), BERLIN) == (
        "2026-12-01 03:06 Europe/Berlin"
    )
    assert in_zone(None, BERLIN) == "-"


def test_the_repeated_hour_of_fall_back_day_says_its_offset():
    first, second = datetime(2026, 10, 25, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)
    assert in_zone(first, BERLIN) == "2026-10-25 02:00 Europe/Berlin (+02:00)"
    assert in_zone(second, BERLIN) == "2026-10-25 02:00 Europe/Berlin (+01:00)"
    assert local_in(second, BERLIN) == "2026-10-25 02:00 (+01:00)"
    assert clock_time(first, BERLIN) == "02:00 (+02:00)"
    assert clock_time(datetime(2026, 10, 25, 3, tzinfo=UTC), BERLIN) == "04:00"
