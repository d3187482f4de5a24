"""`ancv-sandbox recette start|status|report` against a real server (issue 17, item 3): what a CI job sees,
above all its exit code (0 only when every case passed, 1 otherwise, 2 on usage or connection errors)."""

import json
import xml.etree.ElementTree as ET

import pytest

from sandbox.cli import main
from tests.recette_play import play_immediate_payment


def start(capsys, base, *options):
    assert main(["recette", "start", "--url", base, *options]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_campaign_not_played_fails_in_ci_and_its_reports_say_why(capsys, live_server, tmp_path):
    base, control, _, _ = live_server
    first_shop = control.fixtures()["pointsOfSale"][0]
    campaign = start(capsys, base)
    assert campaign["holder"]["kind"] == "shop" and campaign["holder"]["id"] == first_shop["shopId"]
    assert start(capsys, base)["holder"]["id"] == first_shop["shopId"]  # not a point of sale the first campaign made
    identifiers = next(case["identifiers"] for case in campaign["cases"] if case["id"] == "immediate-payment")
    assert {"shopId", "keyVersion", "beneficiaryId"} <= set(identifiers)

    assert main(["recette", "status", campaign["id"], "--url", base]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["waiting", campaign["cases"][0]["id"]]
    assert len(lines) == len(campaign["cases"]) + 1

    junit = tmp_path / "recette.xml"
    assert main(["recette", "report", campaign["id"], "--url", base, "--end", "--format", "xml",
                 "--output", str(junit)]) == 1
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == suite.get("skipped") == str(len(campaign["cases"]))
    assert main(["recette", "report", campaign["id"], "--url", base]) == 1
    assert "Non joué" in capsys.readouterr().out


def test_a_campaign_whose_every_case_passed_exits_0(capsys, live_server, receiver):
    base, control, _, _ = live_server
    holder = next(p for p in control.fixtures()["pointsOfSale"] if p["status"] == "ACTIVE")
    campaign = start(capsys, base, "--holder", f"shop:{holder['shopId']}", "--cases", "immediate-payment")
    assert [case["id"] for case in campaign["cases"]] == ["immediate-payment"]
    play_immediate_payment(base, control, holder["key"], campaign["cases"][0], receiver)

    assert main(["recette", "status", campaign["id"], "--url", base]) == 0
    assert capsys.readouterr().out.startswith("passed")
    assert main(["recette", "report", campaign["id"], "--url", base, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "passed"


def test_usage_and_connection_errors_exit_2_in_one_line(capsys, live_server):
    base, _, _, _ = live_server
    assert main(["recette", "status", "rc-404", "--url", base]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ancv-sandbox recette: 404") and len(err.splitlines()) == 1
    assert main(["recette", "start", "--url", base, "--holder", "shop:1"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
    assert main(["recette", "start", "--url", base, "--cases", "no-such-case"]) == 2
    assert "no-such-case" in capsys.readouterr().err
    assert main(["recette", "status", "rc-1", "--url", "http://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err == "ancv-sandbox recette: cannot reach http://127.0.0.1:9 (ConnectionError)\n"
    with pytest.raises(SystemExit) as usage:
        main(["recette", "start", "--url", base, "--holder", "someone"])
    assert usage.value.code == 2 and "shop:ID or provider:ID" in capsys.readouterr().err
