"""The MemoryStore behaves as the SQL store: every test runs on both (SQLite in memory, then MemoryStore).

The whole suite also runs on the MemoryStore with ANCV_SANDBOX_TEST_DB=memory; these tests pin
the store's own rules: isolation and rollback, private copies, orders, lookups, timers,
numbering, and the shapes of what it returns.
"""

import inspect
import threading
import time
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.adapters.memory_store import MEMORY, MemorySession, MemoryStore, make_store
from sandbox.adapters.sql_session import SqlSession
from sandbox.adapters.sql_store import SqlStore
from sandbox.domain.beneficiaries import Allocation, Beneficiary, Device
from sandbox.domain.dates import PARIS
from sandbox.domain.events import Event
from sandbox.domain.merchants import PointOfSale
from sandbox.domain.pre_transactions import PROCESSING as PRE_PROCESSING
from sandbox.domain.pre_transactions import PreTransaction
from sandbox.domain.transactions import AUTHORIZED, PROCESSING, Payer, Transaction
from sandbox.services import ports
from sandbox.services.sandbox import Sandbox
from tests.conftest import make_settings

NOW = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)
SHOP = 11111111


@pytest.fixture(params=["sqlite", "memory"])
def store(request):
    made = SqlStore(None) if request.param == "sqlite" else MemoryStore()
    yield made
    made.close()


def beneficiary(number="10000000001", email="Anne.Martin@example.fr", balance=10_000):
    return Beneficiary(beneficiary_id=number, email=email, password="pw", pin="123456",
                       devices=[Device(device_id="phone-1")],
                       allocations=[Allocation(f"{number}-1", balance, NOW - timedelta(days=1),
                                               datetime(2027, 1, 1, tzinfo=PARIS))])


def transaction(tx_id="tx00000001", created=NOW, order_id="order-1", payer=None, state="INITIALIZED", **fields):
    return Transaction(transaction_id=tx_id, shop_id=fields.pop("shop_id", SHOP), order_id=order_id, payment_id="1",
                       amount=100, capture_mode="NORMAL", tspd_mode="001", creation_date=created,
                       update_date=created, state=state,
                       payer=Payer(payer, payer, 100) if payer else None, **fields)


def pre_transaction(pre_id="pre0000001", created=NOW, order_id="order-1", **fields):
    return PreTransaction(pre_transaction_id=pre_id, shop_id=fields.pop("shop_id", SHOP), order_id=order_id,
                          amount=100, capture_mode="NORMAL", tspd_mode="001", creation_date=created,
                          update_date=created, expiration_date=created + timedelta(minutes=10), **fields)


def point_of_sale(shop_id=SHOP, key_version="v1"):
    return PointOfSale(shop_id=shop_id, name="Camping", convention_id="100001", login="100001001001",
                       key_version=key_version, key="k" * 32)


# --- one transaction at a time, all or nothing ---------------------------------------------------------

def test_a_session_that_raises_keeps_nothing_it_wrote(store):
    with store.session() as s:
        s.save_beneficiary(beneficiary())
        s.add_events([Event("Before", "x", NOW)])
        s.set_meta("kept", 1)
    with pytest.raises(RuntimeError), store.session() as s:
        changed = s.beneficiary("10000000001")
        changed.debit("tx00000001", 4000, NOW)
        s.save_beneficiary(changed)
        s.save_beneficiary(beneficiary("10000000002", "other@example.fr"))
        s.save_transaction(transaction(payer="10000000001", state=PROCESSING))
        s.save_pre_transaction(pre_transaction())
        s.add_point_of_sale(point_of_sale())
        s.set_timer("transaction", "ghost", NOW)
        s.add_events([Event("Lost", "x", NOW)])
        s.add_webhook("http://example.test/hook", {"a": 1}, NOW)
        s.add_email("a@example.fr", "Sujet", "texte", "<p>html</p>", NOW)
        s.set_meta("kept", 2)
        raise RuntimeError("the service changed its mind")
    with store.session() as s:
        assert s.beneficiary("10000000001").available(NOW) == 10_000
        assert s.beneficiary("10000000002") is None and s.beneficiary_by_email("other@example.fr") is None
        assert s.transaction("tx00000001") is None and s.pending_transaction_of("10000000001") is None
        assert s.transaction_by_order(SHOP, None, NOW, "order-1", "1") is None
        assert s.pre_transaction("pre0000001") is None and s.pre_transactions() == []
        assert s.point_of_sale(SHOP) is None and s.points_of_sale_with_key_version("v1") == []
        assert s.timers() == [] and s.next_timer() is None
        assert [e["type"] for e in s.events()] == ["Before"]
        assert s.webhooks() == [] and s.emails() == [] and s.get_meta("kept") == 1
        # numbers handed out in a rolled-back transaction are handed out again, as SQLite's AUTOINCREMENT does
        s.add_events([Event("After", "x", NOW)])
        assert [e["seq"] for e in s.events()] == [1, 2]
        assert s.add_webhook("http://example.test/hook", {}, NOW) == 1


