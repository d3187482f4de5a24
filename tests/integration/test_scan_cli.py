"""`ancv-sandbox scan`, the whole camera path without a camera.

A real server (wall clock) hands out a code — a pre-transaction's QR code from the Kit API, a
beneficiary's Code 128 from the app — which is rendered into camera frames (perspective, glare,
blur…), written to a video file, read back through cv2.VideoCapture by the `scan` command in its
own process, and paid or charged for real; the merchant's portal then shows the payment "Validé".
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from customer_sim.scanner import synthetic
from sandbox.client import HttpTransport, shop_client
from sandbox.domain.dates import format_date
from tests.conftest import serving

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SIZE = (1280, 720)
SCENE = ("perspective", "glare", "motion_blur")  # the code as a shaky, tilted phone camera sees it


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("scan")
    with serving(folder, "--clock", "wall", "--think-time", "1") as (base, control, _, _):
        yield base, control, control.fixtures()


def scan(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sandbox.cli", "scan", *options],
                          capture_output=True, text=True, timeout=120)


def video_of(code_png: bytes, path: Path, seed: int) -> Path:
    """A second of blank scene, then the code under each distortion of SCENE for a third of a second each."""
    import cv2

    code = cv2.imdecode(np.frombuffer(code_png, np.uint8), cv2.IMREAD_GRAYSCALE)
    rng = np.random.default_rng(seed)
    blank = np.full_like(code, 255)
    frames = [synthetic.render(blank, "clean", SIZE, rng) for _ in range(30)]
    frames += [synthetic.render(code, family, SIZE, rng) for family in SCENE for _ in range(10)]
    return synthetic.write_video(frames, path)


def portal_statuses(base: str, shop: dict[str, Any]) -> dict[str, str]:
    """The Espace dédié's operations table: order id → status, as the merchant reads it."""
    browser = requests.Session()
    token = CSRF.search(browser.get(f"{base}/espace-ptl/connexion", timeout=10).text).group(1)  # type: ignore[union-attr]
    browser.post(f"{base}/espace-ptl/connexion", timeout=10,
                 data={"csrf_token": token, "login": shop["login"], "password": shop["password"]})
    table = browser.get(f"{base}/espace-ptl/encaissement", timeout=10).text
    rows = re.findall(r"<td>[^<]*</td><td>([^<]+)</td><td>[^<]*</td><td class=\"status\">([^<]+)</td>", table)
    return dict(rows)


def direct_shop(fixtures: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in fixtures["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"])


def beneficiary(fixtures: dict[str, Any], behaviour: str, at_least: int) -> dict[str, Any]:
    return next(b for b in fixtures["beneficiaries"] if b["behaviour"] == behaviour and b["balance"] >= at_least)


def test_a_beneficiary_pays_a_payment_qr_code_read_from_a_video(server: Any, tmp_path: Path) -> None:
    base, _, fixtures = server
    shop, payer = direct_shop(fixtures), beneficiary(fixtures, "manual", 4000)
    kit = shop_client(HttpTransport(base), shop)
    expiry = format_date(datetime.now(UTC) + timedelta(hours=1))
    pre = kit.create_pre_transaction("SCAN-QR-1", 4000, expiry)["preTransaction"]
    png = kit.qr_code(pre["id"])
    assert png.status == 200 and png.headers["Content-Type"] == "image/png"

    video = video_of(png.content, tmp_path / "till.mkv", seed=5)
    done = scan("--as", "beneficiary", "--beneficiary", payer["beneficiaryId"], "--server", base,
                "--source", str(video), "--once", "--json")

    assert done.returncode == 0, done.stderr
    line, last = done.stdout.splitlines()
    read, summary = json.loads(line), json.loads(last)["summary"]
    assert summary["framesRead"] == summary["accepted"] == 1 and summary["framesSkipped"] == 0
    assert summary["framesDecoded"] == read["frame"] + 1  # --once: it stopped at the first read
    assert read["payload"] == f"{base}/acquisition/api/public/v1/pre-transactions/{pre['id']}/qr-code"
    assert read["decoder"].startswith(("pyzbar", "zxing-cpp")) and read["ms"] > 0
    assert read["frame"] >= 30  # not before the code came into view
    assert read["outcome"] == {"ok": True, "state": "VALIDATED", "message": "paid 40,00 €",
                               "transactionId": read["outcome"]["transactionId"],
                               "preTransactionId": pre["id"], "amount": 4000}
    assert kit.get_pre_transaction(pre["id"])["preTransaction"]["state"] == "USED"
    assert portal_statuses(base, shop)["SCAN-QR-1"] == "Validé"


