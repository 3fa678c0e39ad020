export {
  Grantline, Session, ConnectionRequest, ConnectedAccounts,
  GrantlineOptions, CreateSessionOptions, ToolkitsFilter, ManageConnectionsOptions, AuthorizeOptions,
  ToolkitsQuery, AccountsFilter, ConnectedAccount, AccountsPage, Toolkit, ToolkitConnection,
  ToolkitsPage, Mcp, Tool, ClientToken, ClientTokenOptions,
} from './native'
export * from './errors'
