"""`ancv-sandbox serve` runs the SFTP space: OpenSSH's own `sftp` logs in with a key given through the
control plane and downloads the journal the night wrote, the same bytes as `/_sandbox/journals/{name}`,
and `/_sandbox/sftp/log` shows that download."""

from __future__ import annotations

import subprocess
from pathlib import Path

import requests

from sandbox.client import HttpTransport, shop_client
from tests.conftest import serving

START = "2026-05-05T08:00:00Z"  # Tuesday 5 May 2026, 10:00 in Paris


def test_openssh_sftp_downloads_the_journal_of_a_served_sandbox(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    with serving(tmp_path, "--clock", "virtual", "--start", START) as (base, control, _, _):
        world = control.fixtures()
        shop = next(p for p in world["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
        payer = next(b for b in world["beneficiaries"] if b["behaviour"] == "manual")
        kit = shop_client(HttpTransport(base), shop)
        tx = kit.create_transaction("SFTP-1", "1", 4000)["transaction"]
        kit.set_payer(tx["id"], payer["beneficiaryId"])
        control.act(payer["beneficiaryId"], "authorize", pin=payer["pin"])
        control.advance(22 * 3600)  # Wednesday 8:00 in Paris: consigned at 4:00, journal at 6:00

        [journal] = requests.get(f"{base}/_sandbox/journals", timeout=10).json()
        assert journal["name"] == f"DLO_{shop['shopId']}_20260505_20260506.csv" and journal["count"] == 1
        space = requests.get(f"{base}/_sandbox/sftp", timeout=10).json()
        username = str(shop["shopId"])
        reply = requests.put(f"{base}/_sandbox/sftp/accounts/{username}/keys", timeout=10,
                             json={"publicKeys": [(tmp_path / "id_ed25519.pub").read_text()]})
        assert reply.status_code == 200
        bad = requests.put(f"{base}/_sandbox/sftp/accounts/{username}/keys", timeout=10, json={"publicKeys": ["x"]})
        assert bad.status_code == 400 and bad.json()["errorCode"] == "BAD_REQUEST"
        unknown = requests.put(f"{base}/_sandbox/sftp/accounts/nobody/keys", timeout=10, json={"publicKeys": []})
        assert unknown.status_code == 404 and unknown.json()["errorCode"] == "SFTP_ACCOUNT_NOT_FOUND"

        batch = tmp_path / "batch"
        batch.write_text(f"cd upload/operations_journal\nls\nget {journal['name']} {tmp_path / 'got.csv'}\n")
        done = subprocess.run(["sftp", "-b", str(batch), "-P", str(space["port"]), "-i", str(key),
                               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                               "-o", "BatchMode=yes", f"{username}@127.0.0.1"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        served = requests.get(f"{base}/_sandbox/journals/{journal['name']}", timeout=10)
        assert served.headers["Content-Type"].startswith("text/csv")
        assert (tmp_path / "got.csv").read_text() == served.text
        assert served.text.startswith(f"DLO;{username};") and served.text.endswith("EOF\n")
        # the server's thread (an OS thread beside gevent's) logged the download at sandbox time
        logged = requests.get(f"{base}/_sandbox/sftp/log", params={"username": username, "action": "download"},
                              timeout=10).json()["entries"]
        assert [(e["path"], e["bytes"]) for e in logged] == [
            (f"/upload/operations_journal/{journal['name']}", len(served.content))]
        assert logged[0]["at"].startswith("2026-05-06T06:00")  # the virtual clock's Wednesday 8:00 in Paris
