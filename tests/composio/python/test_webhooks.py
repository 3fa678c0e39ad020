"""The app subscribes to its users' account events with `composio.webhooks.subscriptions`: lists
the event types, sets (creates, then updates) its one subscription, reads, lists, updates,
rotates its secret and deletes it, unchanged. A receiver of its own gets a signed POST when an
account connects or an unopened link expires, and checks each one exactly as it would check
Composio's: with the `standardwebhooks` library and with the SDK's
`composio.triggers.verify_webhook`. The broker signs every delivery twice (Standard Webhooks
keys with the base64-decoded `whsec_` secret, Composio's SDK with the secret string's bytes), so
both verifiers accept it; a tampered body or a rotated-away secret fails both.

The broker retries failed deliveries fast here (`QUICK_WEBHOOKS`); the receiver is the Python
SDK suite's (`bindings-py/tests/conftest.py`)."""

from __future__ import annotations

import json
import time

import pytest
import standardwebhooks
from composio.core.models.webhook_events import is_connection_expired_event
from composio.exceptions import WebhookPayloadError, WebhookSignatureVerificationError
from composio_client import BadRequestError, NotFoundError

from conftest import QUICK_WEBHOOKS, Broker, WebhookReceiver, complete_link, composio_for

EXPIRED = "composio.connected_account.expired"
GRANTLINE_EVENTS = [f"grantline.connected_account.{e}" for e in
                    ("active", "failed", "expired", "revoked", "deleted", "token_refreshed", "reconnected")]


@pytest.fixture
def receiver():
    r = WebhookReceiver("/webhooks/composio")
    yield r
    r.stop()


@pytest.fixture
def webhook_broker(tmp_path):
    """A --dev broker that retries failed deliveries after a fifth of a second."""
    b = Broker(tmp_path, extra_args=QUICK_WEBHOOKS)
    yield b
    b.stop()


@pytest.fixture
def short_links_webhook_broker(tmp_path):
    """The same, with Connect Links that live 2 seconds."""
    b = Broker(tmp_path, extra_args=QUICK_WEBHOOKS, link_ttl_secs=2)
    yield b
    b.stop()


def sdk_verify(composio, delivery: dict, secret: str, body: bytes | None = None):
    """What the app's handler does with Composio's SDK."""
    h = delivery["headers"]
    return composio.triggers.verify_webhook(
        id=h["webhook-id"], payload=(delivery["body"] if body is None else body).decode(), secret=secret,
        signature=h["webhook-signature"], timestamp=h["webhook-timestamp"])


def standard_verify(delivery: dict, secret: str, body: bytes | None = None):
    """What the app's handler does with the Standard Webhooks library."""
    return standardwebhooks.Webhook(secret).verify(delivery["body"] if body is None else body, delivery["headers"])


def assert_verifies(composio, delivery: dict, secret: str):
    """The delivery verifies with both libraries, as what each makes of its type; returns the
    payload."""
    payload = standard_verify(delivery, secret)
    assert payload == json.loads(delivery["body"])
    if payload["type"].startswith("composio."):
        result = sdk_verify(composio, delivery, secret)
        assert result["version"] == "V3"
        assert result["raw_payload"] == payload
    else:
        # The signature check passes; the SDK then finds no trigger in a grantline.* payload.
        with pytest.raises(WebhookPayloadError):
            sdk_verify(composio, delivery, secret)
    return payload


def assert_refused_by_both(composio, delivery: dict, secret: str, body: bytes | None = None):
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standard_verify(delivery, secret, body)
    with pytest.raises(WebhookSignatureVerificationError):
        sdk_verify(composio, delivery, secret, body)


def initiated(composio, user_id: str) -> str:
    """A new INITIATED sandbox account (a Connect Link nobody opens); its id."""
    session = composio.create(user_id=user_id, toolkits=["sandbox"], manage_connections=False)
    return session.authorize("sandbox").id


