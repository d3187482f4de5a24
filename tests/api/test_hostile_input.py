"""Hostile input on every surface: never a 5xx, never a leak, nothing done that was not asked properly.

Scenario: someone who owns a browser, a Kit client or an SFTP client tries what attackers try: junk
`ANCV-Security` headers, junk query strings and form fields (odd Unicode, huge, missing, repeated), bodies
over the limit, path traversal on the journals, the static files and the SFTP space, password guessing,
forms posted without their CSRF token, another merchant's ids in the URL, a session cookie planted
before someone logs in.
Covers: issue 7 item 4 (hostile input). Kit bodies and ids are fuzzed in test_bad_input.py and through
the OpenAPI documents in test_schemathesis.py; the SFTP jail's basic rules in tests/integration/test_sftp.py.

Every answer is checked for leaks: no traceback, no file path of the sandbox, no sealing key or password.
Pages for people answer in French (`lang="fr"`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import asyncssh
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from sandbox.client import KIT_PATH
from sandbox.domain import seal
from sandbox.domain.sessions import MAX_OPEN_SESSIONS
from sandbox.services import merchant_accounts
from tests.conftest import run_async
from tests.integration.test_sftp import JOURNAL, MERCHANT, NEIGHBOUR, PASSWORD, Space
from tests.people import CSRF, Merchant, step1, step2

EXAMPLES = 40  # per generated property: bounded for CI
REPOSITORY = str(Path(__file__).resolve().parents[2])
LEAK_MARKERS = ("Traceback (most recent call last)", 'File "/', "site-packages", REPOSITORY, "sqlalchemy",
                "psycopg", "werkzeug.", "Werkzeug Debugger", "jinja2")
SESSION_EXPIRED = "Votre session a expiré."
SESSION_COOKIE = "ancv_sandbox_session"
# Events that record a change (what a refused request must not cause)
CHANGES = ("Transaction", "PreTransaction", "Beneficiary", "Merchant", "Reimbursement", "Settings", "Clock")
DAY_S = 86_400
PAID_BY_S = 7 * DAY_S + 6 * 3600  # a payment of the first day is reimbursed by then (test_reimbursements_page)
FAST = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

# Field values people should never type, and do.
ODD_VALUES = [
    "", " ", "\t", "\x00", "a\x00b", "²", "٣", "１２", "\u202eevil", "\u200b", "e\u0301", "😀" * 10, "ﬀ",
    "9" * 5000, "x" * 70_000, "-1", "0", "1e309", "NaN", "Infinity", "0x10", "1,5", "40,00 €", "40.00", "１,００",
    "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "%00", "%2e%2e%2f", "{{7*7}}", "${7*7}",
    "\r\nSet-Cookie: x=1", "a@b", "a\x00@b.fr", "client@example.fr", "10001001576", "10001001576\x00",
]
ODD_TEXT = st.one_of(st.sampled_from(ODD_VALUES),
                     st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
MISSING = object()


def form_values(fields: tuple[str, ...], fixed: dict[str, Any] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A form with each field missing, one odd value, or repeated; `fixed` fields as given."""
    value = st.one_of(st.just(MISSING), ODD_TEXT, st.lists(ODD_TEXT, min_size=2, max_size=3))
    return st.fixed_dictionaries({name: value for name in fields}).map(
        lambda drawn: {**{k: v for k, v in drawn.items() if v is not MISSING}, **(fixed or {})})


# --- what every answer must (not) be -------------------------------------------------------------------

def secrets_of(world: Any) -> list[str]:
    """What no answer to anybody may show: sealing keys, and the passwords of the portal, the app, SFTP."""
    fixtures = world.fixtures
    found = [holder["key"] for group in ("pointsOfSale", "serviceProviders") for holder in fixtures[group]]
    found += [p["password"] for p in fixtures["pointsOfSale"]] + [c["password"] for c in fixtures["conventions"]]
    found += [b["password"] for b in fixtures["beneficiaries"]]
    found += [a["password"] for a in world.transport.client.get("/_sandbox/sftp").json["accounts"]]
    return found


def assert_no_leak(reply: TestResponse, secrets: Sequence[str] = (), where: Any = "") -> None:
    text = reply.get_data(as_text=True) + " " + " ".join(f"{k}: {v}" for k, v in reply.headers.items())
    found = [marker for marker in (*LEAK_MARKERS, *secrets) if marker in text]
    assert not found, (where, reply.status_code, found)


def assert_french_page(reply: TestResponse, where: Any = "") -> None:
    assert reply.mimetype == "text/html", (where, reply.status_code, reply.mimetype)
    assert re.search(r'<html lang="?fr', reply.get_data(as_text=True)), (where, reply.status_code)


def assert_sane(reply: TestResponse, secrets: list[str], where: Any = "", statuses: tuple[int, ...] = ()) -> None:
    """Not a 5xx, a French page (or a redirect), no leak; one of `statuses` when given."""
    assert reply.status_code < 500, (where, reply.status_code, reply.get_data(as_text=True)[:300])
    if statuses:
        assert reply.status_code in statuses, (where, reply.status_code, reply.get_data(as_text=True)[:300])
    if reply.status_code not in (301, 302, 303) and reply.mimetype == "text/html" and reply.get_data():
        assert_french_page(reply, where)
    assert_no_leak(reply, secrets, where)


def page(reply: TestResponse) -> str:
    return html.unescape(reply.get_data(as_text=True))


def last_seq(world: Any) -> int:
    events = world.control.events()
    return events[-1]["seq"] if events else 0


def changes_since(world: Any, seq: int) -> list[str]:
    return [e["type"] for e in world.control.events(after=seq) if e["type"].startswith(CHANGES)]


def token_of(client: Any, path: str) -> str:
    match = CSRF.search(client.get(path).get_data(as_text=True))
    assert match, path
    return match.group(1)


@pytest.fixture
def secrets(world: Any) -> list[str]:
    return secrets_of(world)


# --- people at their browsers -------------------------------------------------------------------------

class Phone:
    """The App' Chèque-Vacances in a browser (Flask's test client, cookies kept)."""

    def __init__(self, world: Any, ben: dict[str, Any] | None = None) -> None:
        self.client = world.app.test_client()
        if ben is not None:
            assert self.log_in(ben["beneficiaryId"], ben["password"]).status_code == 302

    def get(self, path: str, **query: Any) -> TestResponse:
        return self.client.get("/app" + path, query_string=query)

    def post(self, path: str, **form: Any) -> TestResponse:
        return self.client.post("/app" + path, data={"csrf_token": token_of(self.client, "/app/connexion"), **form})

    def log_in(self, login: str, password: str) -> TestResponse:
        return self.post("/connexion", login=login, password=password)


class ProPhone:
    """The App' Chèque-Vacances Pro in a browser."""

    def __init__(self, world: Any, shop: dict[str, Any]) -> None:
        self.client = world.app.test_client()
        assert self.post("/connexion", login=shop["login"], password=shop["password"]).status_code == 302

    def get(self, path: str, **query: Any) -> TestResponse:
        return self.client.get("/pro" + path, query_string=query)

    def post(self, path: str, **form: Any) -> TestResponse:
        return self.client.post("/pro" + path, data={"csrf_token": token_of(self.client, "/pro/connexion"), **form})


