"""Network faults against a real `ancv-sandbox serve`: the client sees the connection closed without
an answer, the way a lost response looks on the network, on both server stacks."""

import pytest
import requests

from sandbox.client import HttpTransport, shop_client
from tests.conftest import serving

TIMEOUT_S = 5  # a hang-up that left the client waiting would fail here, not hang the suite


@pytest.mark.parametrize("options", [("--server", "gevent"), ("--server", "threading"), ("--tls",)],
                         ids=["gevent", "threading", "gevent-tls"])
def test_lost_responses_and_resets_look_like_a_closed_connection(tmp_path, options):
    with serving(tmp_path, "--clock", "virtual", *options) as (base, control, _, process):
        shop = next(p for p in control.fixtures()["pointsOfSale"] if p["status"] == "ACTIVE")
        ca_file = str(tmp_path / "serve.sqlite3.tls" / "ca.pem") if "--tls" in options else True
        kit = shop_client(HttpTransport(base, timeout=TIMEOUT_S, verify=ca_file), shop)

        control.add_fault("createTransaction", "drop_response", times=1)
        with pytest.raises(requests.ConnectionError):
            kit.create_transaction("lost-1", "pay-1", 4000)
        repeated = kit.create_transaction("lost-1", "pay-1", 4000)
        assert repeated.status == 200  # the dropped call was applied: the Kit's duplicate answer
        tx = repeated["transaction"]
        assert kit.get_transaction(tx["id"])["transaction"]["state"] == "INITIALIZED"

        control.add_fault("payer", "reset", times=1)
        with pytest.raises(requests.ConnectionError):
            kit.set_payer(tx["id"], control.fixtures()["beneficiaries"][0]["beneficiaryId"])
        assert kit.get_transaction(tx["id"])["transaction"]["state"] == "INITIALIZED"  # nothing applied

        control.add_fault("getTransaction", "delay", delayMs=10, times=1)
        assert kit.get_transaction(tx["id"]).status == 200
        faults = [e["data"]["fault"] for e in control.events() if e["type"] == "FaultInjected"]
        assert faults == ["drop_response", "reset", "delay"]
        assert process.poll() is None