def test_the_subscription_is_managed_with_the_sdk(broker):
    composio = composio_for(broker)
    subs = composio.webhooks.subscriptions

    types = subs.list_event_types()
    listed = {t.event_type: t for t in types.items}
    assert set(listed) == {EXPIRED, *GRANTLINE_EVENTS}
    assert all(t.description for t in listed.values())
    assert "V3" in listed[EXPIRED].supported_versions

    assert subs.list().items == []
    created = subs.set(webhook_url="http://127.0.0.1:9/first", enabled_events=[EXPIRED])
    assert created["id"] and created["secret"].startswith("whsec_")
    assert (created["webhook_url"], created["version"], created["enabled_events"]) == \
        ("http://127.0.0.1:9/first", "V3", [EXPIRED])

    # A second `set` updates the same subscription (the SDK's upsert: list, then update).
    again = subs.set(webhook_url="http://127.0.0.1:9/second", enabled_events=[EXPIRED, GRANTLINE_EVENTS[0]])
    assert again["id"] == created["id"] and again["secret"] == created["secret"]
    assert (again["webhook_url"], again["enabled_events"]) == ("http://127.0.0.1:9/second", [EXPIRED, GRANTLINE_EVENTS[0]])

    got = subs.get(created["id"])
    assert (got.id, got.webhook_url, got.version, got.secret) == (created["id"], "http://127.0.0.1:9/second", "V3", created["secret"])
    assert list(got.enabled_events) == [EXPIRED, GRANTLINE_EVENTS[0]]
    page = subs.list()
    assert [s.id for s in page.items] == [created["id"]] and page.total_items == 1

    # `update` changes only what it is given.
    updated = subs.update(created["id"], enabled_events=GRANTLINE_EVENTS)
    assert list(updated.enabled_events) == GRANTLINE_EVENTS and updated.webhook_url == "http://127.0.0.1:9/second"
    moved = subs.update(created["id"], webhook_url="http://127.0.0.1:9/third")
    assert moved.webhook_url == "http://127.0.0.1:9/third" and list(moved.enabled_events) == GRANTLINE_EVENTS

    rotated = subs.rotate_secret(created["id"])
    assert rotated.id == created["id"] and rotated.secret.startswith("whsec_") and rotated.secret != created["secret"]
    assert subs.get(created["id"]).secret == rotated.secret

    assert subs.delete(created["id"]).success
    with pytest.raises(NotFoundError):
        subs.get(created["id"])
    assert subs.list().items == []


def test_refusals_name_the_field_and_create_nothing(broker):
    composio = composio_for(broker)
    subs = composio.webhooks.subscriptions
    # The SDK's default events are trigger messages: Grantline has no triggers.
    with pytest.raises(BadRequestError) as err:
        subs.set(webhook_url="http://127.0.0.1:9/hook")
    assert err.value.status_code == 400
    assert err.value.body["error"]["field"] == "enabled_events[0]", err.value.body
    assert "enabled_events[0]" in str(err.value)

    with pytest.raises(BadRequestError) as err:
        subs.set(webhook_url="http://127.0.0.1:9/hook", enabled_events=[EXPIRED], version="V1")
    assert err.value.status_code == 400
    assert err.value.body["error"]["field"] == "version", err.value.body
    assert "version" in str(err.value)

    assert subs.list().items == []


