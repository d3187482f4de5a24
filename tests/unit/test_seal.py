"""The seal of Kit §5.3 and §6.7."""

from sandbox.domain import seal


def test_kit_test_vector_gives_the_documented_seal():
    """Kit §6.7: key 663768…, message 10000065&100016&panier-33455&42556&500."""
    fields = [10000065, 100016, "panier-33455", "42556", 500]
    assert seal.seal_message(fields) == "10000065&100016&panier-33455&42556&500"
    assert seal.compute_seal("663768ff68ad8ea6768bbf65163e9b0a", fields) == "mfy6VhbdyiErpfvQ3AvnKwU39W_ae9MfuaVurEg-KjE"


def test_empty_values_are_skipped_so_no_ampersand_is_doubled_or_trailing():
    """Kit §5.3.2.1."""
    assert seal.seal_message(["trx123", None, "", 12544, None]) == "trx123&12544"


def test_header_has_algorithm_version_and_seal():
    header = seal.security_header("version-3620", "k", ["a"])
    parsed = seal.parse_security_header(header)
    assert header.startswith("HmacSHA256.version-3620.")
    assert parsed is not None and parsed.key_version == "version-3620"
    assert seal.seal_matches("k", ["a"], parsed.seal)


def test_malformed_headers_are_refused():
    for value in (None, "", "HmacSHA256", "HmacSHA1.v.abc", "HmacSHA256..abc", "HmacSHA256.v."):
        assert seal.parse_security_header(value) is None


def test_seal_with_padding_is_accepted_and_any_other_change_is_not():
    good = seal.compute_seal("k", ["a", 1])
    assert seal.seal_matches("k", ["a", 1], good + "=")
    assert not seal.seal_matches("k", ["a", 2], good)
    assert not seal.seal_matches("other", ["a", 1], good)


def test_create_transaction_fields_follow_the_kit_order():
    """Kit §4.5.1.4: shopId, serviceProviderId, order id, paymentId, total."""
    body = {"merchant": {"shopId": 1, "serviceProviderId": 2},
            "order": {"id": "o", "paymentId": "p", "amount": {"total": 3, "currency": "978"}}}
    assert seal.create_transaction_fields(body) == [1, 2, "o", "p", 3]
    assert seal.seal_message(seal.create_transaction_fields({"merchant": {"shopId": 1}, "order": {}})) == "1"
