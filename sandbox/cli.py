"""The `ancv-sandbox` command: serve, fixtures, simulate, scan, seal, recette."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ancv-sandbox", description="A local Chèque-Vacances Connect platform.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the sandbox server with seeded demo data")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8421)
    serve.add_argument("--db", default="ancv-sandbox.sqlite3",
                       help="SQLite file, ':memory:', 'memory' (the in-memory store: fastest, gone at exit) "
                            "or any SQLAlchemy URL (default: %(default)s)")
    serve.add_argument("--clock", choices=("wall", "virtual"), default="wall")
    serve.add_argument("--speed", type=float, default=1.0, help="sandbox seconds per real second (wall clock)")
    serve.add_argument("--start", help="first instant of a virtual clock (ISO 8601), default now")
    serve.add_argument("--seed", type=int, default=42, help="seed of the demo data and ids (default: %(default)s)")
    serve.add_argument("--think-time", type=float, default=None, help="seconds before automatic beneficiaries answer")
    serve.add_argument("--public-url", help="base URL people and QR codes use (default http://HOST:PORT)")
    serve.add_argument("--admin-token", help="token for /_sandbox (required when not bound to loopback)")
    serve.add_argument("--allowed-host", action="append", default=[], metavar="NAME", type=_host_name,
                       help="also answer requests whose Host is NAME (repeatable), e.g. the name a proxy or a "
                            "container network gives the sandbox; localhost, IP addresses, the --host name and "
                            "the --public-url host are always answered, other names are refused (DNS rebinding)")
    serve.add_argument("--smtp", metavar="HOST:PORT", type=_smtp_address,
                       help="also send every email of the outbox to this SMTP server (e.g. Mailpit on 127.0.0.1:1025)")
    serve.add_argument("--sftp-port", type=int, default=8422,
                       help="port of the SFTP space with the daily journals (default %(default)s; 0: any free port)")
    serve.add_argument("--sftp-dir", help="folder of the SFTP spaces and journals (default: DB.sftp beside a "
                                          "database file, else a temporary folder)")
    serve.add_argument("--no-sftp", action="store_true", help="do not run the SFTP space (journals stay in "
                                                              "/_sandbox/journals)")
    serve.add_argument("--server", choices=("gevent", "threading"), default="gevent",
                       help="server stack (default gevent: WSGI server with WebSocket for Socket.IO)")
    serve.add_argument("--message-queue", metavar="URL",
                       help="share live pushes with the other server processes on the same database through "
                            "this queue, e.g. redis://127.0.0.1:6379/0 (pip install -e '.[scaleout]')")

    serve.add_argument("--tls", action="store_true",
                       help="serve HTTPS (TLS 1.2 at least) on --port, with a certificate signed by the sandbox's "
                            "own CA (made on first use, kept in --tls-dir; its file is printed at start)")
    serve.add_argument("--tls-dir", help="folder of the sandbox's CA (default: DB.tls beside a database file, else "
                                         "a temporary folder)")
    fixtures = commands.add_parser("fixtures", help="print the demo credentials as JSON")
    fixtures.add_argument("--db", help="read them from this database (default: generate from the seed)")
    fixtures.add_argument("--seed", type=int, default=42)

    simulate = commands.add_parser("simulate", help="run a scenario of simulated merchants and customers")
    from scenarios.options import add_arguments

    add_arguments(simulate)

    scan = commands.add_parser("scan", help="read payment QR codes or CVCoId codes from a camera or a recording, "
                                            "and pay or charge them")
    from customer_sim.scanner.options import add_arguments as add_scan_arguments

    add_scan_arguments(scan)

    # the cahier de recette (issue 17), for CI: against a running server
    recette = commands.add_parser("recette", help="acceptance campaigns (cahier de recette) against a running "
                                                  "sandbox: start, status, report")
    from .recette_cli import add_arguments as add_recette_arguments

    add_recette_arguments(recette)

    seal = commands.add_parser("seal", help="print an ANCV-Security header for the given fields")
    seal.add_argument("--key", required=True)
    seal.add_argument("--key-version", required=True)
    seal.add_argument("fields", nargs="*", help="the operation's sealed fields, in the Kit's order")

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    try:
        code = _command(args)
        sys.stdout.flush()  # here, not at exit: a closed pipe is then seen below, not printed as ignored
        return code
    except BrokenPipeError:
        # whoever read the output stopped (`ancv-sandbox simulate --list | head -3`): end quietly, as Unix tools
        # do, with what is left to print going nowhere, not with a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _command(args: argparse.Namespace) -> int:
    """Every command but `serve`, which prints to no pipe."""
    if args.command == "fixtures":
        return _fixtures(args)
    if args.command == "recette":
        from .recette_cli import main as run_recette

        return run_recette(args)
    if args.command in ("simulate", "scan"):
        # Before anything runs: a missing extra is one line and exit 2, not a traceback (issue 15, item 5).
        problem = _missing_extra(args)
        if problem:
            print(f"ancv-sandbox {args.command}: {problem}", file=sys.stderr)
            return 2
    if args.command == "simulate":
        from scenarios.cli import main as run_scenario

        return run_scenario(args)
    if args.command == "scan":
        from customer_sim.scanner.cli import main as run_scanner

        return run_scanner(args)
    return _seal(args)


def _missing_extra(args: argparse.Namespace) -> str | None:
    """What `scan`, `simulate --report` or `simulate --dask` lack of their pip extra, in one line, or None."""
    from .extras import missing_extra

    if args.command == "scan":
        return missing_extra("scan")
    if getattr(args, "dask", None) and (missing := missing_extra("dask")):
        return missing
    return missing_extra("report") if getattr(args, "report", None) else None


def _host_name(text: str) -> str:
    from .web.trust import host_name

    name = host_name(text)
    if name is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a host name (e.g. sandbox.local or 192.168.1.20)")
    return name


def _smtp_address(text: str) -> str:
    from .adapters.smtp import parse_address

    try:
        parse_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def _seal(args: argparse.Namespace) -> int:
    from .domain.seal import security_header

    print(security_header(args.key_version, args.key, args.fields))
    return 0


def _fixtures(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .services import fixtures
    from .services.sandbox import Sandbox, Settings

    if args.db and "://" not in args.db and not Path(args.db).exists():
        print(f"ancv-sandbox: no database at {args.db}", file=sys.stderr)
        return 2
    sandbox = Sandbox(Settings(db=args.db, seed=args.seed, run_scheduler=False))
    try:
        print(json.dumps(fixtures.as_json(sandbox), ensure_ascii=False, indent=2))
    finally:
        sandbox.stop()
    return 0


def _serve(args: argparse.Namespace) -> int:
    if args.server == "gevent":
        from gevent import monkey

        monkey.patch_all()
    import logging
    import secrets

    from .domain.dates import parse_date
    from .services import fixtures
    from .services.sandbox import Rules, Sandbox, Settings
    from .web import create_app, server

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.message_queue:
        problem = _message_queue_problem(args)
        if problem:
            print(f"ancv-sandbox: {problem}", file=sys.stderr)
            return 2
    token = args.admin_token
    if args.host not in LOOPBACK and not token:
        token = secrets.token_urlsafe(24)
    scheme = "https" if args.tls else "http"
    public_url = args.public_url or f"{scheme}://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
    rules = Rules()
    if args.think_time is not None:
        rules.thinkTimeSeconds = args.think_time
    try:
        settings = Settings(db=args.db, clock=args.clock, speed=args.speed, seed=args.seed, public_url=public_url,
                            admin_token=token, rules=rules, start=parse_date(args.start) if args.start else None,
                            smtp_relay=args.smtp, journal_dir=_sftp_dir(args), bind_host=args.host,
                            allowed_hosts=list(args.allowed_host), tls_dir=_tls_dir(args))
        sandbox = Sandbox(settings)
    except (ValueError, OSError) as exc:  # OSError: the --tls CA folder cannot be written or read
        print(f"ancv-sandbox: {exc}", file=sys.stderr)
        return 2
    app = create_app(sandbox=sandbox, async_mode=args.server, message_queue=args.message_queue)
    sandbox.start()
    try:
        if not args.no_sftp:
            from .services.sftp_space import start_server

            start_server(sandbox, Path(settings.journal_dir or "."), args.host, args.sftp_port)
    except OSError as exc:
        print(f"ancv-sandbox: the SFTP space cannot listen on port {args.sftp_port} ({exc}); "
              "choose another with --sftp-port, or --no-sftp", file=sys.stderr)
        sandbox.stop()
        return 2
    ssl_context = _server_tls(sandbox, args)
    _print_banner(sandbox, fixtures.as_json(sandbox), args, token)
    try:
        server.run(app, args.host, args.port, args.server, ssl_context=ssl_context)
    except KeyboardInterrupt:
        pass
    finally:
        if sandbox.sftp is not None:
            sandbox.sftp.stop()
        sandbox.stop()
    return 0


def _message_queue_problem(args: argparse.Namespace) -> str | None:
    """Why `--message-queue` cannot work as asked, if it cannot: checked before anything starts."""
    if args.clock != "wall":
        return "--message-queue: server processes sharing a database share its time, which needs --clock wall"
    if not args.message_queue.startswith(("redis://", "rediss://")):
        return None  # Flask-SocketIO's other queues (Kafka, ZeroMQ, Kombu) report their own problems
    try:
        import redis
    except ImportError:
        return "--message-queue redis://… needs the redis package: pip install -e '.[scaleout]'"
    try:
        redis.Redis.from_url(args.message_queue, socket_timeout=5).ping()
    except (redis.RedisError, ValueError) as exc:
        return f"--message-queue: cannot reach {args.message_queue} ({exc})"
    return None


def _sftp_dir(args: argparse.Namespace) -> str:
    """Where journals and SFTP spaces live: asked for, beside a database file, or a temporary folder."""
    if args.sftp_dir:
        return str(args.sftp_dir)
    if args.db and args.db not in (":memory:", "memory") and "://" not in args.db:
        return f"{args.db}.sftp"
    import tempfile

    return tempfile.mkdtemp(prefix="ancv-sandbox-sftp-")


def _tls_dir(args: argparse.Namespace) -> str | None:
    """Where the CA of `--tls` lives: asked for, beside a database file (reused across restarts), or temporary."""
    if not args.tls:
        return None
    if args.tls_dir:
        return str(args.tls_dir)
    if args.db and args.db not in (":memory:", "memory") and "://" not in args.db:
        return f"{args.db}.tls"
    import tempfile

    return tempfile.mkdtemp(prefix="ancv-sandbox-tls-")


def _server_tls(sandbox: Any, args: argparse.Namespace) -> Any:
    """With --tls, a TLS context whose certificate names every host the server is reached by; else None."""
    if sandbox.tls is None:
        return None
    from urllib.parse import urlsplit

    from .adapters.clock import WallClock
    from .adapters.tls import SERVER_HOSTS, check_hosts

    names = [*SERVER_HOSTS, urlsplit(sandbox.settings.public_url).hostname or "localhost", *args.allowed_host]
    if args.host not in ("0.0.0.0", "::"):
        names.append(args.host)
    return sandbox.tls.server_context(check_hosts(names), WallClock().now())


def _print_banner(sandbox: Any, world: dict[str, Any], args: argparse.Namespace, token: str | None) -> None:
    from .domain.french import euros

    base = sandbox.settings.public_url
    lines = [
        f"ancv-sandbox ready on {base}  (clock {sandbox.clock.mode}, speed {sandbox.clock.speed}, db {args.db})",
        f"  Kit API        {sandbox.kit_base_url}",
        f"  Control plane  {base}/_sandbox   (OpenAPI: {base}/openapi/kit-api.json, {base}/openapi/control.json)",
    ]
    if sandbox.tls is not None:
        lines.append(f"  TLS CA         {sandbox.tls.ca_file}   (TLS 1.2+; also {base}/_sandbox/tls/ca.pem)")
    if token:
        lines.append(f"  Admin token    {token}   (Authorization: Bearer …)")
    if sandbox.relay is not None:
        lines.append(f"  SMTP relay     {sandbox.relay.address}   (every email of {base}/_sandbox/emails)")
    if sandbox.sftp is not None:
        lines.append(f"  SFTP space     sftp -P {sandbox.sftp.port} SHOP_OR_PROVIDER_ID@{args.host}   "
                     f"(passwords: {base}/_sandbox/sftp; host key {sandbox.sftp.host_key_fingerprint})")
    lines.append("Service providers:")
    for sp in world["serviceProviders"]:
        lines.append(f"  {sp['serviceProviderId']}  {sp['name']}  key {sp['keyVersion']}={sp['key']}")
    lines.append("Points d'accueil (shopId, convention, login / password, key):")
    for p in world["pointsOfSale"]:
        via = f"  via {','.join(map(str, p['serviceProviderIds']))}" if p["serviceProviderIds"] else ""
        lines.append(f"  {p['shopId']}  {p['conventionId']}  {p['login']} / {p['password']}  "
                     f"{p['keyVersion']}={p['key']}  {p['status']}{via}  {p['name']}")
    lines.append("Beneficiaries (id, email / password, personal code, behaviour, balance):")
    for b in world["beneficiaries"]:
        lines.append(f"  {b['beneficiaryId']}  {b['email']} / {b['password']}  code {b['pin']}  "
                     f"{b['behaviour']:<11}  {euros(b['balance'])}")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
