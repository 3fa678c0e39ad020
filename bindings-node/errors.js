'use strict'
// The errors Grantline rejects with: one class per kind of the core's error enum, each with a
// stable `code` (the same string in every SDK), the HTTP `status` the broker answers, and the
// structured fields of its kind (`field`, `resource`, `id`, `connectedAccountId`, `accountStatus`,
// `statusReason`, `retryAfter`). A code this SDK does not know arrives as a GrantlineError.

/** Base of every Grantline error. */
class GrantlineError extends Error {
  constructor(message, details = {}) {
    super(message)
    this.name = new.target.name
    Object.assign(this, details)
  }
}

/** A field was missing, malformed or not allowed; `field` names it. */
class ValidationError extends GrantlineError {}
/** The API key is missing, unknown or revoked (HTTP 401). */
class AuthenticationError extends GrantlineError {}
/** The credential is valid but may not do this (HTTP 403). */
class PermissionDeniedError extends GrantlineError {}
/** The session, account or toolkit does not exist (HTTP 404). */
class NotFoundError extends GrantlineError {}
/** The request conflicts with existing state, e.g. a duplicate alias (HTTP 409). */
class ConflictError extends GrantlineError {}
/** The connection ended FAILED, EXPIRED or REVOKED; `accountStatus` and `statusReason` say how. */
class ConnectionRequestFailedError extends GrantlineError {}
/** `waitForConnection` reached its timeout with the account still INITIATED. */
class ConnectionRequestTimeoutError extends GrantlineError {}
/** The broker could not be reached, or answered something that is not its API. */
class NetworkError extends GrantlineError {}
/** An upstream OAuth provider failed. */
class ProviderError extends GrantlineError {}
/** A broken invariant inside Grantline. */
class InternalError extends GrantlineError {}
/** The broker is briefly unable to serve this (HTTP 503); retry after `retryAfter` seconds. */
class UnavailableError extends GrantlineError {}
/** The caller's AbortSignal fired during a wait. */
class AbortError extends GrantlineError {}

module.exports = {
  GrantlineError,
  ValidationError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  ConnectionRequestFailedError,
  ConnectionRequestTimeoutError,
  NetworkError,
  ProviderError,
  InternalError,
  UnavailableError,
  AbortError,
}
