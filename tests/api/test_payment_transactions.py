"""The payment-transaction operations of the Kit API, end to end through HTTP (Kit §4.4, §4.5)."""

import pytest

from sandbox.domain.dates import parse_date


def test_point_of_sale_answers_with_its_convention_and_status(world):
    """Kit §4.4.1."""
    shop = world.shop()
    reply = world.kit().point_of_sale()
    assert reply.status == 200
    assert reply["pointOfSale"]["shopId"] == shop["shopId"]
    assert reply["pointOfSale"]["ptlBusinessId"] == int(shop["conventionId"])
    assert reply["pointOfSale"]["status"] == "ACTIVE" and reply["responseDate"].endswith("Z")


def test_service_provider_checks_its_shop_with_its_own_key(world):
    """Kit §4.4.1.8: ?serviceProviderId=, sealed shopId&serviceProviderId with the provider's key."""
    reply = world.provider_kit().point_of_sale()
    assert reply.status == 200 and reply["pointOfSale"]["shopId"] == world.provided_shop()["shopId"]


def test_create_returns_201_initialized_with_kit_dates_and_echoes_context(world):
    """Kit §4.5.1."""
    reply = world.kit().create_transaction(
        "panier-33455", "42556", 4000, redirect_urls={"returnUrl": "http://127.0.0.1:9/ok"},
        application_context={"returnContext": "1ère commande", "customerId": "customer1236555"},
        label="Réservation gîte", shopAssistantId="Magasin")
    assert reply.status == 201
    tx = reply["transaction"]
    assert tx["state"] == "INITIALIZED" and len(tx["id"]) == 10 and tx["id"].isalnum()
    assert tx["order"] == {"id": "panier-33455", "paymentId": "42556", "label": "Réservation gîte",
                           "amount": {"total": 4000, "currency": "978"}}
    assert tx["redirectUrls"] == {"returnUrl": "http://127.0.0.1:9/ok"}
    assert reply["applicationContext"] == {"returnContext": "1ère commande", "customerId": "customer1236555"}
    created, expires = parse_date(tx["creationDate"]), parse_date(tx["expirationDate"])
    assert (expires - created).total_seconds() == 300
    assert tx["creationDate"].endswith(".000Z") and list(tx)[:5] == [
        "id", "creationDate", "updateDate", "expirationDate", "state"]


def test_same_order_and_payment_id_on_the_same_day_returns_the_existing_transaction(world):
    """Kit §4.5.1.5: duplicate → 200 with the object created before."""
    kit = world.kit()
    first = kit.create_transaction("panier-1", "1", 4000)
    again = kit.create_transaction("panier-1", "1", 9999)
    other_payment = kit.create_transaction("panier-1", "2", 4000)
    assert (first.status, again.status, other_payment.status) == (201, 200, 201)
    assert again["transaction"] == first["transaction"]
    assert other_payment["transaction"]["id"] != first["transaction"]["id"]


def test_the_same_order_ids_are_new_again_the_next_day(world):
    kit = world.kit()
    first = kit.create_transaction("panier-1", "1", 4000)
    world.advance(24 * 3600)
    assert kit.create_transaction("panier-1", "1", 4000).status == 201
    assert first.status == 201


def test_payer_answers_202_processing_with_the_payer_as_given(world):
    """Kit §4.5.2: 202, payers[] with the beneficiaryId as sent, partial amount allowed."""
    kit, ben = world.kit(), world.beneficiary()
    tx = kit.create_transaction("panier-1", "1", 4000)["transaction"]
    reply = kit.set_payer(tx["id"], ben["email"], 3500)
    assert reply.status == 202
    body = reply["transaction"]
    assert (body["state"], body["subState"]) == ("PROCESSING", "IN_ADJUSTMENT")
    assert body["payers"] == [{"beneficiaryId": ben["email"], "amount": {"total": 3500, "currency": "978"}}]


@pytest.mark.parametrize("asked", [3500, None])
def test_a_lowered_amount_shows_in_the_authorization_and_payers_amount_keeps_what_was_asked(world, asked):
    """Kit §6.2.2.18 and the example of §4.5.3.5 (payer 3500, authorization 3000): `payers[].amount` is the amount
    given at /payer, or the basket total when none was; only the authorization carries what the beneficiary paid."""
    kit, ben = world.kit(), world.beneficiary()
    before = world.balance(ben["beneficiaryId"])
    tx = kit.create_transaction("panier-1", "1", 4000)["transaction"]
    assert kit.set_payer(tx["id"], ben["email"], asked).status == 202
    world.control.act(ben["beneficiaryId"], "adjust", amount=3000)
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    payer = kit.get_transaction(tx["id"])["transaction"]["payers"][0]
    assert payer["amount"] == {"total": asked or 4000, "currency": "978"}
    assert payer["authorizations"][0]["amount"] == {"total": 3000, "currency": "978"}
    assert world.balance(ben["beneficiaryId"]) == before - 3000  # the money moved is the authorized amount


def test_numeric_beneficiary_id_is_accepted_like_the_kit_example(world):
    kit, ben = world.kit(), world.beneficiary()
    tx = kit.create_transaction("panier-1", "1", 4000)["transaction"]
    reply = kit.set_payer(tx["id"], int(ben["beneficiaryId"]))
    assert reply.status == 202 and reply["transaction"]["payers"][0]["beneficiaryId"] == int(ben["beneficiaryId"])


