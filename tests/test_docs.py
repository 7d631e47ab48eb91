"""The docs say what the code does, every page is in the site, and every link leads somewhere.

The reference tables of docs/ list every check id and every setting; every page of docs/ is in
mkdocs.yml's navigation; every link between pages leads to a page and a heading that exist; the
README (the package's description on PyPI, which cannot follow a relative link) stays short and
links only to absolute URLs.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from django_cronjobs import check_ids
from django_cronjobs.conf import Settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MKDOCS = ROOT / "mkdocs.yml"
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]*)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S*?)>?(?:\s|$)", re.MULTILINE)
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def first_column(table: str) -> set[str]:
    return set(re.findall(r"^\| `([A-Za-z_.0-9]+)` \|", table, re.MULTILINE))


def without_code(text: str) -> str:
    """Markdown without its fenced blocks and code spans, where nothing is a link."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def link_targets(text: str) -> list[str]:
    """The targets of the inline links, images and link reference definitions of a page."""
    prose = without_code(text)
    return INLINE_LINK.findall(prose) + REFERENCE.findall(prose)


def relative_links(text: str) -> list[str]:
    return [target for target in link_targets(text) if not target.startswith("http")]


def slugify(heading: str) -> str:
    """A heading's anchor as MkDocs (Python-Markdown's toc) writes it."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = re.sub(r"<[^>]+>", "", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings, repeated ones numbered as the toc does (x, x_1, ...)."""
    found: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        anchor = slugify(heading)
        while anchor in found or not anchor:
            numbered = re.match(r"^(.*)_([0-9]+)$", anchor)
            if numbered:
                anchor = f"{numbered.group(1)}_{int(numbered.group(2)) + 1}"
            else:
                anchor = f"{anchor}_1"
        found.add(anchor)
    return found


def broken_links(docs: Path) -> tuple[list[str], int]:
    """The relative links between the pages of docs that lead nowhere, and how many were read."""
    problems, checked = [], 0
    for page in sorted(docs.rglob("*.md")):
        for target in link_targets(page.read_text()):
            if SCHEME.match(target):
                continue
            checked += 1
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            name = f"{page.relative_to(docs)}: {target}"
            if not linked.is_relative_to(docs.resolve()) or not linked.is_file():
                problems.append(f"{name}: no such page")
            elif anchor and anchor not in anchors(linked):
                problems.append(f"{name}: no such heading")
    return problems, checked


class _IgnorePythonTags(yaml.SafeLoader):
    """mkdocs.yml may hold !!python/name: tags (of extensions); they do not matter here."""


_IgnorePythonTags.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)


def nav_pages(config: Path) -> list[str]:
    """Every page that mkdocs.yml's nav names."""
    found: list[str] = []

    def walk(entry: object) -> None:
        if isinstance(entry, str):
            if not SCHEME.match(entry):
                found.append(entry)
        elif isinstance(entry, dict):
            for value in entry.values():
                walk(value)
        elif isinstance(entry, list):
            for value in entry:
                walk(value)

    walk(yaml.load(config.read_text(), Loader=_IgnorePythonTags).get("nav", []))
    return found


def test_the_table_of_checks_lists_every_check_id_and_no_other():
    in_code = set(check_ids.BY_ID)
    assert first_column((DOCS / "checks.md").read_text()) == in_code


def test_the_table_of_checks_gives_each_check_its_catalogued_hint():
    rows = re.findall(
        r"^\| `(django_cronjobs\.[EW]\d{3})` \|.*\| ([^|]+) \|$",
        (DOCS / "checks.md").read_text(),
        re.MULTILINE,
    )
    assert len(rows) == len(check_ids.CATALOGUE)
    assert {check_id: hint.strip() for check_id, hint in rows} == {
        check.id: check.hint for check in check_ids.CATALOGUE
    }


def test_the_table_of_settings_lists_every_setting_and_no_other():
    in_code = {
        name if name == "CRON_CLASSES" else f"CRONJOBS_{name}"
        for name, value in vars(Settings).items()
        if isinstance(value, property) and name.isupper()
    }
    assert first_column((DOCS / "settings.md").read_text()) == in_code


def test_the_readme_has_no_relative_link():
    assert relative_links(README.read_text()) == []


def test_a_relative_link_is_found_and_code_is_not_a_link():
    text = (
        "See [a](docs/a.md), [b](https://example.org/b), ![c](c.png) and [d][].\n"
        "`[e](e.md)` is code.\n\n```python\nx = y[0](z)\n```\n\n[d]: #d\n"
    )
    assert relative_links(text) == ["docs/a.md", "c.png", "#d"]


def test_the_readme_is_short():
    assert len(README.read_bytes()) < 10_000


def test_every_page_is_in_the_navigation():
    in_nav = nav_pages(MKDOCS)
    assert "index.md" in in_nav
    assert [page for page in in_nav if not (DOCS / page).is_file()] == []
    pages = {page.relative_to(DOCS).as_posix() for page in DOCS.rglob("*.md")}
    assert pages - set(in_nav) == set()


def test_every_link_between_pages_leads_to_a_page_and_a_heading():
    problems, checked = broken_links(DOCS)
    assert problems == []
    assert checked > 10


def test_a_link_to_a_missing_page_or_heading_is_found(tmp_path):
    (tmp_path / "a.md").write_text(
        "# A page\n\n## Pause, resume and run now\n\n"
        "[ok](b.md#the-cron-jobs-page) [ok](#pause-resume-and-run-now) [ok](b.md#x_1)\n"
        "[gone](c.md) [wrong](b.md#the-cron-job-page) [out](../README.md) [web](https://x.org/c.md)\n"
    )
    (tmp_path / "b.md").write_text("# B\n\n## The *Cron jobs* page\n\n## x\n\n## x\n")
    problems, checked = broken_links(tmp_path)
    assert problems == [
        "a.md: c.md: no such page",
        "a.md: b.md#the-cron-job-page: no such heading",
        "a.md: ../README.md: no such page",
    ]
    assert checked == 6


def test_anchors_are_the_ones_mkdocs_writes():
    toc = pytest.importorskip("markdown.extensions.toc")
    for page in DOCS.rglob("*.md"):
        for heading in HEADING.findall(FENCE.sub("", page.read_text())):
            plain = re.sub(r"[`*]", "", re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading))
            assert slugify(heading) == toc.slugify(plain, "-"), heading
