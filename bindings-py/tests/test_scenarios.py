"""The shared stories of tests/scenarios/stories.json, run through the Python SDK, each one with
the blocking `Grantline` (its calls on worker threads) and with `AsyncGrantline` (its
coroutines). This file interprets the steps (tests/scenarios/README.md lists them); the Rust
(server/tests/scenarios.rs) and Node (bindings-node/test/scenarios.test.js) runners run the same
stories."""

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import APP, REPO, Broker, Browser, query
from grantline import AsyncGrantline, Grantline, GrantlineError

STORIES = json.loads((REPO / "tests" / "scenarios" / "stories.json").read_text())


class StoryFailed(AssertionError):
    pass


def account(a):
    return {"id": a.id, "status": a.status, "user_id": a.user_id, "toolkit": a.toolkit, "alias": a.alias,
            "is_disabled": a.is_disabled, "reconnecting": a.reconnecting}


def project(p):
    return {"display_name": p.display_name, "support_url": p.support_url, "user_verification_url": p.user_verification_url,
            "verify_connect_links": p.verify_connect_links}


def error(e):
    """An SDK error as the stories state errors."""
    out = {"code": e.code, "message": str(e)}
    for ours, theirs in [("field", "field"), ("account_status", "account_status"), ("reason", "status_reason"),
                         ("connected_account_id", "connected_account_id")]:
        if getattr(e, theirs, None) is not None:
            out[ours] = getattr(e, theirs)
    return out


def check(actual, expected, at, present=True):
    """`actual` matches `expected`: objects by the keys given, lists item by item, and the
    matchers $prefix, $contains, $contains_all, $lacks, $absent."""
    def fail():
        raise StoryFailed(f"{at}: expected {json.dumps(expected)}, got {json.dumps(actual) if present else 'nothing'}")
    if isinstance(expected, dict) and any(k.startswith("$") for k in expected):
        [(matcher, arg)] = expected.items()
        text = actual if present and isinstance(actual, str) else None
        ok = {
            "$absent": lambda: not present or actual is None,
            "$prefix": lambda: text is not None and text.startswith(arg),
            "$contains": lambda: text is not None and arg in text,
            "$contains_all": lambda: text is not None and all(a in text for a in arg),
            "$lacks": lambda: present and isinstance(actual, list) and arg not in actual,
        }[matcher]()
        if not ok:
            fail()
    elif isinstance(expected, dict):
        if not present or not isinstance(actual, dict):
            fail()
        for k, v in expected.items():
            check(actual.get(k), v, f"{at}.{k}", present=k in actual)
    elif isinstance(expected, list):
        if not present or not isinstance(actual, list) or len(actual) != len(expected):
            fail()
        for i, (g, w) in enumerate(zip(actual, expected)):
            check(g, w, f"{at}[{i}]")
    elif not present or actual != expected or type(actual) is not type(expected):
        fail()


