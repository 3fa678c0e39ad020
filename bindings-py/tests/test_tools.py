"""An agent runs the user's tools from Python: it tries a tool, is told to connect, shows the
user the link, and the retry reads the user's own profile at a real OAuth provider. Bad tool
calls are the shared matrix (tests/scenarios/bad_arguments.json, test_bad_arguments.py)."""

import asyncio

import pytest

from conftest import Browser
from grantline import AsyncGrantline, Grantline, ValidationError


def chat_session(broker, **options):
    gl = Grantline(api_key=broker.api_key, base_url=broker.base_url)
    return gl.create(user_id="alice_app_id", toolkits=["oidc"], **options)


def test_the_agent_connects_in_chat_and_its_retry_reads_the_users_profile(oidc_broker):
    session = chat_session(oidc_broker)

    # The agent tries the tool before the user connected anything: an answer, not an exception.
    first = session.execute("OIDC_GET_CURRENT_USER")
    assert not first.successful and first.log_id
    assert first.data["status"] == "not_connected"
    assert first.data["next_step"]["tool"] == "COMPOSIO_MANAGE_CONNECTIONS"
    assert "COMPOSIO_MANAGE_CONNECTIONS" in first.error

    # It calls the next step, and the chat shows the user the link.
    managed = session.execute_meta("COMPOSIO_MANAGE_CONNECTIONS", first.data["next_step"]["arguments"])
    assert managed.error is None
    oidc = managed.data["results"]["oidc"]
    assert oidc["status"] == "initiated", managed.data
    assert oidc["connected_account_id"].startswith("ca_")

    # No callback URL: the user ends on the broker's own page.
    kind, _, status, page = Browser().oidc_sign_in(oidc["redirect_url"], login="alice")
    assert (kind, status) == ("page", 200) and "Connected" in page, page

    # The retry runs as alice.
    retried = session.execute("OIDC_GET_CURRENT_USER", {})
    assert retried.successful and retried.error is None, retried.data
    assert retried.data["sub"] == "alice"
    assert retried.data["email"] == "alice@example.test"
    pinned = session.execute("OIDC_GET_CURRENT_USER", connected_account_id=oidc["connected_account_id"])
    assert pinned.successful and pinned.data["sub"] == "alice"

    # The same API through the proxy, with the app's own header and query parameter.
    proxied = session.proxy_execute("/me", toolkit="oidc", headers={"x-trace": "1"}, query={"lang": "en"})
    assert proxied.status == 200
    assert proxied.data["sub"] == "alice"
    assert "authorization" not in {k.lower() for k in proxied.headers}

    # Search finds the tool for a use case in words, and knows it is connected now.
    hits = session.search("who am i profile")
    assert hits[0].slug == "OIDC_GET_CURRENT_USER", hits
    assert hits[0].toolkit == "oidc" and hits[0].is_connected and hits[0].score > 0
    assert hits[0].input_parameters["type"] == "object"
    assert len(session.search("who am i profile", toolkits=["oidc"], limit=1)) == 1


def test_a_direct_tool_of_a_toolkit_the_broker_lacks_is_refused(oidc_broker):
    # (Listing direct tools, the wait tool and the ask-the-app answer are shared stories.)
    with pytest.raises(ValidationError) as err:
        chat_session(oidc_broker, direct_tools=["GITHUB_CREATE_AN_ISSUE"])
    assert err.value.field == "direct_tools[0]"


async def test_the_async_client_executes_and_searches_the_same_way(oidc_broker):
    gl = AsyncGrantline(api_key=oidc_broker.api_key, base_url=oidc_broker.base_url)
    session = await gl.create(user_id="u_async", toolkits=["oidc"])
    first = await session.execute("OIDC_GET_CURRENT_USER")
    assert not first.successful and first.data["status"] == "not_connected"
    managed = await session.execute_meta("COMPOSIO_MANAGE_CONNECTIONS", {"toolkits": ["oidc"]})
    link = managed.data["results"]["oidc"]["redirect_url"]
    await asyncio.to_thread(Browser().oidc_sign_in, link, login="bob")
    retried = await session.execute("OIDC_GET_CURRENT_USER")
    assert retried.successful and retried.data["sub"] == "bob"
    hits = await session.search("current user profile", limit=3)
    assert hits[0].slug == "OIDC_GET_CURRENT_USER" and hits[0].is_connected
    proxied = await session.proxy_execute("/me", toolkit="oidc")
    assert (proxied.status, proxied.data["sub"]) == (200, "bob")
    with pytest.raises(ValidationError) as err:
        await session.execute("OIDC_GET_CURRENT_USER", {"x": 1})
    assert err.value.field == "arguments.x"
