"""The cahier de recette against a live `ancv-sandbox serve --tls`, as an integrator's CI plays it: the Kit over
HTTPS, webhooks to an HTTPS receiver the sandbox's CA signed, journals fetched from the SFTP space."""

from __future__ import annotations

from merchant_sim.integrator import Inbox, RecetteIntegrator, sftp_downloader
from sandbox.client import ControlClient, HttpTransport
from tests.conftest import serving


def test_a_correct_integrator_passes_every_case_against_a_live_server(tmp_path):
    with serving(tmp_path, "--tls", "--clock", "virtual", "--think-time", "1") as (base, control, _, _process):
        ca = control.transport.verify  # type: ignore[attr-defined]
        transport = HttpTransport(base, timeout=30, verify=ca)
        control = ControlClient(transport)
        shop = control.fixtures()["pointsOfSale"][0]
        campaign = control.start_recette("shop", shop["shopId"])
        certificate = control.tls_certificate(["localhost"])
        inbox = Inbox(tls=(certificate["certificate"], certificate["privateKey"]), folder=tmp_path / "inbox")
        try:
            space = control._call("GET", "/sftp")
            RecetteIntegrator(control, transport, campaign, shop["key"], inbox,
                       sftp=sftp_downloader("127.0.0.1", space["port"])).play_all()
        finally:
            inbox.close()
        ended = control.end_recette(campaign["id"])

    assert {c["id"]: [r["en"] for r in c["reasons"]] for c in ended["cases"] if c["status"] != "passed"} == {}
    assert ended["summary"]["passed"] == len(ended["cases"]) == 24
    assert all(r["https"] for c in ended["cases"] for r in c["evidence"]["requests"])
