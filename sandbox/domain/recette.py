"""The cahier de recette: the acceptance cases an integration must pass, and how each is judged.

The Kit's §6.9 "Cahier de recette" says only "A venir"; these cases are written from the rest of
the Kit. Each case says what the integrator must do, what the sandbox arranges for it (a
beneficiary with a behaviour, a point of sale of its own, a lost answer…) and how it is judged
from what the sandbox saw: the calls it answered (`Call`), the webhooks it sent (`Delivery`),
the transactions and payment requests of the case, the SFTP log, and the integrator's own
declarations. A judge returns checks; a check that fails `fatal`ly fails the case at once (two
transactions for one basket cannot be undone), the others only once the campaign ends.
Everything here is pure: no Flask, no store, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .french import euros
from .pre_transactions import ABORTED as PRE_ABORTED
from .pre_transactions import ABORTED_BENEFICIARY, ABORTED_MERCHANT, USED, PreTransaction
from .pre_transactions import EXPIRED as PRE_EXPIRED
from .transactions import (
    ABORTED_TSPD,
    CANCELLATION_WINDOW,
    CANCELLED,
    DEFERRED,
    REJECTED_SECURITY,
    REJECTED_TIMEOUT,
    TSPD_ADJUSTABLE,
    TSPD_FIXED,
    Transaction,
)

WAITING, RUNNING, PASSED, FAILED, NOT_PLAYED = "waiting", "running", "passed", "failed", "not_played"
STATUSES = (WAITING, RUNNING, PASSED, FAILED, NOT_PLAYED)
SHOP, PROVIDER = "shop", "provider"
POLL_WINDOW_S = 3.0  # "un appel par seconde" (Kit §4.5.3), with room for a webhook and a poll landing together
POLLS_PER_WINDOW = 4

# what a case's beneficiary holds (cents)
FULL_BALANCE = 500_000
LOW_BALANCE = 500


@dataclass(frozen=True)
class Text:
    """A sentence in French and in English."""

    fr: str
    en: str

    def as_json(self) -> dict[str, str]:
        return {"fr": self.fr, "en": self.en}


@dataclass(frozen=True)
class Call:
    """One Kit call the sandbox answered, as a campaign keeps it."""

    tick: int  # order among everything the campaign saw (calls, webhook attempts, SFTP)
    seconds: float  # when it came, in seconds, for rates: wall time, or the virtual clock's when it moves faster
    at: datetime  # the sandbox's time
    journal_id: str | None
    method: str
    path: str
    operation: str
    status: int | None  # None: the answer was never sent (a fault)
    error_code: str | None
    seal: str | None  # the seal check's verdict
    sealed_for: tuple[str, int] | None  # the key holder the seal was checked against
    https: bool
    shop_id: int | None
    object_id: str | None  # the transaction or payment request called, created or answered
    body: dict[str, Any] = field(default_factory=dict)  # the request's JSON object
    fault: str | None = None  # a network fault fired on the call

    @property
    def answered(self) -> bool:
        return self.status is not None

    def ok(self) -> bool:
        return self.status is not None and self.status < 300

    def body_value(self, *path: str) -> Any:
        value: Any = self.body
        for name in path:
            value = value.get(name) if isinstance(value, dict) else None
        return value

    def describe(self) -> str:
        shown = f"{self.status} {self.error_code}" if self.error_code else str(self.status)
        return f"{self.method} {self.path} → {shown if self.answered else 'no answer'}" + (
            f" (journal {self.journal_id})" if self.journal_id else "")


@dataclass(frozen=True)
class Attempt:
    tick: int  # when it was sent
    status: int | None
    error: str | None = None
    at: str | None = None  # as the delivery's record says (ISO)

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and not self.error


@dataclass(frozen=True)
class Delivery:
    """One webhook the sandbox sent about the case's transaction or payment request."""

    delivery_id: int
    url: str
    kind: str  # "returnUrl" or "cancelUrl"
    object_id: str
    state: str
    attempts: tuple[Attempt, ...]

    @property
    def delivered(self) -> bool:
        return any(a.succeeded for a in self.attempts)

    @property
    def first_tick(self) -> int | None:
        return self.attempts[0].tick if self.attempts else None

    def describe_failure(self) -> Text:
        statuses = [str(a.status) if a.status is not None else (a.error or "no answer") for a in self.attempts]
        if not statuses:
            return Text(f"le {self.kind} n'a pas encore été appelé", f"the {self.kind} was not called yet")
        return Text(f"le {self.kind} ({self.url}) a répondu {', '.join(statuses)} aux {len(statuses)} tentatives",
                    f"the {self.kind} ({self.url}) answered {', '.join(statuses)} on all {len(statuses)} attempts")


@dataclass(frozen=True)
class SftpEntry:
    tick: int
    at: datetime
    username: str
    action: str
    path: str


@dataclass(frozen=True)
class Declaration:
    """What the integrator says its system recorded (the partial payment case)."""

    tick: int
    at: datetime
    transaction_id: str
    amount_paid: int


@dataclass
class Evidence:
    """Everything a case is judged on."""

    holder: tuple[str, int]
    calls: list[Call]
    deliveries: list[Delivery]
    transactions: list[Transaction]
    pre_transactions: list[PreTransaction]
    sftp: list[SftpEntry] = field(default_factory=list)
    declarations: list[Declaration] = field(default_factory=list)
    journals: list[dict[str, Any]] = field(default_factory=list)  # the journals for the case's recipient
    sftp_username: str | None = None
    beneficiary_id: str | None = None

    def calls_of(self, operation: str) -> list[Call]:
        return [c for c in self.calls if c.operation == operation]

    def deliveries_of(self, object_id: str, kind: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.object_id == object_id and d.kind == kind]

    def read_after(self, object_id: str, tick: int | None, operation: str = "getTransaction") -> bool:
        """A GET of this object answered after `tick` (a webhook's first sending)."""
        return tick is not None and any(c.operation == operation and c.object_id == object_id and c.ok()
                                        and c.tick > tick for c in self.calls)


@dataclass(frozen=True)
class Check:
    """One criterion: met or not, and what to tell the developer when it is not."""

    label: Text
    ok: bool
    reason: Text | None = None  # why it is not met
    fatal: bool = False  # not met for good: the case has failed even before the campaign ends


@dataclass(frozen=True)
class Verdict:
    status: str
    checks: tuple[Check, ...]
    reasons: tuple[Text, ...]


