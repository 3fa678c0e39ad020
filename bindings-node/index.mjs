// ESM entry: the same module as index.js.
import grantline from './index.js'

export const {
  Grantline, Session, ConnectionRequest, ConnectedAccounts,
  GrantlineError, ValidationError, AuthenticationError, PermissionDeniedError, NotFoundError,
  ConflictError, ConnectionRequestFailedError, ConnectionRequestTimeoutError, NetworkError,
  ProviderError, InternalError, UnavailableError, AbortError,
} = grantline
export default grantline
