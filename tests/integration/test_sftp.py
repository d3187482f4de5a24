"""The back office's SFTP space (Kit §5.2.4): a real SSH server on a loopback port, reached with asyncssh's
client and with OpenSSH's own `sftp`; jail, Kit §5.2.4.2's rules, logins, host key, stop and purge."""

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncssh
import pytest

from sandbox.adapters.sftp import AUTOMATIC_FOLDERS, Account, SftpServer, prepare_space, purge
from tests.conftest import run_async

MERCHANT = "1000123"  # a serviceProviderId, as text
NEIGHBOUR = "2000456"
PASSWORD = "jZ4-sftp-demo"
JOURNAL = "OPERATIONS_1000123_20250314.csv"
JOURNAL_TEXT = "transactionId;amount\nT1;4000\n"
SFTP_BINARY = shutil.which("sftp")
SSH_KEYGEN = shutil.which("ssh-keygen")
SECONDS_FOR_A_BATCH = 20
SECONDS_WITH_THE_HUB_HELD = 5


def run(coroutine):
    return run_async(coroutine)


class Space:
    """A running server on a free loopback port, the accounts it knows (a list the test may extend)
    and helpers to put journals where ANCV drops them and to open client sessions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.accounts = [Account(MERCHANT, PASSWORD), Account(NEIGHBOUR, "other-password")]
        self.server = SftpServer(root, lambda: list(self.accounts))

    def drop(self, username: str, name: str = JOURNAL, folder: str = "operations_journal",
             text: str = JOURNAL_TEXT) -> Path:
        path = prepare_space(self.root, username) / folder / name
        path.write_text(text)
        return path

    def upload(self, username: str = MERCHANT) -> Path:
        return self.root / username / "upload"

    @asynccontextmanager
    async def session(self, username: str = MERCHANT, password: str | None = PASSWORD, **options):
        options.setdefault("client_keys", None)  # only the keys the test gives, never ~/.ssh's
        async with asyncssh.connect("127.0.0.1", self.server.port, username=username, password=password,
                                    known_hosts=None, **options) as conn:
            async with conn.start_sftp_client() as sftp:
                yield sftp


@pytest.fixture
def space(tmp_path):
    space = Space(tmp_path / "sftp")
    space.server.start()
    try:
        yield space
    finally:
        space.server.stop()


@pytest.fixture
def ed25519_key(tmp_path):
    """A key pair made by ssh-keygen, as an integrator would: (private key path, public key line)."""
    if SSH_KEYGEN is None:
        pytest.skip("ssh-keygen is not installed")
    private = tmp_path / "id_ed25519"
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "integrator@example.org", "-f", str(private)],
                   check=True, timeout=SECONDS_FOR_A_BATCH)
    return private, private.with_suffix(".pub").read_text().strip()


def openssh_sftp(space: Space, key: Path, commands: str, workdir: Path,
                 username: str = MERCHANT) -> subprocess.CompletedProcess:
    """OpenSSH's sftp in batch mode, key only, ignoring the user's ssh configuration."""
    if SFTP_BINARY is None:
        pytest.skip("OpenSSH's sftp is not installed")
    batch = workdir / "batch"
    batch.write_text(textwrap.dedent(commands))
    return subprocess.run(
        [SFTP_BINARY, "-b", str(batch), "-P", str(space.server.port), "-F", "/dev/null",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
         "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "PasswordAuthentication=no",
         "-i", str(key), f"{username}@127.0.0.1"],
        cwd=workdir, capture_output=True, text=True, timeout=SECONDS_FOR_A_BATCH)


def refused(error: pytest.ExceptionInfo, *words: str) -> bool:
    """The operation got SFTP's permission-denied status, with a message saying why."""
    reason = error.value.reason.lower()
    return error.value.code == asyncssh.FX_PERMISSION_DENIED and all(word in reason for word in words)


# Logging in and downloading -----------------------------------------------------------------------

def test_a_merchant_logs_in_by_password_and_downloads_the_days_journal(space):
    space.drop(MERCHANT)

    async def scenario():
        async with space.session() as sftp:
            root_listing = await sftp.listdir("/")
            folders = await sftp.listdir("/upload")
            here = await sftp.realpath(".")
            journals = await sftp.listdir("upload/operations_journal")
            async with sftp.open(f"/upload/operations_journal/{JOURNAL}") as file:
                return root_listing, folders, here, journals, await file.read()

    root_listing, folders, here, journals, text = run(scenario())
    assert sorted(root_listing) == [".", "..", "upload"]
    assert set(folders) == {".", "..", *AUTOMATIC_FOLDERS}
    assert here == "/"
    assert JOURNAL in journals
    assert text == JOURNAL_TEXT


