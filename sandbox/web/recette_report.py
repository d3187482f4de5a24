"""The cahier de recette's reports (issue 17, item 4), rendered from the campaign JSON of the contract
(`services.recette.campaign_json`): a self-contained HTML page in French an integrator can hand over, and
JUnit XML for CI systems. Both read the dict only, so the routes, the CLI's tests and the dashboard render
the same campaign the same way; the French words for a verdict live here once (`VERDICTS`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jinja2

from ..domain.dates import parse_date
from ..domain.french import euros, french_moment

TEMPLATES = Path(__file__).parent / "templates"

# A case's status (the wire's words) → what a person reads, and the colour class pages give it.
VERDICTS = {"passed": "Réussi", "failed": "Échoué", "waiting": "En attente", "running": "En cours",
            "not_played": "Non joué"}
CAMPAIGN_STATUSES = {"running": "en cours", "passed": "réussie", "failed": "échouée"}
HOLDER_KINDS = {"shop": "point d'accueil", "provider": "prestataire de services"}
# JUnit has no "waiting": a case not judged yet is skipped, like one not played.
SKIPPED = frozenset({"waiting", "running", "not_played"})
SKIP_MESSAGES = {"waiting": "not played yet", "running": "still running", "not_played": "not played"}


def verdict(status: str) -> str:
    """A case's status as the pages show it (« Réussi », « Échoué »…)."""
    return VERDICTS.get(status, status)


def holder_label(holder: dict[str, Any]) -> str:
    """« point d'accueil 10000065 (Hôtel …) »."""
    name = f" ({holder['name']})" if holder.get("name") else ""
    return f"{HOLDER_KINDS.get(holder.get('kind', ''), holder.get('kind', ''))} {holder.get('id', '')}{name}"


def moment(text: str | None, seconds: bool = True) -> str:
    """A sandbox instant of the JSON (`2026-07-04T09:00:00.000Z`) in Paris time, or « — »."""
    if not text:
        return "—"
    try:
        return french_moment(parse_date(text), seconds=seconds)
    except ValueError:
        return text


def _attempt(attempt: dict[str, Any]) -> str:
    """« 500 », « échec (connection refused) », with the moment first when the JSON gives it."""
    answer = str(attempt["status"]) if attempt.get("status") is not None else f"échec ({attempt.get('error') or '?'})"
    return f"{moment(attempt['at'])} → {answer}" if attempt.get("at") else answer


def _amount(cents: Any) -> str:
    return euros(cents) if isinstance(cents, int) and not isinstance(cents, bool) else "—"


def report_model(campaign: dict[str, Any]) -> dict[str, Any]:
    """What the HTML report shows, every status already put into French (templates compare nothing)."""
    summary = campaign.get("summary", {})
    cases = []
    for case in campaign.get("cases", []):
        evidence = case.get("evidence") or {}
        cases.append({
            "id": case["id"],
            "title": case["title"]["fr"],
            "sections": ", ".join(f"Kit §{section}" for section in case.get("kitSections", [])),
            "verdict": verdict(case["status"]),
            "tone": case["status"],
            "instructions": case.get("instructions", {}).get("fr", ""),
            "arranged": case.get("arranged", {}).get("fr", ""),
            "reasons": [reason["fr"] for reason in case.get("reasons", [])],
            "checks": [{"text": check["fr"], "mark": "✓" if check["ok"] else "✗",
                        "tone": "ok" if check["ok"] else "ko"} for check in case.get("checks", [])],
            "identifiers": _identifiers(case.get("identifiers") or {}),
            "requests": [{**r, "at": moment(r.get("at")), "status": "(pas de réponse)" if r.get("status") is None
                          else r["status"]} for r in evidence.get("requests", [])],
            "webhooks": [{**w, "attempts": " · ".join(_attempt(a) for a in w.get("attempts", [])) or "aucune"}
                         for w in evidence.get("webhooks", [])],
            "transactions": [{**t, "amount": _amount(t.get("amount")), "authorized": _amount(t.get("authorized"))}
                             for t in evidence.get("transactions", [])],
            "preTransactions": evidence.get("preTransactions", []),
            "sftp": [{**s, "at": moment(s.get("at"))} for s in evidence.get("sftp", [])],
            "declarations": [{**d, "at": moment(d.get("at")), "amountPaid": _amount(d.get("amountPaid"))}
                             for d in evidence.get("declarations", [])],
        })
    clock = campaign.get("clock") or {}
    return {
        "id": campaign["id"],
        "holder": holder_label(campaign.get("holder", {})),
        "status": CAMPAIGN_STATUSES.get(campaign.get("status", ""), campaign.get("status", "")),
        "tone": campaign.get("status", ""),
        "created": moment(campaign.get("createdAt")),
        "ended": moment(campaign.get("endedAt")) if campaign.get("ended") else "non terminée",
        "version": campaign.get("sandboxVersion", ""),
        "seed": campaign.get("seed", ""),
        "clock": f"{'virtuelle' if clock.get('mode') == 'virtual' else 'réelle'}, vitesse × {clock.get('speed', 1)}",
        "timeScale": campaign.get("timeScale"),
        "summary": [(VERDICTS[status], summary.get(status, 0), status) for status in VERDICTS],
        "total": summary.get("total", len(cases)),
        "cases": cases,
    }


