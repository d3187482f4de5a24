"""Identifiers: Luhn beneficiary numbers, masks, CVCoId codes, object ids."""

import random

from sandbox.domain import ids


def test_kit_example_beneficiary_number_passes_luhn():
    """Kit §5.4.1: CVCoId=10001001576."""
    assert ids.is_beneficiary_number("10001001576")
    assert not ids.is_beneficiary_number("10001001575")
    assert not ids.is_beneficiary_number("1000100157")


def test_generated_numbers_are_valid_and_masked_like_the_kit():
    rng = random.Random(1)
    for _ in range(100):
        assert ids.is_beneficiary_number(ids.new_beneficiary_number(rng))
    assert ids.mask_holder("10001001576") == "10*****1576"


def test_cvco_id_prefix_is_case_insensitive_and_checked():
    assert ids.parse_cvco_id("CVCoId=10001001576") == "10001001576"
    assert ids.parse_cvco_id("cvcoid=10001001576") == "10001001576"
    assert ids.parse_cvco_id("CVCoId=10001001575") is None
    assert ids.parse_cvco_id("10001001576") is None


def test_object_ids_are_ten_lowercase_alphanumerics_and_reproducible():
    a, b = random.Random(7), random.Random(7)
    first = ids.new_object_id(a)
    assert first == ids.new_object_id(b)
    assert len(first) == 10 and first.isalnum() and first == first.lower()
