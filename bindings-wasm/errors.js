// The errors @grantline/web rejects with: one class per kind of the core's error enum (the same
// names and `code`s as the Python and Node SDKs), plus the two a popup adds.

/** Base of every Grantline error; `code` is stable, `status` is the broker's HTTP status. */
export class GrantlineError extends Error {
  constructor(message, details = {}) {
    super(message)
    this.name = new.target.name
    Object.assign(this, details)
  }
}

/** An option or field was missing, malformed or not allowed; `field` names it. */
export class ValidationError extends GrantlineError {}
/** The client token is missing, unknown, revoked or expired (HTTP 401): ask the backend for a new one. */
export class AuthenticationError extends GrantlineError {}
/** The client token may not do this, or this page's origin is not allowed (HTTP 403). */
export class PermissionDeniedError extends GrantlineError {}
/** The session, account or toolkit does not exist (HTTP 404). */
export class NotFoundError extends GrantlineError {}
/** The request conflicts with existing state, e.g. a duplicate alias (HTTP 409). */
export class ConflictError extends GrantlineError {}
/** The connection ended FAILED, EXPIRED or REVOKED; `accountStatus` and `statusReason` say how. */
export class ConnectionRequestFailedError extends GrantlineError {}
/** The wait reached its timeout with the account still INITIATED. */
export class ConnectionRequestTimeoutError extends GrantlineError {}
/** The broker could not be reached (or refused this origin), or answered something that is not its API. */
export class NetworkError extends GrantlineError {}
/** An upstream OAuth provider failed. */
export class ProviderError extends GrantlineError {}
/** A broken invariant inside Grantline. */
export class InternalError extends GrantlineError {}
/** The broker is briefly unable to serve this (HTTP 503); retry after `retryAfter` seconds. */
export class UnavailableError extends GrantlineError {}
/** The browser blocked the popup: call `connect()` from a click handler, or pass `{ redirect: true }`. */
export class PopupBlockedError extends GrantlineError {}
/** The user closed the popup before the connection finished; `connectedAccountId` names it. */
export class PopupClosedError extends GrantlineError {}
