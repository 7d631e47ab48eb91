"""The logger django-cron wrote certain lines to, as code written for it finds it.

django-cron logged through its module-level ``logger``; code written for it
patches that attribute (``mock.patch("django_cron.logger")``) or replaces it.
The lines django-cron logged there (a job class that is not a job or has no
code, a lock held elsewhere, a failure with ``DJANGO_CRON_OUTPUT_ERRORS``)
go to ``django_cronjobs.logger`` as it is when they are logged.
"""

from __future__ import annotations

import logging
import sys


def package_logger() -> logging.Logger:
    """``django_cronjobs.logger``, looked up now (it may have been patched or replaced)."""
    package = sys.modules.get("django_cronjobs")
    found = getattr(package, "logger", None)
    return found if found is not None else logging.getLogger("django_cronjobs")
