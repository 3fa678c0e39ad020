"""Fixtures of the Composio-compatibility suite: the official `composio` SDK (PyPI) pointed at
real `grantline serve` processes with nothing but `base_url` and an API key.

The broker, the npm oidc-provider and the browser stand-in are bindings-py's own test fixtures
(imported from bindings-py/tests/conftest.py, not copied). This file adds:

- a guard: every DNS look-up of a non-loopback host fails and fails the test (the SDK's
  telemetry and anything else that tries to leave the machine);
- a recorder of the SDK's HTTP exchanges (method, path, body, answer), printed under a failed
  test, so a failure names the request the SDK sent and what the broker answered;
- `RecordingProxy`: an HTTP proxy in front of oidc-provider that records what the broker sends
  it (token requests and their answers, RFC 7009 revocations);
- the story helpers the tests share.
"""

from __future__ import annotations

import contextvars
import importlib.util
import json
import os
import socket
import tempfile
import threading
import time
import urllib.request
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

REPO = Path(__file__).resolve().parents[3]

# Keep the SDK's files and logs inside a throwaway place and quiet (read from the environment
# when `composio` is imported, so before any test module imports it).
_TMP = tempfile.mkdtemp(prefix="composio-compat-")
os.environ.setdefault("COMPOSIO_CACHE_DIR", _TMP)
os.environ.setdefault("COMPOSIO_LOGGING_LEVEL", "warning")
for _var in ("COMPOSIO_API_KEY", "COMPOSIO_BASE_URL", "COMPOSIO_USER_API_KEY", "COMPOSIO_ORG_API_KEY"):
    os.environ.pop(_var, None)

# --- bindings-py's fixtures, imported from their file ---------------------------------------
_spec = importlib.util.spec_from_file_location("grantline_bindings_py_fixtures",
                                               REPO / "bindings-py" / "tests" / "conftest.py")
_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_harness)
Broker = _harness.Broker
Browser = _harness.Browser
OidcProvider = _harness.OidcProvider
free_port = _harness.free_port
query = _harness.query
APP = _harness.APP
WebhookReceiver = _harness.WebhookReceiver
QUICK_WEBHOOKS = _harness.QUICK_WEBHOOKS

from composio import Composio  # noqa: E402  (after the environment above is set)

# --- no test leaves the machine --------------------------------------------------------------
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}
_real_getaddrinfo = socket.getaddrinfo
OUTBOUND_ATTEMPTS: list[tuple[str, str]] = []  # (test id, host)
_current_test = {"id": "<collection>"}


def _guarded_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name in _LOOPBACK or name.startswith("127."):
        return _real_getaddrinfo(host, *args, **kwargs)
    OUTBOUND_ATTEMPTS.append((_current_test["id"], name))
    raise socket.gaierror(socket.EAI_NONAME, f"composio compatibility tests stay on loopback (refused {name})")


socket.getaddrinfo = _guarded_getaddrinfo

# --- what the SDK sent and what the broker answered -------------------------------------------
EXCHANGES: list[dict] = []
_real_handle = httpx.HTTPTransport.handle_request


def _recording_handle(self, request: httpx.Request) -> httpx.Response:
    response = _real_handle(self, request)
    raw = b"".join(response.iter_raw())
    response.close()
    try:
        body = json.loads(request.content) if request.content else None
    except ValueError:
        body = request.content.decode(errors="replace")
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = raw.decode(errors="replace")
    EXCHANGES.append({"method": request.method, "path": request.url.raw_path.decode(), "body": body,
                      "status": response.status_code, "answer": answer})
    return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw),
                          extensions=response.extensions, request=request)


httpx.HTTPTransport.handle_request = _recording_handle


def _short(value, limit=1200):
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[:limit] + f"… ({len(text)} chars)"


def format_exchanges(exchanges) -> str:
    lines = []
    for x in exchanges:
        keys = sorted(x["body"]) if isinstance(x["body"], dict) else None
        lines.append(f"{x['method']} {x['path']}  body keys={keys}  body={_short(x['body'], 600)}")
        lines.append(f"  -> {x['status']} {_short(x['answer'])}")
    return "\n".join(lines)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        start = getattr(item, "_exchanges_start", 0)
        report.sections.append(("SDK HTTP exchanges (request the SDK sent -> broker's answer)",
                                format_exchanges(EXCHANGES[start:]) or "(none)"))


@pytest.fixture(autouse=True)
def _stay_on_loopback(request):
    """Records this test's exchanges; fails the test if anything tried to leave the machine."""
    _current_test["id"] = request.node.nodeid
    request.node._exchanges_start = len(EXCHANGES)
    before = len(OUTBOUND_ATTEMPTS)
    yield
    time.sleep(0.05)  # let a telemetry thread that was handed an event try its luck
    leaked = OUTBOUND_ATTEMPTS[before:]
    assert not leaked, f"something tried to reach the internet: {sorted({h for _, h in leaked})}"


