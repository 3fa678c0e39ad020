'use strict'
// The Node developer's story: connect a user's account and use it, and every way it can fail.
const assert = require('node:assert/strict')
const { test } = require('node:test')

const { APP, Browser, query, startBroker, startOidcBroker } = require('./helpers.js')
const {
  Grantline, GrantlineError, ValidationError, AuthenticationError, NotFoundError,
  ConnectionRequestFailedError, ConnectionRequestTimeoutError, AbortError,
} = require('..')

const client = (broker) => new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })

test('a user connects at a real provider while the app waits', async (t) => {
  const broker = await startOidcBroker()
  t.after(() => broker.stop())
  const gl = client(broker)
  const session = await gl.create('user_123', { toolkits: ['oidc'], manageConnections: false })
  assert.match(session.sessionId, /^trs_/)
  assert.ok(session.mcp.url.includes(session.sessionId))
  const req = await session.authorize('oidc', { callbackUrl: `${APP}/done?tab=2` })
  assert.equal((await gl.connectedAccounts.get(req.id)).status, 'INITIATED')

  let settled = false
  const waiting = req.waitForConnection(60000).finally(() => { settled = true })
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(settled, false, 'the wait is pending while the user has not connected')

  const landed = await new Browser().oidcSignIn(req.redirectUrl)
  const back = query(landed.stopped)
  assert.deepEqual([back.status, back.connected_account_id, back.tab], ['success', req.id, '2'])

  const account = await waiting
  assert.equal(account.id, req.id)
  assert.equal(account.status, 'ACTIVE')
  assert.equal(account.isActive, true)
  assert.equal(account.userId, 'user_123')

  const { items, nextCursor } = await session.toolkits({ isConnected: true })
  assert.deepEqual(items.map((tk) => tk.slug), ['oidc'])
  assert.equal(items[0].connection.connectedAccountId, req.id)
  assert.equal(nextCursor ?? null, null)
  const listed = await gl.connectedAccounts.list({ userIds: ['user_123'], statuses: ['ACTIVE'] })
  assert.deepEqual(listed.items.map((a) => a.id), [req.id])

  // Plain data: JSON shows the fields and never the API key.
  assert.equal(JSON.parse(JSON.stringify(account)).id, req.id)
  for (const obj of [gl, session, req, account, listed]) assert.ok(!JSON.stringify(obj).includes(broker.apiKey))
  assert.equal(session.mcp.headers, undefined, 'no MCP credential until one is asked for')

  await gl.connectedAccounts.delete(req.id)
  assert.equal((await gl.connectedAccounts.list({ userIds: ['user_123'] })).totalItems, 0)
})

test('denied consent rejects the wait at once with ConnectionRequestFailedError', async (t) => {
  const broker = await startOidcBroker()
  t.after(() => broker.stop())
  const session = await client(broker).create('u', { toolkits: ['oidc'], manageConnections: false })
  const req = await session.authorize('oidc', { callbackUrl: `${APP}/done` })
  const landed = await new Browser().oidcSignIn(req.redirectUrl, '/abort')
  assert.equal(query(landed.stopped).status, 'failed')
  const err = await req.waitForConnection(30000).catch((e) => e)
  assert.ok(err instanceof ConnectionRequestFailedError && err instanceof GrantlineError && err instanceof Error)
  assert.equal(err.code, 'CONNECTION_REQUEST_FAILED')
  assert.deepEqual([err.accountStatus, err.status], ['FAILED', 409])
  assert.match(err.statusReason, /access_denied/)
  assert.equal(err.connectedAccountId, req.id)
})

test('sandbox scenarios: timeout, abort, expiry, many waits, pagination', async (t) => {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const gl = client(broker)
  const session = await gl.create('u', { toolkits: ['sandbox'], manageConnections: false })

  await t.test('waiting past the timeout rejects with ConnectionRequestTimeoutError', async () => {
    const req = await session.authorize('sandbox')
    const err = await req.waitForConnection(300).catch((e) => e)
    assert.ok(err instanceof ConnectionRequestTimeoutError)
    assert.equal(err.code, 'CONNECTION_REQUEST_TIMEOUT')
    assert.equal((await gl.connectedAccounts.get(req.id)).status, 'INITIATED', 'a timeout changes nothing')
  })

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

test('an expired link rejects the wait with EXPIRED and shows the late user a clear page', async (t) => {
  const broker = await startBroker({ linkTtlSecs: 1 })
  t.after(() => broker.stop())
  const session = await client(broker).create('u', { toolkits: ['sandbox'], manageConnections: false })
  const req = await session.authorize('sandbox', { callbackUrl: `${APP}/done` })
  const err = await req.waitForConnection(30000).catch((e) => e)
  assert.ok(err instanceof ConnectionRequestFailedError)
  assert.equal(err.accountStatus, 'EXPIRED')
  const page = await new Browser().walk(req.redirectUrl)
  assert.equal(page.status, 410)
  assert.match(page.html, /expired/)
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

test('the backend mints a client token a browser page can use for this session only', async (t) => {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const session = await client(broker).create('web-user', { toolkits: ['sandbox'] })
  const asPage = (token, route) => fetch(`${broker.baseUrl}/api/v3.1${route}`, { headers: { authorization: `Bearer ${token}` } })

  const minted = await session.clientToken()
  assert.match(minted.id, /^ct_/)
  assert.match(minted.token, /^glct_/)
  // The secret is read where it is passed on, never shown by logging the object.
  for (const shown of [require('node:util').inspect(minted), JSON.stringify(minted)]) {
    assert.ok(!shown.includes(minted.token), `the token is hidden: ${shown}`)
    assert.ok(shown.includes(minted.id))
  }
  assert.equal(minted.sessionId, session.sessionId)
  const minutes = (Date.parse(minted.expiresAt) - Date.now()) / 60000
  assert.ok(minutes > 14 && minutes <= 15, `expires in ${minutes} minutes`)

  const own = await asPage(minted.token, '/client_token/session')
  assert.equal((await own.json()).session_id, session.sessionId)
  const toolkits = await asPage(minted.token, `/tool_router/session/${session.sessionId}/toolkits`)
  assert.equal((await toolkits.json()).items[0].slug, 'sandbox')
  const create = await fetch(`${broker.baseUrl}/api/v3.1/tool_router/session`, {
    method: 'POST', headers: { authorization: `Bearer ${minted.token}`, 'content-type': 'application/json' }, body: '{"user_id":"x"}',
  })
  assert.equal(create.status, 403, 'a client token cannot create sessions')

  await session.revokeClientToken(minted.id)
  const revoked = await asPage(minted.token, '/client_token/session')
  assert.equal(revoked.status, 401)
  assert.match((await revoked.json()).error.message, /revoked/)

  const short = await session.clientToken({ ttlSeconds: 1 })
  await new Promise((r) => setTimeout(r, 1200))
  const expired = await asPage(short.token, '/client_token/session')
  assert.equal(expired.status, 401)
  assert.match((await expired.json()).error.message, /expired/)

  const bad = await session.clientToken({ ttlSeconds: 0 }).catch((e) => e)
  assert.ok(bad instanceof ValidationError)
  assert.equal(bad.field, 'ttl_seconds')
  const unknown = await session.revokeClientToken('ct_nope').catch((e) => e)
  assert.ok(unknown instanceof NotFoundError)
})

test('ESM import gives the same classes', async () => {
  const esm = await import('grantline')
  assert.equal(esm.Grantline, Grantline)
  assert.equal(esm.NotFoundError, NotFoundError)
})
