"""A simulated integrator that plays the cahier de recette (`/_sandbox/recette`): the campaign's own tests.

`RecetteIntegrator` is what a service intermediary's test suite and system would do for each case of a
campaign, through the Kit API and its own webhook receiver (`Inbox`): create and pay, hear the
webhook, confirm it by asking for the state, execute or cancel, handle refusals without retrying,
retry a creation whose answer was lost with the same order id, fetch the journals over SFTP.
It plays correctly unless given `Flaws`, each a mistake real integrations make, so that a campaign
fails exactly the cases that mistake breaks.

Time: on a virtual clock it moves the sandbox's clock as a test would (`control.advance`); it
waits for webhooks in real time (they are posted by the sandbox's own threads).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from sandbox.client import ControlClient, KitClient, Reply, Transport
from sandbox.domain.dates import format_date, parse_date

WEBHOOK_WAIT_S = 15.0  # real seconds a webhook may take to arrive (the sender retries within a second)
THINK_S = 1  # seconds beyond the sandbox's think time before an automatic beneficiary has answered
AMOUNT = 4000
JOURNAL_DAYS = 10  # days the reconciliation case waits, at most, for a DLO and a BRJ


@dataclass(frozen=True)
class Flaws:
    """Mistakes a faulty integration makes (all False: a correct one)."""

    ignores_webhooks: bool = False  # its receiver answers 500 and it never confirms a webhook by reading the state
    polls_fast: bool = False  # it polls the state in a tight loop after each /payer
    new_order_on_retry: bool = False  # after a lost creation answer it creates again with a new order id
    partial_as_full: bool = False  # it records a partial authorization as the whole basket paid


CORRECT = Flaws()


class Inbox:
    """The integrator's webhook receiver: an HTTP(S) server on loopback that keeps what it is told."""

    def __init__(self, status: int = 200, tls: tuple[str, str] | None = None, folder: Path | None = None) -> None:
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = None
                with inbox.lock:
                    inbox.received.append({"path": self.path, "body": body})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if tls is not None:  # (certificate PEM, private key PEM), e.g. from POST /_sandbox/tls/certificates
            assert folder is not None
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "inbox.pem").write_text(tls[0])
            (folder / "inbox.key").write_text(tls[1])
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(folder / "inbox.pem", folder / "inbox.key")
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, name="inbox", daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        host = "localhost" if self.scheme == "https" else "127.0.0.1"
        return f"{self.scheme}://{host}:{self.server.server_address[1]}{path}"

    def wait(self, object_id: str, kind: str, timeout: float = WEBHOOK_WAIT_S) -> dict[str, Any] | None:
        """The first webhook about `object_id` sent to the `kind` ("return" or "cancel") URL, once it came."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for item in self.received:
                    obj = (item["body"] or {}).get("transaction") or (item["body"] or {}).get("preTransaction") or {}
                    if item["path"].startswith(f"/{kind}/") and obj.get("id") == object_id:
                        return dict(item)
            time.sleep(0.02)
        return None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RecetteIntegrator:
    """Plays a campaign's cases as a service intermediary's suite would (see the module's docstring)."""

    def __init__(self, control: ControlClient, transport: Transport, campaign: dict[str, Any], key: str,
                 inbox: Inbox, flaws: Flaws = CORRECT, sftp: Callable[[str, str], list[str]] | None = None) -> None:
        self.control, self.transport = control, transport
        self.campaign = campaign
        self.key = key
        self.inbox = inbox
        self.flaws = flaws
        self.sftp = sftp  # (username, password) -> the journal files it downloaded
        self.think = float(control.settings()["thinkTimeSeconds"])
        self.orders = 0

    # --- helpers -------------------------------------------------------------------------------------
    def case(self, case_id: str) -> dict[str, Any]:
        return next(c for c in self.campaign["cases"] if c["id"] == case_id)

    def kit(self, case_id: str) -> KitClient:
        ids = self.case(case_id)["identifiers"]
        return KitClient(self.transport, key=self.key, key_version=ids["keyVersion"], shop_id=ids["shopId"],
                         service_provider_id=ids.get("serviceProviderId"))

    def urls(self, case_id: str) -> dict[str, str]:
        return {"returnUrl": self.inbox.url(f"/return/{case_id}"), "cancelUrl": self.inbox.url(f"/cancel/{case_id}")}

    def order(self, case_id: str) -> str:
        self.orders += 1
        return f"{case_id[:20]}-{self.orders}"

    def now(self) -> datetime:
        return parse_date(self.control.clock()["now"])

    def advance(self, seconds: float) -> None:
        self.control.advance(seconds)

    def heard(self, kit: KitClient, object_id: str, kind: str, pre: bool = False) -> dict[str, Any] | None:
        """Wait for the webhook, then confirm it by asking for the state (Kit §5.1): the state read."""
        if self.flaws.ignores_webhooks:  # it polls once instead, whenever it gets round to it
            pass
        elif self.inbox.wait(object_id, kind) is None:
            return None
        reply = kit.get_pre_transaction(object_id) if pre else kit.get_transaction(object_id)
        return reply.body

    def poll_burst(self, kit: KitClient, tx_id: str) -> None:
        if self.flaws.polls_fast:
            for _ in range(10):
                kit.get_transaction(tx_id)

    def create(self, case_id: str, amount: int = AMOUNT, **options: Any) -> dict[str, Any]:
        reply = self.kit(case_id).create_transaction(self.order(case_id), "1", amount,
                                                     redirect_urls=self.urls(case_id), **options)
        assert reply.status == 201, reply.body
        return dict(reply["transaction"])

    def pay(self, case_id: str, amount: int = AMOUNT, **options: Any) -> dict[str, Any] | None:
        """Create, /payer, let the beneficiary answer, hear the returnUrl: the transaction as read then."""
        kit = self.kit(case_id)
        tx = self.create(case_id, amount, **options)
        beneficiary = self.case(case_id)["identifiers"]["beneficiaryId"]
        assert kit.set_payer(tx["id"], beneficiary).status == 202
        self.poll_burst(kit, tx["id"])
        self.advance(self.think + THINK_S)
        read = self.heard(kit, tx["id"], "return")
        return read["transaction"] if read else None

    def refused_by_beneficiary(self, case_id: str, wait_s: float) -> None:
        kit = self.kit(case_id)
        tx = self.create(case_id)
        assert kit.set_payer(tx["id"], self.case(case_id)["identifiers"]["beneficiaryId"]).status == 202
        self.poll_burst(kit, tx["id"])
        self.advance(wait_s)
        self.heard(kit, tx["id"], "cancel")  # the customer is told; the payment is not started again

    def refused_at_payer(self, case_id: str, **options: Any) -> None:
        kit = self.kit(case_id)
        tx = self.create(case_id, **options)
        reply = kit.set_payer(tx["id"], self.case(case_id)["identifiers"]["beneficiaryId"])
        assert reply.status in (403, 409, 412), reply.body  # shown to the customer; never repeated as is

    def request(self, case_id: str, minutes: int = 60) -> dict[str, Any]:
        expiry = format_date(self.now() + timedelta(minutes=minutes)) or ""
        reply = self.kit(case_id).create_pre_transaction(self.order(case_id), AMOUNT, expiry,
                                                         redirect_urls=self.urls(case_id))
        assert reply.status == 201, reply.body
        return dict(reply["preTransaction"])

    def request_paid(self, case_id: str, send: Callable[[KitClient, str], Reply], answers: int = 1) -> None:
        """A request sent (or shown), paid by the beneficiary: read it, then the transaction it names."""
        kit = self.kit(case_id)
        pre = self.request(case_id)
        assert send(kit, pre["id"]).ok
        for _ in range(answers):
            self.advance(self.think + THINK_S)
        state = kit.get_pre_transaction(pre["id"])["preTransaction"]
        if state.get("validatedPaymentTransactionId"):
            kit.get_transaction(state["validatedPaymentTransactionId"])

    # --- the cases -----------------------------------------------------------------------------------
    def play(self, case_id: str) -> None:
        getattr(self, "case_" + case_id.replace("-", "_"))(case_id)

    def play_all(self) -> None:
        for case in self.campaign["cases"]:
            self.play(case["id"])

    def case_immediate_payment(self, case_id: str) -> None:
        self.pay(case_id)

    def case_partial_payment(self, case_id: str) -> None:
        tx = self.pay(case_id, tspd_mode="001")
        if tx is None:  # it never heard of the authorization: nothing recorded
            return
        authorized = sum(a["amount"]["total"] for p in tx.get("payers", []) for a in p.get("authorizations", []))
        paid = tx["order"]["amount"]["total"] if self.flaws.partial_as_full else authorized
        self.control.declare(self.campaign["id"], case_id, tx["id"], paid)  # the rest is asked for by card

    def case_fixed_amount(self, case_id: str) -> None:
        self.pay(case_id, tspd_mode="002")

    def case_refused_wrong_code(self, case_id: str) -> None:
        self.refused_by_beneficiary(case_id, self.think + THINK_S)

    def case_refused_no_answer(self, case_id: str) -> None:
        self.refused_by_beneficiary(case_id, 251)

    def case_refused_abandon(self, case_id: str) -> None:
        self.refused_by_beneficiary(case_id, self.think + THINK_S)

    def case_refused_no_device(self, case_id: str) -> None:
        self.refused_at_payer(case_id)

    def case_refused_insufficient_balance(self, case_id: str) -> None:
        self.refused_at_payer(case_id, tspd_mode="002")

    def case_refused_other_pending(self, case_id: str) -> None:
        self.refused_at_payer(case_id)

    def _deferred(self, case_id: str, days: int) -> dict[str, Any] | None:
        capture = format_date(self.now() + timedelta(days=days)) or ""
        return self.pay(case_id, capture_mode="DEFERRED", capture_date=capture)

    def case_deferred_capture(self, case_id: str) -> None:
        kit = self.kit(case_id)
        for with_payers in (True, False):
            tx = self._deferred(case_id, 2)
            if tx is None:
                continue
            payers = None
            if with_payers:
                payer = tx["payers"][0]
                payers = [{"beneficiaryId": payer["beneficiaryId"], "authorizations": [
                    {"number": a["number"], "amount": {"total": AMOUNT - 1000, "currency": "978"}}
                    for a in payer["authorizations"]]}]
            assert kit.execute(tx["id"], AMOUNT - 1000, payers).ok  # the stay cost less than booked

    def case_deferred_not_executed(self, case_id: str) -> None:
        tx = self._deferred(case_id, 1)
        if tx is None:
            return
        self.advance(86400 + 60)
        assert self.kit(case_id).get_transaction(tx["id"])["transaction"]["state"] == "CANCELLED"

    def case_cancel_within_4h(self, case_id: str) -> None:
        tx = self.pay(case_id)
        if tx is not None:
            assert self.kit(case_id).cancel(tx["id"], "CUSTOMER_ABORT").status == 201

    def case_cancel_after_4h(self, case_id: str) -> None:
        tx = self.pay(case_id)
        if tx is None:
            return
        self.advance(4 * 3600 + 60)
        assert self.kit(case_id).cancel(tx["id"], "CUSTOMER_ABORT").status == 403  # refunded another way

    def case_request_qr_code(self, case_id: str) -> None:
        self.request_paid(case_id, lambda kit, pre_id: kit.qr_code(pre_id))

    def case_request_by_email(self, case_id: str) -> None:
        email = self.case(case_id)["identifiers"]["beneficiaryEmail"]
        self.request_paid(case_id, lambda kit, pre_id: kit.contact(pre_id, email=email))

    def case_request_by_app(self, case_id: str) -> None:
        beneficiary = self.case(case_id)["identifiers"]["beneficiaryId"]
        self.request_paid(case_id, lambda kit, pre_id: kit.contact(pre_id, beneficiary_id=beneficiary), answers=2)

    def case_request_expired(self, case_id: str) -> None:
        pre = self.request(case_id, minutes=2)
        self.advance(180)
        self.heard(self.kit(case_id), pre["id"], "cancel", pre=True)

    def case_request_aborted(self, case_id: str) -> None:
        kit = self.kit(case_id)
        pre = self.request(case_id)
        assert kit.abort(pre["id"]).ok
        kit.get_pre_transaction(pre["id"])

    def case_request_refused(self, case_id: str) -> None:
        kit = self.kit(case_id)
        pre = self.request(case_id)
        assert kit.contact(pre["id"], email=self.case(case_id)["identifiers"]["beneficiaryEmail"]).ok
        self.heard(kit, pre["id"], "cancel", pre=True)

    def case_idempotent_creation(self, case_id: str) -> None:
        kit = self.kit(case_id)
        order = self.order(case_id)
        try:
            kit.create_transaction(order, "1", AMOUNT, redirect_urls=self.urls(case_id))
            raise AssertionError("the campaign should have lost this answer")
        except (OSError, requests.RequestException):  # no answer: in doubt, ask again the same way (Kit §4.5.3)
            pass
        again = self.order(case_id) if self.flaws.new_order_on_retry else order
        reply = kit.create_transaction(again, "1", AMOUNT, redirect_urls=self.urls(case_id))
        assert reply.ok, reply.body

    def case_webhook_retry(self, case_id: str) -> None:
        self.pay(case_id)  # the receiver hears the notification twice; the order is delivered once

    def case_polling_rate(self, case_id: str) -> None:
        pass  # judged on every state request of the campaign

    def case_https(self, case_id: str) -> None:
        pass  # judged on every call of the campaign: the transport and the inbox decide

    def case_service_provider(self, case_id: str) -> None:
        pass  # judged on every call of the campaign: a provider's client seals with its key

    def case_reconciliation(self, case_id: str) -> None:
        self.pay(case_id)
        sftp = self.case(case_id)["identifiers"]["sftp"]
        assert self.sftp is not None, "the reconciliation case needs an SFTP client"
        for _ in range(JOURNAL_DAYS):  # each morning, fetch what the night brought
            self.advance(86400)
            names = self.sftp(sftp["username"], sftp["password"])
            if any(n.startswith("DLO") for n in names) and any(n.startswith("BRJ") for n in names):
                return


JOURNAL_FOLDERS = ("/upload/operations_journal", "/upload/refunds_journal")


def sftp_downloader(host: str, port: int) -> Callable[[str, str], list[str]]:
    """(username, password) -> the names of every journal file in the account's space, each downloaded."""
    import asyncssh

    async def fetch(username: str, password: str) -> list[str]:
        names = []
        async with asyncssh.connect(host, port, username=username, password=password, known_hosts=None,
                                    client_keys=None) as conn:
            async with conn.start_sftp_client() as sftp:
                for folder in JOURNAL_FOLDERS:
                    if not await sftp.exists(folder):
                        continue
                    for name in sorted(await sftp.listdir(folder)):
                        if name.startswith((".",)):
                            continue
                        async with sftp.open(f"{folder}/{name}", "rb") as file:
                            await file.read()
                        names.append(name)
        return names

    def download(username: str, password: str) -> list[str]:
        # on a thread of its own: the caller may already run an event loop (a test framework's, a notebook's)
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, fetch(username, password)).result()

    return download
