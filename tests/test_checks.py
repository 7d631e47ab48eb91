"""Every misconfiguration has a system check id, and runcrons still runs the valid jobs."""

from __future__ import annotations

import pytest
from django.core import checks

from django_cronjobs import check_ids
from django_cronjobs import checks as cronjobs_checks
from django_cronjobs.conf import DEFAULT_CLOCK_SKEW_LIMIT
from django_cronjobs.engine.runner import Runner
from django_cronjobs.models import CronJobLog
from tests.conftest import run_crons

GOOD = "tests.broken_jobs.GoodJob"

# (class path, check id, words the message contains)
BROKEN_ENTRIES = [
    ("tests.broken_jobs.Missing", "django_cronjobs.E001", "Cannot import"),
    ("no_such_module.Job", "django_cronjobs.E001", "Cannot import"),
    ("tests.broken_jobs.NotAJob", "django_cronjobs.E002", "not a subclass of CronJobBase"),
    ("tests.broken_jobs.NoCodeJob", "django_cronjobs.E003", "has no code"),
    ("tests.broken_jobs.LongCodeJob", "django_cronjobs.E004", "at most 64"),
    ("tests.broken_jobs.EmptyCodeJob", "django_cronjobs.E004", "non-empty string"),
    ("tests.broken_jobs.SameCodeJob", "django_cronjobs.E005", "uses the code"),
    ("tests.broken_jobs.NoScheduleJob", "django_cronjobs.E006", "must be a Schedule"),
    ("tests.broken_jobs.BadCronJob", "django_cronjobs.E007", "Invalid cron expression"),
    ("tests.broken_jobs.SixFieldCronJob", "django_cronjobs.E007", "Invalid cron expression"),
    ("tests.broken_jobs.RebootCronJob", "django_cronjobs.E007", "Invalid cron expression"),
    ("tests.broken_jobs.NeverCronJob", "django_cronjobs.E008", "never fires"),
    ("tests.broken_jobs.DisjointDaysJob", "django_cronjobs.E008", "never fires on the days"),
    ("tests.broken_jobs.Hour25Job", "django_cronjobs.E009", "'25:00'"),
    ("tests.broken_jobs.Minute60Job", "django_cronjobs.E009", "'12:60'"),
    ("tests.broken_jobs.ShortTimeJob", "django_cronjobs.E009", "'7:5'"),
    ("tests.broken_jobs.StringTimesJob", "django_cronjobs.E009", "must be a list"),
    ("tests.broken_jobs.NothingJob", "django_cronjobs.E010", "nothing to run on"),
    ("tests.broken_jobs.NegativeJob", "django_cronjobs.E011", "run_every_mins"),
    ("tests.broken_jobs.FractionJob", "django_cronjobs.E011", "whole number"),
    ("tests.broken_jobs.NegativeRetryJob", "django_cronjobs.E011", "retry_after_failure_mins"),
    ("tests.broken_jobs.NegativeToleranceJob", "django_cronjobs.E011", "run_tolerance_seconds"),
    ("tests.broken_jobs.NanToleranceJob", "django_cronjobs.E011", "run_tolerance_seconds"),
    ("tests.broken_jobs.HugeToleranceJob", "django_cronjobs.E011", "run_tolerance_seconds"),
    ("tests.broken_jobs.HugeIntervalJob", "django_cronjobs.E011", "run_every_mins"),
    ("tests.broken_jobs.WeekdayJob", "django_cronjobs.E012", "run_weekly_on_days"),
    ("tests.broken_jobs.MonthdayJob", "django_cronjobs.E012", "run_monthly_on_days"),
    ("tests.broken_jobs.ZoneJob", "django_cronjobs.E013", "Mars/Olympus"),
    ("tests.broken_jobs.MissedPolicyJob", "django_cronjobs.E017", "missed_slots"),
    ("tests.broken_jobs.ReplayLimitJob", "django_cronjobs.E017", "replay_limit"),
    ("tests.broken_jobs.NoDoJob", "django_cronjobs.E022", "does not define do()"),
    ("tests.broken_jobs.DeadlineJob", "django_cronjobs.E017", "starting_deadline_seconds"),
    ("tests.broken_jobs.HugeIntDeadlineJob", "django_cronjobs.E017", "starting_deadline_seconds"),
    ("tests.broken_jobs.HugeIntTimeoutJob", "django_cronjobs.E011", "TIMEOUT_SECONDS"),
    ("tests.broken_jobs.InfiniteTimeoutJob", "django_cronjobs.E011", "TIMEOUT_SECONDS"),
    ("tests.broken_jobs.NulCodeJob", "django_cronjobs.E020", "control characters"),
    ("tests.broken_jobs.NewlineCodeJob", "django_cronjobs.E020", "control characters"),
    ("tests.broken_jobs.SurrogateCodeJob", "django_cronjobs.E020", "control characters"),
]


