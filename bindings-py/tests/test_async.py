"""The same story with asyncio: AsyncGrantline's methods are coroutines."""

import asyncio

import pytest

from conftest import APP, Browser, query
from grantline import (AsyncGrantline, ConnectionRequestFailedError, ConnectionRequestTimeoutError,
                       NotFoundError)


async def test_user_connects_while_a_coroutine_waits(oidc_broker):
    gl = AsyncGrantline(api_key=oidc_broker.api_key, base_url=oidc_broker.base_url)
    session = await gl.create(user_id="user_async", toolkits=["oidc"], manage_connections=False)
    req = await session.authorize("oidc", callback_url=f"{APP}/done")
    waiter = asyncio.ensure_future(req.wait_for_connection(timeout=60.0))
    await asyncio.sleep(0.3)
    assert not waiter.done()

    outcome = await asyncio.to_thread(Browser().oidc_sign_in, req.redirect_url)
    assert query(outcome[1])["status"] == "success"
    account = await waiter
    assert (account.id, account.status) == (req.id, "ACTIVE")
    page = await session.toolkits(is_connected=True)
    assert [t.slug for t in page.items] == ["oidc"]
    assert (await gl.connected_accounts.get(req.id)).is_active
    await gl.connected_accounts.disable(req.id)
    assert (await gl.connected_accounts.get(req.id)).is_disabled


async def test_async_failures_raise_the_same_exceptions(oidc_broker):
    gl = AsyncGrantline(api_key=oidc_broker.api_key, base_url=oidc_broker.base_url)
    session = await gl.create(user_id="u", toolkits=["oidc"], manage_connections=False)
    req = await session.authorize("oidc", callback_url=f"{APP}/done")
    with pytest.raises(ConnectionRequestTimeoutError):
        await req.wait_for_connection(timeout=0.3)
    await asyncio.to_thread(Browser().oidc_sign_in, req.redirect_url, consent="/abort")
    with pytest.raises(ConnectionRequestFailedError) as err:
        await req.wait_for_connection(timeout=30.0)
    assert err.value.status == "FAILED"
    with pytest.raises(NotFoundError):
        await session.authorize("nosuchkit")


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