def verdict(checks: Sequence[Check], played: bool, ended: bool) -> Verdict:
    """The case's status from its checks: failed at a fatal miss; passed when every check is met; at the end,
    never played or failed with every unmet check as a reason."""
    fatal = [c for c in checks if not c.ok and c.fatal]
    unmet = [c for c in checks if not c.ok]
    if fatal:
        return Verdict(FAILED, tuple(checks), tuple(c.reason or c.label for c in fatal))
    if not unmet and played:
        return Verdict(PASSED, tuple(checks), ())
    if not played:
        return Verdict(NOT_PLAYED if ended else WAITING, tuple(checks), ())
    if ended:
        return Verdict(FAILED, tuple(checks), tuple(c.reason or c.label for c in unmet))
    return Verdict(RUNNING, tuple(checks), ())


# --- the checks cases share ---------------------------------------------------------------------------------

def _check(fr: str, en: str, ok: bool, reason: Text | None = None, fatal: bool = False) -> Check:
    return Check(Text(fr, en), ok, reason if not ok else None, fatal and not ok)


def seals_right(ev: Evidence) -> Check:
    """Every call sealed with the holder's key: a refused seal is a defect of the integration."""
    refused = [c for c in ev.calls if c.seal not in (None, "ok")]
    reason = None
    if refused:
        first = refused[0]
        reason = Text(f"{len(refused)} appel(s) refusé(s) pour leur sceau ({first.seal}), par exemple {first.describe()}",
                      f"{len(refused)} call(s) refused for their seal ({first.seal}), e.g. {first.describe()}")
    return _check("Chaque appel est scellé avec la bonne clé (Kit §4.3.2)",
                  "Every call is sealed with the right key (Kit §4.3.2)", not refused, reason, fatal=True)


def _created(ev: Evidence, tx_filter: Callable[[Transaction], bool] = lambda tx: True) -> list[Transaction]:
    return [tx for tx in ev.transactions if tx_filter(tx)]


def created(ev: Evidence, what: Text, tx_filter: Callable[[Transaction], bool] = lambda tx: True) -> Check:
    return Check(Text(f"Une transaction est créée : {what.fr}", f"A transaction is created: {what.en}"),
                 bool(_created(ev, tx_filter)),
                 Text(f"aucune transaction créée ({what.fr})", f"no transaction created ({what.en})"))


def payer_set(ev: Evidence) -> Check:
    ok = any(c.operation == "payer" and c.status == 202 for c in ev.calls)
    return _check("La mise en paiement (/payer) est acceptée (202)", "/payer is accepted (202)", ok,
                  Text("aucun /payer accepté", "no /payer accepted"))


def webhook_answered(ev: Evidence, objects: Iterable[str], kind: str) -> Check:
    """The webhook about one of these objects was taken (2xx) by the integrator's receiver."""
    deliveries = [d for o in objects for d in ev.deliveries_of(o, kind)]
    ok = any(d.delivered for d in deliveries)
    if deliveries:
        reason = deliveries[-1].describe_failure()
    else:
        reason = Text(f"aucun {kind} n'a été appelé : en donner un à la création (Kit §5.1)",
                      f"no {kind} was called: give one at creation (Kit §5.1)")
    return _check(f"Le webhook {kind} est reçu (réponse 2xx)", f"The {kind} webhook is taken (2xx answer)", ok, reason)


def state_read_after_webhook(ev: Evidence, objects: Iterable[str], kind: str,
                             operation: str = "getTransaction") -> Check:
    """The integrator confirms a webhook by asking for the state (Kit §5.1, §4.5.3)."""
    ok = any(ev.read_after(d.object_id, d.first_tick, operation) for o in objects for d in ev.deliveries_of(o, kind))
    what = "transaction" if operation == "getTransaction" else "pre-transaction"
    return _check(f"L'état est relu (GET {what}) après le webhook {kind}",
                  f"The state is read (GET {what}) after the {kind} webhook", ok,
                  Text(f"aucun GET de la {what} après le webhook {kind} : un webhook se confirme par une demande d'état",
                       f"no GET of the {what} after the {kind} webhook: confirm a webhook by asking for the state"))


def not_retried(ev: Evidence, operation: str, error_code: str) -> Check:
    """A refusal is understood: the refused call is not repeated as it was."""
    refused = [c for c in ev.calls if c.operation == operation and c.error_code == error_code]
    ok = len(refused) <= 1
    return _check(f"Le refus {error_code} n'est pas rejoué à l'aveugle", f"The {error_code} refusal is not retried blindly",
                  ok, Text(f"{operation} refusé {len(refused)} fois avec {error_code} : un refus ne se rejoue pas tel quel",
                           f"{operation} refused {len(refused)} times with {error_code}: a refusal is not retried as is"),
                  fatal=True)


def payer_not_retried(ev: Evidence, tx_ids: Iterable[str]) -> Check:
    """After a refusal at the beneficiary's end, no new /payer for the same beneficiary without them asking."""
    payers = [c for c in ev.calls if c.operation == "payer" and c.status == 202]
    ok = len(payers) <= 1
    return _check("Le paiement refusé n'est pas relancé automatiquement", "The refused payment is not retried on its own",
                  ok, Text(f"{len(payers)} mises en paiement pour le même bénéficiaire : le refus n'a pas été compris",
                           f"{len(payers)} /payer calls for the same beneficiary: the refusal was not understood"),
                  fatal=True)


def one_transaction_per_basket(ev: Evidence) -> Check:
    orders = {(tx.order_id, tx.payment_id) for tx in ev.transactions}
    ok = len(ev.transactions) <= 1
    reason = Text(f"la création a été rejouée avec un nouvel order.id après une réponse perdue : {len(ev.transactions)} "
                  f"transactions pour un panier ({', '.join(sorted(f'{o}/{p}' for o, p in orders))})",
                  f"the creation was retried with a new order.id after a lost response: {len(ev.transactions)} "
                  f"transactions for one basket ({', '.join(sorted(f'{o}/{p}' for o, p in orders))})")
    return _check("Une seule transaction pour le panier", "One transaction for the basket", ok, reason, fatal=True)


def _ids(items: Iterable[Transaction]) -> list[str]:
    return [tx.transaction_id for tx in items]


def _pre_ids(items: Iterable[PreTransaction]) -> list[str]:
    return [pre.pre_transaction_id for pre in items]


# --- the judges, one per case --------------------------------------------------------------------------------

