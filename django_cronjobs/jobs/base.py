"""``CronJobBase`` and the loading of the job classes CRON_CLASSES names."""

from __future__ import annotations

import functools
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Any, ClassVar

from django.apps import apps
from django.utils import timezone
from django.utils.module_loading import import_string

from ..check_ids import E001, E002, E003, E004, E005, E006, E011, E015, E020, E022, E025, W002
from ..conf import conf, is_finite_seconds
from ..schedules.schedule import ENTRIES_ONLY, Schedule
from .retention import RETENTION_ATTRIBUTES, retention_problems

CODE_MAX_LENGTH = 64  # CronJobLog.code


def run_name(code: str, entry: str = "") -> str:
    """How a job's runs are named: its code, or ``code[key]`` for those of an entry.

    The name of the job's (or entry's) CronJobState row, and of its lines in
    runcrons' output.
    """
    return f"{code}[{entry}]" if entry else code


class JobEntries:
    """``Job.entries``: the CronEntry rows of the job, with ``schedule()`` bound to it."""

    def __get__(self, instance: object, owner: type[CronJobBase]) -> Any:
        # Looked up, not imported: the models import this module.
        entries = apps.get_model("django_cronjobs", "CronEntry").objects
        return BoundEntries(entries, owner)


class BoundEntries:
    """The entries of one job: a queryset, plus ``schedule`` and ``schedule_many`` for it."""

    def __init__(self, entries: Any, job_class: type[CronJobBase]) -> None:
        self._entries = entries
        self._job_class = job_class

    def __getattr__(self, name: str) -> Any:
        return getattr(self._entries.for_job(self._job_class), name)

    def __iter__(self) -> Any:
        return iter(self._entries.for_job(self._job_class))

    def __repr__(self) -> str:
        return f"<entries of {self._job_class.__name__}>"

    def schedule(self, **kwargs: Any) -> Any:
        return self._entries.schedule(self._job_class, **kwargs)

    def schedule_many(self, entries: Any, **kwargs: Any) -> Any:
        return self._entries.schedule_many(self._job_class, entries, **kwargs)


