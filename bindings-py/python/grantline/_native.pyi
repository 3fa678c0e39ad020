"""Type stubs of the Rust extension module; see the package docstring."""

from typing import Dict, List, Literal, Mapping, Optional, Sequence, Union

__version__: str

ToolkitsArg = Union[Sequence[str], Mapping[Literal["enable", "disable"], Sequence[str]]]
ManageConnectionsArg = Union[bool, Mapping[Literal["enable", "callback_url"], Union[bool, str]]]

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

class AccountsPage:
    """One page of connected accounts."""
    items: List[ConnectedAccount]
    next_cursor: Optional[str]
    total_pages: int
    current_page: int
    total_items: int

class ToolkitConnection:
    """The user's most recent account for a toolkit."""
    is_active: bool
    connected_account_id: str
    status: str
    auth_config_id: str
    auth_scheme: str

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

class ToolkitsPage:
    """One page of a session's toolkits."""
    items: List[Toolkit]
    next_cursor: Optional[str]
    total_pages: int
    current_page: int
    total_items: int

class Mcp:
    """Where an MCP client reaches the session's tools."""
    @property
    def type(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Dict[str, str]: ...

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

class ConnectionRequest:
    """A started connection: the link to show, and the account it completes."""
    @property
    def id(self) -> str: ...
    @property
    def redirect_url(self) -> str: ...
    def wait_for_connection(self, timeout: float = 60.0) -> ConnectedAccount: ...

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

class ConnectedAccounts:
    """The project's connected accounts."""
    def get(self, id: str) -> ConnectedAccount: ...
    def list(self, *, user_ids: Optional[Sequence[str]] = None, toolkit_slugs: Optional[Sequence[str]] = None,
             statuses: Optional[Sequence[str]] = None, cursor: Optional[str] = None, limit: Optional[int] = None) -> AccountsPage: ...
    def delete(self, id: str) -> None: ...
    def enable(self, id: str) -> None: ...
    def disable(self, id: str) -> None: ...
    def wait_for_connection(self, id: str, timeout: float = 60.0) -> ConnectedAccount: ...

class Grantline:
    """A client of one Grantline broker."""
    def __init__(self, api_key: Optional[str] = None, base_url: Optional[str] = None, *, timeout: Optional[float] = None) -> None: ...
    def create(self, user_id: str, *, toolkits: Optional[ToolkitsArg] = None, manage_connections: Optional[ManageConnectionsArg] = None,
               auth_configs: Optional[Mapping[str, str]] = None, connected_accounts: Optional[Mapping[str, str]] = None) -> Session: ...
    def use(self, session_id: str) -> Session: ...
    @property
    def connected_accounts(self) -> ConnectedAccounts: ...
    @property
    def base_url(self) -> str: ...

class AsyncConnectionRequest:
    """The asyncio twin of ConnectionRequest."""
    @property
    def id(self) -> str: ...
    @property
    def redirect_url(self) -> str: ...
    async def wait_for_connection(self, timeout: float = 60.0) -> ConnectedAccount: ...

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

class AsyncConnectedAccounts:
    """The asyncio twin of ConnectedAccounts."""
    async def get(self, id: str) -> ConnectedAccount: ...
    async def list(self, *, user_ids: Optional[Sequence[str]] = None, toolkit_slugs: Optional[Sequence[str]] = None,
                   statuses: Optional[Sequence[str]] = None, cursor: Optional[str] = None, limit: Optional[int] = None) -> AccountsPage: ...
    async def delete(self, id: str) -> None: ...
    async def enable(self, id: str) -> None: ...
    async def disable(self, id: str) -> None: ...
    async def wait_for_connection(self, id: str, timeout: float = 60.0) -> ConnectedAccount: ...

class AsyncGrantline:
    """The asyncio twin of Grantline."""
    def __init__(self, api_key: Optional[str] = None, base_url: Optional[str] = None, *, timeout: Optional[float] = None) -> None: ...
    async def create(self, user_id: str, *, toolkits: Optional[ToolkitsArg] = None, manage_connections: Optional[ManageConnectionsArg] = None,
                     auth_configs: Optional[Mapping[str, str]] = None, connected_accounts: Optional[Mapping[str, str]] = None) -> AsyncSession: ...
    async def use(self, session_id: str) -> AsyncSession: ...
    @property
    def connected_accounts(self) -> AsyncConnectedAccounts: ...
    @property
    def base_url(self) -> str: ...