def test_status_shows_the_authorization_with_masked_holder(world):
    """Kit §4.5.3: authorizations[] number, type CVCo, amount, validationDate, holder."""
    kit = world.kit()
    tx = world.paid_transaction(kit)
    reply = kit.get_transaction(tx["id"])
    assert reply.status == 200 and reply["transaction"]["state"] == "VALIDATED"
    auth = reply["transaction"]["payers"][0]["authorizations"][0]
    assert auth["type"] == "CVCo" and auth["number"].isdigit() and auth["amount"]["total"] == 4000
    ben = world.beneficiary()["beneficiaryId"]
    assert auth["holder"] == ben[:2] + "*****" + ben[-4:]
    assert reply["transaction"]["expirationDate"] is None


def test_deferred_payment_is_executed_for_less_and_the_rest_goes_back(world):
    """Kit §4.5.4: /execute ≤ authorized amount; the difference is released."""
    kit, ben = world.kit(), world.beneficiary()
    before = world.balance(ben["beneficiaryId"])
    tx = world.paid_transaction(kit, 4000, capture_mode="DEFERRED", capture_date=world.later(days=3))
    assert tx["state"] == "AUTHORIZED" and "captureDate" in tx["paymentMethod"]
    assert world.balance(ben["beneficiaryId"]) == before - 4000
    reply = kit.execute(tx["id"], 3000)
    assert reply.status == 200 and reply["transaction"]["state"] == "VALIDATED"
    assert reply["transaction"]["payers"][0]["authorizations"][0]["amount"]["total"] == 3000
    assert world.balance(ben["beneficiaryId"]) == before - 3000


def test_execute_with_payers_listing_every_authorization(world):
    kit = world.kit()
    tx = world.paid_transaction(kit, 4000, capture_mode="DEFERRED", capture_date=world.later(days=1))
    auth = tx["payers"][0]["authorizations"][0]
    payers = [{"beneficiaryId": tx["payers"][0]["beneficiaryId"],
               "authorizations": [{"number": auth["number"], "amount": {"total": 2000, "currency": "978"}}]}]
    assert kit.execute(tx["id"], 2000, payers=payers).status == 200


def test_cancellation_is_201_then_200_and_recredits_the_beneficiary(world):
    """Kit §4.5.5: same call again → 200, no change."""
    kit, ben = world.kit(), world.beneficiary()
    before = world.balance(ben["beneficiaryId"])
    tx = world.paid_transaction(kit)
    first = kit.cancel(tx["id"], "CUSTOMER_ABORT", "Le client a abandonné")
    again = kit.cancel(tx["id"], "CUSTOMER_ABORT", "Le client a abandonné")
    assert (first.status, again.status) == (201, 200)
    assert first["transaction"]["cancellation"]["reason"] == "CUSTOMER_ABORT"
    assert first["transaction"]["state"] == again["transaction"]["state"] == "CANCELLED"
    assert world.balance(ben["beneficiaryId"]) == before


def test_a_transaction_may_be_cancelled_before_any_authorization(world):
    kit, ben = world.kit(), world.beneficiary()
    waiting = kit.create_transaction("panier-1", "1", 4000)["transaction"]
    processing = kit.create_transaction("panier-2", "1", 4000)["transaction"]
    kit.set_payer(processing["id"], ben["beneficiaryId"])
    assert kit.cancel(waiting["id"]).status == 201
    assert kit.cancel(processing["id"]).status == 201
    # the beneficiary is free for another payment
    third = kit.create_transaction("panier-3", "1", 4000)["transaction"]
    assert kit.set_payer(third["id"], ben["beneficiaryId"]).status == 202


def test_service_provider_creates_for_its_shop_with_its_key(world):
    """Kit §5.3.2.2: with merchant.serviceProviderId, every call uses the provider's key."""
    kit = world.provider_kit()
    reply = kit.create_transaction("resa-1", "1", 12000)
    assert reply.status == 201 and reply["transaction"]["merchant"]["serviceProviderId"] == world.provider[
        "serviceProviderId"]
    assert kit.get_transaction(reply["transaction"]["id"]).status == 200


def test_duplicate_keys_keep_ids_with_separators_apart(world):
    """Orders ("a|b", "c") and ("a", "b|c") are two orders."""
    kit = world.kit()
    first = kit.create_transaction("a|b", "c", 100)
    second = kit.create_transaction("a", "b|c", 100)
    assert (first.status, second.status) == (201, 201)


def test_the_longest_ids_in_any_characters_are_kept_and_found_again(world):
    """64 + 40 characters escaped in JSON took up to 600 characters: PostgreSQL refused the key (500)."""
    kit = world.kit()
    order_id, payment_id = "\u00e9\u0017" * 32, "\U0001f600" * 40
    first = kit.create_transaction(order_id, payment_id, 100)
    again = kit.create_transaction(order_id, payment_id, 100)
    assert (first.status, again.status) == (201, 200)
    assert again["transaction"]["id"] == first["transaction"]["id"]
    pre = kit.create_pre_transaction(order_id, 100, world.later(hours=1), pre_payment_id=payment_id)
    assert pre.status == 201
    assert kit.create_pre_transaction(order_id, 100, world.later(hours=1), pre_payment_id=payment_id).status == 200


def test_a_transaction_from_a_payment_request_is_not_a_duplicate_of_a_new_order(world):
    kit, ben = world.kit(), world.beneficiary()
    pre = kit.create_pre_transaction("cart-7", 3000, world.later(hours=1))["preTransaction"]
    url = kit.qr_code(pre["id"]).headers["pre-transaction-url"]
    world.control.act(ben["beneficiaryId"], "scan", url=url)
    reply = kit.create_transaction("cart-7", "0", 1234)  # prePaymentId "0" of the request, as a paymentId
    assert reply.status == 201 and reply["transaction"]["order"]["amount"]["total"] == 1234
