'use strict'
// An app that verifies its users on Connect Links: the broker sends the person's browser to the
// app's verification page with a one-time flow id, and the app's backend says who is signed in
// (`confirmUser`). Only the user the link was started for gets through; anyone else ends it.
const assert = require('node:assert/strict')
const { test } = require('node:test')

const { startBroker } = require('./helpers.js')
const { ConflictError, Grantline, NotFoundError, ValidationError } = require('..')

const VERIFIER = 'https://app.example.com/verify'

async function verifyingBroker(t) {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const resp = await fetch(`${broker.baseUrl}/api/v3.1/project`, {
    method: 'PATCH',
    headers: { 'x-api-key': broker.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ display_name: 'Acme', user_verification_url: VERIFIER, verify_connect_links: true }),
  })
  assert.equal(resp.status, 200)
  return broker
}

/** The person's browser opens the link: it is sent to the app's verifier; the flow id. */
async function openLink(url) {
  const resp = await fetch(url, { redirect: 'manual' })
  assert.equal(resp.status, 303)
  const location = resp.headers.get('location')
  assert.ok(location.startsWith(`${VERIFIER}?flow_id=uvf_`), location)
  return new URL(location).searchParams.get('flow_id')
}

test('the app confirms its signed-in user', async (t) => {
  const broker = await verifyingBroker(t)
  const gl = new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })
  const session = await gl.create('alice', { toolkits: ['sandbox'], manageConnections: false })
  const req = await session.authorize('sandbox')
  const flowId = await openLink(req.redirectUrl)

  const confirmed = await gl.confirmUser(flowId, 'alice')
  assert.deepEqual(confirmed.matched, true)
  assert.equal(confirmed.flowId, flowId)
  assert.equal(confirmed.redirectUrl, `${broker.baseUrl}/verify/${flowId}/return`)
  await assert.rejects(gl.confirmUser(flowId, 'alice'), ConflictError)
})

test('another user ends the link', async (t) => {
  const broker = await verifyingBroker(t)
  const gl = new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })
  const req = await (await gl.create('mallory', { toolkits: ['sandbox'], manageConnections: false })).authorize('sandbox')
  const flowId = await openLink(req.redirectUrl)

  assert.equal((await gl.confirmUser(flowId, 'bob')).matched, false)
  assert.equal((await gl.connectedAccounts.get(req.id)).status, 'FAILED')
})

test('bad flow ids are refused', async (t) => {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const gl = new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })
  await assert.rejects(gl.confirmUser('not-a-flow', 'alice'), (e) => e instanceof ValidationError && e.field === 'flow_id')
  await assert.rejects(gl.confirmUser('uvf_nosuchflow', 'alice'), NotFoundError)
})

test('the project profile is read and changed from Node', async (t) => {
  const broker = await startBroker()
  t.after(() => broker.stop())
  const gl = new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })
  let info = await gl.updateProject({ displayName: 'Acme', supportUrl: 'https://acme.example.com/help' })
  assert.deepEqual([info.displayName, info.supportUrl, info.verifyConnectLinks], ['Acme', 'https://acme.example.com/help', false])
  // What is left out is kept; null clears.
  info = await gl.updateProject({ supportUrl: null })
  assert.deepEqual([info.displayName, info.supportUrl ?? null], ['Acme', null])
  assert.equal((await gl.project()).displayName, 'Acme')
  await assert.rejects(gl.updateProject({ logo: 'logo.png' }), (e) => e instanceof ValidationError && e.field === 'logo')
  await assert.rejects(gl.updateProject({ supportUrl: 'http://acme.example.com' }), (e) => e instanceof ValidationError && e.field === 'support_url') // the broker's own check: its wire name, as for other broker-side fields
})