def pro_request(phone: ProPhone, order_id: str = "PRO-1", amount: str = "20") -> str:
    reply = phone.post("/paiement", amount=amount, order_id=order_id)
    assert reply.status_code == 302, page(reply)
    return reply.headers["Location"].rsplit("/", 1)[1]


# --- the ANCV-Security header ----------------------------------------------------------------------------

LATIN_1 = st.characters(min_codepoint=0x20, max_codepoint=0xFF)  # what an HTTP header can carry


def header_values(world: Any) -> st.SearchStrategy[str]:
    kit, other = world.kit(0), world.kit(1)
    versions = st.sampled_from([kit.key_version, other.key_version, "", " ", "v1", "0" * 10_000,
                                kit.key_version + "\x7f", kit.key_version.upper()])
    seals = st.one_of(st.text(LATIN_1, max_size=60),
                      st.sampled_from(["", "=", "====", seal.compute_seal(kit.key, ["x"]),
                                       seal.compute_seal(other.key, ["x"]) + "==", "A" * 200_000]),
                      st.binary(min_size=32, max_size=32).map(lambda b: b.hex()))
    structured = st.builds(lambda a, v, s: f"{a}.{v}.{s}",
                           st.sampled_from(["HmacSHA256", "hmacsha256", "HmacSHA1", "HMACSHA256", "", " HmacSHA256"]),
                           versions, seals)
    return st.one_of(structured, st.text(LATIN_1, max_size=300),
                     st.binary(max_size=300).map(lambda b: b.decode("latin-1")).filter(lambda t: t.isprintable()),
                     st.integers(1000, 300_000).map(lambda n: f"HmacSHA256.{kit.key_version}." + "A" * n),
                     st.lists(st.sampled_from([".", "..", "HmacSHA256", kit.key_version]), max_size=50).map("".join))


def test_generated_ancv_security_headers_are_invalid_seals_and_change_nothing(world: Any, secrets: list[str]) -> None:
    """Kit §5.3, §6.3: whatever the header holds (junk, bytes, other versions, 300 kB), a 403 INVALID_SEAL."""
    kit = world.kit()
    tx = kit.create_transaction("seal-fuzz", "1", 4000).body["transaction"]["id"]
    body = {"merchant": {"shopId": kit.shop_id}, "order": {"id": "fuzz", "paymentId": "1",
                                                           "amount": {"total": 4000, "currency": "978"}},
            "paymentMethod": {"captureMode": "NORMAL", "tspdMode": "001"}}
    client = world.transport.client
    seq = last_seq(world)

    @FAST
    @given(header=header_values(world), call=st.sampled_from(["create", "read", "cancel", "shop"]))
    def check(header: str, call: str) -> None:
        headers = {"ANCV-Security": header}
        if call == "create":
            reply = client.post(KIT_PATH + "/payment-transactions", json=body, headers=headers)
        elif call == "read":
            reply = client.get(f"{KIT_PATH}/payment-transactions/{tx}", headers=headers)
        elif call == "cancel":
            reply = client.post(f"{KIT_PATH}/payment-transactions/{tx}/cancellation", json={"reason": "OTHER"},
                                headers=headers)
        else:
            reply = client.get(f"{KIT_PATH}/point-of-sales/{kit.shop_id}", headers=headers)
        assert (reply.status_code, reply.json) == (403, {"errorCode": "INVALID_SEAL",
                                                         "errorMessage": "The seal is invalid"}), (call, header[:80])
        assert_no_leak(reply, secrets, header[:80])

    check()
    assert changes_since(world, seq) == []


# --- query strings ---------------------------------------------------------------------------------------

QUERY_KEYS = st.one_of(st.sampled_from(["from", "to", "status", "kind", "order", "n", "after", "serviceProviderId",
                                        "shopId", "csrf_token", "", "from[]", "__proto__"]),
                       st.text(st.characters(exclude_categories=("Cs",)), max_size=8))
RAW_PIECES = ["%", "%zz", "%ff%fe", "%00", "&&", "==", "=%", "a=1&a=2&a=3", "%C0%AE%C0%AE", "+", ";", "#x"]


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    """Encoded pairs (odd values, repeated keys) and raw, malformed percent sequences."""
    pairs = draw(st.lists(st.tuples(QUERY_KEYS, ODD_TEXT), max_size=6))
    parts = [f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs]
    parts += draw(st.lists(st.sampled_from(RAW_PIECES), max_size=3))
    return "&".join(draw(st.permutations(parts)))


def test_generated_query_strings_never_break_a_page(world: Any, secrets: list[str]) -> None:
    """Every page that reads its query string, and some that do not: French pages or JSON, never a 5xx."""
    world.paid_transaction()
    merchant = Merchant(world, world.shop())
    pro = ProPhone(world, world.shop())
    phone = Phone(world, world.beneficiary("manual"))
    kit = world.kit()
    tx = kit.create_transaction("query-fuzz", "1", 4000).body["transaction"]["id"]
    sealed = {"ANCV-Security": seal.security_header(kit.key_version, kit.key, [tx])}
    people = [(merchant.client, "/espace-ptl/encaissement"), (merchant.client, "/espace-ptl/encaissement/export.csv"),
              (merchant.client, "/espace-ptl/encaissement/export.xlsx"), (merchant.client, "/espace-ptl/remboursements"),
              (merchant.client, "/espace-ptl/connexion"), (pro.client, "/pro/operations"),
              (phone.client, "/app/historique"), (phone.client, "/app/accueil")]
    # The dashboard and the control plane show the demo's credentials on purpose: no secrets check there.
    admin = [(world.transport.client, path) for path in ("/", "/_sandbox/events", "/_sandbox/mail",
                                                          "/_sandbox/journals", "/openapi/kit-api.json")]
    kit_calls = [(f"{KIT_PATH}/payment-transactions/{tx}", sealed), (f"{KIT_PATH}/point-of-sales/{kit.shop_id}", {})]
    targets = [(c, p, {}, secrets) for c, p in people] + [(c, p, {}, []) for c, p in admin] \
        + [(world.transport.client, p, h, secrets) for p, h in kit_calls]

    @FAST
    @given(target=st.sampled_from(targets), query=query_strings())
    def check(target: tuple[Any, str, dict[str, str], list[str]], query: str) -> None:
        client, path, headers, hidden = target
        reply = client.get(path, query_string=query, headers=headers)
        assert reply.status_code in (200, 400, 403, 404), (path, query[:100], reply.status_code)
        if path.startswith(("/_sandbox/e", "/_sandbox/j", "/openapi", KIT_PATH)):
            assert reply.mimetype == "application/json", (path, reply.mimetype)
        assert_sane(reply, hidden, (path, query[:100]))

    check()


# --- forms ---------------------------------------------------------------------------------------------

def check_form(post: Callable[[dict[str, Any]], TestResponse], fields: tuple[str, ...], statuses: tuple[int, ...],
               secrets: list[str], fixed: dict[str, Any] | None = None, examples: int = EXAMPLES) -> None:
    """`post` generated forms: each answer one of `statuses` (or 413 for a form over 256 KiB), sane."""
    @settings(FAST, max_examples=examples)
    @given(form=form_values(fields, fixed))
    def check(form: dict[str, Any]) -> None:
        assert_sane(post(form), secrets, {k: str(v)[:40] for k, v in form.items()}, (*statuses, 413))

    check()


