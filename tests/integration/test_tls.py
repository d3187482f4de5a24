"""HTTPS (issue 15, item 1): `serve --tls` with the sandbox's own CA, certificates for receivers, webhooks over TLS."""

import ipaddress
import socket
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sandbox.client import ControlClient, ControlError, FlaskTransport, HttpTransport, shop_client
from sandbox.web import create_app
from tests.conftest import make_settings, serving

DELIVERY_TIMEOUT_S = 10


class HttpsReceiver:
    """A webhook receiver serving TLS with the given certificate and key (PEM text)."""

    def __init__(self, folder: Path, certificate: str, private_key: str) -> None:
        (folder / "receiver.pem").write_text(certificate)
        (folder / "receiver-key.pem").write_text(private_key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(folder / "receiver.pem", folder / "receiver-key.pem")
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(host: str) -> tuple[str, str]:
    """A certificate nobody vouches for (for an IP address or a host name): (certificate, key) PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    san = x509.IPAddress(ipaddress.ip_address(host)) if host[0].isdigit() else x509.DNSName(host)
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([san]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def cancel_url_webhook(base: str, ca_file: str, control: ControlClient, url: str) -> dict:
    """Create a transaction whose cancelUrl is `url`, have the beneficiary abandon it; the delivery once settled."""
    transport = HttpTransport(base, timeout=5, verify=ca_file)
    fixtures = control.fixtures()
    shop = next(p for p in fixtures["pointsOfSale"] if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
    manual = next(b for b in fixtures["beneficiaries"] if b["behaviour"] == "manual")
    kit = shop_client(transport, shop)
    tx = kit.create_transaction(url, "1", 100, redirect_urls={"returnUrl": url, "cancelUrl": url})["transaction"]
    assert kit.set_payer(tx["id"], manual["beneficiaryId"]).ok
    control.act(manual["beneficiaryId"], "abandon")
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        hooks = [h for h in control.webhooks() if h["url"] == url]
        if hooks and hooks[0].get("state") in ("delivered", "failed"):
            return hooks[0]
        time.sleep(0.05)
    raise AssertionError(f"the delivery to {url} did not settle: {control.webhooks()}")


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """`serve --tls` on a virtual clock, shared by this file's tests: (base URL, control, CA file, folder)."""
    folder = tmp_path_factory.mktemp("tls")
    with serving(folder, "--tls", "--clock", "virtual") as (base, control, _, _process):
        yield base, control, str(folder / "serve.sqlite3.tls" / "ca.pem"), folder


def test_the_kit_api_answers_over_https_to_a_client_trusting_the_sandbox_ca_only(tls_server):
    base, control, ca_file, folder = tls_server
    assert base.startswith("https://")
    shop = next(p for p in control.fixtures()["pointsOfSale"] if p["status"] == "ACTIVE")
    assert shop_client(HttpTransport(base, timeout=5, verify=ca_file), shop).point_of_sale().status == 200
    served = control.tls_ca_pem()
    assert served == Path(ca_file).read_text() and "BEGIN CERTIFICATE" in served
    with pytest.raises(requests.exceptions.SSLError, match="certificate verify failed"):
        shop_client(HttpTransport(base, timeout=5), shop).point_of_sale()  # the system's roots only
    assert f"TLS CA         {ca_file}" in (folder / "serve.log").read_text()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_a_client_offering_only_tls_1_1_is_refused_and_tls_1_2_is_accepted(tls_server):
    base, _, _, _ = tls_server
    port = int(base.rsplit(":", 1)[1])

    def handshake(maximum: ssl.TLSVersion) -> str | None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        context.set_ciphers("DEFAULT:@SECLEVEL=0")  # so that our own side does not refuse old versions first
        context.minimum_version, context.maximum_version = ssl.TLSVersion.TLSv1, maximum
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with context.wrap_socket(raw) as tls:
                return tls.version()

    with pytest.raises(ssl.SSLError):
        handshake(ssl.TLSVersion.TLSv1_1)
    assert handshake(ssl.TLSVersion.TLSv1_2) == "TLSv1.2"


def test_a_webhook_to_a_receiver_with_a_certificate_from_the_sandbox_is_delivered(tls_server, tmp_path):
    base, control, ca_file, _ = tls_server
    issued = control.tls_certificate(["localhost", "127.0.0.1", "webhooks.test"])
    assert issued["hosts"] == ["localhost", "127.0.0.1", "webhooks.test"]
    assert issued["caCertificate"] == Path(ca_file).read_text() and "PRIVATE KEY" in issued["privateKey"]
    receiver = HttpsReceiver(tmp_path, issued["certificate"], issued["privateKey"])
    try:
        hook = cancel_url_webhook(base, ca_file, control, receiver.url("/ko"))
    finally:
        receiver.close()
    assert hook["state"] == "delivered" and hook["attempts"][-1]["status"] == 200
    assert receiver.paths == ["/ko"]


def test_a_webhook_to_a_receiver_with_an_unknown_self_signed_certificate_fails_with_the_reason(tls_server, tmp_path):
    base, control, ca_file, _ = tls_server
    receiver = HttpsReceiver(tmp_path, *self_signed("127.0.0.1"))
    try:
        hook = cancel_url_webhook(base, ca_file, control, receiver.url("/ko"))
    finally:
        receiver.close()
    assert hook["state"] == "failed" and receiver.paths == []
    assert {a["error"] for a in hook["attempts"]} == {"certificate verify failed: self-signed certificate"}


def test_the_threaded_server_stack_serves_tls_too(tmp_path):
    # `serving` waits for a health check verified against the CA made beside the database
    with serving(tmp_path, "--tls", "--clock", "virtual", "--server", "threading") as (base, control, _, _process):
        assert base.startswith("https://")
        assert control.tls_ca_pem() == (tmp_path / "serve.sqlite3.tls" / "ca.pem").read_text()


def test_the_ca_is_made_once_and_reused_by_the_next_start(tmp_path):
    first = create_app(make_settings(tls_dir=str(tmp_path / "tls")))
    pem = ControlClient(FlaskTransport(first)).tls_ca_pem()
    first.extensions["ancv_sandbox"].stop()
    second = create_app(make_settings(tls_dir=str(tmp_path / "tls")))
    try:
        assert ControlClient(FlaskTransport(second)).tls_ca_pem() == pem
    finally:
        second.extensions["ancv_sandbox"].stop()


def test_certificates_for_invalid_hosts_are_refused_with_a_message(tmp_path):
    app = create_app(make_settings(tls_dir=str(tmp_path / "tls")))
    transport = FlaskTransport(app)
    try:
        for hosts, message in (([], "non-empty list"), (["bad host"], "'bad host' is not a host name"),
                               (["-x.test"], "is not a host name"), ("localhost", "non-empty list"),
                               ([42], "each host must be a string")):
            reply = transport("POST", "/_sandbox/tls/certificates", {"Content-Type": "application/json"},
                              {"hosts": hosts})
            assert reply.status == 400 and reply.body["errorCode"] == "BAD_REQUEST"
            assert message in reply.headers["X-Sandbox-Detail"]
        issued = ControlClient(transport).tls_certificate(["Localhost", "::1"])
        assert issued["hosts"] == ["localhost", "::1"] and "BEGIN CERTIFICATE" in issued["certificate"]
    finally:
        app.extensions["ancv_sandbox"].stop()


def test_without_tls_the_ca_is_not_found(world):
    with pytest.raises(ControlError) as missing:
        world.control.tls_ca_pem()
    assert missing.value.status == 404 and missing.value.body["errorCode"] == "TLS_NOT_SERVED"


def abandoned_delivery(world, url: str) -> dict:
    """An in-process sandbox's webhook to `url` (a cancelUrl), once settled."""
    kit, manual = world.kit(), world.beneficiary()
    tx = kit.create_transaction("hook", "1", 100, redirect_urls={"returnUrl": url, "cancelUrl": url})["transaction"]
    kit.set_payer(tx["id"], manual["beneficiaryId"])
    world.control.act(manual["beneficiaryId"], "abandon")
    assert world.sandbox.sender.wait_idle(DELIVERY_TIMEOUT_S)
    [hook] = [h for h in world.control.webhooks() if h["url"] == url]
    return hook


def test_the_webhook_ca_file_rule_makes_deliveries_trust_another_ca(world, tmp_path):
    certificate, key = self_signed("127.0.0.1")
    receiver = HttpsReceiver(tmp_path, certificate, key)
    try:
        refused = world.transport("PATCH", "/_sandbox/settings", {"Content-Type": "application/json"},
                                  {"webhookCaFile": str(tmp_path / "nowhere.pem")})
        assert refused.status == 400 and "webhookCaFile: no file at" in refused.headers["X-Sandbox-Detail"]
        assert world.control.settings(webhookCaFile=str(tmp_path / "receiver.pem"))["webhookCaFile"].endswith(".pem")
        hook = abandoned_delivery(world, receiver.url("/ko"))
    finally:
        receiver.close()
    assert hook["state"] == "delivered" and receiver.paths == ["/ko"]


def test_socket_io_connects_over_tls_from_the_servers_own_pages(tls_server):
    import socketio

    base, _, ca_file, _ = tls_server
    http = requests.Session()
    http.verify = ca_file
    client = socketio.Client(http_session=http)
    client.connect(base, transports=["websocket"], wait_timeout=5)  # its Origin: https://127.0.0.1:PORT
    try:
        assert client.connected and client.transport() == "websocket"
    finally:
        client.disconnect()
