"""The example project's admin in a real browser: Debian's Chromium, driven by Playwright.

Log in, open the Cron jobs page, pause a job, request a run, let runcrons
act on both, and read the job's history. Screenshots go to
``test-artifacts/browser/`` (not kept in git), or to CRONJOBS_ARTIFACTS/browser/
(CI keeps a folder per Python, Django and database).

Needs the ``browser`` extra (Playwright) and Chromium at CHROMIUM
(``apt-get install chromium``); without them the tests skip, unless
CRONJOBS_REQUIRE_BROWSER=1 (as in CI), where they fail instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example" / "manage.py"
ARTIFACTS = Path(os.environ.get("CRONJOBS_ARTIFACTS") or ROOT / "test-artifacts") / "browser"
CHROMIUM = os.environ.get("CRONJOBS_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery staple"


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[browser]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


missing = browser_missing()
if missing and os.environ.get("CRONJOBS_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"CRONJOBS_REQUIRE_BROWSER=1, but {missing}")
pytestmark = pytest.mark.skipif(missing is not None, reason=missing or "")


class Example:
    """The example project on a database of its own, served by runserver."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.env = {
            **os.environ,
            "EXAMPLE_DATABASE": str(directory / "db.sqlite3"),
            "DJANGO_SUPERUSER_USERNAME": "admin",
            "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
            "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.env.pop("DATABASE_URL", None)
        self.url = ""
        self.server: subprocess.Popen[bytes] | None = None

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, str(EXAMPLE), *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.directory,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    def serve(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = subprocess.Popen(
            [sys.executable, str(EXAMPLE), "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=self.env,
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/admin/login/", timeout=2)
                return
            except OSError:
                if time.monotonic() > deadline or self.server.poll() is not None:
                    raise RuntimeError("the example's runserver did not answer") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=10)


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Example]:
    project = Example(tmp_path_factory.mktemp("example"))
    project.manage("migrate", "-v0")
    project.manage("createsuperuser", "--noinput")
    project.manage("runcrons")  # some history to show
    project.serve()
    yield project
    project.stop()


@pytest.fixture
def page(example: Example) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        try:
            yield tab
        finally:
            context.close()
            browser.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_pause_run_now_and_history_in_the_admin(example: Example, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{example.url}/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.click('#content-main a[href$="/django_cronjobs/cronjob/"]')
    expect(page.locator("h1")).to_have_text("Cron jobs")
    rows = page.locator("tr.cronjobs-job")
    expect(rows).to_have_count(5)
    heartbeat = page.locator('tr[data-code="chores.heartbeat"]')
    expect(heartbeat).to_contain_text("every minute")
    expect(heartbeat.locator(".cronjobs-status-succeeded").first).to_be_visible()
    digest = page.locator('tr[data-code="chores.weekly_digest"]')
    expect(digest).to_contain_text("every Monday at 06:00 Europe/Berlin")
    expect(digest.locator(".cronjobs-next li")).to_have_count(5)
    shot(page, "1-cron-jobs")

    digest.locator("a", has_text="chores.weekly_digest").click()
    expect(page.locator("h1")).to_have_text("chores.weekly_digest")
    page.click("input[name=pause]")
    expect(page.locator(".messagelist")).to_contain_text("Paused. (chores.weekly_digest)")
    expect(page.locator(".cronjobs-flag-paused")).to_be_visible()
    page.click("input[name=run]")
    expect(page.locator(".cronjobs-flag-requested")).to_be_visible()
    expect(page.locator("input[name=run]")).to_be_disabled()
    shot(page, "2-paused-and-run-requested")

    # Nothing ran in the web request; the next runcrons runs it once.
    ticked = example.manage("runcrons").stdout
    assert "[✔] chores.weekly_digest" in ticked
    assert "chores.weekly_digest (paused)" not in ticked  # one line for the job

    page.reload()
    expect(page.locator(".cronjobs-flag-requested")).to_have_count(0)
    expect(page.locator("table.cronjobs-runs tbody tr")).to_have_count(1)
    expect(page.locator("svg.cronjobs-chart rect.cronjobs-bar")).to_have_count(1)
    changes = page.locator("ul.cronjobs-changes li")
    expect(changes).to_have_count(2)
    expect(changes.first).to_contain_text("admin: Requested a run.")
    shot(page, "3-job-history")

    page.click("input[name=resume]")
    expect(page.locator(".cronjobs-flag-paused")).to_have_count(0)
    page.click("text=all runs")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("chores.weekly_digest")
    shot(page, "4-filtered-log")


def test_entries_in_the_admin(example: Example, logged_in: Any) -> None:
    from playwright.sync_api import expect

    page = logged_in
    page.goto(f"{example.url}/admin/django_cronjobs/cronentry/add/?job=chores.reminder")
    expect(page.locator("#id_job")).to_have_value("chores.reminder")
    page.fill("#id_key", "admin")
    page.fill("#id_kwargs", '{"username": "admin"}')
    page.fill("#id_cron", "0 25 * * *")
    page.click("input[name=_continue]")
    expect(page.locator(".errorlist")).to_contain_text("django_cronjobs.E007")
    shot(page, "entries-1-refused")
    page.fill("#id_kwargs", '{"user": "admin"}')
    page.fill("#id_cron", "H 9 * * 1-5")
    page.fill("#id_timezone", "Europe/Berlin")
    page.click("input[name=_continue]")
    expect(page.locator(".errorlist")).to_contain_text("django_cronjobs.E024")
    page.fill("#id_kwargs", '{"username": "admin"}')
    page.click(".cronjobs-preview-button")
    preview = page.locator(".cronjobs-preview-runs li")
    expect(preview).to_have_count(5)
    expect(preview.first).to_contain_text(" 09:")
    expect(preview.first).to_contain_text("Europe/Berlin")
    shot(page, "entries-2-preview")
    page.fill("#id_cron", "H 9 * * 8")
    page.click(".cronjobs-preview-button")
    expect(page.locator(".cronjobs-preview-runs.errorlist")).to_contain_text("cron:")
    page.fill("#id_cron", "H 9 * * 1-5")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    upcoming = page.locator(".field-upcoming li")
    expect(upcoming).to_have_count(5)
    expect(upcoming.first).to_contain_text(" 09:")
    expect(upcoming.first).to_contain_text("Europe/Berlin")
    shot(page, "entries-3-saved")
    page.click("button[name=disable]")
    expect(page.locator(".messagelist")).to_contain_text("Disabled. (chores.reminder[admin])")
    expect(page.locator(".field-upcoming")).to_contain_text("none while it is disabled")
    page.click("button[name=enable]")
    expect(page.locator(".messagelist")).to_contain_text("Enabled. (chores.reminder[admin])")
    shot(page, "entries-3-buttons")

    page.goto(f"{example.url}/admin/django_cronjobs/cronentry/?job=chores.reminder")
    row = page.locator("#result_list tbody tr", has_text="admin")
    expect(row).to_contain_text("every Monday to Friday at 09:")
    row.locator("input[name=_selected_action]").check()
    page.select_option("select[name=action]", "run_entries")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("Requested a run of 1 entry.")
    shot(page, "entries-4-run-requested")

    ticked = example.manage("runcrons").stdout
    assert "[✔] chores.reminder[admin]" in ticked, ticked
    page.goto(f"{example.url}/admin/django_cronjobs/cronjob/job/chores.reminder/")
    expect(page.locator(".cronjobs-facts")).to_contain_text("only through its entries")
    expect(page.locator(".cronjobs-facts")).to_contain_text("enabled")
    page.goto(f"{example.url}/admin/django_cronjobs/cronentry/?job=chores.reminder")
    expect(page.locator("#result_list tbody tr", has_text="admin")).to_contain_text("succeeded")
    shot(page, "entries-5-ran")


@pytest.fixture
def logged_in(example: Example, page: Any) -> Any:
    page.goto(f"{example.url}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{example.url}/admin/")
    return page


def sideways_overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0: nothing to scroll sideways)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def scrolled_boxes(page: Any) -> int:
    """How many pixels the app's scroll boxes hide sideways (0: their tables fit)."""
    return int(
        page.evaluate(
            "Math.max(0, ...Array.from(document.querySelectorAll('.cronjobs-scroll'),"
            " box => box.scrollWidth - box.clientWidth))"
        )
    )


@pytest.mark.parametrize("width", [1280, 800])
def test_the_apps_pages_fit_the_window(example: Example, logged_in: Any, width: int) -> None:
    page = logged_in
    page.set_viewport_size({"width": width, "height": 900})
    run = example.manage(
        "shell",
        "-c",
        "from django_cronjobs.models import CronJobLog; print(CronJobLog.objects.first().pk)",
    ).stdout.strip()
    entry = example.manage(
        "shell",
        "-c",
        "from chores.cron import Reminder; from django_cronjobs import Schedule; "
        "print(Reminder.entries.schedule(key='fit', kwargs={'username': 'admin'}, "
        "schedule=Schedule(cron='H 9 * * 1-5', timezone='Europe/Berlin')).pk)",
    ).stdout.strip()
    pages = {
        "cron-jobs": "/admin/django_cronjobs/cronjob/",
        "entries": "/admin/django_cronjobs/cronentry/",
        "entry": f"/admin/django_cronjobs/cronentry/{entry}/change/",
        "entries job": "/admin/django_cronjobs/cronjob/job/chores.reminder/",
        "job": "/admin/django_cronjobs/cronjob/job/chores.heartbeat/",
        "job without runs": "/admin/django_cronjobs/cronjob/job/chores.daily_signup_report/",
        "log": "/admin/django_cronjobs/cronjoblog/",
        "run": f"/admin/django_cronjobs/cronjoblog/{run}/change/",
    }
    too_wide = {}
    for name, path in pages.items():
        response = page.goto(f"{example.url}{path}")
        shot(page, f"fit-{width}-{name}")
        assert response is not None, f"{name}: {path}"
        assert response.status == 200, f"{name}: {path}"
        assert page.locator("#content-main").count() == 1, f"{name} is not an admin page"
        if overflow := sideways_overflow(page):
            too_wide[name] = overflow
        if width >= 1280 and (boxed := scrolled_boxes(page)):
            too_wide[f"{name} (a box that scrolls)"] = boxed
    assert too_wide == {}, f"wider than {width} px by: {too_wide}"