def judge_payment(ev: Evidence, tspd: str | None = None, partial: bool = False) -> list[Check]:
    authorized = [tx for tx in ev.transactions if tx.authorization is not None
                  and (tspd is None or tx.tspd_mode == tspd)]
    if partial:
        authorized = [tx for tx in authorized if tx.authorization is not None and tx.authorization.amount < tx.amount]
    what = {None: Text("paiement immédiat", "immediate payment"),
            TSPD_FIXED: Text("montant non ajustable (tspdMode 002)", "amount fixed (tspdMode 002)"),
            TSPD_ADJUSTABLE: Text("montant ajustable (tspdMode 001)", "adjustable amount (tspdMode 001)")}[tspd]
    checks = [seals_right(ev),
              created(ev, what, lambda tx: tspd is None or tx.tspd_mode == tspd),
              payer_set(ev),
              _check("Le bénéficiaire autorise le paiement" + (" pour une partie du montant" if partial else ""),
                     "The beneficiary authorizes the payment" + (" for part of the amount" if partial else ""),
                     bool(authorized), Text("aucune autorisation reçue", "no authorization received")),
              webhook_answered(ev, _ids(authorized), "returnUrl"),
              state_read_after_webhook(ev, _ids(authorized), "returnUrl")]
    if partial:
        checks.append(partial_recorded(ev, authorized))
    return checks


def partial_recorded(ev: Evidence, authorized: list[Transaction]) -> Check:
    """The integrator records what was authorized, not the basket (Kit §4.5.3: "le montant payé en CVCo")."""
    amounts = {tx.transaction_id: tx.authorization.amount for tx in authorized if tx.authorization is not None}
    baskets = {tx.transaction_id: tx.amount for tx in authorized}
    declared = [d for d in ev.declarations if d.transaction_id in amounts]
    if not declared:
        return _check("Le montant autorisé est enregistré (déclaration)", "The authorized amount is recorded (declaration)",
                      False, Text("aucune déclaration du montant payé en Chèques-Vacances (POST …/declaration)",
                                  "no declaration of the amount paid in Chèques-Vacances (POST …/declaration)"))
    last = declared[-1]
    paid, basket = amounts[last.transaction_id], baskets[last.transaction_id]
    if last.amount_paid == paid:
        return _check("Le montant autorisé est enregistré, le reste est demandé autrement",
                      "The authorized amount is recorded, the rest asked for by other means", True)
    if last.amount_paid >= basket:
        reason = Text(f"autorisation partielle traitée comme totale : {euros(last.amount_paid)} enregistrés, ANCV a autorisé "
                      f"{euros(paid)}, {euros(basket - paid)} du panier restent impayés",
                      f"partial authorization treated as full: {euros(last.amount_paid)} recorded, ANCV authorized "
                      f"{euros(paid)}, {euros(basket - paid)} of the basket unpaid")
    else:
        reason = Text(f"{euros(last.amount_paid)} enregistrés, ANCV a autorisé {euros(paid)}",
                      f"{euros(last.amount_paid)} recorded, ANCV authorized {euros(paid)}")
    return _check("Le montant autorisé est enregistré", "The authorized amount is recorded", False, reason, fatal=True)


def judge_rejected(ev: Evidence, sub_state: str) -> list[Check]:
    ended = [tx for tx in ev.transactions if tx.sub_state == sub_state]
    return [seals_right(ev), payer_set(ev),
            _check(f"La transaction finit {sub_state}", f"The transaction ends {sub_state}", bool(ended),
                   Text(f"aucune transaction {sub_state}", f"no {sub_state} transaction")),
            webhook_answered(ev, _ids(ended), "cancelUrl"),
            state_read_after_webhook(ev, _ids(ended), "cancelUrl"),
            payer_not_retried(ev, _ids(ended))]


def judge_refused_at_payer(ev: Evidence, error_code: str) -> list[Check]:
    refused = [c for c in ev.calls if c.operation == "payer" and c.error_code == error_code]
    return [seals_right(ev),
            _check(f"/payer est refusé {error_code} et l'erreur est lue", f"/payer is refused {error_code} and the error read",
                   bool(refused), Text(f"aucun /payer refusé {error_code}", f"no /payer refused with {error_code}")),
            not_retried(ev, "payer", error_code)]


def judge_deferred_capture(ev: Evidence) -> list[Check]:
    executed = [c for c in ev.calls if c.operation == "execute" and c.ok()]
    by_tx = {tx.transaction_id: tx for tx in ev.transactions}

    def less(call: Call) -> bool:
        tx = by_tx.get(call.object_id or "")
        total = call.body_value("amount", "total")
        return tx is not None and isinstance(total, int) and total < tx.amount

    with_payers = [c for c in executed if less(c) and c.body_value("payers") is not None]
    without = [c for c in executed if less(c) and c.body_value("payers") is None]
    early = [tx for tx in ev.transactions if tx.capture_mode == DEFERRED]
    return [seals_right(ev),
            created(ev, Text("capture différée (DEFERRED)", "deferred capture (DEFERRED)"),
                    lambda tx: tx.capture_mode == DEFERRED),
            _check("Autorisé, puis validé par /execute pour moins que l'autorisation, avec payers",
                   "Authorized, then /execute for less than authorized, with payers", bool(with_payers),
                   Text("aucun /execute réussi pour moins que l'autorisation avec payers" if early else
                        "aucune transaction DEFERRED", "no successful /execute for less than authorized with payers"
                        if early else "no DEFERRED transaction")),
            _check("… et sans payers", "… and without payers", bool(without),
                   Text("aucun /execute réussi pour moins que l'autorisation sans payers",
                        "no successful /execute for less than authorized without payers"))]


def judge_not_executed(ev: Evidence) -> list[Check]:
    lapsed = [tx for tx in ev.transactions if tx.capture_mode == DEFERRED and tx.state == CANCELLED
              and tx.cancellation is not None and tx.cancellation.by_deadline]
    read = [tx for tx in lapsed if any(c.operation == "getTransaction" and c.ok() and c.object_id == tx.transaction_id
                                       and tx.cancellation is not None and c.at >= tx.cancellation.effective_date
                                       for c in ev.calls)]
    return [seals_right(ev),
            _check("Une transaction DEFERRED autorisée n'est pas validée avant sa captureDate",
                   "An authorized DEFERRED transaction is not executed before its captureDate", bool(lapsed),
                   Text("aucune transaction DEFERRED annulée à sa captureDate (avancer l'horloge au-delà)",
                        "no DEFERRED transaction cancelled at its captureDate (move the clock past it)")),
            _check("L'annulation (CANCELLED) est constatée par une demande d'état",
                   "The cancellation (CANCELLED) is seen by asking for the state", bool(read),
                   Text("l'état CANCELLED n'a pas été relu après la captureDate",
                        "the CANCELLED state was not read after the captureDate"))]


