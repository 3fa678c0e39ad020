// An app built on the official `@composio/core` connects its users' accounts through a Grantline
// broker: it creates a session, authorizes a toolkit, waits while the user clicks through the
// provider, and gets the ACTIVE account back. Only `baseURL` and the key differ from Composio.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { APP, composioFor, core, query, startBroker, startOidc, story, userCompletesAfterTheWaitStarted } from './helpers.mjs'

describe('the manual connection flow', () => {
  let broker, oidc
  before(async () => {
    broker = await startBroker()
    oidc = await startOidc()
  })
  after(() => {
    broker?.stop()
    oidc?.stop()
  })

  test('the app connects a user\'s oidc account and the wait resolves ACTIVE', story(async () => {
    const composio = composioFor(oidc)
    const session = await composio.create('alice_app_id', { toolkits: ['oidc'], manageConnections: false })
    assert.match(session.sessionId, /^trs_/)

    const request = await session.authorize('oidc', { callbackUrl: `${APP}/done?tab=2` })
    assert.match(request.id, /^ca_/)
    assert.equal(request.status, 'INITIATED')
    assert.ok(request.redirectUrl.startsWith(oidc.baseUrl))

    const waiting = request.waitForConnection(60000)
    const [account, ended] = await Promise.all([waiting, userCompletesAfterTheWaitStarted(request.id, request.redirectUrl, 'oidc')])
    assert.equal(account.id, request.id)
    assert.equal(account.status, 'ACTIVE')
    assert.equal(account.toolkit.slug, 'oidc')

    assert.ok(ended.stopped?.startsWith(`${APP}/done?`), JSON.stringify(ended))
    assert.deepEqual(query(ended.stopped), { tab: '2', status: 'success', connected_account_id: request.id })
  }))

  test('the app connects a sandbox account on a dev broker', story(async () => {
    const composio = composioFor(broker)
    const session = await composio.create('u_sandbox', { toolkits: ['sandbox'], manageConnections: false })
    const request = await session.authorize('sandbox', { callbackUrl: `${APP}/done?from=settings` })
    const [account, ended] = await Promise.all([request.waitForConnection(60000),
      userCompletesAfterTheWaitStarted(request.id, request.redirectUrl, 'sandbox')])
    assert.equal(account.status, 'ACTIVE')
    assert.deepEqual(query(ended.stopped), { from: 'settings', status: 'success', connected_account_id: request.id })
    const { items } = await session.toolkits()
    const sandbox = items.find((tk) => tk.slug === 'sandbox')
    assert.equal(sandbox.connection.isActive, true)
    assert.equal(sandbox.connection.connectedAccount.id, request.id)
  }))

  test('the session carries the config fields the SDK reads', story(async () => {
    const composio = composioFor(broker)
    const session = await composio.create('u_config', { toolkits: ['sandbox'], manageConnections: false })
    assert.equal(session.config.user_id, 'u_config')
    assert.deepEqual(session.preload, { tools: [] })
    assert.ok(session.config.search && session.config.execute)
    assert.equal(typeof session.configVersion, 'number')
    assert.ok(session.mcp.url.startsWith(broker.baseUrl))
  }))

  test('use() reopens an existing session', story(async () => {
    const composio = composioFor(broker)
    const created = await composio.create('u_use', { toolkits: ['sandbox'], manageConnections: false })
    const session = await composio.use(created.sessionId)
    assert.equal(session.sessionId, created.sessionId)
    assert.equal(session.config.user_id, 'u_use')
    const request = await session.authorize('sandbox')
    const [account] = await Promise.all([request.waitForConnection(60000),
      userCompletesAfterTheWaitStarted(request.id, request.redirectUrl, 'sandbox')])
    assert.equal(account.status, 'ACTIVE')
  }))

  test('an MCP session hands out the broker\'s MCP endpoint and key', story(async () => {
    const composio = composioFor(broker)
    const session = await composio.create('u_mcp', { toolkits: ['sandbox'], mcp: true })
    assert.equal(session.mcp.url, `${broker.baseUrl}/tool_router/${session.sessionId}/mcp`)
    assert.equal(session.mcp.headers['x-api-key'], broker.apiKey)
  }))

  test('the direct-tools preset lists the toolkit tools without meta tools', story(async () => {
    const composio = composioFor(broker)
    const session = await composio.create('u_preset', { toolkits: ['sandbox'], sessionPreset: 'direct_tools' })
    const names = (await session.tools()).map((t) => t.function.name)
    assert.ok(names.includes('SANDBOX_GET_CURRENT_USER'), names.join(','))
    for (const meta of ['COMPOSIO_SEARCH_TOOLS', 'COMPOSIO_MULTI_EXECUTE_TOOL', 'COMPOSIO_MANAGE_CONNECTIONS']) assert.ok(!names.includes(meta), meta)
  }))

  test('a denied consent fails the wait at once', story(async () => {
    const composio = composioFor(oidc)
    const session = await composio.create('u_denies', { toolkits: ['oidc'], manageConnections: false })
    const request = await session.authorize('oidc', { callbackUrl: `${APP}/done?tab=2` })
    const started = Date.now()
    const waiting = assert.rejects(request.waitForConnection(120000), (err) => {
      assert.ok(err instanceof core.ConnectionRequestFailedError, `${err.name}: ${err.message}`)
      assert.match(err.message, /FAILED/)
      return true
    })
    const ended = await userCompletesAfterTheWaitStarted(request.id, request.redirectUrl, 'oidc', { allow: false })
    await waiting
    assert.ok(Date.now() - started < 60000, 'the wait must fail when the user declines, not at its timeout')
    assert.equal(query(ended.stopped).status, 'failed')
    assert.equal(query(ended.stopped).tab, '2')
  }))

  test('a denied sandbox consent fails the wait at once', story(async () => {
    const composio = composioFor(broker)
    const session = await composio.create('u_denies_sandbox', { toolkits: ['sandbox'], manageConnections: false })
    const request = await session.authorize('sandbox')
    const started = Date.now()
    const waiting = assert.rejects(request.waitForConnection(120000), core.ConnectionRequestFailedError)
    await userCompletesAfterTheWaitStarted(request.id, request.redirectUrl, 'sandbox', { allow: false })
    await waiting
    assert.ok(Date.now() - started < 60000)
  }))
})
