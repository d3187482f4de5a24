"""The control plane `/_sandbox` (SPEC §9)."""

from tests.conftest import World, make_settings


def test_health_clock_and_fixtures_have_the_documented_shapes(world):
    assert world.control.health() == {"status": "ok"}
    clock = world.control.clock()
    assert clock["mode"] == "virtual" and clock["now"] == "2026-06-02T08:00:00.000Z" and clock["speed"] == 1.0
    fixtures = world.control.fixtures()
    assert {"serviceProviderId", "keyVersion", "key"} <= set(fixtures["serviceProviders"][0])
    assert {"shopId", "name", "conventionId", "login", "password", "keyVersion", "key", "status"} <= set(
        fixtures["pointsOfSale"][0])
    assert {"beneficiaryId", "email", "password", "pin", "balance", "behaviour"} <= set(fixtures["beneficiaries"][0])


def test_fixtures_cover_the_required_world(world):
    """SPEC §9 / issue: ≥2 points of sale, one convention with several, a provider, every behaviour."""
    fixtures = world.fixtures
    conventions = [p["conventionId"] for p in fixtures["pointsOfSale"]]
    assert len(fixtures["pointsOfSale"]) >= 2 and len(conventions) > len(set(conventions))
    assert len(fixtures["serviceProviders"]) >= 1
    behaviours = {b["behaviour"] for b in fixtures["beneficiaries"]}
    assert behaviours >= {"manual", "pay_full", "pay_partial", "wrong_pin", "no_answer", "abandon", "no_device",
                          "low_balance"}
    low = world.beneficiary("low_balance")["balance"]
    assert 0 < low < world.beneficiary("pay_full")["balance"]
    for p in fixtures["pointsOfSale"]:
        assert len(p["conventionId"]) == 6 and len(p["login"]) == 12 and p["login"].startswith(p["conventionId"])


def test_reset_with_a_seed_is_deterministic_and_drops_everything(world):
    world.paid_transaction()
    first = world.control.reset(7)
    seven = world.control.fixtures()
    world.control.reset(8)
    eight = world.control.fixtures()
    world.control.reset(7)
    assert first["seed"] == 7 and world.control.fixtures() == seven != eight
    assert world.control.webhooks() == [] and [e["type"] for e in world.control.events()] == ["FixturesLoaded"]


def test_same_seed_gives_the_same_ids_in_two_sandboxes():
    ids = []
    for _ in range(2):
        w = World(make_settings())
        ids.append(w.kit().create_transaction("p", "1", 100)["transaction"]["id"])
        w.sandbox.stop()
    assert ids[0] == ids[1]


def test_advance_refuses_a_wall_clock_and_bad_seconds(world):
    bad = world.transport("POST", "/_sandbox/clock/advance", {"Content-Type": "application/json"}, {"seconds": -1})
    assert bad.status == 400 and bad.body["errorCode"] == "BAD_REQUEST"
    wall = World(make_settings(clock="wall"))
    reply = wall.transport("POST", "/_sandbox/clock/advance", {"Content-Type": "application/json"}, {"seconds": 1})
    assert reply.status == 409 and reply.body["errorCode"] == "NOT_VIRTUAL_CLOCK"
    wall.sandbox.stop()


def test_act_and_behaviour_errors_are_clear(world):
    def post(path, body, method="POST"):
        return world.transport(method, path, {"Content-Type": "application/json"}, body)

    ben = world.beneficiary()["beneficiaryId"]
    assert post(f"/_sandbox/beneficiaries/{ben}/act", {"action": "dance"}).status == 400
    assert post("/_sandbox/beneficiaries/10001001575/act", {"action": "abandon"}).body["errorCode"] == (
        "BENEFICIARY_NOT_FOUND")
    assert post(f"/_sandbox/beneficiaries/{ben}/act", {"action": "abandon"}).body["errorCode"] == (
        "TRANSACTION_NOT_FOUND")
    assert post(f"/_sandbox/beneficiaries/{ben}/behaviour", {"behaviour": "fly"}, "PUT").status == 400
    assert post("/_sandbox/settings", {"thinkTimeSeconds": "soon"}, "PATCH").status == 400
    assert post("/_sandbox/settings", {"unknown": 1}, "PATCH").status == 400
    assert world.transport("POST", "/_sandbox/reset", {"Content-Type": "application/json"}, None).status == 200


def test_admin_token_is_required_when_set():
    from sandbox.client import ControlClient, FlaskTransport
    from sandbox.web import create_app

    app = create_app(make_settings(admin_token="s3cret"))
    transport = FlaskTransport(app)
    assert transport("GET", "/_sandbox/health", {}).status == 200
    assert transport("GET", "/_sandbox/fixtures", {}).status == 401
    assert ControlClient(transport, admin_token="s3cret").fixtures()["pointsOfSale"]
    app.extensions["ancv_sandbox"].stop()


