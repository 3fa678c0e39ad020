// A person pastes a session's MCP URL, and nothing else, into an MCP client built on the official
// TypeScript SDK (@modelcontextprotocol/sdk, pinned in package.json): it logs in with the SDK's
// OAuth support (discovery from the 401, Dynamic Client Registration, the consent page, the code
// exchange), lists the session's tools, connects the user's account in chat and runs a tool.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'

const require = createRequire(import.meta.url)
const { Browser, startOidcBroker, query } = require('../../../bindings-node/test/helpers.js')

// The client's loopback redirect URI (RFC 8252): nothing listens there, the "browser" stops at it.
const REDIRECT = 'http://127.0.0.1:33418/callback'

/**
 * The person's browser during the login: opens the authorization URL, approves on the consent
 * page, and, when the broker sends it to the app's user verification (a URL with `flow_id=`),
 * plays the app's backend confirming who is signed in; it stops at the client's redirect URI and
 * returns its query (code, state, iss).
 */
class LoginBrowser {
  constructor(broker, userId) {
    this.broker = broker
    this.userId = userId
    this.consentPages = []
  }

  async logIn(authorizationUrl) {
    const browser = new Browser()
    let url = authorizationUrl.toString()
    const page = await browser.request(url)
    const html = await page.text()
    assert.equal(page.status, 200, html)
    this.consentPages.push(html)
    const field = (name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1]
    const action = new URL(html.match(/action="([^"]+\/mcp\/oauth\/consent)"/)[1], url).toString()
    let res = await browser.request(action, { authorization_id: field('authorization_id'), csrf: field('csrf'), decision: 'approve' })
    for (let i = 0; i < 10; i++) {
      assert.ok(res.status >= 300 && res.status < 400, `${res.status} ${await res.text()}`)
      url = new URL(res.headers.get('location'), url).toString()
      if (url.startsWith(REDIRECT)) return query(url)
      const flowId = new URL(url).searchParams.get('flow_id')
      if (flowId) url = await this.confirmUser(flowId)
      res = await browser.request(url)
    }
    throw new Error('too many redirects')
  }

  /** The app's backend: its signed-in user is the session's user; where to send the browser. */
  async confirmUser(flowId) {
    const res = await fetch(`${this.broker.baseUrl}/api/v3.1/user_verifications/${flowId}/confirm`, {
      method: 'POST',
      headers: { 'x-api-key': this.broker.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: this.userId }),
    })
    assert.equal(res.status, 200)
    return (await res.json()).redirect_url
  }
}

/** An OAuthClientProvider keeping everything in memory: nothing is preconfigured. */
class MemoryProvider {
  constructor(browser) {
    this.browser = browser
    this.answer = null
  }

  get redirectUrl() {
    return REDIRECT
  }

  get clientMetadata() {
    return { client_name: 'TS Agent', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }
  }

  state() {
    this.sentState = randomBytes(16).toString('hex')
    return this.sentState
  }

  clientInformation() { return this.client }
  saveClientInformation(info) { this.client = info }
  tokens() { return this.savedTokens }
  saveTokens(tokens) { this.savedTokens = tokens }
  saveCodeVerifier(verifier) { this.verifier = verifier }
  codeVerifier() { return this.verifier }

  async redirectToAuthorization(url) {
    this.answer = await this.browser.logIn(url)
  }
}

async function newSession(broker, userId, toolkit) {
  const res = await fetch(`${broker.baseUrl}/api/v3.1/tool_router/session`, {
    method: 'POST',
    headers: { 'x-api-key': broker.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: userId, toolkits: { enable: [toolkit] } }),
  })
  assert.equal(res.status, 201)
  return res.json()
}

const textJson = (result) => JSON.parse(result.content[0].text)

test('an MCP client registers, logs in with only the session URL and runs the user\'s tool', async (t) => {
  const broker = await startOidcBroker()
  t.after(() => broker.stop())
  // A production broker approves MCP clients only through the app's own verification page.
  const patched = await fetch(`${broker.baseUrl}/api/v3.1/project`, {
    method: 'PATCH',
    headers: { 'x-api-key': broker.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ user_verification_url: 'https://app.example.com/verify-user' }),
  })
  assert.equal(patched.status, 200)
  const session = await newSession(broker, 'alice_app_id', 'oidc')
  const url = new URL(session.mcp.url)
  const browser = new LoginBrowser(broker, 'alice_app_id')
  const provider = new MemoryProvider(browser)

  // The first connection meets the 401; the SDK discovers, registers and sends the person to log in.
  await assert.rejects(new Client({ name: 'ts-agent', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(url, { authProvider: provider })), UnauthorizedError)
  assert.ok(provider.client.client_id.startsWith('mcpcl_'), 'the client registered itself')
  assert.equal(provider.answer.state, provider.sentState)
  assert.equal(provider.answer.iss, broker.baseUrl, 'the authorization response names its issuer (RFC 9207)')
  const [page] = browser.consentPages
  assert.ok(page.includes('TS Agent') && page.includes('alice_app_id'), page)

  const transport = new StreamableHTTPClientTransport(url, { authProvider: provider })
  await transport.finishAuth(provider.answer.code)
  assert.ok(provider.savedTokens.access_token.startsWith('glmat_'))
  const agent = new Client({ name: 'ts-agent', version: '1.0.0' })
  await agent.connect(transport)
  t.after(() => agent.close())

  const listed = (await agent.listTools()).tools.map((tool) => tool.name)
  for (const name of ['COMPOSIO_MANAGE_CONNECTIONS', 'COMPOSIO_SEARCH_TOOLS', 'COMPOSIO_MULTI_EXECUTE_TOOL']) assert.ok(listed.includes(name), name)

  const managed = await agent.callTool({ name: 'COMPOSIO_MANAGE_CONNECTIONS', arguments: { toolkits: ['oidc'] } })
  assert.ok(!managed.isError, JSON.stringify(managed))
  const link = textJson(managed).results.oidc
  assert.equal(link.status, 'initiated')
  const done = await new Browser().oidcSignIn(link.redirect_url)
  assert.equal(done.status, 200)
  assert.match(done.html, /Connected/)

  const ran = await agent.callTool({ name: 'COMPOSIO_MULTI_EXECUTE_TOOL', arguments: { tools: [{ tool_slug: 'OIDC_GET_CURRENT_USER', arguments: {} }] } })
  assert.ok(!ran.isError, JSON.stringify(ran))
  const [result] = textJson(ran).results
  assert.ok(result.successful, JSON.stringify(result))
  assert.equal(result.data.sub, 'alice')
})
