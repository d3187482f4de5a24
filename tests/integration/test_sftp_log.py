"""The SFTP space's log (`GET /_sandbox/sftp/log`): a real asyncssh client logs in, downloads the journal
the night wrote and uploads an archive; the sandbox records who did what, newest first, at sandbox time,
tells its listeners, filters by username and action, refuses bad filters and forgets everything on reset."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from sandbox.adapters.sftp import Account, SftpServer
from sandbox.services.sftp_space import start_server
from tests.conftest import World, make_settings, run_async

TUESDAY_5 = datetime(2026, 5, 5, 8, 0, tzinfo=UTC)  # 10:00 in Paris
ARCHIVE = b"kept by the integrator\n"
SECONDS_FOR_A_LOGOUT = 10  # the server hears the client hang up a moment after the client's call returns


@pytest.fixture
def served(tmp_path: Path) -> Any:
    """A sandbox whose SFTP space runs on a free loopback port, with one paid transaction journaled."""
    world = World(make_settings(start=TUESDAY_5, journal_dir=str(tmp_path / "sftp")))
    start_server(world.sandbox, tmp_path / "sftp")
    try:
        world.paid_transaction()
        world.advance(22 * 3600)  # Wednesday 8:00 in Paris: consigned at 4:00, journal at 6:00
        yield world
    finally:
        world.sandbox.sftp.stop()
        world.sandbox.stop()


def sftp_account(world: World, username: str) -> dict[str, Any]:
    space = world.control._call("GET", "/sftp")
    return next(a for a in space["accounts"] if a["username"] == username)


def the_log(world: World, query: str = "") -> Any:
    return world.transport("GET", f"/_sandbox/sftp/log{query}", {})


def once_logged_out(entries: Any, logouts: int) -> Any:
    """What `entries()` gives once it holds `logouts` logouts (or after SECONDS_FOR_A_LOGOUT)."""
    deadline = time.monotonic() + SECONDS_FOR_A_LOGOUT
    while True:
        found = entries()
        if sum(e["action"] == "logout" for e in found) >= logouts or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


async def download_and_archive(port: int, username: str, password: str, journal: str) -> bytes:
    async with asyncssh.connect("127.0.0.1", port, username=username, password=password, known_hosts=None,
                                client_keys=None) as conn:
        async with conn.start_sftp_client() as sftp:
            async with sftp.open(f"/upload/operations_journal/{journal}", "rb") as file:
                text = await file.read()
            await sftp.mkdir("/upload/archive")
            async with sftp.open("/upload/archive/notes.txt", "wb") as file:
                await file.write(ARCHIVE)
    return bytes(text)


def test_a_login_a_journal_download_and_an_upload_are_in_the_log_with_who_what_and_how_much(served):
    world = served
    heard: list[dict[str, Any]] = []
    world.sandbox.sftp_listeners.append(heard.append)
    [journal] = world.control._call("GET", "/journals")
    username = journal["recipient"]
    account = sftp_account(world, username)

    text = run_async(download_and_archive(world.sandbox.sftp.port, username, account["password"], journal["name"]))

    entries = once_logged_out(lambda: the_log(world).body["entries"], 1)
    assert text.decode() == world.transport("GET", f"/_sandbox/journals/{journal['name']}", {}).content.decode()
    newest_first = [(e["action"], e["path"], e["bytes"]) for e in entries]
    assert newest_first == [
        ("logout", None, None),
        ("upload", "/upload/archive/notes.txt", len(ARCHIVE)),
        ("download", f"/upload/operations_journal/{journal['name']}", len(text)),
        ("login", None, None),
    ]
    assert {e["username"] for e in entries} == {username}
    assert entries[-1]["method"] == "password"
    assert {e["at"] for e in entries} == {world.control.clock()["now"]}  # sandbox time, not the machine's
    assert len({e["id"] for e in entries}) == 4
    assert [h["id"] for h in heard] == [e["id"] for e in reversed(entries)]  # listeners hear each, in order


def test_the_log_filters_by_username_and_action_and_refuses_bad_filters(served):
    world = served
    [journal] = world.control._call("GET", "/journals")
    username = journal["recipient"]
    password = sftp_account(world, username)["password"]
    for _ in range(2):
        run_async(download_and_archive(world.sandbox.sftp.port, username, password, journal["name"]))
        run_async(delete_archive(world.sandbox.sftp.port, username, password))
    once_logged_out(lambda: the_log(world).body["entries"], 4)

    downloads = the_log(world, f"?username={username}&action=download").body["entries"]
    assert [e["path"] for e in downloads] == [f"/upload/operations_journal/{journal['name']}"] * 2
    assert len(the_log(world, "?action=login&limit=1").body["entries"]) == 1
    assert the_log(world, "?username=2000456").body["entries"] == []  # another account did nothing
    assert the_log(world, "?username=&action=&limit=").body["entries"] == the_log(world).body["entries"]

    for query in ("?action=delete", "?limit=0", "?limit=1001", "?limit=ten", "?limit=-1", "?username=../x"):
        bad = the_log(world, query)
        assert bad.status == 400, query
        assert bad.body["errorCode"] == "BAD_REQUEST" and bad.body["errorMessage"], query

    world.control.reset()
    assert the_log(world).body["entries"] == []


async def delete_archive(port: int, username: str, password: str) -> None:
    async with asyncssh.connect("127.0.0.1", port, username=username, password=password, known_hosts=None,
                                client_keys=None) as conn:
        async with conn.start_sftp_client() as sftp:
            await sftp.remove("/upload/archive/notes.txt")
            await sftp.rmdir("/upload/archive")


def test_a_failing_listener_neither_stops_the_server_nor_hides_the_entries(tmp_path):
    events: list[dict[str, Any]] = []

    def flaky(event: dict[str, Any]) -> None:
        events.append(event)
        raise RuntimeError("a listener's bug")

    key = asyncssh.generate_private_key("ssh-ed25519")
    server = SftpServer(tmp_path, lambda: [Account("1000123", "", (key.export_public_key().decode(),))],
                        on_event=flaky)
    server.start()
    try:
        async def listing() -> list[str]:
            async with asyncssh.connect("127.0.0.1", server.port, username="1000123", client_keys=[key],
                                        known_hosts=None) as conn:
                async with conn.start_sftp_client() as sftp:
                    return sorted(await sftp.listdir("/upload"))

        for logouts in (1, 2):
            assert "operations_journal" in run_async(listing())  # the server still answers
            once_logged_out(lambda: list(events), logouts)
    finally:
        server.stop()
    assert [(e["action"], e.get("method")) for e in events] == [("login", "publickey"), ("logout", None)] * 2