# All checks run, including those of django_tasks_db's models (JSONField
# asks the database what it supports on Django 6.1).
@pytest.mark.django_db(databases=["default", "cron"])
@pytest.mark.parametrize(("path", "check_id", "words"), BROKEN_ENTRIES)
def test_check_reports_the_broken_entry(settings, path, check_id, words):
    settings.CRON_CLASSES = [GOOD, path]
    found = [message for message in checks.run_checks() if message.id.startswith("django_cronjobs")]
    assert [message.id for message in found] == [check_id]
    assert words in found[0].msg
    assert found[0].obj == path
    assert found[0].hint, "every check says what to do about it"
    assert "\n" not in found[0].hint


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "check_id", "words"), BROKEN_ENTRIES)
def test_runcrons_runs_the_valid_jobs_beside_a_broken_entry(settings, path, check_id, words):
    settings.CRON_CLASSES = [GOOD, path]
    out = run_crons()
    assert "[✔] broken.good" in out
    assert CronJobLog.objects.filter(code="broken.good").count() == 1
    assert CronJobLog.objects.count() == 1
    # The broken entry makes the command line's exit status 2.
    report = Runner(force=True).run()
    assert [result.outcome for result in report.results] == ["broken", "succeeded"]
    assert words in report.broken[0].detail


@pytest.mark.django_db
def test_runcrons_prints_django_cron_messages(settings):
    settings.CRON_CLASSES = [
        "tests.broken_jobs.Missing",
        "tests.broken_jobs.NoCodeJob",
        "tests.broken_jobs.NotAJob",
    ]
    out = run_crons(silent=True)
    # django-cron's words, in the line every broken entry gets: name, check id, text.
    assert "ERROR tests.broken_jobs.Missing: (django_cronjobs.E001) Cannot import" in out
    assert "Make sure these are valid cron class names: tests.broken_jobs.Missing" in out
    assert (
        "ERROR tests.broken_jobs.NoCodeJob: (django_cronjobs.E003) "
        "Cron class 'NoCodeJob' does not have a code attribute"
    ) in out
    assert "The cron_job to be run must be a subclass of CronJobBase" in out


@pytest.mark.django_db(databases=["default", "cron"])
def test_a_valid_configuration_has_no_messages(settings):
    settings.CRON_CLASSES = [GOOD, "tests.jobs.DailyJob", "tests.jobs.CronExpressionJob"]
    assert [m for m in checks.run_checks() if m.id.startswith("django_cronjobs")] == []


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("tests.jobs.DailyJob", ["a list of dotted paths, not 'tests.jobs.DailyJob'"]),
        ([1, 2], ["dotted paths, not 1.", "dotted paths, not 2."]),
        (5, ["a list of dotted paths, not 5."]),
    ],
)
def test_cron_classes_must_be_a_list_of_paths(settings, value, words):
    settings.CRON_CLASSES = value
    found = cronjobs_checks.check_cron_classes()
    assert [m.id for m in found] == ["django_cronjobs.E015"] * len(words)
    assert all(word in m.msg for word, m in zip(words, found, strict=True))
    assert all(isinstance(m, checks.Error) for m in found)


