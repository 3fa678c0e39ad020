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

test('a kind without a class still rejects as a GrantlineError with its code and fields', async (t) => {
  // An errors.js older than the addon: the addon falls back to the base class.
  const classes = require('../errors.js')
  const { NotFoundError } = classes
  delete classes.NotFoundError
  t.after(() => { classes.NotFoundError = NotFoundError })
  const scenario = scenarios.find((s) => s.class === 'NotFoundError')
  const server = http.createServer((req, res) => {
    res.writeHead(scenario.http_status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(scenario.body))
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  t.after(() => server.close())
  const gl = new errors.Grantline({ apiKey: 'gl_test', baseUrl: `http://127.0.0.1:${server.address().port}` })

  const err = await gl.connectedAccounts.get('ca_x').then(() => null, (e) => e)
  assert.equal(Object.getPrototypeOf(err), errors.GrantlineError.prototype, String(err))
  assert.equal(err.message, scenario.message)
  for (const [key, value] of Object.entries(scenario.fields)) {
    assert.deepEqual(err[camel(key)], value, camel(key))
  }
})

test('the addon loaded alone (no classes registered) still throws an Error with its code and fields', () => {
  const { execFileSync } = require('node:child_process')
  const script = `const native = require(${JSON.stringify(require.resolve('../native.js'))})
    try { new native.Grantline({ apiKey: 'gl_x', baseUrl: 'not a url' }) } catch (e) {
      console.log(JSON.stringify({ isError: e instanceof Error, name: e.name, code: e.code, field: e.field }))
    }`
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  assert.deepEqual(JSON.parse(out), { isError: true, name: 'ValidationError', code: 'VALIDATION', field: 'base_url' })
})
