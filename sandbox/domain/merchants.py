"""Merchants and the intermediaries who call the Kit on their behalf.

A convention (6-digit number) groups one or more points d'accueil; each point d'accueil
has a 12-digit login and a technical `shopId` (shown to merchants as "ID ANCV").
A service provider (PSP, booking engine, cash-register vendor) seals with its own key
and acts for the shops linked to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .records import plain_fields

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"
DEFAULT_COMMISSION_BASIS_POINTS = 250  # SR: 2.5 % per convention (SPEC §7)


@dataclass
class PointOfSale:
    shop_id: int
    name: str
    convention_id: str  # 6 digits
    login: str  # 12 digits: the point d'accueil's account (see accounts.py)
    key_version: str
    key: str
    status: str = ACTIVE
    service_provider_ids: list[int] = field(default_factory=list)
    email: str = ""
    city: str = ""
    category: str = ""
    commission_basis_points: int = DEFAULT_COMMISSION_BASIS_POINTS

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    def served_by(self, service_provider_id: int) -> bool:
        return service_provider_id in self.service_provider_ids

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PointOfSale:
        return cls(**data)


@dataclass
class ServiceProvider:
    service_provider_id: int
    name: str
    key_version: str
    key: str

    def to_dict(self) -> dict[str, Any]:
        return plain_fields(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceProvider:
        return cls(**data)