def test_a_missing_comma_gets_a_hint(settings):
    settings.CRON_CLASSES = "tests.jobs.DailyJob"  # ("tests.jobs.DailyJob")
    (found,) = cronjobs_checks.check_cron_classes()
    assert found.hint == (
        "Write ['tests.jobs.DailyJob'] or ('tests.jobs.DailyJob',): "
        "without the comma it is a string."
    )


def test_a_class_where_a_path_belongs_gets_its_path_as_hint(settings):
    from tests.jobs import DailyJob

    settings.CRON_CLASSES = [GOOD, DailyJob]
    (found,) = cronjobs_checks.check_cron_classes()
    assert found.id == "django_cronjobs.E015"
    assert found.hint == "Write its path: 'tests.jobs.DailyJob'."


def test_no_jobs_is_a_warning(settings):
    settings.CRON_CLASSES = []
    (found,) = cronjobs_checks.check_cron_classes()
    assert found.id == "django_cronjobs.W002"
    assert found.level == checks.WARNING


def under_migrate(check, **kwargs):
    """``check(**kwargs)`` as the ``migrate`` command (here a subclass of it) runs it."""
    from django.core.management.commands.migrate import Command as Migrate

    class Migrating(Migrate):
        def run(self):
            return check(**kwargs)

    return Migrating().run()


def test_job_problems_are_warnings_under_migrate(settings):
    # A broken job must not stop migrate. The ids stay; manage.py check and
    # the test runner (which pass databases too) still fail.
    settings.CRON_CLASSES = [GOOD, "tests.broken_jobs.Missing", 42]
    plain = cronjobs_checks.check_cron_classes(databases=["default"])
    ahead = under_migrate(cronjobs_checks.check_cron_classes, databases=["default"])
    assert (
        [m.id for m in ahead]
        == [m.id for m in plain]
        == [
            "django_cronjobs.E001",
            "django_cronjobs.E015",
        ]
    )
    assert [m.level for m in plain] == [checks.ERROR] * 2
    assert [m.level for m in ahead] == [checks.WARNING] * 2


def test_a_job_its_task_backend_cannot_take_is_a_warning_under_migrate(settings):
    settings.CRON_CLASSES = ["tests.task_jobs.FollowsTheSetting"]
    settings.CRONJOBS_TASK_BACKEND = "nowhere"
    (plain,) = cronjobs_checks.check_task_backends()
    (ahead,) = under_migrate(cronjobs_checks.check_task_backends)
    assert (plain.id, plain.level) == ("django_cronjobs.E019", checks.ERROR)
    assert (ahead.id, ahead.level) == ("django_cronjobs.E019", checks.WARNING)


def test_the_apps_own_settings_stay_errors_under_migrate(settings):
    settings.CRONJOBS_LOCK_BACKEND = "no.such.Lock"
    settings.CRONJOBS_BATCH_SECONDS = -1
    found = [
        *under_migrate(cronjobs_checks.check_lock_backend),
        *under_migrate(cronjobs_checks.check_batch_seconds),
    ]
    assert [(m.id, m.level) for m in found] == [
        ("django_cronjobs.E014", checks.ERROR),
        ("django_cronjobs.E018", checks.ERROR),
    ]


def test_unknown_lock_backend(settings):
    settings.CRONJOBS_LOCK_BACKEND = "no.such.Lock"
    assert [m.id for m in cronjobs_checks.check_lock_backend()] == ["django_cronjobs.E014"]


@pytest.mark.django_db
def test_runcrons_fails_closed_on_an_unknown_lock_backend(settings):
    settings.CRON_CLASSES = [GOOD]
    settings.CRONJOBS_LOCK_BACKEND = "no.such.Lock"
    out = run_crons()
    assert "Unknown lock backend" in out
    assert not CronJobLog.objects.exists()


