"""Grantline: connect your users' third-party accounts to your app or AI agent.

>>> from grantline import Grantline
>>> gl = Grantline()                      # GRANTLINE_API_KEY / GRANTLINE_BASE_URL
>>> session = gl.create(user_id="user_123", toolkits=["github"], manage_connections=False)
>>> req = session.authorize("github", callback_url="https://app.example.com/done")
>>> req.redirect_url                      # show this to the user
>>> account = req.wait_for_connection(timeout=60.0)

Everything runs in Grantline's Rust core; this package re-exports its classes.
"""

from ._native import (
    AccountsPage,
    AsyncConnectedAccounts,
    AsyncConnectionRequest,
    AsyncGrantline,
    AsyncSession,
    AsyncWebhooks,
    ClientToken,
    UserVerification,
    ProjectInfo,
    ConnectedAccount,
    ConnectedAccounts,
    ConnectionRequest,
    DeliveryAttempt,
    ExecuteMetaResult,
    ExecuteResult,
    Grantline,
    Mcp,
    McpCredential,
    McpCredentialInfo,
    ProxyResult,
    RefreshedAccount,
    RevokedAccount,
    RotatedWebhookSecret,
    SearchHit,
    Session,
    Tool,
    Toolkit,
    ToolkitConnection,
    ToolkitsPage,
    WebhookDeliveriesPage,
    WebhookDelivery,
    WebhookEventType,
    Webhooks,
    WebhookSubscription,
    WebhookSubscriptionsPage,
    __version__,
)
from . import errors
from .errors import *  # noqa: F403  (the exception classes, listed in errors.__all__)

__all__ = [
    "Grantline",
    "AsyncGrantline",
    "Session",
    "AsyncSession",
    "ConnectionRequest",
    "AsyncConnectionRequest",
    "ConnectedAccounts",
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
    "__version__",
    *errors.__all__,
]