def test_generated_login_forms_are_refused_in_french(world: Any, secrets: list[str]) -> None:
    """Espace dédié, App' Pro, App': odd, huge, missing or repeated credentials are a French 400/401."""
    for path, inside in (("/espace-ptl/connexion", "/espace-ptl/mon-compte"), ("/pro/connexion", "/pro/operations"),
                         ("/app/connexion", "/app/accueil")):
        client = world.app.test_client()
        token = token_of(client, path)
        check_form(lambda form, c=client, p=path, t=token: c.post(p, data={**form, "csrf_token": t}),
                   ("login", "password"), (400, 401), secrets)
        assert client.get(inside).status_code == 302, path  # still nobody logged in


def test_generated_password_forms_are_refused_in_french(world: Any, secrets: list[str]) -> None:
    """Mot de passe oublié and the reset link's form: odd input is a French answer, nothing changes."""
    client = world.app.test_client()
    token = token_of(client, "/espace-ptl/connexion")
    check_form(lambda form: client.post("/espace-ptl/mot-de-passe-oublie", data={**form, "csrf_token": token}),
               ("login",), (200, 400), secrets)
    check_form(lambda form: client.post("/espace-ptl/mot-de-passe/" + quote(str(form.pop("token", "x")), safe=""),
                                        data={**form, "csrf_token": token}),
               ("token", "password", "confirm"), (400, 404, 410), secrets)  # 410: no such link


def test_generated_encaisser_wizard_fields_are_field_errors_in_french(world: Any, secrets: list[str]) -> None:
    """ENCAISSER steps 1 and 2 (SPEC §8): odd values are a French 400 next to the field, or a valid step."""
    merchant = Merchant(world, world.shop())
    token = token_of(merchant.client, "/espace-ptl/encaisser")

    def post(path: str) -> Callable[[dict[str, Any]], TestResponse]:
        return lambda form: merchant.client.post("/espace-ptl" + path, data={**form, "csrf_token": token})

    check_form(post("/encaisser"), ("timing", "payment_days", "validation", "validation_days", "email", "remember"),
               (302, 400), secrets)
    for timing in ("immediat", "differe"):
        assert step1(merchant, timing=timing, payment_days="3").status_code == 302
        check_form(post("/encaisser/demande"), ("amount", "order_id", "mode", "client", "label", "customer_ref",
                                                "assistant"), (302, 400), secrets)
        assert merchant.post("/encaisser/confirmation").status_code in (302, 400)


def test_generated_operation_forms_are_refused_in_french(world: Any, secrets: list[str]) -> None:
    """Validating a pre-booking, cancelling, choosing a point d'accueil, the App' Pro's payment form."""
    kit = world.kit()
    booked = world.paid_transaction(kit=kit, capture_mode="DEFERRED", capture_date=world.later(days=2))["id"]
    merchant = Merchant(world, world.shop())
    token = token_of(merchant.client, "/espace-ptl/connexion")
    base = f"/espace-ptl/encaissement/operations/{booked}"
    check_form(lambda form: merchant.client.post(base + "/valider", data={**form, "csrf_token": token}),
               ("amount",), (302, 400), secrets, examples=20)
    check_form(lambda form: merchant.client.post(base + "/annuler", data={**form, "csrf_token": token}),
               ("confirm",), (302, 400), secrets, examples=10)
    admin = next(c for c in world.fixtures["conventions"] if len(c["shopIds"]) > 1)
    signatory = Merchant(world, {"login": admin["conventionId"], "password": admin["password"]})
    admin_token = token_of(signatory.client, "/espace-ptl/point-d-accueil")
    check_form(lambda form: signatory.client.post("/espace-ptl/point-d-accueil",
                                                  data={**form, "csrf_token": admin_token}),
               ("shop_id",), (302, 400), secrets, examples=20)
    pro = ProPhone(world, world.shop())
    pro_token = token_of(pro.client, "/pro/paiement")
    check_form(lambda form: pro.client.post("/pro/paiement", data={**form, "csrf_token": pro_token}),
               ("amount", "order_id", "label", "customer_ref", "assistant"), (302, 400), secrets)


def test_generated_app_forms_are_refused_in_french(world: Any, secrets: list[str]) -> None:
    """App': the pasted payment address, the amount and the personal code, whatever is typed."""
    ben = world.beneficiary("manual")
    phone = Phone(world, ben)
    token = token_of(phone.client, "/app/scanner")
    check_form(lambda form: phone.client.post("/app/scanner", data={**form, "csrf_token": token}),
               ("url",), (302, 400, 404, 409, 412), secrets)
    kit = world.kit()
    tx = kit.create_transaction("app-fuzz", "1", 4000).body["transaction"]["id"]
    assert kit.set_payer(tx, ben["beneficiaryId"]).status == 202
    check_form(lambda form: phone.client.post(f"/app/paiement/{tx}/montant", data={**form, "csrf_token": token}),
               ("amount",), (302, 400, 403, 412), secrets)
    check_form(lambda form: phone.client.post(f"/app/paiement/{tx}/code", data={**form, "csrf_token": token}),
               ("pin",), (302, 400, 403), secrets)


# --- bodies over the limit ---------------------------------------------------------------------------

OVERSIZE = "x" * (300 * 1024)


def test_an_oversize_form_is_refused_in_french_before_anything_is_read(world: Any, secrets: list[str]) -> None:
    """256 KiB at most: a larger form (urlencoded or multipart) is a French 413, and is not processed."""
    shop, ben = world.shop(), world.beneficiary("manual")
    merchant = Merchant(world, shop)
    phone = Phone(world, ben)
    pro = ProPhone(world, shop)
    seq = last_seq(world)
    posts = [
        (world.app.test_client(), "/espace-ptl/connexion", {"login": shop["login"], "password": OVERSIZE}),
        (world.app.test_client(), "/pro/connexion", {"login": shop["login"], "password": OVERSIZE}),
        (world.app.test_client(), "/app/connexion", {"login": ben["beneficiaryId"], "password": OVERSIZE}),
        (merchant.client, "/espace-ptl/encaisser", {"timing": "immediat", "email": OVERSIZE}),
        (merchant.client, "/espace-ptl/mot-de-passe-oublie", {"login": OVERSIZE}),
        (pro.client, "/pro/paiement", {"amount": "20", "order_id": "BIG", "label": OVERSIZE}),
        (phone.client, "/app/paiement/abcdefghij/code", {"pin": OVERSIZE}),
        (world.app.test_client(), "/horloge", {"seconds": OVERSIZE}),
    ]
    for client, path, form in posts:
        token = token_of(client, "/espace-ptl/connexion")
        for content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            reply = client.post(path, data={**form, "csrf_token": token}, content_type=content_type)
            assert reply.status_code == 413, (path, content_type, reply.status_code)
            assert "Requête trop volumineuse" in page(reply)
            assert_sane(reply, secrets, path)
    assert changes_since(world, seq) == []
    assert Merchant(world, shop).get("/mon-compte").status_code == 200  # no wrong password was counted