def _in_window(ev: Evidence, call: Call, inside: bool) -> bool:
    tx = next((t for t in ev.transactions if t.transaction_id == call.object_id), None)
    if tx is None or tx.validation_date is None:
        return False
    return (call.at <= tx.validation_date + CANCELLATION_WINDOW) == inside


def judge_cancel_within(ev: Evidence) -> list[Check]:
    accepted = [c for c in ev.calls if c.operation == "cancel" and c.status == 201 and _in_window(ev, c, True)]
    return [seals_right(ev),
            _check("Une transaction validée est annulée dans les 4 h (201)",
                   "A validated transaction is cancelled within 4 h (201)", bool(accepted),
                   Text("aucune annulation acceptée dans les 4 h suivant la validation",
                        "no cancellation accepted within 4 h of the validation"))]


def judge_cancel_after(ev: Evidence) -> list[Check]:
    refused = [c for c in ev.calls if c.operation == "cancel" and c.status == 403 and _in_window(ev, c, False)]
    return [seals_right(ev),
            _check("Une annulation plus de 4 h après la validation est refusée (403)",
                   "A cancellation more than 4 h after the validation is refused (403)", bool(refused),
                   Text("aucune annulation tentée plus de 4 h après la validation (avancer l'horloge)",
                        "no cancellation tried more than 4 h after the validation (move the clock)")),
            not_retried(ev, "cancel", "OPERATION_TRANSACTION_NOT_ALLOWED")]


def judge_request_paid(ev: Evidence, how: str) -> list[Check]:
    used = [pre for pre in ev.pre_transactions if pre.state == USED and pre.validated_payment_transaction_id]
    checks = [seals_right(ev),
              _check("Une demande de paiement est créée", "A payment request is created", bool(ev.pre_transactions),
                     Text("aucune pré-transaction créée", "no pre-transaction created"))]
    if how == "qr":
        png = [c for c in ev.calls if c.operation == "qrCode" and c.status == 200]
        checks.append(_check("Le QR code est obtenu (PNG)", "The QR code is fetched (PNG)", bool(png),
                             Text("aucun QR code obtenu", "no QR code fetched")))
    else:
        sent = [c for c in ev.calls if c.operation == "contact" and c.ok() and c.body_value(how) is not None]
        label = "email" if how == "contact" else "beneficiaryId"
        checks.append(_check(f"La demande est transmise par /contact ({label})",
                             f"The request is sent by /contact ({label})", bool(sent),
                             Text(f"aucun /contact réussi avec {label}", f"no successful /contact with {label}")))
    read = [pre for pre in used if any(c.operation == "getTransaction" and c.ok()
                                       and c.object_id == pre.validated_payment_transaction_id for c in ev.calls)]
    checks += [_check("Le bénéficiaire paie : la demande est USED", "The beneficiary pays: the request is USED", bool(used),
                      Text("aucune demande USED", "no request USED")),
               _check("La transaction est lue depuis validatedPaymentTransactionId",
                      "The transaction is read from validatedPaymentTransactionId", bool(read),
                      Text("aucun GET de la transaction nommée par validatedPaymentTransactionId",
                           "no GET of the transaction validatedPaymentTransactionId names"))]
    return checks


def judge_request_ended(ev: Evidence, state: str, sub_state: str | None) -> list[Check]:
    ended = [pre for pre in ev.pre_transactions if pre.state == state
             and (sub_state is None or (pre.abort is not None and pre.abort.reason == sub_state))]
    checks = [seals_right(ev),
              _check(f"La demande finit {state}" + (f" ({sub_state})" if sub_state else ""),
                     f"The request ends {state}" + (f" ({sub_state})" if sub_state else ""), bool(ended),
                     Text(f"aucune demande {state}", f"no {state} request"))]
    if sub_state == ABORTED_MERCHANT:
        checks.append(_check("L'état est relu après l'abandon", "The state is read after the abort",
                             any(ev.read_after(p.pre_transaction_id, _abort_tick(ev, p), "getPreTransaction")
                                 for p in ended),
                             Text("aucun GET de la pré-transaction après /abort",
                                  "no GET of the pre-transaction after /abort")))
    else:
        checks += [webhook_answered(ev, _pre_ids(ended), "cancelUrl"),
                   state_read_after_webhook(ev, _pre_ids(ended), "cancelUrl", "getPreTransaction")]
    return checks


def _abort_tick(ev: Evidence, pre: PreTransaction) -> int | None:
    ticks = [c.tick for c in ev.calls if c.operation == "abort" and c.ok() and c.object_id == pre.pre_transaction_id]
    return ticks[0] if ticks else None


def judge_idempotent(ev: Evidence) -> list[Check]:
    dropped = [c for c in ev.calls if c.operation == "createTransaction" and c.fault == "drop_response"]
    same = [c for c in ev.calls if c.operation == "createTransaction" and c.status == 200 and dropped
            and c.tick > dropped[0].tick and c.body_value("order", "id") == dropped[0].body_value("order", "id")
            and c.body_value("order", "paymentId") == dropped[0].body_value("order", "paymentId")]
    return [seals_right(ev),
            _check("La réponse de la création est perdue (arrangé)", "The creation's answer is lost (arranged)",
                   bool(dropped), Text("aucune création n'a perdu sa réponse", "no creation lost its answer")),
            one_transaction_per_basket(ev),
            _check("La création est rejouée avec le même order.id/paymentId et retrouve la transaction (200)",
                   "The creation is retried with the same order.id/paymentId and finds the transaction (200)",
                   bool(same), Text("la création n'a pas été rejouée avec le même order.id et paymentId",
                                    "the creation was not retried with the same order.id and paymentId"))]


