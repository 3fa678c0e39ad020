// The app shows its user which toolkits of the session are connected, page by page, filtered.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { completeLink, composioFor, startBroker, story } from './helpers.mjs'

const TOOLKITS = ['sandbox', 'github', 'slack', 'gmail', 'hackernews']

describe('session toolkits', () => {
  let broker
  before(async () => { broker = await startBroker() })
  after(() => broker?.stop())

  async function connectedSession(userId) {
    const session = await composioFor(broker).create(userId, { toolkits: TOOLKITS, manageConnections: false })
    const request = await session.authorize('sandbox')
    await completeLink(request.redirectUrl, 'sandbox')
    await request.waitForConnection(30000)
    return { session, accountId: request.id }
  }

  test('the toolkit list shows each toolkit\'s connection', story(async () => {
    const { session, accountId } = await connectedSession('u_toolkits')
    const page = await session.toolkits()
    const bySlug = Object.fromEntries(page.items.map((tk) => [tk.slug, tk]))
    assert.deepEqual(Object.keys(bySlug).sort(), [...TOOLKITS].sort())
    assert.equal(page.totalPages, 1)
    assert.equal(bySlug.sandbox.connection.isActive, true)
    assert.equal(bySlug.sandbox.connection.connectedAccount.id, accountId)
    assert.equal(bySlug.sandbox.connection.authConfig.mode, 'OAUTH2')
    assert.equal(bySlug.github.connection.isActive, false)
    assert.equal(bySlug.hackernews.isNoAuth, true)
  }))

  test('filters narrow the list', story(async () => {
    const { session } = await connectedSession('u_filters')
    const slugs = async (opts) => (await session.toolkits(opts)).items.map((tk) => tk.slug)
    assert.deepEqual(await slugs({ isConnected: true }), ['sandbox'])
    assert.deepEqual(await slugs({ toolkits: ['github', 'slack'] }), ['github', 'slack'])
    assert.deepEqual(await slugs({ search: 'git' }), ['github'])
  }))

  test('pages walk every toolkit once', story(async () => {
    const { session } = await connectedSession('u_pages')
    const seen = []
    let cursor
    let pages = 0
    do {
      const page = await session.toolkits({ limit: 2, cursor })
      assert.ok(page.items.length <= 2)
      assert.equal(page.totalPages, 3)
      seen.push(...page.items.map((tk) => tk.slug))
      cursor = page.cursor
      pages += 1
    } while (cursor)
    assert.equal(pages, 3)
    assert.deepEqual([...seen].sort(), [...TOOLKITS].sort())
  }))

  test('the session tools are the meta tools in the model\'s format', story(async () => {
    const session = await composioFor(broker).create('u_tools', { toolkits: ['sandbox'] })
    const tools = await session.tools()
    const byName = Object.fromEntries(tools.map((t) => [t.function.name, t]))
    for (const slug of ['COMPOSIO_SEARCH_TOOLS', 'COMPOSIO_MULTI_EXECUTE_TOOL', 'COMPOSIO_MANAGE_CONNECTIONS', 'COMPOSIO_GET_TOOL_SCHEMAS']) assert.ok(byName[slug], slug)
    assert.ok(byName.COMPOSIO_SEARCH_TOOLS.function.parameters.properties.queries)
  }))
})
