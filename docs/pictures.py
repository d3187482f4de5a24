"""The README's pictures, taken anew: `./dev pictures` (or `.venv/bin/python docs/pictures.py [DIR]`).

Starts `ancv-sandbox serve` on a virtual clock and a free loopback port, plays a short merchant's
day through the real screens in Debian's Chromium (a QR code shown in ENCAISSER and paid in part
in the App' Chèque-Vacances, a pre-booking to validate, a deferred request, the App' Pro's
payment page), plays a short cahier de recette (one case right, one wrong, one left) for its report,
runs the booking engine's library scenario in process for the simulation report, and writes
the PNGs into `docs/screenshots/` (or DIR). Tests never write there: this command is how the
pictures change, on purpose, in a commit of their own.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402
from playwright.sync_api import Page, sync_playwright  # noqa: E402

from sandbox.client import ControlClient, HttpTransport, KitClient, shop_client  # noqa: E402
from sandbox.domain.dates import format_date, parse_date  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LIVE = "document.body.dataset.live === 'on'"
READY_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(folder: Path) -> Iterator[tuple[str, ControlClient]]:
    """A throwaway `serve` (virtual clock, seeded fixtures) until the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "sandbox.cli", "serve", "--port", str(port), "--sftp-port", "0",
               "--clock", "virtual", "--db", str(folder / "pictures.sqlite3")]
    with open(folder / "serve.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        control = ControlClient(HttpTransport(base, timeout=5))
        try:
            started = time.monotonic()
            while True:
                try:
                    if control.health() == {"status": "ok"}:
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() - started > READY_S:
                    raise SystemExit(f"the sandbox did not start: see {folder / 'serve.log'}")
                time.sleep(0.1)
            yield base, control
        finally:
            process.terminate()
            process.wait(timeout=10)


def log_in(browser: Any, url: str, login: str, password: str, viewport: dict[str, int]) -> Page:
    page = browser.new_context(viewport=viewport, locale="fr-FR").new_page()
    page.goto(url)
    page.fill("#login", login)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    return page


def shoot(page: Page, path: Path, *, full_page: bool = True, colours: int | None = None) -> None:
    page.screenshot(path=str(path), full_page=full_page)
    if colours:  # flat charts: a palette keeps the picture light
        Image.open(path).convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT,
                                                 dither=Image.Dither.NONE).save(path, optimize=True)
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def people_pictures(browser: Any, base: str, control: ControlClient, out: Path) -> None:
    """Espace d'encaissement, ENCAISSER's QR code, the App' Pro and the App' Chèque-Vacances."""
    world = control.fixtures()
    shop = next(p for p in world["pointsOfSale"] if p["status"] == "ACTIVE" and len(p["login"]) == 12)
    client = next(b for b in world["beneficiaries"] if b["behaviour"] == "manual")

    desk = log_in(browser, f"{base}/espace-ptl/connexion", shop["login"], shop["password"], DESKTOP)
    desk.goto(f"{base}/espace-ptl/encaisser")
    with desk.expect_navigation():
        desk.click("button:has-text('Continuer')")  # Immédiatement, no validation delay: parcours A
    desk.fill("#amount", "40,00")
    desk.fill("#order_id", "DEMO-1")
    desk.check("input[name=mode][value=qr]")
    with desk.expect_navigation():
        desk.click("button:has-text('Continuer')")
    desk.wait_for_function(LIVE, timeout=10_000)
    shoot(desk, out / "encaisser-qr-code.png", full_page=False)

    pre_id = desk.get_attribute("img.qr", "src").rsplit("/", 1)[-1].removesuffix(".png")
    qr_url = f"{base}/acquisition/api/public/v1/pre-transactions/{pre_id}/qr-code"
    control.act(client["beneficiaryId"], "scan", url=qr_url)
    control.act(client["beneficiaryId"], "adjust", amount=3000)
    control.act(client["beneficiaryId"], "authorize", pin=client["pin"])

    kit = shop_client(HttpTransport(base, timeout=5), shop)
    now = parse_date(control.clock()["now"])
    booking = kit.create_transaction("SEJOUR-0712", "1", 18000, capture_mode="DEFERRED",
                                     capture_date=format_date(now + timedelta(days=3)))["transaction"]
    kit.set_payer(booking["id"], client["beneficiaryId"])
    control.act(client["beneficiaryId"], "authorize", pin=client["pin"])
    request = kit.create_pre_transaction("NUITEE-88", 6500, format_date(now + timedelta(days=4)),
                                         tspd_mode="002")["preTransaction"]
    kit.contact(request["id"], email="famille.martin@example.fr")
    desk.goto(f"{base}/espace-ptl/encaissement")
    desk.wait_for_function(LIVE, timeout=10_000)
    shoot(desk, out / "espace-encaissement.png")

    phone = log_in(browser, f"{base}/pro/connexion", shop["login"], shop["password"], PHONE)
    phone.goto(f"{base}/pro/paiement")
    phone.fill("#amount", "20")
    phone.fill("#order_id", "REF253")
    with phone.expect_navigation():
        phone.click("main button[type=submit]")
    phone.wait_for_selector("img.qr")
    shoot(phone, out / "app-pro.png", full_page=False)

    app = log_in(browser, f"{base}/app/connexion", client["email"], client["password"], PHONE)
    shoot(app, out / "app-cheque-vacances.png", full_page=False)


