"""The browser sessions a person opened by logging in (merchants and beneficiaries alike).

A login opens a session under a random grant, kept both in the browser's signed cookie and in
the person's record; a page is served only while its grant is still open. Logging out closes the
grant, so a copy of the cookie taken before (from another machine, a proxy log, a shared
computer) is worth nothing afterwards. A person keeps at most MAX_OPEN_SESSIONS open: a new login
beyond that closes the oldest one.
"""

from __future__ import annotations

import hmac
from typing import Any

MAX_OPEN_SESSIONS = 10


def open_session(grants: list[str], grant: str) -> None:
    grants.append(grant)
    del grants[:-MAX_OPEN_SESSIONS]


def close_session(grants: list[str], grant: Any) -> None:
    grants[:] = [open_grant for open_grant in grants if open_grant != grant]


def is_open(grants: list[str], grant: Any) -> bool:
    return isinstance(grant, str) and any(hmac.compare_digest(grant.encode(), g.encode()) for g in grants)
