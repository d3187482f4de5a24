"""The back office's SFTP space (Kit §5.2.4): a real SSH server, SFTP subsystem only, where ANCV drops
the daily CSV journals and integrators fetch them with stock clients (OpenSSH sftp, FileZilla, WinSCP).

Layout on disk: `root/<username>/upload/<automatic folder>/…`, one jail per account. A client sees
its jail as `/`, which shows `upload` only and is read-only, like an OpenSSH `ChrootDirectory`;
everything happens inside `/upload` ("Les utilisateurs du dépôt n'ont accès qu'au dossier upload et
à ses enfants"). The rules of Kit §5.2.4.2 live in `SpaceRules`:

- `/`, `/upload` and the four automatic folders cannot be deleted, renamed, moved or re-permissioned;
- inside an automatic folder a client may download, rename and delete files, and move them out to a
  folder of its own; nothing else: no upload (a compressed file gets its own message), no sub-folder,
  no file moved in from elsewhere, no attribute change. The automatic folders receive ANCV's journals
  only, which is what the drop and the purge rely on;
- elsewhere in `/upload` (archive folders with other names) clients do what they like: upload any
  file, make and remove folders, rename, move, delete;
- no symbolic or hard links anywhere, and every path is checked to resolve inside the jail.

Login by password or public key (both for the same account, Kit §5.2.4.4). Accounts come from a
callable asked at every login, so accounts created after start (a reset, a new population) log in.
The server runs its own asyncio loop in a background thread: `start()` and `stop()` from any thread.
`purge` deletes files past the retention period, given the instant to compare with.

What clients do is told to an optional `on_event` callable, on the server's thread, as small dicts:
`{"action": "login", "username", "method": "password"|"publickey"}`, `{"action": "download"|"upload",
"username", "path" (as the client sees it), "bytes"}` once per file handle when it is closed, and
`{"action": "logout", "username"}`. A failing callable is logged, never fatal to the server.
"""

from __future__ import annotations

import _thread
import asyncio
import hmac
import logging
import os
import posixpath
import re
import selectors
import stat
import sys
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import asyncssh
from asyncssh import SFTPAttrs, SFTPName, SFTPNoSuchFile, SFTPPermissionDenied

log = logging.getLogger(__name__)

AUTOMATIC_FOLDERS = ("operations_journal", "refunds_journal", "specific_operations_journal",
                     "specific_refunds_journal")
UPLOAD = "upload"
HOST_KEY_NAME = ".ssh_host_ed25519_key"
COMPRESSED_SUFFIXES = (".zip", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz", ".zst", ".lz",
                       ".lzma", ".z", ".7z", ".rar", ".tar", ".cab", ".arj", ".lzh")
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")  # one path segment, never "." or ".."
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
LOGIN_TIMEOUT_S = 30
KEEPALIVE_S = 30
FILE_MODE, FOLDER_MODE = 0o644, 0o755
ACTIONS = ("login", "download", "upload", "logout")  # what `on_event` is told
PASSWORD_METHOD, PUBLIC_KEY_METHOD = "password", "publickey"

_WRITING_FLAGS = (asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC | asyncssh.FXF_APPEND
                  | asyncssh.FXF_EXCL)
_WRITING_ACCESS = asyncssh.ACE4_WRITE_DATA | asyncssh.ACE4_APPEND_DATA | asyncssh.ACE4_WRITE_ATTRIBUTES


@dataclass(frozen=True)
class Account:
    """Who may log in: `username` names the jail folder; an empty password allows keys only."""

    username: str
    password: str
    public_keys: tuple[str, ...] = ()  # OpenSSH one-line public keys ("ssh-ed25519 AAAA… comment")


def check_username(username: str) -> str:
    """The username if it can name a jail folder (letters, digits, `._@-`, not starting with a dot)."""
    if not USERNAME.fullmatch(username):
        raise ValueError(f"{username!r} cannot be an SFTP username: use letters, digits and ._@- "
                         "(not first), 64 characters at most")
    return username


def prepare_space(root: Path, username: str) -> Path:
    """root/username/upload with the four automatic folders (idempotent); returns the upload folder."""
    upload = Path(root) / check_username(username) / UPLOAD
    for folder in AUTOMATIC_FOLDERS:
        (upload / folder).mkdir(parents=True, exist_ok=True)
    return upload