def test_the_stock_openssh_client_logs_in_with_a_key_and_downloads_a_journal(space, ed25519_key, tmp_path):
    private, public = ed25519_key
    space.accounts[0] = Account(MERCHANT, PASSWORD, public_keys=(public,))
    space.drop(MERCHANT)

    done = openssh_sftp(space, private, f"""\
        ls -1 upload
        cd upload/operations_journal
        get {JOURNAL} downloaded.csv
        """, tmp_path)

    assert done.returncode == 0, done.stderr
    assert all(folder in done.stdout for folder in AUTOMATIC_FOLDERS)
    assert (tmp_path / "downloaded.csv").read_text() == JOURNAL_TEXT


def test_an_account_with_a_key_can_still_log_in_by_password(space, ed25519_key):
    private, public = ed25519_key
    space.accounts[0] = Account(MERCHANT, PASSWORD, public_keys=(public,))

    async def by(**credentials):
        async with space.session(**credentials) as sftp:
            return await sftp.listdir("/")

    assert "upload" in run(by(password=None, client_keys=[str(private)]))
    assert "upload" in run(by(password=PASSWORD))


def test_a_wrong_password_an_unknown_user_or_someone_elses_key_is_refused(space, ed25519_key):
    private, _ = ed25519_key

    async def log_in(username, password=None, keys=None):
        async with space.session(username, password, client_keys=keys):
            pass

    for username, password, keys in ((MERCHANT, "wrong", None), ("9999999", PASSWORD, None),
                                     ("../" + MERCHANT, PASSWORD, None), (MERCHANT, None, [str(private)])):
        with pytest.raises(asyncssh.PermissionDenied):
            run(log_in(username, password, keys))
    run(log_in(MERCHANT, PASSWORD))  # the server is none the worse


def test_an_account_added_after_start_logs_in_and_finds_its_folders(space):
    space.accounts.append(Account("3000789", "late-comer"))

    async def scenario():
        async with space.session("3000789", "late-comer") as sftp:
            return await sftp.listdir("/upload")

    assert set(run(scenario())) >= set(AUTOMATIC_FOLDERS)
    assert (space.upload("3000789") / "refunds_journal").is_dir()


def test_accounts_that_cannot_be_read_refuse_logins_without_stopping_the_server(tmp_path):
    broken = True

    def accounts():
        if broken:
            raise RuntimeError("database is locked")
        return [Account(MERCHANT, PASSWORD)]

    server = SftpServer(tmp_path / "sftp", accounts)
    server.start()
    try:
        async def log_in():
            async with asyncssh.connect("127.0.0.1", server.port, username=MERCHANT, password=PASSWORD,
                                        known_hosts=None, client_keys=None):
                pass

        with pytest.raises(asyncssh.PermissionDenied):
            run(log_in())
        broken = False
        run(log_in())
    finally:
        server.stop()


def test_no_shell_no_command_no_port_forwarding_only_sftp(space):
    async def scenario():
        async with asyncssh.connect("127.0.0.1", space.server.port, username=MERCHANT, password=PASSWORD,
                                    known_hosts=None, client_keys=None) as conn:
            for attempt in (conn.run("cat /etc/passwd"), conn.run(),
                            conn.create_connection(asyncssh.SSHTCPSession, "127.0.0.1", space.server.port)):
                with pytest.raises(asyncssh.ChannelOpenError):
                    await attempt

    run(scenario())


# The jail -----------------------------------------------------------------------------------------

def test_dot_dot_and_absolute_paths_stay_inside_the_account(space):
    space.drop(NEIGHBOUR, "NEIGHBOUR.csv")

    async def scenario():
        async with space.session() as sftp:
            assert await sftp.realpath("/../../..") == "/"
            assert sorted(await sftp.listdir("/upload/../..")) == [".", "..", "upload"]
            for outside in ("/etc/passwd", "/upload/../../etc/passwd", "../../../../etc/passwd",
                            f"/../{NEIGHBOUR}/upload/operations_journal/NEIGHBOUR.csv", f"/{NEIGHBOUR}"):
                with pytest.raises(asyncssh.SFTPNoSuchFile):
                    await sftp.stat(outside)
            with pytest.raises(asyncssh.SFTPNoSuchFile):
                await sftp.get("/etc/passwd", os.devnull)
            return await sftp.listdir("/upload/operations_journal")

    assert "NEIGHBOUR.csv" not in run(scenario())


