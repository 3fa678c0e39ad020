// The in-chat story driven the way a model drives it (no LLM: the model's answers are
// hand-written OpenAI chat completions). The app passes each answer to the SDK's provider,
// which runs the tool calls against the broker.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { completeLink, composioFor, core, findKey, modelSays, startBroker, startOidc, story } from './helpers.mjs'

const WHO_AM_I = { tools: [{ tool_slug: 'OIDC_GET_CURRENT_USER', arguments: {} }] }

describe('in chat', () => {
  let broker, oidc
  before(async () => {
    broker = await startBroker()
    oidc = await startOidc()
  })
  after(() => {
    broker?.stop()
    oidc?.stop()
  })

  test('the model searches, is told to connect, gets a link, and its retry reads the user', story(async () => {
    const composio = composioFor(oidc)
    const session = await composio.create('alice_app_id', { toolkits: ['oidc'] })
    const tools = await session.tools()
    const names = tools.map((t) => t.function.name)
    for (const slug of ['COMPOSIO_SEARCH_TOOLS', 'COMPOSIO_MULTI_EXECUTE_TOOL', 'COMPOSIO_MANAGE_CONNECTIONS']) assert.ok(names.includes(slug), slug)

    const turn = async (...calls) => (await composio.provider.handleToolCalls(session, modelSays(...calls)))
      .map((out) => { assert.equal(out.role, 'tool'); return JSON.parse(out.content) })

    const [found] = await turn(['COMPOSIO_SEARCH_TOOLS', { queries: [{ use_case: 'who am I at the test provider' }] }])
    assert.equal(found.successful, true, JSON.stringify(found))
    assert.match(JSON.stringify(found.data), /OIDC_GET_CURRENT_USER/)

    const [tried] = await turn(['COMPOSIO_MULTI_EXECUTE_TOOL', WHO_AM_I])
    assert.match(JSON.stringify(tried), /COMPOSIO_MANAGE_CONNECTIONS/)
    assert.doesNotMatch(JSON.stringify(tried), /alice@example\.test/)

    const [managed] = await turn(['COMPOSIO_MANAGE_CONNECTIONS', { toolkits: ['oidc'] }])
    assert.equal(managed.successful, true, JSON.stringify(managed))
    const link = findKey(managed.data, 'redirect_url')
    assert.ok(link?.startsWith(oidc.baseUrl), JSON.stringify(managed))

    await completeLink(link, 'oidc', { login: 'alice' })
    const [retried] = await turn(['COMPOSIO_MULTI_EXECUTE_TOOL', WHO_AM_I])
    assert.equal(retried.successful, true, JSON.stringify(retried))
    assert.match(JSON.stringify(retried.data), /alice@example\.test/)
  }))

  test('several tool calls in one answer each get a result', story(async () => {
    const composio = composioFor(broker)
    const session = await composio.create('u_parallel', { toolkits: ['sandbox'] })
    const outputs = await composio.provider.handleToolCalls(session, modelSays(
      ['COMPOSIO_SEARCH_TOOLS', { queries: [{ use_case: 'who am I in the sandbox' }] }],
      ['COMPOSIO_MANAGE_CONNECTIONS', { toolkits: ['sandbox'] }]))
    assert.deepEqual(outputs.map((o) => o.tool_call_id), ['call_0', 'call_1'])
    const results = outputs.map((o) => JSON.parse(o.content))
    assert.ok(results.every((r) => r.successful), JSON.stringify(results))
    assert.ok(findKey(results[1].data, 'redirect_url'))
  }))

  test('an agentic provider runs the session tools it wrapped', story(async () => {
    class ScriptedAgent extends core.BaseAgenticProvider {
      name = 'scripted-agent'
      wrapTool(tool, execute) { return (args) => execute(tool.slug, args) }
      wrapTools(tools, execute) { return Object.fromEntries(tools.map((tool) => [tool.slug, this.wrapTool(tool, execute)])) }
    }
    const composio = composioFor(broker, { provider: new ScriptedAgent() })
    const session = await composio.create('u_agentic', { toolkits: ['sandbox'] })
    const tools = await session.tools()
    const managed = await tools.COMPOSIO_MANAGE_CONNECTIONS({ toolkits: ['sandbox'] })
    assert.equal(managed.successful, true, JSON.stringify(managed))
    await completeLink(findKey(managed.data, 'redirect_url'), 'sandbox')
    const ran = await tools.COMPOSIO_MULTI_EXECUTE_TOOL({ tools: [{ tool_slug: 'SANDBOX_GET_CURRENT_USER', arguments: {} }] })
    assert.equal(ran.successful, true, JSON.stringify(ran))
    assert.match(JSON.stringify(ran.data), /octocat@sandbox\.grantline\.test/)
  }))

  test('the app runs meta tools and toolkit tools itself', story(async () => {
    const composio = composioFor(oidc)
    // Another user than the first test's: the brokers live for the whole suite, and that user is connected by now.
    const session = await composio.create('alice_runs_tools_app_id', { toolkits: ['oidc'] })

    const found = await session.execute('COMPOSIO_SEARCH_TOOLS', { queries: [{ use_case: 'my profile' }] })
    assert.equal(found.error, null)
    assert.match(JSON.stringify(found.data), /OIDC_GET_CURRENT_USER/)

    const before = await session.execute('OIDC_GET_CURRENT_USER', {})
    assert.notEqual(before.error, null)
    assert.match(JSON.stringify(before), /COMPOSIO_MANAGE_CONNECTIONS/)

    const managed = await session.execute('COMPOSIO_MANAGE_CONNECTIONS', { toolkits: ['oidc'] })
    const link = findKey(managed.data, 'redirect_url')
    const accountId = findKey(managed.data, 'connected_account_id')
    assert.ok(link && accountId?.startsWith('ca_'), JSON.stringify(managed))
    await completeLink(link, 'oidc', { login: 'alice' })

    const me = await session.execute('OIDC_GET_CURRENT_USER', {})
    assert.equal(me.error, null)
    assert.equal(me.data.email, 'alice@example.test')
    assert.ok(me.logId)
    const pinned = await session.execute('OIDC_GET_CURRENT_USER', {}, { account: accountId })
    assert.equal(pinned.data.sub, 'alice')
  }))

  test('session.search ranks the tools for a use case', story(async () => {
    const composio = composioFor(oidc)
    const session = await composio.create('u_search', { toolkits: ['oidc'] })
    const found = await session.search({ query: 'who am I, my profile' })
    assert.equal(found.success, true)
    assert.ok(found.results[0].primaryToolSlugs.includes('OIDC_GET_CURRENT_USER'), JSON.stringify(found.results))
    assert.ok(found.toolSchemas.OIDC_GET_CURRENT_USER)
    const status = found.toolkitConnectionStatuses.find((s) => s.toolkit === 'oidc')
    assert.equal(status.hasActiveConnection, false)
  }))

  test('proxyExecute calls the provider\'s API as the user', story(async () => {
    const composio = composioFor(oidc)
    const session = await composio.create('u_proxy', { toolkits: ['oidc'], manageConnections: false })
    const request = await session.authorize('oidc')
    await completeLink(request.redirectUrl, 'oidc', { login: 'carol' })
    await request.waitForConnection(30000)
    const answer = await session.proxyExecute({
      toolkit: 'oidc', endpoint: '/me', method: 'GET',
      parameters: [{ in: 'header', name: 'x-trace', value: '1' }, { in: 'query', name: 'lang', value: 'en' }],
    })
    assert.equal(answer.status, 200)
    assert.equal(answer.data.sub, 'carol')
  }))

  for (const manage of [true, false]) {
    test(`manageConnections: ${manage} decides whether the model gets the connect tool`, story(async () => {
      const composio = composioFor(broker)
      const session = await composio.create('u_manage', { toolkits: ['sandbox'], manageConnections: manage })
      const names = (await session.tools()).map((t) => t.function.name)
      assert.equal(names.includes('COMPOSIO_MANAGE_CONNECTIONS'), manage)
      assert.ok(names.includes('COMPOSIO_SEARCH_TOOLS'))
    }))
  }
})
