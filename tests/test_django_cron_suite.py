"""django-cron 0.6.0's own test suite, run against this package.

Its ``tests.py`` ships in django-cron's distribution (the ``test`` extra
installs it; nothing imports the ``django_cron`` package itself). The file is
read, the import name ``django_cron`` changed to ``django_cronjobs``, as a
project moving over would, and its test cases are collected here: every one
must pass, as the compatibility promise says. The job classes it imports as
``test_crons`` are in :mod:`tests.django_cron_suite_jobs`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from pathlib import Path

import pytest

from tests import django_cron_suite_jobs


def _django_cron_tests() -> Path | None:
    spec = importlib.util.find_spec("django_cron")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "tests.py"
    return path if path.exists() else None


_path = _django_cron_tests()
if _path is None:
    if os.environ.get("CRONJOBS_REQUIRE_SERVICES") == "1":
        raise RuntimeError("django-cron 0.6.0's tests.py is missing: pip install -e '.[test]'")
    pytest.skip("django-cron's test suite is not installed", allow_module_level=True)

sys.modules["test_crons"] = django_cron_suite_jobs
_suite = types.ModuleType("django_cron_suite")
_suite.__file__ = str(_path)
exec(  # the suite under test, renamed as a moving project renames it
    compile(_path.read_text().replace("django_cron", "django_cronjobs"), str(_path), "exec"),
    _suite.__dict__,
)

TestRunCrons = _suite.TestRunCrons
TestCronLoop = _suite.TestCronLoop