def test_deliveries_verify_with_standard_webhooks_and_with_the_sdk(short_links_webhook_broker, receiver):
    composio = composio_for(short_links_webhook_broker)
    subscription = composio.webhooks.subscriptions.set(
        webhook_url=receiver.url, enabled_events=["grantline.connected_account.active", "grantline.connected_account.expired", EXPIRED])
    secret = subscription["secret"]

    # Alice connects; Bob's link is left unopened until it runs out (2 s).
    bob = initiated(composio, "bob_app_id")
    bobs_link_runs_out = time.monotonic() + 2.2
    session = composio.create(user_id="alice_app_id", toolkits=["sandbox"], manage_connections=False)
    request = session.authorize("sandbox")
    complete_link(request.redirect_url, "sandbox")
    assert request.wait_for_connection(timeout=30).status == "ACTIVE"
    time.sleep(max(0.0, bobs_link_runs_out - time.monotonic()))
    assert composio.connected_accounts.get(bob).status == "EXPIRED"

    got = receiver.wait_for("active, expired and composio's expired", lambda got: len(got) >= 3)
    time.sleep(0.3)  # anything extra would arrive by now
    got = receiver.deliveries()
    types = sorted(json.loads(g["body"])["type"] for g in got)
    assert types == sorted([EXPIRED, "grantline.connected_account.active", "grantline.connected_account.expired"]), types

    project = None
    for delivery in got:
        payload = assert_verifies(composio, delivery, secret)
        assert delivery["path"] == "/webhooks/composio"
        assert delivery["headers"]["content-type"].startswith("application/json")
        assert payload["id"] == delivery["headers"]["webhook-id"] and payload["id"].startswith("msg_")
        assert payload["event_id"].startswith("ev_")
        assert payload["timestamp"] and payload["data"]["sequence"] >= 1
        assert payload["metadata"]["project_id"] and payload["metadata"]["org_id"]
        project = project or payload["metadata"]["project_id"]
        assert payload["metadata"]["project_id"] == project
        # A tampered body fails both verifiers.
        tampered = delivery["body"].replace(b'"status"', b'"Status"', 1)
        assert tampered != delivery["body"]
        assert_refused_by_both(composio, delivery, secret, tampered)

    [active] = receiver.of_type("grantline.connected_account.active")
    active = json.loads(active["body"])
    assert (active["data"]["id"], active["data"]["status"], active["data"]["user_id"]) == (request.id, "ACTIVE", "alice_app_id")
    assert active["data"]["toolkit"]["slug"] == "sandbox"
    assert "access_token" not in json.dumps(active)

    # Composio's event for an expired account, as the SDK reads it.
    [composio_expired] = receiver.of_type(EXPIRED)
    result = sdk_verify(composio, composio_expired, secret)
    assert result["version"] == "V3"
    payload = result["raw_payload"]
    assert is_connection_expired_event(payload)
    assert payload["data"]["id"] == bob
    assert payload["data"]["toolkit"]["slug"] == "sandbox"
    assert payload["data"]["user_id"] == "bob_app_id"
    assert payload["data"]["status"] == "EXPIRED"
    # ... the same event as Grantline's own name for it, as its own message.
    [grantline_expired] = receiver.of_type("grantline.connected_account.expired")
    grantline_expired = json.loads(grantline_expired["body"])
    assert grantline_expired["data"] == payload["data"]
    assert grantline_expired["id"] != payload["id"]


def test_after_rotate_secret_deliveries_verify_with_the_new_secret_only(webhook_broker, receiver):
    composio = composio_for(webhook_broker)
    subs = composio.webhooks.subscriptions
    subscription = subs.set(webhook_url=receiver.url, enabled_events=["grantline.connected_account.deleted"])
    old = subscription["secret"]

    first = initiated(composio, "erin_app_id")
    assert composio.connected_accounts.delete(first).success
    [before] = receiver.wait_for("the first event", lambda got: len(got) == 1)
    assert_verifies(composio, before, old)

    new = subs.rotate_secret(subscription["id"]).secret
    assert new != old
    second = initiated(composio, "erin_app_id")
    assert composio.connected_accounts.delete(second).success
    after = receiver.wait_for("the second event", lambda got: len(got) == 2)[1]
    assert json.loads(after["body"])["data"]["id"] == second
    assert_verifies(composio, after, new)
    assert_refused_by_both(composio, after, old)
    # The earlier delivery was signed with the old secret only.
    assert_refused_by_both(composio, before, new)
