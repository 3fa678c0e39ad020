"""Type stubs of the Rust extension module; see the package docstring."""

from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, Union, final

__all__ = [
    "__version__",
    "Grantline",
    "Session",
    "ConnectionRequest",
    "ConnectedAccounts",
    "AsyncGrantline",
    "AsyncSession",
    "AsyncConnectionRequest",
    "AsyncConnectedAccounts",
    "ConnectedAccount",
    "AccountsPage",
    "RefreshedAccount",
    "RevokedAccount",
    "Toolkit",
    "ToolkitConnection",
    "ToolkitsPage",
    "Mcp",
    "Tool",
    "ExecuteResult",
    "ExecuteMetaResult",
    "SearchHit",
    "ProxyResult",
    "ClientToken",
    "McpCredential",
    "McpCredentialInfo",
    "UserVerification",
    "ProjectInfo",
    "Webhooks",
    "AsyncWebhooks",
    "WebhookSubscription",
    "WebhookSubscriptionsPage",
    "RotatedWebhookSecret",
    "WebhookEventType",
    "WebhookDelivery",
    "DeliveryAttempt",
    "WebhookDeliveriesPage",
]

__version__: str

# Aliases for type checkers only (private: the module has no such names at runtime).
_ToolkitsArg = Union[Sequence[str], Mapping[Literal["enable", "disable"], Sequence[str]]]
_ManageConnectionsArg = Union[bool, Mapping[Literal["enable", "callback_url", "wait_for_connections"], Union[bool, str]]]
# A JSON value as Python holds it: dict, list, str, int, float, bool or None.
_Json = Any

@final
class ConnectedAccount:
    """A user's connection to one toolkit."""
    id: str
    user_id: str
    toolkit: str
    status: str
    status_reason: Optional[str]
    alias: Optional[str]
    is_disabled: bool
    auth_config_id: str
    created_at: str
    updated_at: str
    is_active: bool
    reconnecting: bool

@final
class RefreshedAccount:
    """A reconnect under way: the account keeps its id; ``redirect_url`` is the new Connect Link."""
    id: str
    redirect_url: str
    status: str

@final
class RevokedAccount:
    """What ``connected_accounts.revoke`` did."""
    id: str
    status: str
    revoked_tokens: List[str]
    provider_revocation: str
    note: Optional[str]

@final
class AccountsPage:
    """One page of connected accounts."""
    items: List[ConnectedAccount]
    next_cursor: Optional[str]
    total_pages: int
    current_page: int
    total_items: int

@final
class ToolkitConnection:
    """The user's most recent account for a toolkit."""
    is_active: bool
    connected_account_id: str
    status: str
    auth_config_id: str
    auth_scheme: str

@final
class Toolkit:
    """A toolkit of the session and whether the user has connected it."""
    slug: str
    name: str
    description: str
    logo: str
    is_no_auth: bool
    enabled: bool
    connection: Optional[ToolkitConnection]
    is_connected: bool

@final
class ToolkitsPage:
    """One page of a session's toolkits."""
    items: List[Toolkit]
    next_cursor: Optional[str]
    total_pages: int
    current_page: int
    total_items: int