def test_links_cannot_be_made_and_a_link_planted_on_disk_is_not_followed(space):
    space.drop(MERCHANT)
    (space.upload() / "planted").symlink_to("/etc")

    async def scenario():
        async with space.session() as sftp:
            for target in ("/etc/passwd", "../../../../../etc/passwd", f"operations_journal/{JOURNAL}"):
                with pytest.raises(asyncssh.SFTPPermissionDenied) as error:
                    await sftp.symlink(target, "/upload/link")
                assert refused(error, "links")
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                await sftp.link(f"/upload/operations_journal/{JOURNAL}", "/upload/hard")
            with pytest.raises(asyncssh.SFTPPermissionDenied) as error:
                await sftp.listdir("/upload/planted")
            assert refused(error, "outside your space")

    run(scenario())
    assert not (space.upload() / "link").exists() and not (space.upload() / "hard").exists()


def test_the_jail_root_is_read_only_and_shows_only_upload(space):
    prepare_space(space.root, MERCHANT)
    (space.root / MERCHANT / "notes.txt").write_text("the sandbox's, not the merchant's")

    async def scenario():
        async with space.session() as sftp:
            assert sorted(await sftp.listdir("/")) == [".", "..", "upload"]
            with pytest.raises(asyncssh.SFTPPermissionDenied) as error:
                await sftp.mkdir("/archive")
            assert refused(error, "inside /upload")
            with pytest.raises(asyncssh.SFTPPermissionDenied):
                async with sftp.open("/hello.txt", "w") as file:
                    await file.write("hello")
            for delete in (sftp.rmdir("/upload"), sftp.rename("/upload", "/upload2")):
                with pytest.raises(asyncssh.SFTPPermissionDenied):
                    await delete

    run(scenario())
    assert (space.upload() / "operations_journal").is_dir()


# Kit §5.2.4.2 ------------------------------------------------------------------------------------

def test_journals_can_be_renamed_in_place_moved_to_an_archive_folder_or_deleted(space):
    kept, archived, deleted = (space.drop(MERCHANT, name) for name in ("A.csv", "B.csv", "C.csv"))

    async def scenario():
        async with space.session() as sftp:
            await sftp.rename("/upload/operations_journal/A.csv", "/upload/operations_journal/A.csv.done")
            await sftp.mkdir("/upload/archive")
            await sftp.mkdir("/upload/archive/2025-03")
            await sftp.rename("/upload/operations_journal/B.csv", "/upload/archive/2025-03/B.csv")
            await sftp.remove("/upload/operations_journal/C.csv")

    run(scenario())
    journals = space.upload() / "operations_journal"
    assert sorted(p.name for p in journals.iterdir()) == ["A.csv.done"]
    assert (space.upload() / "archive" / "2025-03" / "B.csv").read_text() == JOURNAL_TEXT
    assert not kept.exists() and not archived.exists() and not deleted.exists()


def test_automatic_folders_cannot_be_renamed_moved_replaced_or_deleted(space):
    async def scenario():
        async with space.session() as sftp:
            await sftp.mkdir("/upload/archive")
            await sftp.mkdir("/upload/empty")
            attempts = [
                sftp.rename("/upload/refunds_journal", "/upload/old_refunds"),
                sftp.rename("/upload/refunds_journal", "/upload/archive/refunds_journal"),
                sftp.rename("/upload/refunds_journal", "/upload/operations_journal/refunds_journal"),
                sftp.posix_rename("/upload/empty", "/upload/specific_refunds_journal"),
                sftp.rmdir("/upload/operations_journal"),
                sftp.rmtree("/upload/specific_operations_journal"),
                sftp.chmod("/upload/operations_journal", 0),
            ]
            reasons = []
            for attempt in attempts:
                with pytest.raises(asyncssh.SFTPPermissionDenied) as error:
                    await attempt
                reasons.append(error.value.reason)
            return reasons

    reasons = run(scenario())
    assert all("automatic folder" in reason for reason in reasons), reasons
    for folder in AUTOMATIC_FOLDERS:
        assert (space.upload() / folder).is_dir()
    assert os.stat(space.upload() / "operations_journal").st_mode & 0o700 == 0o700