class CronJobBase:
    """A recurring job: subclass it, set ``code`` and ``schedule``, write ``do()``.

    ``do()`` may return anything; its text form becomes the run's message.
    ``ALLOW_PARALLEL_RUNS = True`` lets a run start while the previous one
    still runs; ``DJANGO_CRON_LOCK_TIME`` (seconds) bounds how long a run's
    lock outlives a process that never released it; ``MIN_NUM_FAILURES`` and
    ``remove_successful_cron_logs`` keep django-cron's meaning.
    ``TIMEOUT_SECONDS`` (default ``CRONJOBS_DEFAULT_TIMEOUT_SECONDS``) stops a
    run that takes longer: such a job runs in a child process.
    """

    @classmethod
    def timeout(cls) -> float | None:
        """This job's timeout in seconds, or None."""
        own = cls.TIMEOUT_SECONDS
        return own if own is not None else conf.DEFAULT_TIMEOUT_SECONDS

    code: ClassVar[str]
    schedule: ClassVar[Schedule]
    ALLOW_PARALLEL_RUNS: ClassVar[bool] = False
    TIMEOUT_SECONDS: ClassVar[float | None] = None
    DJANGO_CRON_LOCK_TIME: ClassVar[int | None] = None
    MIN_NUM_FAILURES: ClassVar[int] = 10
    remove_successful_cron_logs: ClassVar[bool] = False
    KEEP_RUNS: ClassVar[int | None] = None
    """Keep the newest this many runs that succeeded or were missed (of each of
    its entries), deleting older ones after each run; failures go by age."""
    KEEP_DAYS: ClassVar[float | None] = None
    """Days this job's runs that succeeded or were missed are kept; None follows
    CRONJOBS_DELETE_LOGS_OLDER_THAN."""
    KEEP_FAILED_DAYS: ClassVar[float | None] = None
    """Days this job's runs that did not succeed are kept; None follows
    CRONJOBS_DELETE_FAILED_LOGS_OLDER_THAN."""
    TASK_BACKEND: ClassVar[str | bool | None] = None
    """The alias in TASKS of the task backend whose workers run this job's runs;
    None follows CRONJOBS_TASK_BACKEND; True means that setting, else the "default"
    alias; False runs it in runcrons whatever the setting says."""
    TASK_QUEUE_NAME: ClassVar[str | None] = None
    """The queue of its tasks; None follows CRONJOBS_TASK_QUEUE_NAME."""
    entry_key: ClassVar[str] = ""
    """Set on the class a run of a CronEntry executes: the entry's key."""
    entry_kwargs: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    """Set on the class a run of a CronEntry executes: what ``do()`` gets."""
    entries: ClassVar[Any] = JobEntries()
    """The job's CronEntry rows: ``SendDigest.entries.schedule(key=..., schedule=...)``."""

    @classmethod
    def configured_class(cls) -> type[CronJobBase]:
        """The class CRON_CLASSES names: the job's own, also on the class that runs an entry."""
        if "entry_key" in cls.__dict__ and cls.entry_key:
            base: type[CronJobBase] = cls.__bases__[0]
            return base
        return cls

    @classmethod
    def run_name(cls) -> str:
        """The job's code, or ``code[key]`` on the class that runs an entry."""
        return run_name(cls.code, cls.entry_key)

    @classmethod
    def task_backend(cls) -> str | None:
        """The alias of the task backend that runs this job, or None (runcrons runs it)."""
        own = cls.TASK_BACKEND
        if own is False:
            return None
        if isinstance(own, str) and own:
            return own
        if own is True:
            return conf.TASK_BACKEND or "default"
        return conf.TASK_BACKEND or None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # ``H`` in the schedule's cron is worked out from the job's code.
        schedule, code = getattr(cls, "schedule", None), getattr(cls, "code", None)
        if schedule is None and "schedule" in cls.__dict__:
            cls.schedule = ENTRIES_ONLY  # it runs only through its entries
        elif isinstance(schedule, Schedule) and isinstance(code, str) and not schedule.hash_seed:
            cls.schedule = schedule.seeded(code)

    def __init__(self) -> None:
        self.prev_success_cron: Any = None

    def do(self) -> Any:
        """The job's work. Raise to fail the run; return a message to keep."""
        raise NotImplementedError(f"{type(self).__name__} must define do()")

    @classmethod
    def get_code(cls) -> str:
        return cls.code

    @classmethod
    def get_time_until_run(cls) -> timedelta:
        """How long until the job is next due; zero when it is due now (django-cron)."""
        # Looked up, not imported: the models import the job classes' module.
        states = apps.get_model("django_cronjobs", "CronJobState").objects
        now = timezone.now()
        state = states.filter(job_name=cls.code).first()
        previous = state.last_slot if state is not None else None
        if state is not None:
            plan = cls.schedule.plan_from(state, now)
        else:
            plan = cls.schedule.plan(None, now, first_seen=now)
        if plan.run:
            return timedelta(0)
        # A failed run's retry holds the regular slots back until it runs.
        retry = cls.schedule.retry_slot(state.failed_at) if state is not None else None
        upcoming = cls.schedule.next_slots(now, 1, previous_slot=previous)
        if retry is not None and (previous is None or retry > previous) and retry > now:
            return retry - now
        return upcoming[0] - now if upcoming else timedelta.max

    def set_prev_success_cron(self, prev_success_cron: Any) -> None:
        self.prev_success_cron = prev_success_cron

    def get_prev_success_cron(self) -> Any:
        return self.prev_success_cron


@dataclass(frozen=True)
class Problem:
    """Why one configured job cannot run, as a system check id and text.

    ``hint`` is for a hint that depends on the case; the usual one of each
    check is in :mod:`django_cronjobs.check_ids`.

    ``console`` is what runcrons says of it instead of ``message``, in
    django-cron's words where django-cron had words for it (code written for
    django-cron looks for them).
    """

    check_id: str
    message: str
    hint: str = ""
    console: str = ""


@dataclass
class ConfiguredJob:
    """One name given to runcrons (or listed in CRON_CLASSES), resolved."""

    name: str
    job_class: type[CronJobBase] | None = None
    problems: list[Problem] = field(default_factory=list)

    @functools.cached_property
    def code(self) -> str:
        """The job's code; its name when that code cannot be stored or printed."""
        code = getattr(self.job_class, "code", None)
        if not isinstance(code, str) or unstorable_characters(code):
            return self.name
        assert self.job_class is not None
        return self.job_class.run_name()

    @property
    def runnable(self) -> bool:
        return self.job_class is not None and not self.problems


def import_job(name: str, *, named: bool = False) -> ConfiguredJob:
    """Resolve a dotted class path, recording why it cannot run if it can't.

    ``named``: the name was given to runcrons (a code or a path), not listed
    in CRON_CLASSES.
    """
    entry = ConfiguredJob(name)
    try:
        found = _imported(name)
    except Exception as error:
        not_found = (
            f"No configured cron job has the code or path {name!r}, and it does not import"
            if named
            else f"Cannot import {name!r}"
        )
        entry.problems.append(
            Problem(
                E001.id,
                f"Cannot import {name!r}: {type(error).__name__}: {error}",
                console=f"{not_found} ({type(error).__name__}: {error}). "
                f"Make sure these are valid cron class names: {name}",
            )
        )
        return entry
    return _entry_for(name, found)