def test_events_are_the_timeline_oldest_first_and_can_be_paged(world):
    world.paid_transaction()
    events = world.control.events()
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    types = [e["type"] for e in events]
    assert types.index("TransactionInitialized") < types.index("TransactionProcessing") < types.index(
        "TransactionAuthorized") < types.index("TransactionValidated")
    assert world.control.events(after=events[-2]["seq"]) == events[-1:]


def test_openapi_documents_are_served(world):
    kit = world.transport("GET", "/openapi/kit-api.json", {})
    control = world.transport("GET", "/openapi/control.json", {})
    assert kit.status == control.status == 200 and kit.body["openapi"].startswith("3.1")
    assert "/payment-transactions/{id}/payer" in kit.body["paths"] or any("payer" in p for p in kit.body["paths"])


def test_minimum_amount_is_a_setting_like_the_older_guides_20_euros(world):
    """SR: minimum 0,01 € by default (Kit v1.06); 20 € as in older guides when set."""
    kit = world.kit()
    assert kit.create_transaction("one-cent", "1", 1).status == 201
    world.control.settings(minimumAmountCents=2000)
    low = kit.create_transaction("low", "1", 1999)
    low_request = kit.create_pre_transaction("low", 1999, world.later(hours=1))
    assert (low.status, low["errorCode"]) == (412, "INVALID_TRANSACTION_AMOUNT")
    assert low_request["errorCode"] == "INVALID_PRE_TRANSACTION_AMOUNT"
    assert kit.create_transaction("ok", "1", 2000).status == 201


def test_every_setting_is_documented_in_the_control_openapi_document(world):
    from sandbox.web.docs import document

    documented = set(document("control")["components"]["schemas"]["Settings"]["properties"])
    assert set(world.control.settings()) == documented


def test_settings_refuse_non_finite_or_huge_values_and_apply_all_or_nothing(world):
    def patch(raw):
        return world.transport("PATCH", "/_sandbox/settings", {"Content-Type": "application/json"}, raw)

    before = world.control.settings()
    for raw in ({"thinkTimeSeconds": 1e12}, {"wrongPinsBeforeBlock": 1e300}, {"thinkTimeSeconds": 9, "nope": 1}):
        assert patch(raw).status == 400, raw
    for text in ('{"thinkTimeSeconds": NaN}', '{"wrongPinsBeforeBlock": Infinity}'):
        reply = world.app.test_client().patch("/_sandbox/settings", data=text, content_type="application/json")
        assert reply.status_code == 400, text
    assert world.control.settings() == before


def test_advance_refuses_non_finite_and_absurd_durations(world):
    client = world.app.test_client()
    for text in ('{"seconds": NaN}', '{"seconds": Infinity}', '{"seconds": 1e300}'):
        assert client.post("/_sandbox/clock/advance", data=text, content_type="application/json").status_code == 400


def test_concurrent_advances_move_time_once_each_in_order(world):
    from concurrent.futures import ThreadPoolExecutor

    start = world.now()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: world.control.advance(10), range(8)))
    assert (world.now() - start).total_seconds() == 80


def test_a_broken_deadline_does_not_hold_back_the_others(world):
    kit = world.kit()
    tx = kit.create_transaction("p", "1", 100)["transaction"]
    with world.sandbox.uow() as uow:
        uow.session.set_timer("no_such_kind", "x", world.now())  # an unknown kind is simply skipped…
    from sandbox.services import scheduler

    original = scheduler.handle_timer

    def failing(uow, kind, ref):
        if kind == "no_such_kind":
            raise RuntimeError("boom")
        return original(uow, kind, ref)

    scheduler.handle_timer = failing
    try:
        world.advance(300)
    finally:
        scheduler.handle_timer = original
    assert kit.get_transaction(tx["id"])["transaction"]["state"] == "EXPIRED"
    assert [e["ref"] for e in world.events("DeadlineFailed")] == ["x"]


def test_reset_restores_the_settings_the_sandbox_started_with(world):
    world.control.settings(thinkTimeSeconds=42)
    world.control.reset()
    assert world.control.settings()["thinkTimeSeconds"] == 3.0


def _reset(world, body):
    return world.transport("POST", "/_sandbox/reset", {"Content-Type": "application/json"}, body)


