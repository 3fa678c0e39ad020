"""An app reconnects a user's account under the same id (`connected_accounts.refresh`) and
ends one for good (`connected_accounts.revoke`), blocking and with asyncio."""

import asyncio
import threading
import time

import pytest

from conftest import APP, Browser, query
from grantline import AsyncGrantline, Grantline, NotFoundError, RefreshedAccount, RevokedAccount, ValidationError


def client(broker):
    return Grantline(api_key=broker.api_key, base_url=broker.base_url)


def test_refresh_reconnects_the_same_account_while_the_app_waits(oidc_broker):
    gl = client(oidc_broker)
    session = gl.create(user_id="u_refresh", toolkits=["oidc"], manage_connections=False)
    req = session.authorize("oidc")
    Browser().oidc_sign_in(req.redirect_url, login="alice")
    assert req.wait_for_connection(timeout=30.0).status == "ACTIVE"

    refreshed = gl.connected_accounts.refresh(req.id, callback_url=f"{APP}/done?again=1")
    assert isinstance(refreshed, RefreshedAccount)
    assert (refreshed.id, refreshed.status) == (req.id, "ACTIVE")
    assert refreshed.redirect_url.startswith(f"{oidc_broker.base_url}/link/")
    pending = gl.connected_accounts.get(req.id)
    assert (pending.status, pending.reconnecting, pending.is_active) == ("ACTIVE", True, True)

    # The app waits on the account: the wait lasts until the user finishes the new link.
    result = {}
    waiter = threading.Thread(target=lambda: result.setdefault("account", gl.connected_accounts.wait_for_connection(req.id, timeout=60.0)))
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive()
    outcome = Browser().oidc_sign_in(refreshed.redirect_url, login="bob")
    assert outcome[0] == "stopped", outcome
    assert query(outcome[1]) == {"again": "1", "status": "success", "connected_account_id": req.id}
    waiter.join(timeout=30)
    account = result["account"]
    assert (account.id, account.status, account.reconnecting) == (req.id, "ACTIVE", False)
    assert session.execute("OIDC_GET_CURRENT_USER", {}).data["sub"] == "bob"


def test_refresh_names_a_callback_url_the_project_does_not_allow(broker):
    gl = client(broker)
    session = gl.create(user_id="u", toolkits=["sandbox"], manage_connections=False)
    req = session.authorize("sandbox")
    Browser().sandbox_consent(req.redirect_url)
    req.wait_for_connection(timeout=30.0)
    with pytest.raises(ValidationError) as err:
        gl.connected_accounts.refresh(req.id, callback_url="https://evil.example.net/done")
    assert err.value.field == "redirect_url"
    assert gl.connected_accounts.get(req.id).reconnecting is False, "a refused refresh changes nothing"
    with pytest.raises(ValidationError) as err:
        gl.connected_accounts.refresh("not-an-id")
    assert err.value.field == "connected_account_id"
    with pytest.raises(NotFoundError):
        gl.connected_accounts.revoke("ca_missing")


def test_revoke_ends_the_account_and_refresh_brings_it_back(broker):
    gl = client(broker)
    session = gl.create(user_id="u", toolkits=["sandbox"], manage_connections=False)
    req = session.authorize("sandbox")
    Browser().sandbox_consent(req.redirect_url)
    req.wait_for_connection(timeout=30.0)

    revoked = gl.connected_accounts.revoke(req.id)
    assert isinstance(revoked, RevokedAccount)
    assert (revoked.id, revoked.status, revoked.provider_revocation) == (req.id, "REVOKED", "revoked")
    assert set(revoked.revoked_tokens) == {"refresh_token", "access_token"} and revoked.note is None
    again = gl.connected_accounts.revoke(req.id)
    assert (again.revoked_tokens, again.provider_revocation) == ([], "nothing_to_revoke")
    assert not session.execute("SANDBOX_GET_CURRENT_USER", {}).successful

    refreshed = gl.connected_accounts.refresh(req.id)
    assert refreshed.status == "REVOKED"
    Browser().sandbox_consent(refreshed.redirect_url)
    account = gl.connected_accounts.wait_for_connection(req.id, timeout=30.0)
    assert (account.id, account.status, account.status_reason) == (req.id, "ACTIVE", None)
    assert session.execute("SANDBOX_GET_CURRENT_USER", {}).successful


async def test_async_refresh_and_revoke(broker):
    gl = AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url)
    session = await gl.create(user_id="u_async", toolkits=["sandbox"], manage_connections=False)
    req = await session.authorize("sandbox")
    await asyncio.to_thread(Browser().sandbox_consent, req.redirect_url)
    await req.wait_for_connection(timeout=30.0)

    refreshed = await gl.connected_accounts.refresh(req.id, callback_url=f"{APP}/done")
    assert (refreshed.id, refreshed.status) == (req.id, "ACTIVE")
    waiter = asyncio.ensure_future(gl.connected_accounts.wait_for_connection(req.id, timeout=60.0))
    await asyncio.sleep(0.3)
    assert not waiter.done()
    outcome = await asyncio.to_thread(Browser().sandbox_consent, refreshed.redirect_url)
    assert query(outcome[1])["status"] == "success"
    assert (await waiter).status == "ACTIVE"

    revoked = await gl.connected_accounts.revoke(req.id)
    assert (revoked.status, revoked.provider_revocation) == ("REVOKED", "revoked")
    with pytest.raises(ValidationError) as err:
        await gl.connected_accounts.refresh(req.id, callback_url="https://evil.example.net/")
    assert err.value.field == "redirect_url"