def _entry_for(name: str, found: Any) -> ConfiguredJob:
    """The entry of ``found``, a job class if all is well, known as ``name``."""
    entry = ConfiguredJob(name)
    if not (isinstance(found, type) and issubclass(found, CronJobBase)):
        entry.problems.append(
            Problem(
                E002.id,
                f"{name!r} is not a subclass of CronJobBase.",
                console=f"The cron_job to be run must be a subclass of {CronJobBase.__name__}",
            )
        )
        return entry
    entry.job_class = found
    entry.problems.extend(_class_problems(found))
    return entry


def _imported(name: str) -> Any:
    """import_string(), without its checks when the module is imported already."""
    module_name, _, attribute = name.rpartition(".")
    module = sys.modules.get(module_name)
    if module is not None and hasattr(module, attribute):
        return getattr(module, attribute)
    return import_string(name)


def _class_problems(job_class: type[CronJobBase]) -> list[Problem]:
    """What keeps ``job_class`` from running; worked out again only when it changes."""
    attributes = tuple(getattr(job_class, name, None) for name in CHECKED_ATTRIBUTES)
    key = (job_class, *map(id, attributes))
    found = _class_problems_cache.get(key)
    if found is None or found[0] != attributes:
        if len(_class_problems_cache) >= CLASS_PROBLEMS_KEPT:
            _class_problems_cache.clear()  # classes replaced again and again (reloads)
        found = _class_problems_cache[key] = (attributes, _find_class_problems(job_class))
    return list(found[1])


CHECKED_ATTRIBUTES = ("code", "TIMEOUT_SECONDS", "schedule", *RETENTION_ATTRIBUTES)
CLASS_PROBLEMS_KEPT = 10_000
_class_problems_cache: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[Problem]]] = {}


def _find_class_problems(job_class: type[CronJobBase]) -> list[Problem]:
    code = getattr(job_class, "code", None)
    if code is None:
        return [
            Problem(
                E003.id,
                f"{job_class.__name__} has no code.",
                console=f"Cron class '{job_class.__name__}' does not have a code attribute",
            )
        ]
    problems = []
    if not isinstance(code, str) or not code.strip() or len(code) > CODE_MAX_LENGTH:
        problems.append(
            Problem(
                E004.id,
                f"{job_class.__name__}.code must be a non-empty string of at most "
                f"{CODE_MAX_LENGTH} characters, not {code!r}.",
            )
        )
    elif unstorable_characters(code):
        problems.append(
            Problem(
                E020.id,
                f"{job_class.__name__}.code contains control characters: {code!r}.",
            )
        )
    if getattr(job_class, "do", None) is CronJobBase.do:
        problems.append(
            Problem(
                E022.id,
                f"{job_class.__name__} does not define do().",
            )
        )
    timeout = getattr(job_class, "TIMEOUT_SECONDS", None)
    if timeout is not None and not is_finite_seconds(timeout, zero=False):
        problems.append(
            Problem(
                E011.id,
                f"{job_class.__name__}.TIMEOUT_SECONDS must be a finite number of seconds > 0, "
                f"not {timeout!r}.",
            )
        )
    problems.extend(
        Problem(E025.id, f"{job_class.__name__}.{message}")
        for message in retention_problems(job_class)
    )
    schedule = getattr(job_class, "schedule", None)
    if not isinstance(schedule, Schedule):
        problems.append(
            Problem(
                E006.id,
                f"{job_class.__name__}.schedule must be a Schedule, not {schedule!r}.",
            )
        )
    else:
        problems.extend(
            Problem(found.check_id, f"{job_class.__name__}: {found.message}", found.hint)
            for found in schedule.problems()
        )
    return problems


def job_path(job_class: type) -> str:
    """The dotted path of ``job_class``: how CRON_CLASSES, runcrons and a child
    process name it."""
    return f"{job_class.__module__}.{job_class.__qualname__}"


def unstorable_characters(code: str) -> list[str]:
    """The characters of ``code`` that a database may refuse or a log line garbles.

    Control characters (NUL, which PostgreSQL refuses, line breaks, tabs...)
    and unpaired surrogates, which UTF-8 cannot encode.
    """
    return [char for char in code if unicodedata.category(char) in ("Cc", "Cs")]


NOT_A_LIST = E015.id
NO_JOBS = Problem(
    W002.id,
    "CRON_CLASSES lists no jobs: runcrons has nothing to run.",
    W002.hint,
)


