"""The README's camera demo without a camera: the App Pro shows a QR code in Chromium, a "camera"
films that screen (the element as Chromium drew it, tilted and blurred into video frames), and
`ancv-sandbox scan --as beneficiary` reads the video and pays; the Pro page turns "Validé" by itself.
"""

from __future__ import annotations

import re
import subprocess
import sys

import cv2
import numpy as np

from customer_sim.scanner import synthetic
from tests.browser.conftest import log_in_pro, screenshot


def test_a_camera_pointed_at_the_pro_app_pays_and_the_page_turns_validated(chromium, live_server, tmp_path):
    base, control, _, _ = live_server
    world = control.fixtures()
    shop = next(p for p in world["pointsOfSale"] if p["status"] == "ACTIVE")
    payer = next(b for b in world["beneficiaries"] if b["behaviour"] == "manual" and b["balance"] >= 2000)
    context, page = log_in_pro(chromium, base, shop)
    page.goto(f"{base}/pro/paiement")  # the app opens on its operations list
    page.fill("#amount", "20")
    page.fill("#order_id", "CAMERA-1")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    pre_id = re.search(r"/paiement/(\w+)", page.url).group(1)

    shown = cv2.imdecode(np.frombuffer(page.locator("img.qr").screenshot(), np.uint8), cv2.IMREAD_GRAYSCALE)
    rng = np.random.default_rng(2)
    frames = [synthetic.render(shown, family, (1280, 720), rng) for family in ("perspective", "moire", "glare")
              for _ in range(8)]
    video = synthetic.write_video(frames, tmp_path / "camera.mkv")
    done = subprocess.run([sys.executable, "-m", "sandbox.cli", "scan", "--as", "beneficiary",
                           "--beneficiary", payer["beneficiaryId"], "--server", base, "--source", str(video), "--once"],
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert f"read payment request {pre_id}" in done.stdout and "paid 20,00 €" in done.stdout
    page.wait_for_function("document.querySelector('#status') && "
                           "document.querySelector('#status').textContent.includes('Validé')", timeout=10_000)
    assert "20,00" in page.inner_text("#received")
    screenshot(page, "pro-paid-by-camera")
    context.close()
