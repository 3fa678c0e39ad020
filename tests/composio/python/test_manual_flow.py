"""An app built on the official `composio` SDK connects its users' accounts through a Grantline
broker: it creates a session, authorizes a toolkit, waits while the user clicks through the
provider, and gets the ACTIVE account back. Nothing in the app changed but `base_url` and the key."""

import time

import pytest
from composio import exceptions

from conftest import APP, composio_for, query, user_completes_after_the_wait_started


def test_the_app_connects_a_users_oidc_account_and_the_wait_resolves_active(oidc):
    composio = composio_for(oidc)
    session = composio.create(user_id="alice_app_id", toolkits=["oidc"], manage_connections=False)
    assert session.session_id.startswith("trs_")

    request = session.authorize("oidc", callback_url=f"{APP}/done?tab=2")
    assert request.id.startswith("ca_") and request.status == "INITIATED"
    assert request.redirect_url.startswith(oidc.base_url)

    user, box = user_completes_after_the_wait_started(request.id, request.redirect_url, "oidc")
    account = request.wait_for_connection(timeout=60)
    user.join(10)
    assert account.id == request.id
    assert account.status == "ACTIVE"
    assert account.toolkit.slug == "oidc"
    assert account.user_id == "alice_app_id"

    # The app's callback got the outcome and kept its own query parameters.
    kind, ended = box["ended"]
    assert kind == "stopped" and ended.startswith(f"{APP}/done?")
    params = query(ended)
    assert params["tab"] == "2"
    assert params["status"] == "success"
    assert params["connected_account_id"] == request.id


def test_the_app_connects_a_sandbox_account_on_a_dev_broker(broker):
    composio = composio_for(broker)
    session = composio.create(user_id="u_sandbox", toolkits=["sandbox"], manage_connections=False)
    request = session.authorize("sandbox", callback_url=f"{APP}/done?from=settings&lang=fr")

    user, box = user_completes_after_the_wait_started(request.id, request.redirect_url, "sandbox")
    account = request.wait_for_connection(timeout=60)
    user.join(10)
    assert (account.id, account.status) == (request.id, "ACTIVE")
    kind, ended = box["ended"]
    assert kind == "stopped"
    assert query(ended) == {"from": "settings", "lang": "fr", "status": "success", "connected_account_id": request.id}

    # The session now sees the toolkit connected.
    state = {tk.slug: tk for tk in session.toolkits().items}["sandbox"]
    assert state.connection.is_active
    assert state.connection.connected_account.id == request.id


def test_the_session_config_carries_every_field_the_sdk_reads(broker):
    composio = composio_for(broker)
    session = composio.create(user_id="u_config", toolkits=["sandbox"], manage_connections=False)
    config = session.config
    assert config.user_id == "u_config"
    assert session.preload.tools == []
    assert config.preload.tools == []
    assert config.search is not None and config.execute is not None
    assert config.instant is False or hasattr(config.instant, "return_instant_charge")
    assert config.manage_connections.enabled is False
    assert config.toolkits.enabled == ["sandbox"]
    assert session.mcp.url.startswith(broker.base_url)


def test_use_reopens_an_existing_session(broker):
    composio = composio_for(broker)
    created = composio.create(user_id="u_use", toolkits=["sandbox"], manage_connections=False)
    session = composio.use(created.session_id)
    assert session.session_id == created.session_id
    assert session.config.user_id == "u_use"
    assert session.preload.tools == []
    request = session.authorize("sandbox")
    user, _ = user_completes_after_the_wait_started(request.id, request.redirect_url, "sandbox")
    assert request.wait_for_connection(timeout=60).status == "ACTIVE"
    user.join(10)


def test_an_mcp_session_hands_out_the_brokers_mcp_endpoint_and_key(broker):
    composio = composio_for(broker)
    session = composio.create(user_id="u_mcp", toolkits=["sandbox"], mcp=True)
    assert session.mcp.url == f"{broker.base_url}/tool_router/{session.session_id}/mcp"
    assert session.mcp.headers["x-api-key"] == broker.api_key
    reopened = composio.use(session.session_id, mcp=True)
    assert reopened.mcp.url == session.mcp.url


def test_the_direct_tools_preset_lists_the_toolkit_tools_without_meta_tools(broker):
    composio = composio_for(broker)
    session = composio.create(user_id="u_preset", toolkits=["sandbox"], session_preset="direct_tools")
    assert session.config.preload.tools == "all"
    names = [t["function"]["name"] for t in session.tools()]
    assert "SANDBOX_GET_CURRENT_USER" in names
    assert not {"COMPOSIO_SEARCH_TOOLS", "COMPOSIO_MULTI_EXECUTE_TOOL", "COMPOSIO_MANAGE_CONNECTIONS"} & set(names)


def test_a_denied_consent_fails_the_wait_at_once(oidc):
    composio = composio_for(oidc)
    session = composio.create(user_id="u_denies", toolkits=["oidc"], manage_connections=False)
    request = session.authorize("oidc", callback_url=f"{APP}/done?tab=2")

    user, box = user_completes_after_the_wait_started(request.id, request.redirect_url, "oidc", allow=False)
    started = time.monotonic()
    with pytest.raises(exceptions.SDKError) as err:
        request.wait_for_connection(timeout=120)
    assert time.monotonic() - started < 60, "the wait must fail when the user declines, not at its timeout"
    assert "FAILED" in str(err.value)
    user.join(10)
    kind, ended = box["ended"]
    assert kind == "stopped"
    assert query(ended)["status"] == "failed" and query(ended)["tab"] == "2"
    assert composio.connected_accounts.get(request.id).status == "FAILED"


def test_a_denied_sandbox_consent_fails_the_wait_at_once(broker):
    composio = composio_for(broker)
    session = composio.create(user_id="u_denies_sandbox", toolkits=["sandbox"], manage_connections=False)
    request = session.authorize("sandbox")
    user, _ = user_completes_after_the_wait_started(request.id, request.redirect_url, "sandbox", allow=False)
    started = time.monotonic()
    with pytest.raises(exceptions.SDKError):
        request.wait_for_connection(timeout=120)
    assert time.monotonic() - started < 60
    user.join(10)