def test_an_oversize_control_plane_body_is_a_json_bad_request(world: Any) -> None:
    """SPEC §9: the control plane answers JSON, over the limit too."""
    reply = world.transport.client.post("/_sandbox/population", data='{"seed": 1, "pad": "' + OVERSIZE + '"}',
                                        content_type="application/json")
    assert (reply.status_code, reply.json["errorCode"]) == (400, "BAD_REQUEST")


# --- path traversal --------------------------------------------------------------------------------------

def traversals(name: str) -> list[str]:
    return [
        "..", "%2e%2e", ".%2e", "..%2F..%2F..%2Fetc%2Fpasswd", "..%5C..%5Cetc%5Cpasswd", "%2F%2Fetc%2Fpasswd",
        "..%252F..%252Fetc%252Fpasswd", "%c0%ae%c0%ae%c0%afetc%c0%afpasswd", "etc%2Fpasswd%00", "%00",
        f"{name}%00", f"{name}%00.txt", f".%2F{name}", f"..%2Fjournals%2F{name}", f"{name}%2F..",
        f"{name}%2F", f"{name}.", f"{name}%20", quote(name.lower()), "%E2%80%AE" + name, "a" * 5000,
        "..%2F..%2F..%2F..%2F..%2F..%2F" + quote(REPOSITORY.lstrip("/"), safe="") + "%2Fpyproject.toml",
    ]


def test_path_traversal_on_the_journals_finds_nothing(world: Any, secrets: list[str]) -> None:
    """`GET /_sandbox/journals/{name}` names a journal of the store, never a file: 404 JSON, never content."""
    world.paid_transaction()
    world.advance(DAY_S)  # the night's journals
    journals = world.control._call("GET", "/journals")
    assert journals, "a journal to aim at"
    name = journals[0]["name"]
    client = world.transport.client
    assert client.get(f"/_sandbox/journals/{name}").status_code == 200
    for odd in traversals(name):
        reply = client.get(f"/_sandbox/journals/{odd}")
        assert reply.status_code == 404 and reply.mimetype == "application/json", (odd, reply.status_code)
        assert reply.json["errorCode"] in ("JOURNAL_NOT_FOUND", "NOT_FOUND"), odd
        assert_no_leak(reply, secrets, odd)


def test_path_traversal_on_static_files_and_documents_finds_nothing(world: Any, secrets: list[str]) -> None:
    """/static and /openapi serve their own files only: 404, never the sandbox's code or configuration."""
    client = world.transport.client
    assert client.get("/static/ancv.css").status_code == 200
    for prefix in ("/static/", "/openapi/"):
        climbing = [odd for odd in traversals("ancv.css") if "ancv.css" not in odd]  # ./ancv.css is ancv.css
        for odd in climbing + ["..%2Fapp.py", "..%2F..%2Fweb%2Fapp.py", "..%2Fopenapi%2Fkit-api.yaml"]:
            reply = client.get(prefix + odd)
            if reply.status_code == 308:  # Werkzeug merges repeated slashes: a redirect to the same folder
                target = urlsplit(reply.headers["Location"]).path
                assert target.startswith(prefix), (prefix + odd, target)
                reply = client.get(target)
            assert reply.status_code == 404, (prefix + odd, reply.status_code)
            body = reply.get_data(as_text=True)
            assert "create_app" not in body and "[project]" not in body and "root:" not in body, prefix + odd
            assert_no_leak(reply, secrets, prefix + odd)


@pytest.fixture
def sftp_space(tmp_path: Path) -> Iterator[Space]:
    space = Space(tmp_path / "sftp")
    space.server.start()
    try:
        yield space
    finally:
        space.server.stop()


HOSTILE_SFTP_PATHS = [
    b"/upload/operations_journal/\x00", b"/upload/\x00/../../..", b"/upload/operations_journal/" + JOURNAL.encode()
    + b"\x00.txt", b"..\\..\\..\\etc\\passwd", b"/upload/%2e%2e/%2e%2e/etc/passwd", b"/upload/\xff\xfe\xc0\xae",
    b"/upload/" + b"a" * 5000, b"/" + b"../" * 200 + b"etc/passwd", b"/upload/" + NEIGHBOUR.encode(),
    b"//" + NEIGHBOUR.encode() + b"//upload", b"/upload/./../../" + NEIGHBOUR.encode(),
]


def test_hostile_sftp_paths_are_refused_and_the_server_goes_on(sftp_space: Space) -> None:
    """Kit §5.2.4: NUL bytes, bytes that are no UTF-8, backslashes, encoded dots, 5000-byte names:
    an SFTP error each time, nothing outside the account, and the session and the server go on."""
    sftp_space.drop(MERCHANT)
    sftp_space.drop(NEIGHBOUR, "NEIGHBOUR.csv")

    async def scenario() -> list[str]:
        refusals = []
        async with sftp_space.session() as sftp:
            for path in HOSTILE_SFTP_PATHS:
                for attempt in (sftp.stat, sftp.listdir, lambda p: sftp.get(p, "/dev/null"), sftp.remove):
                    try:
                        found = await attempt(path)
                    except (asyncssh.SFTPError, OSError) as error:
                        refusals.append(type(error).__name__)
                        continue
                    assert "NEIGHBOUR.csv" not in repr(found) and "passwd" not in repr(found), (path, found)
            async with sftp.open(f"/upload/operations_journal/{JOURNAL}") as file:  # the same session goes on
                assert await file.read()
        return refusals

    assert run_async(scenario())
    assert (sftp_space.root / NEIGHBOUR / "upload" / "operations_journal" / "NEIGHBOUR.csv").exists()

    async def again() -> list[str]:
        async with sftp_space.session(MERCHANT, PASSWORD) as sftp:
            return await sftp.listdir("/upload/operations_journal")

    assert JOURNAL in run_async(again())  # and the server takes new sessions


# --- guessing passwords --------------------------------------------------------------------------------

def test_wrong_passwords_in_the_pro_app_lock_the_account_in_the_espace_dedie_too(world: Any) -> None:
    """SPEC §8: one account behind both doors; the 3rd wrong password in a row, through either, locks it."""
    shop = world.shop()
    pro = world.app.test_client()
    token = token_of(pro, "/pro/connexion")
    for _ in range(3):
        reply = pro.post("/pro/connexion", data={"csrf_token": token, "login": shop["login"], "password": "nope"})
        assert reply.status_code == 401
    assert "bloqué" in page(reply)
    portal = world.app.test_client()
    reply = portal.post("/espace-ptl/connexion", data={"csrf_token": token_of(portal, "/espace-ptl/connexion"),
                                                       "login": shop["login"], "password": shop["password"]})
    assert reply.status_code == 401 and "Votre compte est bloqué" in page(reply)
    assert portal.get("/espace-ptl/mon-compte").status_code == 302


def test_a_locked_merchant_already_logged_in_elsewhere_is_sent_back_to_the_login(world: Any) -> None:
    """A lock takes effect at once: a browser logged in before the lock is logged out at its next page."""
    shop = world.shop()
    merchant = Merchant(world, shop)
    attacker = world.app.test_client()
    token = token_of(attacker, "/espace-ptl/connexion")
    for _ in range(3):
        attacker.post("/espace-ptl/connexion", data={"csrf_token": token, "login": shop["login"], "password": "x"})
    assert merchant.get("/encaissement").headers["Location"].endswith("/espace-ptl/connexion")