def test_a_beneficiary_may_pay_less_than_asked_reading_a_video_replayed_like_a_camera(server: Any,
                                                                                      tmp_path: Path) -> None:
    base, _, fixtures = server
    shop, payer = direct_shop(fixtures), beneficiary(fixtures, "manual", 6000)
    kit = shop_client(HttpTransport(base), shop)
    pre = kit.create_pre_transaction("SCAN-QR-2", 6000, format_date(datetime.now(UTC) + timedelta(hours=1)))["preTransaction"]
    video = video_of(kit.qr_code(pre["id"]).content, tmp_path / "till.mkv", seed=6)
    done = scan("--as", "beneficiary", "--beneficiary", payer["beneficiaryId"], "--amount", "25",
                "--server", base, "--source", str(video), "--realtime", "--once")
    assert done.returncode == 0, done.stderr
    assert re.search(rf"✓ read payment request {pre['id']} \(.+, \d+ ms\) → paid 25,00 €", done.stdout)
    assert ", at 30 fps as beneficiary" in done.stderr and "frames decoded" in done.stderr


def test_a_merchant_charges_a_cvco_id_code_128_read_from_a_video(server: Any, tmp_path: Path) -> None:
    base, _, fixtures = server
    shop, customer = direct_shop(fixtures), beneficiary(fixtures, "pay_full", 1250)
    app = requests.Session()  # the beneficiary shows their code from the app
    token = CSRF.search(app.get(f"{base}/app/connexion", timeout=10).text)
    app.post(f"{base}/app/connexion", timeout=10,
             data={"login": customer["beneficiaryId"], "password": customer["password"],
                   **({"csrf_token": token.group(1)} if token else {})})
    barcode = app.get(f"{base}/app/identifiant/code128.png", timeout=10)
    assert barcode.status_code == 200 and barcode.headers["Content-Type"] == "image/png"

    video = video_of(barcode.content, tmp_path / "customer.mkv", seed=7)
    done = scan("--as", "merchant", "--shop", str(shop["shopId"]), "--amount", "12,50", "--server", base,
                "--source", str(video), "--once", "--json")

    assert done.returncode == 0, done.stderr
    read = json.loads(done.stdout.splitlines()[0])
    assert read["payload"] == f"CVCoId={customer['beneficiaryId']}" and read["symbology"] == "CODE128"
    outcome = read["outcome"]
    assert (outcome["ok"], outcome["state"], outcome["amount"]) == (True, "VALIDATED", 1250)
    tx = shop_client(HttpTransport(base), shop).get_transaction(outcome["transactionId"])["transaction"]
    assert tx["state"] == "VALIDATED" and tx["payers"][0]["beneficiaryId"] == customer["beneficiaryId"]
    assert portal_statuses(base, shop)[tx["order"]["id"]] == "Validé"


def test_a_code_of_the_other_role_is_refused_and_nothing_is_paid(server: Any, tmp_path: Path) -> None:
    base, _, fixtures = server
    customer = beneficiary(fixtures, "manual", 0)
    from sandbox.adapters.qr import code128_png

    video = video_of(code128_png(f"CVCoId={customer['beneficiaryId']}"), tmp_path / "wrong.mkv", seed=8)
    done = scan("--as", "beneficiary", "--beneficiary", customer["beneficiaryId"], "--server", base,
                "--source", str(video), "--json")
    assert done.returncode == 1 and [json.loads(line) for line in done.stdout.splitlines()] == [
        {"summary": {"framesDecoded": 60, "framesSkipped": 0, "framesRead": 0, "accepted": 0, "refused": 1,
                     "medianMs": json.loads(done.stdout)["summary"]["medianMs"]}}]
    assert done.stderr.count("a beneficiary's CVCoId, not a payment request") == 1  # once, not per frame
    assert "0 codes accepted" in done.stderr


@pytest.mark.parametrize(("options", "message"), [
    (("--as", "merchant", "--shop", "999999", "--amount", "10"), "no point of sale 999999"),
    (("--as", "merchant", "--shop", "SHOP"), "needs --shop SHOP_ID and --amount EUR"),
    (("--as", "merchant", "--shop", "SHOP", "--amount", "dix"), "an amount in euros"),
    (("--as", "beneficiary",), "needs --beneficiary ID"),
    (("--as", "beneficiary", "--beneficiary", "12345678901"), "not among the sandbox's accounts"),
    (("--as", "beneficiary", "--beneficiary", "BENEFICIARY", "--source", "camera:0"), "no camera opens at index 0"),
    (("--as", "beneficiary", "--beneficiary", "BENEFICIARY", "--source", "nowhere.mp4"), "no such video file"),
])
def test_a_scan_that_cannot_start_says_why_and_exits_2(server: Any, options: tuple[str, ...], message: str) -> None:
    base, _, fixtures = server
    filled = [o.replace("SHOP", str(direct_shop(fixtures)["shopId"]))
              .replace("BENEFICIARY", fixtures["beneficiaries"][0]["beneficiaryId"]) for o in options]
    if "camera:0" in filled and Path("/dev/video0").exists():
        pytest.skip("this machine has a camera")
    done = scan(*filled, "--server", base)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def test_a_server_that_is_not_there_is_named() -> None:
    done = scan("--as", "beneficiary", "--beneficiary", "10000000009", "--server", "http://127.0.0.1:9")
    assert done.returncode == 2 and "cannot reach the sandbox at http://127.0.0.1:9" in done.stderr
