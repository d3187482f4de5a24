"""Why a payment failed (issue 14, item 5): wrong code, timeout, blocked phone, insufficient balance, the
client's abandon or refusal each have their own French wording in the Espace dédié's table, the
operation's detail, the export and the App' Pro, never "Annulé" (the merchant's own cancellation); the
status filter "Refusé" still finds them all."""

import html
import io
import re
from dataclasses import replace

import pytest
from openpyxl import load_workbook

from sandbox.domain.beneficiaries import DEVICE_BLOCKED
from tests.people import Merchant

WRONG_PIN = "000000"
QR_BASE = "http://localhost/acquisition/api/public/v1/pre-transactions"


@pytest.fixture
def merchant(world):
    return Merchant(world, world.shop())


def asked(world, order_id, amount=4000, **create):
    """A transaction of the first shop whose payer is the manual beneficiary: the client's app is asked."""
    kit, ben = world.kit(), world.beneficiary("manual")
    tx = kit.create_transaction(order_id, "1", amount, **create)["transaction"]
    assert kit.set_payer(tx["id"], ben["beneficiaryId"]).status == 202
    return tx["id"], ben


def with_beneficiary(world, ben, change):
    """Something happens to the client's account outside the payment (a phone blocked, money spent)."""
    with world.sandbox.uow() as uow:
        account = uow.session.beneficiary(ben["beneficiaryId"])
        change(account, uow.now)
        uow.save(account)


def wrong_code(world):
    tx_id, ben = asked(world, "REF-CODE")
    world.control.act(ben["beneficiaryId"], "authorize", pin=WRONG_PIN)
    return tx_id


def timeout(world):
    tx_id, _ = asked(world, "REF-DELAI")
    world.advance(251)
    return tx_id


def abandon(world):
    tx_id, ben = asked(world, "REF-ABANDON")
    world.control.act(ben["beneficiaryId"], "abandon")
    return tx_id


def blocked_phone(world):
    tx_id, ben = asked(world, "REF-TEL")

    def block(account, now):
        account.devices = [replace(device, status=DEVICE_BLOCKED) for device in account.devices]
    with_beneficiary(world, ben, block)
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    with_beneficiary(world, ben, lambda account, now: account.unblock_devices(now))
    return tx_id


def insufficient_balance(world):
    tx_id, ben = asked(world, "REF-SOLDE", tspd_mode="002")
    with_beneficiary(world, ben, lambda account, now: account.hold("ailleurs", account.available(now) - 100, now))
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    with_beneficiary(world, ben, lambda account, now: account.release("ailleurs"))
    return tx_id


FAILURES = [  # (how, the Kit's ending, the status the merchant reads, the detail's explanation)
    (wrong_code, "REJECTED_SECURITY", "Refusé : code personnel erroné", "code personnel de paiement erroné"),
    (timeout, "REJECTED_TIMEOUT", "Refusé : délai de confirmation dépassé", "dans le délai imparti"),
    (abandon, "ABORTED_TSPD", "Abandonné par le client", "a abandonné le paiement"),
    (blocked_phone, "REJECTED_DEVICE", "Refusé : téléphone du client bloqué", "est bloquée"),
    (insufficient_balance, "REJECTED_INTERNAL", "Refusé : solde insuffisant", "ne couvre pas le montant"),
]


def text(reply):
    return html.unescape(reply.get_data(as_text=True))


def row_status(page, order_id):
    rows = re.findall(r"<tr>\s*<td>[^<]*</td><td>([^<]*)</td><td>[^<]*</td><td class=\"status\">([^<]*)</td>", page)
    return dict(rows)[order_id]


@pytest.mark.parametrize(("how", "ending", "status", "explanation"), FAILURES, ids=[f[1] for f in FAILURES])
def test_each_failure_has_its_own_wording_in_the_table_and_the_detail(world, merchant, how, ending, status,
                                                                      explanation):
    tx_id = how(world)
    tx = world.kit().get_transaction(tx_id)["transaction"]
    assert ending in (tx["state"], tx.get("subState"))
    order_id = tx["order"]["id"]
    assert row_status(text(merchant.get("/encaissement")), order_id) == status
    detail = text(merchant.get(f"/encaissement/operations/{tx_id}"))
    assert re.search(r'id="status">([^<]*)<', detail).group(1) == status
    assert explanation in re.search(r'id="reason">([^<]*)<', detail).group(1)
    assert "Annulé" not in detail