def test_a_later_write_in_the_same_session_is_rolled_back_to_what_was_committed(store):
    with store.session() as s:
        s.save_transaction(transaction(payer="10000000001", state=PROCESSING))
    with pytest.raises(KeyError), store.session() as s:
        for state in (AUTHORIZED, "VALIDATED"):
            tx = s.transaction("tx00000001")
            tx.state = state
            s.save_transaction(tx)
        raise KeyError("boom")
    with store.session() as s:
        assert s.pending_transaction_of("10000000001").transaction_id == "tx00000001"
        assert s.count_transactions() == {PROCESSING: 1}


def test_a_session_waits_for_the_one_in_progress(store):
    started, order = threading.Event(), []

    def other() -> None:
        started.wait()
        with store.session() as s:
            order.append(("other", s.get_meta("step")))

    thread = threading.Thread(target=other)
    thread.start()
    with store.session() as s:
        started.set()
        time.sleep(0.05)
        s.set_meta("step", "committed first")
        order.append(("first", None))
    thread.join(5)
    assert order == [("first", None), ("other", "committed first")]


def test_saves_that_move_a_lookup_or_none_are_rolled_back_with_the_rest(store):
    with store.session() as s:
        s.save_transaction(transaction(payer="10000000001", state=PROCESSING))
    with pytest.raises(KeyError), store.session() as s:
        tx = s.transaction("tx00000001")
        tx.label = "changed"  # no column the store looks transactions up by
        s.save_transaction(tx)
        assert s.pending_transaction_of("10000000001").label == "changed"
        tx.state = AUTHORIZED
        s.save_transaction(tx)
        assert s.pending_transaction_of("10000000001") is None and len(s.transactions_in_state(AUTHORIZED)) == 1
        raise KeyError("boom")
    with store.session() as s:
        assert s.pending_transaction_of("10000000001").label is None
        assert s.transactions_in_state(AUTHORIZED) == [] and len(s.transactions_in_state(PROCESSING)) == 1
        assert s.transaction_by_order(SHOP, None, NOW, "order-1", "1").transaction_id == "tx00000001"


def test_a_session_inside_another_in_the_same_thread_is_refused():
    store = MemoryStore()
    with store.session() as outer:
        with pytest.raises(RuntimeError, match="already open"):
            store.session().__enter__()
        outer.set_meta("step", "outer")
    with store.session() as s:
        assert s.get_meta("step") == "outer"


# --- private copies --------------------------------------------------------------------------------

def test_objects_read_are_private_copies(store):
    kept = beneficiary()
    with store.session() as s:
        s.save_beneficiary(kept)
        kept.holds["after"] = 1  # changing the saved object afterwards does not change the store
        kept.allocations[0] = replace(kept.allocations[0], used=5)
        kept.sessions.append("grant")
        read = s.beneficiary("10000000001")
        read.devices[0] = replace(read.devices[0], status="BLOCKED")
        read.holds["x"] = 99
        read.debits["y"] = (("a", 1),)
        assert s.beneficiary("10000000001") is not read
    with store.session() as s:
        again = s.beneficiary("10000000001")
        assert again.holds == {} and again.debits == {} and again.devices[0].status == "ACTIVE"
        assert again.allocations[0].used == 0 and again.sessions == []


def test_nested_values_cannot_be_changed_in_place(store):
    """A payer, an allocation, a device...: frozen, so a copy that shares them is still private."""
    with store.session() as s:
        s.save_beneficiary(beneficiary())
        read = s.beneficiary("10000000001")
    with pytest.raises(FrozenInstanceError):
        read.allocations[0].used = 5  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        read.devices[0].status = "BLOCKED"  # type: ignore[misc]