def test_compressed_files_cannot_be_added_to_an_automatic_folder_but_can_be_archived(space, tmp_path):
    space.drop(MERCHANT)
    archive = tmp_path / "journals.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")

    async def scenario():
        async with space.session() as sftp:
            with pytest.raises(asyncssh.SFTPPermissionDenied) as put_zip:
                await sftp.put(str(archive), "/upload/operations_journal/journals.zip")
            with pytest.raises(asyncssh.SFTPPermissionDenied) as renamed_gz:
                await sftp.rename(f"/upload/operations_journal/{JOURNAL}",
                                  f"/upload/operations_journal/{JOURNAL}.gz")
            await sftp.mkdir("/upload/archive")
            await sftp.put(str(archive), "/upload/archive/journals.zip")
            return put_zip, renamed_gz

    put_zip, renamed_gz = run(scenario())
    assert refused(put_zip, "compressed", "/upload/operations_journal")
    assert refused(renamed_gz, "compressed")
    assert sorted(p.name for p in (space.upload() / "operations_journal").iterdir()) == [JOURNAL]
    assert (space.upload() / "archive" / "journals.zip").read_bytes() == archive.read_bytes()


def test_automatic_folders_take_nothing_from_the_client(space, tmp_path):
    """Only ANCV drops files there: no upload, no sub-folder, nothing moved in, no date changed."""
    space.drop(MERCHANT)
    space.drop(MERCHANT, "REFUND.csv", folder="refunds_journal")
    mine = tmp_path / "mine.csv"
    mine.write_text("my own")

    async def scenario():
        async with space.session() as sftp:
            await sftp.mkdir("/upload/archive")
            await sftp.put(str(mine), "/upload/archive/mine.csv")
            attempts = [
                sftp.put(str(mine), "/upload/operations_journal/mine.csv"),
                sftp.mkdir("/upload/operations_journal/2025"),
                sftp.rename("/upload/archive/mine.csv", "/upload/operations_journal/mine.csv"),
                sftp.rename("/upload/refunds_journal/REFUND.csv", "/upload/operations_journal/REFUND.csv"),
                sftp.rename("/upload/archive", "/upload/operations_journal/archive"),
                sftp.utime(f"/upload/operations_journal/{JOURNAL}", (0, 0)),
            ]
            for attempt in attempts:
                with pytest.raises(asyncssh.SFTPPermissionDenied):
                    await attempt
            async with sftp.open(f"/upload/operations_journal/{JOURNAL}", "a") as file:
                await file.write("tampered")

    with pytest.raises(asyncssh.SFTPPermissionDenied) as error:
        run(scenario())
    assert refused(error, "download, rename or delete")
    assert sorted(p.name for p in (space.upload() / "operations_journal").iterdir()) == [JOURNAL]
    assert (space.upload() / "operations_journal" / JOURNAL).read_text() == JOURNAL_TEXT


def test_own_folders_are_free_and_keep_the_owners_rights(space, tmp_path):
    async def scenario():
        async with space.session() as sftp:
            await sftp.makedirs("/upload/archive/2025/03")
            async with sftp.open("/upload/archive/2025/03/notes.txt", "w") as file:
                await file.write("processed")
            await sftp.chmod("/upload/archive/2025/03/notes.txt", 0)
            await sftp.chmod("/upload/archive/2025", 0)
            await sftp.rename("/upload/archive", "/upload/processed")
            await sftp.remove("/upload/processed/2025/03/notes.txt")
            await sftp.rmtree("/upload/processed")

    run(scenario())
    assert sorted(p.name for p in space.upload().iterdir()) == sorted(AUTOMATIC_FOLDERS)


def test_the_stock_client_sees_refusals_and_goes_on(space, ed25519_key, tmp_path):
    """With `-` before a command, batch mode carries on after an error: the refusals come back as errors."""
    private, public = ed25519_key
    space.accounts[0] = Account(MERCHANT, PASSWORD, public_keys=(public,))
    space.drop(MERCHANT)
    (tmp_path / "journals.zip").write_bytes(b"PK\x03\x04")

    done = openssh_sftp(space, private, f"""\
        -rename upload/operations_journal upload/journal
        -rmdir upload/refunds_journal
        -put journals.zip upload/operations_journal/
        -symlink /etc/passwd upload/passwd
        -get /etc/passwd passwd
        mkdir upload/archive
        rename upload/operations_journal/{JOURNAL} upload/archive/{JOURNAL}
        ls -1 upload/archive
        """, tmp_path)

    assert done.returncode == 0, done.stderr
    assert done.stderr.count("Permission denied") >= 4, done.stderr
    assert JOURNAL in done.stdout
    assert not (tmp_path / "passwd").exists()
    assert (space.upload() / "archive" / JOURNAL).exists()


# Host key, stop, restart --------------------------------------------------------------------------

