"""Delivery of webhooks (Kit §5.1): POST JSON, retried after 100, 150, 225 and 337 ms.

HTTPS receivers' certificates are verified against what `trust` gives (the system's roots, the sandbox's CA
with `serve --tls`, the `webhookCaFile` rule); a TLS failure is recorded with its reason in words.

Redirects are not followed: a 3xx is recorded as such on the attempt, and counts as a failure.

Deliveries are rows written in the same database transaction as the change they report;
this sender only reads pending rows and records each attempt, so a crash loses none
(pending rows are picked up again at start).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .background import Background

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (0.100, 0.150, 0.225, 0.337)  # Kit §5.1.2.1
TIMEOUT_S = 5.0


def is_success(status: int | None) -> bool:
    """2xx only: a redirect is not followed (it could lead the sandbox anywhere, a metadata address
    included), so the integrator's endpoint never took the notification: a failure, retried like a 4xx."""
    return status is not None and 200 <= status < 300


def _made_this_round(attempts: list[dict[str, Any]]) -> int:
    """Attempts already made in the current round: since the last resend, else all of them."""
    starts = [i for i, attempt in enumerate(attempts) if attempt.get("resent")]
    return len(attempts) - (starts[-1] if starts else 0)


class WebhookSender:
    """Posts deliveries in background threads; `record` stores each attempt."""

    def __init__(self, record: Callable[[int, str, list[dict[str, Any]]], None],
                 now: Callable[[], Any], *, strict: Callable[[], bool] = lambda: False,
                 workers: int = 4, timeout_s: float = TIMEOUT_S,
                 trust: Callable[[], str | bool] = lambda: True,
                 sending: Callable[[dict[str, Any]], str | None] = lambda delivery: None) -> None:
        self._record, self._now, self._strict = record, now, strict
        self._sending = sending  # told of each attempt; a reason it returns makes the answer count as lost
        self._trust = trust  # requests' `verify`: True (certifi) or a CA bundle file
        self._timeout_s = timeout_s
        self._work = Background("webhook", workers)
        self._http: requests.Session | None = None  # made on the first post
        self._http_made = threading.Lock()
        self.wait_idle, self.close = self._work.wait_idle, self._work.close

    def submit(self, delivery: dict[str, Any]) -> None:
        self._work.submit(self._attempts, delivery)

    def resend(self, delivery: dict[str, Any]) -> None:
        """Post a delivery again, with a fresh round of retries; its past attempts stay on record."""
        self._work.submit(self._attempts, delivery, True)

    def _attempts(self, delivery: dict[str, Any], resent: bool = False) -> None:
        attempts: list[dict[str, Any]] = list(delivery.get("attempts", []))
        url = delivery["url"]
        if self._strict() and not url.startswith("https://"):
            attempts.append({"at": self._now(), "status": None, "error": "not sent: strict mode requires https"})
            self._record(delivery["id"], "failed", attempts)
            return
        for delay in (0.0, *RETRY_DELAYS_S)[0 if resent else _made_this_round(attempts):]:
            if delay:
                time.sleep(delay)
            lost = self._sending(delivery)
            status, error = self._post(url, delivery["body"])
            error = error or lost
            attempt: dict[str, Any] = {"at": self._now(), "status": status}
            if resent:  # where this round starts: a restart carries on with the round's own retries
                attempt["resent"], resent = True, False
            if error:
                attempt["error"] = error
            attempts.append(attempt)
            if is_success(status) and error is None:
                self._record(delivery["id"], "delivered", attempts)
                return
            self._record(delivery["id"], "pending", attempts)
        self._record(delivery["id"], "failed", attempts)

    def _post(self, url: str, body: dict[str, Any]) -> tuple[int | None, str | None]:
        import requests  # here, not at the top: a sandbox in a simulation never posts (~0.3 s of CPU saved)

        from .tls import failure_reason

        with self._http_made:
            if self._http is None:
                self._http = requests.Session()
            http = self._http
        try:
            verify = self._trust()
        except OSError as exc:  # the webhookCaFile rule names a file that went away
            return None, f"not sent: cannot read the CA file ({exc})"
        try:
            response = http.post(url, json=body, timeout=self._timeout_s, allow_redirects=False, verify=verify)
        except requests.RequestException as exc:
            return None, failure_reason(exc) or type(exc).__name__
        if response.is_redirect:
            location = response.headers.get("Location", "")[:200]
            return response.status_code, f"redirect not followed (Location: {location})"
        return response.status_code, None
