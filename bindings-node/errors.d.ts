/** Base of every Grantline error. */
export declare class GrantlineError extends Error {
  /** Stable kind, e.g. `NOT_FOUND`, `CONNECTION_REQUEST_TIMEOUT`. */
  readonly code: string
  /** The HTTP status the broker answered with. */
  readonly status: number
}
/** A field was missing, malformed or not allowed. */
export declare class ValidationError extends GrantlineError {
  /** The offending field, e.g. `callback_url` or `toolkits[1]`. */
  readonly field: string
}
/** The API key is missing, unknown or revoked (HTTP 401). */
export declare class AuthenticationError extends GrantlineError {}
/** The credential is valid but may not do this (HTTP 403). */
export declare class PermissionDeniedError extends GrantlineError {}
/** The session, account or toolkit does not exist (HTTP 404). */
export declare class NotFoundError extends GrantlineError {
  /** What was not found, e.g. `session`, `toolkit`, `connected account`. */
  readonly resource: string
  /** The id that was not found. */
  readonly id: string
}
/** The request conflicts with existing state (HTTP 409). */
export declare class ConflictError extends GrantlineError {}
/** The connection ended FAILED, EXPIRED or REVOKED while being waited on. */
export declare class ConnectionRequestFailedError extends GrantlineError {
  /** `FAILED`, `EXPIRED` or `REVOKED`. */
  readonly accountStatus: string
  /** Why, when known. */
  readonly statusReason?: string
  /** `ca_…` */
  readonly connectedAccountId: string
}
/** `waitForConnection` reached its timeout with the account still INITIATED. */
export declare class ConnectionRequestTimeoutError extends GrantlineError {
  /** `ca_…` */
  readonly connectedAccountId: string
}
/** The broker could not be reached. */
export declare class NetworkError extends GrantlineError {}
/** An upstream OAuth provider failed. */
export declare class ProviderError extends GrantlineError {}
/** A broken invariant inside Grantline. */
export declare class InternalError extends GrantlineError {}
/** The broker is briefly unable to serve this (HTTP 503). */
export declare class UnavailableError extends GrantlineError {
  /** Seconds after which the same call may succeed. */
  readonly retryAfter: number
}
/** The caller's AbortSignal fired during a wait. */
export declare class AbortError extends GrantlineError {}
