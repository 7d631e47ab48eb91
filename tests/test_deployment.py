"""The recipes of docs/deployment.md work: each block is run against the example project."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "deployment.md"
EXAMPLE = ROOT / "example"


def recipes() -> dict[str, str]:
    """The fenced blocks of the guide, by the name in the comment above each."""
    found = re.findall(r"<!-- recipe: (\S+) -->\n```[a-z]*\n(.*?)```", GUIDE.read_text(), re.S)
    return dict(found)


def for_the_example(text: str) -> str:
    """A recipe with the example project's paths, interpreter and settings in it."""
    return (
        text.replace("/srv/myproject/.venv/bin/python", sys.executable)
        .replace("/srv/myproject", str(EXAMPLE))
        .replace("myproject.settings", "exampleproject.settings")
    )


@pytest.fixture
def example_env(tmp_path) -> dict[str, str]:
    """An environment for the example project on a fresh database of its own."""
    env = {**os.environ, "EXAMPLE_DATABASE": str(tmp_path / "db.sqlite3")}
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL"):
        env.pop(name, None)
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    return env


def run(command: list[str] | str, env: dict[str, str], cwd: Path = EXAMPLE, **options):
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, **options
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def runs_recorded(env: dict[str, str]) -> str:
    return run([sys.executable, "manage.py", "cronjobs", "list"], env).stdout


def test_the_guide_has_every_recipe():
    assert set(recipes()) == {
        "crontab",
        "cronjobs.service",
        "cronjobs.timer",
        "kubernetes",
        "dockerfile",
    }


def test_the_crontab_line_runs_the_jobs(example_env):
    line = for_the_example(recipes()["crontab"]).strip()
    fields = line.split(None, 5)
    assert fields[:5] == ["*"] * 5
    run(fields[5], example_env, shell=True)
    assert "succeeded" in runs_recorded(example_env)
    # It is the line `cronjobs crontab` prints for this project.
    printed = run(
        [sys.executable, "manage.py", "cronjobs", "crontab", "--manage-py", "manage.py"],
        {**example_env, "DJANGO_SETTINGS_MODULE": "exampleproject.settings"},
    ).stdout
    assert "manage.py runcrons --silent" in printed.splitlines()[-1]
    assert f"cd {EXAMPLE}" in printed


def test_the_systemd_units_are_valid_and_the_service_runs_a_tick(example_env, tmp_path):
    service = for_the_example(recipes()["cronjobs.service"]).replace("User=myproject", "")
    timer = recipes()["cronjobs.timer"]
    (tmp_path / "cronjobs.service").write_text(service)
    (tmp_path / "cronjobs.timer").write_text(timer)
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:
        verified = subprocess.run(
            [analyze, "verify", "--man=no", *map(str, tmp_path.glob("cronjobs.*"))],
            capture_output=True,
            text=True,
            check=False,
        )
        assert verified.returncode == 0, verified.stderr
        calendar = run([analyze, "calendar", "*-*-* *:*:00"], example_env, cwd=tmp_path)
        assert "Normalized form: *-*-* *:*:00" in calendar.stdout
    units = configparser.ConfigParser(strict=False, interpolation=None)
    units.optionxform = str  # type: ignore[assignment,method-assign]
    units.read_string(service)
    section = units["Service"]
    assert section["Type"] == "oneshot"
    name, _, value = section["Environment"].partition("=")
    run(
        shlex.split(section["ExecStart"]),
        {**example_env, name: value},
        cwd=Path(section["WorkingDirectory"]),
    )
    assert "succeeded" in runs_recorded(example_env)


def test_the_kubernetes_cronjob_runs_a_tick_every_minute_without_stacking(example_env):
    manifest = yaml.safe_load(recipes()["kubernetes"])
    assert manifest["kind"] == "CronJob"
    spec = manifest["spec"]
    assert spec["schedule"] == "* * * * *"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] < 60
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    container = pod["containers"][0]
    command = [sys.executable if part == "python" else part for part in container["command"]]
    env = {item["name"]: for_the_example(item["value"]) for item in container["env"]}
    run(command, {**example_env, **env})
    assert "succeeded" in runs_recorded(example_env)


def test_the_cronloop_container_command_runs(example_env):
    dockerfile = recipes()["dockerfile"]
    command = json.loads(re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1))  # type: ignore[union-attr]
    assert command[-1] == "cronloop"
    settings = re.search(r"^ENV DJANGO_SETTINGS_MODULE=(\S+)$", dockerfile, re.M)
    assert settings is not None
    env = {**example_env, "DJANGO_SETTINGS_MODULE": for_the_example(settings.group(1))}
    command = [sys.executable, *command[1:], "--repeat", "1", "--sleep", "0"]
    done = run(command, env, timeout=120)
    assert "[✔] chores.heartbeat" in done.stdout