def test_the_third_wrong_password_in_a_row_locks_the_app_login(world: Any) -> None:
    """App': as the Espace dédié, the 3rd wrong password locks; even the right one is refused meanwhile."""
    ben = world.beneficiary("manual")
    phone = Phone(world)
    for count in range(1, 3):
        reply = phone.log_in(ben["beneficiaryId"], f"wrong-{count}")
        assert reply.status_code == 401 and "Identifiant ou mot de passe incorrect." in page(reply)
    reply = phone.log_in(ben["email"], "wrong-3")
    assert reply.status_code == 401
    assert "Votre compte est bloqué après 3 mots de passe erronés. Réessayez dans 15 minutes." in page(reply)
    reply = phone.log_in(ben["beneficiaryId"], ben["password"])
    assert reply.status_code == 401 and "bloqué" in page(reply)
    assert phone.get("/accueil").status_code == 302
    assert [e["type"] for e in world.events() if e["ref"] == ben["beneficiaryId"]][-1] == "BeneficiaryLoginLocked"
    other = world.beneficiary("manual", 1)
    assert Phone(world).log_in(other["beneficiaryId"], other["password"]).status_code == 302  # only that account


def test_the_app_login_unlocks_after_fifteen_minutes(world: Any) -> None:
    ben = world.beneficiary("manual")
    phone = Phone(world)
    for _ in range(3):
        phone.log_in(ben["beneficiaryId"], "nope")
    world.advance(14 * 60)
    assert phone.log_in(ben["beneficiaryId"], ben["password"]).status_code == 401
    world.advance(60)
    assert phone.log_in(ben["beneficiaryId"], ben["password"]).status_code == 302
    assert phone.get("/accueil").status_code == 200


def test_the_control_planes_unblock_unlocks_the_app_login(world: Any) -> None:
    """SPEC §9: `POST /_sandbox/beneficiaries/{id}/unblock`, which unblocks devices, unlocks the login too."""
    ben = world.beneficiary("manual")
    phone = Phone(world)
    for _ in range(3):
        phone.log_in(ben["beneficiaryId"], "nope")
    world.control.unblock(ben["beneficiaryId"])
    assert phone.log_in(ben["beneficiaryId"], ben["password"]).status_code == 302


def test_a_right_password_clears_the_count_of_wrong_ones(world: Any) -> None:
    ben = world.beneficiary("manual")
    for _ in range(2):
        Phone(world).log_in(ben["beneficiaryId"], "nope")
    assert Phone(world).log_in(ben["beneficiaryId"], ben["password"]).status_code == 302
    for _ in range(2):
        Phone(world).log_in(ben["beneficiaryId"], "nope")
    assert Phone(world).log_in(ben["beneficiaryId"], ben["password"]).status_code == 302


def test_guessing_unknown_accounts_never_says_locked(world: Any) -> None:
    """Nobody learns who has an account by guessing on made-up identifiers: always the same refusal."""
    phone = Phone(world)
    for login in ["10000000009"] * 4 + ["personne@example.fr"] * 4:
        reply = phone.log_in(login, "nope")
        assert reply.status_code == 401 and "Identifiant ou mot de passe incorrect." in page(reply)


# --- CSRF ------------------------------------------------------------------------------------------------

POST_SURFACES = ("/espace-ptl", "/pro", "/app", "/horloge", "/deverrouiller")


class Browsers:
    """Logged-in browsers of every surface, and an object of theirs for each URL parameter."""

    def __init__(self, world: Any) -> None:
        shop, ben = world.shop(), world.beneficiary("manual")
        kit = world.kit()
        self.booked = world.paid_transaction(kit=kit, capture_mode="DEFERRED", capture_date=world.later(days=2))["id"]
        self.pending = kit.create_transaction("csrf-pending", "1", 4000).body["transaction"]["id"]
        assert kit.set_payer(self.pending, ben["beneficiaryId"]).status == 202
        self.pushed = kit.create_pre_transaction("csrf-pushed", 3000, world.later(days=1)).body["preTransaction"]["id"]
        assert kit.contact(self.pushed, beneficiary_id=ben["beneficiaryId"]).status == 200
        merchant = Merchant(world, shop)
        client = world.app.test_client()
        token = token_of(client, "/espace-ptl/mot-de-passe-oublie")
        client.post("/espace-ptl/mot-de-passe-oublie", data={"csrf_token": token, "login": shop["login"]})
        link = world.control.emails()[-1]["text"]
        self.reset_token = re.search(r"/espace-ptl/mot-de-passe/(\S+)", link).group(1)  # type: ignore[union-attr]
        self.by_prefix = {"/espace-ptl": merchant.client, "/pro": ProPhone(world, shop).client,
                          "/app": Phone(world, ben).client, "/": world.app.test_client()}
        self.values = {"ref": self.booked, "pre_id": self.pushed, "tx_id": self.pending, "token": self.reset_token}

    def client_for(self, rule: str) -> Any:
        return next(client for prefix, client in self.by_prefix.items() if rule.startswith(prefix))

    def path(self, rule: str) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: self.values[m.group(1)], rule)


def post_rules(world: Any) -> list[str]:
    return sorted(r.rule for r in world.app.url_map.iter_rules()
                  if "POST" in r.methods and r.rule.startswith(POST_SURFACES))


def test_every_form_posted_without_its_csrf_token_is_refused_in_french_and_not_processed(
        world: Any, secrets: list[str]) -> None:
    """Every POST of the Espace dédié, the App' Pro, the App' and the dashboard: without the session's token,
    with a wrong one, or with another browser's, a French refusal and nothing done."""
    browsers = Browsers(world)
    rules = post_rules(world)
    assert len(rules) >= 20, rules
    stranger = world.app.test_client()
    their_token = token_of(stranger, "/espace-ptl/connexion")
    form = {"login": world.shop()["login"], "password": world.shop()["password"], "amount": "1", "pin": "000000",
            "confirm": "oui", "timing": "immediat", "validation": "non", "order_id": "CSRF", "seconds": "3600",
            "shop_id": str(world.shop()["shopId"]), "url": "x", "token": "x"}
    seq, clock = last_seq(world), world.control.clock()
    for rule in rules:
        client, path = browsers.client_for(rule), browsers.path(rule)
        token_of(client, "/espace-ptl/connexion")  # the browser's session holds a token
        for forged in ({}, {"csrf_token": "x" * 43}, {"csrf_token": their_token}, {"csrf_token": ""}):
            reply = client.post(path, data={**form, **forged})
            assert reply.status_code == 400 and SESSION_EXPIRED in page(reply), (rule, forged, reply.status_code)
            assert_sane(reply, secrets, rule)
    assert changes_since(world, seq) == [] and world.control.clock() == clock
    assert world.control.emails()[-1]["text"].count(browsers.reset_token) == 1  # no new reset link either


# --- another merchant's objects ------------------------------------------------------------------------

