// The app subscribes to its users' account events with `composio.webhooks.subscriptions`: lists
// the event types, sets (creates, then updates) its one subscription, reads, lists, updates,
// rotates its secret and deletes it, unchanged. Its receiver checks each delivery with the SDK's
// `composio.triggers.verifyWebhook`: Composio's own event type (an expired account) parses as a
// V3 payload; Grantline's `grantline.*` types pass the signature check and are then not a
// payload the SDK knows; a tampered body or a rotated-away secret fails the signature check.
// (tests/composio/python/test_webhooks.py checks the same deliveries with `standardwebhooks`.)
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { QUICK_WEBHOOKS, client, completeLink, composioFor, core, startBroker, startWebhookReceiver, story } from './helpers.mjs'

const EXPIRED = 'composio.connected_account.expired'
const GRANTLINE_EVENTS = ['active', 'failed', 'expired', 'revoked', 'deleted', 'token_refreshed', 'reconnected']
  .map((e) => `grantline.connected_account.${e}`)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Failed deliveries are retried after a fifth of a second; the receiver is the Node SDK suite's.
const startFastBroker = (options) => startBroker({ ...options, extraArgs: QUICK_WEBHOOKS })
const startReceiver = () => startWebhookReceiver('/webhooks/composio')

/** What the app's handler does with the SDK. */
function verify(composio, delivery, secret, payload = delivery.body) {
  return composio.triggers.verifyWebhook({
    id: delivery.headers['webhook-id'],
    payload,
    secret,
    signature: delivery.headers['webhook-signature'],
    timestamp: delivery.headers['webhook-timestamp'],
  })
}

/** The signature check passes, and the SDK then finds no payload it knows in a grantline.* event. */
async function assertSignedButNotATrigger(composio, delivery, secret) {
  await assert.rejects(verify(composio, delivery, secret), (err) => {
    assert.ok(err instanceof core.ComposioWebhookPayloadError, `${err.name}: ${err.message}`)
    return true
  })
}

async function assertSignatureRefused(composio, delivery, secret, payload) {
  await assert.rejects(verify(composio, delivery, secret, payload), (err) => {
    assert.ok(err instanceof core.ComposioWebhookSignatureVerificationError, `${err.name}: ${err.message}`)
    return true
  })
}

/** A new INITIATED sandbox account (a Connect Link nobody opens); its id. */
async function initiated(composio, userId) {
  const session = await composio.create(userId, { toolkits: ['sandbox'], manageConnections: false })
  return (await session.authorize('sandbox')).id
}

