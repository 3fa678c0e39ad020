// The app changes and ends sessions, and its mistakes reach it as the SDK's own errors with a
// message that says what was wrong.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { client, composioFor, core, startBroker, story } from './helpers.mjs'

describe('sessions and errors', () => {
  let broker
  before(async () => { broker = await startBroker() })
  after(() => broker?.stop())

  test('update changes the toolkits and connection management', story(async () => {
    const composio = composioFor(broker)
    const session = await composio.create('u_update', { toolkits: ['sandbox'] })
    const version = session.configVersion
    const config = await session.update({ toolkits: ['sandbox', 'github'], manageConnections: false })
    assert.deepEqual(config.toolkits.enabled, ['sandbox', 'github'])
    assert.ok(session.configVersion > version)
    const slugs = (await session.toolkits()).items.map((tk) => tk.slug).sort()
    assert.deepEqual(slugs, ['github', 'sandbox'])
    const names = (await session.tools()).map((t) => t.function.name)
    assert.ok(!names.includes('COMPOSIO_MANAGE_CONNECTIONS'))
    const again = await composio.use(session.sessionId)
    assert.deepEqual(again.config.toolkits.enabled, ['sandbox', 'github'])
  }))

  test('an update against a stale version is refused', story(async () => {
    const composio = composioFor(broker)
    const session = await composio.create('u_stale', { toolkits: ['sandbox'] })
    const stale = session.configVersion
    await session.update({ toolkits: ['github'] })
    await assert.rejects(session.update({ toolkits: ['slack'], expectedConfigVersion: stale }), core.ComposioSessionConfigConflictError)
  }))

  test('delete ends the session', story(async () => {
    const composio = composioFor(broker)
    const session = await composio.create('u_delete', { toolkits: ['sandbox'] })
    assert.deepEqual(await session.delete(), { sessionId: session.sessionId, deleted: true })
    await assert.rejects(composio.use(session.sessionId), client.NotFoundError)
    await assert.rejects(session.delete(), client.NotFoundError)
    const other = await composio.create('u_delete', { toolkits: ['sandbox'] })
    await composio.sessions.delete(other.sessionId)
    await assert.rejects(other.toolkits(), client.NotFoundError)
  }))

  test('an unknown session or account is not found, naming it', story(async () => {
    const composio = composioFor(broker)
    await assert.rejects(composio.use('trs_doesnotexist'), (err) => {
      assert.ok(err instanceof client.NotFoundError, `${err.name}: ${err.message}`)
      assert.equal(err.status, 404)
      assert.match(err.message, /trs_doesnotexist/)
      return true
    })
    await assert.rejects(composio.connectedAccounts.get('ca_doesnotexist'), (err) => {
      assert.ok(err instanceof client.NotFoundError, `${err.name}: ${err.message}`)
      assert.match(err.message, /ca_doesnotexist/)
      return true
    })
  }))

  test('a wrong API key is refused', story(async () => {
    const composio = composioFor(broker, { apiKey: 'gl_not_a_key_of_this_broker' })
    await assert.rejects(composio.create('u_bad_key', { toolkits: ['sandbox'] }), (err) => {
      assert.ok(err instanceof client.AuthenticationError, `${err.name}: ${err.message}`)
      assert.equal(err.status, 401)
      return true
    })
  }))

  test('validation errors name the field', story(async () => {
    const composio = composioFor(broker)
    await assert.rejects(composio.create('', { toolkits: ['sandbox'] }), (err) => {
      assert.ok(err instanceof client.BadRequestError, `${err.name}: ${err.message}`)
      assert.match(err.message, /user_id/)
      return true
    })
    const session = await composio.create('u_validation', { toolkits: ['sandbox'], manageConnections: false })
    await assert.rejects(session.authorize('no_such_toolkit'), (err) => {
      assert.ok(err instanceof client.BadRequestError || err instanceof client.NotFoundError, `${err.name}: ${err.message}`)
      assert.match(err.message, /no_such_toolkit|toolkit/)
      return true
    })
  }))

  test('error bodies are the Composio error envelope', story(async () => {
    const composio = composioFor(broker)
    await assert.rejects(composio.connectedAccounts.get('ca_doesnotexist'), (err) => {
      const inner = err.error?.error
      assert.ok(inner, JSON.stringify(err.error))
      assert.equal(inner.status, 404)
      assert.equal(typeof inner.code, 'number')
      assert.equal(typeof inner.slug, 'string')
      assert.equal(typeof inner.message, 'string')
      return true
    })
  }))
})