def purge(root: Path, older_than: datetime) -> list[Path]:
    """Delete the files of every account modified before `older_than`, keeping folders; the deleted paths."""
    cutoff = older_than.timestamp()  # a naive datetime is local time, as file times are
    deleted: list[Path] = []
    if not Path(root).is_dir():
        return deleted
    for jail in sorted(Path(root).iterdir()):
        if jail.name.startswith(".") or not jail.is_dir() or jail.is_symlink():
            continue  # the host key and anything that is not an account's space
        for folder, _, files in os.walk(jail, followlinks=False):
            for name in sorted(files):
                path = Path(folder) / name
                try:
                    if path.lstat().st_mtime < cutoff:
                        path.unlink()
                        deleted.append(path)
                except FileNotFoundError:
                    continue  # removed meanwhile by its owner
    return deleted


def is_compressed(name: str) -> bool:
    """Whether a file name says it is an archive or a compressed file (zip, gz, 7z, rar, tar…)."""
    return name.lower().endswith(COMPRESSED_SUFFIXES)


class SpaceRules:
    """Kit §5.2.4.2 on virtual paths, as tuples of names under the jail's `/`: each check returns or
    refuses with SFTP's permission-denied status and a message a person can act on."""

    ROOT, HIDDEN, UPLOAD, AUTOMATIC_FOLDER, IN_AUTOMATIC_FOLDER, OWN = (
        "root", "hidden", "upload", "automatic folder", "in automatic folder", "own")

    @classmethod
    def kind(cls, parts: tuple[str, ...]) -> str:
        if not parts:
            return cls.ROOT
        if parts[0] != UPLOAD:
            return cls.HIDDEN
        if len(parts) == 1:
            return cls.UPLOAD
        if parts[1] in AUTOMATIC_FOLDERS:
            return cls.AUTOMATIC_FOLDER if len(parts) == 2 else cls.IN_AUTOMATIC_FOLDER
        return cls.OWN

    @classmethod
    def write_file(cls, parts: tuple[str, ...]) -> None:
        """Create, overwrite or append to a file."""
        kind = cls.kind(parts)
        if kind == cls.OWN:
            return
        if kind == cls.IN_AUTOMATIC_FOLDER:
            if is_compressed(parts[-1]):
                _refuse(f"{_show(parts)}: compressed files (zip, gz, 7z, rar, tar…) are not allowed in "
                        f"the automatic folder /upload/{parts[1]}")
            _refuse(f"{_show(parts)}: /upload/{parts[1]} receives ANCV's journals only; you may download, "
                    "rename or delete them. Put your own files in a folder of yours, e.g. /upload/archive")
        cls._outside_upload(parts, kind)

    @classmethod
    def make_folder(cls, parts: tuple[str, ...]) -> None:
        kind = cls.kind(parts)
        if kind == cls.OWN:
            return
        if kind == cls.IN_AUTOMATIC_FOLDER:
            _refuse(f"{_show(parts)}: no folders inside the automatic folder /upload/{parts[1]}; make your "
                    "archive folder in /upload with another name, e.g. /upload/archive")
        if kind == cls.AUTOMATIC_FOLDER:
            _refuse(f"{_show(parts)} is an automatic folder and exists already")
        cls._outside_upload(parts, kind)

    @classmethod
    def remove_folder(cls, parts: tuple[str, ...]) -> None:
        kind = cls.kind(parts)
        if kind == cls.OWN:
            return
        cls._fixed(parts, kind, "deleted")

    @classmethod
    def remove_file(cls, parts: tuple[str, ...]) -> None:
        kind = cls.kind(parts)
        if kind in (cls.OWN, cls.IN_AUTOMATIC_FOLDER):
            return
        cls._fixed(parts, kind, "deleted")

    @classmethod
    def rename(cls, old: tuple[str, ...], new: tuple[str, ...], old_is_folder: bool) -> None:
        """Rename or move `old` to `new` (both SFTP renames, plain and POSIX)."""
        old_kind, new_kind = cls.kind(old), cls.kind(new)
        if old_kind not in (cls.OWN, cls.IN_AUTOMATIC_FOLDER):
            cls._fixed(old, old_kind, "renamed or moved")
        if new_kind == cls.OWN:
            return
        if new_kind == cls.IN_AUTOMATIC_FOLDER:
            if old_is_folder:
                _refuse(f"{_show(old)}: folders cannot be moved into the automatic folder /upload/{new[1]}")
            if is_compressed(new[-1]):
                _refuse(f"{_show(new)}: compressed files (zip, gz, 7z, rar, tar…) are not allowed in "
                        f"the automatic folder /upload/{new[1]}")
            if old[:2] != new[:2] or len(new) != 3:
                _refuse(f"{_show(old)}: files of /upload/{new[1]} can be renamed in place or moved out, "
                        "but nothing can be moved in: it receives ANCV's journals only")
            return
        if new_kind == cls.AUTOMATIC_FOLDER:
            _refuse(f"{_show(new)} is an automatic folder: it cannot be replaced")
        cls._outside_upload(new, new_kind)

    @classmethod
    def change_attributes(cls, parts: tuple[str, ...]) -> None:
        kind = cls.kind(parts)
        if kind == cls.OWN:
            return
        if kind == cls.IN_AUTOMATIC_FOLDER:
            _refuse(f"{_show(parts)}: the files of automatic folders keep ANCV's dates and permissions "
                    "(the 6-month purge goes by them)")
        cls._fixed(parts, kind, "changed")

    @staticmethod
    def link() -> None:
        _refuse("links (symbolic or hard) are not allowed on this server")

    @classmethod
    def _fixed(cls, parts: tuple[str, ...], kind: str, done: str) -> None:
        if kind == cls.AUTOMATIC_FOLDER:
            _refuse(f"{_show(parts)} is an automatic folder: it cannot be {done}")
        if kind == cls.UPLOAD:
            _refuse(f"/{UPLOAD} holds the automatic folders: it cannot be {done}")
        cls._outside_upload(parts, kind)

    @classmethod
    def _outside_upload(cls, parts: tuple[str, ...], kind: str) -> None:
        if kind in (cls.ROOT, cls.HIDDEN, cls.UPLOAD):
            _refuse(f"{_show(parts)}: only /{UPLOAD} and its children are yours; work inside /{UPLOAD}")
        _refuse(f"{_show(parts)}: not allowed")  # every kind is handled above; kept for safety


