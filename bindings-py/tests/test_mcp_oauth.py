"""A person pastes a session's MCP URL, and nothing else, into an MCP client: the official `mcp`
client logs in with its OAuth support (discovery from the 401, registration by Client ID
Metadata Document or Dynamic Client Registration, the consent page, the code exchange), lists
the session's tools, connects the user's account in chat and runs a tool."""

import asyncio
import json
import re
import threading
import urllib.parse
import urllib.request
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import mcp.client.auth.oauth2 as mcp_oauth2
from mcp import ClientSession
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

from conftest import Browser, form_action, query
from grantline import AsyncGrantline

# The client's loopback redirect URI (RFC 8252): nothing listens there, the "browser" stops at it.
REDIRECT = "http://127.0.0.1:33418/callback"


class MemoryStorage:
    """Where the MCP client keeps its registration and tokens: nothing preconfigured."""

    def __init__(self):
        self.tokens = None
        self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


class LoginBrowser:
    """The person's browser during the login: opens the authorization URL, approves on the
    consent page, and, when the broker sends it to the app's user verification (a URL with
    `flow_id=`), plays the app's backend confirming who is signed in; it stops at the client's
    redirect URI and hands the client its code, state and iss."""

    def __init__(self, broker, user_id):
        self.broker = broker
        self.user_id = user_id
        self.consent_pages = []
        self.answer = None

    async def redirect_handler(self, authorization_url):
        self.answer = await asyncio.to_thread(self._log_in, authorization_url)

    async def callback_handler(self):
        answer, self.answer = self.answer, None
        assert "code" in answer, answer
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"), iss=answer.get("iss"))

    def _log_in(self, url):
        browser = Browser()
        status, _, html, _ = browser.request(url)
        assert status == 200, html
        self.consent_pages.append(html)
        form = {name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1) for name in ("authorization_id", "csrf")}
        status, headers, body, _ = browser.request(form_action(url, html, "/mcp/oauth/consent"), dict(form, decision="approve"))
        for _ in range(10):
            assert status in (302, 303), body
            url = urllib.parse.urljoin(url, headers["location"])
            if url.startswith(REDIRECT):
                return query(url)
            flow_id = query(url).get("flow_id")
            if flow_id:
                url = self._confirm_user(flow_id)
            status, headers, body, _ = browser.request(url)
            if status == 200:
                raise AssertionError(f"the login stopped on a page: {body}")
        raise AssertionError("too many redirects")

    def _confirm_user(self, flow_id):
        """The app's backend: its signed-in user is the session's user; where to send the browser."""
        req = urllib.request.Request(
            f"{self.broker.base_url}/api/v3.1/user_verifications/{flow_id}/confirm",
            data=json.dumps({"user_id": self.user_id}).encode(),
            headers={"x-api-key": self.broker.api_key, "content-type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read())["redirect_url"]


@asynccontextmanager
async def logged_in_agent(url, browser, *, client_metadata_url=None, requests=None):
    """An MCP client given only `url`; `requests` collects the (method, URL) of each request."""
    async def record(request):
        if requests is not None:
            requests.append((request.method, str(request.url)))

    auth = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(client_name="Test Agent", redirect_uris=[REDIRECT], token_endpoint_auth_method="none",
                                            grant_types=["authorization_code", "refresh_token"], response_types=["code"]),
        storage=MemoryStorage(),
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
        client_metadata_url=client_metadata_url,
    )
    async with httpx2.AsyncClient(auth=auth, timeout=30, event_hooks={"request": [record]}) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as client:
                await client.initialize()
                yield client


def text_json(result):
    [block] = result.content
    return json.loads(block.text)


async def connect_and_run(agent, toolkit, slug, sign_in):
    """The agent asks for a link, the user completes it, the agent runs `slug`; its data."""
    managed = await agent.call_tool("COMPOSIO_MANAGE_CONNECTIONS", {"toolkits": [toolkit]})
    assert not managed.is_error, managed
    link = text_json(managed)["results"][toolkit]
    assert link["status"] == "initiated", link
    outcome = await asyncio.to_thread(sign_in, link["redirect_url"])
    assert outcome[0] == "page" and outcome[2] == 200 and "Connected" in outcome[3], outcome
    ran = await agent.call_tool("COMPOSIO_MULTI_EXECUTE_TOOL", {"tools": [{"tool_slug": slug, "arguments": {}}]})
    assert not ran.is_error, ran
    [result] = text_json(ran)["results"]
    assert result["successful"], result
    return result["data"]


def set_user_verification_url(broker, url):
    """The app's operator names its own page where signed-in users confirm who they are."""
    req = urllib.request.Request(
        f"{broker.base_url}/api/v3.1/project", method="PATCH",
        data=json.dumps({"user_verification_url": url}).encode(),
        headers={"x-api-key": broker.api_key, "content-type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200


async def test_an_mcp_client_registers_logs_in_and_runs_the_users_tool(oidc_broker):
    # A production broker approves MCP clients only through the app's own verification page.
    set_user_verification_url(oidc_broker, "https://app.example.com/verify-user")
    gl = AsyncGrantline(api_key=oidc_broker.api_key, base_url=oidc_broker.base_url)
    session = await gl.create(user_id="alice_app_id", toolkits=["oidc"])
    browser = LoginBrowser(oidc_broker, "alice_app_id")
    requests = []
    async with logged_in_agent(session.mcp.url, browser, requests=requests) as agent:
        listed = {t.name for t in (await agent.list_tools()).tools}
        assert {"COMPOSIO_MANAGE_CONNECTIONS", "COMPOSIO_SEARCH_TOOLS", "COMPOSIO_MULTI_EXECUTE_TOOL"} <= listed
        data = await connect_and_run(agent, "oidc", "OIDC_GET_CURRENT_USER", lambda url: Browser().oidc_sign_in(url, login="alice"))
        assert data["sub"] == "alice"

    # It found everything from the 401 and registered itself (no credential was configured).
    paths = [urllib.parse.urlsplit(u).path for _, u in requests]
    assert "/.well-known/oauth-protected-resource" + urllib.parse.urlsplit(session.mcp.url).path in paths
    assert "/.well-known/oauth-authorization-server" in paths
    assert ("POST", f"{oidc_broker.base_url}/mcp/oauth/register") in requests
    [page] = browser.consent_pages
    assert "Test Agent" in page and "alice_app_id" in page


class MetadataDocument:
    """The MCP client's Client ID Metadata Document, served on 127.0.0.1; counts its fetches."""

    def __init__(self):
        document = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                document.fetches += 1
                body = json.dumps({"client_id": document.url, "client_name": "Doc Agent", "redirect_uris": [REDIRECT],
                                   "token_endpoint_auth_method": "none",
                                   "grant_types": ["authorization_code", "refresh_token"]}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.fetches = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/oauth/client-metadata.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


async def test_an_mcp_client_identified_by_its_metadata_document_logs_in(broker, monkeypatch):
    # A real client's document is on https; offline, a --dev broker fetches it from loopback http,
    # which the SDK would refuse to name as its client id: allow that one URL.
    document = MetadataDocument()
    original = mcp_oauth2.is_valid_client_metadata_url
    monkeypatch.setattr(mcp_oauth2, "is_valid_client_metadata_url", lambda url: url == document.url or original(url))
    try:
        gl = AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url)
        session = await gl.create(user_id="octo_user", toolkits=["sandbox"])
        browser = LoginBrowser(broker, "octo_user")
        requests = []
        async with logged_in_agent(session.mcp.url, browser, client_metadata_url=document.url, requests=requests) as agent:
            data = await connect_and_run(agent, "sandbox", "SANDBOX_GET_CURRENT_USER", lambda url: Browser().sandbox_consent(url))
            assert data["sub"] == "octocat"
        assert document.fetches >= 1, "the broker read the client's document"
        assert not any(u.endswith("/mcp/oauth/register") for _, u in requests), "no registration was needed"
        [page] = browser.consent_pages
        assert "Doc Agent" in page and "published by <strong>127.0.0.1</strong>" in page
    finally:
        document.stop()