class Stranger:
    """Merchant B's objects of every kind: a payment, a pre-booking, a QR request, a reimbursement."""

    def __init__(self, world: Any, shop_index: int = 1) -> None:
        kit = world.kit(shop_index)
        self.order = "SECRET-ORDER-B"
        tx = kit.create_transaction(self.order, "1", 4321).body["transaction"]["id"]
        ben = world.beneficiary("manual", 1)
        assert kit.set_payer(tx, ben["beneficiaryId"]).status == 202
        self.paid = world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])["transaction"]["id"]
        self.booked = world.paid_transaction(kit=kit, capture_mode="DEFERRED", capture_date=world.later(days=6),
                                             amount=1234)["id"]
        pro = ProPhone(world, world.shop(shop_index))
        self.request = pro_request(pro, order_id="SECRET-QR-B")
        world.advance(PAID_BY_S)
        page_b = Merchant(world, world.shop(shop_index)).get("/remboursements").get_data(as_text=True)
        self.transfer = re.findall(r'<tr id="transfer-([^"]+)">', page_b)[0]
        self.kit = kit
        self.name = world.shop(shop_index)["name"]

    def ids(self) -> dict[str, list[str]]:
        return {"ref": [self.paid, self.booked, self.request], "pre_id": [self.request],
                "tx_id": [self.paid], "transfer_id": [self.transfer]}

    def state(self) -> Any:
        return ([self.kit.get_transaction(t).body["transaction"] for t in (self.paid, self.booked)],
                self.kit.get_pre_transaction(self.request).body["preTransaction"])


def merchant_rules(world: Any) -> list[tuple[str, str]]:
    """Every (method, rule) of the Espace dédié and the App' Pro that names an object in its URL (a
    rubrique's slug names a page, not an object)."""
    found = []
    for rule in world.app.url_map.iter_rules():
        if rule.rule.startswith(("/espace-ptl", "/pro")) and rule.arguments - {"fmt", "token", "slug"}:
            found += [(method, rule.rule) for method in sorted(rule.methods & {"GET", "POST"})]
    return sorted(found)


def test_a_merchant_reaches_none_of_another_merchants_objects(world: Any, secrets: list[str]) -> None:
    """Every URL of the Espace dédié and the App' Pro with an id in it, given merchant B's ids by merchant A:
    the same answer as for an id that does not exist, none of B's data, and B's objects untouched."""
    stranger = Stranger(world)
    before = stranger.state()
    a = world.shop(0)
    browsers = {"/espace-ptl": Merchant(world, a).client, "/pro": ProPhone(world, a).client}
    tokens = {prefix: token_of(client, prefix + "/connexion") for prefix, client in browsers.items()}
    rules = merchant_rules(world)
    assert len(rules) >= 10, rules
    seq = last_seq(world)
    for method, rule in rules:
        prefix = next(prefix for prefix in browsers if rule.startswith(prefix))
        client, token = browsers[prefix], tokens[prefix]
        name = next(iter(set(re.findall(r"<(?:\w+:)?(\w+)>", rule)) - {"fmt"}))
        for theirs in stranger.ids()[name]:
            answers = []
            for ref in (theirs, "zzzzzzzzzz" if name != "transfer_id" else "VIR-0-20260602-20260609"):
                path = re.sub(r"<(?:\w+:)?\w+>", ref, rule)
                form = {"csrf_token": token, "amount": "1", "confirm": "oui"}
                reply = client.get(path) if method == "GET" else client.post(path, data=form)
                assert_sane(reply, secrets, (method, rule))
                body = page(reply)
                assert stranger.order not in body and "SECRET-QR-B" not in body and stranger.name not in body, rule
                answers.append((reply.status_code, reply.headers.get("Location")))
            assert answers[0] == answers[1], (method, rule, theirs, answers)
            assert answers[0][0] in (302, 404), (method, rule, answers)
    assert stranger.state() == before
    assert changes_since(world, seq) == []


def test_merchant_lists_and_exports_show_none_of_another_merchants_data(world: Any, secrets: list[str]) -> None:
    stranger = Stranger(world)
    merchant, pro = Merchant(world, world.shop(0)), ProPhone(world, world.shop(0))
    for reply in (merchant.get("/encaissement"), merchant.get("/encaissement/export.csv"), merchant.get("/"),
                  merchant.get("/remboursements"), merchant.get("/remboursements/export.csv"),
                  merchant.get("/encaissement", order="SECRET"), pro.get("/operations")):
        body = page(reply)
        assert reply.status_code == 200
        assert stranger.order not in body and "SECRET-QR-B" not in body and stranger.transfer not in body
        assert_no_leak(reply, secrets)


def test_a_beneficiary_reaches_none_of_another_beneficiarys_payments_or_requests(world: Any,
                                                                                secrets: list[str]) -> None:
    """Every URL of the App' with an id in it, given beneficiary B's ids by beneficiary A: as if unknown."""
    a, b = world.beneficiary("manual"), world.beneficiary("manual", 1)
    kit = world.kit()
    pending = kit.create_transaction("SECRET-B-PAY", "1", 4000).body["transaction"]["id"]
    assert kit.set_payer(pending, b["beneficiaryId"]).status == 202
    pushed = kit.create_pre_transaction("SECRET-B-REQ", 3000, world.later(days=1)).body["preTransaction"]["id"]
    assert kit.contact(pushed, beneficiary_id=b["beneficiaryId"]).status == 200
    phone = Phone(world, a)
    token = token_of(phone.client, "/app/connexion")
    values = {"tx_id": pending, "pre_id": pushed}
    rules = sorted((method, r.rule) for r in world.app.url_map.iter_rules()
                   if r.rule.startswith("/app") and r.arguments for method in sorted(r.methods & {"GET", "POST"}))
    assert len(rules) >= 8, rules
    seq = last_seq(world)
    for method, rule in rules:
        name = next(iter(re.findall(r"<(?:\w+:)?(\w+)>", rule)))
        answers = []
        for ref in (values[name], "zzzzzzzzzz"):
            path = re.sub(r"<(?:\w+:)?\w+>", ref, rule)
            reply = phone.client.get(path) if method == "GET" else phone.client.post(
                path, data={"csrf_token": token, "amount": "1", "pin": b["pin"]})
            assert_sane(reply, secrets, (method, rule))
            assert "SECRET-B" not in page(reply), rule
            answers.append(reply.status_code)
        assert answers[0] == answers[1] == 404, (method, rule, answers)
    assert changes_since(world, seq) == []
    assert kit.get_transaction(pending).body["transaction"]["state"] == "PROCESSING"


# --- session fixation -----------------------------------------------------------------------------------

def test_a_session_cookie_planted_before_login_grants_nothing_afterwards(world: Any) -> None:
    """Fixation: an attacker's cookie (with its CSRF token) planted in a victim's browser. The victim's login
    writes a new session, with a new token; the attacker's copy of the old cookie stays logged out."""
    shop = world.shop()
    attacker = world.app.test_client()
    attacker.get("/espace-ptl/connexion")
    planted = attacker.get_cookie(SESSION_COOKIE).value
    planted_token = token_of(attacker, "/espace-ptl/connexion")
    victim = world.app.test_client()
    victim.set_cookie(SESSION_COOKIE, planted)
    reply = victim.post("/espace-ptl/connexion", data={"csrf_token": planted_token, "login": shop["login"],
                                                       "password": shop["password"]})
    assert reply.status_code == 302
    assert victim.get_cookie(SESSION_COOKIE).value != planted
    assert token_of(victim, "/espace-ptl/connexion") != planted_token  # the login changed the CSRF token
    assert victim.get("/espace-ptl/mon-compte").status_code == 200
    assert attacker.get("/espace-ptl/mon-compte").headers["Location"].endswith("/espace-ptl/connexion")
    reply = attacker.post("/espace-ptl/encaisser", data={"csrf_token": planted_token, "timing": "immediat"})
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/espace-ptl/connexion")


