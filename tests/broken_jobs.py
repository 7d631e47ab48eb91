"""Misconfigured jobs, one per system check."""

from __future__ import annotations

from django_cronjobs import CronJobBase, Schedule


def _job(name: str, code: object, schedule: object) -> type[CronJobBase]:
    return type(
        name,
        (CronJobBase,),
        {"__module__": __name__, "code": code, "schedule": schedule, "do": lambda self: "ran"},
    )


GoodJob = _job("GoodJob", "broken.good", Schedule(run_every_mins=1))
SameCodeJob = _job("SameCodeJob", "broken.good", Schedule(run_every_mins=1))
LongCodeJob = _job("LongCodeJob", "x" * 65, Schedule(run_every_mins=1))
EmptyCodeJob = _job("EmptyCodeJob", "", Schedule(run_every_mins=1))
NoScheduleJob = _job("NoScheduleJob", "broken.no_schedule", "every hour")
BadCronJob = _job("BadCronJob", "broken.bad_cron", Schedule(cron="61 * * * *"))
SixFieldCronJob = _job("SixFieldCronJob", "broken.six_fields", Schedule(cron="* * * * * *"))
RebootCronJob = _job("RebootCronJob", "broken.reboot", Schedule(cron="@reboot"))
NeverCronJob = _job("NeverCronJob", "broken.never", Schedule(cron="0 0 31 2 *"))
Hour25Job = _job("Hour25Job", "broken.hour25", Schedule(run_at_times=["25:00"]))
Minute60Job = _job("Minute60Job", "broken.minute60", Schedule(run_at_times=["12:60"]))
ShortTimeJob = _job("ShortTimeJob", "broken.short_time", Schedule(run_at_times=["7:5"]))
StringTimesJob = _job("StringTimesJob", "broken.string_times", Schedule(run_at_times="12:00"))
NothingJob = _job("NothingJob", "broken.nothing", Schedule())
NegativeJob = _job("NegativeJob", "broken.negative", Schedule(run_every_mins=-5))
FractionJob = _job("FractionJob", "broken.fraction", Schedule(run_every_mins=1.5))
NegativeRetryJob = _job(
    "NegativeRetryJob", "broken.retry", Schedule(run_every_mins=5, retry_after_failure_mins=-1)
)
NegativeToleranceJob = _job(
    "NegativeToleranceJob", "broken.tolerance", Schedule(run_every_mins=5, run_tolerance_seconds=-1)
)
WeekdayJob = _job(
    "WeekdayJob", "broken.weekday", Schedule(run_every_mins=5, run_weekly_on_days=[7])
)
MonthdayJob = _job(
    "MonthdayJob", "broken.monthday", Schedule(run_every_mins=5, run_monthly_on_days=[0])
)
ZoneJob = _job("ZoneJob", "broken.zone", Schedule(run_every_mins=5, timezone="Mars/Olympus"))
# Codes a database cannot store (PostgreSQL refuses NUL; UTF-8 has no lone
# surrogates) or that garble a log line.
NulCodeJob = _job("NulCodeJob", "broken.nul\x00code", Schedule(run_every_mins=1))
NewlineCodeJob = _job("NewlineCodeJob", "broken.new\nline", Schedule(run_every_mins=1))
SurrogateCodeJob = _job("SurrogateCodeJob", "broken.\ud800", Schedule(run_every_mins=1))


class NoCodeJob(CronJobBase):
    schedule = Schedule(run_every_mins=1)


class NotAJob:
    code = "broken.not_a_job"


MissedPolicyJob = _job(
    "MissedPolicyJob", "broken.missed_policy", Schedule(run_every_mins=5, missed_slots="all")
)
ReplayLimitJob = _job(
    "ReplayLimitJob",
    "broken.replay_limit",
    Schedule(run_every_mins=5, missed_slots="replay", replay_limit=0),
)
DeadlineJob = _job(
    "DeadlineJob", "broken.deadline", Schedule(run_every_mins=5, starting_deadline_seconds=-1)
)
NanToleranceJob = _job(
    "NanToleranceJob",
    "broken.nan_tolerance",
    Schedule(run_every_mins=5, run_tolerance_seconds=float("nan")),
)
HugeToleranceJob = _job(
    "HugeToleranceJob",
    "broken.huge_tolerance",
    Schedule(run_every_mins=5, run_tolerance_seconds=1e30),
)
HugeIntervalJob = _job("HugeIntervalJob", "broken.huge_interval", Schedule(run_every_mins=10**12))
DisjointDaysJob = _job(
    "DisjointDaysJob",
    "broken.disjoint_days",
    # cron's 1 is Monday, django-cron's 1 is Tuesday: never both.
    Schedule(cron="0 9 * * 1", run_weekly_on_days=[1]),
)


class NoDoJob(CronJobBase):
    """Forgot do(): the work it was meant to do is nowhere."""

    code = "broken.no_do"
    schedule = Schedule(run_every_mins=5)


# An int larger than any float: comparing it is fine, converting it overflows.
HugeIntDeadlineJob = _job(
    "HugeIntDeadlineJob",
    "broken.huge_int_deadline",
    Schedule(run_every_mins=5, starting_deadline_seconds=10**400),
)
HugeIntTimeoutJob = type(
    "HugeIntTimeoutJob",
    (GoodJob,),
    {"__module__": __name__, "code": "broken.huge_int_timeout", "TIMEOUT_SECONDS": 10**400},
)
InfiniteTimeoutJob = type(
    "InfiniteTimeoutJob",
    (GoodJob,),
    {"__module__": __name__, "code": "broken.infinite_timeout", "TIMEOUT_SECONDS": float("inf")},
)
