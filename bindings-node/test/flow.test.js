'use strict'
// The Node SDK in Node's own terms: AbortSignal, many waits on a free event loop, hidden secrets,
// CommonJS and ESM. The stories themselves (connect while waiting, denied, timeout, expired link,
// in chat, client tokens, reconnect and revoke, user verification) and the bad-argument matrix
// are shared: tests/scenarios/stories.json and bad_arguments.json, run by scenarios.test.js.
const assert = require('node:assert/strict')
const { test } = require('node:test')

const { Browser, startBroker } = require('./helpers.js')
const { Grantline, NotFoundError, AbortError } = require('..')

const client = (broker) => new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })

test('waits in Node\'s own terms: AbortSignal, many at once on a free event loop; and toolkit pages', async (t) => {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const gl = client(broker)
  const session = await gl.create('u', { toolkits: ['sandbox'], manageConnections: false })

  await t.test('an AbortSignal cancels a wait, before or during it', async () => {
    const req = await session.authorize('sandbox')
    const controller = new AbortController()
    const waiting = req.waitForConnection(60000, { signal: controller.signal })
    setTimeout(() => controller.abort(), 100)
    const err = await waiting.catch((e) => e)
    assert.ok(err instanceof AbortError, String(err))
    assert.equal(err.name, 'AbortError')
    const already = await req.waitForConnection(60000, { signal: AbortSignal.abort() }).catch((e) => e)
    assert.ok(already instanceof AbortError)
  })

  await t.test('many waits at once all resolve, and the event loop stays free', async () => {
    const reqs = await Promise.all([0, 1, 2, 3, 4].map((i) => session.authorize('sandbox', { alias: `many${i}` })))
    const waits = Promise.all(reqs.map((r) => r.waitForConnection(60000)))
    let ticks = 0
    const ticker = setInterval(() => { ticks += 1 }, 1)
    await new Promise((r) => setTimeout(r, 100))
    for (const r of reqs) await new Browser().sandboxConsent(r.redirectUrl)
    const accounts = await waits
    clearInterval(ticker)
    assert.deepEqual(accounts.map((a) => a.id).sort(), reqs.map((r) => r.id).sort())
    assert.ok(accounts.every((a) => a.status === 'ACTIVE'))
    assert.ok(ticks > 10, 'timers ran while the waits were pending')
  })

  await t.test('toolkit pages cover the catalog exactly once', async () => {
    const all = await gl.create('u2')
    const first = await all.toolkits({ limit: 7 })
    assert.ok(first.totalItems > 20 && first.items.length === 7)
    assert.equal(first.totalPages, Math.ceil(first.totalItems / 7))
    const slugs = []
    for (let page = first; ; page = await all.toolkits({ limit: 7, cursor: page.nextCursor })) {
      slugs.push(...page.items.map((tk) => tk.slug))
      if (!page.nextCursor) break
    }
    assert.equal(new Set(slugs).size, first.totalItems)
    assert.deepEqual((await all.allToolkits()).map((tk) => tk.slug), slugs)
    assert.ok((await all.tools()).some((tool) => tool.slug === 'COMPOSIO_MANAGE_CONNECTIONS'))
    assert.equal((await gl.use(all.sessionId)).sessionId, all.sessionId)
  })
})

test('a client token hides its secret from console.log and JSON, and lasts fifteen minutes', async (t) => {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const session = await client(broker).create('web-user', { toolkits: ['sandbox'] })
  const minted = await session.clientToken()
  // The secret is read where it is passed on, never shown by logging the object.
  for (const shown of [require('node:util').inspect(minted), JSON.stringify(minted)]) {
    assert.ok(!shown.includes(minted.token), `the token is hidden: ${shown}`)
    assert.ok(shown.includes(minted.id))
  }
  const minutes = (Date.parse(minted.expiresAt) - Date.now()) / 60000
  assert.ok(minutes > 14 && minutes <= 15, `expires in ${minutes} minutes`)
})

test('ESM import gives the same classes', async () => {
  const esm = await import('grantline')
  assert.equal(esm.Grantline, Grantline)
  assert.equal(esm.NotFoundError, NotFoundError)
})
