"""An app subscribes its webhook receiver to account events, hears of a deleted account, and
reads, retries and manages what the broker sent: `Grantline.webhooks` and its asyncio twin."""

import asyncio
import json
import time

import pytest

from grantline import (AsyncGrantline, Grantline, NotFoundError, RotatedWebhookSecret, ValidationError,
                       WebhookDelivery, WebhookSubscription)

DELETED = "grantline.connected_account.deleted"
REVOKED = "grantline.connected_account.revoked"


def eventually(read, done, timeout=30.0):
    """`read()` once `done` holds of it; fails with the last value after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"still {value!r}"
        time.sleep(0.05)


def test_an_app_hears_of_a_deleted_account_and_manages_its_subscription(webhook_broker, receiver):
    gl = Grantline(api_key=webhook_broker.api_key, base_url=webhook_broker.base_url)
    assert DELETED in [t.event_type for t in gl.webhooks.event_types()]
    sub = gl.webhooks.create(receiver.url, [DELETED])
    assert isinstance(sub, WebhookSubscription)
    assert sub.id.startswith("ws_") and sub.secret.startswith("whsec_")
    assert (sub.webhook_url, sub.enabled_events, sub.version) == (receiver.url, [DELETED], "V3")
    assert sub.secret not in repr(sub), "a repr never shows the signing secret"
    assert [s.id for s in gl.webhooks.list().items] == [sub.id]

    # A user starts connecting; the app deletes the account; the receiver hears of it.
    session = gl.create(user_id="hook-user", toolkits=["sandbox"], manage_connections=False)
    account = session.authorize("sandbox").id
    gl.connected_accounts.delete(account)
    [got] = receiver.wait_for("the deletion", lambda got: len(got) >= 1)
    event = json.loads(got["body"])
    assert got["headers"]["webhook-id"] == event["id"]
    assert (event["type"], event["data"]["id"]) == (DELETED, account)

    # The listing shows it delivered at the first attempt, under the id the receiver saw.
    page = eventually(lambda: gl.webhooks.deliveries(sub.id), lambda p: p.items and p.items[0].status == "DELIVERED")
    [delivery] = page.items
    assert isinstance(delivery, WebhookDelivery)
    assert (delivery.id, delivery.event_type, delivery.connected_account_id) == (event["id"], DELETED, account)
    assert [(a.attempt, a.status_code) for a in delivery.attempts] == [(1, 200)]

    # A manual retry sends the same message again.
    gl.webhooks.retry(sub.id, delivery.id)
    first, second = receiver.wait_for("the retry", lambda got: len(got) >= 2)
    assert second["headers"]["webhook-id"] == first["headers"]["webhook-id"] == delivery.id
    again = eventually(lambda: gl.webhooks.deliveries(sub.id, limit=1).items[0], lambda d: len(d.attempts) == 2)
    assert [a.status_code for a in again.attempts] == [200, 200]

    rotated = gl.webhooks.rotate_secret(sub.id)
    assert isinstance(rotated, RotatedWebhookSecret)
    assert rotated.id == sub.id and rotated.secret != sub.secret
    assert rotated.secret not in repr(rotated)
    assert gl.webhooks.get(sub.id).secret == rotated.secret

    updated = gl.webhooks.update(sub.id, enabled_events=[REVOKED, DELETED])
    assert (updated.enabled_events, updated.webhook_url) == ([REVOKED, DELETED], receiver.url)

    # The broker's rules, as the SDK's errors; a refused change changes nothing.
    with pytest.raises(ValidationError) as err:
        gl.webhooks.update(sub.id, enabled_events=["grantline.connected_account.nope"])
    assert err.value.field == "enabled_events[0]"
    with pytest.raises(ValidationError) as err:
        gl.webhooks.create(receiver.url, ["grantline.connected_account.nope"])
    assert err.value.field == "enabled_events[0]"
    assert gl.webhooks.get(sub.id).enabled_events == [REVOKED, DELETED]

    gl.webhooks.delete(sub.id)
    with pytest.raises(NotFoundError):
        gl.webhooks.get(sub.id)
    assert gl.webhooks.list().items == []


def test_the_async_client_manages_subscriptions_too(webhook_broker, receiver):
    async def story():
        gl = AsyncGrantline(api_key=webhook_broker.api_key, base_url=webhook_broker.base_url)
        sub = await gl.webhooks.create(receiver.url, [DELETED])
        assert [s.id for s in (await gl.webhooks.list(limit=10)).items] == [sub.id]
        assert DELETED in [t.event_type for t in await gl.webhooks.event_types()]
        updated = await gl.webhooks.update(sub.id, enabled_events=[REVOKED])
        assert updated.enabled_events == [REVOKED]
        rotated = await gl.webhooks.rotate_secret(sub.id)
        assert (await gl.webhooks.get(sub.id)).secret == rotated.secret != sub.secret
        assert (await gl.webhooks.deliveries(sub.id)).items == []
        with pytest.raises(ValidationError) as err:
            await gl.webhooks.create(receiver.url, ["nope"])
        assert err.value.field == "enabled_events[0]"
        await gl.webhooks.delete(sub.id)
        with pytest.raises(NotFoundError):
            await gl.webhooks.get(sub.id)

    asyncio.run(story())