@final
class Mcp:
    """Where an MCP client reaches the session's tools."""
    @property
    def type(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Dict[str, str]:
        """``Authorization: Bearer glmcp_…`` for this session's MCP endpoint only, minted on first
        use (an AsyncSession mints it with ``await session.mcp_headers()`` first)."""
        ...

@final
class Tool:
    """A meta tool of the session."""
    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def input_parameters(self) -> Dict[str, object]: ...

@final
class ExecuteResult:
    """What running a toolkit tool gave."""
    @property
    def data(self) -> _Json: ...
    @property
    def error(self) -> Optional[str]: ...
    @property
    def successful(self) -> bool: ...
    @property
    def log_id(self) -> str: ...

@final
class ExecuteMetaResult:
    """What running a meta tool gave."""
    @property
    def data(self) -> _Json: ...
    @property
    def error(self) -> Optional[str]: ...
    @property
    def log_id(self) -> str: ...

@final
class SearchHit:
    """A toolkit tool ranked for a use case."""
    @property
    def slug(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def toolkit(self) -> str: ...
    @property
    def input_parameters(self) -> Dict[str, object]: ...
    @property
    def score(self) -> float: ...
    @property
    def is_connected(self) -> bool: ...

@final
class ProxyResult:
    """A provider's answer to a proxied request."""
    @property
    def status(self) -> int: ...
    @property
    def data(self) -> _Json: ...
    @property
    def headers(self) -> Dict[str, str]: ...

@final
class ClientToken:
    """A client token for a browser widget: pass ``token`` to the page; it is a secret."""
    @property
    def id(self) -> str: ...
    @property
    def token(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    @property
    def expires_at(self) -> str: ...

@final
class McpCredential:
    """A minted MCP credential: give ``url`` and ``headers`` to an MCP client; ``secret`` is shown once."""
    @property
    def id(self) -> str: ...
    @property
    def secret(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def created_at(self) -> str: ...
    @property
    def expires_at(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Dict[str, str]: ...

@final
class McpCredentialInfo:
    """An MCP credential as listings show it (never its secret)."""
    @property
    def id(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    @property
    def name(self) -> Optional[str]: ...
    @property
    def created_at(self) -> str: ...
    @property
    def expires_at(self) -> str: ...
    @property
    def revoked_at(self) -> Optional[str]: ...
    @property
    def last_used_at(self) -> Optional[str]: ...
    @property
    def status(self) -> str: ...

@final
class ProjectInfo:
    """The project and the profile every page a person sees shows, and its user verification."""
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def display_name(self) -> Optional[str]: ...
    @property
    def support_url(self) -> Optional[str]: ...
    @property
    def logo_url(self) -> Optional[str]: ...
    @property
    def user_verification_url(self) -> Optional[str]: ...
    @property
    def verify_connect_links(self) -> bool: ...

@final
class UserVerification:
    """The answer of confirm_user: send the browser to ``redirect_url``; ``matched`` is false when the flow ended."""
    @property
    def flow_id(self) -> str: ...
    @property
    def redirect_url(self) -> str: ...
    @property
    def matched(self) -> bool: ...
    @property
    def expires_at(self) -> str: ...

@final
class WebhookSubscription:
    """A webhook subscription: where the broker sends which events, and the secret it signs them with."""
    id: str
    webhook_url: str
    version: str
    enabled_events: List[str]
    secret: str
    created_at: str
    updated_at: str

@final
class WebhookSubscriptionsPage:
    """One page of webhook subscriptions."""
    items: List[WebhookSubscription]
    next_cursor: Optional[str]
    total_pages: int
    current_page: int
    total_items: int

@final
class RotatedWebhookSecret:
    """What ``webhooks.rotate_secret`` gave: the new signing secret."""
    id: str
    secret: str

@final
class WebhookEventType:
    """An event type a subscription can enable."""
    event_type: str
    description: str
    supported_versions: List[str]

@final
class DeliveryAttempt:
    """One attempt of a webhook delivery."""
    attempt: int
    at: str
    status_code: Optional[int]
    latency_ms: int
    error: Optional[str]

@final
class WebhookDelivery:
    """One event sent to one subscription, and its attempts."""
    id: str
    event_type: str
    event_id: str
    connected_account_id: str
    sequence: int
    status: str
    next_attempt_at: Optional[str]
    created_at: str
    attempts: List[DeliveryAttempt]

@final
class WebhookDeliveriesPage:
    """One page of a subscription's deliveries, newest first."""
    items: List[WebhookDelivery]
    next_cursor: Optional[str]
    total_pages: int
    current_page: int
    total_items: int

@final
class ConnectionRequest:
    """A started connection: the link to show, and the account it completes."""
    @property
    def id(self) -> str: ...
    @property
    def redirect_url(self) -> str: ...
    def wait_for_connection(self, timeout: Optional[float] = None) -> ConnectedAccount: ...

@final
class Session:
    """One end user's session."""
    @property
    def session_id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def mcp(self) -> Mcp: ...
    def authorize(self, toolkit: str, *, callback_url: Optional[str] = None, alias: Optional[str] = None) -> ConnectionRequest: ...
    def toolkits(self, *, toolkits: Optional[Sequence[str]] = None, is_connected: Optional[bool] = None,
                 search: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> ToolkitsPage: ...
    def all_toolkits(self, *, toolkits: Optional[Sequence[str]] = None, is_connected: Optional[bool] = None,
                     search: Optional[str] = None) -> List[Toolkit]: ...
    def tools(self) -> List[Tool]: ...
    def execute_meta(self, slug: str, arguments: Optional[Mapping[str, _Json]] = None) -> ExecuteMetaResult: ...
    def execute(self, tool_slug: str, arguments: Optional[Mapping[str, _Json]] = None, *,
                connected_account_id: Optional[str] = None) -> ExecuteResult: ...
    def search(self, query: str, *, toolkits: Optional[Sequence[str]] = None, limit: Optional[int] = None) -> List[SearchHit]: ...
    def proxy_execute(self, endpoint: str, method: str = "GET", *, toolkit: Optional[str] = None,
                      connected_account_id: Optional[str] = None, body: _Json = None,
                      headers: Optional[Mapping[str, str]] = None, query: Optional[Mapping[str, str]] = None) -> ProxyResult: ...
    def client_token(self, ttl_seconds: Optional[int] = None) -> ClientToken: ...
    def revoke_client_token(self, token_id: str) -> None: ...
    def mcp_headers(self) -> Dict[str, str]: ...
    def create_mcp_credential(self, *, ttl_seconds: Optional[int] = None, name: Optional[str] = None) -> McpCredential: ...
    def mcp_credentials(self) -> List[McpCredentialInfo]: ...
    def revoke_mcp_credential(self, credential_id: str) -> None: ...

@final
class ConnectedAccounts:
    """The project's connected accounts."""
    def get(self, id: str) -> ConnectedAccount: ...
    def list(self, *, user_ids: Optional[Sequence[str]] = None, toolkit_slugs: Optional[Sequence[str]] = None,
             statuses: Optional[Sequence[str]] = None, cursor: Optional[str] = None, limit: Optional[int] = None) -> AccountsPage: ...
    def delete(self, id: str) -> None: ...
    def enable(self, id: str) -> None: ...
    def disable(self, id: str) -> None: ...
    def refresh(self, id: str, callback_url: Optional[str] = None) -> RefreshedAccount: ...
    def revoke(self, id: str) -> RevokedAccount: ...
    def wait_for_connection(self, id: str, timeout: Optional[float] = None) -> ConnectedAccount: ...

@final
class Webhooks:
    """The project's webhook subscriptions and their deliveries."""
    def create(self, webhook_url: str, enabled_events: Sequence[str]) -> WebhookSubscription: ...
    def list(self, *, cursor: Optional[str] = None, limit: Optional[int] = None) -> WebhookSubscriptionsPage: ...
    def get(self, id: str) -> WebhookSubscription: ...
    def update(self, id: str, *, webhook_url: Optional[str] = None, enabled_events: Optional[Sequence[str]] = None) -> WebhookSubscription: ...
    def delete(self, id: str) -> None: ...
    def rotate_secret(self, id: str) -> RotatedWebhookSecret: ...
    def event_types(self) -> List[WebhookEventType]: ...
    def deliveries(self, id: str, *, cursor: Optional[str] = None, limit: Optional[int] = None) -> WebhookDeliveriesPage: ...
    def retry(self, id: str, delivery_id: str) -> None: ...

@final
class Grantline:
    """A client of one Grantline broker."""
    def __new__(cls, api_key: Optional[str] = None, base_url: Optional[str] = None, *, timeout: Optional[float] = None) -> Grantline: ...
    def create(self, user_id: str, *, toolkits: Optional[_ToolkitsArg] = None, manage_connections: Optional[_ManageConnectionsArg] = None,
               auth_configs: Optional[Mapping[str, str]] = None, connected_accounts: Optional[Mapping[str, str]] = None,
               direct_tools: Optional[Sequence[str]] = None) -> Session: ...
    def use(self, session_id: str) -> Session: ...
    def project(self) -> ProjectInfo: ...
    def update_project(self, **changes: Union[str, bool, None]) -> ProjectInfo: ...
    def confirm_user(self, flow_id: str, user_id: str) -> UserVerification: ...
    @property
    def connected_accounts(self) -> ConnectedAccounts: ...
    @property
    def webhooks(self) -> Webhooks: ...
    @property
    def base_url(self) -> str: ...

@final
class AsyncConnectionRequest:
    """The asyncio twin of ConnectionRequest."""
    @property
    def id(self) -> str: ...
    @property
    def redirect_url(self) -> str: ...
    async def wait_for_connection(self, timeout: Optional[float] = None) -> ConnectedAccount: ...

@final
class AsyncSession:
    """The asyncio twin of Session."""
    @property
    def session_id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def mcp(self) -> Mcp: ...
    async def authorize(self, toolkit: str, *, callback_url: Optional[str] = None, alias: Optional[str] = None) -> AsyncConnectionRequest: ...
    async def toolkits(self, *, toolkits: Optional[Sequence[str]] = None, is_connected: Optional[bool] = None,
                       search: Optional[str] = None, limit: Optional[int] = None, cursor: Optional[str] = None) -> ToolkitsPage: ...
    async def all_toolkits(self, *, toolkits: Optional[Sequence[str]] = None, is_connected: Optional[bool] = None,
                           search: Optional[str] = None) -> List[Toolkit]: ...
    async def tools(self) -> List[Tool]: ...
    async def execute_meta(self, slug: str, arguments: Optional[Mapping[str, _Json]] = None) -> ExecuteMetaResult: ...
    async def execute(self, tool_slug: str, arguments: Optional[Mapping[str, _Json]] = None, *,
                      connected_account_id: Optional[str] = None) -> ExecuteResult: ...
    async def search(self, query: str, *, toolkits: Optional[Sequence[str]] = None, limit: Optional[int] = None) -> List[SearchHit]: ...
    async def proxy_execute(self, endpoint: str, method: str = "GET", *, toolkit: Optional[str] = None,
                            connected_account_id: Optional[str] = None, body: _Json = None,
                            headers: Optional[Mapping[str, str]] = None, query: Optional[Mapping[str, str]] = None) -> ProxyResult: ...
    async def client_token(self, ttl_seconds: Optional[int] = None) -> ClientToken: ...
    async def revoke_client_token(self, token_id: str) -> None: ...
    async def mcp_headers(self) -> Dict[str, str]: ...
    async def create_mcp_credential(self, *, ttl_seconds: Optional[int] = None, name: Optional[str] = None) -> McpCredential: ...
    async def mcp_credentials(self) -> List[McpCredentialInfo]: ...
    async def revoke_mcp_credential(self, credential_id: str) -> None: ...

@final
class AsyncConnectedAccounts:
    """The asyncio twin of ConnectedAccounts."""
    async def get(self, id: str) -> ConnectedAccount: ...
    async def list(self, *, user_ids: Optional[Sequence[str]] = None, toolkit_slugs: Optional[Sequence[str]] = None,
                   statuses: Optional[Sequence[str]] = None, cursor: Optional[str] = None, limit: Optional[int] = None) -> AccountsPage: ...
    async def delete(self, id: str) -> None: ...
    async def enable(self, id: str) -> None: ...
    async def disable(self, id: str) -> None: ...
    async def refresh(self, id: str, callback_url: Optional[str] = None) -> RefreshedAccount: ...
    async def revoke(self, id: str) -> RevokedAccount: ...
    async def wait_for_connection(self, id: str, timeout: Optional[float] = None) -> ConnectedAccount: ...

@final
class AsyncWebhooks:
    """The asyncio twin of Webhooks."""
    async def create(self, webhook_url: str, enabled_events: Sequence[str]) -> WebhookSubscription: ...
    async def list(self, *, cursor: Optional[str] = None, limit: Optional[int] = None) -> WebhookSubscriptionsPage: ...
    async def get(self, id: str) -> WebhookSubscription: ...
    async def update(self, id: str, *, webhook_url: Optional[str] = None, enabled_events: Optional[Sequence[str]] = None) -> WebhookSubscription: ...
    async def delete(self, id: str) -> None: ...
    async def rotate_secret(self, id: str) -> RotatedWebhookSecret: ...
    async def event_types(self) -> List[WebhookEventType]: ...
    async def deliveries(self, id: str, *, cursor: Optional[str] = None, limit: Optional[int] = None) -> WebhookDeliveriesPage: ...
    async def retry(self, id: str, delivery_id: str) -> None: ...

@final
class AsyncGrantline:
    """The asyncio twin of Grantline."""
    def __new__(cls, api_key: Optional[str] = None, base_url: Optional[str] = None, *, timeout: Optional[float] = None) -> AsyncGrantline: ...
    async def create(self, user_id: str, *, toolkits: Optional[_ToolkitsArg] = None, manage_connections: Optional[_ManageConnectionsArg] = None,
                     auth_configs: Optional[Mapping[str, str]] = None, connected_accounts: Optional[Mapping[str, str]] = None,
                     direct_tools: Optional[Sequence[str]] = None) -> AsyncSession: ...
    async def use(self, session_id: str) -> AsyncSession: ...
    async def project(self) -> ProjectInfo: ...
    async def update_project(self, **changes: Union[str, bool, None]) -> ProjectInfo: ...
    async def confirm_user(self, flow_id: str, user_id: str) -> UserVerification: ...
    @property
    def connected_accounts(self) -> AsyncConnectedAccounts: ...
    @property
    def webhooks(self) -> AsyncWebhooks: ...
    @property
    def base_url(self) -> str: ...
