"""AsyncGrantline in asyncio's own terms: its methods are coroutines, many wait at once in one
loop, tasks and task groups run them, cancelling abandons the request. The stories themselves
run with AsyncGrantline too (test_scenarios.py)."""

import asyncio
import inspect
import sys
import time

import pytest

from conftest import Browser
from grantline import AsyncGrantline


async def test_many_coroutines_wait_at_once(broker):
    gl = AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url)
    session = await gl.create(user_id="u", toolkits=["sandbox"], manage_connections=False)
    reqs = [await session.authorize("sandbox") for _ in range(5)]
    waits = asyncio.gather(*(r.wait_for_connection(timeout=60.0) for r in reqs))
    for r in reqs:
        await asyncio.to_thread(Browser().sandbox_consent, r.redirect_url)
    accounts = await waits
    assert sorted(a.id for a in accounts) == sorted(r.id for r in reqs)
    assert all(a.status == "ACTIVE" for a in accounts)


async def test_tasks_run_the_client_s_coroutines(broker):
    gl = AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url)
    session = await asyncio.create_task(gl.create(user_id="u", toolkits=["sandbox"], manage_connections=False))
    req = await asyncio.create_task(session.authorize("sandbox"))
    waiter = asyncio.create_task(req.wait_for_connection(timeout=60.0))

    await asyncio.to_thread(Browser().sandbox_consent, req.redirect_url)
    account = await waiter
    assert (account.id, account.status) == (req.id, "ACTIVE")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.TaskGroup is Python 3.11+")
async def test_a_task_group_authorizes_and_waits_for_several_accounts(broker):
    gl = AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url)
    session = await gl.create(user_id="u", toolkits=["sandbox"], manage_connections=False)
    async with asyncio.TaskGroup() as tg:
        started = [tg.create_task(session.authorize("sandbox")) for _ in range(3)]
    reqs = [t.result() for t in started]

    async with asyncio.TaskGroup() as tg:
        waits = [tg.create_task(r.wait_for_connection(timeout=60.0)) for r in reqs]
        for r in reqs:
            await asyncio.to_thread(Browser().sandbox_consent, r.redirect_url)
    accounts = [w.result() for w in waits]
    assert [a.id for a in accounts] == [r.id for r in reqs]
    assert all(a.status == "ACTIVE" for a in accounts)


async def test_wait_for_gives_up_promptly_and_the_wait_can_be_resumed(broker):
    gl = AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url)
    session = await gl.create(user_id="u", toolkits=["sandbox"], manage_connections=False)
    req = await session.authorize("sandbox")
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(req.wait_for_connection(timeout=60.0), 0.3)
    assert time.monotonic() - started < 5

    await asyncio.to_thread(Browser().sandbox_consent, req.redirect_url)
    account = await asyncio.wait_for(req.wait_for_connection(timeout=60.0), 30)
    assert account.status == "ACTIVE"


class HangingBroker:
    """A stand-in broker that never answers: it notes each request line and when the client hangs up."""

    def __init__(self):
        self.paths = []
        self.request_seen = asyncio.Event()
        self.hung_up = asyncio.Event()

    async def serve(self, reader, writer):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            self.paths.append(head.split(b" ")[1].decode())
            self.request_seen.set()
            while await reader.read(4096):
                pass
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        self.hung_up.set()
        writer.close()


@pytest.fixture
async def hanging_broker():
    broker = HangingBroker()
    server = await asyncio.start_server(broker.serve, "127.0.0.1", 0)
    broker.base_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield broker


async def test_cancelling_a_wait_abandons_its_http_request(hanging_broker):
    gl = AsyncGrantline(api_key="gl_x", base_url=hanging_broker.base_url)
    task = asyncio.create_task(gl.connected_accounts.wait_for_connection("ca_x", timeout=60.0))
    await asyncio.wait_for(hanging_broker.request_seen.wait(), 10)
    assert hanging_broker.paths[0].startswith("/api/v3.1/connected_accounts/ca_x/wait")

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(hanging_broker.hung_up.wait(), 2)


async def test_methods_return_coroutines(hanging_broker):
    gl = AsyncGrantline(api_key="gl_x", base_url=hanging_broker.base_url)
    coro = gl.use("trs_x")
    assert inspect.iscoroutine(coro)
    coro.close()


def test_a_coroutine_made_outside_any_loop_runs_under_asyncio_run(broker):
    gl = AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url)
    coro = gl.create(user_id="u", toolkits=["sandbox"], manage_connections=False)
    assert inspect.iscoroutine(coro)
    session = asyncio.run(coro)
    assert session.session_id.startswith("trs_")


async def test_every_call_of_the_asyncio_client_is_a_coroutine_that_sends_nothing_until_awaited(broker):
    gl = AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url)
    session = await gl.create(user_id="u", toolkits=["sandbox"], manage_connections=False)
    req = await session.authorize("sandbox")
    values = {"id": req.id, "toolkit": "sandbox", "session_id": session.session_id, "enabled_events": ["x"]}
    assert repr(gl) == f'AsyncGrantline(base_url="{gl.base_url}")'
    assert repr(session) == f'AsyncSession(session_id="{session.session_id}", user_id="u")'
    assert repr(req) == f'AsyncConnectionRequest(id="{req.id}")'

    called = []
    for obj in (gl, gl.connected_accounts, gl.webhooks, session, req):
        for name in dir(obj):
            method = getattr(obj, name)
            if name.startswith("_") or not callable(method):
                continue
            params = inspect.signature(method).parameters.values()
            args = [values.get(p.name, "x") for p in params if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
            coro = method(*args)
            assert inspect.iscoroutine(coro), f"{type(obj).__name__}.{name}"
            coro.close()
            called.append(f"{type(obj).__name__}.{name}")

    assert "AsyncConnectedAccounts.delete" in called and "AsyncSession.create_mcp_credential" in called
    # Closed unawaited, `delete`, `disable`, `revoke` and `create_mcp_credential` did nothing.
    account = await gl.connected_accounts.get(req.id)
    assert (account.status, account.is_disabled) == ("INITIATED", False)
    assert await session.mcp_credentials() == []
