"""The kinds of deadline the sandbox keeps: a timer is (kind, ref) → the instant it falls due.

The store sets an entity's own deadline when it is saved (TRANSACTION, PRE_TRANSACTION); the
services set the others. Each kind has one handler, in `sandbox/services/handlers.py`.
"""

TRANSACTION = "transaction"  # a transaction's timeout (Kit §6.2.2.7) or its capture date
PRE_TRANSACTION = "pre_transaction"  # a payment request's expiry
APP_ANSWER = "app"  # an automatic beneficiary's app answers a transaction (think time)
APP_OPEN_REQUEST = "app_request"  # an automatic beneficiary's app opens a request pushed to it
VALIDATION_REMINDER = "validation_reminder"  # the merchant's reminder 24 h before a capture date
ACQUISITION_RUN = "acquisition_run"  # ANCV's nightly acquisition and reimbursements
JOURNAL_RUN = "journal_run"  # ANCV's nightly journals and their purge
NIGHTLY = "nightly"  # the ref of the two nightly runs' one timer each
