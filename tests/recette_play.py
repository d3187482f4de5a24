"""Playing a cahier de recette case the way an integrator's test suite would, over HTTP: the browser test and
the CLI's tests share it (issue 17)."""

from __future__ import annotations

import time
from typing import Any

from sandbox.client import HttpTransport, KitClient

THINK_TIME_S = 1  # live_server's: the pay_full beneficiary answers one think time after /payer
WEBHOOK_WAIT_S = 10


def play_immediate_payment(base: str, control: Any, holder_key: str, case: dict[str, Any], receiver: Any) -> str:
    """Create, /payer, let the beneficiary pay, take the returnUrl webhook (200), read the state; the transaction id."""
    identifiers = case["identifiers"]
    kit = KitClient(HttpTransport(base), key=holder_key, key_version=identifiers["keyVersion"],
                    shop_id=identifiers["shopId"])
    created = kit.create_transaction(f"recette-{case['id']}", "1", 4000, redirect_urls={
        "returnUrl": receiver.url("/retour"), "cancelUrl": receiver.url("/annulation")})
    assert created.status == 201, created.body
    transaction_id: str = created["transaction"]["id"]
    assert kit.set_payer(transaction_id, identifiers["beneficiaryId"]).ok
    control.advance(THINK_TIME_S + 1)
    deadline = time.monotonic() + WEBHOOK_WAIT_S
    while not receiver.received() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.received(), "the returnUrl webhook never came"
    assert kit.get_transaction(transaction_id)["transaction"]["state"] == "VALIDATED"
    return transaction_id