class WebhookReceiver(ThreadingHTTPServer):
    """The integrator's webhook endpoint: answers 200 to every POST, and counts them."""

    def __init__(self) -> None:
        self.received = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                server.received += 1

            def log_message(self, *args: Any) -> None:
                pass

        server = self
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


def recette_picture(browser: Any, base: str, control: ControlClient, out: Path) -> None:
    """A cahier de recette's report: immediate payment played right, a 412 retried blindly, a case not played."""
    world = control.fixtures()
    shop = world["pointsOfSale"][0]
    campaign = control.start_recette("shop", shop["shopId"], ["immediate-payment", "refused-no-device",
                                                               "request-aborted"])
    cases = {case["id"]: case for case in campaign["cases"]}
    receiver = WebhookReceiver()
    try:
        paid = cases["immediate-payment"]["identifiers"]
        kit = KitClient(HttpTransport(base, timeout=5), key=shop["key"], key_version=paid["keyVersion"],
                        shop_id=paid["shopId"])
        tx = kit.create_transaction("CMD-1042", "1", 4000, redirect_urls={
            "returnUrl": receiver.url("/retour"), "cancelUrl": receiver.url("/annulation")})["transaction"]
        kit.set_payer(tx["id"], paid["beneficiaryId"])
        control.advance(5)  # past the beneficiary's think time (3 s by default)
        started = time.monotonic()
        while not receiver.received and time.monotonic() - started < 10:
            time.sleep(0.05)
        kit.get_transaction(tx["id"])
        refused = cases["refused-no-device"]["identifiers"]
        kit = KitClient(HttpTransport(base, timeout=5), key=shop["key"], key_version=refused["keyVersion"],
                        shop_id=refused["shopId"])
        tx = kit.create_transaction("CMD-1043", "1", 2500)["transaction"]
        for _ in range(3):  # the mistake the case catches: a 412 retried as if it could change
            kit.set_payer(tx["id"], refused["beneficiaryId"])
        control.end_recette(campaign["id"])
    finally:
        receiver.shutdown()
        receiver.server_close()
    page = browser.new_context(viewport={"width": 1100, "height": 900}, locale="fr-FR",
                               java_script_enabled=False).new_page()
    page.goto(f"{base}/_sandbox/recette/{campaign['id']}/report")
    shoot(page, out / "recette-report.png", colours=256)


def report_picture(browser: Any, out: Path, folder: Path) -> None:
    """The booking engine's day from the scenario library, run in process, as its report."""
    import simpy

    from scenarios import runner, spec
    from scenarios.in_process import InProcessPlatform
    from scenarios.report import write_report

    scenario = spec.load(spec.find("moteur-reservation"))
    run = runner.run(scenario, InProcessPlatform(scenario.start, scenario.seed), simpy.Environment(),
                     seed=scenario.seed)
    path = write_report(folder / "rapport", run.summary, run.events)
    page = browser.new_context(viewport={"width": 1200, "height": 900}, locale="fr-FR",
                               java_script_enabled=False).new_page()
    page.goto(path.as_uri())
    shoot(page, out / "simulation-report.png", colours=256)


def main(argv: list[str]) -> int:
    out = Path(argv[0]).resolve() if argv else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ancv-pictures-") as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            with serving(Path(tmp)) as (base, control):
                people_pictures(browser, base, control, out)
                recette_picture(browser, base, control, out)
            report_picture(browser, out, Path(tmp))
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