def test_a_debit_comes_back_as_it_was_saved(store):
    kept = beneficiary()
    kept.debit("tx00000001", 2_500, NOW)
    with store.session() as s:
        s.save_beneficiary(kept)
    with store.session() as s:
        read = s.beneficiary("10000000001")
    assert read.debits == {"tx00000001": (("10000000001-1", 2_500),)} and read.allocations[0].used == 2_500
    assert read.refund("tx00000001") == 2_500 and read.allocations[0].used == 0


def test_a_point_of_sale_is_read_once_per_session(store):
    with store.session() as s:
        s.add_point_of_sale(point_of_sale())
    with store.session() as s:
        first = s.point_of_sale(SHOP)
        first.service_provider_ids.append(7)
        assert s.point_of_sale(SHOP) is first
    with store.session() as s:
        assert s.point_of_sale(SHOP) is not first and s.point_of_sale(SHOP).service_provider_ids == []


def test_datetimes_come_back_in_utc_at_microsecond_precision(store):
    due = datetime(2026, 6, 2, 10, 0, 0, 123456, tzinfo=PARIS)
    with store.session() as s:
        s.save_beneficiary(beneficiary())
        s.set_timer("reminder", "r1", due)
        s.set_meta("when", due)
    with store.session() as s:
        valid_until = s.beneficiary("10000000001").allocations[0].valid_until
        assert valid_until == datetime(2027, 1, 1, tzinfo=PARIS) and valid_until.tzinfo is UTC
        assert s.timer("reminder", "r1") == due and s.timer("reminder", "r1").tzinfo is UTC
        assert s.get_meta("when").microsecond == 123456 and s.get_meta("when").tzinfo is UTC



def test_a_datetime_in_any_zone_comes_back_as_the_same_instant_in_utc(store):
    second_half_past_two = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS)  # the hour clocks repeat: UTC+1
    with store.session() as s:
        s.save_transaction(transaction(created=second_half_past_two, expiration_date=NOW.astimezone(PARIS)))
    with store.session() as s:
        read = s.transaction("tx00000001")
    assert read.creation_date == datetime(2026, 10, 25, 1, 30, tzinfo=UTC) and read.creation_date.tzinfo is UTC
    assert read.expiration_date == NOW and read.expiration_date.tzinfo is UTC and not read.creation_date.fold


def test_an_entity_holding_a_mutable_value_json_cannot_hold_is_refused(store):
    with pytest.raises(TypeError), store.session() as s:
        s.save_transaction(transaction(refunds={"not", "a list"}))

def test_plain_data_comes_back_as_json_would_give_it(store):
    context = {"tuple": (1, 2), "nested": {"n": [1.5, None, True]}, 3: "int key"}
    with store.session() as s:
        s.save_transaction(transaction(application_context=context))
        s.set_meta("shape", {"a": ("b",)})
    with store.session() as s:
        assert s.transaction("tx00000001").application_context == {
            "tuple": [1, 2], "nested": {"n": [1.5, None, True]}, "3": "int key"}
        assert s.get_meta("shape") == {"a": ["b"]} and s.get_meta("absent", "default") == "default"


def test_what_json_cannot_hold_is_refused(store):
    with pytest.raises(TypeError), store.session() as s:
        s.set_meta("set", {1, 2})


# --- lookups and orders --------------------------------------------------------------------------------

def test_the_duplicate_rule_finds_the_same_order_on_the_same_french_day(store):
    late_evening = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)  # 00:30 on June 2 in Paris
    with store.session() as s:
        s.save_transaction(transaction(created=late_evening))
        s.save_transaction(transaction("tx00000002", order_id="scanned", pre_transaction_id="pre0000001"))
        s.save_pre_transaction(pre_transaction(created=late_evening))
    with store.session() as s:
        assert s.transaction_by_order(SHOP, None, NOW, "order-1", "1").transaction_id == "tx00000001"
        assert s.transaction_by_order(SHOP, None, NOW + timedelta(days=1), "order-1", "1") is None
        assert s.transaction_by_order(SHOP, 5, NOW, "order-1", "1") is None  # another key holder
        assert s.transaction_by_order(SHOP, None, NOW, "order-1", "2") is None
        # a transaction made from a payment request has no order key of its own
        assert s.transaction_by_order(SHOP, None, NOW, "scanned", "1") is None
        assert s.pre_transaction_by_order(SHOP, None, NOW, "order-1", "0").pre_transaction_id == "pre0000001"
        assert s.pre_transaction_by_order(SHOP, None, NOW, "order-1", "1") is None


