'use strict'
// An app subscribes its webhook receiver to account events, hears of a deleted account, and
// reads, retries and manages what the broker sent: `grantline.webhooks`.
const assert = require('node:assert/strict')
const { inspect } = require('node:util')
const { test } = require('node:test')

const { QUICK_WEBHOOKS, startBroker, startReceiver } = require('./helpers.js')
const { Grantline, NotFoundError, ValidationError, WebhookSubscription, RotatedWebhookSecret } = require('..')

const DELETED = 'grantline.connected_account.deleted'
const REVOKED = 'grantline.connected_account.revoked'

/** `read()` once `done` holds of it; fails with the last value after 30 s. */
async function eventually(read, done, what = 'the condition') {
  const deadline = Date.now() + 30000
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) assert.fail(`waiting for ${what}: still ${inspect(value, { depth: 5 })}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

test('an app hears of a deleted account and manages its subscription', async (t) => {
  const broker = await startBroker({ extraArgs: QUICK_WEBHOOKS })
  const receiver = await startReceiver()
  t.after(async () => { broker.stop(); await receiver.stop() })
  const gl = new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })

  assert.ok((await gl.webhooks.eventTypes()).some((e) => e.eventType === DELETED && e.supportedVersions.includes('V3')))
  const sub = await gl.webhooks.create(receiver.url, [DELETED])
  assert.ok(sub instanceof WebhookSubscription)
  assert.match(sub.id, /^ws_/)
  assert.match(sub.secret, /^whsec_/)
  assert.deepEqual([sub.webhookUrl, sub.enabledEvents, sub.version], [receiver.url, [DELETED], 'V3'])
  // The secret is read where deliveries are verified, never shown by logging the object.
  for (const shown of [inspect(sub), JSON.stringify(sub)]) {
    assert.ok(!shown.includes(sub.secret), `the secret is hidden: ${shown}`)
    assert.ok(shown.includes(sub.id))
  }
  assert.deepEqual((await gl.webhooks.list()).items.map((s) => s.id), [sub.id])

  // A user starts connecting; the app deletes the account; the receiver hears of it.
  const session = await gl.create('hook-user', { toolkits: ['sandbox'], manageConnections: false })
  const account = (await session.authorize('sandbox')).id
  await gl.connectedAccounts.delete(account)
  const [{ headers, body }] = await receiver.waitFor('the deletion', (got) => got.length >= 1)
  const event = JSON.parse(body)
  assert.equal(headers['webhook-id'], event.id)
  assert.deepEqual([event.type, event.data.id], [DELETED, account])

  // The listing shows it delivered at the first attempt, under the id the receiver saw.
  const page = await eventually(() => gl.webhooks.deliveries(sub.id), (p) => p.items[0]?.status === 'DELIVERED', 'DELIVERED')
  assert.equal(page.items.length, 1)
  const [delivery] = page.items
  assert.deepEqual([delivery.id, delivery.eventType, delivery.connectedAccountId], [event.id, DELETED, account])
  assert.deepEqual(delivery.attempts.map((a) => [a.attempt, a.statusCode]), [[1, 200]])

  // A manual retry sends the same message again.
  await gl.webhooks.retry(sub.id, delivery.id)
  const [first, second] = await receiver.waitFor('the retry', (got) => got.length >= 2)
  assert.equal(second.headers['webhook-id'], first.headers['webhook-id'])
  assert.equal(second.headers['webhook-id'], delivery.id)
  const again = await eventually(async () => (await gl.webhooks.deliveries(sub.id, { limit: 1 })).items[0], (d) => d.attempts.length === 2, 'a second attempt')
  assert.deepEqual(again.attempts.map((a) => a.statusCode), [200, 200])

  const rotated = await gl.webhooks.rotateSecret(sub.id)
  assert.ok(rotated instanceof RotatedWebhookSecret)
  assert.equal(rotated.id, sub.id)
  assert.notEqual(rotated.secret, sub.secret)
  assert.ok(!inspect(rotated).includes(rotated.secret) && !JSON.stringify(rotated).includes(rotated.secret))
  assert.equal((await gl.webhooks.get(sub.id)).secret, rotated.secret)

  const updated = await gl.webhooks.update(sub.id, { enabledEvents: [REVOKED, DELETED] })
  assert.deepEqual([updated.enabledEvents, updated.webhookUrl], [[REVOKED, DELETED], receiver.url])

  // The broker's rules and the core's option rules, as the SDK's errors; a refused change changes nothing.
  const bad = await gl.webhooks.update(sub.id, { enabledEvents: ['grantline.connected_account.nope'] }).catch((e) => e)
  assert.ok(bad instanceof ValidationError, `${bad}`)
  assert.equal(bad.field, 'enabled_events[0]')
  const typo = await gl.webhooks.update(sub.id, { enabledEvent: [DELETED] }).catch((e) => e)
  assert.ok(typo instanceof ValidationError, `${typo}`)
  assert.equal(typo.field, 'enabledEvent')
  const badPage = await gl.webhooks.deliveries(sub.id, { limit: -1 }).catch((e) => e)
  assert.ok(badPage instanceof ValidationError, `${badPage}`)
  assert.equal(badPage.field, 'limit')
  assert.deepEqual((await gl.webhooks.get(sub.id)).enabledEvents, [REVOKED, DELETED])

  await gl.webhooks.delete(sub.id)
  const gone = await gl.webhooks.get(sub.id).catch((e) => e)
  assert.ok(gone instanceof NotFoundError, `${gone}`)
  assert.deepEqual((await gl.webhooks.list()).items, [])
})
