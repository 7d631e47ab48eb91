"""``H`` in cron fields: one fixed value per seed, spread over the field's range."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime

import pytest

from django_cronjobs import CronJobBase, Schedule
from django_cronjobs.schedules.hashed_cron import HashError, has_hash, resolve_hashes


def test_a_plain_h_is_one_value_of_the_field_the_same_for_the_same_seed() -> None:
    first = resolve_hashes("H 8 * * *", "shop.send_digest customer-1")
    assert first == resolve_hashes("H 8 * * *", "shop.send_digest customer-1")
    minute, *rest = first.split()
    assert 0 <= int(minute) <= 59
    assert rest == ["8", "*", "*", "*"]


def test_a_million_seeds_spread_over_the_hour() -> None:
    minutes = Counter(resolve_hashes("H 8 * * *", f"job customer-{n}") for n in range(60_000))
    assert len(minutes) == 60
    # Each minute gets about a sixtieth of them: 1,000 each, none above 1,150.
    assert max(minutes.values()) < 1_150
    assert min(minutes.values()) > 850


def test_every_field_has_its_own_range() -> None:
    for n in range(300):
        minute, hour, day, month, weekday = resolve_hashes("H H H H H", f"seed {n}").split()
        assert 0 <= int(minute) <= 59
        assert 0 <= int(hour) <= 23
        assert 1 <= int(day) <= 28  # a day every month has
        assert 1 <= int(month) <= 12
        assert 0 <= int(weekday) <= 6


def test_a_step_starts_at_a_hashed_offset() -> None:
    starts = set()
    for n in range(200):
        field = resolve_hashes("H/15 * * * *", f"s{n}").split()[0]
        minutes = [int(value) for value in field.split(",")]
        assert len(minutes) == 4
        assert [b - a for a, b in itertools.pairwise(minutes)] == [15, 15, 15]
        assert 0 <= minutes[0] < 15
        starts.add(minutes[0])
    assert len(starts) == 15


def test_a_range_bounds_the_value() -> None:
    values = {int(resolve_hashes("H(0-29) 8 * * *", f"s{n}").split()[0]) for n in range(500)}
    assert values == set(range(30))
    stepped = resolve_hashes("H(10-40)/10 * * * *", "x").split()[0].split(",")
    assert [int(v) - int(stepped[0]) for v in stepped] == [0, 10, 20, 30][: len(stepped)]
    assert 10 <= int(stepped[0]) < 20


def test_fields_without_h_and_day_names_are_kept() -> None:
    assert resolve_hashes("H 8 * * THU", "x").split()[1:] == ["8", "*", "*", "THU"]
    assert not has_hash("0 8 * * THU")
    assert not has_hash("@hourly")
    assert has_hash("H/5 * * * *")
    assert has_hash("0 h * * *")


@pytest.mark.parametrize("expression", ["H(30-10) * * * *", "H/0 * * * *", "H(0-70) * * * *"])
def test_an_h_without_values_is_refused(expression: str) -> None:
    with pytest.raises(HashError):
        resolve_hashes(expression, "x")
    (problem,) = Schedule(cron=expression).problems()
    assert problem.check_id == "django_cronjobs.E007"
    assert "H(" in problem.hint


def test_a_job_class_seeds_its_schedule_with_its_code() -> None:
    shared = Schedule(cron="H 3 * * *", timezone="UTC")

    class One(CronJobBase):
        code = "spread.one"
        schedule = shared

    class Two(CronJobBase):
        code = "spread.two.with.another.code"
        schedule = shared

    assert shared.hash_seed == ""  # the shared object is left alone
    assert One.schedule.hash_seed == "spread.one"
    assert One.schedule.problems() == []
    after = datetime(2026, 12, 1, tzinfo=UTC)
    (one,) = One.schedule.next_slots(after, 1)
    assert one.hour == 3
    assert one.minute == int(resolve_hashes("H 3 * * *", "spread.one").split()[0])
    assert One.schedule.fingerprint != Two.schedule.fingerprint
    assert One.schedule.describe() == f"every day at 03:{one.minute:02d} UTC"


def test_a_schedule_without_h_is_not_copied() -> None:
    plain = Schedule(cron="0 3 * * *")
    assert plain.seeded("anything") is plain