def judge_webhook_retry(ev: Evidence) -> list[Check]:
    retried = [d for d in ev.deliveries if len(d.attempts) >= 2 and not d.attempts[0].succeeded and d.delivered]
    failed = [d for d in ev.deliveries if d.attempts and not d.delivered and d.state == "failed"]
    checks = [seals_right(ev),
              _check("Après une première tentative perdue, une nouvelle tentative est reçue (2xx)",
                     "After a lost first attempt, a retry is taken (2xx)", bool(retried),
                     failed[-1].describe_failure() if failed else Text("aucun webhook envoyé", "no webhook sent"))]
    read = [d for d in retried if ev.read_after(d.object_id, d.first_tick)]
    checks.append(_check("L'état est relu avant de livrer la commande", "The state is read before the order is delivered",
                         bool(read), Text("aucun GET de la transaction après le webhook",
                                          "no GET of the transaction after the webhook")))
    return checks


def judge_polling(ev: Evidence) -> list[Check]:
    """At most one call per second per object (Kit §4.5.3 "Conseil d'usage")."""
    polls: dict[tuple[str, str], list[Call]] = {}
    for call in ev.calls:
        if call.operation in ("getTransaction", "getPreTransaction") and call.object_id:
            polls.setdefault((call.operation, call.object_id), []).append(call)
    worst: tuple[int, float, Call] | None = None
    for calls in polls.values():
        calls.sort(key=lambda c: c.seconds)
        start = 0
        for end, call in enumerate(calls):
            while call.seconds - calls[start].seconds >= POLL_WINDOW_S:
                start += 1
            count = end - start + 1
            if count > POLLS_PER_WINDOW and (worst is None or count > worst[0]):
                worst = (count, call.seconds - calls[start].seconds, call)
    reason = None
    if worst is not None:
        count, span, call = worst
        path = call.path
        reason = Text(f"GET {path} interrogé {count} fois en {span:.1f} s : au plus un appel par seconde (Kit §4.5.3)",
                      f"GET {path} polled {count} times in {span:.1f} s: at most one call per second (Kit §4.5.3)")
    return [_check("Des demandes d'état sont faites", "The state is asked for", bool(polls),
                   Text("aucune demande d'état", "no state asked for")),
            _check("Au plus un appel par seconde par transaction", "At most one call per second per transaction",
                   worst is None, reason, fatal=True)]


def judge_https(ev: Evidence) -> list[Check]:
    plain = [c for c in ev.calls if not c.https]
    urls = sorted({d.url for d in ev.deliveries if not d.url.startswith("https://")})
    return [_check("Des appels sont faits", "Calls are made", bool(ev.calls), Text("aucun appel", "no call")),
            _check("L'API est appelée en HTTPS (Kit §4.3.1)", "The API is called over HTTPS (Kit §4.3.1)", not plain,
                   Text(f"{len(plain)} appel(s) en HTTP, par exemple {plain[0].describe()}" if plain else "",
                        f"{len(plain)} call(s) over plain HTTP, e.g. {plain[0].describe()}" if plain else ""), fatal=True),
            _check("Les webhooks sont en HTTPS (Kit §5.1.4)", "Webhook URLs are HTTPS (Kit §5.1.4)", not urls,
                   Text(f"webhook en HTTP : {', '.join(urls[:3])}", f"webhook over plain HTTP: {', '.join(urls[:3])}"),
                   fatal=True)]


def judge_provider(ev: Evidence) -> list[Check]:
    sealed = [c for c in ev.calls if c.sealed_for is not None]
    other = [c for c in sealed if c.sealed_for != ev.holder or c.seal != "ok"]
    named = [c for c in ev.calls if c.operation in ("createTransaction", "createPreTransaction") and c.ok()
             and c.body_value("merchant", "serviceProviderId") is not None]
    return [_check("Les créations donnent serviceProviderId", "Creations give serviceProviderId", bool(named),
                   Text("aucune création avec merchant.serviceProviderId", "no creation with merchant.serviceProviderId")),
            _check("Chaque appel est scellé avec la clé du prestataire (Kit §5.3.2.2)",
                   "Every call is sealed with the provider's key (Kit §5.3.2.2)", bool(sealed) and not other,
                   Text(f"{len(other)} appel(s) non scellé(s) avec la clé du prestataire, par exemple "
                        f"{other[0].describe()}" if other else "aucun appel scellé",
                        f"{len(other)} call(s) not sealed with the provider's key, e.g. {other[0].describe()}"
                        if other else "no sealed call"), fatal=bool(other))]


def judge_reconciliation(ev: Evidence) -> list[Check]:
    mine = [e for e in ev.sftp if e.username == ev.sftp_username and e.action == "download"]
    names = {j["name"] for j in ev.journals}
    got = {kind: [e for e in mine if e.path.rsplit("/", 1)[-1] in names and e.path.rsplit("/", 1)[-1].startswith(kind)]
           for kind in ("DLO", "BRJ")}
    return [seals_right(ev),
            _check("Une transaction du jour est validée", "A payment of the day is validated",
                   any(tx.validation_date is not None for tx in ev.transactions),
                   Text("aucune transaction validée", "no validated transaction")),
            _check("Le journal des opérations (DLO) est téléchargé par SFTP", "The DLO journal is downloaded over SFTP",
                   bool(got["DLO"]), Text("aucun DLO téléchargé depuis l'espace SFTP (les journaux sont écrits chaque "
                                          "matin : avancer l'horloge au lendemain)",
                                          "no DLO downloaded from the SFTP space (journals are written each morning: "
                                          "move the clock to the next day)")),
            _check("Le bordereau de remise (BRJ) est téléchargé par SFTP", "The BRJ journal is downloaded over SFTP",
                   bool(got["BRJ"]), Text("aucun BRJ téléchargé depuis l'espace SFTP",
                                          "no BRJ downloaded from the SFTP space"))]


# --- the catalogue ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Arrangement:
    """What the sandbox sets up for a case."""

    behaviour: str | None = "pay_full"  # the case's beneficiary (None: no beneficiary)
    balance: int = FULL_BALANCE
    device: bool = True
    own_shop: bool = True  # a point of sale of its own (its calls, and only they, are the case's)
    drop_first_creation: bool = False  # the answer to the first creation is lost (after it is made)
    lose_first_webhook_answer: bool = False  # each webhook's first answer is taken for lost: it is sent again
    other_payment_pending: bool = False  # the beneficiary is paying elsewhere when /payer comes
    scan_requests: bool = False  # the beneficiary scans the QR code, or opens the email, as soon as they get it
    refuse_requests: bool = False  # … and refuses to pay
    sftp: bool = False  # the case's SFTP account is handed out
    whole_campaign: bool = False  # judged on every call of the campaign, not on a shop of its own


