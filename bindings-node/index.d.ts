export {
  Grantline, Session, ConnectionRequest, ConnectedAccounts, ClientToken, McpCredential, McpCredentialInfo, McpCredentialOptions,
  Webhooks, WebhookSubscription, RotatedWebhookSecret, WebhookSubscriptionsPage, WebhookEventType,
  WebhookDelivery, DeliveryAttempt, WebhookDeliveriesPage, PageOptions, WebhookUpdate,
  GrantlineOptions, CreateSessionOptions, ToolkitsFilter, ManageConnectionsOptions, AuthorizeOptions,
  ToolkitsQuery, AccountsFilter, ConnectedAccount, AccountsPage, Toolkit, ToolkitConnection,
  RefreshOptions, RefreshedAccount, RevokedAccount, UserVerification, ProjectInfo, ProjectChange,
  ToolkitsPage, Mcp, Tool, ClientTokenOptions,
  ExecuteOptions, ExecuteResult, MetaResult, SearchOptions, SearchHit, ProxyRequest, ProxyResult,
} from './native'
export * from './errors'
