"""Browser tests: Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(os.environ.get("ANCV_SANDBOX_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts"))


@pytest.fixture(scope="session")
def _browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `./dev test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


class WatchedBrowser:
    """The session's Chromium, whose every page reports uncaught exceptions and console errors:
    a test fails on any of them, even when what it asserts looks right (a broken inline handler
    can leave a page that seems to work)."""

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self.errors: list[str] = []
        self._contexts: list[Any] = []

    def new_context(self, **options: Any) -> Any:
        context = self._browser.new_context(**options)
        context.on("page", self._watch)
        self._contexts.append(context)
        return context

    def _watch(self, page: Any) -> None:
        refused_pages: set[str] = set()  # documents answered 4xx: a form sent back with its French errors

        def on_response(response: Any) -> None:
            if response.request.resource_type == "document" and 400 <= response.status < 500:
                refused_pages.add(response.url)

        def on_console(message: Any) -> None:
            if message.type != "error":
                return
            # Chromium logs every 4xx document as "Failed to load resource"; the test asserts those pages
            # itself. A script, style, image or fetch that fails is still an error.
            if message.text.startswith("Failed to load resource") and message.location.get("url") in refused_pages:
                return
            self.errors.append(f"console error on {page.url}: {message.text}")

        page.on("response", on_response)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror on {page.url}: {error}"))
        page.on("console", on_console)

    def close(self) -> None:
        for context in self._contexts:
            try:
                context.close()
            except Exception:  # noqa: BLE001 - closed already by the test
                pass
        self._contexts.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """Close the test's pages as soon as its body returns, before the servers it used stop: a live page
    polling a server that is going away is not an error of the test."""
    yield
    watched = pyfuncitem.funcargs.get("chromium")
    if isinstance(watched, WatchedBrowser):
        watched.close()


@pytest.fixture
def chromium(_browser):
    """Chromium for one test; the test fails if any of its pages threw or logged an error."""
    watched = WatchedBrowser(_browser)
    yield watched
    watched.close()
    assert not watched.errors, "the browser reported errors:\n" + "\n".join(watched.errors)


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


def go(page, selector="main button[type=submit]"):
    """Click and wait for the page it leads to (a form post or a link)."""
    with page.expect_navigation():
        page.click(selector)


def portal_shop(world: dict[str, Any]) -> dict[str, Any]:
    """The first active point d'accueil of `GET /_sandbox/fixtures` with a login of its own (12 digits)."""
    return next(p for p in world["pointsOfSale"] if p["status"] == "ACTIVE" and len(p["login"]) == 12)


def show_qr_code(page, base, amount: str, order_id: str) -> None:
    """ENCAISSER in the Espace dédié: pay now, no validation delay, by QR code; step 3 shows the code."""
    page.goto(f"{base}/espace-ptl/encaisser")
    page.check("input[name=timing][value=immediat]")
    page.check("input[name=validation][value=non]")
    go(page, "button:has-text('Continuer')")
    page.fill("#amount", amount)
    page.fill("#order_id", order_id)
    page.check("input[name=mode][value=qr]")
    go(page, "button:has-text('Continuer')")


def log_in_portal(chromium, base, shop):
    """A desktop browser logged in to the Espace dédié as this point d'accueil."""
    return _log_in(chromium, f"{base}/espace-ptl/connexion", shop, DESKTOP)


def log_in_pro(chromium, base, shop):
    """A phone-sized browser logged in to the App' Chèque-Vacances Pro as this point d'accueil."""
    return _log_in(chromium, f"{base}/pro/connexion", shop, PHONE)