def pytest_terminal_summary(terminalreporter):
    if OUTBOUND_ATTEMPTS:
        terminalreporter.section("outbound look-ups refused (must be none)")
        for test, host in OUTBOUND_ATTEMPTS:
            terminalreporter.line(f"{test}: {host}")


def exchanges_since(mark: int) -> list[dict]:
    return EXCHANGES[mark:]


# --- an HTTP proxy in front of the OAuth provider ---------------------------------------------
class RecordingProxy:
    """Forwards everything to `target` (keeping the Host header, so the provider builds its URLs
    on the proxy's address) and records each request with the provider's answer."""

    def __init__(self, target_port: int):
        self.requests: list[dict] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _forward(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                conn = HTTPConnection("127.0.0.1", target_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                proxy.requests.append({"method": self.command, "path": urlsplit(self.path).path,
                                       "body": (body or b"").decode(errors="replace"),
                                       "status": resp.status, "answer": data.decode(errors="replace")})
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def issued_tokens(self) -> set[str]:
        """Every access and refresh token the provider handed the broker."""
        tokens = set()
        for r in self.requests:
            if r["path"].endswith("/token") and r["status"] == 200:
                answer = json.loads(r["answer"])
                tokens.update(v for k, v in answer.items() if k in ("access_token", "refresh_token") and v)
        return tokens

    def calls_to(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def stop(self):
        self.server.shutdown()


class Oidc:
    """A broker that knows npm oidc-provider as toolkit `oidc` (through a recording proxy when
    `proxied`), with an auth config for it."""

    def __init__(self, tmp_path: Path, proxied: bool):
        port = free_port()
        self.provider = OidcProvider(f"http://127.0.0.1:{port}/oauth/callback")
        issuer = self.provider.endpoints["issuer"]
        toml = self.provider.toolkit_toml()
        self.proxy = None
        if proxied:
            self.proxy = RecordingProxy(self.provider.endpoints["port"])
            toml = toml.replace(issuer, self.proxy.url)
        with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration") as resp:
            self.discovery = json.load(resp)
        providers = tmp_path / "providers.toml"
        providers.write_text(toml)
        self.broker = Broker(tmp_path, dev=False, port=port, providers=providers)
        self.broker.add_auth_config("oidc", "grantline-py", "py-secret", "openid,email,profile")
        self.base_url, self.api_key = self.broker.base_url, self.broker.api_key

    @property
    def revocation_path(self) -> str:
        return urlsplit(self.discovery["revocation_endpoint"]).path

    def stop(self):
        self.broker.stop()
        self.provider.stop()
        if self.proxy:
            self.proxy.stop()


@pytest.fixture
def broker(tmp_path):
    """A --dev broker: the offline `sandbox` OAuth toolkit is available."""
    b = Broker(tmp_path)
    yield b
    b.stop()


@pytest.fixture
def short_links_broker(tmp_path):
    """A --dev broker whose Connect Links live 2 seconds."""
    b = Broker(tmp_path, link_ttl_secs=2)
    yield b
    b.stop()


@pytest.fixture
def oidc(tmp_path):
    o = Oidc(tmp_path, proxied=False)
    yield o
    o.stop()


@pytest.fixture
def proxied_oidc(tmp_path):
    o = Oidc(tmp_path, proxied=True)
    yield o
    o.stop()


def composio_for(broker, **kwargs) -> Composio:
    """What an app does: the official SDK, only `base_url` and the API key changed."""
    return Composio(api_key=kwargs.pop("api_key", broker.api_key), base_url=broker.base_url,
                    allow_tracking=False, **kwargs)


# --- the user's side of a Connect Link ---------------------------------------------------------
def complete_link(url: str, toolkit: str, *, allow=True, login="alice"):
    """The user opens the link and answers the provider; returns where the browser ended."""
    browser = Browser()
    if toolkit == "sandbox":
        return browser.sandbox_consent(url, allow=allow)
    return browser.oidc_sign_in(url, login=login, consent="/confirm" if allow else "/abort")


def user_completes_after_the_wait_started(account_id: str, url: str, toolkit: str, **kwargs):
    """Starts the user in a thread that first waits until the SDK's waiter has asked the broker
    about `account_id` once, then completes the link. Returns the thread and its outcome box."""
    mark = len(EXCHANGES)
    box: dict = {}

    def user():
        deadline = time.time() + 30
        while time.time() < deadline:
            if any(x["method"] == "GET" and account_id in x["path"] for x in EXCHANGES[mark:]):
                break
            time.sleep(0.02)
        else:
            box["error"] = "the SDK never asked the broker about the account"
            return
        box["ended"] = complete_link(url, toolkit, **kwargs)

    thread = threading.Thread(target=contextvars.copy_context().run, args=(user,), daemon=True)
    thread.start()
    return thread, box


def find_key(value, key):
    """The first value stored under `key` anywhere in a JSON-like value."""
    if isinstance(value, dict):
        if key in value:
            return value[key]
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = find_key(item, key)
            if found is not None:
                return found
    return None


def as_json(value) -> str:
    """A response model or plain value as JSON text (for `in` checks)."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json", by_alias=True)
    return json.dumps(value, default=str)
