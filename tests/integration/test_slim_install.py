"""The slim install (issue 15, item 5): `pip install ancv-sandbox` without extras runs `serve`; the tools
that need an extra say which one, in one line.

The wheel test builds the package from a copy of the sources (nothing is written into the working tree),
installs it into a fresh virtual environment without extras and talks to the server it runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from sandbox import cli
from sandbox.adapters import qr
from sandbox.client import HttpTransport, shop_client
from sandbox.pytest_plugin import free_port, stop_server

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "sandbox", "scenarios", "customer_sim", "merchant_sim")
HEAVY = ("opencv", "numpy", "matplotlib", "zxing")


def _without(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make `modules` look uninstalled to the extras check (they are, in a slim install)."""
    from sandbox import extras

    real = extras.find_spec
    monkeypatch.setattr(extras, "find_spec", lambda name: None if name in modules else real(name))


def test_scan_without_its_extra_says_what_to_install(monkeypatch, capsys):
    _without(monkeypatch, "cv2", "numpy")
    status = cli.main(["scan", "--as", "beneficiary", "--beneficiary", "10001001576", "--source", "synthetic:qr"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("ancv-sandbox scan: needs the 'scan' extra")
    assert "pip install 'ancv-sandbox[scan]'" in err and "cv2, numpy" in err


def test_simulate_report_without_matplotlib_says_so_before_running(monkeypatch, capsys, tmp_path):
    _without(monkeypatch, "matplotlib")
    status = cli.main(["simulate", "gite-qr", "--report", str(tmp_path / "report")])
    out, err = capsys.readouterr()
    assert status == 2
    assert err.strip() == ("ancv-sandbox simulate: needs the 'report' extra (matplotlib; missing: matplotlib): "
                           "pip install 'ancv-sandbox[report]'")
    assert out == "" and not (tmp_path / "report").exists(), "nothing was run"


def test_simulate_dask_without_its_extra_says_so_before_running(monkeypatch, capsys):
    _without(monkeypatch, "distributed")
    status = cli.main(["simulate", "gite-qr", "--dask", "tcp://127.0.0.1:8786"])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.strip() == ("ancv-sandbox simulate: needs the 'dask' extra (Dask's distributed client; missing: "
                           "distributed): pip install 'ancv-sandbox[dask]'")


def test_photo_upload_without_zbar_names_the_library(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyzbar.pyzbar", None)  # what a machine without libzbar0 gives
    with pytest.raises(qr.UnreadableImage, match=r"apt-get install libzbar0\) : collez l'adresse du QR code"):
        qr.decode_image(qr.qr_png("https://example.test/x"))


def _run(*command: str | Path, cwd: Path | None = None, timeout: float = 300) -> str:
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return reply.status, reply.headers.get("Content-Type", ""), reply.read()


@pytest.fixture(scope="module")
def slim_venv(tmp_path_factory) -> Path:
    """A fresh virtual environment holding the wheel and its required dependencies only."""
    work = tmp_path_factory.mktemp("slim")
    source = work / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", work / "dist", source)
    wheel = next((work / "dist").glob("ancv_sandbox-*.whl"))
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", venv)  # no --system-site-packages: only what the wheel asks for
    # The same pins as ./dev, so the slim server runs on the releases the suite runs on.
    _run(venv / "bin" / "pip", "install", "--progress-bar", "off", "-c", ROOT / "constraints.txt", wheel,
         timeout=600)
    return venv


@pytest.mark.slow  # pip resolves and installs some forty packages: minutes on a cold cache
def test_the_wheel_without_extras_serves_the_kit(slim_venv, tmp_path):
    installed = json.loads(_run(slim_venv / "bin" / "pip", "list", "--format", "json"))
    names = {package["name"].lower() for package in installed}
    assert "ancv-sandbox" in names
    assert not [name for name in names if any(heavy in name for heavy in HEAVY)], names

    port = free_port()
    log = open(tmp_path / "serve.log", "w+")
    env = {**os.environ, "PYTHONPATH": ""}  # the installed package, not this checkout
    process = subprocess.Popen(
        [str(slim_venv / "bin" / "ancv-sandbox"), "serve", "--port", str(port), "--sftp-port", "0",
         "--db", str(tmp_path / "slim.sqlite3"), "--clock", "virtual"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(base + "/_sandbox/health")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "the slim server did not become ready"
            time.sleep(0.1)

        fixtures = json.loads(_get(base + "/_sandbox/fixtures")[2])
        shop = next(p for p in fixtures["pointsOfSale"] if p["status"] == "ACTIVE")
        kit = shop_client(HttpTransport(base), shop)  # seals every call with the shop's key
        created = kit.create_transaction("slim-1", "1", 4000)
        assert created.status == 201 and created["transaction"]["state"] == "INITIALIZED", created.body
        assert kit.get_transaction(created["transaction"]["id"])["transaction"]["state"] == "INITIALIZED"
        # Templates, static files and the OpenAPI documents came with the wheel.
        status, kind, page = _get(base + "/")
        assert status == 200 and kind.startswith("text/html") and b"</html>" in page
        assert _get(base + "/static/ancv.css")[0] == 200
        assert b"openapi:" in _get(base + "/openapi/kit-api.yaml")[2]
    finally:
        stop_server(process)
        log.close()

    scan = subprocess.run([str(slim_venv / "bin" / "ancv-sandbox"), "scan", "--as", "beneficiary",
                           "--beneficiary", "10001001576", "--source", "synthetic:qr"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert scan.returncode == 2
    assert scan.stderr.startswith("ancv-sandbox scan: needs the 'scan' extra")
    assert "pip install 'ancv-sandbox[scan]'" in scan.stderr and "Traceback" not in scan.stderr