@pytest.mark.parametrize("surface", ["/espace-ptl", "/pro", "/app"])
def test_logging_in_as_someone_else_leaves_nothing_of_the_previous_login(world: Any, surface: str) -> None:
    """A shared browser: the next person's login starts that surface afresh (account, draft, token)."""
    client = world.app.test_client()
    if surface == "/app":
        first, second = world.beneficiary("manual"), world.beneficiary("pay_full")
        logins = [(first["beneficiaryId"], first["password"]), (second["beneficiaryId"], second["password"])]
        mine = "/identifiant"
    else:
        first, second = world.shop(0), world.shop(2)
        logins = [(first["login"], first["password"]), (second["login"], second["password"])]
        mine = "/mon-compte" if surface == "/espace-ptl" else "/profil"
    tokens = []
    for login, password in logins:
        token = token_of(client, surface + "/connexion")
        reply = client.post(surface + "/connexion", data={"csrf_token": token, "login": login, "password": password})
        assert reply.status_code == 302
        if surface == "/espace-ptl" and login == logins[0][0]:
            client.post("/espace-ptl/encaisser", data={"csrf_token": token_of(client, "/espace-ptl/encaisser"),
                                                       "timing": "immediat", "validation": "non"})
        tokens.append(token_of(client, surface + "/connexion"))
    assert tokens[0] != tokens[1]
    body = page(client.get(surface + mine))
    second_id = second["beneficiaryId"] if surface == "/app" else str(second["shopId"])
    first_id = first["beneficiaryId"] if surface == "/app" else str(first["shopId"])
    assert second_id in body and first_id not in body
    if surface == "/espace-ptl":  # the first merchant's ENCAISSER draft is gone
        assert client.get("/espace-ptl/encaisser/demande").headers["Location"].endswith("/espace-ptl/encaisser")


SURFACES = {  # where each surface logs in, a page that needs the login, where it logs out
    "/espace-ptl": ("/connexion", "/mon-compte", "/deconnexion"),
    "/pro": ("/connexion", "/profil", "/deconnexion"),
    "/app": ("/connexion", "/identifiant", "/deconnexion"),
}


def _log_in(world: Any, client: Any, surface: str, person: dict[str, Any]) -> None:
    login = person["beneficiaryId"] if surface == "/app" else person["login"]
    token = token_of(client, surface + "/connexion")
    reply = client.post(surface + "/connexion", data={"csrf_token": token, "login": login,
                                                      "password": person["password"]})
    assert reply.status_code == 302, page(reply)


@pytest.mark.parametrize("surface", list(SURFACES))
def test_a_copy_of_the_session_cookie_is_worth_nothing_after_logging_out(world: Any, surface: str) -> None:
    """Logging out closes the session where the sandbox keeps it, not only in this browser: a copy of the
    cookie taken before (a shared computer, a proxy's log) logs nobody in afterwards, while the same
    person's other sessions (another browser) stay open. Logging out is a form with the CSRF token."""
    person = world.beneficiary("manual") if surface == "/app" else world.shop()
    _, needs_login, logout = SURFACES[surface]
    browser, elsewhere = world.app.test_client(), world.app.test_client()
    _log_in(world, browser, surface, person)
    _log_in(world, elsewhere, surface, person)
    copied = browser.get_cookie(SESSION_COOKIE).value
    token = token_of(browser, surface + "/connexion")
    assert browser.get(surface + logout).status_code == 405  # no logging out by a link another site shows
    assert browser.post(surface + logout, data={}).status_code == 400  # nor by a form without the token

    assert browser.post(surface + logout, data={"csrf_token": token}).status_code == 302

    thief = world.app.test_client()
    thief.set_cookie(SESSION_COOKIE, copied)
    assert thief.get(surface + needs_login).status_code == 302
    assert browser.get(surface + needs_login).status_code == 302
    assert elsewhere.get(surface + needs_login).status_code == 200
    joined = world.app.extensions["socketio"].test_client(world.app, flask_test_client=thief).emit(
        "join", {"rooms": ["shop", "beneficiary"]}, callback=True)
    assert joined == {"joined": []}  # nor does it hear the pushes of the person's pages


def test_a_new_password_closes_every_session_of_the_account(world: Any) -> None:
    """Whoever knew the old password (and logged in with it) is out once the merchant sets a new one."""
    shop = world.shop()
    old_session = world.app.test_client()
    _log_in(world, old_session, "/espace-ptl", shop)
    _log_in(world, old_session, "/pro", shop)
    merchant_accounts.request_reset(world.sandbox, shop["login"])  # "Mot de passe oublié ?"
    with world.sandbox.store.session() as s:
        reset_token = s.account(shop["login"]).reset_token
    assert reset_token
    merchant_accounts.reset_password(world.sandbox, reset_token, "Nouveau-2026")
    assert old_session.get("/espace-ptl/mon-compte").status_code == 302
    assert old_session.get("/pro/profil").status_code == 302
    _log_in(world, old_session, "/espace-ptl", {**shop, "password": "Nouveau-2026"})
    assert old_session.get("/espace-ptl/mon-compte").status_code == 200


def test_a_person_keeps_a_bounded_number_of_sessions_open(world: Any) -> None:
    """Each login opens a session; beyond MAX_OPEN_SESSIONS the oldest one is closed (the record stays small)."""
    ben = world.beneficiary("manual")
    browsers = [world.app.test_client() for _ in range(MAX_OPEN_SESSIONS + 1)]
    for browser in browsers:
        _log_in(world, browser, "/app", ben)
    assert browsers[0].get("/app/identifiant").status_code == 302
    assert all(b.get("/app/identifiant").status_code == 200 for b in browsers[1:])


def test_a_cookie_from_another_sandbox_or_forged_is_ignored(world: Any) -> None:
    """The session cookie is signed with the sandbox's secret: a forged or foreign one logs nobody in."""
    from flask.sessions import SecureCookieSessionInterface
    from itsdangerous import URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer("not the sandbox's secret", salt="cookie-session",
                                        serializer=SecureCookieSessionInterface.serializer,
                                        signer_kwargs={"key_derivation": "hmac", "digest_method": "sha1"})
    forged = serializer.dumps({"portal_account": world.shop()["login"], "app_beneficiary": "10001001576"})
    client = world.app.test_client()
    for cookie in (forged, "garbage", "x" * 4000, forged[:-3] + "AAA", ""):
        client.set_cookie(SESSION_COOKIE, cookie)
        assert client.get("/espace-ptl/mon-compte").status_code == 302
        assert client.get("/app/accueil").status_code == 302


# --- NUL characters (PostgreSQL cannot store them) ------------------------------------------------------

