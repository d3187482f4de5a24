"""The control plane's TLS calls (`serve --tls`): the sandbox's CA, and certificates it signs for receivers."""

from __future__ import annotations

from typing import Any

from ..adapters.clock import WallClock
from ..adapters.tls import check_hosts
from ..domain import errors


class TlsNotServed(errors.KitError):
    status, code, message = 404, "TLS_NOT_SERVED", "The sandbox does not serve TLS"


def _authority(sandbox: Any) -> Any:
    if sandbox.tls is None:
        raise TlsNotServed("start the server with `ancv-sandbox serve --tls` to have a CA")
    return sandbox.tls


def ca_pem(sandbox: Any) -> str:
    """The sandbox's CA certificate, PEM."""
    return str(_authority(sandbox).ca_pem)


def issue(sandbox: Any, body: dict[str, Any]) -> dict[str, Any]:
    """A key and a certificate for `body["hosts"]`, signed by the sandbox's CA (wall time: real clients check it)."""
    authority = _authority(sandbox)
    try:
        hosts = check_hosts(body.get("hosts"))
    except ValueError as exc:
        raise errors.BadRequest(str(exc)) from None
    issued = authority.issue(hosts, WallClock().now())
    return {"certificate": issued.certificate, "privateKey": issued.private_key,
            "caCertificate": authority.ca_pem, "hosts": issued.hosts}