def test_the_pending_transaction_follows_the_state(store):
    with store.session() as s:
        s.save_transaction(transaction(payer="10000000001", state=PROCESSING))
        s.save_transaction(transaction("tx00000002", order_id="o2", payer="10000000002", state=AUTHORIZED))
    with store.session() as s:
        assert s.pending_transaction_of("10000000001").transaction_id == "tx00000001"
        assert s.pending_transaction_of("10000000002") is None
        tx = s.transaction("tx00000001")
        tx.state = AUTHORIZED
        s.save_transaction(tx)
        assert s.pending_transaction_of("10000000001") is None  # seen inside the session that changed it
    with store.session() as s:
        assert s.pending_transaction_of("10000000001") is None
        assert [t.transaction_id for t in s.transactions_of_beneficiary("10000000001")] == ["tx00000001"]


def test_beneficiaries_are_found_by_email_whatever_its_case(store):
    with store.session() as s:
        s.save_beneficiary(beneficiary())
        s.save_beneficiary(beneficiary("10000000000", "bob@example.fr"))
        s.save_beneficiary(beneficiary("10000000002", "ANNE.MARTIN@example.fr"))
    with store.session() as s:
        # two with one address: the first added, as SQLite's index gives it
        assert s.beneficiary_by_email("anne.martin@EXAMPLE.fr").beneficiary_id == "10000000001"
        assert s.beneficiary_by_email("nobody@example.fr") is None
        assert [b.beneficiary_id for b in s.beneficiaries()] == ["10000000000", "10000000001", "10000000002"]
        moved = s.beneficiary("10000000001")
        moved.email = "anne@example.fr"
        s.save_beneficiary(moved)
        assert s.beneficiary_by_email("Anne.Martin@example.fr").beneficiary_id == "10000000002"
        assert s.beneficiary_by_email("ANNE@example.fr").beneficiary_id == "10000000001"


def test_transactions_are_listed_by_creation_then_id(store):
    with store.session() as s:
        s.save_transaction(transaction("tx0000000c", created=NOW, order_id="c"))
        s.save_transaction(transaction("tx0000000a", created=NOW + timedelta(seconds=1), order_id="a"))
        s.save_transaction(transaction("tx0000000b", created=NOW, order_id="b", shop_id=22222222))
    with store.session() as s:
        assert [t.transaction_id for t in s.transactions()] == ["tx0000000b", "tx0000000c", "tx0000000a"]
        assert [t.transaction_id for t in s.transactions([SHOP])] == ["tx0000000c", "tx0000000a"]
        assert [t.transaction_id for t in s.transactions([SHOP, 22222222, SHOP])] == [
            "tx0000000b", "tx0000000c", "tx0000000a"]
        assert s.transactions([]) == []


def test_transactions_in_a_state_created_before_a_moment(store):
    with store.session() as s:
        s.save_transaction(transaction("tx0000000b", created=NOW, order_id="b", state=AUTHORIZED))
        s.save_transaction(transaction("tx0000000a", created=NOW + timedelta(hours=1), order_id="a", state=AUTHORIZED))
        s.save_transaction(transaction("tx0000000c", created=NOW - timedelta(hours=1), order_id="c"))
    with store.session() as s:
        assert [t.transaction_id for t in s.transactions_in_state(AUTHORIZED)] == ["tx0000000a", "tx0000000b"]
        before = s.transactions_in_state(AUTHORIZED, created_before=NOW + timedelta(hours=1))
        assert [t.transaction_id for t in before] == ["tx0000000b"]  # strictly before
        assert s.transactions_in_state(AUTHORIZED, created_before=NOW.astimezone(PARIS)) == []