def _identifiers(identifiers: dict[str, Any]) -> list[tuple[str, Any]]:
    """The identifiers a case hands out, in French, without the SFTP password (a report is shown around)."""
    labels = [("shopId", "shopId"), ("keyVersion", "Version de clé"), ("serviceProviderId", "serviceProviderId"),
              ("beneficiaryId", "beneficiaryId"), ("beneficiaryEmail", "E-mail du bénéficiaire")]
    shown = [(label, identifiers[name]) for name, label in labels if identifiers.get(name) is not None]
    if identifiers.get("sftp"):
        shown.append(("Utilisateur SFTP", identifiers["sftp"].get("username", "")))
    return shown


def campaign_line(item: dict[str, Any]) -> dict[str, Any]:
    """One campaign of `GET /_sandbox/recette`'s list as the dashboard's table shows it."""
    summary = item.get("summary", {})
    return {"id": item["id"], "holder": holder_label(item.get("holder", {})), "created": moment(item.get("createdAt")),
            "status": CAMPAIGN_STATUSES.get(item.get("status", ""), item.get("status", "")),
            "passed": summary.get("passed", 0), "total": summary.get("total", 0)}


def report_html(campaign: dict[str, Any]) -> str:
    """The campaign as a self-contained HTML page in French (no external CSS, script or font)."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                     trim_blocks=True, lstrip_blocks=True)
    return environment.get_template("recette/report.html").render(report=report_model(campaign))


def report_junit(campaign: dict[str, Any]) -> str:
    """The campaign as JUnit XML: one testsuite, one testcase per case, failures and skipped cases marked."""
    cases = campaign.get("cases", [])
    failed = [case for case in cases if case["status"] == "failed"]
    skipped = [case for case in cases if case["status"] in SKIPPED]
    suite = ET.Element("testsuite", {
        "name": f"cahier-de-recette {campaign['id']}", "tests": str(len(cases)), "failures": str(len(failed)),
        "errors": "0", "skipped": str(len(skipped)), "timestamp": campaign.get("createdAt") or "",
    })
    properties = ET.SubElement(suite, "properties")
    holder = campaign.get("holder", {})
    for name, value in (("holder", f"{holder.get('kind', '')}:{holder.get('id', '')}"),
                        ("seed", campaign.get("seed")), ("sandboxVersion", campaign.get("sandboxVersion"))):
        ET.SubElement(properties, "property", {"name": name, "value": "" if value is None else str(value)})
    for case in cases:
        testcase = ET.SubElement(suite, "testcase", {
            "classname": f"recette.{holder.get('kind', '')}", "name": f"{case['id']}: {case['title']['en']}"})
        if case["status"] == "failed":
            reasons = [reason["en"] for reason in case.get("reasons", [])] or ["failed"]
            failure = ET.SubElement(testcase, "failure", {"message": reasons[0]})
            failure.text = "\n".join(reasons)
        elif case["status"] in SKIPPED:
            ET.SubElement(testcase, "skipped", {"message": SKIP_MESSAGES[case["status"]]})
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