@pytest.mark.parametrize(
    ("backend", "check_ids"),
    [
        ("django.core.cache.backends.locmem.LocMemCache", ["django_cronjobs.W001"]),
        ("django.core.cache.backends.dummy.DummyCache", ["django_cronjobs.W001"]),
        ("django.core.cache.backends.redis.RedisCache", []),
    ],
)
def test_cache_lock_on_an_unsuitable_cache(settings, backend, check_ids):
    settings.CRONJOBS_LOCK_BACKEND = "cache"
    settings.CACHES = {"default": {"BACKEND": backend}}
    assert [m.id for m in cronjobs_checks.check_lock_backend()] == check_ids


def test_cache_lock_on_a_missing_cache(settings):
    settings.DJANGO_CRON_LOCK_BACKEND = "django_cron.backends.lock.cache.CacheLock"
    settings.CRONJOBS_CACHE = "nowhere"
    assert [m.id for m in cronjobs_checks.check_lock_backend()] == ["django_cronjobs.E016"]


def test_every_check_has_a_one_line_hint():
    for check in check_ids.CATALOGUE:
        assert check.hint, check.id
        assert "\n" not in check.hint
        assert len(check.hint) < 80
    assert f"uses {DEFAULT_CLOCK_SKEW_LIMIT:g} meanwhile" in check_ids.E021.hint


ENTRY_REFUSALS = {"django_cronjobs.E023", "django_cronjobs.E024"}


def test_every_check_id_is_documented_and_tested():
    documented = set(check_ids.BY_ID)
    tested = {check_id for _, check_id, _ in BROKEN_ENTRIES} | {
        "django_cronjobs.E014",
        "django_cronjobs.E015",
        "django_cronjobs.E016",
        "django_cronjobs.E018",
        "django_cronjobs.E019",
        "django_cronjobs.E021",
        # Refused writes of entries: test_entries.py::test_a_wrong_entry_is_refused...
        *ENTRY_REFUSALS,
        "django_cronjobs.W001",
        "django_cronjobs.W002",
        # test_dst_notes.py::test_the_system_check_warns_with_w003
        "django_cronjobs.W003",
        # test_sentry_crons.py::test_check_ins_without_sentry_sdk_are_a_warning
        "django_cronjobs.W004",
        # test_retention.py::test_bad_retention_attributes_are_e025_and_the_job_does_not_run
        "django_cronjobs.E025",
        # test_prometheus.py::test_metrics_without_prometheus_client_are_a_warning
        "django_cronjobs.W005",
        # test_prometheus.py::test_a_bad_push_timeout_is_w006_and_nothing_is_pushed
        "django_cronjobs.W006",
    }
    assert documented == tested


# Numbers no setting of seconds may be: NaN compares false to every bound, an
# infinity is no duration, and an int this large overflows a float.
HUGE_INT = 10**400
NOT_FINITE = [float("inf"), float("nan"), HUGE_INT]


def short_id(value: object) -> str | None:
    """HUGE_INT in a test's name, instead of its 401 digits."""
    return "10**400" if value == HUGE_INT else None


@pytest.mark.parametrize(
    ("value", "errors"),
    [(0, 0), (2.5, 0), (-1, 1), ("1", 1), (True, 1)] + [(value, 1) for value in NOT_FINITE],
    ids=short_id,
)
def test_the_batch_setting_is_checked(settings, value, errors):
    settings.CRONJOBS_BATCH_SECONDS = value
    found = cronjobs_checks.check_batch_seconds()
    assert [error.id for error in found] == ["django_cronjobs.E018"] * errors


@pytest.mark.parametrize("value", [-1, "1", *NOT_FINITE], ids=short_id)
def test_a_batch_setting_the_check_refuses_turns_batches_off(settings, value):
    from django_cronjobs.engine.batches import batch_seconds

    settings.CRONJOBS_BATCH_SECONDS = value
    assert batch_seconds() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("value", NOT_FINITE, ids=short_id)
def test_a_batch_setting_of_any_value_never_breaks_a_tick(settings, value):
    settings.CRONJOBS_BATCH_SECONDS = value
    report = Runner().run([GOOD])
    assert [result.outcome for result in report.results] == ["succeeded"]


