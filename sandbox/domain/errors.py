"""The error catalogue of Kit §6.3: one class per error, status and code as class attributes.

Domain and services raise these; each transport renders them once (the Kit API as
`{"errorCode", "errorMessage"}` with the HTTP status). `detail` is the sandbox's own
explanation for humans; it never changes the Kit's code or message.
"""

from __future__ import annotations


class KitError(Exception):
    """Base of every error the Kit defines."""

    status: int = 500
    code: str = "INTERNAL_SERVER_ERROR"
    message: str = "internal server error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.message)
        self.detail = detail

    def body(self) -> dict[str, str]:
        return {"errorCode": self.code, "errorMessage": self.message}


class BadRequest(KitError):
    status, code, message = 400, "BAD_REQUEST", "Bad request"


class InvalidSeal(KitError):
    status, code, message = 403, "INVALID_SEAL", "The seal is invalid"


class MerchantNotAllowed(KitError):
    status, code, message = 403, "MERCHANT_NOT_ALLOWED", "The merchant is not allowed"


class OperationTransactionNotAllowed(KitError):
    status, code, message = 403, "OPERATION_TRANSACTION_NOT_ALLOWED", "The operation on transaction is not allowed"


class OperationPreTransactionNotAllowed(KitError):
    status, code = 403, "OPERATION_PRE_TRANSACTION_NOT_ALLOWED"
    message = "The operation on pre-transaction amount is not allowed"


class InsufficientBalance(KitError):
    status, code, message = 403, "INSUFFICIENT_BALANCE", "The balance is insufficient"


class NoTaTransactionPending(KitError):
    status, code, message = 403, "NO_TA_TRANSACTION_PENDING", "No TA transaction is pending for this authorization"


class TransactionNotValidatedOnTaSide(KitError):
    status, code, message = 403, "TRANSACTION_NOT_VALIDATED_ON_TA_SIDE", "Transaction was not validated on TA side"


class TransactionValidatedOnTaSide(KitError):
    status, code, message = 403, "TRANSACTION_VALIDATED_ON_TA_SIDE", "Transaction was already validated on TA side"


class TransactionNotFound(KitError):
    status, code, message = 404, "TRANSACTION_NOT_FOUND", "The transaction was not found"


class BeneficiaryNotFound(KitError):
    status, code, message = 404, "BENEFICIARY_NOT_FOUND", "The beneficiary was not found"


class PreTransactionNotFound(KitError):
    status, code, message = 404, "PRE_TRANSACTION_NOT_FOUND", "The pre-transaction was not found"


class PointOfSaleNotFound(KitError):
    status, code, message = 404, "POINT_OF_SALE_NOT_FOUND", "The shopID is not recognized as a known point of sale"


class NotAcceptable(KitError):
    status, code, message = 406, "Not Acceptable detail", "Could not find acceptable representation"


class OtherTransactionPending(KitError):
    status, code, message = 409, "OTHER_TRANSACTION_PENDING", "Another transaction is pending"


class InvalidTransactionAmount(KitError):
    status, code, message = 412, "INVALID_TRANSACTION_AMOUNT", "The transaction amount is invalid"


class InvalidTransactionCurrency(KitError):
    status, code, message = 412, "INVALID_TRANSACTION_CURRENCY", "The transaction currency is invalid"


class InvalidPayerAmount(KitError):
    status, code, message = 412, "INVALID_PAYER_AMOUNT", "The payer amount is invalid"


class InvalidTspdMode(KitError):
    status, code, message = 412, "INVALID_TSPD_MODE", "The TSPD mode amount is invalid"


class MissingCaptureDate(KitError):
    status, code, message = 412, "MISSING_CAPTURE_DATE", "The capture date is mandatory for deferred capture mode"


class InvalidCaptureDate(KitError):
    status, code, message = 412, "INVALID_CAPTURE_DATE", "The capture date is invalid"


class MissingCaptureTerm(KitError):
    status, code, message = 412, "MISSING_CAPTURE_TERM", "The capture term is mandatory for deferred capture mode"


class InvalidCaptureTerm(KitError):
    status, code, message = 412, "INVALID_CAPTURE_TERM", "The capture term is invalid"


class InvalidExpirationDate(KitError):
    status, code, message = 412, "INVALID_EXPIRATION_DATE", "The expiration date is invalid"


class TransactionExpired(KitError):
    status, code, message = 412, "TRANSACTION_EXPIRED", "The transaction has expired"


class PreTransactionExpired(KitError):
    status, code, message = 412, "PRE_TRANSACTION_EXPIRED", "The pre-transaction has expired"


class InvalidPreTransactionAmount(KitError):
    status, code, message = 412, "INVALID_PRE_TRANSACTION_AMOUNT", "The pre-transaction amount is invalid"


class InvalidPreTransactionCurrency(KitError):
    status, code, message = 412, "INVALID_PRE_TRANSACTION_CURRENCY", "The pre-transaction currency is invalid"


class ValidationDeadlineExceeded(KitError):
    status, code, message = 412, "VALIDATION_DEADLINE_EXCEEDED", "The validation deadline has been exceeded"


class InvalidPayersAuthorizations(KitError):
    status, code, message = 412, "INVALID_PAYERS_AUTHORIZATIONS", "Payers’ authorizations are invalid"


class NoActiveDevice(KitError):
    status, code, message = 412, "NO_ACTIVE_DEVICE", "The beneficiary has no active devices"


class InternalServerError(KitError):
    status, code, message = 500, "INTERNAL_SERVER_ERROR", "internal server error"


class TaCommunicationError(KitError):
    status, code, message = 502, "TA_COMMUNICATION_ERROR", "Failed to communicate with TA"


def catalogue() -> list[type[KitError]]:
    """Every Kit §6.3 error class, in the Kit's order."""
    return [
        BadRequest, InvalidSeal, MerchantNotAllowed, OperationTransactionNotAllowed,
        OperationPreTransactionNotAllowed, InsufficientBalance, NoTaTransactionPending,
        TransactionNotValidatedOnTaSide, TransactionValidatedOnTaSide, TransactionNotFound,
        BeneficiaryNotFound, PreTransactionNotFound, PointOfSaleNotFound, NotAcceptable,
        OtherTransactionPending, InvalidTransactionAmount, InvalidTransactionCurrency,
        InvalidPayerAmount, InvalidTspdMode, MissingCaptureDate, InvalidCaptureDate,
        MissingCaptureTerm, InvalidCaptureTerm, InvalidExpirationDate, TransactionExpired,
        PreTransactionExpired, InvalidPreTransactionAmount, InvalidPreTransactionCurrency,
        ValidationDeadlineExceeded, InvalidPayersAuthorizations, NoActiveDevice,
        InternalServerError, TaCommunicationError,
    ]