def _refuse(message: str) -> None:
    raise SFTPPermissionDenied(message)


def _show(parts: tuple[str, ...]) -> str:
    return "/" + "/".join(parts)


def _safe_mode(permissions: int | None, default: int, owner: int) -> int:
    """Client-chosen permissions, minus special bits, always leaving the owner (the sandbox) its rights."""
    return default if permissions is None else (permissions & 0o777) | owner


Event = dict[str, Any]


@dataclass
class _OpenFile:
    """A file handle of the session: where the client sees it, and what went through it."""

    parts: tuple[str, ...]
    writing: bool
    size: int = 0  # bytes read (a download) or written (an upload)


class JailedSftp(asyncssh.SFTPServer):
    """One SFTP session, confined to its account's folder and held to `SpaceRules`; each file handle,
    once closed, is told to `tell` as a download or an upload."""

    def __init__(self, chan: asyncssh.SSHServerChannel, jail: Path,
                 tell: Callable[[Event], None] | None = None) -> None:
        self._jail = os.fsencode(os.path.realpath(jail))
        super().__init__(chan, chroot=self._jail)
        self._open_files: dict[object, _OpenFile] = {}
        self._username = str(chan.get_extra_info("username"))
        self._tell = tell

    # Paths ---------------------------------------------------------------------------------------

    @staticmethod
    def parts(path: bytes) -> tuple[str, ...]:
        """The client's path as names under `/`; `..` never climbs above `/`."""
        normal = posixpath.normpath(posixpath.join(b"/", path))
        return tuple(os.fsdecode(name) for name in normal.split(b"/") if name)

    def map_path(self, path: bytes) -> bytes:
        parts = self.parts(path)
        if SpaceRules.kind(parts) == SpaceRules.HIDDEN:
            raise SFTPNoSuchFile(f"{_show(parts)}: no such file (only /{UPLOAD} is here)")
        local = posixpath.join(self._jail, *(os.fsencode(name) for name in parts))
        real = os.path.realpath(local)
        if real != self._jail and not real.startswith(self._jail + b"/"):
            raise SFTPPermissionDenied(f"{_show(parts)} leads outside your space")
        return local

    def _is_folder(self, path: bytes) -> bool:
        return stat.S_ISDIR(os.lstat(self.map_path(path)).st_mode)

    # Reading -------------------------------------------------------------------------------------

    async def scandir(self, path: bytes) -> AsyncIterator[SFTPName]:
        at_root = not self.parts(path)
        async for name in super().scandir(path):
            if not at_root or name.filename in (b".", b"..", UPLOAD.encode()):
                yield name

    # Writing -------------------------------------------------------------------------------------

    def open(self, path: bytes, pflags: int, attrs: SFTPAttrs) -> object:
        parts = self.parts(path)
        if pflags & _WRITING_FLAGS:
            SpaceRules.write_file(parts)
        attrs.permissions = _safe_mode(attrs.permissions, FILE_MODE, 0o600)
        file = super().open(path, pflags, attrs)
        self._open_files[file] = _OpenFile(parts, writing=bool(pflags & _WRITING_FLAGS))
        return file

    def open56(self, path: bytes, desired_access: int, flags: int, attrs: SFTPAttrs) -> object:
        parts = self.parts(path)
        disposition = flags & asyncssh.FXF_ACCESS_DISPOSITION
        writing = bool(desired_access & _WRITING_ACCESS or flags & asyncssh.FXF_APPEND_DATA
                       or disposition != asyncssh.FXF_OPEN_EXISTING)
        if writing:
            SpaceRules.write_file(parts)
        attrs.permissions = _safe_mode(attrs.permissions, FILE_MODE, 0o600)
        file = super().open56(path, desired_access, flags, attrs)
        self._open_files[file] = _OpenFile(parts, writing)
        return file

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        data = cast(bytes, super().read(file_obj, offset, size))  # local files: read synchronously
        opened = self._open_files.get(file_obj)
        if opened is not None and not opened.writing:
            opened.size += len(data)
        return data

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        written = cast(int, super().write(file_obj, offset, data))
        opened = self._open_files.get(file_obj)
        if opened is not None:
            opened.size += len(data)
        return written

    def close(self, file_obj: object) -> None:
        # asyncssh closes the handles a client left open when its session ends: those are told too
        opened = self._open_files.pop(file_obj, None)
        super().close(file_obj)
        if opened is not None and self._tell is not None:
            self._tell({"action": "upload" if opened.writing else "download", "username": self._username,
                        "path": _show(opened.parts), "bytes": opened.size})

    def mkdir(self, path: bytes, attrs: SFTPAttrs) -> None:
        SpaceRules.make_folder(self.parts(path))
        attrs.permissions = _safe_mode(attrs.permissions, FOLDER_MODE, 0o700)
        super().mkdir(path, attrs)

    def rmdir(self, path: bytes) -> None:
        SpaceRules.remove_folder(self.parts(path))
        super().rmdir(path)

    def remove(self, path: bytes) -> None:
        SpaceRules.remove_file(self.parts(path))
        super().remove(path)

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        SpaceRules.rename(self.parts(oldpath), self.parts(newpath), self._is_folder(oldpath))
        super().rename(oldpath, newpath)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        SpaceRules.rename(self.parts(oldpath), self.parts(newpath), self._is_folder(oldpath))
        super().posix_rename(oldpath, newpath)

    def setstat(self, path: bytes, attrs: SFTPAttrs) -> None:
        SpaceRules.change_attributes(self.parts(path))
        super().setstat(path, self._allowed_attributes(attrs, self._is_folder(path)))

    def lsetstat(self, path: bytes, attrs: SFTPAttrs) -> None:
        SpaceRules.change_attributes(self.parts(path))
        super().lsetstat(path, self._allowed_attributes(attrs, self._is_folder(path)))

    def fsetstat(self, file_obj: object, attrs: SFTPAttrs) -> None:
        opened = self._open_files.get(file_obj)
        SpaceRules.change_attributes(opened.parts if opened is not None else ())
        super().fsetstat(file_obj, self._allowed_attributes(attrs, folder=False))

    @staticmethod
    def _allowed_attributes(attrs: SFTPAttrs, folder: bool) -> SFTPAttrs:
        if attrs.uid is not None or attrs.gid is not None or attrs.owner or attrs.group:
            _refuse("owners and groups are the server's; only permissions, dates and sizes can change")
        if attrs.permissions is not None:
            attrs.permissions = _safe_mode(attrs.permissions, 0, 0o700 if folder else 0o600)
        return attrs

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        SpaceRules.link()

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        SpaceRules.link()


