"""The optional SMTP relay (`serve --smtp HOST:PORT`): a real SMTP server (aiosmtpd) on loopback gets
every email of the outbox; a relay that is down or silent breaks and slows nothing."""

import email
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller

from sandbox.adapters.smtp import build_message, parse_address
from sandbox.client import HttpTransport, shop_client
from sandbox.domain.dates import format_date, parse_date
from tests.conftest import World, free_port, make_settings, serving

SENDER = "ANCV Chèque-Vacances <no-reply@ancv-sandbox.local>"
MERCHANT = "caisse@camping-des-pins.example"
CLIENT = "ts-client2@example.org"


class Mailbox:
    """aiosmtpd handler: keeps what it receives, parsed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.arrived:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[email.message.EmailMessage]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield mailbox, f"127.0.0.1:{controller.port}"
    controller.stop()


@pytest.fixture
def relayed_world(smtp_server):
    mailbox, address = smtp_server
    w = World(make_settings(smtp_relay=address))
    yield w, mailbox
    w.sandbox.stop()


def send_request(world, contact=CLIENT, order_id="REF202006249"):
    """A payment request by email (Kit /contact): one email in the outbox."""
    kit = world.kit()
    pre = kit.create_pre_transaction(order_id, 4000, world.later(days=3))["preTransaction"]
    assert kit.contact(pre["id"], email=contact).status == 200
    return pre


def parts(message):
    return {part.get_content_type(): part for part in message.iter_parts()}


def test_each_email_of_the_outbox_reaches_the_smtp_server_as_text_and_html(relayed_world):
    world, mailbox = relayed_world
    send_request(world)
    [message] = mailbox.wait_for(1)
    [outbox] = world.control.emails()
    assert message["From"] == SENDER and message["To"] == CLIENT
    assert message["Subject"] == outbox["subject"] and "€" in message["Subject"]  # UTF-8, encoded on the wire
    assert message.get_content_type() == "multipart/alternative"
    by_type = parts(message)
    assert by_type["text/plain"].get_content().replace("\r\n", "\n") == outbox["text"]  # CRLF on the wire
    assert by_type["text/html"].get_content().replace("\r\n", "\n").strip() == outbox["html"]
    assert by_type["text/html"].get_content_charset() == "utf-8"
    assert mailbox.envelopes == [("no-reply@ancv-sandbox.local", [CLIENT])]


def test_merchant_notices_are_relayed_too_in_outbox_order(relayed_world):
    world, mailbox = relayed_world
    kit, ben = world.kit(), world.beneficiary()
    tx = kit.create_transaction("REF202006248", "1", 5000)["transaction"]
    with world.sandbox.uow() as uow:  # what the portal wizard does with the merchant's email
        found = uow.session.transaction(tx["id"])
        found.merchant_email = MERCHANT
        uow.save(found)
    kit.set_payer(tx["id"], ben["beneficiaryId"])
    world.control.act(ben["beneficiaryId"], "authorize", pin=ben["pin"])
    kit.cancel(tx["id"])
    first, second = mailbox.wait_for(2)
    assert (first["To"], first["Subject"]) == (MERCHANT, "LA TRANSACTION A ÉTÉ VALIDÉE")
    assert second["To"] == ben["email"] and "annulé" in second["Subject"]
    assert world.events("EmailRelayFailed") == []


def test_a_relay_that_is_down_keeps_the_email_in_the_outbox_and_says_so_on_the_timeline():
    closed = free_port()  # nothing listens there
    world = World(make_settings(smtp_relay=f"127.0.0.1:{closed}"))
    try:
        pre = send_request(world)
        assert world.kit().get_pre_transaction(pre["id"])["preTransaction"]["state"] == "PROCESSING"
        assert world.sandbox.relay.wait_idle(5)
        [outbox] = world.control.emails()
        [failure] = world.events("EmailRelayFailed")
        assert failure["data"]["to"] == CLIENT and failure["data"]["subject"] == outbox["subject"]
        assert failure["data"]["relay"] == f"127.0.0.1:{closed}" and "Connection" in failure["data"]["error"]
    finally:
        world.sandbox.stop()


def test_a_relay_that_never_answers_does_not_hold_requests_back():
    """The requests answer while the relay is still stuck on its first email, not after it."""
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        world = World(make_settings(smtp_relay=f"127.0.0.1:{silent.getsockname()[1]}", smtp_timeout_s=60))
        try:
            send_request(world)
            send_request(world, contact="other@example.org", order_id="REF2")
            assert len(world.control.emails()) == 2
            assert not world.sandbox.relay.wait_idle(0.2)  # still waiting for the relay's greeting
            assert world.events("EmailRelayFailed") == []
            silent.settimeout(5)
            for _ in range(2):  # hang up on each email in turn: the relay gives up on it
                connection, _ = silent.accept()
                connection.close()
            assert world.sandbox.relay.wait_idle(5)
            assert [e["data"]["to"] for e in world.events("EmailRelayFailed")] == [CLIENT, "other@example.org"]
        finally:
            world.sandbox.stop()


def test_serve_with_smtp_relays_what_the_kit_api_sends(tmp_path, smtp_server):
    mailbox, address = smtp_server
    with serving(tmp_path, "--clock", "virtual", "--smtp", address) as (base, control, _, process):
        shop = next(p for p in control.fixtures()["pointsOfSale"]
                    if p["status"] == "ACTIVE" and not p["serviceProviderIds"])
        kit = shop_client(HttpTransport(base), shop)
        expiry = format_date(parse_date(control.clock()["now"]) + timedelta(days=2))
        pre = kit.create_pre_transaction("live-1", 4000, expiry)
        assert pre.status == 201, pre.content
        assert kit.contact(pre["preTransaction"]["id"], email=CLIENT).status == 200
        [message] = mailbox.wait_for(1)
        assert message["To"] == CLIENT and message["From"] == SENDER
        process.log.seek(0)
        assert f"SMTP relay     {address}" in process.log.read()


@pytest.mark.parametrize("value, problem", [
    ("mailpit", "is not HOST:PORT"),
    ("127.0.0.1:", "is not HOST:PORT"),
    ("127.0.0.1:smtp", "is not HOST:PORT"),
    ("127.0.0.1:70000", "the port must be between 1 and 65535"),
    ("::1:1025", "IPv6 address in brackets"),
])
def test_serve_refuses_an_smtp_value_that_is_not_host_and_port(value, problem):
    done = subprocess.run([sys.executable, "-m", "sandbox.cli", "serve", "--smtp", value],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "argument --smtp:" in done.stderr and problem in done.stderr


@pytest.mark.parametrize("value, address", [
    ("127.0.0.1:1025", ("127.0.0.1", 1025)),
    (" mail.example:25 ", ("mail.example", 25)),
    ("[::1]:1025", ("::1", 1025)),
])
def test_smtp_addresses_are_host_and_port(value, address):
    assert parse_address(value) == address


def test_messages_are_multipart_alternative_with_utf8_headers():
    message = build_message({"to": "a@b.fr", "subject": "LA TRANSACTION A ÉTÉ VALIDÉE", "text": "Réglé : 50,00 €",
                             "html": "<p>Réglé : 50,00 €</p>"})
    wire = message.as_bytes()
    assert b"=?utf-8?" in wire and "É".encode() not in wire.split(b"\n\n", 1)[0]  # headers stay ASCII
    parsed = email.message_from_bytes(wire, policy=policy.default)
    assert parsed["Subject"] == "LA TRANSACTION A ÉTÉ VALIDÉE" and parsed["From"] == SENDER
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
