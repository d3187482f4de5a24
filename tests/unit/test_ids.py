"""Identifiers: Luhn beneficiary numbers, masks, CVCoId codes, object ids."""

import random

import pytest

from sandbox.domain import ids
from sandbox.domain.ids import OBJECT_ID_ALPHABET, digits, draws_below, new_object_id


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


@pytest.mark.parametrize("seed", range(200))
def test_ids_and_digits_are_the_ones_choice_and_randint_would_draw(seed):
    """Drawn straight from getrandbits, ids and digits stay those of `choice`/`randint`, and so does what follows."""
    one_by_one, at_once = random.Random(seed), random.Random(seed)
    for _ in range(3):
        assert new_object_id(at_once) == "".join(one_by_one.choice(OBJECT_ID_ALPHABET) for _ in range(10))
        assert digits(at_once, 6) == "".join(str(one_by_one.randint(0, 9)) for _ in range(6))
        assert draws_below(at_once, 2**31 + 5, 3) == [one_by_one.randrange(2**31 + 5) for _ in range(3)]
    assert at_once.getstate() == one_by_one.getstate()


def test_a_source_that_is_not_a_random_random_draws_its_own_way():
    class Dice:
        def randrange(self, n):
            return n - 1

    assert draws_below(Dice(), 36, 3) == [35, 35, 35]
