"""Fixtures: a real `grantline serve --test` on a free port with a temporary SQLite file (or a fresh
PostgreSQL database, GRANTLINE_TEST_DATABASE=postgres), npm's
oidc-provider as the OAuth provider, and a cookie-keeping browser stand-in."""

import http.cookiejar
import itertools
import json
import os
import random
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
APP = "https://app.example.com"


def free_port() -> int:
    """A free loopback port below the kernel's ephemeral range (32768 and up), so no process
    that listens on port 0 or opens a connection can take it before the test uses it."""
    while True:
        port = random.randrange(20000, 32768)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def fresh_database_url(tmp: Path) -> str:
    """The broker's database: a SQLite file in `tmp`, or with GRANTLINE_TEST_DATABASE=postgres a
    fresh database on the PostgreSQL server at GRANTLINE_TEST_POSTGRES_URL (scripts/test.sh)."""
    if os.environ.get("GRANTLINE_TEST_DATABASE") != "postgres":
        return f"sqlite://{tmp / 'grantline.db'}"
    server = os.environ["GRANTLINE_TEST_POSTGRES_URL"]
    name = f"grantline_py_{os.getpid()}_{next(_databases)}"
    subprocess.run(["psql", server, "-v", "ON_ERROR_STOP=1", "-qc", f"CREATE DATABASE {name}"], check=True)
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(server)._replace(path=f"/{name}"))


_databases = itertools.count()