def test_reset_puts_a_virtual_clock_back_to_the_instant_the_sandbox_started_with(world):
    """Issue 14, item 14: after a reset, the same seed replays the same run at the same instants."""
    started = world.control.clock()["now"]
    first = world.kit().create_transaction("p", "1", 100)["transaction"]
    world.advance(3 * 86_400)
    reply = _reset(world, {})
    assert reply.status == 200 and reply.body["now"] == started == world.control.clock()["now"]
    again = world.kit().create_transaction("p", "1", 100)["transaction"]
    assert again["creationDate"] == first["creationDate"] and again["id"] == first["id"]


def test_after_a_restart_a_reset_still_goes_back_to_the_instant_the_sandbox_first_started_with(tmp_path):
    """The restart resumes the clock where it was; the instant a reset goes back to is kept with the data."""
    first = World(make_settings(db=str(tmp_path / "sandbox.db")))
    started = first.control.clock()["now"]
    first.advance(86_400)
    first.sandbox.stop()
    again = World(make_settings(db=str(tmp_path / "sandbox.db"), start=None))
    try:
        assert again.control.clock()["now"] > started
        assert _reset(again, {}).body["now"] == started == again.control.clock()["now"]
    finally:
        again.sandbox.stop()


def test_reset_may_set_a_virtual_clock_to_a_given_instant_then_back_to_the_start(world):
    started = world.control.clock()["now"]
    reply = _reset(world, {"now": "2026-12-24T18:30:00+01:00", "seed": 42})
    assert reply.status == 200 and reply.body["now"] == "2026-12-24T17:30:00.000Z"
    assert world.control.clock()["now"] == "2026-12-24T17:30:00.000Z"
    assert world.kit().create_transaction("p", "1", 100)["transaction"]["creationDate"] == "2026-12-24T17:30:00.000Z"
    world.advance(60)
    assert _reset(world, {}).body["now"] == started  # an earlier instant than the one given: a reset goes back


def test_reset_refuses_a_bad_instant_as_a_kit_style_400_and_resets_nothing(world):
    world.paid_transaction()
    before = (world.control.clock()["now"], _events(world))
    for bad in ("tomorrow", "2026-12-24", "2026-12-24T18:30:00", "2026-13-40T00:00:00Z", 1767225600, True,
                ["2026-12-24T18:30:00Z"], "9999-12-31T23:59:59Z", "1900-01-01T00:00:00Z"):
        reply = _reset(world, {"now": bad})
        assert reply.status == 400 and reply.body["errorCode"] == "BAD_REQUEST", bad
        assert set(reply.body) == {"errorCode", "errorMessage"} and "now" in reply.headers["X-Sandbox-Detail"]
    assert (world.control.clock()["now"], _events(world)) == before


def test_reset_leaves_a_wall_clock_alone_and_refuses_to_set_it(world):
    wall = World(make_settings(clock="wall"))
    try:
        assert _reset(wall, {}).status == 200
        reply = _reset(wall, {"now": "2026-12-24T18:30:00Z"})
        assert reply.status == 409 and reply.body["errorCode"] == "NOT_VIRTUAL_CLOCK"
    finally:
        wall.sandbox.stop()


# --- another web page cannot drive the control plane (issue 14, item 9) ---------------------------------------

def _events(world):
    return [e["type"] for e in world.control.events()]


def test_a_text_plain_form_posted_to_reset_is_refused_and_nothing_is_reset(world):
    """What a page of another site can send without asking (a form, or fetch in no-cors mode)."""
    world.paid_transaction()
    before = _events(world)
    client = world.app.test_client()
    for content_type, data in (("text/plain", '{"seed": 7}'), ("application/x-www-form-urlencoded", "seed=7"),
                               ("multipart/form-data; boundary=x", "--x--"), (None, "")):
        reply = client.post("/_sandbox/reset", data=data, content_type=content_type)
        assert reply.status_code == 415 and reply.json["errorCode"] == "UNSUPPORTED_MEDIA_TYPE", content_type
        assert "application/json" in reply.json["errorMessage"]
    assert _events(world) == before  # the payment is still there, no FixturesLoaded


