'use strict'
// Every error the broker can answer reaches a Node app as its own class with its fields: the
// shared scenarios (tests/scenarios/errors.json, kept equal to the core by its tests) are
// replayed by a local server standing in for the broker's error answers.
const assert = require('node:assert/strict')
const http = require('node:http')
const { test } = require('node:test')

const errors = require('..')
const scenarios = require('../../tests/scenarios/errors.json')

const camel = (k) => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase())

test('every error code arrives as its class with code, HTTP status and fields', async (t) => {
  let answer = null
  const server = http.createServer((req, res) => {
    res.writeHead(answer.http_status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(answer.body))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => server.close())
  const gl = new errors.Grantline({ apiKey: 'gl_test', baseUrl: `http://127.0.0.1:${server.address().port}` })

  for (const scenario of scenarios) {
    answer = scenario
    const err = await gl.connectedAccounts.get('ca_x').then(() => null, (e) => e)
    assert.ok(err instanceof errors[scenario.class], `${scenario.class}: got ${err && err.name}`)
    assert.ok(err instanceof errors.GrantlineError && err instanceof Error)
    assert.equal(err.message, scenario.message)
    for (const [key, value] of Object.entries(scenario.fields)) {
      assert.deepEqual(err[camel(key)], value, `${scenario.class}.${camel(key)}`)
    }
  }
})
