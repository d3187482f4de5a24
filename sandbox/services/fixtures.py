"""Demo data made from a seed with Faker `fr_FR`: the same seed gives the same world.

Two conventions with points d'accueil cashing directly (one with several points d'accueil),
shops served by a booking-engine service provider, an inactive shop, and a beneficiary for
every behaviour with a balance that makes it meaningful (SPEC §9).
"""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from faker import Faker

from ..domain.accounts import ADMINISTRATOR, POINT, MerchantAccount
from ..domain.beneficiaries import BEHAVIOURS, Allocation, Beneficiary, Device
from ..domain.ids import luhn_check_digit
from ..domain.merchants import INACTIVE, PointOfSale, ServiceProvider

if TYPE_CHECKING:
    from .sandbox import Sandbox

KIT_EXAMPLE_BENEFICIARY = "10001001576"  # the Kit's own example id (§5.4), a manual beneficiary
BALANCE_CENTS = 50_000  # 500,00 € for most beneficiaries
LOW_BALANCE_CENTS = 500  # 5,00 € for `low_balance` (SPEC §9)

# (kind of business, how many points d'accueil, served by the service provider?, status)
CONVENTIONS = [
    ("Camping", 2, False, "ACTIVE"),
    ("Gîte", 1, False, "ACTIVE"),
    ("Parc de loisirs", 1, True, "ACTIVE"),
    ("Agence de voyages", 1, True, "ACTIVE"),
    ("Village vacances", 1, False, INACTIVE),
]
POINT_NAMES = ["Accueil", "Restaurant", "Piscine", "Boutique"]


def _key(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(32))


def _digits(rng: random.Random, count: int, first: str = "") -> str:
    return first + "".join(str(rng.randint(0, 9)) for _ in range(count - len(first)))


def _business_name(fake: Faker, kind: str) -> str:
    place = fake.city()
    if kind == "Camping":
        return f"Camping {fake.random_element(['Les Pins', 'La Plage', 'Le Lac', 'Les Oliviers'])} – {place}"
    if kind == "Gîte":
        return f"Gîte {fake.random_element(['Le Moulin', 'La Grange', 'Les Tilleuls'])} de {fake.last_name()}"
    if kind == "Parc de loisirs":
        return f"{fake.random_element(['Aventure', 'Accrobranche', 'Aquaparc'])} {place}"
    if kind == "Agence de voyages":
        return f"Voyages {fake.last_name()}"
    return f"{kind} {fake.last_name()} – {place}"


