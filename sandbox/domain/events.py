"""Domain events: what happened, in the past tense, recorded by the entities that changed.

They feed the timeline (`/_sandbox/events`), webhooks, emails and pushes. Each name is written
once, here: the entities record them, `sandbox/services/handlers.py` says what follows each one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

# --- a transaction's moves (Kit §6.2.2.7) --------------------------------------------------------
TRANSACTION_INITIALIZED = "TransactionInitialized"
TRANSACTION_PROCESSING = "TransactionProcessing"
TRANSACTION_AUTHORIZED = "TransactionAuthorized"
TRANSACTION_VALIDATED = "TransactionValidated"
TRANSACTION_REJECTED = "TransactionRejected"
TRANSACTION_ABORTED = "TransactionAborted"
TRANSACTION_CANCELLED = "TransactionCancelled"
TRANSACTION_EXPIRED = "TransactionExpired"
TRANSACTION_CONSIGNED = "TransactionConsigned"
TRANSACTION_DELAYED = "TransactionDelayed"
TRANSACTION_NO_SLIP_FOUND = "TransactionNoSlipFound"
TRANSACTION_CONFLICTED = "TransactionConflicted"
TRANSACTION_PAID = "TransactionPaid"
TRANSACTION_PREFIX = "Transaction"  # every name above starts with it (and no other does)
# --- a payment request's moves (Kit §4.6) ---------------------------------------------------------
PRE_TRANSACTION_CREATED = "PreTransactionCreated"
PRE_TRANSACTION_PROCESSING = "PreTransactionProcessing"
PRE_TRANSACTION_AUTHORIZING = "PreTransactionAuthorizing"
PRE_TRANSACTION_USED = "PreTransactionUsed"
PRE_TRANSACTION_ABORTED = "PreTransactionAborted"
PRE_TRANSACTION_EXPIRED = "PreTransactionExpired"
PRE_TRANSACTION_PREFIX = "PreTransaction"
# --- people ---------------------------------------------------------------------------------------
MERCHANT_LOGGED_IN = "MerchantLoggedIn"
MERCHANT_ACCOUNT_LOCKED = "MerchantAccountLocked"
MERCHANT_LOGIN_REFUSED = "MerchantLoginRefused"
MERCHANT_PASSWORD_RESET_REQUESTED = "MerchantPasswordResetRequested"
MERCHANT_PASSWORD_RESET = "MerchantPasswordReset"
BENEFICIARY_DEVICE_BLOCKED = "BeneficiaryDeviceBlocked"
BENEFICIARY_DEVICE_UNBLOCKED = "BeneficiaryDeviceUnblocked"
BENEFICIARY_LOGIN_LOCKED = "BeneficiaryLoginLocked"
BENEFICIARY_LOGIN_REFUSED = "BeneficiaryLoginRefused"
BENEFICIARY_BEHAVIOUR_SET = "BeneficiaryBehaviourSet"
BENEFICIARY_APP_GAVE_UP = "BeneficiaryAppGaveUp"  # an automatic app could not pay a request pushed to it
VALIDATION_REMINDER_DUE = "ValidationReminderDue"  # a pre-booking's merchant is to be reminded
# --- ANCV's nights --------------------------------------------------------------------------------
TRANSFER_PAID = "TransferPaid"
JOURNAL_WRITTEN = "JournalWritten"
JOURNALS_PURGED = "JournalsPurged"
# --- the sandbox itself ---------------------------------------------------------------------------
FIXTURES_LOADED = "FixturesLoaded"
POPULATION_ADDED = "PopulationAdded"
SFTP_KEYS_CHANGED = "SftpKeysChanged"
SETTINGS_CHANGED = "SettingsChanged"
CLOCK_ADVANCED = "ClockAdvanced"
DEADLINE_FAILED = "DeadlineFailed"
EMAIL_RELAY_FAILED = "EmailRelayFailed"
WEBHOOK_RESENT = "WebhookResent"
FAULT_INJECTED = "FaultInjected"


class Event(NamedTuple):
    """(A named tuple: every move of every payment makes one, and a frozen dataclass costs four times more.)"""

    name: str  # e.g. "TransactionAuthorized"
    ref: str  # id of the object it concerns
    at: datetime
    data: dict[str, Any] = {}  # shared by the events made without data: nobody changes an event's data


class RecordsEvents:
    """Mixin: an entity keeps the events it raised until the unit of work collects them."""

    def _record(self, name: str, ref: str, at: datetime, **data: Any) -> None:
        self.__dict__.setdefault("_events", []).append(Event(name, ref, at, data))

    def pull_events(self) -> list[Event]:
        events: list[Event] = self.__dict__.pop("_events", [])
        return events
