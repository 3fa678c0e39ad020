// An operator uses the dashboard with the keyboard alone: signs in with the project's API key,
// searches one user's connected accounts, opens one and disables it; the REST API then sees it
// disabled. Every request the page makes goes to the broker and nowhere else.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import helpers from '../../bindings-node/test/helpers.js'
import { launchChromium } from './fixtures.mjs'

let broker, browser

before(async () => {
  broker = await helpers.startBroker({ dev: true })
  browser = await launchChromium()
})
after(async () => {
  await browser?.close()
  broker?.stop()
})

async function call(method, route, body) {
  const res = await fetch(`${broker.baseUrl}/api/v3.1${route}`, {
    method, headers: { 'x-api-key': broker.apiKey, 'content-type': 'application/json' }, body: body && JSON.stringify(body),
  })
  return { status: res.status, json: await res.json() }
}

/** A sandbox account of `userId`, connected through the sandbox's consent page. */
async function connectedAccount(userId) {
  const { json: session } = await call('POST', '/tool_router/session', { user_id: userId, toolkits: ['sandbox'] })
  const { json: link } = await call('POST', `/tool_router/session/${session.session_id}/link`, { toolkit: 'sandbox' })
  await new helpers.Browser().sandboxConsent(link.redirect_url)
  const { json: account } = await call('GET', `/connected_accounts/${link.connected_account_id}`)
  assert.equal(account.status, 'ACTIVE', JSON.stringify(account))
  return account.id
}

/** Presses Tab until the focused element matches the CSS `selector` (and reads `text`, if given). */
async function tabTo(page, selector, text, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    const there = await page.evaluate(([s, t]) => {
      const el = document.activeElement
      return Boolean(el?.matches(s) && (t === undefined || el.textContent.trim() === t))
    }, [selector, text])
    if (there) return
  }
  throw new Error(`Tab never reached ${selector} ${text ?? ''}`)
}

test('an operator signs in, finds a user\'s account and disables it with the keyboard alone', async () => {
  const adaId = await connectedAccount('ada')
  const graceId = await connectedAccount('grace')
  const broker_ = new URL(broker.baseUrl)

  const context = await browser.newContext()
  const elsewhere = []
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url())
    if (url.origin !== broker_.origin) {
      elsewhere.push(url.toString())
      return route.abort()
    }
    return route.continue()
  })
  const page = await context.newPage()

  await page.goto(`${broker.baseUrl}/dashboard`)
  assert.match(page.url(), /\/dashboard\/sign-in$/, 'signed out: the sign-in page')

  // The skip link comes first, then the key field.
  await page.keyboard.press('Tab')
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content')
  await tabTo(page, '#api_key')
  await page.keyboard.type('gl_wrong_key')
  await page.keyboard.press('Enter')
  await page.getByRole('alert').waitFor()
  assert.match(await page.getByRole('alert').innerText(), /unknown or revoked/)

  await tabTo(page, '#api_key')
  await page.keyboard.type(broker.apiKey)
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { level: 1, name: 'Connected accounts' }).waitFor()
  const cookie = (await context.cookies()).find((c) => c.name === 'grantline_dashboard')
  assert.ok(cookie, 'a session cookie')
  assert.equal(cookie.httpOnly, true)
  assert.equal(cookie.sameSite, 'Strict')
  assert.equal(cookie.path, '/dashboard')

  // Search ada's accounts.
  await tabTo(page, '#user_id')
  await page.keyboard.type('ada')
  await page.keyboard.press('Enter')
  await page.waitForURL(/user_id=ada/)
  const rows = page.locator('tbody tr')
  assert.equal(await rows.count(), 1)
  assert.ok((await rows.first().innerText()).includes(adaId))
  assert.equal(await page.getByText(graceId).count(), 0, 'grace\'s account is not listed')

  // Open it and disable it.
  await tabTo(page, `a[href$="/dashboard/accounts/${adaId}"]`)
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { level: 1, name: `Account ${adaId}` }).waitFor()
  assert.equal(await page.locator('#account-use').innerText(), 'Enabled')
  await tabTo(page, 'button', 'Disable account')
  const focusVisible = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle)
  assert.notEqual(focusVisible, 'none', 'focus is visible')
  await page.keyboard.press('Enter')
  await page.getByRole('status').waitFor()
  assert.equal(await page.locator('#account-use').innerText(), 'Disabled')

  const { json: account } = await call('GET', `/connected_accounts/${adaId}`)
  assert.equal(account.is_disabled, true, 'the REST API sees it disabled')
  const { json: grace } = await call('GET', `/connected_accounts/${graceId}`)
  assert.equal(grace.is_disabled, false)

  assert.deepEqual(elsewhere, [], 'no request left the broker')
  await context.close()
})

test('an operator sees the project\'s logo under the page\'s policy and fixes a refused support URL with the keyboard', async () => {
  // A real 1×1 PNG, set through the API: the page shows it from the broker's own origin.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64')
  const logo = await fetch(`${broker.baseUrl}/api/v3.1/project/logo`, {
    method: 'PUT', headers: { 'x-api-key': broker.apiKey, 'content-type': 'image/png' }, body: png,
  })
  assert.equal(logo.status, 200)
  const context = await browser.newContext()
  const page = await context.newPage()
  const refused = []
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) refused.push(m.text()) })

  await page.goto(`${broker.baseUrl}/dashboard/sign-in`)
  await tabTo(page, '#api_key')
  await page.keyboard.type(broker.apiKey)
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { level: 1, name: 'Connected accounts' }).waitFor()
  await tabTo(page, 'nav a', 'Project')
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { level: 1, name: 'Project' }).waitFor()
  const img = page.getByRole('img', { name: 'The project\'s logo' })
  await img.waitFor()
  assert.equal(await img.evaluate((el) => el.complete && el.naturalWidth), 1, 'the logo loads under img-src \'self\'')
  assert.match(await page.locator('#no-verifier').innerText(), /MCP clients cannot be approved in production/)

  await tabTo(page, '#support_url')
  await page.keyboard.type('http://acme.example/help')
  await page.keyboard.press('Enter')
  await page.getByRole('alert').waitFor()
  assert.match(await page.getByRole('alert').innerText(), /support_url/)
  assert.equal(await page.locator('#support_url').getAttribute('aria-invalid'), 'true')
  await page.locator('#support_url').fill('')
  await tabTo(page, '#support_url')
  await page.keyboard.type('https://acme.example/help')
  await tabTo(page, 'button', 'Save')
  await page.keyboard.press('Enter')
  await page.getByRole('status').waitFor()
  const { json: project } = await call('GET', '/project')
  assert.equal(project.support_url, 'https://acme.example/help', 'the REST API sees the change')
  assert.deepEqual(refused, [], 'nothing on the page broke the policy')
  await context.close()
})
