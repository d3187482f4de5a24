"""What happens when…: the one table of every reaction of the sandbox.

- `EVENT_HANDLERS`: what follows each domain event, in the same database transaction
  (the unit of work runs them until no new event appears, so the money rules hold at commit);
- `NOTIFICATIONS`: the webhooks (Kit §5.1) and emails (SPEC §8) each event sends, planned once
  the handlers are done and delivered once the commit succeeded;
- `TIMER_HANDLERS`: what happens when a deadline of each kind falls due (scheduler.py fires them
  in order, and `catch_up` applies one a caller finds already passed).

A new reaction is one line here; the commands that cause an event never call what follows it.
"""

from __future__ import annotations

from ..domain import deadlines, events
from . import back_office, behaviours, notifications, paying, reminders
from .deadlines import request_due, transaction_due
from .unit_of_work import Wiring

EVENT_HANDLERS = {
    # the payment reached its beneficiary: an automatic app answers one think time later
    events.TRANSACTION_PROCESSING: [behaviours.schedule_answer],
    # a payment running on a request ended: the request follows (USED, or payable again);
    # a pre-booking waits for its merchant: remind them 24 h before its capture date
    events.TRANSACTION_AUTHORIZED: [paying.request_follows, reminders.set_reminder],
    events.TRANSACTION_VALIDATED: [paying.request_follows, reminders.drop_reminder],
    events.TRANSACTION_REJECTED: [paying.request_follows],
    events.TRANSACTION_ABORTED: [paying.request_follows],
    events.TRANSACTION_CANCELLED: [paying.request_follows, reminders.drop_reminder],
    events.TRANSACTION_EXPIRED: [paying.request_follows],
    # a request pushed to an automatic beneficiary's app: it opens it one think time later
    events.PRE_TRANSACTION_PROCESSING: [behaviours.schedule_opening],
}

NOTIFICATIONS = {
    events.TRANSACTION_AUTHORIZED: [notifications.to_return_url, notifications.merchant_told_paid],
    events.TRANSACTION_REJECTED: [notifications.to_cancel_url, notifications.merchant_told_failed],
    events.TRANSACTION_ABORTED: [notifications.to_cancel_url, notifications.merchant_told_failed],
    events.TRANSACTION_VALIDATED: [notifications.client_told_confirmed],
    events.TRANSACTION_CANCELLED: [notifications.client_told_cancelled],
    events.PRE_TRANSACTION_PROCESSING: [notifications.client_asked_to_pay],
    events.PRE_TRANSACTION_EXPIRED: [notifications.request_to_cancel_url, notifications.merchant_told_request_ended],
    events.PRE_TRANSACTION_ABORTED: [notifications.request_to_cancel_url, notifications.merchant_told_request_ended],
    events.VALIDATION_REMINDER_DUE: [notifications.merchant_reminded],
    events.MERCHANT_PASSWORD_RESET_REQUESTED: [notifications.password_reset_link],
}

TIMER_HANDLERS = {
    deadlines.TRANSACTION: transaction_due,
    deadlines.PRE_TRANSACTION: request_due,
    deadlines.APP_ANSWER: behaviours.answer,
    deadlines.APP_OPEN_REQUEST: behaviours.open_request,
    deadlines.VALIDATION_REMINDER: reminders.remind,
    deadlines.ACQUISITION_RUN: back_office.acquisition_run,
    deadlines.JOURNAL_RUN: back_office.journal_run,
}

WIRING = Wiring(EVENT_HANDLERS, TIMER_HANDLERS, NOTIFICATIONS)