def build(seed: int, now: datetime) -> dict[str, list[Any]]:
    """The fixtures of `seed`, as entities (nothing stored)."""
    rng = random.Random(f"fixtures:{seed}")
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    provider = ServiceProvider(
        service_provider_id=int(_digits(rng, 8, "2")),
        name=f"{fake.last_name()} Résa – moteur de réservation",
        key_version=f"version-{_digits(rng, 4)}", key=_key(rng))
    points: list[PointOfSale] = []
    accounts: list[MerchantAccount] = []
    for kind, count, via_provider, status in CONVENTIONS:
        convention = _digits(rng, 6, "1")
        name = _business_name(fake, kind)
        city = fake.city()
        holder = fake.name()
        first_shop = len(points)
        for index in range(count):
            label = f"{name} – {POINT_NAMES[index]}" if count > 1 else name
            pos = PointOfSale(
                shop_id=int(_digits(rng, 8, "1")), name=label, convention_id=convention,
                login=f"{convention}001{index + 1:03d}",
                key_version=f"version-{_digits(rng, 4)}", key=_key(rng), status=status,
                service_provider_ids=[provider.service_provider_id] if via_provider else [],
                email=fake.company_email(), city=city, category=kind)
            points.append(pos)
            accounts.append(MerchantAccount(login=pos.login, kind=POINT, password=f"Ptl-{_digits(rng, 6)}",
                                            shop_ids=[pos.shop_id], email=pos.email, holder_name=holder))
        accounts.append(MerchantAccount(
            login=convention, kind=ADMINISTRATOR, password=f"Adm-{_digits(rng, 6)}",
            shop_ids=[p.shop_id for p in points[first_shop:]], email=points[first_shop].email, holder_name=holder))
    beneficiaries = []
    valid_from = now - timedelta(days=30)
    for index, behaviour in enumerate(["manual", *BEHAVIOURS]):
        number = KIT_EXAMPLE_BENEFICIARY if index == 0 else _luhn_number(rng)
        first, last = fake.first_name(), fake.last_name()
        balance = LOW_BALANCE_CENTS if behaviour == "low_balance" else BALANCE_CENTS
        beneficiaries.append(Beneficiary(
            beneficiary_id=number,
            email=f"{_ascii(first)}.{_ascii(last)}.{behaviour.replace('_', '-')}@example.fr".lower(),
            password=f"Cv-{_digits(rng, 6)}", pin=_digits(rng, 6), first_name=first, last_name=last,
            behaviour=behaviour,
            devices=[] if behaviour == "no_device" else [Device(device_id=f"phone-{number[-4:]}")],
            allocations=[
                Allocation(f"{number}-1", balance * 3 // 5, valid_from, _end_of_year(now.year + 1)),
                Allocation(f"{number}-2", balance - balance * 3 // 5, valid_from, _end_of_year(now.year + 2)),
            ]))
    return {"service_providers": [provider], "points_of_sale": points, "accounts": accounts,
            "beneficiaries": beneficiaries}


def _luhn_number(rng: random.Random) -> str:
    payload = _digits(rng, 10, "1")
    return payload + luhn_check_digit(payload)


def _ascii(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain if c.isalnum())


def _end_of_year(year: int) -> datetime:
    from ..domain.dates import PARIS

    return datetime(year + 1, 1, 1, tzinfo=PARIS)


def load(sandbox: Sandbox, seed: int) -> None:
    """Store the fixtures of `seed` (into an empty store)."""
    world = build(seed, sandbox.clock.now())
    with sandbox.uow() as uow:
        for sp in world["service_providers"]:
            uow.session.add_service_provider(sp)
        for pos in world["points_of_sale"]:
            uow.session.add_point_of_sale(pos)
        for account in world["accounts"]:
            uow.session.save_account(account)
        for beneficiary in world["beneficiaries"]:
            uow.save(beneficiary)
        uow.session.set_meta("seed", seed)
        uow.record("FixturesLoaded", "sandbox", seed=seed)


def reset(sandbox: Sandbox, seed: int | None) -> int:
    """Drop every object, then re-create the fixtures of `seed` (default: the current one)."""
    with sandbox.store.session() as s:
        seed = seed if seed is not None else s.get_meta("seed", sandbox.settings.seed)
    sandbox.sender.wait_idle(timeout=2)
    sandbox.store.drop_all()
    sandbox.rules.update(asdict(sandbox.initial_rules))
    sandbox.rng.seed(f"{seed}:0")
    with sandbox.store.session() as s:
        s.set_meta("generation", 0)
        s.set_meta("secret_key", sandbox.secret_key)
        if sandbox.clock.mode == "virtual":
            s.set_meta("clock_now", sandbox.clock.now())
    assert seed is not None
    load(sandbox, seed)
    return seed


def as_json(sandbox: Sandbox) -> dict[str, Any]:
    """`GET /_sandbox/fixtures` (SPEC §9): credentials and balances as they are now."""
    with sandbox.uow() as uow:
        now = uow.now
        accounts = {a.login: a for a in uow.session.accounts()}
        return {
            "serviceProviders": [
                {"serviceProviderId": sp.service_provider_id, "name": sp.name, "keyVersion": sp.key_version,
                 "key": sp.key} for sp in uow.session.service_providers()],
            "pointsOfSale": [
                {"shopId": p.shop_id, "name": p.name, "conventionId": p.convention_id, "login": p.login,
                 "password": accounts[p.login].password, "keyVersion": p.key_version, "key": p.key,
                 "status": p.status,
                 "serviceProviderIds": p.service_provider_ids} for p in uow.session.points_of_sale()],
            "conventions": [
                {"conventionId": a.login, "password": a.password, "holder": a.holder_name, "shopIds": a.shop_ids}
                for a in accounts.values() if a.kind == ADMINISTRATOR],
            "beneficiaries": [
                {"beneficiaryId": b.beneficiary_id, "email": b.email, "password": b.password, "pin": b.pin,
                 "balance": b.available(now), "behaviour": b.behaviour} for b in uow.session.beneficiaries()],
        }
