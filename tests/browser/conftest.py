"""Browser tests: Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(os.environ.get("ANCV_SANDBOX_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts"))


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `./dev test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    yield context.new_page()
    context.close()


def screenshot(page, name: str) -> Path:
    """Save what the person sees under the run's artifacts (artifacts/browser/NAME.png)."""
    path = ARTIFACTS / "browser" / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _log_in(chromium, url, shop, viewport):
    """A browser of this size logged in on the login page at `url` as this point d'accueil."""
    context = chromium.new_context(viewport=viewport, locale="fr-FR")
    page = context.new_page()
    page.goto(url)
    page.fill("#login", shop["login"])
    page.fill("#password", shop["password"])
    with page.expect_navigation():
        page.click("main button[type=submit]")
    return context, page


def log_in_portal(chromium, base, shop):
    """A desktop browser logged in to the Espace dédié as this point d'accueil."""
    return _log_in(chromium, f"{base}/espace-ptl/connexion", shop, DESKTOP)


def log_in_pro(chromium, base, shop):
    """A phone-sized browser logged in to the App' Chèque-Vacances Pro as this point d'accueil."""
    return _log_in(chromium, f"{base}/pro/connexion", shop, PHONE)
