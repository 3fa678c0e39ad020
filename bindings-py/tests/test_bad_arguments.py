"""The SDKs' bad-argument matrix of tests/scenarios/bad_arguments.json, run through the Python SDK
with `Grantline` and with `AsyncGrantline`: each case is a typed error naming the argument in
Python's spelling, and changes nothing. The Rust (server/tests/scenarios.rs) and Node
(bindings-node/test/scenarios.test.js) runners run the same matrix; tests/scenarios/README.md
states its rules."""

import asyncio
import json
import os

import pytest

from conftest import REPO
from grantline import AsyncGrantline, Grantline
from test_scenarios import Story, StoryFailed, broker_for, check, run_steps

MATRIX = json.loads((REPO / "tests" / "scenarios" / "bad_arguments.json").read_text())
HOST = "python"


def spell(name):
    """An argument's name (snake_case, as the data writes it) in Python's spelling: a duration
    `…_ms` in milliseconds is Python's `…` in seconds."""
    return name[: -len("_ms")] if name.endswith("_ms") else name


def build(v):
    """A value as the data writes it, with the builders `{"$loop": obj}` (obj with a key `self`
    holding obj itself), `{"$deep": n}` (n objects nested under `a`), `{"$not_json": true}` (a
    value JSON cannot hold: an `object()`) and `{"$nan": true}`."""
    if isinstance(v, dict) and "$loop" in v:
        looped = {k: build(i) for k, i in v["$loop"].items()}
        looped["self"] = looped
        return looped
    if isinstance(v, dict) and "$deep" in v:
        deep = {}
        for _ in range(v["$deep"]):
            deep = {"a": deep}
        return deep
    if isinstance(v, dict) and "$not_json" in v:
        return object()
    if isinstance(v, dict) and "$nan" in v:
        return float("nan")
    if isinstance(v, dict):
        return {k: build(i) for k, i in v.items()}
    if isinstance(v, list):
        return [build(i) for i in v]
    return v


async def bad_call(s, case):
    """The case's SDK call, its options as keyword arguments."""
    options = {spell(k): build(v) for k, v in {**case.get("options", {}), **case.get("options_as_written", {})}.items()}
    verb = case["do"]
    if verb == "create_session":
        return await s.call(s.gl.create, case["user_id"], **options)
    if verb == "use_session":
        return await s.call(s.gl.use, case["session_id"])
    if verb == "list_accounts":
        return await s.call(s.gl.connected_accounts.list, **options)
    if verb == "get_account":
        return await s.call(s.gl.connected_accounts.get, case["id"])
    if verb == "list_webhooks":
        return await s.call(s.gl.webhooks.list, **options)
    if verb == "list_toolkits":
        return await s.call(s.session(case).toolkits, **options)
    if verb == "search":
        return await s.call(s.session(case).search, case["query"], **options)
    if verb == "client_token":
        return await s.call(s.session(case).client_token, **options)
    if verb == "create_mcp_credential":
        return await s.call(s.session(case).create_mcp_credential, **options)
    if verb == "authorize":
        return await s.call(s.session(case).authorize, case["toolkit"], **options)
    if verb == "wait_for_connection":
        return await s.call(s.requests[case["request"]].wait_for_connection, case["timeout_ms"] / 1000)
    if verb == "proxy_execute":
        return await s.call(s.session(case).proxy_execute, case["endpoint"], **options)
    if verb == "execute":
        return await s.call(s.session(case).execute, case["tool"], build(case["arguments"]), **options)
    if verb == "execute_meta":
        return await s.call(s.session(case).execute_meta, case["tool"], build(case["arguments"]))
    if verb == "update_project":
        return await s.call(s.gl.update_project, **options)
    if verb == "new_client":
        cls = Grantline if s.flavor == "sync" else AsyncGrantline
        saved = os.environ.pop("GRANTLINE_API_KEY", None)
        try:
            gl = cls(api_key=case["api_key"], base_url=s.broker.base_url)
        finally:
            if saved is not None:
                os.environ["GRANTLINE_API_KEY"] = saved
        return await s.call(gl.create, "u")
    raise AssertionError(f"unknown call {verb!r}")


def expected_error(case):
    """What the case's error must hold: its code (VALIDATION when it names a field) and the field
    in Python's spelling (unless `field_as_written`)."""
    out = {"code": case.get("code", "VALIDATION")}
    if "field" in case:
        field = case["field"]
        out["field"] = spell(field) if isinstance(field, str) and not case.get("field_as_written") else field
    if "message" in case:
        out["message"] = case["message"]
    return out


class MatrixStory(Story):
    async def do(self, step):
        if step["do"] == "bad_call":
            return await bad_call(self, step["case"])
        return await super().do(step)


async def run_matrix(s):
    await run_steps(s, MATRIX["setup"])
    _, before = await s.run(MATRIX["unchanged"])
    failures, ran = [], 0
    for case in MATRIX["cases"]:
        if HOST not in case.get("hosts", [HOST]):
            continue
        ran += 1
        at = case["name"]
        try:
            kind, got = await s.run({"do": "bad_call", "case": case})
            if kind == "ok":
                raise StoryFailed(f"{at}: expected an error, the call succeeded")
            check(got, expected_error(case), f"{at}: error")
            _, after = await s.run(MATRIX["unchanged"])
            check(after, before, f"{at}: changes nothing")
        except StoryFailed as e:
            failures.append(str(e))
        except Exception as e:  # noqa: BLE001 (anything but a GrantlineError is a failure too)
            failures.append(f"{at}: {type(e).__name__}: {e}")
    assert ran >= 20, f"the matrix ran {ran} cases"
    return failures


@pytest.mark.parametrize("flavor", ["sync", "async"])
def test_every_bad_argument_is_refused_by_name_and_changes_nothing(flavor, tmp_path):
    broker = broker_for(MATRIX, tmp_path)
    try:
        s = MatrixStory(broker, flavor)
        failures = asyncio.run(run_matrix(s))
    finally:
        broker.stop()
    assert not failures, "\n".join(failures)