def test_an_email_with_a_nul_character_is_no_email_address(world: Any) -> None:
    """Kit §4.6.4: `contact` is an email address; one with a NUL (or another control character) is a
    BAD_REQUEST, and no email goes out (PostgreSQL answered 500 trying to store it)."""
    kit = world.kit()
    pre = kit.create_pre_transaction("nul-contact", 3000, world.later(days=1)).body["preTransaction"]["id"]
    sent = len(world.control.emails())
    for address in ("client\x00@example.fr", "client@exa\x00mple.fr", "client@example.fr\x00", "cli\x1bent@example.fr"):
        reply = kit.contact(pre, email=address)
        assert (reply.status, reply.body["errorCode"]) == (400, "BAD_REQUEST"), address
    assert len(world.control.emails()) == sent
    assert kit.get_pre_transaction(pre).body["preTransaction"]["state"] == "CREATED"


def test_lookups_with_a_nul_character_find_nothing(world: Any) -> None:
    """A NUL in a beneficiary's email, a journal's name: not found, as on SQLite (PostgreSQL answered 500)."""
    kit = world.kit()
    tx = kit.create_transaction("nul-payer", "1", 4000).body["transaction"]["id"]
    reply = kit.set_payer(tx, "christophe\x00@example.fr")
    assert (reply.status, reply.body["errorCode"]) == (404, "BENEFICIARY_NOT_FOUND")
    client = world.transport.client
    email = quote(world.beneficiary("manual")["email"][:5] + "\x00@example.fr")
    for method, path, body in (("POST", f"/_sandbox/beneficiaries/{email}/unblock", {}),
                               ("PUT", f"/_sandbox/beneficiaries/{email}/behaviour", {"behaviour": "manual"}),
                               ("POST", f"/_sandbox/beneficiaries/{email}/act", {"action": "abandon"}),
                               ("GET", "/_sandbox/journals/a%00b", None)):
        reply = client.open(path, method=method, json=body)
        assert reply.status_code == 404 and reply.mimetype == "application/json", (path, reply.status_code)
    reply = Phone(world).log_in("a\x00@example.fr", "x")
    assert reply.status_code == 401 and "Identifiant ou mot de passe incorrect." in page(reply)


def test_an_event_cursor_beyond_every_event_finds_nothing(world: Any) -> None:
    """SPEC §9: `GET /_sandbox/events?after=` past 32 bits is after every event (PostgreSQL answered 500)."""
    for after in ("2147483647", "2147483648", "99999999999", "999999999999999999"):
        reply = world.transport.client.get("/_sandbox/events", query_string={"after": after})
        assert (reply.status_code, reply.json) == (200, []), after


# --- what an unexpected error shows ------------------------------------------------------------------

def test_an_unexpected_error_shows_no_traceback_path_or_message(world: Any, secrets: list[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug somewhere (simulated): a French 500 page or the Kit's INTERNAL_SERVER_ERROR, nothing more."""
    from sandbox.services import beneficiary_app, merchant_accounts
    from sandbox.services import kit as kit_service

    secret = f"{REPOSITORY}/sandbox/secret.py key={secrets[0]}"

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(secret)

    for module, name in ((merchant_accounts, "points_of"), (kit_service, "get_point_of_sale"),
                         (beneficiary_app, "home")):
        monkeypatch.setattr(module, name, broken)
    kit = world.kit()
    replies = [Merchant(world, world.shop()).get("/mon-compte"), Phone(world, world.beneficiary("manual")).get("/accueil"),
               world.transport.client.get(f"{KIT_PATH}/point-of-sales/{kit.shop_id}", headers={
                   "ANCV-Security": seal.security_header(kit.key_version, kit.key, [kit.shop_id])})]
    for reply in replies:
        assert reply.status_code == 500
        assert_no_leak(reply, [*secrets, secret, "RuntimeError: ", "secret.py"])
    assert "Erreur interne" in page(replies[0]) and "Erreur interne" in page(replies[1])
    assert replies[2].json == {"errorCode": "INTERNAL_SERVER_ERROR", "errorMessage": "internal server error"}


# --- issue 14, item 11: no 5xx on hostile input ----------------------------------------------------------------

def test_an_id_with_cr_lf_in_a_sealed_kit_get_is_a_clean_404_with_an_escaped_detail(world: Any) -> None:
    """The detail quotes the id; copied raw into `X-Sandbox-Detail`, a CR/LF made the server answer 500."""
    shop = world.shop()
    for kind, fields in (("payment-transactions", seal.transaction_id_fields),
                         ("pre-transactions", seal.pre_transaction_id_fields)):
        for odd in ("ab\r\nSet-Cookie: x=1", "a\nb", "a\x00b", "a\x7fb"):
            header = seal.security_header(shop["keyVersion"], shop["key"], fields(odd))
            reply = world.transport.client.get(f"{KIT_PATH}/{kind}/{quote(odd, safe='')}",
                                               headers={"ANCV-Security": header})
            assert reply.status_code == 404 and reply.json["errorCode"].endswith("NOT_FOUND"), (kind, odd)
            detail = reply.headers["X-Sandbox-Detail"]
            assert "Set-Cookie" not in reply.headers and all(" " <= c < "\x7f" for c in detail), detail
            assert odd.encode("unicode_escape").decode()[:2] in detail  # still says which id it was


def test_amounts_typed_with_non_ascii_digits_are_refused_not_read_as_twelve_euros(world: Any) -> None:
    """"١٢" (Arabic-Indic digits) matched `\\d` and became 12,00 €: refused like any wrong amount."""
    shop = world.shop()
    merchant = Merchant(world, shop)
    step1(merchant)
    for amount in ("١٢", "１２", "12,٥", "²"):
        reply = step2(merchant, amount=amount, mode="qr", order_id="REF-ARABIC")
        assert reply.status_code == 400 and 'id="amount-error"' in reply.get_data(as_text=True), amount
    pro = world.app.test_client()
    token = CSRF.search(pro.get("/pro/connexion").get_data(as_text=True)).group(1)
    assert pro.post("/pro/connexion", data={"csrf_token": token, "login": shop["login"],
                                            "password": shop["password"]}).status_code == 302
    token = CSRF.search(pro.get("/pro/paiement").get_data(as_text=True)).group(1)
    reply = pro.post("/pro/paiement", data={"csrf_token": token, "amount": "١٢", "order_id": "REF-ARABIC"})
    assert reply.status_code == 400 and 'id="amount-error"' in reply.get_data(as_text=True)
    assert not [e for e in world.control.events() if e["type"] == "PreTransactionCreated"]


def test_numbers_in_options_and_files_are_ascii_digits_only() -> None:
    """`str.isdigit` takes "²" (which `int` refuses: a traceback) and "١٠٢٥" (which `int` reads as 1025)."""
    from customer_sim.scanner.sources import SourceError, open_source
    from sandbox.adapters.smtp import parse_address
    from sandbox.domain import errors, journals
    from scenarios.in_process import _digits

    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address("127.0.0.1:١٠٢٥")
    for index in ("²", "١"):
        with pytest.raises(SourceError, match="index"):
            open_source(f"camera:{index}")
    with pytest.raises(errors.BadRequest):
        _digits("²", "shopId")
    with pytest.raises(ValueError, match="not a number"):
        journals.parse("DLO;1;2026-06-02T08:00:00.000Z;١\nEOF\n")