def _not_a_list(value: object) -> ConfiguredJob:
    """The one entry of a CRON_CLASSES that is not a list at all."""
    hint = "For example ['myapp.cron.MyCronJob']."
    if isinstance(value, str):
        # ("myapp.cron.Job") is a string: the comma of a one-element tuple is missing.
        hint = f"Write [{value!r}] or ({value!r},): without the comma it is a string."
    problem = Problem(
        NOT_A_LIST, f"CRON_CLASSES must be a list of dotted paths, not {value!r}.", hint
    )
    return ConfiguredJob("CRON_CLASSES", problems=[problem])


def _not_a_path(value: object) -> ConfiguredJob:
    """The entry of a CRON_CLASSES item that is not a string."""
    hint = "CRON_CLASSES lists dotted paths, for example 'myapp.cron.MyCronJob'."
    if isinstance(value, type):
        hint = f"Write its path: '{job_path(value)}'."
    problem = Problem(NOT_A_LIST, f"CRON_CLASSES must list dotted paths, not {value!r}.", hint)
    return ConfiguredJob(repr(value), problems=[problem])


JobNames = Sequence["str | type[CronJobBase]"]


def load_jobs(names: JobNames | None = None) -> list[ConfiguredJob]:
    """Resolve ``names`` (default: CRON_CLASSES) into job entries.

    A name may be a dotted class path, the code of a configured job, or a
    job class (which need not be importable by its path). Among
    the configured jobs, a code used twice makes every entry after the first
    one broken; on the command line a job named twice runs twice.
    """
    configured = _configured_jobs()
    if names is None:
        return configured
    by_code = {entry.code: entry for entry in configured if entry.job_class is not None}
    by_name = {
        entry.name: entry
        for entry in configured
        if not any(problem.check_id == NOT_A_LIST for problem in entry.problems)
    }
    return [
        class_entry(name)
        if isinstance(name, type)
        else by_name.get(name) or by_code.get(name) or import_job(name, named=True)
        for name in names
    ]


def class_entry(job_class: type[CronJobBase]) -> ConfiguredJob:
    """An entry for a class given itself rather than by its path."""
    return _entry_for(job_path(job_class), job_class)


def _configured_jobs() -> list[ConfiguredJob]:
    """The entries of CRON_CLASSES, resolved again only when something changed.

    Every tick asks; with thousands of jobs, resolving and checking each one
    would cost more than the tick's query. The entries are reused while the
    setting lists the same names and each name still resolves to the same
    class with the same checked attributes.
    """
    global _configured_cache
    setting: object = conf.CRON_CLASSES
    if isinstance(setting, str) or not isinstance(setting, Iterable):
        return [_not_a_list(setting)]
    names = tuple(setting)
    cached = _configured_cache
    if cached is not None and cached[0] == names and all(map(_unchanged, cached[1])):
        return [entry for entry, _ in cached[1]]
    entries = [import_job(name) if isinstance(name, str) else _not_a_path(name) for name in names]
    _mark_duplicate_codes(entries)
    stamps = [(entry, _stamp(entry)) for entry in entries]
    _configured_cache = (names, stamps) if all(stamp for _, stamp in stamps) else None
    return entries


# The module and attribute names an entry came from, its class, and the values of
# the class's CHECKED_ATTRIBUTES when it was checked.
Stamp = tuple[str, str, type, tuple[Any, ...]]
_configured_cache: tuple[tuple[object, ...], list[tuple[ConfiguredJob, Stamp | None]]] | None = None


def _stamp(entry: ConfiguredJob) -> Stamp | None:
    """What ``entry`` was resolved from; None when it must be resolved every time."""
    if entry.job_class is None:
        return None  # an import that failed may succeed later
    job_class = entry.job_class
    module_name, _, attribute = entry.name.rpartition(".")
    checked = tuple(getattr(job_class, name, None) for name in CHECKED_ATTRIBUTES)
    return module_name, attribute, job_class, checked


def _unchanged(cached: tuple[ConfiguredJob, Stamp | None]) -> bool:
    """Whether the entry's name still resolves to the same, unchanged class."""
    stamp = cached[1]
    if stamp is None:
        return False
    module_name, attribute, job_class, checked = stamp
    module = sys.modules.get(module_name)
    return getattr(module, attribute, None) is job_class and all(
        getattr(job_class, name, None) is value
        for name, value in zip(CHECKED_ATTRIBUTES, checked, strict=True)
    )


def _mark_duplicate_codes(entries: list[ConfiguredJob]) -> None:
    first_with_code: dict[str, ConfiguredJob] = {}
    for entry in entries:
        if entry.job_class is None or not isinstance(getattr(entry.job_class, "code", None), str):
            continue
        first = first_with_code.setdefault(entry.code, entry)
        if first is not entry:
            entry.problems.append(
                Problem(
                    E005.id,
                    f"{entry.name!r} uses the code {entry.code!r} of {first.name!r}.",
                    "Give every job its own code.",
                )
            )