def test_pre_transactions_are_listed_by_creation(store):
    with store.session() as s:
        s.save_pre_transaction(pre_transaction("pre000000b", created=NOW + timedelta(seconds=1), order_id="b"))
        s.save_pre_transaction(pre_transaction("pre000000a", created=NOW, order_id="a",
                                               state=PRE_PROCESSING, contact_beneficiary_id="10000000001"))
        s.save_pre_transaction(pre_transaction("pre000000c", created=NOW + timedelta(seconds=2), order_id="c",
                                               state=PRE_PROCESSING, contact_beneficiary_id="10000000001"))
    with store.session() as s:
        assert [p.pre_transaction_id for p in s.pre_transactions()] == ["pre000000a", "pre000000b", "pre000000c"]
        assert [p.pre_transaction_id for p in s.pre_transactions([SHOP])] == ["pre000000a", "pre000000b",
                                                                               "pre000000c"]
        assert [p.pre_transaction_id for p in s.pre_transactions_sent_to("10000000001")] == ["pre000000a",
                                                                                             "pre000000c"]
        assert s.pre_transactions_sent_to("10000000002") == []


def test_points_of_sale_by_id_and_by_key_version(store):
    with store.session() as s:
        s.add_point_of_sale(point_of_sale(33333333, "v2"))
        s.add_point_of_sale(point_of_sale(SHOP, "v1"))
        s.add_point_of_sale(point_of_sale(22222222, "v1"))
    with store.session() as s:
        assert [p.shop_id for p in s.points_of_sale()] == [SHOP, 22222222, 33333333]
        assert [p.shop_id for p in s.points_of_sale_with_key_version("v1")] == [SHOP, 22222222]
        moved = s.point_of_sale(SHOP)
        moved.key_version = "v2"
        s.save_point_of_sale(moved)
        # several matches: in the order they were first added (SQLite's index keeps rowid order)
        assert [p.shop_id for p in s.points_of_sale_with_key_version("v2")] == [33333333, SHOP]


# --- timers ----------------------------------------------------------------------------------------

def test_timers_come_out_by_due_time_then_kind_then_ref(store):
    with store.session() as s:
        s.set_timer("transaction", "b", NOW + timedelta(seconds=5))
        s.set_timer("transaction", "a", NOW + timedelta(seconds=5))
        s.set_timer("behaviour", "z", NOW + timedelta(seconds=5))
        s.set_timer("transaction", "first", NOW + timedelta(seconds=1))
        assert s.earliest_timer == NOW + timedelta(seconds=1)
    with store.session() as s:
        assert s.next_timer() == (NOW + timedelta(seconds=1), "transaction", "first")
        assert [(kind, ref) for _, kind, ref in s.timers()] == [
            ("transaction", "first"), ("behaviour", "z"), ("transaction", "a"), ("transaction", "b")]


def test_a_moved_or_removed_timer_fires_only_at_its_new_time(store):
    with store.session() as s:
        s.set_timer("transaction", "moved", NOW + timedelta(seconds=1))
        s.set_timer("transaction", "removed", NOW + timedelta(seconds=2))
        s.set_timer("transaction", "last", NOW + timedelta(seconds=3))
    with store.session() as s:
        s.set_timer("transaction", "moved", NOW + timedelta(seconds=10))
        s.set_timer("transaction", "removed", None)
        s.set_timer("transaction", "never-set", None)
        assert s.earliest_timer == NOW + timedelta(seconds=10)
    with store.session() as s:
        assert s.next_timer() == (NOW + timedelta(seconds=3), "transaction", "last")
        assert s.timer("transaction", "removed") is None
        s.set_timer("transaction", "last", None)
        assert s.next_timer() == (NOW + timedelta(seconds=10), "transaction", "moved")


def test_many_moves_keep_every_timer(store):
    with store.session() as s:
        for step in range(300):
            for ref in ("a", "b", "c"):
                s.set_timer("transaction", ref, NOW + timedelta(seconds=1000 - step, microseconds=ord(ref)))
    with store.session() as s:
        assert [(due, ref) for due, _, ref in s.timers()] == [
            (NOW + timedelta(seconds=701, microseconds=ord(ref)), ref) for ref in ("a", "b", "c")]
        assert s.next_timer() == (NOW + timedelta(seconds=701, microseconds=ord("a")), "transaction", "a")


# --- events, webhooks, emails, meta --------------------------------------------------------------------

