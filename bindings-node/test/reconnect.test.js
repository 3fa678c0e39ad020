'use strict'
// An app reconnects a user's account under the same id (`connectedAccounts.refresh`) and ends
// one for good (`connectedAccounts.revoke`).
const assert = require('node:assert/strict')
const { test } = require('node:test')

const { APP, Browser, query, startBroker, startOidcBroker } = require('./helpers.js')
const { Grantline, NotFoundError, ValidationError } = require('..')

const client = (broker) => new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })

test('refresh reconnects the same account while the app waits', async (t) => {
  const broker = await startOidcBroker()
  t.after(() => broker.stop())
  const gl = client(broker)
  const session = await gl.create('u_refresh', { toolkits: ['oidc'], manageConnections: false })
  const req = await session.authorize('oidc')
  await new Browser().oidcSignIn(req.redirectUrl)
  assert.equal((await req.waitForConnection(30000)).status, 'ACTIVE')

  const refreshed = await gl.connectedAccounts.refresh(req.id, { callbackUrl: `${APP}/done?again=1` })
  assert.deepEqual([refreshed.id, refreshed.status], [req.id, 'ACTIVE'])
  assert.ok(refreshed.redirectUrl.startsWith(`${broker.baseUrl}/link/`), refreshed.redirectUrl)
  const pending = await gl.connectedAccounts.get(req.id)
  assert.deepEqual([pending.status, pending.reconnecting], ['ACTIVE', true])

  let settled = false
  const waiting = gl.connectedAccounts.waitForConnection(req.id, 60000).finally(() => { settled = true })
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(settled, false, 'the wait lasts until the user finishes the new link')
  const landed = await new Browser().oidcSignIn(refreshed.redirectUrl)
  assert.deepEqual(query(landed.stopped), { again: '1', status: 'success', connected_account_id: req.id })
  const account = await waiting
  assert.deepEqual([account.id, account.status, account.reconnecting], [req.id, 'ACTIVE', false])
})

test('refresh names a callback URL the project does not allow, and changes nothing', async (t) => {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const gl = client(broker)
  const session = await gl.create('u', { toolkits: ['sandbox'], manageConnections: false })
  const req = await session.authorize('sandbox')
  await new Browser().sandboxConsent(req.redirectUrl)
  await req.waitForConnection(30000)
  await assert.rejects(gl.connectedAccounts.refresh(req.id, { callbackUrl: 'https://evil.example.net/done' }), (e) => {
    assert.ok(e instanceof ValidationError)
    assert.equal(e.field, 'redirect_url')
    return true
  })
  assert.equal((await gl.connectedAccounts.get(req.id)).reconnecting, false)
  await assert.rejects(gl.connectedAccounts.revoke('ca_missing'), NotFoundError)
})

test('revoke ends the account and refresh brings it back under the same id', async (t) => {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const gl = client(broker)
  const session = await gl.create('u', { toolkits: ['sandbox'], manageConnections: false })
  const req = await session.authorize('sandbox')
  await new Browser().sandboxConsent(req.redirectUrl)
  await req.waitForConnection(30000)

  const revoked = await gl.connectedAccounts.revoke(req.id)
  assert.deepEqual([revoked.id, revoked.status, revoked.providerRevocation], [req.id, 'REVOKED', 'revoked'])
  assert.deepEqual([...revoked.revokedTokens].sort(), ['access_token', 'refresh_token'])
  const again = await gl.connectedAccounts.revoke(req.id)
  assert.deepEqual([again.revokedTokens, again.providerRevocation], [[], 'nothing_to_revoke'])

  const refreshed = await gl.connectedAccounts.refresh(req.id)
  assert.equal(refreshed.status, 'REVOKED')
  await new Browser().sandboxConsent(refreshed.redirectUrl)
  const account = await gl.connectedAccounts.waitForConnection(req.id, 30000)
  assert.deepEqual([account.id, account.status], [req.id, 'ACTIVE'])
  assert.equal((await session.execute('SANDBOX_GET_CURRENT_USER', {})).successful, true)
})