def test_the_host_key_is_kept_so_known_hosts_stay_valid_across_restarts(space, tmp_path):
    first_fingerprint, port = space.server.host_key_fingerprint, space.server.port
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {space.server.host_public_key}\n")
    space.server.stop()

    again = SftpServer(space.root, lambda: space.accounts, port=port)
    again.start()
    try:
        async def log_in():
            async with asyncssh.connect("127.0.0.1", port, username=MERCHANT, password=PASSWORD,
                                        known_hosts=str(known_hosts), client_keys=None) as conn:
                return conn.get_server_host_key().get_fingerprint("sha256")

        assert again.host_key_fingerprint == first_fingerprint == run(log_in())
        assert first_fingerprint.startswith("SHA256:")
        assert (space.root / ".ssh_host_ed25519_key").stat().st_mode & 0o777 == 0o600
    finally:
        again.stop()


def test_stop_ends_open_sessions_frees_the_port_and_can_be_called_twice(space):
    port = space.server.port
    ended = []

    async def scenario():
        async with space.session() as sftp:
            await sftp.listdir("/upload")
            space.server.stop()
            try:
                await asyncio.wait_for(sftp.listdir("/upload"), 5)
            except (asyncssh.Error, ConnectionError) as error:
                ended.append(error)

    async def log_in():
        async with space.session() as sftp:
            return await sftp.listdir("/upload")

    run(scenario())
    space.server.stop()
    assert ended and not space.server.running
    with pytest.raises(OSError):
        run(log_in())
    space.server.start()  # the same server again, on the same port
    assert space.server.port == port
    assert "operations_journal" in run(log_in())


def test_start_reports_a_port_already_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = SftpServer(tmp_path / "sftp", lambda: [], port=taken.getsockname()[1])
        with pytest.raises(OSError):
            server.start()
        server.stop()
    assert not server.running


def test_under_gevent_the_server_answers_even_while_the_web_servers_greenlets_are_busy(tmp_path):
    """`ancv-sandbox serve` monkey-patches everything with gevent; the SFTP server keeps to an OS thread of
    its own, so it neither waits for the web server's greenlets nor makes them wait (here the hub is held
    by a busy greenlet that never yields, the whole time the client logs in and downloads)."""
    space = Space(tmp_path / "sftp")
    space.drop(MERCHANT, text="x" * 5_000_000)
    done = tmp_path / "done"
    script = textwrap.dedent(f"""\
        from gevent import monkey; monkey.patch_all()
        from pathlib import Path
        from sandbox.adapters.sftp import Account, SftpServer
        server = SftpServer(Path({str(space.root)!r}), lambda: [Account({MERCHANT!r}, {PASSWORD!r})])
        server.start()
        print(server.port, flush=True)
        busy_wait = monkey.get_original("time", "sleep")  # blocks the hub: no greenlet runs meanwhile
        while not Path({str(done)!r}).exists():
            busy_wait(0.01)
        server.stop()
        print("stopped", flush=True)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).parents[2])
    try:
        space.server.port = int(child.stdout.readline())

        async def download():
            async with space.session(connect_timeout=SECONDS_WITH_THE_HUB_HELD) as sftp:
                async with sftp.open(f"/upload/operations_journal/{JOURNAL}") as file:
                    return len(await asyncio.wait_for(file.read(), SECONDS_WITH_THE_HUB_HELD))

        assert run(download()) == 5_000_000
        done.touch()
        out, _ = child.communicate(timeout=SECONDS_FOR_A_BATCH)
    finally:
        done.touch()
        child.kill()
    assert out.strip() == "stopped" and child.returncode == 0


# Purge --------------------------------------------------------------------------------------------

def test_purge_deletes_only_files_older_than_the_limit_in_every_folder_of_every_account(tmp_path):
    root = tmp_path / "sftp"
    now = datetime(2025, 9, 1, 3, 0, tzinfo=UTC)
    six_months_ago = now - timedelta(days=183)
    SftpServer(root, lambda: [])  # makes the host key, never started
    host_key = root / ".ssh_host_ed25519_key"
    old_journal = prepare_space(root, MERCHANT) / "operations_journal" / "OLD.csv"
    new_journal = prepare_space(root, MERCHANT) / "operations_journal" / "NEW.csv"
    old_archived = prepare_space(root, NEIGHBOUR) / "archive" / "2024" / "OLD.csv"
    old_archived.parent.mkdir(parents=True)
    for path, age in ((old_journal, 200), (new_journal, 10), (old_archived, 400), (host_key, 900)):
        path.touch(exist_ok=True)
        instant = (now - timedelta(days=age)).timestamp()
        os.utime(path, (instant, instant))

    deleted = purge(root, six_months_ago)

    assert sorted(deleted) == sorted([old_journal, old_archived])
    assert new_journal.exists() and host_key.exists()
    assert old_archived.parent.is_dir()
    assert all((root / MERCHANT / "upload" / folder).is_dir() for folder in AUTOMATIC_FOLDERS)
