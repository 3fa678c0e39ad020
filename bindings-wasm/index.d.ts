// The package's types. The option and result interfaces are generated from src/lib.rs; the two
// classes are declared here because wasm-bindgen cannot mark an argument optional.
import type {
  InitOptions,
  AuthorizeOptions,
  ConnectOptions,
  CompleteRedirectOptions,
  ToolkitsOptions,
  ConnectedAccount,
  ToolkitsPage,
} from './pkg/grantline_web.js'

export type {
  InitOptions,
  AuthorizeOptions,
  ConnectOptions,
  CompleteRedirectOptions,
  ToolkitsOptions,
  ConnectedAccount,
  ToolkitConnection,
  Toolkit,
  ToolkitsPage,
} from './pkg/grantline_web.js'
export * from './errors.js'

/** A page's handle on one session, authenticated by that session's client token. */
export class GrantlineWeb {
  private constructor()
  /** Connects to the broker with a client token and loads the session it belongs to. */
  static init(options: InitOptions): Promise<GrantlineWeb>
  /** The session's id (`trs_…`). */
  readonly sessionId: string
  /** The end user the session is for. */
  readonly userId: string
  /** Starts connecting `toolkit`: an INITIATED account and its Connect Link, to open yourself. */
  authorize(toolkit: string, options?: AuthorizeOptions): Promise<ConnectionRequest>
  /** Connects `toolkit` in a popup opened now (call it from a click handler); resolves with the
   *  ACTIVE account. With `{ redirect: true }` the whole page goes instead and it resolves `null`. */
  connect(toolkit: string, options?: ConnectOptions): Promise<ConnectedAccount | null>
  /** On the page a Connect Link returned to: the confirmed ACTIVE account, or `null`. */
  completeRedirect(options?: CompleteRedirectOptions): Promise<ConnectedAccount | null>
  /** One page of the session's toolkits with the user's connection to each. */
  toolkits(options?: ToolkitsOptions): Promise<ToolkitsPage>
  /** Frees the wasm-side object (optional; garbage collection does it too). */
  free(): void
}

/** A started connection: its Connect Link and the account it will complete. */
export class ConnectionRequest {
  private constructor()
  /** The connected account's id (`ca_…`). */
  readonly id: string
  /** The Connect Link to send the user to. */
  readonly redirectUrl: string
  /** Resolves with the account once ACTIVE; rejects on FAILED/EXPIRED/REVOKED or after `timeoutMs` (default 60000). */
  waitForConnection(timeoutMs?: number): Promise<ConnectedAccount>
  /** Frees the wasm-side object. */
  free(): void
}
