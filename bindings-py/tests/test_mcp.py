"""An agent framework reaches the session's tools over MCP with the official `mcp` client:
the URL and headers come from the session (a credential for this session's MCP endpoint only,
never the API key), nothing else is configured."""

import asyncio
import json
from contextlib import asynccontextmanager

import httpx2
import pytest
from mcp import ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client

from conftest import Browser
from grantline import AsyncGrantline, Grantline


@asynccontextmanager
async def mcp_client(url, headers, statuses=None):
    """An initialized MCP client session, as an agent framework opens one; the HTTP status of
    each answer is appended to `statuses`."""
    async def record(response):
        if statuses is not None:
            statuses.append(response.status_code)

    async with httpx2.AsyncClient(headers=headers, timeout=None, event_hooks={"response": [record]}) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as client:
                await client.initialize()
                yield client


async def chat_session(broker, **options):
    gl = AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url)
    return await gl.create(user_id="alice_app_id", toolkits=["oidc"], **options)


def text_json(result):
    """The JSON a tool answered, from its one text block."""
    [block] = result.content
    return json.loads(block.text)


async def test_an_mcp_agent_connects_the_user_in_chat_and_reads_their_profile(oidc_broker):
    session = await chat_session(oidc_broker)
    headers = await session.mcp_headers()
    assert list(headers) == ["Authorization"] and headers["Authorization"].startswith("Bearer glmcp_")
    assert oidc_broker.api_key not in str(headers), "an MCP client never gets the API key"
    assert session.mcp.headers == headers, "kept by the session once minted"
    async with mcp_client(session.mcp.url, headers) as agent:
        listed = {t.name for t in (await agent.list_tools()).tools}
        assert {"COMPOSIO_MANAGE_CONNECTIONS", "COMPOSIO_SEARCH_TOOLS", "COMPOSIO_MULTI_EXECUTE_TOOL"} <= listed
        assert "COMPOSIO_WAIT_FOR_CONNECTIONS" not in listed

        # The agent asks for a link and shows it to the user, who signs in.
        managed = await agent.call_tool("COMPOSIO_MANAGE_CONNECTIONS", {"toolkits": ["oidc"]})
        assert not managed.is_error
        oidc = text_json(managed)["results"]["oidc"]
        assert oidc["status"] == "initiated"
        kind, _, status, page = await asyncio.to_thread(Browser().oidc_sign_in, oidc["redirect_url"], login="alice")
        assert (kind, status) == ("page", 200) and "Connected" in page, page

        # It runs the user's tool and reads the answer.
        ran = await agent.call_tool("COMPOSIO_MULTI_EXECUTE_TOOL",
                                    {"tools": [{"tool_slug": "OIDC_GET_CURRENT_USER", "arguments": {}}]})
        assert not ran.is_error
        [result] = text_json(ran)["results"]
        assert result["tool_slug"] == "OIDC_GET_CURRENT_USER" and result["successful"], result
        assert result["data"]["sub"] == "alice"
        assert result["data"]["email"] == "alice@example.test"


async def test_a_bad_tool_call_is_an_error_result_the_model_can_read(oidc_broker):
    session = await chat_session(oidc_broker)
    async with mcp_client(session.mcp.url, await session.mcp_headers()) as agent:
        bad = await agent.call_tool("COMPOSIO_MULTI_EXECUTE_TOOL", {"tools": []})
        assert bad.is_error
        assert "arguments.tools" in bad.content[0].text
        unknown = await agent.call_tool("COMPOSIO_MANAGE_CONNECTIONS", {"toolkits": ["oidc"], "colour": "red"})
        assert unknown.is_error


async def test_without_manage_connections_the_connection_tool_is_not_offered(oidc_broker):
    session = await chat_session(oidc_broker, manage_connections=False)
    async with mcp_client(session.mcp.url, await session.mcp_headers()) as agent:
        listed = {t.name for t in (await agent.list_tools()).tools}
        assert "COMPOSIO_MANAGE_CONNECTIONS" not in listed
        assert {"COMPOSIO_SEARCH_TOOLS", "COMPOSIO_MULTI_EXECUTE_TOOL"} <= listed


async def test_the_blocking_client_hands_the_mcp_client_a_session_credential(oidc_broker):
    gl = Grantline(api_key=oidc_broker.api_key, base_url=oidc_broker.base_url)
    session = await asyncio.to_thread(gl.create, user_id="alice_app_id", toolkits=["oidc"])
    # `session.mcp.headers` mints on first read (one blocking call), then keeps it.
    headers = await asyncio.to_thread(lambda: session.mcp.headers)
    assert list(headers) == ["Authorization"] and headers["Authorization"].startswith("Bearer glmcp_")
    assert session.mcp.headers == headers and session.mcp_headers() == headers
    assert len(session.mcp_credentials()) == 1
    assert "glmcp_" not in repr(session.mcp)
    async with mcp_client(session.mcp.url, headers) as agent:
        assert "COMPOSIO_MANAGE_CONNECTIONS" in {t.name for t in (await agent.list_tools()).tools}


async def test_the_credential_opens_its_own_session_only_and_ends_when_revoked(oidc_broker):
    mine, theirs = await chat_session(oidc_broker), await chat_session(oidc_broker)
    minted = await mine.create_mcp_credential(ttl_seconds=3600, name="Cursor")
    assert minted.secret not in repr(minted)
    assert minted.url == mine.mcp.url and minted.headers == {"Authorization": f"Bearer {minted.secret}"}

    statuses = []
    with pytest.raises(Exception) as err:  # noqa: PT011  (the client wraps it in exception groups)
        async with mcp_client(theirs.mcp.url, minted.headers, statuses):
            pass
    assert isinstance(leaf(err.value), MCPError), err.value
    assert statuses == [403], "another session's MCP URL refuses it"

    async with mcp_client(mine.mcp.url, minted.headers) as agent:
        await agent.list_tools()
    [listed] = await mine.mcp_credentials()
    assert (listed.id, listed.name, listed.status) == (minted.id, "Cursor", "ACTIVE")
    await mine.revoke_mcp_credential(minted.id)
    statuses.clear()
    with pytest.raises(Exception):  # noqa: PT011,B017
        async with mcp_client(mine.mcp.url, minted.headers, statuses):
            pass
    assert statuses == [401]
    assert [c.status for c in await mine.mcp_credentials()] == ["REVOKED"]


async def test_an_async_session_says_how_to_mint_before_its_headers_are_read(oidc_broker):
    session = await chat_session(oidc_broker)
    with pytest.raises(RuntimeError, match="await session.mcp_headers()"):
        session.mcp.headers  # noqa: B018


async def test_a_wrong_api_key_cannot_connect(oidc_broker):
    session = await chat_session(oidc_broker)
    statuses = []
    with pytest.raises(Exception) as err:  # noqa: PT011  (the client wraps it in exception groups)
        async with mcp_client(session.mcp.url, {"x-api-key": "gl_wrong"}, statuses):
            pass
    assert isinstance(leaf(err.value), MCPError), err.value
    assert statuses == [401]


def leaf(exc):
    """The one error inside nested exception groups."""
    while hasattr(exc, "exceptions"):
        [exc] = exc.exceptions
    return exc
