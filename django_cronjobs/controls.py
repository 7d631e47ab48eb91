"""Pause, resume and run-now: flags on a job's state row that runcrons honours.

Nothing here runs job code: the admin and ``manage.py cronjobs`` set the
flags, and the next ``runcrons`` acts on them (see :mod:`.runner`).
"""

from __future__ import annotations

from django.utils import timezone

from .job_states import ensure_states
from .models import CronJobState


def pause(code: str) -> bool:
    """Pause the job ``code``; False if it was already paused."""
    ensure_states([code])
    changed = CronJobState.objects.filter(job_name=code, paused=False).update(
        paused=True, paused_at=timezone.now()
    )
    return changed == 1


def resume(code: str) -> bool:
    """Resume the job ``code``; False if it was not paused.

    The slots that passed while it was paused stay skipped: it runs again at
    its next slot.
    """
    ensure_states([code])
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
