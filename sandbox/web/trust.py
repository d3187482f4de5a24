"""Who may talk to this server: the `Host` names it answers, the `Origin`s that may write to the
control plane and the dashboard, the control plane's JSON-only writes, and anti-framing headers.

Why: the sandbox is open on loopback, so without these a page of any other site could reset it,
move its clock or authorize a pending payment (a `text/plain` form or a `no-cors` fetch carries no
`application/json`), or reach it under its own name through DNS rebinding (SPEC §9).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, request

from ..domain import errors

CONTROL_PREFIX = "/_sandbox"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})
# The mailbox previews emails in a frame of its own origin; every other page may not be framed at all.
FRAMEABLE_BY_ITSELF = ("/_sandbox/mail",)


class HostNotAllowed(errors.KitError):
    status, code, message = 400, "HOST_NOT_ALLOWED", "The Host header names a host this server does not answer"


class OriginNotAllowed(errors.KitError):
    status, code, message = 403, "ORIGIN_NOT_ALLOWED", "Requests from another web site are not allowed"


class UnsupportedMediaType(errors.KitError):
    status, code, message = 415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json"


def host_name(host_header: str) -> str | None:
    """The name part of a `Host` header (`[::1]:8421` → `::1`), lower-cased; None when malformed."""
    text = host_header.strip().lower()
    if not text or not text.isascii() or any(c.isspace() or c in "/\\@?#" for c in text):
        return None
    if text.startswith("["):
        name, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not _is_port(rest)):
            return None
        return name
    name, colon, port = text.rpartition(":") if ":" in text else (text, "", "")
    if colon and not _is_port(":" + port):
        return None
    return name.rstrip(".") or None


def _is_port(text: str) -> bool:
    digits = text.removeprefix(":")
    return text.startswith(":") and digits.isascii() and digits.isdigit() and len(digits) <= 5


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """The names this server answers: `localhost`, the name it is bound to, the public URL's host,
    the allow-list (`serve --allowed-host`), and bound to every address (0.0.0.0, ::) this machine's
    name. Any IP address is answered too (127.0.0.1, the laptop's address in a demo): DNS rebinding
    needs a name of the attacker's, and a page cannot rebind an IP address to itself."""

    def __init__(self, public_url: str, bind_host: str | None, allowed_hosts: Iterable[str]) -> None:
        names = set(LOOPBACK_NAMES)
        public = urlsplit(public_url)
        if public.hostname:
            names.add(public.hostname.lower())
        self.public_origin = f"{public.scheme}://{public.netloc}".lower() if public.netloc else None
        self.any_address = bind_host is not None and bind_host.strip("[]") in WILDCARDS
        if bind_host and not self.any_address:
            names.add(bind_host.strip("[]").lower())
        if self.any_address:
            names.add(socket.gethostname().lower())
        for allowed in allowed_hosts:
            names.add(host_name(allowed) or allowed.strip().lower())
        self.names = frozenset(names)

    def answers(self, host_header: str | None) -> bool:
        """True for a `Host` this server was bound to or told about."""
        name = host_name(host_header or "")
        if name is None:
            return False
        return name in self.names or _is_ip(name)

    def origin_allowed(self, origin: str, host_header: str, scheme: str) -> bool:
        """A browser's `Origin` must be this very server's (as the page reached it) or the public URL's."""
        own = f"{scheme}://{host_header.strip()}".lower()
        return origin.strip().lower() in {own, self.public_origin}


def register(app: Flask, public_url: str, bind_host: str | None, allowed_hosts: Iterable[str]) -> HostPolicy:
    """Check every request's Host, and the control plane's and the dashboard's writes; frame nothing."""
    policy = HostPolicy(public_url, bind_host, allowed_hosts)
    app.extensions["ancv_sandbox_hosts"] = policy

    @app.before_request
    def _trusted_request() -> None:
        host = request.headers.get("Host", "")
        if not policy.answers(host):
            raise HostNotAllowed(f"Host {host[:100]!r} is not a name of this server; start it with "
                                 "--allowed-host NAME (or --public-url) to answer that name")
        if request.method not in WRITES or request.blueprint not in ("control", "dashboard"):
            return
        origin = request.headers.get("Origin")
        if origin is not None and not policy.origin_allowed(origin, host, request.scheme):
            raise OriginNotAllowed(f"Origin {origin[:100]!r} is not this server's; the control plane and the "
                                   "dashboard take writes only from their own pages or from tools (no Origin)")
        if request.path.startswith(CONTROL_PREFIX + "/") and request.mimetype != "application/json":
            raise UnsupportedMediaType(f"control-plane writes take Content-Type: application/json only "
                                       f"(got {request.mimetype or 'none'!r}), even with an empty body")

    @app.after_request
    def _no_framing(response: Response) -> Response:
        if request.path.startswith(FRAMEABLE_BY_ITSELF):
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
            response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'self'")
        else:
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        return response

    return policy
