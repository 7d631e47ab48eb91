"""Pause, resume and run-now: flags on a job's state row that runcrons honours.

Nothing here runs job code: the admin and ``manage.py cronjobs`` set the
flags, and the next ``runcrons`` acts on them (see :mod:`.runner`).
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from ..jobs.base import CronJobBase, load_jobs
from ..models import CronEntry, CronJobState
from ..store import claims
from ..store.job_states import JobState, ensure_states


def pause(code: str) -> bool:
    """Pause the job ``code``; False if it was already paused."""
    ensure_states([code])
    changed = CronJobState.objects.filter(job_name=code, paused=False).update(
        paused=True, paused_at=timezone.now()
    )
    return changed == 1


def resume(code: str) -> bool:
    """Resume the job ``code``; False if it was not paused.

    The slots that passed while it was paused stay skipped, even if no
    runcrons ran meanwhile to skip them: it runs again at its next slot.
    """
    state = ensure_states([code])[code]
    job_class = next(
        (entry.job_class for entry in load_jobs() if entry.runnable and entry.code == code), None
    )
    if state.paused and job_class is not None and not job_class.schedule.every_invocation:
        skip_passed_slots(job_class, state, timezone.now())
    changed = CronJobState.objects.filter(job_name=code, paused=True).update(
        paused=False, paused_at=None
    )
    return changed == 1


def request_run(code: str) -> bool:
    """Ask the next runcrons to run ``code`` once; False if a request is pending."""
    ensure_states([code])
    changed = CronJobState.objects.filter(job_name=code, run_requested_at__isnull=True).update(
        run_requested_at=timezone.now()
    )
    return changed == 1


def request_entry_run(entry: CronEntry) -> bool:
    """Ask the next runcrons to run ``entry`` once; False if a request is pending.

    The entry is made due at once so that the next tick reads it; the run
    goes outside its schedule, as a job's requested run does.
    """
    now = timezone.now()
    claims.insert_ignoring_duplicates(
        CronJobState, [CronJobState(job_name=entry.run_name, entry_id=entry.pk, first_seen=now)]
    )
    changed = CronJobState.objects.filter(entry_id=entry.pk, run_requested_at__isnull=True).update(
        run_requested_at=now
    )
    CronEntry.objects.filter(pk=entry.pk).update(next_due=now)
    return changed == 1


def set_entry_enabled(entry: CronEntry, enabled: bool) -> bool:
    """Enable or disable ``entry``; False if it already was. Enabled, it counts from now."""
    if entry.enabled == enabled:
        return False
    entry.enabled = enabled
    entry.updated_at = timezone.now()
    entry.save(update_fields=["enabled", "updated_at"])
    return True


def skip_passed_slots(job_class: type[CronJobBase], state: JobState, now: datetime) -> bool:
    """Claim the slots of a paused job that are due by ``now``, without running them.

    Nothing is recorded for them, and they are not missed: of several hosts
    one claims them and none runs them later. False when another host
    claimed them first (``state`` is then stale).
    """
    plan = job_class.schedule.plan_from(state, now)
    passed = [*plan.missed, *plan.run]
    if not passed:
        return True
    if not claims.claim(job_class.run_name(), max(passed), None, running=False):
        return False
    state.last_slot = max(passed)
    return True
