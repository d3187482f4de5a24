"""The cahier de recette's reports (issue 17, item 4), rendered from campaign dicts shaped like the contract:
the HTML page a person reads (French verdicts, escaped text, evidence) and the JUnit XML a CI system parses."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from sandbox.web.recette_report import report_html, report_junit


def text(fr: str, en: str | None = None) -> dict[str, str]:
    return {"fr": fr, "en": en or fr}


def case(case_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": case_id, "title": text(f"Titre {case_id}", f"Title {case_id}"), "kitSections": ["4.5.1", "5.1"],
        "instructions": text("Créez une transaction."), "arranged": text("Un bénéficiaire qui paie."),
        "status": status, "reasons": [], "checks": [text("Création scellée") | {"ok": status == "passed"}],
        "identifiers": {"shopId": 10004321, "keyVersion": "version-1234", "beneficiaryId": "1234567890123",
                        "beneficiaryEmail": "cas@example.fr"},
        "evidence": {"requests": [], "webhooks": [], "transactions": [], "preTransactions": [], "sftp": [],
                     "declarations": []},
    } | extra


def campaign(*cases: dict[str, Any], status: str = "failed") -> dict[str, Any]:
    counts = {name: sum(1 for c in cases if c["status"] == name)
              for name in ("passed", "failed", "running", "waiting", "not_played")}
    return {
        "id": "rc-7", "holder": {"kind": "shop", "id": 10000065, "name": "Hôtel <du Lac> & Spa"},
        "status": status, "ended": True, "createdAt": "2026-07-04T09:00:00.000Z",
        "endedAt": "2026-07-04T09:30:05.000Z", "seed": 42, "sandboxVersion": "0.9.0",
        "clock": {"mode": "virtual", "speed": 1.0}, "timeScale": None,
        "summary": {"total": len(cases), **counts}, "cases": list(cases),
    }


FAILED = case("webhook-retry", "failed",
              reasons=[text("La returnUrl a répondu 500 aux 5 tentatives", "the returnUrl answered 500 on all 5 attempts"),
                       text("L'état n'a pas été relu", "the state was never read")],
              evidence={"requests": [{"id": "r12", "at": "2026-07-04T09:01:02.000Z", "method": "POST",
                                      "path": "/acquisition/api/public/v1/payment-transactions", "status": 201,
                                      "errorCode": None, "seal": "ok", "https": False,
                                      "operation": "createTransaction"}],
                        "webhooks": [{"id": 3, "url": "http://shop.example/return?a=1&b=<2>", "kind": "returnUrl",
                                      "state": "failed", "attempts": [{"at": "2026-07-04T09:01:10.000Z", "status": 500},
                                                                     {"status": None, "error": "timed out"}]}],
                        "transactions": [{"id": "tx-1", "state": "VALIDATED", "subState": None, "amount": 4000,
                                          "authorized": 2500}],
                        "preTransactions": [], "declarations": [{"at": "2026-07-04T09:02:00.000Z",
                                                                 "transactionId": "tx-1", "amountPaid": 2000}],
                        "sftp": [{"at": "2026-07-04T09:03:00.000Z", "username": "10004321", "action": "download",
                                  "path": "/DLO_20260704.csv"}]})
ALL = [case("immediate-payment", "passed"), FAILED, case("refused-timeout", "waiting"),
       case("deferred-capture", "running"), case("https", "not_played")]


def test_the_html_report_shows_every_verdict_in_french_with_the_campaigns_facts():
    page = report_html(campaign(*ALL))
    for status, verdict in (("passed", "Réussi"), ("failed", "Échoué"), ("waiting", "En attente"),
                            ("running", "En cours"), ("not_played", "Non joué")):
        assert f'<span class="badge verdict {status}">{verdict}</span>' in page
    assert "Cahier de recette rc-7" in page and "point d&#39;accueil 10000065" in page
    assert "0.9.0" in page and "Graine" in page and "04/07/2026 à 11:00:00" in page  # Paris time, summer
    assert "Kit §4.5.1, Kit §5.1" in page
    assert "La returnUrl a répondu 500 aux 5 tentatives" in page and "the returnUrl answered" not in page
    assert '<span class="mark">✓</span>Création scellée' in page and '<span class="mark">✗</span>Création scellée' in page


def test_the_html_report_shows_the_evidence_tables():
    page = report_html(campaign(FAILED))
    assert "<code>r12</code>" in page and "/acquisition/api/public/v1/payment-transactions" in page
    assert "04/07/2026 à 11:01:10 → 500 · échec (timed out)" in page  # the webhook's attempts
    assert "40,00\u00a0€" in page and "25,00\u00a0€" in page and "20,00\u00a0€" in page
    assert "/DLO_20260704.csv" in page and "download" in page


def test_the_html_report_escapes_what_it_shows_and_needs_nothing_external():
    hostile = case("x", "failed", title=text("<script>alert(1)</script>"),
                   reasons=[text("<img src=x onerror=alert(2)>")])
    page = report_html(campaign(hostile))
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "Hôtel &lt;du Lac&gt; &amp; Spa" in page
    assert "<link" not in page and "<script" not in page and "http://" not in page.replace("http://shop", "")


def test_the_junit_report_counts_failures_and_skipped_cases():
    root = ET.fromstring(report_junit(campaign(*ALL)))
    assert root.tag == "testsuite" and root.get("name") == "cahier-de-recette rc-7"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("5", "1", "3")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {f"{c['id']}: Title {c['id']}" for c in ALL}
    assert {c.get("classname") for c in cases.values()} == {"recette.shop"}
    failure = cases["webhook-retry: Title webhook-retry"].find("failure")
    assert failure.get("message") == "the returnUrl answered 500 on all 5 attempts"
    assert failure.text == "the returnUrl answered 500 on all 5 attempts\nthe state was never read"
    assert cases["immediate-payment: Title immediate-payment"].find("*") is None
    for skipped in ("refused-timeout", "deferred-capture", "https"):
        assert cases[f"{skipped}: Title {skipped}"].find("skipped") is not None


def test_the_junit_report_stays_well_formed_whatever_the_texts_hold():
    hostile = case("x", "failed", title=text("t", "a <b> & \"c\""), reasons=[text("r", "]]> & <oops>")])
    root = ET.fromstring(report_junit(campaign(hostile) | {"holder": {"kind": "provider", "id": 2, "name": "P"}}))
    testcase = root.find("testcase")
    assert testcase.get("name") == 'x: a <b> & "c"' and testcase.get("classname") == "recette.provider"
    assert testcase.find("failure").get("message") == "]]> & <oops>"
