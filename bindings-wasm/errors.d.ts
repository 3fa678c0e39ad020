/** Base of every Grantline error; `code` is stable, `status` is the broker's HTTP status. */
export class GrantlineError extends Error {
  constructor(message: string, details?: Record<string, unknown>)
  /** A stable machine-readable code, e.g. `VALIDATION`, `POPUP_CLOSED`. */
  readonly code: string
  /** The broker's HTTP status. */
  readonly status?: number
  /** For `ValidationError`: the option or field at fault. */
  readonly field?: string
  /** For connection errors: the account concerned. */
  readonly connectedAccountId?: string
  /** For `ConnectionRequestFailedError`: `FAILED`, `EXPIRED` or `REVOKED`. */
  readonly accountStatus?: string
  /** For `ConnectionRequestFailedError`: why it failed, when known. */
  readonly statusReason?: string
  /** For `NotFoundError`: what was not found (`session`, `toolkit`, …) and its id. */
  readonly resource?: string
  readonly id?: string
  /** For `UnavailableError`: seconds after which the same call may succeed. */
  readonly retryAfter?: number
}
export class ValidationError extends GrantlineError {}
export class AuthenticationError extends GrantlineError {}
export class PermissionDeniedError extends GrantlineError {}
export class NotFoundError extends GrantlineError {}
export class ConflictError extends GrantlineError {}
export class ConnectionRequestFailedError extends GrantlineError {}
export class ConnectionRequestTimeoutError extends GrantlineError {}
export class NetworkError extends GrantlineError {}
export class ProviderError extends GrantlineError {}
export class InternalError extends GrantlineError {}
export class UnavailableError extends GrantlineError {}
export class PopupBlockedError extends GrantlineError {}
export class PopupClosedError extends GrantlineError {}