TASK_JOB = "tests.task_jobs.TaskJob"


@pytest.mark.parametrize(
    ("value", "errors"),
    [(600, 0), (0.5, 0), (0, 1), (-1, 1), ("600", 1), (True, 1)]
    + [(value, 1) for value in NOT_FINITE],
    ids=short_id,
)
def test_the_task_start_setting_is_checked(settings, value, errors):
    settings.CRON_CLASSES = [TASK_JOB]
    settings.CRONJOBS_TASK_START_SECONDS = value
    found = cronjobs_checks.check_task_backends()
    assert [(m.id, "CRONJOBS_TASK_START_SECONDS" in m.msg) for m in found] == [
        ("django_cronjobs.E019", True)
    ] * errors


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["600", *NOT_FINITE], ids=short_id)
def test_a_task_start_setting_the_check_refuses_never_breaks_a_tick(settings, value):
    settings.CRONJOBS_TASK_START_SECONDS = value
    report = Runner().run([GOOD, TASK_JOB])
    assert [result.outcome for result in report.results] == ["succeeded", "broken"]
    assert "CRONJOBS_TASK_START_SECONDS" in report.broken[0].detail
    assert not CronJobLog.objects.filter(code="tasks.immediate").exists()


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        *[(3600, 0), (0.5, 0), (None, 0), (0, 1), (-5, 1), ("3600", 1), (True, 1)],
        # Infinity is a limit no clock exceeds; NaN and an int no float holds are none.
        *[(float("inf"), 0), (float("nan"), 1), (HUGE_INT, 1)],
    ],
    ids=short_id,
)
def test_the_clock_skew_limit_is_checked(settings, value, errors):
    settings.CRONJOBS_CLOCK_SKEW_LIMIT = value
    found = cronjobs_checks.check_clock_skew_limit(databases=["default"])
    assert [(error.id, error.level) for error in found] == [
        ("django_cronjobs.E021", checks.ERROR)
    ] * errors


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["3600", -1, None, *NOT_FINITE], ids=short_id)
def test_a_clock_skew_limit_of_any_value_never_breaks_a_tick(settings, value):
    settings.CRONJOBS_CLOCK_SKEW_LIMIT = value
    report = Runner().run([GOOD])
    assert [result.outcome for result in report.results] == ["succeeded"]


def test_entries_are_resolved_once_and_again_after_any_change(settings, monkeypatch):
    from django_cronjobs import Schedule
    from django_cronjobs.jobs.base import load_jobs
    from tests import broken_jobs

    settings.CRON_CLASSES = [GOOD]
    first = load_jobs()
    assert load_jobs()[0] is first[0]  # nothing changed: the same entry
    monkeypatch.setattr(broken_jobs.GoodJob, "schedule", Schedule(run_every_mins=-1))
    changed = load_jobs()[0]
    assert changed is not first[0]
    assert [problem.check_id for problem in changed.problems] == ["django_cronjobs.E011"]
    monkeypatch.undo()
    assert load_jobs()[0].runnable

    class Replacement(broken_jobs.GoodJob):
        code = "tests.replacement"

    monkeypatch.setattr(broken_jobs, "GoodJob", Replacement)
    assert load_jobs()[0].job_class is Replacement
    monkeypatch.undo()
    settings.CRON_CLASSES = [GOOD, "tests.broken_jobs.NoCodeJob"]
    assert [entry.runnable for entry in load_jobs()] == [True, False]


@pytest.mark.django_db
def test_a_code_configured_twice_prints_one_line_for_each_entry(settings):
    # The job that keeps the code runs; the duplicate is named by its path.
    settings.CRON_CLASSES = [GOOD, "tests.broken_jobs.SameCodeJob"]
    lines = run_crons(force=True).splitlines()[2:]
    assert len(lines) == 2
    assert lines[0].startswith("ERROR tests.broken_jobs.SameCodeJob: (django_cronjobs.E005) ")
    assert lines[1].startswith("[✔] broken.good ")
