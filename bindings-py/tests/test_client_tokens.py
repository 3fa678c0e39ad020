"""The app's backend mints a client token for a browser widget; the page can use it for this
session only, and never holds the project API key."""

import asyncio
import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest

from grantline import AsyncGrantline, ClientToken, Grantline, NotFoundError, ValidationError


def as_page(broker, token, route, *, method="GET", body=None):
    """What the browser would send: the token as a bearer credential, no API key."""
    req = urllib.request.Request(
        f"{broker.base_url}/api/v3.1{route}",
        method=method,
        data=body and json.dumps(body).encode(),
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_a_client_token_works_for_its_session_only_until_revoked_or_expired(broker):
    gl = Grantline(api_key=broker.api_key, base_url=broker.base_url)
    session = gl.create(user_id="web-user", toolkits=["sandbox"])

    minted = session.client_token()
    assert isinstance(minted, ClientToken)
    assert minted.id.startswith("ct_") and minted.token.startswith("glct_")
    assert minted.session_id == session.session_id
    expires = datetime.fromisoformat(minted.expires_at.replace("Z", "+00:00"))
    assert 14 * 60 < (expires - datetime.now(timezone.utc)).total_seconds() <= 15 * 60
    assert minted.token not in repr(minted)

    status, body = as_page(broker, minted.token, "/client_token/session")
    assert (status, body["session_id"]) == (200, session.session_id)
    status, body = as_page(broker, minted.token, f"/tool_router/session/{session.session_id}/toolkits")
    assert status == 200 and body["items"][0]["slug"] == "sandbox"
    status, body = as_page(broker, minted.token, "/tool_router/session", method="POST", body={"user_id": "x"})
    assert status == 403, "a client token cannot create sessions"

    session.revoke_client_token(minted.id)
    status, body = as_page(broker, minted.token, "/client_token/session")
    assert status == 401 and "revoked" in body["error"]["message"]
    with pytest.raises(NotFoundError):
        session.revoke_client_token(minted.id)

    short = session.client_token(ttl_seconds=1)
    time.sleep(1.2)
    status, body = as_page(broker, short.token, "/client_token/session")
    assert status == 401 and "expired" in body["error"]["message"]


def test_a_bad_lifetime_names_the_field(broker):
    session = Grantline(api_key=broker.api_key, base_url=broker.base_url).create(user_id="u", toolkits=["sandbox"])
    with pytest.raises(ValidationError) as err:
        session.client_token(ttl_seconds=0)
    assert err.value.field == "ttl_seconds"


def test_the_async_session_mints_and_revokes_too(broker):
    async def story():
        gl = AsyncGrantline(api_key=broker.api_key, base_url=broker.base_url)
        session = await gl.create(user_id="web-async", toolkits=["sandbox"])
        minted = await session.client_token(ttl_seconds=60)
        assert as_page(broker, minted.token, "/client_token/session")[0] == 200
        await session.revoke_client_token(minted.id)
        return as_page(broker, minted.token, "/client_token/session")[0]

    assert asyncio.run(story()) == 401
