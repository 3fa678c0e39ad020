'use strict'
// The agent developer's story: the agent runs a tool, learns the user must connect, shows the
// Connect Link in chat, and its retry reads the user's own profile at a real OAuth provider.
const assert = require('node:assert/strict')
const { test } = require('node:test')

const { APP, Browser, query, startOidcBroker } = require('./helpers.js')
const { Grantline, ValidationError } = require('..')

const client = (broker) => new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })

test('an agent connects the user in chat and its retry reads their profile', async (t) => {
  const broker = await startOidcBroker()
  t.after(() => broker.stop())
  const gl = client(broker)
  // (Which tools a session offers, and the same steps against the sandbox, are shared stories:
  // tests/scenarios/stories.json. This one runs at a real OAuth provider and through the proxy.)
  const session = await gl.create('user_123', { toolkits: ['oidc'], manageConnections: { callbackUrl: `${APP}/done`, waitForConnections: true } })

  // The agent finds a tool for "who am I?"; the user has not connected its toolkit yet.
  const [found] = await session.search('who am i profile')
  assert.deepEqual([found.slug, found.toolkit, found.isConnected], ['OIDC_GET_CURRENT_USER', 'oidc', false])
  assert.equal(found.inputParameters.type, 'object')

  // It runs the tool: not an error, but an answer that says what to call next.
  const first = await session.execute('OIDC_GET_CURRENT_USER')
  assert.equal(first.successful, false)
  assert.equal(first.data.status, 'not_connected')
  assert.deepEqual(first.data.next_step, { tool: 'COMPOSIO_MANAGE_CONNECTIONS', arguments: { toolkits: ['oidc'] } })
  assert.match(first.error, /COMPOSIO_MANAGE_CONNECTIONS/)
  assert.match(first.logId, /^log_/)

  // It calls that meta tool and shows the link in chat.
  const managed = await session.executeMeta(first.data.next_step.tool, first.data.next_step.arguments)
  const link = managed.data.results.oidc
  assert.equal(link.status, 'initiated')
  assert.ok(link.instruction.includes(link.redirect_url))
  assert.match(managed.logId, /^log_/)

  // It waits in chat while the user signs in at the provider.
  const waiting = session.executeMeta('COMPOSIO_WAIT_FOR_CONNECTIONS', { toolkits: ['oidc'] })
  const landed = await new Browser().oidcSignIn(link.redirect_url)
  assert.deepEqual([query(landed.stopped).status, query(landed.stopped).connected_account_id], ['success', link.connected_account_id])
  assert.equal((await waiting).data.results.oidc.status, 'active')

  // The retry returns the user's own profile, whichever way the account is chosen.
  const retried = await session.execute('OIDC_GET_CURRENT_USER', {})
  assert.equal(retried.successful, true, JSON.stringify(retried))
  assert.equal(retried.error ?? null, null)
  assert.deepEqual([retried.data.sub, retried.data.email], ['alice', 'alice@example.test'])
  const pinned = await session.execute('OIDC_GET_CURRENT_USER', null, { connectedAccountId: link.connected_account_id })
  assert.equal(pinned.data.sub, 'alice')

  // Search now ranks it first as connected, and respects its filters.
  const hits = await session.search('who am i profile')
  assert.deepEqual([hits[0].slug, hits[0].isConnected], ['OIDC_GET_CURRENT_USER', true])
  assert.ok(hits[0].score > 0 && hits.every((h, i) => i === 0 || h.score <= hits[i - 1].score), 'best first')
  assert.equal((await session.search('who am i profile', { toolkits: ['oidc'], limit: 1 })).length, 1)

  // The app calls the provider's API directly; the broker signs the request.
  const proxied = await session.proxyExecute({ endpoint: '/me', toolkit: 'oidc', headers: { 'x-trace': '1' }, query: { trace: '1' } })
  assert.equal(proxied.status, 200)
  assert.equal(proxied.data.sub, 'alice')
  assert.match(proxied.headers['content-type'], /json/)
  assert.ok(!('authorization' in proxied.headers))

  // Plain data: JSON shows the results as they are.
  assert.equal(JSON.parse(JSON.stringify(retried)).data.sub, 'alice')
})

test('a proxy call the connected provider would take is still refused where it leaves the provider or sets its own credentials', async (t) => {
  // The other bad tool calls are the shared matrix (tests/scenarios/bad_arguments.json, run by
  // scenarios.test.js); these two need a toolkit that proxies, so an account at the oidc-provider.
  const broker = await startOidcBroker()
  t.after(() => broker.stop())
  const session = await client(broker).create('u', { toolkits: ['oidc'] })
  const req = await session.authorize('oidc', { callbackUrl: `${APP}/done` })
  await new Browser().oidcSignIn(req.redirectUrl)
  await req.waitForConnection()

  const cases = [
    [() => session.proxyExecute({ endpoint: 'https://elsewhere.example/me', toolkit: 'oidc' }), 'endpoint'],
    [() => session.proxyExecute({ endpoint: '/me', toolkit: 'oidc', headers: { Authorization: 'Bearer mine' } }), 'headers.Authorization'],
  ]
  for (const [call, field] of cases) {
    const err = await call().catch((e) => e)
    assert.ok(err instanceof ValidationError, `${field}: ${err}`)
    assert.equal(err.field, field)
    assert.ok(err.message.includes(field), err.message)
  }
})