class Story:
    """One run of a story: the broker, the client, and what the steps made so far."""

    def __init__(self, broker, flavor):
        self.broker = broker
        self.flavor = flavor
        cls = Grantline if flavor == "sync" else AsyncGrantline
        self.gl = cls(api_key=broker.api_key, base_url=broker.base_url)
        self.values = {"APP": APP, "BROKER": broker.base_url}
        self.sessions, self.requests, self.background = {}, {}, {}

    async def call(self, fn, *args, **kwargs):
        """An SDK call: the blocking client's on a worker thread, the async client's awaited."""
        if self.flavor == "sync":
            return await asyncio.to_thread(fn, *args, **kwargs)
        return await fn(*args, **kwargs)

    def resolve(self, v):
        if isinstance(v, str) and v.startswith("$") and not v.startswith("${"):
            return self.lookup(v[1:])
        if isinstance(v, str):
            out, rest = "", v
            while "${" in rest:
                start = rest.index("${")
                end = rest.index("}", start)
                found = self.lookup(rest[start + 2:end])
                out += rest[:start] + (found if isinstance(found, str) else json.dumps(found))
                rest = rest[end + 1:]
            return out + rest
        if isinstance(v, list):
            return [self.resolve(i) for i in v]
        if isinstance(v, dict):
            return {k: self.resolve(i) for k, i in v.items()}
        return v

    def lookup(self, path):
        name, *parts = path.split(".")
        v = self.values[name]
        for p in parts:
            v = v[p]
        return v

    async def run(self, step):
        """One step's outcome: ("ok", value) or ("error", error)."""
        try:
            return "ok", await self.do(step)
        except GrantlineError as e:
            return "error", error(e)

    async def do(self, step):
        verb = step["do"]
        if verb == "create_session":
            mc = step.get("manage_connections")
            if step.get("wait_for_connections"):
                mc = {"wait_for_connections": True, **({} if mc is None else {"enable": mc})}
            s = await self.call(self.gl.create, step["user_id"], toolkits=step.get("toolkits"), manage_connections=mc,
                                direct_tools=step.get("direct_tools"))
            if "as" in step:
                self.sessions[step["as"]] = s
            return {"session_id": s.session_id, "user_id": s.user_id, "mcp_url": s.mcp.url}
        if verb == "authorize":
            r = await self.call(self.session(step).authorize, step["toolkit"], callback_url=step.get("callback_url"),
                                alias=step.get("alias"))
            if "as" in step:
                self.requests[step["as"]] = r
            return {"id": r.id, "redirect_url": r.redirect_url}
        if verb == "wait_for_connection":
            return account(await self.call(self.requests[step["request"]].wait_for_connection,
                                           timeout=step["timeout_ms"] / 1000))
        if verb == "get_account":
            return account(await self.call(self.gl.connected_accounts.get, step["id"]))
        if verb == "list_accounts":
            page = await self.call(self.gl.connected_accounts.list, user_ids=step.get("user_ids"), statuses=step.get("statuses"))
            return {"ids": [a.id for a in page.items], "total_items": page.total_items}
        if verb == "refresh_account":
            r = await self.call(self.gl.connected_accounts.refresh, step["id"], callback_url=step.get("callback_url"))
            return {"id": r.id, "status": r.status, "redirect_url": r.redirect_url}
        if verb == "revoke_account":
            r = await self.call(self.gl.connected_accounts.revoke, step["id"])
            return {"id": r.id, "status": r.status, "provider_revocation": r.provider_revocation,
                    "revoked_tokens": sorted(r.revoked_tokens), "note": r.note}
        if verb == "wait_for_account":
            return account(await self.call(self.gl.connected_accounts.wait_for_connection, step["id"],
                                           timeout=step["timeout_ms"] / 1000))
        if verb == "update_project":
            return project(await self.call(self.gl.update_project, **step["changes"]))
        if verb == "project":
            return project(await self.call(self.gl.project))
        if verb == "confirm_user":
            c = await self.call(self.gl.confirm_user, step["flow_id"], step["user_id"])
            return {"matched": c.matched, "flow_id": c.flow_id, "redirect_url": c.redirect_url}
        if verb == "delete_account":
            await self.call(self.gl.connected_accounts.delete, step["id"])
            return {}
        if verb == "list_toolkits":
            page = await self.call(self.session(step).toolkits, is_connected=step.get("is_connected"))
            return {"items": [{"slug": t.slug, "is_connected": t.is_connected,
                               "connected_account_id": t.connection.connected_account_id if t.connection else None}
                              for t in page.items]}
        if verb == "search":
            hits = await self.call(self.session(step).search, step["query"], toolkits=step.get("toolkits"), limit=step.get("limit"))
            return {"hits": [{"slug": h.slug, "toolkit": h.toolkit, "is_connected": h.is_connected} for h in hits]}
        if verb == "list_tools":
            return {"slugs": [t.slug for t in await self.call(self.session(step).tools)]}
        if verb == "execute":
            r = await self.call(self.session(step).execute, step["tool"], step.get("arguments", {}),
                                connected_account_id=step.get("connected_account_id"))
            return {"successful": r.successful, "data": r.data, "error": r.error}
        if verb == "execute_meta":
            r = await self.call(self.session(step).execute_meta, step["tool"], step.get("arguments", {}))
            return {"data": r.data, "error": r.error}
        if verb == "client_token":
            t = await self.call(self.session(step).client_token, step.get("ttl_seconds"))
            return {"id": t.id, "token": t.token, "session_id": t.session_id, "expires_at": t.expires_at}
        if verb == "revoke_client_token":
            await self.call(self.session(step).revoke_client_token, step["id"])
            return {}
        if verb == "open_link":
            return await asyncio.to_thread(open_link, step["url"], step.get("decision"))
        if verb == "as_page":
            return await asyncio.to_thread(as_page, self.broker, step)
        if verb == "sleep":
            await asyncio.sleep(step["ms"] / 1000)
            return {}
        if verb == "still_running":
            await asyncio.sleep(step.get("for_ms", 0) / 1000)
            if self.background[step["background"]].done():
                raise StoryFailed(f"`{step['background']}` is no longer running")
            return {}
        if verb == "join":
            return await self.background.pop(step["background"])
        raise AssertionError(f"unknown step {verb!r}")

    def session(self, step):
        return self.sessions[step["session"]]


