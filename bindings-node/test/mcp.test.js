'use strict'
// An MCP client gets the session's URL and `Authorization: Bearer glmcp_…` from the SDK, never
// the API key: the credential lists and calls that session's tools as its user, and nothing else.
// The client here is raw JSON-RPC over fetch, as the streamable HTTP transport sends it.
const assert = require('node:assert/strict')
const { test } = require('node:test')
const util = require('node:util')

const { Browser, startBroker } = require('./helpers.js')
const { Grantline, ValidationError } = require('..')

const client = (broker) => new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })

/** One JSON-RPC request to an MCP endpoint with only the given headers: [status, body]. */
async function mcp(url, headers, method, params = {}) {
  const resp = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  })
  return [resp.status, await resp.json().catch(() => null)]
}

test('an MCP client with the session credential connects the user in chat without the API key', async (t) => {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const session = await client(broker).create('alice', { toolkits: ['sandbox'] })
  assert.equal(session.mcp.headers, undefined)

  const headers = await session.mcpHeaders()
  assert.deepEqual(Object.keys(headers), ['Authorization'])
  assert.match(headers.Authorization, /^Bearer glmcp_/)
  assert.ok(!JSON.stringify(headers).includes(broker.apiKey))
  assert.deepEqual(session.mcp.headers, headers, 'kept by the session once minted')
  assert.deepEqual(await session.mcpHeaders(), headers, 'minted once')
  assert.equal((await session.mcpCredentials()).length, 1)

  const init = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } }
  assert.equal((await mcp(session.mcp.url, headers, 'initialize', init))[0], 200)
  const [status, tools] = await mcp(session.mcp.url, headers, 'tools/list')
  assert.equal(status, 200)
  assert.ok(tools.result.tools.some((tool) => tool.name === 'COMPOSIO_MANAGE_CONNECTIONS'))

  const [, called] = await mcp(session.mcp.url, headers, 'tools/call', { name: 'COMPOSIO_MANAGE_CONNECTIONS', arguments: { toolkits: ['sandbox'] } })
  const link = JSON.parse(called.result.content[0].text).results.sandbox
  assert.equal(link.status, 'initiated')
  await new Browser().sandboxConsent(link.redirect_url)
  const account = await client(broker).connectedAccounts.get(link.connected_account_id)
  assert.deepEqual([account.status, account.userId], ['ACTIVE', 'alice'])
})

test('the credential opens its own session only, ends when revoked, and never prints its secret', async (t) => {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const gl = client(broker)
  const mine = await gl.create('alice', { toolkits: ['sandbox'] })
  const theirs = await gl.create('bob', { toolkits: ['sandbox'] })
  const minted = await mine.createMcpCredential({ ttlSeconds: 3600, name: 'Cursor' })
  assert.match(minted.id, /^mcpc_/)
  assert.equal(minted.url, mine.mcp.url)
  assert.deepEqual(minted.headers, { Authorization: `Bearer ${minted.secret}` })
  assert.ok(!JSON.stringify(minted).includes(minted.secret) && !util.inspect(minted).includes(minted.secret))

  const [other, refused] = await mcp(theirs.mcp.url, minted.headers, 'tools/list')
  assert.equal(other, 403)
  assert.match(refused.error.message, /another session/)
  const rest = await fetch(`${broker.baseUrl}/api/v3.1/tool_router/session/${mine.sessionId}`, { headers: minted.headers })
  assert.equal(rest.status, 403)
  assert.match((await rest.json()).error.message, /only works on its own session's MCP endpoint/)

  assert.equal((await mcp(mine.mcp.url, minted.headers, 'tools/list'))[0], 200)
  const [listed] = await mine.mcpCredentials()
  assert.deepEqual([listed.id, listed.name, listed.status, listed.secret], [minted.id, 'Cursor', 'ACTIVE', undefined])
  await mine.revokeMcpCredential(minted.id)
  assert.equal((await mcp(mine.mcp.url, minted.headers, 'tools/list'))[0], 401)
  assert.deepEqual((await mine.mcpCredentials()).map((c) => c.status), ['REVOKED'])

  const bad = await mine.createMcpCredential({ ttlSeconds: 0 }).catch((e) => e)
  assert.ok(bad instanceof ValidationError, bad)
  assert.equal(bad.field, 'ttl_seconds', 'the broker names its field')
  const unknown = await mine.createMcpCredential({ scope: 'all' }).catch((e) => e)
  assert.ok(unknown instanceof ValidationError, unknown)
  assert.equal(unknown.field, 'scope')
})
