"""Nobody learns which ids exist without a valid seal (Kit §5.3.2.4)."""


def test_unknown_and_existing_ids_look_the_same_to_an_unsealed_caller(world):
    kit = world.kit()
    existing = kit.create_transaction("p", "1", 100)["transaction"]["id"]
    for path in (f"/payment-transactions/{existing}", "/payment-transactions/zzzzzzzzzz",
                 "/pre-transactions/zzzzzzzzzz", f"/point-of-sales/{world.shop()['shopId']}", "/point-of-sales/1"):
        reply = world.transport("GET", "/acquisition/api/public/v1" + path, {"ANCV-Security": "HmacSHA256.v.bad"})
        assert (reply.status, reply.body["errorCode"]) == (403, "INVALID_SEAL"), path


def test_a_sealed_caller_gets_404_for_an_unknown_id(world):
    assert world.kit().get_transaction("zzzzzzzzzz").body["errorCode"] == "TRANSACTION_NOT_FOUND"
    assert world.kit().point_of_sale(1).body["errorCode"] == "POINT_OF_SALE_NOT_FOUND"


def test_not_acceptable_comes_after_the_seal_and_changes_nothing(world):
    kit = world.kit()
    pre = kit.create_pre_transaction("p", 100, world.later(hours=1))["preTransaction"]["id"]
    unsealed = world.transport("GET", f"/acquisition/api/public/v1/pre-transactions/{pre}/qr-code",
                               {"Accept": "application/json"})
    assert unsealed.body["errorCode"] == "INVALID_SEAL"
    refused = kit.qr_code(pre, accept="application/json")
    assert (refused.status, refused.body["errorCode"]) == (406, "Not Acceptable detail")
    assert kit.get_pre_transaction(pre)["preTransaction"]["state"] == "CREATED"
