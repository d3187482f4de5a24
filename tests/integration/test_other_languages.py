"""Clients in other languages, run for real: the Postman collection under newman, the Java and
Node seal samples, each against a live sandbox (issue 15, item 6).

The slow test needs `node`, `npm` and `java` (Debian: nodejs, npm, default-jdk-headless;
`./dev test-clients` installs them); newman is installed by npm into .cache/npm, outside the
tracked files, at the version pinned below.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import serving

ROOT = Path(__file__).resolve().parents[2]
POSTMAN = ROOT / "docs" / "postman"
CLIENTS = ROOT / "docs" / "clients"
NEWMAN_VERSION = "6.2.2"
NPM_PREFIX = ROOT / ".cache" / "npm"
CHECK_SEAL = "mfy6VhbdyiErpfvQ3AvnKwU39W_ae9MfuaVurEg-KjE"  # SPEC §3's test vector
TIMEOUT_S = 180


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("postman_generate", POSTMAN / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_collection_and_environment_are_what_the_generator_writes():
    generate = _generator()
    document = yaml.safe_load(generate.OPENAPI.read_text(encoding="utf-8"))
    assert json.loads(generate.COLLECTION.read_text(encoding="utf-8")) == generate.collection(document), \
        "docs/postman is stale: run .venv/bin/python docs/postman/generate.py"
    assert json.loads(generate.ENVIRONMENT.read_text(encoding="utf-8")) == generate.environment(42)
    sealed = {op["operationId"] for op in generate.seal_table(document)}
    assert len(sealed) == 11 and "contactPreTransaction" in sealed


def _need(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (Debian: apt-get install nodejs npm default-jdk-headless, "
                    "or run ./dev test-clients)")


def _newman() -> Path:
    """newman at the pinned version, installed by npm into .cache/npm when missing."""
    binary = NPM_PREFIX / "node_modules" / ".bin" / "newman"
    installed = NPM_PREFIX / "node_modules" / "newman" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != NEWMAN_VERSION:
        subprocess.run(["npm", "install", "--prefix", str(NPM_PREFIX), "--no-audit", "--no-fund",
                        "--loglevel=error", f"newman@{NEWMAN_VERSION}"], check=True, timeout=TIMEOUT_S)
    return binary


def _run(command: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S)


@pytest.mark.slow
def test_newman_java_and_node_clients_pass_against_a_live_sandbox(tmp_path):
    _need("node", "npm", "java")
    newman = _newman()
    # The seal's check value first: a wrong seal function would fail every call below anyway,
    # but this says which language got it wrong.
    java = ["java", str(CLIENTS / "java" / "SealedCall.java")]
    node = ["node", str(CLIENTS / "node" / "sealed-call.js")]
    for command in (java, node):
        assert _run([*command, "--self-test"]).stdout.strip() == CHECK_SEAL, command[0]

    with serving(tmp_path, "--clock", "virtual", "--think-time", "1") as (base, control, _, _process):
        report = tmp_path / "newman.json"
        newman_run = _run([str(newman), "run", str(POSTMAN / "ancv-sandbox.postman_collection.json"),
                           "-e", str(POSTMAN / "ancv-sandbox.postman_environment.json"),
                           "--env-var", f"baseUrl={base}", "--reporters", "cli,json",
                           "--reporter-json-export", str(report), "--color", "off"])
        env = {v["key"]: v["value"] for v in
               json.loads((POSTMAN / "ancv-sandbox.postman_environment.json").read_text())["values"]}
        served = {str(p["shopId"]): p for p in control.fixtures()["pointsOfSale"]}[env["shopId"]]
        args = [base, env["shopId"], env["keyVersion"], env["key"]]
        samples = {"java": _run([*java, *args]), "node": _run([*node, *args])}
        wrong_key = _run([*node, base, env["shopId"], env["keyVersion"], "0" * 32])

    assert (served["keyVersion"], served["key"]) == (env["keyVersion"], env["key"])

    assert newman_run.returncode == 0, newman_run.stdout + newman_run.stderr
    run = json.loads(report.read_text())["run"]
    assert run["failures"] == [] and run["stats"]["assertions"]["failed"] == 0
    passed = {a["assertion"] for execution in run["executions"] for a in execution.get("assertions", [])
              if "error" not in a}
    assert run["stats"]["requests"]["total"] >= 25
    for expected in ("the point of sale is active", "transaction is VALIDATED", "transaction is AUTHORIZED",
                     "transaction is CANCELLED", "the wrong code rejects the payment", "preTransaction is USED",
                     "a PNG image with the payment URL", "preTransaction is ABORTED"):
        assert expected in passed, expected

    for language, result in samples.items():
        assert result.returncode == 0, f"{language}: {result.stdout}{result.stderr}"
        created, status = result.stdout.split("\n")[:2]
        assert created.startswith("created ") and created.endswith(" INITIALIZED"), (language, result.stdout)
        assert status == "status " + created.split()[1] + " INITIALIZED", (language, result.stdout)
    assert wrong_key.returncode == 1 and "INVALID_SEAL" in wrong_key.stderr