def test_the_merchant_s_own_cancellation_is_still_annule(world, merchant):
    tx = world.paid_transaction(world.kit(), capture_mode="DEFERRED", capture_date=world.later(days=3))
    merchant.post(f"/encaissement/operations/{tx['id']}/annuler", confirm="oui")
    assert re.search(r'id="status">([^<]*)<', text(merchant.get(f"/encaissement/operations/{tx['id']}"))).group(1) == (
        "Annulé")


def test_the_refused_filter_finds_every_refusal_and_the_export_says_why(world, merchant):
    made = {how(world): status for how, _, status, _ in FAILURES}
    refused = text(merchant.get("/encaissement", status="Refusé"))
    assert sorted(re.findall(r'<td class="status">([^<]*)</td>', refused)) == sorted(made.values())
    rows = list(load_workbook(io.BytesIO(merchant.get("/encaissement/export.xlsx").data)).active.iter_rows(
        values_only=True))
    column = rows[0].index("Statut")
    assert sorted(row[column] for row in rows[1:]) == sorted(made.values())


def test_a_client_refusing_a_request_is_not_a_merchant_cancellation(world, merchant):
    kit, ben = world.kit(), world.beneficiary("manual")
    pre = kit.create_pre_transaction("REF-REFUS", 2500, world.later(days=2))["preTransaction"]
    assert kit.contact(pre["id"], beneficiary_id=ben["beneficiaryId"]).status in (200, 202)
    world.control.act(ben["beneficiaryId"], "refuse", url=f"{QR_BASE}/{pre['id']}/qr-code")
    assert kit.get_pre_transaction(pre["id"])["preTransaction"]["abort"]["reason"] == "ABORTED_BENEFICIARY"
    assert row_status(text(merchant.get("/encaissement")), "REF-REFUS") == "Refusé par le client"
    detail = text(merchant.get(f"/encaissement/operations/{pre['id']}"))
    assert "a refusé la demande de paiement" in detail


def test_the_app_pro_tells_a_failed_try_and_a_refusal(world):
    from tests.api.test_hostile_input import ProPhone, pro_request

    phone, ben = ProPhone(world, world.shop()), world.beneficiary("manual")
    tried = pro_request(phone, "PRO-CODE")
    base = QR_BASE
    world.control.act(ben["beneficiaryId"], "scan", url=f"{base}/{tried}/qr-code")
    world.control.act(ben["beneficiaryId"], "authorize", pin=WRONG_PIN)
    refused = pro_request(phone, "PRO-REFUS")
    world.control.act(ben["beneficiaryId"], "scan", url=f"{base}/{refused}/qr-code")
    world.control.act(ben["beneficiaryId"], "refuse")
    listing = text(phone.get("/operations"))
    ops = dict(re.findall(r'<div class="op">\s*<span class="badge[^"]*">([^<]*)</span>.*?>(PRO-[A-Z]+)</a>',
                          listing, re.S))
    assert {v: k for k, v in ops.items()} == {"PRO-CODE": "EN ATTENTE", "PRO-REFUS": "REFUSÉ PAR LE CLIENT"}
    assert "Dernière tentative : Refusé : code personnel erroné" in listing


def test_a_pre_booking_left_unvalidated_past_its_deadline_says_so_and_is_filed_as_cancelled(world, merchant):
    tx = world.paid_transaction(world.kit(), capture_mode="DEFERRED", capture_date=world.later(days=2))
    world.advance(2 * 86_400 + 1)  # the capture date passes: the sandbox cancels it and re-credits the client
    assert world.kit().get_transaction(tx["id"])["transaction"]["state"] == "CANCELLED"
    order_id = tx["order"]["id"]
    assert row_status(text(merchant.get("/encaissement")), order_id) == "Annulé : délai de validation dépassé"
    detail = text(merchant.get(f"/encaissement/operations/{tx['id']}"))
    assert "n'a pas été validée avant sa date limite" in re.search(r'id="reason">([^<]*)<', detail).group(1)
    cancelled = text(merchant.get("/encaissement", status="Annulé"))
    assert order_id in cancelled
