// The app's backend manages its users' connected accounts with `composio.connectedAccounts`:
// lists with filters and pages, reads one, disables and re-enables it, re-connects it (refresh:
// same id, a fresh link), revokes it at the provider and deletes it. The credential itself never
// comes back in any answer.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { APP, Browser, EXCHANGES, client, completeLink, composioFor, query, startBroker, startOidc, story } from './helpers.mjs'

async function connect(composio, userId, toolkit, { login = 'alice', alias } = {}) {
  const session = await composio.create(userId, { toolkits: [toolkit], manageConnections: false })
  const request = await session.authorize(toolkit, alias ? { alias } : undefined)
  await completeLink(request.redirectUrl, toolkit, { login })
  assert.equal((await request.waitForConnection(30000)).status, 'ACTIVE')
  return { session, accountId: request.id }
}

async function whoAmI(session) {
  const result = await session.execute('OIDC_GET_CURRENT_USER', {})
  return result.error === null ? result.data.sub : null
}

async function linkLeadsOn(url) {
  const res = await new Browser().request(url)
  return res.status >= 300 && res.status < 400
}

describe('connected accounts', () => {
  let broker, oidc, proxied
  before(async () => {
    broker = await startBroker()
    oidc = await startOidc()
    proxied = await startOidc({ proxied: true })
  })
  after(() => {
    broker?.stop()
    oidc?.stop()
    proxied?.stop()
  })

  test('an account has data, params and state, and never the credential', story(async () => {
    const composio = composioFor(proxied)
    const { accountId } = await connect(composio, 'alice_app_id', 'oidc')
    const mark = EXCHANGES.length
    const account = await composio.connectedAccounts.get(accountId)
    assert.equal(account.id, accountId)
    assert.equal(account.status, 'ACTIVE')
    assert.equal(typeof account.data, 'object')
    assert.equal(typeof account.params, 'object')
    // The broker's state is honest and credential-free ({authScheme, val: {status}}); this SDK's
    // schema wants a token in it for ACTIVE accounts, so it leaves `state` out (a warning, no error).
    assert.deepEqual(EXCHANGES.at(-1).answer.state, { authScheme: 'OAUTH2', val: { status: 'ACTIVE' } })
    assert.equal(account.authConfig.authScheme, 'OAUTH2')
    const { items } = await composio.connectedAccounts.list({ userIds: ['alice_app_id'] })
    assert.deepEqual(items.map((a) => a.id), [accountId])
    assert.equal(items[0].status, 'ACTIVE')

    const tokens = proxied.proxy.issuedTokens()
    assert.ok(tokens.size > 0)
    const answers = EXCHANGES.slice(mark).map((x) => JSON.stringify(x.answer))
    assert.equal(answers.length, 2)
    for (const text of answers) {
      for (const token of tokens) assert.ok(!text.includes(token), 'a token the provider issued is in the API answer')
    }
  }))

  test('list filters, order and pages', story(async () => {
    const composio = composioFor(broker)
    const { accountId: first } = await connect(composio, 'u_list', 'sandbox', { alias: 'work' })
    const { accountId: second } = await connect(composio, 'u_list', 'sandbox', { alias: 'home' })
    const pending = (await (await composio.create('u_list', { toolkits: ['sandbox'], manageConnections: false })).authorize('sandbox')).id
    const { accountId: other } = await connect(composio, 'u_list_other', 'sandbox')
    const mine = [first, second, pending]
    const ids = async (q) => (await composio.connectedAccounts.list(q)).items.map((a) => a.id)

    assert.deepEqual((await ids({ userIds: ['u_list'] })).sort(), [...mine].sort())
    assert.deepEqual((await ids({ userIds: ['u_list'], statuses: ['ACTIVE'] })).sort(), [first, second].sort())
    assert.deepEqual(await ids({ userIds: ['u_list'], statuses: ['INITIATED'] }), [pending])
    assert.deepEqual((await ids({ toolkitSlugs: ['sandbox'], userIds: ['u_list', 'u_list_other'] })).sort(), [...mine, other].sort())
    assert.deepEqual(await ids({ toolkitSlugs: ['github'], userIds: ['u_list'] }), [])
    assert.deepEqual(await ids({ userIds: ['u_list'], orderBy: 'created_at' }), [...mine].reverse(), 'newest first by default')

    const page = await composio.connectedAccounts.list({ userIds: ['u_list'], limit: 2, orderBy: 'created_at' })
    assert.equal(page.items.length, 2)
    assert.ok(page.nextCursor)
    assert.equal(page.totalPages, 2)
    const rest = await composio.connectedAccounts.list({ userIds: ['u_list'], limit: 2, cursor: page.nextCursor, orderBy: 'created_at' })
    assert.deepEqual([...page.items, ...rest.items].map((a) => a.id), [...mine].reverse())
    assert.equal(rest.nextCursor, null)
  }))

  test('disable, enable and delete', story(async () => {
    const composio = composioFor(broker)
    const { accountId } = await connect(composio, 'u_toggle', 'sandbox')
    assert.equal((await composio.connectedAccounts.disable(accountId)).success, true)
    assert.equal((await composio.connectedAccounts.get(accountId)).isDisabled, true)
    assert.equal((await composio.connectedAccounts.enable(accountId)).success, true)
    assert.equal((await composio.connectedAccounts.get(accountId)).isDisabled, false)
    assert.equal((await composio.connectedAccounts.delete(accountId)).success, true)
    await assert.rejects(composio.connectedAccounts.get(accountId), client.NotFoundError)
  }))

  test('refresh re-connects the same account with a fresh link', story(async () => {
    const composio = composioFor(oidc)
    const { session, accountId } = await connect(composio, 'u_refresh', 'oidc', { login: 'alice' })
    assert.equal(await whoAmI(session), 'alice')

    const older = await composio.connectedAccounts.refresh(accountId)
    const refreshed = await composio.connectedAccounts.refresh(accountId, { redirectUrl: `${APP}/done?again=1` })
    assert.equal(refreshed.id, accountId)
    assert.equal(older.id, accountId)
    assert.ok(refreshed.redirect_url && refreshed.redirect_url !== older.redirect_url)

    assert.equal((await composio.connectedAccounts.get(accountId)).status, 'ACTIVE')
    assert.equal(await whoAmI(session), 'alice')
    assert.equal(await linkLeadsOn(older.redirect_url), false, 'the older link no longer leads to the provider')

    const ended = await completeLink(refreshed.redirect_url, 'oidc', { login: 'bob' })
    assert.deepEqual(query(ended.stopped), { again: '1', status: 'success', connected_account_id: accountId })
    const account = await composio.connectedAccounts.get(accountId)
    assert.equal(account.status, 'ACTIVE')
    assert.equal(await whoAmI(session), 'bob')
  }))

  test('a denied refresh leaves the account as it was', story(async () => {
    const composio = composioFor(oidc)
    const { session, accountId } = await connect(composio, 'u_refresh_denied', 'oidc', { login: 'alice' })
    const refreshed = await composio.connectedAccounts.refresh(accountId)
    await completeLink(refreshed.redirect_url, 'oidc', { allow: false })
    assert.equal((await composio.connectedAccounts.get(accountId)).status, 'ACTIVE')
    assert.equal(await whoAmI(session), 'alice')
  }))

  test('revoke revokes the token at the provider', story(async () => {
    const composio = composioFor(proxied)
    const { session, accountId } = await connect(composio, 'u_revoke', 'oidc')
    const issued = proxied.proxy.issuedTokens()
    const result = await composio.connectedAccounts.revoke(accountId)
    assert.equal(result.connectedAccount.id, accountId)
    assert.equal(result.connectedAccount.status, 'REVOKED')
    assert.ok(result.revokedTokens.some((t) => t === 'access_token' || t === 'refresh_token'))
    const calls = proxied.proxy.callsTo(proxied.revocationPath)
    assert.ok(calls.length > 0 && calls.every((c) => c.method === 'POST'), 'the broker called the RFC 7009 endpoint')
    assert.ok(calls.some((c) => issued.has(new URLSearchParams(c.body).get('token'))))
    assert.equal((await composio.connectedAccounts.get(accountId)).status, 'REVOKED')
    assert.notEqual((await session.execute('OIDC_GET_CURRENT_USER', {})).error, null)
  }))

  test('revoke of a sandbox account', story(async () => {
    const composio = composioFor(broker)
    const { accountId } = await connect(composio, 'u_revoke_sandbox', 'sandbox')
    const result = await composio.connectedAccounts.revoke(accountId)
    assert.equal(result.connectedAccount.status, 'REVOKED')
    assert.ok(result.revokedTokens.length > 0)
  }))
})
