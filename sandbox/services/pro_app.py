"""What the App' Chèque-Vacances Pro lists (seed 000): "Mes opérations", the payment requests made from
the app, or "Toutes", every operation of the point d'accueil (Espace dédié and Kit API included)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain.operations import Operation
from . import merchant_payments

if TYPE_CHECKING:
    from .sandbox import Sandbox

def operations(sandbox: Sandbox, shop_ids: list[int], mine_only: bool) -> list[Operation]:
    """The app's list of operations, the latest action first: only those asked from the app, or all."""
    every = merchant_payments.operations_of(sandbox, shop_ids)
    if not mine_only:
        return every
    with sandbox.store.session() as s:
        asked_here = {pre.pre_transaction_id for pre in s.pre_transactions(shop_ids)
                      if merchant_payments.asked_from(pre, merchant_payments.PRO_APP)}
    return [o for o in every if o.pre_transaction_id in asked_here]
