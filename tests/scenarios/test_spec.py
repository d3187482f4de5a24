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
