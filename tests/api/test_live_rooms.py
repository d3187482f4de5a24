"""Live pushes (issue 3): a page's Socket.IO rooms are those of the browser session that opened it."""

import pytest

from sandbox.domain.accounts import AccountRefusal
from sandbox.services import merchant_accounts
from tests.people import Merchant


def socket_of(world, browser):
    return world.app.extensions["socketio"].test_client(world.app, flask_test_client=browser)


def event_types(socket):
    return [m["args"][0]["type"] for m in socket.get_received() if m["name"] == "event"]


def test_a_merchant_page_hears_its_own_shop_and_nobody_else_s(world):
    mine, other = world.shop(0), world.shop(1)
    merchant = Merchant(world, mine)
    socket = socket_of(world, merchant.client)
    answer = socket.emit("join", {"rooms": ["shop", "beneficiary"]}, callback=True)
    assert answer == {"joined": [f"shop:{mine['shopId']}"]}
    world.kit(1).create_transaction("THEIRS-1", "1", 1000)
    assert event_types(socket) == []
    world.kit(0).create_transaction("MINE-1", "1", 1000)
    assert event_types(socket) == ["TransactionInitialized"]
    assert other["shopId"] != mine["shopId"]


def test_without_a_session_no_room_but_the_loopback_control_plane_may_name_one(world):
    socket = socket_of(world, world.app.test_client())
    assert socket.emit("join", {"rooms": ["shop", "beneficiary"]}, callback=True) == {"joined": []}
    shop = world.shop(1)
    assert socket.emit("join", {"shopId": shop["shopId"]}, callback=True) == {"joined": [f"shop:{shop['shopId']}"]}


def test_with_an_admin_token_a_stranger_names_no_room(world):
    world.sandbox.settings.admin_token = "s3cret"
    try:
        socket = socket_of(world, world.app.test_client())
        shop = world.shop(1)
        assert socket.emit("join", {"shopId": shop["shopId"], "timeline": True}, callback=True) == {"joined": []}
        world.kit(1).create_transaction("T-1", "1", 1000)
        assert event_types(socket) == []
    finally:
        world.sandbox.settings.admin_token = None


def test_a_locked_out_merchant_hears_nothing(world):
    shop = world.shop(0)
    merchant = Merchant(world, shop)
    for _ in range(3):
        with pytest.raises(AccountRefusal):
            merchant_accounts.log_in(world.sandbox, shop["login"], "wrong")
    socket = socket_of(world, merchant.client)
    assert socket.emit("join", {"rooms": ["shop"]}, callback=True) == {"joined": []}


@pytest.mark.parametrize("host, origin, accepted", [
    ("localhost:8421", "http://localhost:8421", True),  # the page's own server, by another name
    ("192.168.1.5:8421", "http://192.168.1.5:8421", True),
    ("127.0.0.1:8421", "http://127.0.0.1:8421", True),  # the public URL
    ("localhost:8421", "http://evil.example", False),
])
def test_socket_io_accepts_pages_of_this_server_only(world, host, origin, accepted):
    reply = world.app.test_client().get("/socket.io/?EIO=4&transport=polling",
                                        headers={"Host": host, "Origin": origin})
    assert (reply.status_code == 200) is accepted
