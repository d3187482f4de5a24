"""A Python client for the Kit API (it seals every call) and for the sandbox's control plane.

Integrators can use it against the sandbox or ANCV's platform; the tests, the benchmark and
`merchant_sim` use it too. Two transports: real HTTP (`HttpTransport`) and a Flask app in
the same process (`FlaskTransport`, no sockets).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

from .domain import seal

if TYPE_CHECKING:
    import requests

KIT_PATH = "/acquisition/api/public/v1"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    content: bytes
    body: Any = field(default=None)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def __getitem__(self, key: str) -> Any:
        return self.body[key]


class Transport(Protocol):
    def __call__(self, method: str, path: str, headers: dict[str, str], body: Any = None,
                 params: dict[str, Any] | None = None) -> Reply: ...


def _reply(status: int, headers: dict[str, str], content: bytes) -> Reply:
    body = None
    if headers.get("Content-Type", "").startswith("application/json") and content:
        body = json.loads(content)
    return Reply(status, headers, content, body)


class HttpTransport:
    """Calls a server over HTTP (`base_url` like `http://127.0.0.1:8421`); over HTTPS, `verify` is a CA file
    (the sandbox's `ca.pem` with `serve --tls`) or True for the system's roots."""

    def __init__(self, base_url: str, timeout: float = 30.0, session: requests.Session | None = None,
                 verify: bool | str = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        if session is None:
            import requests  # here: an in-process caller (a simulation, FlaskTransport) never needs it

            session = requests.Session()
        self.http = session
        # per request: requests lets REQUESTS_CA_BUNDLE override a session's `verify`, never a request's
        self.verify: bool | str | None = None if verify is True else verify

    def __call__(self, method: str, path: str, headers: dict[str, str], body: Any = None,
                 params: dict[str, Any] | None = None) -> Reply:
        data = None if body is None else json.dumps(body).encode("utf-8")
        response = self.http.request(method, self.base_url + path, headers=headers, data=data, params=params,
                                     timeout=self.timeout, verify=self.verify)
        return _reply(response.status_code, dict(response.headers), response.content)


class FlaskTransport:
    """Calls a Flask app in the same process through its test client."""

    def __init__(self, app: Any, base_url: str = "http://localhost") -> None:
        self.client = app.test_client()
        self.base_url = base_url  # https://… makes the app see calls made over TLS

    def __call__(self, method: str, path: str, headers: dict[str, str], body: Any = None,
                 params: dict[str, Any] | None = None) -> Reply:
        data = None if body is None else json.dumps(body)
        response = self.client.open(path, method=method, headers=headers, data=data, query_string=params,
                                    base_url=self.base_url)
        return _reply(response.status_code, dict(response.headers), response.get_data())


class KitClient:
    """The eleven Kit operations, sealed with one key (a shop's, or a service provider's)."""

    def __init__(self, transport: Transport, *, key: str, key_version: str, shop_id: int,
                 service_provider_id: int | None = None) -> None:
        self.transport = transport
        self.key, self.key_version = key, key_version
        self.shop_id, self.service_provider_id = shop_id, service_provider_id

    def _call(self, method: str, path: str, fields: list[Any], body: Any = None,
              params: dict[str, Any] | None = None, accept: str | None = None) -> Reply:
        headers = {"ANCV-Security": seal.security_header(self.key_version, self.key, fields)}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if accept:
            headers["Accept"] = accept
        return self.transport(method, KIT_PATH + path, headers, body, params)

    def _merchant(self, shop_id: int | None) -> dict[str, Any]:
        merchant: dict[str, Any] = {"shopId": shop_id or self.shop_id}
        if self.service_provider_id is not None:
            merchant["serviceProviderId"] = self.service_provider_id
        return merchant

    def point_of_sale(self, shop_id: int | None = None) -> Reply:
        shop = shop_id or self.shop_id
        params = {"serviceProviderId": self.service_provider_id} if self.service_provider_id else None
        return self._call("GET", f"/point-of-sales/{shop}", seal.point_of_sale_fields(shop, self.service_provider_id),
                          params=params)

    def create_transaction(self, order_id: str, payment_id: str, amount: int, *, capture_mode: str = "NORMAL",
                           tspd_mode: str = "001", capture_date: str | None = None,
                           redirect_urls: dict[str, str] | None = None,
                           application_context: dict[str, str] | None = None, shop_id: int | None = None,
                           currency: str = "978", **order: Any) -> Reply:
        method: dict[str, Any] = {"captureMode": capture_mode, "tspdMode": tspd_mode}
        if capture_date:
            method["captureDate"] = capture_date
        body: dict[str, Any] = {
            "merchant": self._merchant(shop_id),
            "order": {"id": order_id, "paymentId": payment_id, **order,
                      "amount": {"total": amount, "currency": currency}},
            "paymentMethod": method,
        }
        if redirect_urls is not None:
            body["redirectUrls"] = redirect_urls
        if application_context is not None:
            body["applicationContext"] = application_context
        return self.post_create_transaction(body)

    def post_create_transaction(self, body: Any) -> Reply:
        """POST /payment-transactions with any body (sealed from what it holds)."""
        return self._call("POST", "/payment-transactions", seal.create_transaction_fields(body), body)

    def set_payer(self, transaction_id: str, beneficiary_id: Any, amount: int | None = None) -> Reply:
        payer: dict[str, Any] = {"beneficiaryId": beneficiary_id}
        if amount is not None:
            payer["amount"] = {"total": amount, "currency": "978"}
        body = {"payer": payer}
        return self._call("POST", f"/payment-transactions/{transaction_id}/payer",
                          seal.payer_fields(transaction_id, body), body)

    def get_transaction(self, transaction_id: str) -> Reply:
        return self._call("GET", f"/payment-transactions/{transaction_id}", seal.transaction_id_fields(transaction_id))

    def execute(self, transaction_id: str, amount: int, payers: list[dict[str, Any]] | None = None) -> Reply:
        body: dict[str, Any] = {"amount": {"total": amount, "currency": "978"}}
        if payers is not None:
            body["payers"] = payers
        return self._call("POST", f"/payment-transactions/{transaction_id}/execute",
                          seal.transaction_id_fields(transaction_id), body)

    def cancel(self, transaction_id: str, reason: str = "OTHER", label: str | None = None) -> Reply:
        body: dict[str, Any] = {"reason": reason}
        if label is not None:
            body["label"] = label
        return self._call("POST", f"/payment-transactions/{transaction_id}/cancellation",
                          seal.cancellation_fields(transaction_id, body), body)

    def create_pre_transaction(self, order_id: str, amount: int, expiration_date: str, *,
                               pre_payment_id: str | None = None, capture_mode: str = "NORMAL",
                               tspd_mode: str = "001", capture_term: int | None = None,
                               redirect_urls: dict[str, str] | None = None,
                               application_context: dict[str, str] | None = None, shop_id: int | None = None,
                               currency: str = "978", **order: Any) -> Reply:
        method: dict[str, Any] = {"captureMode": capture_mode, "tspdMode": tspd_mode}
        if capture_term is not None:
            method["captureTerm"] = capture_term
        order_body: dict[str, Any] = {"id": order_id, **order, "amount": {"total": amount, "currency": currency}}
        if pre_payment_id is not None:
            order_body["prePaymentId"] = pre_payment_id
        body: dict[str, Any] = {"merchant": self._merchant(shop_id), "order": order_body, "paymentMethod": method,
                                "expirationDate": expiration_date}
        if redirect_urls is not None:
            body["redirectUrls"] = redirect_urls
        if application_context is not None:
            body["applicationContext"] = application_context
        return self.post_create_pre_transaction(body)

    def post_create_pre_transaction(self, body: Any) -> Reply:
        return self._call("POST", "/pre-transactions", seal.create_pre_transaction_fields(body), body)

    def qr_code(self, pre_transaction_id: str, accept: str = "image/png") -> Reply:
        return self._call("GET", f"/pre-transactions/{pre_transaction_id}/qr-code",
                          seal.pre_transaction_id_fields(pre_transaction_id), accept=accept)

    def get_pre_transaction(self, pre_transaction_id: str) -> Reply:
        return self._call("GET", f"/pre-transactions/{pre_transaction_id}",
                          seal.pre_transaction_id_fields(pre_transaction_id))

    def contact(self, pre_transaction_id: str, *, email: str | None = None, beneficiary_id: Any = None) -> Reply:
        body: dict[str, Any] = {}
        if email is not None:
            body["contact"] = email
        if beneficiary_id is not None:
            body["beneficiaryId"] = beneficiary_id
        return self._call("POST", f"/pre-transactions/{pre_transaction_id}/contact",
                          seal.contact_fields(pre_transaction_id, body), body)

    def abort(self, pre_transaction_id: str, label: str | None = None, reason: str = "ABORTED_MERCHANT") -> Reply:
        body: dict[str, Any] = {"reason": reason}
        if label is not None:
            body["label"] = label
        return self._call("POST", f"/pre-transactions/{pre_transaction_id}/abort",
                          seal.abort_fields(pre_transaction_id, body), body)


def _header(headers: dict[str, str], name: str) -> str | None:
    """A header of a reply, whatever its case (requests' are case-insensitive, the test client's not)."""
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


class ControlError(RuntimeError):
    """A control call the sandbox refused; `body` is its `{errorCode, errorMessage}` when it gave one."""

    def __init__(self, method: str, path: str, status: int, body: Any, detail: str | None = None) -> None:
        super().__init__(f"{method} /_sandbox{path}: {status} {body}" + (f" ({detail})" if detail else ""))
        self.status, self.body = status, body
        self.detail = detail  # the sandbox's reason (its X-Sandbox-Detail header), when it gave one

    @property
    def code(self) -> str:
        return str(self.body.get("errorCode", self.status)) if isinstance(self.body, dict) else str(self.status)

    @property
    def message(self) -> str:
        return str(self.body.get("errorMessage", "")) if isinstance(self.body, dict) else str(self.body)


class ControlClient:
    """The sandbox's `/_sandbox` controls."""

    def __init__(self, transport: Transport, admin_token: str | None = None) -> None:
        self.transport = transport
        self.headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        headers = dict(self.headers)
        if method != "GET":  # the control plane takes writes as JSON only, even without a field (SPEC §9)
            body = {} if body is None else body
        if body is not None:
            headers["Content-Type"] = "application/json"
        reply = self.transport(method, "/_sandbox" + path, headers, body)
        if not reply.ok:
            raise ControlError(method, path, reply.status, reply.body, _header(reply.headers, "X-Sandbox-Detail"))
        return reply.body

    def health(self) -> Any:
        return self._call("GET", "/health")

    def reset(self, seed: int | None = None) -> Any:
        return self._call("POST", "/reset", {} if seed is None else {"seed": seed})

    def fixtures(self) -> Any:
        return self._call("GET", "/fixtures")

    def clock(self) -> Any:
        return self._call("GET", "/clock")

    def advance(self, seconds: float) -> Any:
        return self._call("POST", "/clock/advance", {"seconds": seconds})

    def act(self, beneficiary_id: str, action: str, **fields: Any) -> Any:
        return self._call("POST", f"/beneficiaries/{beneficiary_id}/act", {"action": action, **fields})

    def set_behaviour(self, beneficiary_id: str, behaviour: str) -> Any:
        return self._call("PUT", f"/beneficiaries/{beneficiary_id}/behaviour", {"behaviour": behaviour})

    def unblock(self, beneficiary_id: str) -> Any:
        return self._call("POST", f"/beneficiaries/{beneficiary_id}/unblock")

    # the request journal (issue 15, item 2), for the pytest plugin and integrators' tools
    def request_journal(self, limit: int | None = None, path: str | None = None, status: int | None = None,
                        error_code: str | None = None) -> list[Any]:
        """The calls the sandbox received, newest first, filtered like `GET /_sandbox/requests`."""
        asked = {"limit": limit, "path": path, "status": status, "errorCode": error_code}
        query = urlencode({name: value for name, value in asked.items() if value is not None})
        entries: list[Any] = self._call("GET", "/requests" + (f"?{query}" if query else ""))["requests"]
        return entries

    def clear_request_journal(self) -> None:
        """Empty the request journal."""
        self._call("DELETE", "/requests")

    def settings(self, **changes: Any) -> Any:
        return self._call("PATCH", "/settings", changes) if changes else self._call("GET", "/settings")

    def webhooks(self) -> Any:
        return self._call("GET", "/webhooks")

    def emails(self) -> Any:
        return self._call("GET", "/emails")

    def events(self, after: int = 0) -> Any:
        return self._call("GET", f"/events?after={after}")

    # network faults and webhook resends (issue 15, item 3)
    def add_fault(self, operation: str, fault: str, **options: Any) -> Any:
        """A fault on the next matching Kit calls: `delayMs`, `status`, `times`, `probability` as options."""
        return self._call("POST", "/faults", {"operation": operation, "fault": fault, **options})

    def faults(self) -> Any:
        return self._call("GET", "/faults")["faults"]

    def clear_faults(self, fault_id: int | None = None) -> None:
        """Remove one fault, or all of them."""
        self._call("DELETE", "/faults" if fault_id is None else f"/faults/{fault_id}")

    def resend_webhook(self, delivery_id: int) -> Any:
        return self._call("POST", f"/webhooks/{delivery_id}/resend")

    # HTTPS with `serve --tls` (issue 15, item 1)
    def tls_ca_pem(self) -> str:
        """The sandbox's CA certificate, PEM."""
        reply = self.transport("GET", "/_sandbox/tls/ca.pem", dict(self.headers))
        if not reply.ok:
            raise ControlError("GET", "/tls/ca.pem", reply.status, reply.body)
        return reply.content.decode()

    def tls_certificate(self, hosts: list[str]) -> Any:
        """A key and certificate signed by the sandbox's CA: `{certificate, privateKey, caCertificate, hosts}`."""
        return self._call("POST", "/tls/certificates", {"hosts": hosts})

    # the cahier de recette's list and reports (issue 17; starting, reading and ending a campaign: below)
    def recettes(self) -> list[Any]:
        """Every campaign, newest first (id, holder, status, createdAt, summary)."""
        campaigns: list[Any] = self._call("GET", "/recette")["campaigns"]
        return campaigns

    def recette_report(self, campaign_id: str, extension: str = "") -> str:
        """The campaign's report as text: HTML (`""`), JUnit XML (`".xml"`) or JSON (`".json"`)."""
        path = f"/recette/{campaign_id}/report{extension}"
        reply = self.transport("GET", "/_sandbox" + path, dict(self.headers))
        if not reply.ok:
            raise ControlError("GET", path, reply.status, reply.body, _header(reply.headers, "X-Sandbox-Detail"))
        return reply.content.decode("utf-8")

    # --- acceptance campaigns (/_sandbox/recette) ---
    def start_recette(self, kind: str, holder_id: int, cases: list[str] | None = None,
                      time_scale: float | None = None) -> Any:
        body: dict[str, Any] = {"holder": {"kind": kind, "id": holder_id}, "cases": cases}
        if time_scale is not None:
            body["timeScale"] = time_scale
        return self._call("POST", "/recette", body)

    def recette(self, campaign_id: str) -> Any:
        return self._call("GET", f"/recette/{campaign_id}")

    def end_recette(self, campaign_id: str) -> Any:
        return self._call("POST", f"/recette/{campaign_id}/end")

    def declare(self, campaign_id: str, case_id: str, transaction_id: str, amount_paid: int) -> Any:
        return self._call("POST", f"/recette/{campaign_id}/cases/{case_id}/declaration",
                          {"transactionId": transaction_id, "amountPaid": amount_paid})


def shop_client(transport: Transport, point_of_sale: dict[str, Any]) -> KitClient:
    """A client sealing with a fixture shop's own key (`/_sandbox/fixtures` entry)."""
    return KitClient(transport, key=point_of_sale["key"], key_version=point_of_sale["keyVersion"],
                     shop_id=point_of_sale["shopId"])


def provider_client(transport: Transport, provider: dict[str, Any], shop_id: int) -> KitClient:
    """A client sealing with a service provider's key, for one of its shops."""
    return KitClient(transport, key=provider["key"], key_version=provider["keyVersion"], shop_id=shop_id,
                     service_provider_id=provider["serviceProviderId"])
