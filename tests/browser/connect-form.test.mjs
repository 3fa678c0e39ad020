// A user connects a toolkit that takes an API key: the Connect Link shows a form, the broker
// checks the key against the toolkit's verification request, and only a working key makes the
// account ACTIVE. The key is stored encrypted and tools then run with it.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'

import helpers from '../../bindings-node/test/helpers.js'
import { launchChromium } from './fixtures.mjs'

const GOOD_KEY = 'sk-live-7f3a9c2e5b1d4f6a8c0e2b4d6f8a1c3e'
let api, apiUrl, broker, browser
const seenKeys = []

/** The toolkit's API: `GET /me` answers only the good key, sent in `x-api-key`. */
function startApi() {
  return new Promise((resolve) => {
    api = http.createServer((req, res) => {
      const key = req.headers['x-api-key']
      seenKeys.push(key)
      if (req.url === '/status') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"up":true}')
      if (req.url !== '/me') return res.writeHead(404).end()
      if (key !== GOOD_KEY) return res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"bad key"}')
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"account":"acme-ada","plan":"pro"}')
    }).listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${api.address().port}`))
  })
}

before(async () => {
  apiUrl = await startApi()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-form-'))
  const providers = path.join(dir, 'providers.toml')
  fs.writeFileSync(providers, `
[[toolkit]]
slug = "acme"
name = "Acme"
description = "Acme's API, reached with a key the user pastes"
logo = "https://example.test/acme.png"
auth = "api_key"
api_base_url = "${apiUrl}"
fields = [{ name = "api_key", label = "API key", secret = true }]
credential = { header = "x-api-key", value = "{api_key}" }
verify = { method = "GET", path = "/me" }

[[toolkit]]
slug = "acme_status"
name = "Acme status"
description = "Acme's public status page"
logo = "https://example.test/acme.png"
auth = "none"
api_base_url = "${apiUrl}"

[[tool]]
slug = "ACME_STATUS"
toolkit = "acme_status"
name = "Acme status"
description = "Whether Acme is up."
method = "GET"
path = "/status"

[[tool]]
slug = "ACME_WHOAMI"
toolkit = "acme"
name = "Who am I at Acme"
description = "The Acme account the key belongs to."
method = "GET"
path = "/me"
`)
  broker = await helpers.startBroker({ dev: false, providers })
  browser = await launchChromium()
})
after(async () => {
  await browser?.close()
  broker?.stop()
  api?.close()
})

async function call(method, route, body) {
  const res = await fetch(`${broker.baseUrl}/api/v3.1${route}`, {
    method, headers: { 'x-api-key': broker.apiKey, 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  })
  return { status: res.status, json: await res.json() }
}

test('a pasted API key is checked, stored encrypted, and used by tools', async () => {
  const { json: session } = await call('POST', '/tool_router/session', { user_id: 'ada', toolkits: ['acme'] })
  const sid = session.session_id
  const { status, json: link } = await call('POST', `/tool_router/session/${sid}/link`, { toolkit: 'acme' })
  assert.equal(status, 201, JSON.stringify(link))

  const page = await (await browser.newContext()).newPage()
  await page.goto(link.redirect_url)
  assert.equal(await page.locator('main').getAttribute('data-outcome'), 'form')
  const key = page.getByLabel('API key')
  assert.equal(await key.getAttribute('type'), 'password', 'the key is typed into a masked field')

  // A wrong key: the form comes back with the provider's refusal, and nothing changes.
  await key.fill('sk-wrong')
  await page.getByRole('button', { name: 'Connect' }).click()
  await page.getByRole('alert').waitFor()
  assert.match(await page.getByRole('alert').innerText(), /did not accept/)
  assert.equal(await page.getByLabel('API key').inputValue(), '', 'a refused secret is not echoed back')
  let account = (await call('GET', `/connected_accounts/${link.connected_account_id}`)).json
  assert.equal(account.status, 'INITIATED')

  // The right key connects.
  await page.getByLabel('API key').fill(GOOD_KEY)
  await page.getByRole('button', { name: 'Connect' }).click()
  await page.locator('main[data-outcome="connected"]').waitFor()
  account = (await call('GET', `/connected_accounts/${link.connected_account_id}`)).json
  assert.equal(account.status, 'ACTIVE')
  assert.equal(account.auth_config.auth_scheme, 'API_KEY')
  assert.deepEqual(seenKeys, ['sk-wrong', GOOD_KEY], 'the verification request carried each key once')

  // The key is nowhere in the database in plaintext.
  for (const f of ['grantline.db', 'grantline.db-wal']) {
    const file = path.join(broker.dir, f)
    if (fs.existsSync(file)) assert.ok(!fs.readFileSync(file).includes(GOOD_KEY), `${f} holds the key in plaintext`)
  }

  // A tool now runs with the key injected as the toolkit declares.
  const { json: run } = await call('POST', `/tool_router/session/${sid}/execute`, { tool_slug: 'ACME_WHOAMI', arguments: {} })
  assert.equal(run.successful, true, JSON.stringify(run))
  assert.equal(run.data.account, 'acme-ada')

  // The link is spent: opening it again connects nothing new.
  await page.goto(link.redirect_url)
  assert.equal(await page.locator('main').getAttribute('data-outcome'), 'invalid')
})

test('an empty form names the missing field and stores nothing', async () => {
  const { json: session } = await call('POST', '/tool_router/session', { user_id: 'bob', toolkits: ['acme'] })
  const { json: link } = await call('POST', `/tool_router/session/${session.session_id}/link`, { toolkit: 'acme' })
  const res = await fetch(link.redirect_url, { method: 'POST', body: new URLSearchParams({ api_key: '  ' }) })
  assert.equal(res.status, 422)
  assert.match(await res.text(), /API key is required/)
  const { json: account } = await call('GET', `/connected_accounts/${link.connected_account_id}`)
  assert.equal(account.status, 'INITIATED')
})

test('a no-auth toolkit runs its tools with no connection and no credential', async () => {
  const { json: session } = await call('POST', '/tool_router/session', { user_id: 'carol', toolkits: ['acme_status'] })
  const before = seenKeys.length
  const { json: run } = await call('POST', `/tool_router/session/${session.session_id}/execute`, { tool_slug: 'ACME_STATUS' })
  assert.equal(run.successful, true, JSON.stringify(run))
  assert.deepEqual(run.data, { up: true })
  assert.deepEqual(seenKeys.slice(before), [undefined], 'no key was sent')
  const { status, json: link } = await call('POST', `/tool_router/session/${session.session_id}/link`, { toolkit: 'acme_status' })
  assert.equal(status, 400)
  assert.match(link.error.message, /needs no connection/)
})