class Broker:
    """A `grantline serve --test` process (the one test broker of every suite: it prints one JSON
    line with its URL, first API key and encryption key, and stops when its stdin closes, so it
    dies with this process); `stop()` kills it. `database_url` and `encryption_key` start it on a
    database another broker set up (its `api_key` is then None)."""

    def __init__(self, tmp: Path, *, dev=True, port=None, providers=None, link_ttl_secs=600, extra_args=(),
                 database_url=None, encryption_key=None):
        binary = os.environ.get("GRANTLINE_BIN", str(REPO / "target" / "debug" / "grantline"))
        self.database_url = database_url or fresh_database_url(tmp)
        args = [binary, "serve", "--test", "--database-url", self.database_url,
                "--link-ttl-secs", str(link_ttl_secs), "--allowed-callback-urls", f"{APP}/done"]
        if port:
            args += ["--bind", f"127.0.0.1:{port}"]
        if encryption_key:
            args += ["--encryption-key", encryption_key]
        if not dev:
            args.append("--no-dev")
        if providers:
            args += ["--providers", str(providers)]
        args += list(extra_args)
        env = {k: v for k, v in os.environ.items() if k != "GRANTLINE_DEV"}
        env["GRANTLINE_LOG"] = "warn"
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"grantline serve --test exited ({self.proc.wait()}) before listening")
        started = json.loads(line)
        self.base_url, self.api_key = started["url"], started["api_key"]
        self.encryption_key = started.get("encryption_key")
        assert self.api_key or database_url, "a new database prints its API key"

    def add_auth_config(self, toolkit: str, client_id: str, client_secret: str, scopes: str):
        body = {"toolkit": {"slug": toolkit}, "auth_config": {"type": "use_custom_auth", "auth_scheme": "OAUTH2",
                "credentials": {"client_id": client_id, "client_secret": client_secret, "scopes": scopes}}}
        req = urllib.request.Request(f"{self.base_url}/api/v3.1/auth_configs", data=json.dumps(body).encode(),
                                     headers={"x-api-key": self.api_key, "content-type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 201

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class OidcProvider:
    """tests/oidc-provider/server.mjs (npm oidc-provider) on a free port."""

    def __init__(self, redirect_uri: str, **env):
        cwd = REPO / "tests" / "oidc-provider"
        assert (cwd / "node_modules" / "oidc-provider").exists(), "run `npm ci` in tests/oidc-provider"
        full_env = dict(os.environ, REDIRECT_URIS=redirect_uri, CLIENT_ID="grantline-py", CLIENT_SECRET="py-secret", **env)
        self.proc = subprocess.Popen(["node", "server.mjs"], cwd=cwd, env=full_env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.endpoints = json.loads(self.proc.stdout.readline())

    def toolkit_toml(self):
        """How a broker declares this provider (the harness fills in its endpoints)."""
        return self.endpoints["toolkit_toml"]

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Keeps cookies and follows redirects one at a time, like a user's browser."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def request(self, url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=data)) as resp:
                return resp.status, resp.headers, resp.read().decode(), resp.url
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode(), url

    def walk(self, url, form=None, stop=APP):
        """Requests `url` and follows redirects; returns ("stopped", url) at `stop`, else ("page", url, html)."""
        status, headers, body, _ = self.request(url, form)
        for _ in range(20):
            if status not in (301, 302, 303, 307, 308):
                return ("page", url, status, body)
            url = urllib.parse.urljoin(url, headers["location"])
            if url.startswith(stop):
                return ("stopped", url)
            status, headers, body, _ = self.request(url)
        raise AssertionError("too many redirects")

    def oidc_sign_in(self, redirect_url, *, login="alice", consent="/confirm"):
        """Opens a Connect Link to the oidc-provider, signs in and answers consent."""
        _, url, status, html = self.walk(redirect_url)
        assert status == 200, html
        _, url, status, html = self.walk(form_action(url, html, "/login"), form={"login": login, "password": "secret"})
        assert status == 200, html
        return self.walk(form_action(url, html, consent), form={})

    def sandbox_consent(self, redirect_url, *, allow=True):
        """Opens a Connect Link on a --dev broker and answers the sandbox consent page."""
        status, headers, _, _ = self.request(redirect_url)
        authorize = headers["location"]
        parts = urllib.parse.urlsplit(authorize)
        form = dict(urllib.parse.parse_qsl(parts.query), user="octocat", decision="allow" if allow else "deny")
        endpoint = f"{parts.scheme}://{parts.netloc}{parts.path}"
        return self.walk(endpoint, form=form)


def form_action(page_url, html, suffix):
    for action in re.findall(r'action="([^"]+)"', html):
        if action.endswith(suffix):
            return urllib.parse.urljoin(page_url, action)
    raise AssertionError(f"no form posting to ...{suffix} in {html}")


def query(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


@pytest.fixture
def broker(tmp_path):
    """A --dev broker (sandbox toolkit available)."""
    b = Broker(tmp_path)
    yield b
    b.stop()


# Webhook deliveries retried after a fifth of a second, so a test does not wait for backoff.
QUICK_WEBHOOKS = ("--webhook-first-retry-secs", "0.2", "--webhook-poll-secs", "0.1", "--webhook-timeout-secs", "2")


@pytest.fixture
def webhook_broker(tmp_path):
    """A --dev broker (it accepts http://127.0.0.1 receivers) that delivers webhooks quickly."""
    b = Broker(tmp_path, extra_args=QUICK_WEBHOOKS)
    yield b
    b.stop()


class WebhookReceiver:
    """An app's webhook endpoint on 127.0.0.1 (also used by the Composio-compatibility suite):
    records every POST (its path, headers in lower case and raw body) and answers 200. Its URL
    ends with `path`."""

    def __init__(self, path="/webhooks/grantline"):
        self.got: list[dict] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._lock:
                    receiver.got.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                         "body": body})
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def deliveries(self) -> list[dict]:
        with self._lock:
            return list(self.got)

    def wait_for(self, what: str, done, timeout=15) -> list[dict]:
        """What it got, once `done` holds of it; fails saying what it got after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.deliveries()
            if done(got):
                return got
            assert time.monotonic() < deadline, f"{what}: the receiver got {[json.loads(g['body']) for g in got]}"
            time.sleep(0.05)

    def of_type(self, event_type: str) -> list[dict]:
        return [g for g in self.deliveries() if json.loads(g["body"])["type"] == event_type]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = WebhookReceiver()
    yield r
    r.stop()


@pytest.fixture
def oidc_broker(tmp_path):
    """A broker that knows npm oidc-provider as toolkit `oidc`, with an auth config for it."""
    port = free_port()
    provider = OidcProvider(f"http://127.0.0.1:{port}/oauth/callback")
    providers = tmp_path / "providers.toml"
    providers.write_text(provider.toolkit_toml())
    b = Broker(tmp_path, dev=False, port=port, providers=providers)
    b.add_auth_config("oidc", "grantline-py", "py-secret", "openid,email,profile")
    yield b
    b.stop()
    provider.stop()