def test_every_control_plane_write_takes_json_only(world):
    """Moving the clock, acting as a beneficiary (authorizing a payment), rules, population, keys."""
    ben = world.beneficiary("manual")["beneficiaryId"]
    client = world.app.test_client()
    now = world.now()
    for method, path, body in (("POST", "/_sandbox/clock/advance", '{"seconds": 3600}'),
                               ("POST", f"/_sandbox/beneficiaries/{ben}/act", '{"action": "abandon"}'),
                               ("POST", f"/_sandbox/beneficiaries/{ben}/unblock", ""),
                               ("PUT", f"/_sandbox/beneficiaries/{ben}/behaviour", '{"behaviour": "pay_full"}'),
                               ("PATCH", "/_sandbox/settings", '{"thinkTimeSeconds": 9}'),
                               ("POST", "/_sandbox/population", '{"pointsOfSale": 1}'),
                               ("PUT", "/_sandbox/sftp/accounts/x/keys", '{"publicKeys": []}')):
        reply = client.open(path, method=method, data=body, content_type="text/plain")
        assert reply.status_code == 415 and reply.json["errorCode"] == "UNSUPPORTED_MEDIA_TYPE", path
    assert world.now() == now and world.control.settings()["thinkTimeSeconds"] == 3.0
    assert world.beneficiary("manual")["behaviour"] == "manual"
    # With JSON the same calls work, an empty body too (the client sends {})
    assert client.post(f"/_sandbox/beneficiaries/{ben}/unblock", json={}).status_code == 200
    assert world.control.unblock(ben)["beneficiaryId"] == ben
    assert client.post("/_sandbox/reset", data="", content_type="application/json").status_code == 200


def test_a_write_from_a_page_of_another_origin_is_refused(world):
    """A browser names the page that sent a request in `Origin`: only the sandbox's own pages may write."""
    client = world.app.test_client()
    now = world.now()
    for origin in ("http://evil.example", "null", "http://localhost:3000", "http://localhost.evil.example"):
        reply = client.post("/_sandbox/clock/advance", json={"seconds": 60}, headers={"Origin": origin})
        assert reply.status_code == 403 and reply.json["errorCode"] == "ORIGIN_NOT_ALLOWED", origin
    assert world.now() == now
    own = client.post("/_sandbox/clock/advance", json={"seconds": 60}, headers={"Origin": "http://localhost"})
    public = client.post("/_sandbox/clock/advance", json={"seconds": 60}, headers={"Origin": "http://127.0.0.1:8421"})
    assert own.status_code == public.status_code == 200
    assert (world.now() - now).total_seconds() == 120


def test_a_foreign_host_name_is_refused_everywhere_dns_rebinding(world):
    """A page of evil.example whose name was rebound to 127.0.0.1 reaches the sandbox as `Host: evil.example`."""
    client = world.app.test_client()
    before = _events(world)
    reply = client.post("/_sandbox/reset", json={}, headers={"Host": "evil.example:8421"})
    assert reply.status_code == 400 and reply.json["errorCode"] == "HOST_NOT_ALLOWED"
    assert "--allowed-host" in reply.headers["X-Sandbox-Detail"]
    assert client.get("/_sandbox/fixtures", headers={"Host": "evil.example"}).status_code == 400
    page = client.get("/", headers={"Host": "evil.example:8421"})
    assert page.status_code == 400 and "ne répond pas sous ce nom" in page.get_data(as_text=True)
    assert client.get("/espace-ptl/connexion", headers={"Host": "evil.example"}).status_code == 400
    assert _events(world) == before
    for host in ("localhost", "localhost:8421", "127.0.0.1:8421", "[::1]:8421"):
        assert client.get("/_sandbox/health", headers={"Host": host}).status_code == 200, host


def test_allowed_hosts_and_the_public_url_are_answered():
    w = World(make_settings(public_url="https://sandbox.example.org", allowed_hosts=["ci-sandbox"],
                            bind_host="192.168.1.20"))
    client = w.app.test_client()
    for host in ("sandbox.example.org", "ci-sandbox:8421", "192.168.1.20:8421", "127.0.0.1:8421"):
        assert client.get("/_sandbox/health", headers={"Host": host}).status_code == 200, host
    for host in ("evil.example", "ci-sandbox.evil.example:8421", "sandbox.example.org.evil.example", "", "a b"):
        assert client.get("/_sandbox/health", headers={"Host": host}).status_code == 400, host
    reply = client.post("/_sandbox/clock/advance", json={"seconds": 1},
                        headers={"Host": "sandbox.example.org", "Origin": "https://sandbox.example.org"})
    assert reply.status_code == 200
    w.sandbox.stop()


def test_any_ip_address_is_answered_but_no_other_name(world):
    """The laptop's address in a demo: an IP address cannot be rebound, only a name can."""
    client = world.app.test_client()
    assert client.get("/_sandbox/health", headers={"Host": "10.1.2.3:8421"}).status_code == 200
    assert client.get("/_sandbox/health", headers={"Host": "[fd00::5]:8421"}).status_code == 200
    assert client.get("/_sandbox/health", headers={"Host": "evil.example:8421"}).status_code == 400
    assert client.get("/_sandbox/health", headers={"Host": "10.1.2.3.evil.example"}).status_code == 400
