"""Who may log in to the SFTP space, and what the control plane says of it and of the journals.

One account per service provider and per point d'accueil (a merchant connected directly reads
its own journals), named by its id as the journals' `recipient` is (Kit §5.2.1). Passwords are
drawn from the sandbox's seed, so a reset gives the same ones; public keys are added through
`PUT /_sandbox/sftp/accounts/{username}/keys` (Kit §5.2.4.4: the password stays valid).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..domain import errors, events

if TYPE_CHECKING:
    from ..adapters.sftp import Account, SftpServer
    from .sandbox import Sandbox

log = logging.getLogger(__name__)

KEYS = "sftp_keys"  # meta: {username: [OpenSSH public key lines]}
MAX_KEYS = 20
MAX_KEY_LENGTH = 16_384


class SftpAccountNotFound(errors.KitError):
    status, code, message = 404, "SFTP_ACCOUNT_NOT_FOUND", "No SFTP account has this name"


class JournalNotFound(errors.KitError):
    status, code, message = 404, "JOURNAL_NOT_FOUND", "No journal has this name"


def password(seed: Any, username: str) -> str:
    """The account's password: the same for the same seed."""
    return "Sftp-" + hashlib.sha256(f"{seed}/sftp/{username}".encode()).hexdigest()[:12]


def accounts(sandbox: Sandbox) -> tuple[Account, ...]:
    """Every account as it is now (the SFTP server reads a snapshot of this)."""
    from ..adapters.sftp import Account  # asyncssh: imported when an SFTP space runs, not by every sandbox

    with sandbox.store.session() as s:
        seed = s.get_meta("seed", sandbox.settings.seed)
        keys = s.get_meta(KEYS, {})
        names = ([(str(sp.service_provider_id), "serviceProvider") for sp in s.service_providers()]
                 + [(str(pos.shop_id), "pointOfSale") for pos in s.points_of_sale()])
    return tuple(Account(name, password(seed, name), tuple(keys.get(name, ()))) for name, _ in names)


def kinds(sandbox: Sandbox) -> dict[str, str]:
    with sandbox.store.session() as s:
        return {**{str(sp.service_provider_id): "serviceProvider" for sp in s.service_providers()},
                **{str(pos.shop_id): "pointOfSale" for pos in s.points_of_sale()}}


ACCOUNTS_CHANGE = frozenset({events.FIXTURES_LOADED, events.POPULATION_ADDED, events.SFTP_KEYS_CHANGED})


def start_server(sandbox: Sandbox, folder: Path, host: str = "127.0.0.1", port: int = 0) -> SftpServer:
    """Run the SFTP space on `folder` (the sandbox's journal folder) until `sandbox.sftp.stop()`.

    The server's thread reads a snapshot of the accounts, never the store: the snapshot is
    made again here, after each commit that adds merchants or changes keys. Logins, logouts and
    closed files go to `sandbox.sftp_log` and `sandbox.sftp_listeners` (`record`)."""
    from ..adapters.sftp import SftpServer

    snapshot = [accounts(sandbox)]

    def refresh(events: list[Any], _saved: list[Any]) -> None:
        if any(event.name in ACCOUNTS_CHANGE for event in events):
            snapshot[0] = accounts(sandbox)

    sandbox.listeners.append(refresh)
    server = SftpServer(folder, lambda: snapshot[0], host=host, port=port, on_event=lambda e: record(sandbox, e))
    server.start()
    sandbox.sftp = server
    return server


def record(sandbox: Sandbox, event: dict[str, Any]) -> None:
    """Keep one of the SFTP server's events in `sandbox.sftp_log` and tell `sandbox.sftp_listeners`."""
    entry = sandbox.sftp_log.add(event, sandbox.clock.now())
    for listener in list(sandbox.sftp_listeners):
        try:
            listener(dict(entry))
        except Exception:  # one listener's failure neither hides the entry from the others nor stops the server
            log.exception("SFTP log: a listener failed on %s", entry["id"])


def set_keys(sandbox: Sandbox, username: str, body: Any) -> Account:
    """Replace an account's authorised public keys."""
    from ..adapters.sftp import check_public_key

    if username not in kinds(sandbox):
        raise SftpAccountNotFound(f"no SFTP account {username!r}")
    keys = body.get("publicKeys") if isinstance(body, dict) else None
    if (not isinstance(keys, list) or len(keys) > MAX_KEYS
            or not all(isinstance(k, str) and 0 < len(k) <= MAX_KEY_LENGTH for k in keys)):
        raise errors.BadRequest(f"publicKeys must be a list of at most {MAX_KEYS} OpenSSH public key lines")
    for key in keys:
        if not check_public_key(key):
            raise errors.BadRequest(f"not an OpenSSH public key: {key[:40]!r}…")
    with sandbox.uow() as uow:
        saved = uow.session.get_meta(KEYS, {})
        saved[username] = [k.strip() for k in keys]
        uow.session.set_meta(KEYS, saved)
        uow.record(events.SFTP_KEYS_CHANGED, username, keys=len(keys))
    return next(a for a in accounts(sandbox) if a.username == username)


def as_json(sandbox: Sandbox, server: Any) -> dict[str, Any]:
    """`GET /_sandbox/sftp`: where the space listens and every account."""
    names = kinds(sandbox)
    return {
        "host": server.host if server else None, "port": server.port if server else None,
        "hostKeyFingerprint": server.host_key_fingerprint if server else None,
        "folder": sandbox.settings.journal_dir,
        "accounts": [{"username": a.username, "password": a.password, "kind": names[a.username],
                      "publicKeys": list(a.public_keys)} for a in accounts(sandbox)],
    }


def journals_json(sandbox: Sandbox) -> list[dict[str, Any]]:
    """`GET /_sandbox/journals`: every journal kept, oldest first, without its content."""
    with sandbox.store.session() as s:
        return [{k: v for k, v in journal.items() if k != "content"} for journal in s.journals()]


def journal_text(sandbox: Sandbox, name: str) -> str:
    with sandbox.store.session() as s:
        journal = s.journal(name) if len(name) <= 128 else None
    if journal is None:
        raise JournalNotFound(f"no journal {name!r}")
    return str(journal["content"])
