"""Relaying the outbox to a real SMTP server (`serve --smtp HOST:PORT`), e.g. MailHog or Mailpit.

Emails are written to the outbox in the same database transaction as the change they
report; this relay only forwards copies, from a background thread once the commit is done,
as multipart/alternative (text + HTML). A relay that is down never reaches the request: the
email stays in the outbox, a warning is logged and `failed` is told (the sandbox records an
event on its timeline). One worker sends in outbox order.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from .background import Background

log = logging.getLogger(__name__)

SENDER = Address("ANCV Chèque-Vacances", "no-reply", "ancv-sandbox.local")
TIMEOUT_S = 5.0


def parse_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 as `[::1]:1025`) → (host, port); ValueError with a message people can act on."""
    value = (text or "").strip()
    host, sep, port_text = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise ValueError(f"{text!r}: write an IPv6 address in brackets, e.g. [::1]:1025")
    if not sep or not host or not (port_text.isascii() and port_text.isdigit()) or any(c.isspace() for c in host):
        raise ValueError(f"{text!r} is not HOST:PORT, e.g. 127.0.0.1:1025")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"{text!r}: the port must be between 1 and 65535")
    return host, port


def build_message(email: dict[str, Any]) -> EmailMessage:
    """An outbox entry (`to`, `subject`, `text`, `html`) as a MIME message; headers are UTF-8 encoded."""
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = email["to"]
    message["Subject"] = email["subject"]
    message.set_content(email["text"])
    message.add_alternative(email["html"], subtype="html")
    return message


class SmtpRelay:
    """Sends outbox entries to HOST:PORT in a background thread; `failed(email, error)` on each failure."""

    def __init__(self, address: str, failed: Callable[[dict[str, Any], str], None], *,
                 timeout_s: float = TIMEOUT_S) -> None:
        self.host, self.port = parse_address(address)
        self._failed, self._timeout_s = failed, timeout_s
        self._work = Background("smtp", workers=1)  # one at a time: emails leave in their order
        self.wait_idle, self.close = self._work.wait_idle, self._work.close

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def submit(self, email: dict[str, Any]) -> None:
        self._work.submit(self._deliver, email)

    def _deliver(self, email: dict[str, Any]) -> None:
        try:
            self._send(email)
        except Exception as error:  # never let a down relay reach anyone but the log and the timeline
            reason = f"{type(error).__name__}: {error}"
            log.warning("SMTP relay %s: email to %s not sent (%s); it stays in the outbox",
                        self.address, email.get("to"), reason)
            self._failed(email, reason)

    def _send(self, email: dict[str, Any]) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self._timeout_s) as server:
            server.send_message(build_message(email))
