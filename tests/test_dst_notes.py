"""Fixed times that a coming daylight saving change skips or repeats: told, not hidden."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core import checks
from django.core.management import call_command

from django_cronjobs import CronJobBase, Schedule
from django_cronjobs.schedules.dst_notes import dst_notes, transition_days

JAN_2027 = datetime(2027, 1, 1, tzinfo=UTC)


def berlin(**schedule: object) -> Schedule:
    return Schedule(timezone="Europe/Berlin", **schedule)  # type: ignore[arg-type]


def test_the_transition_days_of_a_zone():
    import zoneinfo

    days = transition_days(zoneinfo.ZoneInfo("Europe/Berlin"), date(2027, 1, 1), 365)
    assert days == [date(2027, 3, 28), date(2027, 10, 31)]
    assert transition_days(zoneinfo.ZoneInfo("Asia/Kolkata"), date(2027, 1, 1), 365) == []


def test_a_time_in_the_skipped_hour_runs_after_the_jump_and_one_in_the_repeated_hour_once():
    notes = dst_notes(berlin(run_at_times=["02:30"]), JAN_2027)
    assert [note.text() for note in notes] == [
        "02:30 does not exist on 2027-03-28: runs at 03:00",
        "02:30 happens twice on 2027-10-31: runs once, at the first (CEST)",
    ]
    cron = dst_notes(berlin(cron="15 2 * * *"), JAN_2027)
    assert cron[0].text() == "02:15 does not exist on 2027-03-28: runs at 03:00"


@pytest.mark.parametrize(
    "schedule",
    [
        berlin(run_at_times=["04:00"]),
        berlin(cron="*/15 * * * *"),  # follows elapsed time
        berlin(cron="0 * * * *"),
        berlin(run_every_mins=30),
        berlin(run_at_times=["02:30"], run_weekly_on_days=[0]),  # both days are Sundays
        Schedule(run_at_times=["02:30"], timezone="UTC"),
    ],
)
def test_schedules_that_meet_no_change_get_no_note(schedule):
    assert dst_notes(schedule, JAN_2027) == []


class AtHalfPastTwo(CronJobBase):
    code = "tests.half_past_two"
    schedule = Schedule(run_at_times=["02:30"], timezone="Europe/Berlin")

    def do(self) -> None:
        pass


def test_the_system_check_warns_with_w003(settings, time_machine):
    time_machine.move_to(JAN_2027)
    settings.CRON_CLASSES = ["tests.test_dst_notes.AtHalfPastTwo", "tests.jobs.EveryMinuteJob"]
    found = [m for m in checks.run_checks() if m.id == "django_cronjobs.W003"]
    assert len(found) == 1
    assert found[0].level == checks.WARNING
    assert found[0].msg == (
        "Cron job tests.half_past_two, in Europe/Berlin: 02:30 does not exist on 2027-03-28: "
        "runs at 03:00; 02:30 happens twice on 2027-10-31: runs once, at the first (CEST)"
    )
    assert found[0].hint == "Choose a time outside the hour the clocks change, or UTC."


@pytest.mark.django_db
def test_cronjobs_next_marks_the_runs_a_change_moves(settings, time_machine):
    time_machine.move_to(datetime(2027, 3, 26, 12, tzinfo=UTC))
    settings.CRON_CLASSES = ["tests.test_dst_notes.AtHalfPastTwo"]
    out = StringIO()
    call_command("cronjobs", "next", "tests.half_past_two", "-n", "3", stdout=out)
    assert out.getvalue().splitlines() == [
        "2027-03-27 02:30 Europe/Berlin",
        "2027-03-28 03:00 Europe/Berlin  (02:30 does not exist on 2027-03-28: runs at 03:00)",
        "2027-03-29 02:30 Europe/Berlin",
    ]