def test_events_are_numbered_in_order_and_numbers_are_never_reused(store):
    with store.session() as s:
        s.add_events([Event("A", "1", NOW, {"amount": 100}), Event("B", "2", NOW.astimezone(PARIS))])
        s.add_webhook("http://example.test/1", {}, NOW)
    with store.session() as s:
        assert s.events() == [
            {"seq": 1, "at": NOW, "type": "A", "ref": "1", "data": {"amount": 100}},
            {"seq": 2, "at": NOW, "type": "B", "ref": "2", "data": {}}]
        assert [e["seq"] for e in s.events(after=1)] == [2]
        s.events()[0]["data"]["amount"] = 0
        assert s.events()[0]["data"] == {"amount": 100}
    store.drop_all()
    with store.session() as s:
        assert s.events() == [] and s.webhooks() == [] and s.get_meta("seed") is None
        s.add_events([Event("C", "3", NOW)])
        assert [e["seq"] for e in s.events()] == [3]
        assert s.add_webhook("http://example.test/2", {}, NOW) == 2


def test_webhooks_and_their_attempts(store):
    body = {"transaction": {"id": "tx", "amount": 100}}
    with store.session() as s:
        first = s.add_webhook("http://example.test/ok", body, NOW)
        second = s.add_webhook("http://example.test/ko", {}, NOW + timedelta(seconds=1))
    body["transaction"]["id"] = "changed afterwards"
    with store.session() as s:
        s.record_webhook_attempts(first, "delivered", [{"at": NOW, "status": 200}])
        s.record_webhook_attempts(404, "failed", [])  # unknown: nothing happens
    with store.session() as s:
        assert s.webhooks() == [
            {"id": first, "url": "http://example.test/ok", "state": "delivered", "createdAt": NOW,
             "body": {"transaction": {"id": "tx", "amount": 100}}, "attempts": [{"at": NOW, "status": 200}]},
            {"id": second, "url": "http://example.test/ko", "state": "pending",
             "createdAt": NOW + timedelta(seconds=1), "body": {}, "attempts": []}]
        assert [w["id"] for w in s.webhooks(state="pending")] == [second]


def test_emails_in_the_order_written(store):
    with store.session() as s:
        s.add_email("b@example.fr", "Deux", "texte 2", "<p>2</p>", NOW.astimezone(PARIS))
        s.add_email("a@example.fr", "Un", "texte 1", "<p>1</p>", NOW)
    with store.session() as s:
        assert s.emails() == [
            {"to": "b@example.fr", "subject": "Deux", "text": "texte 2", "html": "<p>2</p>", "at": NOW},
            {"to": "a@example.fr", "subject": "Un", "text": "texte 1", "html": "<p>1</p>", "at": NOW}]


# --- choosing the store -----------------------------------------------------------------------------

def _methods(kind: type) -> set[str]:
    return {name for name in dir(kind) if not name.startswith("_") and callable(getattr(kind, name))}


def _parameters(function) -> list[tuple[str, inspect._ParameterKind, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize(("protocol", "kinds"), [(ports.StoreSession, (SqlSession, MemorySession)),
                                                  (ports.Store, (SqlStore, MemoryStore))])
def test_both_stores_take_each_method_of_the_protocol_with_the_same_parameters(protocol, kinds):
    """Names, kinds and defaults: a caller passing `after=` or relying on a default works on either store."""
    for kind in kinds:
        assert _methods(protocol) <= _methods(kind), (kind.__name__, sorted(_methods(protocol) - _methods(kind)))
        for name in _methods(protocol):
            assert _parameters(getattr(kind, name)) == _parameters(getattr(protocol, name)), f"{kind.__name__}.{name}"


def test_a_session_offers_nothing_beyond_the_protocol():
    """What services may call is what both stores promise: a session's public methods are the protocol's."""
    for kind in (SqlSession, MemorySession):
        assert _methods(kind) == _methods(ports.StoreSession), kind.__name__


def test_db_memory_makes_a_memory_store():
    assert isinstance(make_store(MEMORY), MemoryStore)
    assert isinstance(make_store(None), SqlStore)
    sandbox = Sandbox(make_settings(db=MEMORY))
    assert isinstance(sandbox.store, MemoryStore)
    with sandbox.store.session() as s:
        assert s.points_of_sale() and s.get_meta("seed") == 42  # the fixtures are there
    sandbox.stop()
