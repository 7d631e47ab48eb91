"""The package as users get it: an sdist and a wheel built from this tree.

The wheel is installed into a clean virtual environment (with the Django of
this run, from PyPI), and the example project, copied away from this tree,
runs on it. Building and installing takes a minute and needs PyPI: those
tests run with CRONJOBS_TEST_PACKAGE=1 and the ``package`` extra, as
``.ci/run`` does once. The classifiers are checked in every run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import django
import pytest

import django_cronjobs

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SOURCE_IGNORED = shutil.ignore_patterns(
    ".venv*", "build", "dist", "*.egg-info", "test-artifacts", "__pycache__", ".*cache", "site"
)

needs_building = pytest.mark.skipif(
    os.environ.get("CRONJOBS_TEST_PACKAGE") != "1",
    reason="builds and installs the wheel: CRONJOBS_TEST_PACKAGE=1, pip install -e '.[package]'",
)


def test_the_classifiers_name_this_python_and_this_django():
    classifiers = PYPROJECT["project"]["classifiers"]
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"Programming Language :: Python :: {python}" in classifiers
    assert f"Framework :: Django :: {django.VERSION[0]}.{django.VERSION[1]}" in classifiers


def test_the_version_is_written_once():
    assert "version" not in PYPROJECT["project"]
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    attribute = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attribute == "django_cronjobs.__version__"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built from a copy of the tree (no stale build/)."""
    work = tmp_path_factory.mktemp("package")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=SOURCE_IGNORED)
    out = work / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


def wheel_of(dist: Path) -> Path:
    (wheel,) = dist.glob("*.whl")
    return wheel


@needs_building
def test_twine_check_passes(dist):
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert len(list(dist.glob("*.tar.gz"))) == 1


@needs_building
def test_the_wheel_carries_the_package_and_nothing_else(dist):
    names = zipfile.ZipFile(wheel_of(dist)).namelist()
    package = ROOT / "django_cronjobs"
    wanted = {
        path.relative_to(ROOT).as_posix()
        for path in package.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert wanted <= set(names), sorted(wanted - set(names))
    assert {name.split("/")[0] for name in names} == {
        "django_cronjobs",
        f"dj_cronjobs-{django_cronjobs.__version__}.dist-info",
    }
    for needed in (
        "django_cronjobs/py.typed",
        "django_cronjobs/migrations/0001_initial.py",
        "django_cronjobs/templates/admin/django_cronjobs/cronjob/overview.html",
        "django_cronjobs/static/django_cronjobs/entry_preview.js",
    ):
        assert needed in names


@needs_building
def test_the_metadata_gives_the_version_and_the_dependencies(dist):
    with zipfile.ZipFile(wheel_of(dist)) as wheel:
        (metadata_name,) = [name for name in wheel.namelist() if name.endswith("/METADATA")]
        metadata = Parser().parsestr(wheel.read(metadata_name).decode())
    assert metadata["Name"] == "dj-cronjobs"
    assert metadata["Version"] == django_cronjobs.__version__
    requires = metadata.get_all("Requires-Dist")
    assert any(line.startswith("Django") for line in requires)
    assert any(line.startswith("croniter") for line in requires)
    assert metadata["License-Expression"] == "BSD-3-Clause"


@needs_building
def test_the_example_project_runs_on_the_installed_wheel(dist, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    django_line = f"Django~={django.VERSION[0]}.{django.VERSION[1]}.0"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel_of(dist)), django_line],
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    # The example alone: its manage.py puts its parent on sys.path, and there
    # must be no django_cronjobs there but the installed one.
    example = tmp_path / "project" / "example"
    shutil.copytree(ROOT / "example", example, ignore=SOURCE_IGNORED)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")
    }
    env["EXAMPLE_DATABASE"] = str(tmp_path / "db.sqlite3")

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), str(example / "manage.py"), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
        )

    where = manage("shell", "-c", "import django_cronjobs; print(django_cronjobs.__file__)")
    # (Django 5.2's shell first says what it imported on its own.)
    assert where.stdout.strip().splitlines()[-1].startswith(str(venv)), where.stdout + where.stderr
    assert manage("migrate", "-v0").returncode == 0
    checked = manage("check", "--fail-level", "WARNING")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ran = manage("runcrons")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "[✔] chores.heartbeat" in ran.stdout
    static = manage("findstatic", "django_cronjobs/entry_preview.js")
    assert static.returncode == 0, static.stdout + static.stderr
    assert str(venv) in static.stdout