def open_link(url, decision):
    """The user's browser opens a Connect Link and, with a decision, answers the sandbox consent
    page: where it lands (the app's callback URL), or the page it shows."""
    browser = Browser()
    if decision is None:
        walked = browser.walk(url)
    else:
        status, headers, _, _ = browser.request(url)
        assert status in (302, 303, 307), f"the link sends the browser to the provider, not {status}"
        parts = urllib.parse.urlsplit(headers["location"])
        form = dict(urllib.parse.parse_qsl(parts.query), user="octocat", decision=decision)
        walked = browser.walk(f"{parts.scheme}://{parts.netloc}{parts.path}", form=form)
    if walked[0] == "stopped":
        return {"landed": walked[1], "query": query(walked[1])}
    return {"status": walked[2], "body": walked[3]}


def as_page(broker, step):
    """What a browser page holding a client token gets from the broker."""
    body = step.get("body")
    req = urllib.request.Request(f"{broker.base_url}{step['path']}", method=step["method"],
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"authorization": f"Bearer {step['token']}", "content-type": "application/json"})
    try:
        with urllib.request.urlopen(req) as resp:
            status, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return {"status": status, "body": json.loads(text)}
    except ValueError:
        return {"status": status, "body": text}


async def run_story(story, broker, flavor):
    await run_steps(Story(broker, flavor), story["steps"])


async def run_steps(s, steps):
    """Runs `steps` on the story `s`, checking each one's expectations."""
    for i, raw in enumerate(steps, 1):
        at = f"step {i} ({raw['do']})"
        step = s.resolve({k: v for k, v in raw.items() if k not in ("expect", "expect_error")})
        if "background" in step and step["do"] not in ("join", "still_running"):
            s.background[step["background"]] = asyncio.ensure_future(s.run(step))
            continue
        started = time.monotonic()
        kind, got = await (s.run(step) if step["do"] != "join" else s.do(step))
        took_ms = (time.monotonic() - started) * 1000
        if "took_less_than_ms" in step and took_ms >= step["took_less_than_ms"]:
            raise StoryFailed(f"{at}: took {took_ms:.0f} ms, expected less than {step['took_less_than_ms']}")
        if kind == "ok" and "expect_error" in raw:
            raise StoryFailed(f"{at}: expected the error {json.dumps(raw['expect_error'])}, got {json.dumps(got)}")
        if kind == "error" and "expect_error" not in raw:
            raise StoryFailed(f"{at}: failed with {json.dumps(got)}")
        if kind == "error":
            check(got, s.resolve(raw["expect_error"]), f"{at} error")
        else:
            if "expect" in raw:
                check(got, s.resolve(raw["expect"]), at)
            if "as" in step:
                s.values[step["as"]] = got


def broker_for(story, tmp_path):
    opts = story.get("broker", {})
    extra = ["--max-wait-secs", str(opts["max_wait_secs"])] if "max_wait_secs" in opts else []
    return Broker(tmp_path, link_ttl_secs=opts.get("link_ttl_secs", 600), extra_args=extra)


@pytest.mark.parametrize("flavor", ["sync", "async"])
@pytest.mark.parametrize("story", STORIES, ids=[s["name"] for s in STORIES])
def test_story(story, flavor, tmp_path):
    broker = broker_for(story, tmp_path)
    try:
        asyncio.run(run_story(story, broker, flavor))
    finally:
        broker.stop()


def test_a_broken_expectation_fails():
    got = {"status": "ACTIVE", "items": [{"slug": "sandbox"}], "text": "link expired"}
    check(got, {"status": "ACTIVE", "items": [{"slug": "sandbox"}]}, "x")
    for wrong in [{"status": "FAILED"}, {"items": []}, {"items": [{"slug": "github"}]}, {"text": {"$contains": "revoked"}},
                  {"missing": {"$prefix": "a"}}, {"status": {"$absent": True}}]:
        with pytest.raises(StoryFailed):
            check(got, wrong, "x")