class _Gate(asyncssh.SSHServer):
    """One SSH connection: authentication against the accounts of the moment; SFTP is all it offers."""

    def __init__(self, server: SftpServer) -> None:
        self._server = server
        self._conn: asyncssh.SSHServerConnection | None = None
        self._method = ""  # how the latest accepted credentials came: the one a success follows
        self._username: str | None = None  # once logged in

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._server._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._server._connections.discard(self._conn)
        if self._username is not None:
            self._server.tell({"action": "logout", "username": self._username})

    def auth_completed(self) -> None:
        assert self._conn is not None
        self._username = str(self._conn.get_extra_info("username"))
        self._server.tell({"action": "login", "username": self._username, "method": self._method})

    def begin_auth(self, username: str) -> bool:
        return True  # unknown users go through authentication too, and fail it

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        account = self._server.account(username)
        if account is None or not account.password:
            return False
        valid = hmac.compare_digest(account.password.encode(), password.encode())
        if valid:
            self._method = PASSWORD_METHOD
        return valid

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        account = self._server.account(username)
        valid = account is not None and key.public_data in _public_data(account)
        if valid:  # asked before the signature is checked too: a success comes after its own check
            self._method = PUBLIC_KEY_METHOD
        return valid


def _public_data(account: Account) -> set[bytes]:
    keys = set()
    for line in account.public_keys:
        try:
            keys.add(asyncssh.import_public_key(line).public_data)
        except (asyncssh.KeyImportError, ValueError) as error:
            log.warning("SFTP account %s: public key ignored (%s)", account.username, error)
    return keys


