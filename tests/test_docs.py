"""The README's reference tables say what the code does: every check id, every setting."""

from __future__ import annotations

import re
from pathlib import Path

from django_cronjobs import checks
from django_cronjobs.conf import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def first_column(table: str) -> set[str]:
    return set(re.findall(r"^\| `([A-Za-z_.0-9]+)` \|", table, re.MULTILINE))


def test_the_table_of_checks_lists_every_check_id_and_no_other():
    in_code = {
        line.split()[0]
        for line in (checks.__doc__ or "").splitlines()
        if "django_cronjobs." in line
    }
    assert first_column(section("System checks")) == in_code


def test_the_table_of_settings_lists_every_setting_and_no_other():
    in_code = {
        name if name == "CRON_CLASSES" else f"CRONJOBS_{name}"
        for name, value in vars(Settings).items()
        if isinstance(value, property) and name.isupper()
    }
    assert first_column(section("Settings")) == in_code
