"""Scenario files: what QA writes, and the clear errors they get for mistakes (never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.cli import main
from scenarios import spec

MINIMAL = """
customers: [{count: 3}]
merchants: [{channel: pro, arrivals: {every: 10min}}]
duration: 1h
"""


def write(tmp_path: Path, text: str, name: str = "essai.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_and_units(tmp_path: Path) -> None:
    scenario = spec.load(write(tmp_path, MINIMAL))
    assert scenario.name == "essai" and scenario.duration == 3600 and scenario.drain == 3600
    assert scenario.merchants[0].arrivals.rate_per_s == pytest.approx(1 / 600)
    assert spec.duration("1h30min", "x") == 5400 and spec.duration("6d", "x") == 6 * 86_400
    assert spec.duration(90, "x") == 90 and spec.Arrivals.parse({"poisson": "12/h"}, "x").rate_per_s == 12 / 3600


@pytest.mark.parametrize(("text", "message"), [
    ("customers: [{count: 3}]\nmerchants: []", "at least one group"),
    (MINIMAL + "colour: blue\n", "unknown key 'colour'"),
    (MINIMAL.replace("every: 10min", "every: 10 parsecs"), "merchants[0].arrivals.every"),
    (MINIMAL.replace("every: 10min", "poisson: lots"), "merchants[0].arrivals.poisson"),
    (MINIMAL.replace("channel: pro", "channel: fax"), "merchants[0].channel"),
    (MINIMAL.replace("{count: 3}", "{count: 3, habits: {dance: 0.1}}"), "unknown habit 'dance'"),
    (MINIMAL.replace("{count: 3}", "{count: 3, habits: {miss: 0.8, abandon: 0.5}}"), "add up to more than 1"),
    (MINIMAL.replace("{count: 3}", "{count: 3, balance: {uniform: [9, 1]}}"), "customers[0].balance.uniform"),
    (MINIMAL.replace("{count: 3}", "{count: -3}"), "customers[0].count"),
    (MINIMAL + "expect: {transactions.VALIDATED: 'lots'}\n", "expect.transactions.VALIDATED"),
    (MINIMAL + "start: yesterday\n", "start"),
    ("merchants: [", "not valid YAML"),
])
def test_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(spec.ScenarioError, match=None) as caught:
        spec.load(write(tmp_path, text))
    assert message in str(caught.value)


def test_toml_is_read_too(tmp_path: Path) -> None:
    text = '[[customers]]\ncount = 2\n[[merchants]]\nchannel = "pro"\narrivals = { every = "5min" }\n'
    assert spec.load(write(tmp_path, text, "essai.toml")).merchants[0].channel == "pro"


def test_expectations() -> None:
    assert spec.Expectation.parse("x", ">= 3", "x").holds(3)
    assert not spec.Expectation.parse("x", "< 3", "x").holds(3)
    assert spec.Expectation.parse("x", "between 2 and 4", "x").holds(4)
    assert spec.Expectation.parse("x", 0, "x").holds(0) and not spec.Expectation.parse("x", 0, "x").holds(1)


def test_cli_lists_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--list"]) == 0
    listed = capsys.readouterr().out
    assert all(p.stem in listed for p in spec.library())


def test_cli_json_summary_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, MINIMAL + "expect: {pre_transactions.USED: '>= 1'}\n", "bon.yaml")
    assert main(["simulate", str(good), "--json", "--seed", "9"]) == 0
    summary = json.loads(capsys.readouterr().out)
    for key in ("seed", "simulated_seconds", "wall_seconds", "transactions", "pre_transactions",
                "amount_authorized_cents", "expectations"):
        assert key in summary
    assert summary["seed"] == 9 and summary["expectations"][0]["passed"] is True
    bad = write(tmp_path, MINIMAL + "expect: {pre_transactions.USED: '>= 1000'}\n", "mauvais.yaml")
    assert main(["simulate", str(bad)]) == 1
    assert "✗ pre_transactions.USED >= 1000" in capsys.readouterr().out
    assert main(["simulate", "nothing-like-this"]) == 2
    assert "no scenario 'nothing-like-this'" in capsys.readouterr().err
    unknown = write(tmp_path, MINIMAL + "expect: {happiness: 1}\n", "inconnu.yaml")
    assert main(["simulate", str(unknown)]) == 2
    assert "unknown figure" in capsys.readouterr().err
    assert main(["simulate", str(good), "--speed", "10"]) == 2


# --- a misspelled expectation fails when the file is read (issue 14, item 13) -------------------------------------

def test_a_misspelled_state_or_error_code_is_a_mistake_with_a_suggestion(tmp_path: Path) -> None:
    """They used to count 0 and pass `== 0`: a test that tests nothing."""
    path = write(tmp_path, MINIMAL + "expect:\n  transaction_endings.REJECTED_TIMOUT: 0\n"
                                     "  kit_errors.NO_ACTIVE_DEVISE: 0\n")
    with pytest.raises(spec.ScenarioError) as caught:
        spec.load(path)
    assert str(caught.value).splitlines() == [
        f"{path}:6: expect.transaction_endings.REJECTED_TIMOUT: unknown sub-state 'REJECTED_TIMOUT'; did you mean "
        "REJECTED_TIMEOUT? (transaction_endings: REJECTED_DEVICE, REJECTED_SECURITY, REJECTED_TIMEOUT, "
        "REJECTED_INTERNAL, REJECTED_COMPLEMENT, ABORTED_TSPD, ABORTED_COMPLEMENT)",
        f"{path}:7: expect.kit_errors.NO_ACTIVE_DEVISE: unknown error code 'NO_ACTIVE_DEVISE'; did you mean "
        "NO_ACTIVE_DEVICE? (kit_errors: the Kit's error codes (sandbox/domain/errors.py) or FORM, NOT_FOUND, LOGIN, "
        "LOGGED_OUT, ADMIN_TOKEN_REQUIRED, NOT_VIRTUAL_CLOCK, HTTP_nnn)",
    ]


@pytest.mark.parametrize(("name", "message"), [
    ("transactions.VALIDATE", "unknown transaction state 'VALIDATE'; did you mean VALIDATED?"),
    ("transactions.validated", "did you mean VALIDATED?"),
    ("transaction_endings.IN_ADJUSTMENT", "unknown sub-state 'IN_ADJUSTMENT'"),  # not an ending
    ("pre_transactions.USE", "unknown pre-transaction state 'USE'; did you mean USED?"),
    ("app_errors.INSUFFICIENT_BALANC", "did you mean INSUFFICIENT_BALANCE?"),
    ("webhooks.delivred", "unknown webhook state 'delivred'; did you mean delivered?"),
    ("customers.wrongpin", "did you mean wrong_pin?"),
    ("transaction.PAID", "unknown figure family 'transaction'; did you mean transactions?"),
    ("visit", "unknown figure 'visit'; did you mean visits?"),
])
def test_every_family_of_figures_knows_its_keys(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(spec.ScenarioError) as caught:
        spec.load(write(tmp_path, MINIMAL + f"expect: {{{name}: 0}}\n"))
    assert f"expect.{name}: unknown " in str(caught.value) and message in str(caught.value)


def test_every_state_sub_state_and_error_code_of_the_kit_may_be_expected(tmp_path: Path) -> None:
    """The lists come from sandbox.domain: one source, so no right name is refused."""
    from sandbox.domain import errors, pre_transactions, transactions

    names = [f"transactions.{s}" for s in transactions.STATES]
    names += [f"transaction_endings.{s}" for s in (*transactions.SUB_STATES["REJECTED"],
                                                    *transactions.SUB_STATES["ABORTED"])]
    names += [f"pre_transactions.{s}" for s in pre_transactions.STATES]
    names += [f"{family}.{kind.code}" for kind in errors.catalogue() for family in ("kit_errors", "app_errors")]
    names += ["kit_errors.HTTP_502", "fault_errors.500", "portal_errors.FORM", "pro_errors.NOT_FOUND",
              "webhooks.failed", "customers.pay", "parcours.A_qr", "flows.contact_email", "pre_bookings.forget",
              "visits", "amount_fees_cents"]
    text = MINIMAL + "expect:\n" + "".join(f"  {name!r}: '>= 0'\n" for name in names)
    assert [e.name for e in spec.load(write(tmp_path, text)).expect] == names


def test_a_duplicate_key_is_a_mistake_wherever_it_is(tmp_path: Path) -> None:
    """YAML would keep the last value silently: the first expectation would never be checked."""
    text = MINIMAL + "expect:\n  transactions.VALIDATED: '>= 20'\n  transactions.VALIDATED: 0\nduration: 2h\n"
    path = write(tmp_path, text)
    with pytest.raises(spec.ScenarioError) as caught:
        spec.load(path)
    assert str(caught.value).splitlines() == [
        f"{path}:7: expect.transactions.VALIDATED: duplicate key (first given line 6; only one value counts)",
        f"{path}:8: duration: duplicate key (first given line 4; only one value counts)",
    ]
    merged = MINIMAL.replace("{count: 3}", "{<<: {count: 3, phone: 0.5}, count: 4}")  # overriding a merge is fine
    assert spec.load(write(tmp_path, merged)).customers[0].count == 4


def test_all_the_mistakes_of_a_file_are_reported_at_once_each_with_its_line(tmp_path: Path) -> None:
    text = ("customers:\n"
            "  - count: -3\n"
            "    habits: {dance: 0.1}\n"
            "merchants:\n"
            "  - {channel: fax, arrivals: {every: 10min}}\n"
            "  - channel: pro\n"
            "    arrivals: {every: 10 parsecs}\n"
            "colour: blue\n"
            "expect: {transactions.VALIDATED: lots}\n")
    path = write(tmp_path, text)
    with pytest.raises(spec.ScenarioError) as caught:
        spec.load(path)
    assert [(p.line, p.path) for p in caught.value.problems] == [
        (2, "customers[0].count"), (3, "customers[0].habits"), (5, "merchants[0].channel"),
        (7, "merchants[1].arrivals.every"), (8, "colour"), (9, "expect.transactions.VALIDATED")]
    assert all(line.startswith(f"{path}:") for line in str(caught.value).splitlines())


def test_toml_mistakes_are_reported_all_at_once_without_lines(tmp_path: Path) -> None:
    text = ('[[customers]]\ncount = 2\n[[merchants]]\nchannel = "fax"\narrivals = { every = "5min" }\n'
            '[expect]\n"kit_errors.NO_ACTIVE_DEVISE" = 0\n')
    path = write(tmp_path, text, "essai.toml")
    with pytest.raises(spec.ScenarioError) as caught:
        spec.load(path)
    assert [line.split(": ")[:2] for line in str(caught.value).splitlines()] == [
        [str(path), "merchants[0].channel"], [str(path), "expect.kit_errors.NO_ACTIVE_DEVISE"]]


def test_cli_prints_every_mistake_and_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, MINIMAL + "expect:\n  transaction_endings.REJECTED_TIMOUT: 0\n"
                                     "  kit_errors.NO_ACTIVE_DEVISE: 0\n  kit_errors.NO_ACTIVE_DEVISE: 1\n")
    assert main(["simulate", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "Traceback" not in captured.err
    assert captured.err.splitlines()[0] == "ancv-sandbox simulate: 3 mistakes, nothing was run:"
    assert [line.split(": ")[0:2] for line in captured.err.splitlines()[1:]] == [
        [f"{path}:6", "expect.transaction_endings.REJECTED_TIMOUT"], [f"{path}:7", "expect.kit_errors.NO_ACTIVE_DEVISE"],
        [f"{path}:8", "expect.kit_errors.NO_ACTIVE_DEVISE"]]
    assert "did you mean REJECTED_TIMEOUT?" in captured.err and "duplicate key" in captured.err