describe('webhooks', () => {
  let broker, shortLinks, receiver
  before(async () => {
    broker = await startFastBroker()
    shortLinks = await startFastBroker({ linkTtlSecs: 2 })
    receiver = await startReceiver()
  })
  after(async () => {
    broker?.stop()
    shortLinks?.stop()
    await receiver?.stop()
  })

  test('the subscription is managed with the SDK', story(async () => {
    const composio = composioFor(broker)
    const subs = composio.webhooks.subscriptions

    const { items: types } = await subs.listEventTypes()
    assert.deepEqual(types.map((t) => t.eventType).sort(), [EXPIRED, ...GRANTLINE_EVENTS].sort())
    for (const t of types) assert.ok(t.description && t.supportedVersions.includes('V3'), JSON.stringify(t))

    assert.deepEqual((await subs.list()).items, [])
    const created = await subs.set({ webhookUrl: 'http://127.0.0.1:9/first', enabledEvents: [EXPIRED] })
    assert.ok(created.id)
    assert.match(created.secret, /^whsec_/)
    assert.deepEqual([created.webhookUrl, created.version, created.enabledEvents], ['http://127.0.0.1:9/first', 'V3', [EXPIRED]])

    // A second `set` updates the same subscription (the SDK's upsert: list, then update).
    const again = await subs.set({ webhookUrl: 'http://127.0.0.1:9/second', enabledEvents: [EXPIRED, GRANTLINE_EVENTS[0]] })
    assert.equal(again.id, created.id)
    assert.equal(again.secret, created.secret)
    assert.deepEqual([again.webhookUrl, again.enabledEvents], ['http://127.0.0.1:9/second', [EXPIRED, GRANTLINE_EVENTS[0]]])

    const got = await subs.get(created.id)
    assert.deepEqual([got.id, got.webhookUrl, got.version, got.secret, got.enabledEvents],
      [created.id, 'http://127.0.0.1:9/second', 'V3', created.secret, [EXPIRED, GRANTLINE_EVENTS[0]]])
    const page = await subs.list()
    assert.deepEqual(page.items.map((s) => s.id), [created.id])
    assert.equal(page.totalItems, 1)

    // `update` changes only what it is given.
    const updated = await subs.update(created.id, { enabledEvents: GRANTLINE_EVENTS })
    assert.deepEqual([updated.webhookUrl, updated.enabledEvents], ['http://127.0.0.1:9/second', GRANTLINE_EVENTS])
    const moved = await subs.update(created.id, { webhookUrl: 'http://127.0.0.1:9/third' })
    assert.deepEqual([moved.webhookUrl, moved.enabledEvents], ['http://127.0.0.1:9/third', GRANTLINE_EVENTS])

    const rotated = await subs.rotateSecret(created.id)
    assert.equal(rotated.id, created.id)
    assert.match(rotated.secret, /^whsec_/)
    assert.notEqual(rotated.secret, created.secret)
    assert.equal((await subs.get(created.id)).secret, rotated.secret)

    assert.deepEqual(await subs.delete(created.id), { success: true })
    await assert.rejects(subs.get(created.id), client.NotFoundError)
    assert.deepEqual((await subs.list()).items, [])
  }))

  test('refusals name the field and create nothing', story(async () => {
    const subs = composioFor(broker).webhooks.subscriptions
    // The SDK's default events are trigger messages: Grantline has no triggers.
    await assert.rejects(subs.set({ webhookUrl: 'http://127.0.0.1:9/hook' }), (err) => {
      assert.ok(err instanceof client.BadRequestError, `${err.name}: ${err.message}`)
      assert.equal(err.status, 400)
      assert.equal(err.error?.error?.field, 'enabled_events[0]', JSON.stringify(err.error))
      return true
    })
    await assert.rejects(subs.set({ webhookUrl: 'http://127.0.0.1:9/hook', enabledEvents: [EXPIRED], version: 'V1' }), (err) => {
      assert.ok(err instanceof client.BadRequestError, `${err.name}: ${err.message}`)
      assert.equal(err.status, 400)
      assert.equal(err.error?.error?.field, 'version', JSON.stringify(err.error))
      return true
    })
    assert.deepEqual((await subs.list()).items, [])
  }))

  test('deliveries verify with the SDK; a tampered body or an old secret does not', story(async () => {
    const composio = composioFor(shortLinks)
    const subs = composio.webhooks.subscriptions
    const subscription = await subs.set({ webhookUrl: receiver.url, enabledEvents: ['grantline.connected_account.active', 'grantline.connected_account.deleted', EXPIRED] })

    // Alice connects; Bob's link is left unopened until it runs out (2 s).
    const bob = await initiated(composio, 'bob_app_id')
    const bobsLinkRunsOut = Date.now() + 2200
    const session = await composio.create('alice_app_id', { toolkits: ['sandbox'], manageConnections: false })
    const request = await session.authorize('sandbox')
    await completeLink(request.redirectUrl, 'sandbox')
    assert.equal((await request.waitForConnection(30000)).status, 'ACTIVE')
    await sleep(bobsLinkRunsOut - Date.now())
    assert.equal((await composio.connectedAccounts.get(bob)).status, 'EXPIRED')

    await receiver.waitFor('active and expired', (got) => got.length >= 2)
    await sleep(300) // anything extra would arrive by now
    assert.deepEqual(receiver.got.map((g) => JSON.parse(g.body).type).sort(), [EXPIRED, 'grantline.connected_account.active'].sort())

    // Composio's event for an expired account parses as the SDK's V3 payload and as its
    // connection-expired event.
    const [expired] = receiver.ofType(EXPIRED)
    const result = await verify(composio, expired, subscription.secret)
    assert.equal(result.version, 'V3')
    assert.equal(result.rawPayload.id, expired.headers['webhook-id'])
    assert.equal(result.payload.triggerSlug, EXPIRED)
    const event = core.ConnectionExpiredEventSchema.safeParse(JSON.parse(expired.body))
    assert.ok(event.success, JSON.stringify(event.error?.issues))
    assert.deepEqual([event.data.data.id, event.data.data.user_id, event.data.data.toolkit.slug, event.data.data.status],
      [bob, 'bob_app_id', 'sandbox', 'EXPIRED'])
    assert.ok(event.data.metadata.project_id && event.data.metadata.org_id)

    // Grantline's own type: signed for the SDK, not a payload it parses.
    const [active] = receiver.ofType('grantline.connected_account.active')
    assert.equal(JSON.parse(active.body).data.id, request.id)
    await assertSignedButNotATrigger(composio, active, subscription.secret)

    // A tampered body fails the signature check.
    for (const delivery of [expired, active]) {
      const tampered = delivery.body.replace('"status"', '"Status"')
      assert.notEqual(tampered, delivery.body)
      await assertSignatureRefused(composio, delivery, subscription.secret, tampered)
    }

    // After a rotation, a later delivery verifies with the new secret and not the old one.
    const { secret } = await subs.rotateSecret(subscription.id)
    assert.notEqual(secret, subscription.secret)
    const carol = await initiated(composio, 'carol_app_id')
    await composio.connectedAccounts.delete(carol)
    await receiver.waitFor("carol's deleted", () => receiver.ofType('grantline.connected_account.deleted').length === 1)
    const [later] = receiver.ofType('grantline.connected_account.deleted')
    assert.equal(JSON.parse(later.body).data.id, carol)
    await assertSignedButNotATrigger(composio, later, secret)
    await assertSignatureRefused(composio, later, subscription.secret)
  }))
})
