"""The exceptions Grantline raises: one class per kind of the core's error enum.

Every exception is a :class:`GrantlineError` with a stable ``code`` (the same string in
every SDK), the HTTP ``status`` the broker answered with, a message, and the structured
fields of its kind, named as on the wire. A code this SDK does not know arrives as a
:class:`GrantlineError` with that code.
"""

from typing import Optional

__all__ = [
    "GrantlineError",
    "ValidationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "ConnectionRequestFailedError",
    "ConnectionRequestTimeoutError",
    "NetworkError",
    "ProviderError",
    "InternalError",
    "UnavailableError",
]


class GrantlineError(Exception):
    """Base of every Grantline error."""

    code: str = "INTERNAL"
    status: Optional[int] = None

    def __init__(self, message: str, *, code: str, status: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class ValidationError(GrantlineError, ValueError):
    """A field was missing, malformed or not allowed; ``field`` names it."""

    field: Optional[str] = None


class AuthenticationError(GrantlineError):
    """The API key is missing, unknown or revoked (HTTP 401)."""


class PermissionDeniedError(GrantlineError):
    """The credential is valid but may not do this (HTTP 403)."""


class NotFoundError(GrantlineError, LookupError):
    """The session, account or toolkit does not exist (HTTP 404); ``resource`` and ``id`` say which."""

    resource: Optional[str] = None
    id: Optional[str] = None


class ConflictError(GrantlineError):
    """The request conflicts with existing state, e.g. a duplicate alias (HTTP 409)."""


class ConnectionRequestFailedError(GrantlineError):
    """The connection ended FAILED, EXPIRED or REVOKED while being waited on or used.

    ``account_status`` is the account's status and ``status_reason`` says why.
    """

    connected_account_id: str = ""
    account_status: str = ""
    status_reason: Optional[str] = None


class ConnectionRequestTimeoutError(GrantlineError, TimeoutError):
    """``wait_for_connection`` reached its timeout with the account still INITIATED."""

    connected_account_id: str = ""


class NetworkError(GrantlineError, ConnectionError):
    """The broker could not be reached, or answered something that is not its API."""


class ProviderError(GrantlineError):
    """An upstream OAuth provider failed."""


class InternalError(GrantlineError):
    """A broken invariant inside Grantline."""


class UnavailableError(GrantlineError):
    """The broker is briefly unable to serve this (HTTP 503); retry after ``retry_after`` seconds."""

    retry_after: int = 1
