'use strict'
// The Node SDK in Node's own terms: AbortSignal, many waits on a free event loop, typed errors for
// bad input, hidden secrets, CommonJS and ESM. The stories themselves (connect while waiting,
// denied, timeout, expired link, in chat, client tokens) are shared: tests/scenarios/stories.json,
// run by scenarios.test.js.
const assert = require('node:assert/strict')
const { test } = require('node:test')

const { Browser, startBroker } = require('./helpers.js')
const {
  Grantline, ValidationError, AuthenticationError, NotFoundError,
  AbortError,
} = require('..')

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

test('bad credentials and bad input reject with typed errors naming what is wrong', async (t) => {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const wrong = new Grantline({ apiKey: 'gl_wrong', baseUrl: broker.baseUrl })
  const unauthorized = await wrong.create('u').catch((e) => e)
  assert.ok(unauthorized instanceof AuthenticationError)
  assert.deepEqual([unauthorized.code, unauthorized.status], ['UNAUTHORIZED', 401])

  const saved = process.env.GRANTLINE_API_KEY
  delete process.env.GRANTLINE_API_KEY
  assert.throws(() => new Grantline(), (e) => e instanceof ValidationError && e.field === 'api_key')
  if (saved !== undefined) process.env.GRANTLINE_API_KEY = saved

  const gl = client(broker)
  const session = await gl.create('u', { toolkits: ['sandbox'], manageConnections: false })
  const notFound = await session.authorize('gitbub').catch((e) => e)
  assert.ok(notFound instanceof NotFoundError)
  assert.match(notFound.message, /gitbub/)
  assert.equal(notFound.status, 404)
  assert.ok((await gl.connectedAccounts.get('ca_nothere').catch((e) => e)) instanceof NotFoundError)

  const cases = [
    [() => session.authorize('sandbox', { callbackUrl: 'https://evil.example.net/x' }), 'callback_url'],
    [() => gl.connectedAccounts.list({ statuses: ['ACTIVE', 'DONE'] }), 'statuses[1]'],
    [() => gl.use('not-a-session'), 'session_id'],
    [() => gl.create(''), 'user_id'],
    // Every option key is checked (by the core's rules, as in Python and the browser): a typo
    // is refused by name, not silently ignored.
    [() => gl.create('u', { manageConections: false }), 'manageConections'],
    [() => gl.create('u', { manageConnections: { enabel: true } }), 'manageConnections.enabel'],
    [() => gl.create('u', { toolkits: ['sandbox', 7] }), 'toolkits[1]'],
    [() => session.toolkits({ isConnected: 'yes' }), 'isConnected'],
    [() => session.authorize('sandbox', { callback_url: 'https://app.example.com/done' }), 'callback_url'],
    [() => session.proxyExecute({ endpoint: '/u', toolkit: 'sandbox', headers: { accept: 1 } }), 'headers.accept'],
  ]
  for (const [call, field] of cases) {
    const err = await call().catch((e) => e)
    assert.ok(err instanceof ValidationError, `${field}: ${err}`)
    assert.equal(err.field, field)
  }
  const looped = { a: 1 }
  looped.self = looped
  const cycle = await session.execute('SANDBOX_GET_CURRENT_USER', looped).catch((e) => e)
  assert.ok(cycle instanceof ValidationError, `a value that contains itself: ${cycle}`)
  assert.match(cycle.field, /^arguments\.self/)
  const req = await session.authorize('sandbox')
  assert.throws(() => req.waitForConnection(-1), (e) => e instanceof ValidationError && e.field === 'timeoutMs')
  assert.equal((await gl.connectedAccounts.list()).totalItems, 1, 'refused calls created nothing')
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
