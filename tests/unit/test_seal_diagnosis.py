"""The seal's diagnosis for the request journal (domain/seal.py `diagnose`): pure, given the expected key,
the fields and the header, a verdict and the near miss a refused seal matches — and never the key."""

import base64
import hashlib
import hmac

from sandbox.domain import seal

KEY = ("1", "a-test-key-for-the-diagnosis")
HOLDER = ("shop", 10000065)
BODY = {"merchant": {"shopId": 10000065}, "order": {"id": "cmd-7", "paymentId": "2", "amount": {"total": 4000}}}


def header(message: str, encode=base64.urlsafe_b64encode, version: str = "1") -> str:
    digest = hmac.new(KEY[1].encode(), message.encode(), hashlib.sha256).digest()
    text = digest.hex() if encode is None else encode(digest).decode().rstrip("=")
    return f"HmacSHA256.{version}.{text}"


def check(value: str | None) -> seal.SealCheck:
    return seal.diagnose(value, seal.create_transaction_fields(BODY), HOLDER, KEY)


def test_a_good_seal_is_ok_and_shows_the_string_sealed_with_the_field_names() -> None:
    result = check(header("10000065&cmd-7&2&4000"))
    assert (result.verdict, result.hint) == ("ok", None)
    assert result.sealed_string == "10000065&cmd-7&2&4000"
    assert result.fields == ("merchant.shopId", "merchant.serviceProviderId", "order.id", "order.paymentId",
                             "order.amount.total")
    assert KEY[1] not in repr(result.as_json())


def test_near_misses_are_named() -> None:
    assert "another order" in check(header("cmd-7&10000065&2&4000")).hint
    assert "not skipped" in check(header("10000065&&cmd-7&2&4000")).hint
    assert "hexadecimal" in check(header("10000065&cmd-7&2&4000", encode=None)).hint
    assert "keyVersion 2" in check(header("10000065&cmd-7&2&4000", version="2")).hint
    assert "padding" in check(header("10000065&cmd-7&2&4000") + "=").hint
    assert check(header("something else")).hint is None


def test_missing_malformed_and_other_holder() -> None:
    assert check(None).verdict == "missing"
    assert check("HmacSHA1.1.abc").verdict == "malformed"
    other = seal.diagnose(header("x"), seal.create_transaction_fields(BODY), HOLDER, KEY, other_holder=True)
    assert other.verdict == "other_holder" and "shop 10000065" in other.hint