@dataclass(frozen=True)
class Case:
    case_id: str
    title: Text
    sections: tuple[str, ...]
    instructions: Text
    arranged: Text
    judge: Callable[[Evidence], list[Check]]
    arrangement: Arrangement = Arrangement()
    holders: tuple[str, ...] = (SHOP, PROVIDER)

    def judged(self, evidence: Evidence, ended: bool) -> Verdict:
        played = bool(evidence.calls) or bool(evidence.declarations)
        return verdict(self.judge(evidence), played, ended)


def _t(fr: str, en: str) -> Text:
    return Text(fr, en)


PAYS = _t("Un bénéficiaire qui accepte et tape le bon code.", "A beneficiary who accepts and types the right code.")
NOBODY_PAYS = _t("Personne ne paie la demande.", "Nobody pays the request.")
WHOLE_CAMPAIGN = _t("Rien : tous les appels de la campagne sont regardés.", "Nothing: every call of the campaign is looked at.")

CATALOGUE: tuple[Case, ...] = (
    Case("immediate-payment", _t("Paiement immédiat accepté", "Immediate payment accepted"),
         ("4.5.1", "4.5.2", "4.5.3", "5.1"),
         _t("Créer une transaction NORMAL / 001 sur le point d'accueil du cas, la mettre en paiement (/payer) pour le "
            "bénéficiaire du cas avec un returnUrl, répondre 2xx au webhook puis relire l'état (GET).",
            "Create a NORMAL / 001 transaction on the case's point of sale with a returnUrl, /payer it for the case's "
            "beneficiary, answer the webhook 2xx, then read the state (GET)."),
         _t("Un bénéficiaire qui accepte le montant et tape le bon code.",
            "A beneficiary who accepts the amount and types the right code."),
         lambda ev: judge_payment(ev)),
    Case("partial-payment", _t("Paiement partiel (001)", "Partial payment (001)"), ("4.5.2", "4.5.3", "6.2.2"),
         _t("Créer une transaction en tspdMode 001 et la mettre en paiement : le bénéficiaire n'en paie que la moitié. "
            "Lire l'autorisation, enregistrer le montant payé en Chèques-Vacances et demander le reste autrement, puis "
            "déclarer ce qui a été enregistré : POST /_sandbox/recette/{id}/cases/partial-payment/declaration "
            "{\"transactionId\", \"amountPaid\"}.",
            "Create a tspdMode 001 transaction and /payer it: the beneficiary pays half of it. Read the authorization, "
            "record the amount paid in Chèques-Vacances and ask for the rest by other means, then declare what was "
            "recorded: POST /_sandbox/recette/{id}/cases/partial-payment/declaration {\"transactionId\", \"amountPaid\"}."),
         _t("Un bénéficiaire qui baisse le montant de moitié, puis tape le bon code.",
            "A beneficiary who lowers the amount by half, then types the right code."),
         lambda ev: judge_payment(ev, TSPD_ADJUSTABLE, partial=True), Arrangement(behaviour="pay_partial")),
    Case("fixed-amount", _t("Montant non ajustable (002)", "Amount fixed (002)"), ("4.5.1", "6.2.2"),
         _t("Créer une transaction en tspdMode 002, la mettre en paiement, recevoir le returnUrl et relire l'état.",
            "Create a tspdMode 002 transaction, /payer it, take the returnUrl and read the state."),
         PAYS,
         lambda ev: judge_payment(ev, TSPD_FIXED)),
    Case("refused-wrong-code", _t("Refus : code personnel faux", "Refused: wrong personal code"), ("4.5.2", "5.1", "6.2.2.6"),
         _t("Mettre un paiement en paiement : le bénéficiaire tape un code faux. Traiter le cancelUrl (REJECTED_SECURITY), "
            "relire l'état, ne pas relancer le paiement.",
            "/payer a payment: the beneficiary types a wrong code. Handle the cancelUrl (REJECTED_SECURITY), read the "
            "state, do not retry the payment."),
         _t("Un bénéficiaire qui tape un code faux.", "A beneficiary who types a wrong code."),
         lambda ev: judge_rejected(ev, REJECTED_SECURITY), Arrangement(behaviour="wrong_pin")),
    Case("refused-no-answer", _t("Refus : pas de réponse (250 s)", "Refused: no answer (250 s)"), ("4.5.2", "6.2.2.7"),
         _t("Mettre un paiement en paiement : le bénéficiaire ne répond pas. Après 250 s (avancer l'horloge), traiter le "
            "cancelUrl (REJECTED_TIMEOUT) et relire l'état.",
            "/payer a payment: the beneficiary never answers. After 250 s (move the clock), handle the cancelUrl "
            "(REJECTED_TIMEOUT) and read the state."),
         _t("Un bénéficiaire qui ne répond jamais.", "A beneficiary who never answers."),
         lambda ev: judge_rejected(ev, REJECTED_TIMEOUT), Arrangement(behaviour="no_answer")),
    Case("refused-abandon", _t("Refus : abandon du bénéficiaire", "Refused: the beneficiary gives up"), ("4.5.2", "6.2.2.6"),
         _t("Mettre un paiement en paiement : le bénéficiaire abandonne. Traiter le cancelUrl (ABORTED_TSPD) et relire l'état.",
            "/payer a payment: the beneficiary gives up. Handle the cancelUrl (ABORTED_TSPD) and read the state."),
         _t("Un bénéficiaire qui abandonne.", "A beneficiary who gives up."),
         lambda ev: judge_rejected(ev, ABORTED_TSPD), Arrangement(behaviour="abandon")),
    Case("refused-no-device", _t("Refus : pas d'appareil (412)", "Refused: no device (412)"), ("4.5.2.4",),
         _t("Mettre un paiement en paiement pour ce bénéficiaire : /payer répond 412 NO_ACTIVE_DEVICE. Le dire au client, "
            "ne pas rejouer l'appel.",
            "/payer a payment for this beneficiary: it answers 412 NO_ACTIVE_DEVICE. Tell the customer, do not repeat "
            "the call."),
         _t("Un bénéficiaire sans appareil enrôlé.", "A beneficiary with no enrolled device."),
         lambda ev: judge_refused_at_payer(ev, "NO_ACTIVE_DEVICE"), Arrangement(behaviour="manual", device=False)),
    Case("refused-insufficient-balance", _t("Refus : solde insuffisant (403)", "Refused: insufficient balance (403)"),
         ("4.5.2.4",),
         _t("Créer une transaction de 40 € en tspdMode 002 et la mettre en paiement : /payer répond 403 "
            "INSUFFICIENT_BALANCE. Le dire au client, ne pas rejouer l'appel.",
            "Create a 40 € tspdMode 002 transaction and /payer it: it answers 403 INSUFFICIENT_BALANCE. Tell the "
            "customer, do not repeat the call."),
         _t("Un bénéficiaire qui n'a que 5,00 €.", "A beneficiary who holds only 5.00 €."),
         lambda ev: judge_refused_at_payer(ev, "INSUFFICIENT_BALANCE"),
         Arrangement(behaviour="manual", balance=LOW_BALANCE)),
    Case("refused-other-pending", _t("Refus : un autre paiement en cours (409)", "Refused: another payment pending (409)"),
         ("4.5.2.4",),
         _t("Mettre un paiement en paiement pour ce bénéficiaire : /payer répond 409 OTHER_TRANSACTION_PENDING. Le dire "
            "au client, ne pas rejouer l'appel.",
            "/payer a payment for this beneficiary: it answers 409 OTHER_TRANSACTION_PENDING. Tell the customer, do not "
            "repeat the call."),
         _t("Le bénéficiaire est déjà en train de payer ailleurs quand /payer arrive.",
            "The beneficiary is already paying elsewhere when /payer comes."),
         lambda ev: judge_refused_at_payer(ev, "OTHER_TRANSACTION_PENDING"),
         Arrangement(behaviour="manual", other_payment_pending=True)),
    Case("deferred-capture", _t("Capture différée : /execute", "Deferred capture: /execute"), ("4.5.1", "4.5.4"),
         _t("Créer deux transactions DEFERRED (captureDate dans les 6 jours), les faire autoriser, puis valider chacune "
            "par /execute pour moins que le montant autorisé : l'une avec payers (l'autorisation et son montant), "
            "l'autre sans.",
            "Create two DEFERRED transactions (captureDate within 6 days), have them authorized, then /execute each for "
            "less than authorized: one with payers (the authorization and its amount), the other without."),
         PAYS,
         judge_deferred_capture),
    Case("deferred-not-executed", _t("Capture différée non validée : CANCELLED", "Deferred capture not executed: CANCELLED"),
         ("4.5.4", "6.2.2.7"),
         _t("Créer une transaction DEFERRED, la faire autoriser, ne pas l'exécuter : passé la captureDate (avancer "
            "l'horloge), constater CANCELLED par une demande d'état.",
            "Create a DEFERRED transaction, have it authorized, do not execute it: past its captureDate (move the clock), "
            "see CANCELLED by asking for the state."),
         PAYS,
         judge_not_executed),
    Case("cancel-within-4h", _t("Annulation dans les 4 h", "Cancellation within 4 h"), ("4.5.5",),
         _t("Faire valider un paiement, puis l'annuler (/cancellation) moins de 4 h après sa validation.",
            "Have a payment validated, then cancel it (/cancellation) less than 4 h after its validation."),
         PAYS,
         judge_cancel_within),
    Case("cancel-after-4h", _t("Annulation après 4 h refusée", "Cancellation after 4 h refused"), ("4.5.5",),
         _t("Faire valider un paiement, avancer l'horloge de plus de 4 h, demander l'annulation : elle est refusée "
            "(403). Ne pas la rejouer ; le remboursement passe par un autre moyen.",
            "Have a payment validated, move the clock more than 4 h, ask for the cancellation: it is refused (403). Do "
            "not repeat it; a refund goes another way."),
         PAYS,
         judge_cancel_after),
    Case("request-qr-code", _t("Demande de paiement par QR code", "Payment request by QR code"), ("4.6.1", "4.6.2", "4.6.3"),
         _t("Créer une pré-transaction, obtenir son QR code en PNG et l'afficher : le bénéficiaire le scanne et paie. "
            "Relire la pré-transaction (USED) et lire la transaction nommée par validatedPaymentTransactionId.",
            "Create a pre-transaction, fetch its QR code as PNG and show it: the beneficiary scans and pays. Read the "
            "pre-transaction (USED) and the transaction validatedPaymentTransactionId names."),
         _t("Un bénéficiaire qui scanne le QR code dès qu'il est obtenu, accepte et tape le bon code.",
            "A beneficiary who scans the QR code as soon as it is fetched, accepts and types the right code."),
         lambda ev: judge_request_paid(ev, "qr"), Arrangement(scan_requests=True)),
    Case("request-by-email", _t("Demande de paiement par email", "Payment request by email"), ("4.6.4",),
         _t("Créer une pré-transaction et la transmettre par /contact à l'email du bénéficiaire du cas : il l'ouvre et "
            "paie. Relire la pré-transaction et lire la transaction validée.",
            "Create a pre-transaction and send it by /contact to the case beneficiary's email: they open it and pay. "
            "Read the pre-transaction and the validated transaction."),
         _t("Un bénéficiaire qui ouvre l'email, accepte et tape le bon code.",
            "A beneficiary who opens the email, accepts and types the right code."),
         lambda ev: judge_request_paid(ev, "contact"), Arrangement(scan_requests=True)),
    Case("request-by-app", _t("Demande de paiement poussée dans l'App'", "Payment request pushed to the App'"), ("4.6.4",),
         _t("Créer une pré-transaction et la transmettre par /contact au beneficiaryId du cas : il la reçoit dans l'App' "
            "et paie. Relire la pré-transaction et lire la transaction validée.",
            "Create a pre-transaction and send it by /contact to the case's beneficiaryId: it reaches their App' and they "
            "pay. Read the pre-transaction and the validated transaction."),
         _t("Un bénéficiaire qui ouvre la demande, accepte et tape le bon code.",
            "A beneficiary who opens the request, accepts and types the right code."),
         lambda ev: judge_request_paid(ev, "beneficiaryId")),
    Case("request-expired", _t("Demande de paiement expirée", "Payment request expired"), ("4.6.1", "5.1"),
         _t("Créer une pré-transaction avec un cancelUrl et une expirationDate proche, la laisser expirer (avancer "
            "l'horloge) : traiter le cancelUrl et relire la pré-transaction (EXPIRED).",
            "Create a pre-transaction with a cancelUrl and a near expirationDate, let it expire (move the clock): handle "
            "the cancelUrl and read the pre-transaction (EXPIRED)."),
         NOBODY_PAYS,
         lambda ev: judge_request_ended(ev, PRE_EXPIRED, None), Arrangement(behaviour=None)),
    Case("request-aborted", _t("Demande de paiement abandonnée par le commerçant", "Payment request aborted by the merchant"),
         ("4.6.5",),
         _t("Créer une pré-transaction puis l'abandonner (/abort) ; relire son état (ABORTED).",
            "Create a pre-transaction then abort it (/abort); read its state (ABORTED)."),
         NOBODY_PAYS,
         lambda ev: judge_request_ended(ev, PRE_ABORTED, ABORTED_MERCHANT), Arrangement(behaviour=None)),
    Case("request-refused", _t("Demande de paiement refusée par le bénéficiaire", "Payment request refused by the beneficiary"),
         ("4.6.4", "5.1"),
         _t("Créer une pré-transaction avec un cancelUrl et la transmettre par /contact (email ou beneficiaryId) au "
            "bénéficiaire du cas : il la refuse. Traiter le cancelUrl et relire la pré-transaction.",
            "Create a pre-transaction with a cancelUrl and send it by /contact (email or beneficiaryId) to the case's "
            "beneficiary: they refuse it. Handle the cancelUrl and read the pre-transaction."),
         _t("Un bénéficiaire qui refuse la demande dès qu'il la reçoit.",
            "A beneficiary who refuses the request as soon as they get it."),
         lambda ev: judge_request_ended(ev, PRE_ABORTED, ABORTED_BENEFICIARY),
         Arrangement(behaviour="manual", scan_requests=True, refuse_requests=True)),
    Case("idempotent-creation", _t("Création rejouée après une réponse perdue", "Creation retried after a lost answer"),
         ("4.5.1", "4.5.3"),
         _t("Créer une transaction : la réponse est perdue (la connexion se ferme). En cas de doute, rejouer la création "
            "avec le même order.id et paymentId : la même transaction revient (200). Ne pas en créer une autre.",
            "Create a transaction: the answer is lost (the connection closes). When in doubt, retry the creation with the "
            "same order.id and paymentId: the same transaction comes back (200). Do not create another."),
         _t("La réponse à la première création est perdue, après que la transaction est créée.",
            "The answer to the first creation is lost, after the transaction is created."),
         judge_idempotent, Arrangement(drop_first_creation=True)),
    Case("webhook-retry", _t("Webhook rejoué", "Webhook sent again"), ("5.1.2",),
         _t("Payer une transaction avec un returnUrl : la réponse à la première tentative du webhook est perdue, il est "
            "envoyé à nouveau. Recevoir la nouvelle tentative sans livrer deux fois, et relire l'état avant de livrer.",
            "Pay a transaction with a returnUrl: the answer to the webhook's first attempt is lost, so it is sent again. "
            "Take the retry without delivering twice, and read the state before delivering."),
         _t("La réponse à la première tentative de chaque webhook est tenue pour perdue.",
            "The answer to each webhook's first attempt is taken for lost."),
         judge_webhook_retry, Arrangement(lose_first_webhook_answer=True)),
    Case("polling-rate", _t("Demandes d'état : au plus une par seconde", "State requests: at most one a second"), ("4.5.3",),
         _t("Sur toute la campagne, interroger l'état d'une même transaction au plus une fois par seconde.",
            "Across the whole campaign, ask for the state of one transaction at most once a second."),
         _t("Rien : toutes les demandes d'état de la campagne sont comptées.", "Nothing: every state request is counted."),
         judge_polling, Arrangement(behaviour=None, own_shop=False, whole_campaign=True)),
    Case("https", _t("HTTPS pour l'API et les webhooks", "HTTPS for the API and the webhooks"), ("4.3.1", "5.1.4"),
         _t("Sur toute la campagne, appeler l'API en HTTPS (serve --tls) et donner des returnUrl/cancelUrl en https://.",
            "Across the whole campaign, call the API over HTTPS (serve --tls) and give https:// returnUrl/cancelUrl."),
         WHOLE_CAMPAIGN,
         judge_https, Arrangement(behaviour=None, own_shop=False, whole_campaign=True)),
    Case("service-provider", _t("Prestataire : appels scellés avec sa clé", "Service provider: calls sealed with its key"),
         ("5.3.2.2",),
         _t("Sur toute la campagne, donner merchant.serviceProviderId (et ?serviceProviderId) et sceller chaque appel "
            "avec la clé du prestataire.",
            "Across the whole campaign, give merchant.serviceProviderId (and ?serviceProviderId) and seal every call "
            "with the provider's key."),
         WHOLE_CAMPAIGN,
         judge_provider, Arrangement(behaviour=None, own_shop=False, whole_campaign=True), holders=(PROVIDER,)),
    Case("reconciliation", _t("Rapprochement : journaux DLO et BRJ", "Reconciliation: DLO and BRJ journals"), ("5.2",),
         _t("Faire valider un paiement, avancer l'horloge au lendemain après l'heure des journaux, puis télécharger le DLO "
            "et le BRJ du jour depuis l'espace SFTP avec le compte donné.",
            "Have a payment validated, move the clock to the next day past the journals' hour, then download the day's "
            "DLO and BRJ from the SFTP space with the account given."),
         _t("Un bénéficiaire qui accepte ; le compte SFTP du destinataire des journaux.",
            "A beneficiary who accepts; the SFTP account the journals are for."),
         judge_reconciliation, Arrangement(sftp=True)),
)

BY_ID = {case.case_id: case for case in CATALOGUE}


def cases_for(holder_kind: str, wanted: Sequence[str] | None) -> list[Case]:
    """The cases a campaign plays: those named (in the catalogue's order), or every case for this kind of holder.
    Raises ValueError naming what is wrong."""
    if wanted is None:
        return [case for case in CATALOGUE if holder_kind in case.holders]
    unknown = [name for name in wanted if name not in BY_ID]
    if unknown:
        raise ValueError(f"unknown case {unknown[0]!r}; known: {', '.join(BY_ID)}")
    unfit = [name for name in wanted if holder_kind not in BY_ID[name].holders]
    if unfit:
        raise ValueError(f"case {unfit[0]!r} is for a service provider only")
    if not wanted:
        raise ValueError("cases must name at least one case (or be null for all)")
    return [case for case in CATALOGUE if case.case_id in set(wanted)]

