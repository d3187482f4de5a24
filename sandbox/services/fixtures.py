"""Demo data made from a seed with Faker `fr_FR`: the same seed gives the same world.

Two conventions with points d'accueil cashing directly (one with several points d'accueil),
shops served by a booking-engine service provider, an inactive shop, and a beneficiary for
every behaviour with a balance that makes it meaningful (SPEC §9).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from faker import Faker

from ..domain import errors, events, ids
from ..domain.accounts import ADMINISTRATOR, POINT, MerchantAccount
from ..domain.beneficiaries import BEHAVIOURS, Allocation, Beneficiary, Device
from ..domain.dates import PARIS
from ..domain.ids import luhn_check_digit
from ..domain.merchants import INACTIVE, PointOfSale, ServiceProvider
from . import back_office

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
HEX_DIGITS = "0123456789abcdef"


def new_key(rng: random.Random) -> str:
    """32 hexadecimal digits, as `rng.choice` would draw them one by one."""
    return "".join([HEX_DIGITS[i] for i in ids.draws_below(rng, len(HEX_DIGITS), 32)])


def digits(rng: random.Random, count: int, first: str = "") -> str:
    return first + ids.digits(rng, count - len(first))


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
        service_provider_id=int(digits(rng, 8, "2")),
        name=f"{fake.last_name()} Résa – moteur de réservation",
        key_version=f"version-{digits(rng, 4)}", key=new_key(rng))
    points: list[PointOfSale] = []
    accounts: list[MerchantAccount] = []
    for kind, count, via_provider, status in CONVENTIONS:
        convention = digits(rng, 6, "1")
        name = _business_name(fake, kind)
        city = fake.city()
        holder = fake.name()
        first_shop = len(points)
        for index in range(count):
            label = f"{name} – {POINT_NAMES[index]}" if count > 1 else name
            pos = PointOfSale(
                shop_id=int(digits(rng, 8, "1")), name=label, convention_id=convention,
                login=f"{convention}001{index + 1:03d}",
                key_version=f"version-{digits(rng, 4)}", key=new_key(rng), status=status,
                service_provider_ids=[provider.service_provider_id] if via_provider else [],
                email=fake.company_email(), city=city, category=kind)
            points.append(pos)
            accounts.append(MerchantAccount(login=pos.login, kind=POINT, password=f"Ptl-{digits(rng, 6)}",
                                            shop_ids=[pos.shop_id], email=pos.email, holder_name=holder))
        accounts.append(MerchantAccount(
            login=convention, kind=ADMINISTRATOR, password=f"Adm-{digits(rng, 6)}",
            shop_ids=[p.shop_id for p in points[first_shop:]], email=points[first_shop].email, holder_name=holder))
    beneficiaries = []
    valid_from = now - timedelta(days=30)
    for index, behaviour in enumerate(["manual", *BEHAVIOURS]):
        number = KIT_EXAMPLE_BENEFICIARY if index == 0 else luhn_number(rng)
        first, last = fake.first_name(), fake.last_name()
        balance = LOW_BALANCE_CENTS if behaviour == "low_balance" else BALANCE_CENTS
        beneficiaries.append(Beneficiary(
            beneficiary_id=number,
            email=f"{_ascii(first)}.{_ascii(last)}.{behaviour.replace('_', '-')}@example.fr".lower(),
            password=f"Cv-{digits(rng, 6)}", pin=digits(rng, 6), first_name=first, last_name=last,
            behaviour=behaviour,
            devices=[] if behaviour == "no_device" else [Device(device_id=f"phone-{number[-4:]}")],
            allocations=[
                Allocation(f"{number}-1", balance * 3 // 5, valid_from, end_of_year(now.year + 1)),
                Allocation(f"{number}-2", balance - balance * 3 // 5, valid_from, end_of_year(now.year + 2)),
            ]))
    return {"service_providers": [provider], "points_of_sale": points, "accounts": accounts,
            "beneficiaries": beneficiaries}


# --- populations: more merchants and beneficiaries, for simulations (`POST /_sandbox/population`) ----------

MAX_POPULATION = 100_000  # objects of each kind one request may add
CATEGORIES = tuple(kind for kind, *_ in CONVENTIONS)


@dataclass(frozen=True)
class PopulationRequest:
    """How many of each to add: shops (by category, cashing directly or through a service provider) and
    beneficiaries (by balance in cents, with or without a device)."""

    seed: int
    service_providers: int
    points_of_sale: list[tuple[str, bool]]  # (category, served by a service provider of this request?)
    beneficiaries: list[tuple[int, bool]]  # (balance in cents, has a device?)

    @classmethod
    def parse(cls, body: Any) -> PopulationRequest:
        if not isinstance(body, dict):
            raise errors.BadRequest("the body must be a JSON object")
        seed = _count(body, "seed", 0, 2**63, 0)
        providers = _count(body, "serviceProviders", 0, 100, 0)
        points: list[tuple[str, bool]] = []
        for index, group in enumerate(_groups(body, "pointsOfSale")):
            category = group.get("category", CATEGORIES[0])
            if category not in CATEGORIES:
                raise errors.BadRequest(f"pointsOfSale[{index}].category must be one of {', '.join(CATEGORIES)}")
            via = group.get("viaProvider", False)
            if not isinstance(via, bool) or (via and providers == 0):
                raise errors.BadRequest(f"pointsOfSale[{index}].viaProvider must be true or false, "
                                        "and true needs serviceProviders >= 1")
            points += [(category, via)] * _count(group, "count", 0, MAX_POPULATION, 1)
        people: list[tuple[int, bool]] = []
        for group in _groups(body, "beneficiaries"):
            balance = _count(group, "balance", 0, 100_000_000, BALANCE_CENTS)
            device = group.get("device", True)
            if not isinstance(device, bool):
                raise errors.BadRequest("beneficiaries[].device must be true or false")
            people += [(balance, device)] * _count(group, "count", 0, MAX_POPULATION, 1)
        if len(points) > MAX_POPULATION or len(people) > MAX_POPULATION:
            raise errors.BadRequest(f"at most {MAX_POPULATION} points of sale and beneficiaries per request")
        return cls(seed, providers, points, people)


def _count(data: dict[str, Any], name: str, low: int, high: int, default: int | None = None) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise errors.BadRequest(f"{name} must be a whole number from {low} to {high}")
    return value


def _groups(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    groups = body.get(name, [])
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise errors.BadRequest(f"{name} must be a list of objects")
    return groups


def add_population(sandbox: Sandbox, request: PopulationRequest) -> dict[str, Any]:
    """Add generated merchants and beneficiaries (the same request on the same world adds the same ones);
    returns them with their secrets, shaped like `GET /_sandbox/fixtures`."""
    rng = random.Random(f"population:{request.seed}")
    fake = Faker("fr_FR")
    fake.seed_instance(request.seed)
    with sandbox.uow() as uow:
        session = uow.session
        now = uow.now

        providers = []
        for _ in range(request.service_providers):
            sp = ServiceProvider(
                service_provider_id=int(fresh(lambda: digits(rng, 8, "2"),
                                              lambda c: session.service_provider(int(c)) is not None)),
                name=f"{fake.last_name()} Connect – prestataire de paiement",
                key_version=f"version-{digits(rng, 4)}", key=new_key(rng))
            session.add_service_provider(sp)
            providers.append(sp)
        points, accounts = [], []
        for index, (category, via_provider) in enumerate(request.points_of_sale):
            convention = fresh(lambda: digits(rng, 6, "1"), lambda c: session.account(c) is not None)
            pos = PointOfSale(
                shop_id=int(fresh(lambda: digits(rng, 8, "1"), lambda c: session.point_of_sale(int(c)) is not None)),
                name=_business_name(fake, category), convention_id=convention, login=f"{convention}001001",
                key_version=f"version-{digits(rng, 4)}", key=new_key(rng),
                service_provider_ids=[providers[index % len(providers)].service_provider_id] if via_provider else [],
                email=fake.company_email(), city=fake.city(), category=category)
            account = MerchantAccount(login=pos.login, kind=POINT, password=f"Ptl-{digits(rng, 6)}",
                                      shop_ids=[pos.shop_id], email=pos.email, holder_name=fake.name())
            session.add_point_of_sale(pos)
            session.save_account(account)
            points.append(pos)
            accounts.append(account)
        people = []
        valid_from, valid_until = now - timedelta(days=30), end_of_year(now.year + 1)
        first_name, last_name = fake.first_name, fake.last_name  # found once: Faker's proxy looks them up per use
        for balance, device in request.beneficiaries:
            number = fresh(lambda: luhn_number(rng), lambda c: session.beneficiary(c) is not None)
            first, last = first_name(), last_name()
            beneficiary = Beneficiary(
                beneficiary_id=number, email=f"{_ascii(first)}.{_ascii(last)}.{number[-6:]}@example.fr".lower(),
                password=f"Cv-{digits(rng, 6)}", pin=digits(rng, 6), first_name=first, last_name=last,
                devices=[Device(device_id=f"phone-{number[-4:]}")] if device else [],
                allocations=[Allocation(f"{number}-1", balance, valid_from, valid_until)])
            session.save_beneficiary(beneficiary)
            people.append(beneficiary)
        uow.record(events.POPULATION_ADDED, "sandbox", seed=request.seed, serviceProviders=len(providers),
                   pointsOfSale=len(points), beneficiaries=len(people))
        return _as_json(providers, points, accounts, people, now)


def fresh(make: Any, exists: Any) -> Any:
    """What `make` draws until `exists` says it is new (an id, a login)."""
    while exists(candidate := make()):
        pass
    return candidate


def luhn_number(rng: random.Random) -> str:
    payload = digits(rng, 10, "1")
    return payload + luhn_check_digit(payload)


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(filter(str.isalnum, plain))


def end_of_year(year: int) -> datetime:
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
        uow.record(events.FIXTURES_LOADED, "sandbox", seed=seed)


def reset(sandbox: Sandbox, seed: int | None) -> int:
    """Drop every object, then re-create the fixtures of `seed` (default: the current one)."""
    with sandbox.store.session() as s:
        seed = seed if seed is not None else s.get_meta("seed", sandbox.settings.seed)
    sandbox.sender.wait_idle(timeout=2)
    sandbox.faults.clear()
    sandbox.recette.clear()
    sandbox.store.drop_all()
    sandbox.rng.seed(f"{seed}:0")
    with sandbox.store.session() as s:
        sandbox.load_rules(s)  # none saved: the initial ones
        s.set_meta("generation", 0)
        s.set_meta("secret_key", sandbox.secret_key)
        sandbox.save_clock(s)
    assert seed is not None
    load(sandbox, seed)
    back_office.schedule(sandbox)
    return seed


def as_json(sandbox: Sandbox) -> dict[str, Any]:
    """`GET /_sandbox/fixtures` (SPEC §9): credentials and balances as they are now."""
    with sandbox.uow() as uow:
        s = uow.session
        return _as_json(s.service_providers(), s.points_of_sale(), s.accounts(), s.beneficiaries(), uow.now)


def _as_json(providers: list[ServiceProvider], points: list[PointOfSale], accounts: list[MerchantAccount],
             people: list[Beneficiary], now: datetime) -> dict[str, Any]:
    by_login = {a.login: a for a in accounts}
    return {
        "serviceProviders": [
            {"serviceProviderId": sp.service_provider_id, "name": sp.name, "keyVersion": sp.key_version,
             "key": sp.key} for sp in providers],
        "pointsOfSale": [
            {"shopId": p.shop_id, "name": p.name, "conventionId": p.convention_id, "login": p.login,
             "password": by_login[p.login].password, "keyVersion": p.key_version, "key": p.key,
             "status": p.status, "serviceProviderIds": p.service_provider_ids} for p in points],
        "conventions": [
            {"conventionId": a.login, "password": a.password, "holder": a.holder_name, "shopIds": a.shop_ids}
            for a in accounts if a.kind == ADMINISTRATOR],
        "beneficiaries": [
            {"beneficiaryId": b.beneficiary_id, "email": b.email, "password": b.password, "pin": b.pin,
             "balance": b.available(now), "behaviour": b.behaviour} for b in people],
    }