def check_public_key(line: str) -> bool:
    """True when `line` is an OpenSSH public key asyncssh can use."""
    try:
        asyncssh.import_public_key(line.strip())
    except (asyncssh.KeyImportError, ValueError):
        return False
    return True


def load_host_key(path: Path) -> asyncssh.SSHKey:
    """The Ed25519 host key kept at `path`, made (owner-only) the first time."""
    path = Path(path)
    if path.exists():
        try:
            return asyncssh.read_private_key(path)
        except (asyncssh.KeyImportError, ValueError) as error:
            raise ValueError(f"{path}: not an SSH private key ({error}); delete it to make a new one") from None
    key = asyncssh.generate_private_key("ssh-ed25519", comment="ancv-sandbox sftp")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(key.export_private_key())
    return key


class SftpServer:
    """The SFTP space on host:port, served by its own asyncio loop in a thread of its own.

    `accounts` is called (on that thread) at every login, `on_event` at each login, logout and
    closed file: keep both quick and thread-safe."""

    def __init__(self, root: Path, accounts: Callable[[], Iterable[Account]], *, host: str = "127.0.0.1",
                 port: int = 0, host_key_path: Path | None = None,
                 on_event: Callable[[Event], None] | None = None) -> None:
        self.root = Path(root)
        self._on_event = on_event
        self.root.mkdir(parents=True, exist_ok=True)
        self.host, self.port = host, port
        self._accounts = accounts
        self._host_key = load_host_key(host_key_path or self.root / HOST_KEY_NAME)
        self.host_key_fingerprint: str = self._host_key.get_fingerprint("sha256")  # as ssh prints it
        self.host_public_key: str = self._host_key.export_public_key().decode().strip()  # for known_hosts
        self._os = _os_primitives()
        self._lock = self._os.allocate_lock()  # start() and stop() may come from different threads
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finished: Any = None  # an OS lock, held while the loop's thread runs
        self._acceptor: asyncssh.SSHAcceptor | None = None

    @property
    def running(self) -> bool:
        return self._loop is not None

    def account(self, username: str) -> Account | None:
        """The account of that name now, or None (also when the accounts cannot be read)."""
        if not USERNAME.fullmatch(username):
            return None
        try:
            return next((account for account in self._accounts() if account.username == username), None)
        except Exception:  # a broken source of accounts refuses logins; it never takes the server down
            log.exception("SFTP: the accounts could not be read")
            return None

    def tell(self, event: Event) -> None:
        """Pass `event` to `on_event`, if any; a failure there is logged and the session goes on."""
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            log.exception("SFTP: the event listener failed on %s", event.get("action"))

    def start(self) -> None:
        """Bind and serve; on return `port` is the bound port. Raises OSError if the port is taken."""
        with self._lock:
            if self._loop is not None:
                return
            bound, finished = self._os.allocate_lock(), self._os.allocate_lock()
            bound.acquire()
            finished.acquire()
            outcome: dict[str, Any] = {}
            self._os.start_new_thread(self._run, (outcome, bound, finished))
            if not bound.acquire(timeout=START_TIMEOUT_S):
                raise TimeoutError(f"the SFTP server did not start within {START_TIMEOUT_S} s")
            if "error" in outcome:
                finished.acquire(timeout=STOP_TIMEOUT_S)
                raise outcome["error"]
            self._loop, self._finished = outcome["loop"], finished

    def stop(self) -> None:
        """Close the listener and every session, then the loop and its thread; idempotent."""
        with self._lock:
            loop, finished = self._loop, self._finished
            if loop is None:
                return
            self._loop = self._finished = None
            try:
                loop.call_soon_threadsafe(lambda: loop.create_task(self._close_then_stop(loop)))
            except RuntimeError:  # the loop is closed already
                return
            if not finished.acquire(timeout=STOP_TIMEOUT_S * 2):
                log.warning("SFTP: the server's thread did not finish within %s s", STOP_TIMEOUT_S * 2)

    def _run(self, outcome: dict[str, Any], bound: Any, finished: Any) -> None:
        """The thread: bind, tell start(), serve until stop(), clean up, tell stop()."""
        loop = asyncio.SelectorEventLoop(self._os.selector())
        loop.set_default_executor(_InlineExecutor())
        try:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._listen())
                outcome["loop"] = loop
            except Exception as error:
                outcome["error"] = error
                return
            finally:
                bound.release()
            loop.run_forever()
        except Exception:
            log.exception("SFTP: the server's loop failed")
        finally:
            _cancel_everything(loop)
            loop.close()
            finished.release()

    async def _listen(self) -> None:
        self._acceptor = await asyncssh.listen(
            self.host, self.port, server_host_keys=[self._host_key], server_factory=lambda: _Gate(self),
            sftp_factory=self._session, allow_scp=False, agent_forwarding=False, x11_forwarding=False,
            allow_pty=False, login_timeout=LOGIN_TIMEOUT_S, keepalive_interval=KEEPALIVE_S)
        self.port = self._acceptor.sockets[0].getsockname()[1]

    def _session(self, chan: asyncssh.SSHServerChannel) -> JailedSftp:
        username = chan.get_extra_info("username")
        return JailedSftp(chan, prepare_space(self.root, username).parent, self.tell)

    async def _close_then_stop(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            if self._acceptor is not None:
                self._acceptor.close()
                await self._acceptor.wait_closed()
                self._acceptor = None
            connections = list(self._connections)
            for conn in connections:
                conn.close()
            if connections:
                await asyncio.wait([asyncio.ensure_future(conn.wait_closed()) for conn in connections],
                                   timeout=STOP_TIMEOUT_S)
        finally:
            loop.stop()


def _cancel_everything(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())


class _InlineExecutor(ThreadPoolExecutor):
    """The loop's executor runs its few short jobs (option objects, host-key signatures) on the loop's
    own thread: no pool to spawn, which under gevent would be greenlets of the web server's thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


@dataclass(frozen=True)
class _OsPrimitives:
    start_new_thread: Callable[..., Any]
    allocate_lock: Callable[[], Any]
    selector: Callable[[], selectors.BaseSelector]


def _os_primitives() -> _OsPrimitives:
    """Threads, locks and selector of the operating system, even under gevent's monkey-patching (`serve`'s
    default), where threading's would make the server a greenlet whose loop stalls the web server."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("threading"):
        return _OsPrimitives(monkey.get_original("_thread", "start_new_thread"),
                             monkey.get_original("_thread", "allocate_lock"),
                             monkey.get_original("selectors", "DefaultSelector"))
    return _OsPrimitives(_thread.start_new_thread, _thread.allocate_lock, selectors.DefaultSelector)
