// A front-end developer's story: the onboarding page lists the session's toolkits, the user
// clicks Connect, signs in and consents in a popup, and the page shows the account connected,
// all with a client token; the project API key never reaches the browser.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { REPO, signInAndAnswer, startStack } from './fixtures.mjs'

let stack
/** Every request any page or popup made (all headers), to check what left the browser. */
const requests = []
const recording = []

before(async () => {
  stack = await startStack()
})
after(() => stack?.stop())

async function openPage(url) {
  const context = await stack.browser.newContext()
  context.on('request', (r) => recording.push(r.allHeaders()
    .then((headers) => requests.push({ url: r.url(), headers, body: r.postData() }))
    .catch(() => requests.push({ url: r.url(), headers: r.headers(), body: r.postData() }))))
  const page = await context.newPage()
  await page.goto(url)
  return page
}

const row = (page, slug) => page.locator(`li[data-toolkit="${slug}"]`)
const message = (page) => page.locator('#message')

describe('the onboarding widget', () => {
  test('lists the toolkits, connects one in a popup and shows it connected', async () => {
    const page = await openPage(`${stack.widgetUrl}/?user=ada`)
    await assert.doesNotReject(row(page, 'hackernews').locator('[data-status="no-auth"]').waitFor())
    const status = row(page, 'oidc').locator('.status')
    assert.equal(await status.getAttribute('data-status'), 'not-connected')

    const [popup] = await Promise.all([page.waitForEvent('popup'), row(page, 'oidc').getByRole('button').click()])
    // Listen before answering: on a busy machine the page may close the popup before the click returns.
    const closed = popup.isClosed() ? Promise.resolve() : popup.waitForEvent('close')
    await signInAndAnswer(popup, 'Allow')
    await closed

    await row(page, 'oidc').locator('[data-status="connected"]').waitFor()
    assert.match(await message(page).textContent(), /connected/)
    const accounts = await stack.broker.accounts('ada')
    assert.equal(accounts.length, 1)
    assert.equal(accounts[0].status, 'ACTIVE')
    assert.equal(accounts[0].toolkit.slug, 'oidc')
  })

  test('a user who denies consent sees why, and nothing is connected', async () => {
    const page = await openPage(`${stack.widgetUrl}/?user=bo`)
    const [popup] = await Promise.all([page.waitForEvent('popup'), row(page, 'oidc').getByRole('button').click()])
    await signInAndAnswer(popup, 'Deny')
    await page.locator('#message[data-code="CONNECTION_REQUEST_FAILED"]').waitFor()
    assert.match(await message(page).textContent(), /^ConnectionRequestFailedError: /)
    assert.equal(await row(page, 'oidc').locator('.status').getAttribute('data-status'), 'not-connected')
    const [account] = await stack.broker.accounts('bo')
    assert.equal(account.status, 'FAILED')
  })

  test('closing the popup before finishing rejects with POPUP_CLOSED', async () => {
    const page = await openPage(`${stack.widgetUrl}/?user=cy`)
    const [popup] = await Promise.all([page.waitForEvent('popup'), row(page, 'oidc').getByRole('button').click()])
    await popup.locator('input[name=login]').waitFor()
    await popup.close()
    await page.locator('#message[data-code="POPUP_CLOSED"]').waitFor()
    const [account] = await stack.broker.accounts('cy')
    assert.equal(account.status, 'INITIATED', 'the link stays open until it expires')
  })

  test('connects by sending the whole page through the Connect Link and back', async () => {
    const page = await openPage(`${stack.widgetUrl}/?user=di&redirect=1`)
    await row(page, 'oidc').getByRole('button').click()
    await page.waitForURL((u) => !u.toString().startsWith(stack.widgetUrl))
    await signInAndAnswer(page, 'Allow')
    await page.waitForURL((u) => u.toString().startsWith(stack.widgetUrl))
    await row(page, 'oidc').locator('[data-status="connected"]').waitFor()
    assert.match(await message(page).textContent(), /oidc connected/)
    const here = new URL(page.url())
    assert.equal(here.searchParams.get('connected_account_id'), null, 'the broker parameters are removed from the address bar')
    assert.equal(here.searchParams.get('user'), 'di', "the page's own parameters are kept")
    const [account] = await stack.broker.accounts('di')
    assert.equal(account.status, 'ACTIVE')
  })

  test('a page on an origin the project does not allow cannot call the API', async () => {
    const page = await openPage(`${stack.otherOriginUrl}/?user=eve`)
    await page.locator('#message[data-code="NETWORK"]').waitFor()
    assert.equal(await page.locator('li').count(), 0)
    // Even a hand-written request with a valid token is refused by the browser (no CORS answer).
    const { token } = await stack.broker.clientToken('eve', 60)
    const outcome = await page.evaluate(async ([base, t]) => {
      try {
        await fetch(`${base}/api/v3.1/client_token/session`, { headers: { authorization: `Bearer ${t}` } })
        return 'answered'
      } catch (e) {
        return e.name
      }
    }, [stack.broker.baseUrl, token])
    assert.equal(outcome, 'TypeError')
    assert.deepEqual(await stack.broker.accounts('eve'), [])
  })
})

describe('@grantline/web in the page', () => {
  /** Runs `fn(web, arg)` in a page on the allowed origin, where `web` is the imported package. */
  async function inPage(fn, arg) {
    const page = await openPage(`${stack.widgetUrl}/?user=page-api`)
    return page.evaluate(async ([src, a]) => {
      const web = await import('/grantline-web/index.js')
      // eslint-disable-next-line no-new-func
      return new Function('web', 'arg', `return (${src})(web, arg)`)(web, a)
    }, [fn.toString(), arg])
  }

  test('authorize gives a Connect Link; waitForConnection times out with a typed error; toolkits lists', async () => {
    const { token } = await stack.broker.clientToken('fay', 60)
    const out = await inPage(async (web, { baseUrl, token }) => {
      const gl = await web.GrantlineWeb.init({ baseUrl, clientToken: token })
      const req = await gl.authorize('oidc', {})
      const waited = await req.waitForConnection(300).catch((e) => e)
      const { items } = await gl.toolkits({ toolkits: ['oidc'] })
      const bad = await gl.authorize('oidc', { callbak: 'x' }).catch((e) => e)
      return {
        userId: gl.userId, id: req.id, redirectUrl: req.redirectUrl,
        timeout: [waited instanceof web.ConnectionRequestTimeoutError, waited instanceof web.GrantlineError, waited.code, waited.connectedAccountId],
        toolkit: [items.length, items[0].slug, items[0].isConnected],
        bad: [bad instanceof web.ValidationError, bad.code, bad.field],
      }
    }, { baseUrl: stack.broker.baseUrl, token })
    assert.equal(out.userId, 'fay')
    assert.match(out.id, /^ca_/)
    assert.ok(out.redirectUrl.startsWith(`${stack.broker.baseUrl}/link/ln_`))
    assert.deepEqual(out.timeout, [true, true, 'CONNECTION_REQUEST_TIMEOUT', out.id])
    assert.deepEqual(out.toolkit, [1, 'oidc', false])
    assert.deepEqual(out.bad, [true, 'VALIDATION', 'callbak'])
    assert.equal((await stack.broker.accounts('fay')).length, 1, 'the bad call created nothing')
  })

  test('a broker that stops answering: the wait rejects at its timeoutMs with ConnectionRequestTimeoutError', async () => {
    // The real broker behind a proxy that forwards everything but never answers the long-poll.
    const stalled = []
    const upstream = new URL(stack.broker.baseUrl)
    const proxy = http.createServer((req, res) => {
      if (req.method === 'GET' && new URL(req.url, upstream).pathname.endsWith('/wait')) return stalled.push(res)
      const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url,
        headers: { ...req.headers, host: upstream.host } }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers)
        answer.pipe(res)
      })
      req.pipe(forward)
    })
    await new Promise((r) => proxy.listen(0, '127.0.0.1', r))
    try {
      const { token } = await stack.broker.clientToken('ivo', 60)
      const out = await inPage(async (web, { baseUrl, token }) => {
        const gl = await web.GrantlineWeb.init({ baseUrl, clientToken: token })
        const req = await gl.authorize('oidc', {})
        // Without its deadline the request would hang for good; 10 s stands for "never" here.
        const never = new Promise((resolve) => setTimeout(() => resolve(new Error('still waiting')), 10000))
        const e = await Promise.race([req.waitForConnection(500).then(() => new Error('resolved'), (err) => err), never])
        return [e instanceof web.ConnectionRequestTimeoutError, e.code, e.connectedAccountId === req.id, e.message]
      }, { baseUrl: `http://127.0.0.1:${proxy.address().port}`, token })
      assert.deepEqual(out.slice(0, 3), [true, 'CONNECTION_REQUEST_TIMEOUT', true], out[3])
      assert.ok(stalled.length > 0, 'the wait reached the endpoint that never answers')
    } finally {
      proxy.closeAllConnections()
      proxy.close()
    }
  })

  test('a link left unfinished expires and the wait rejects with EXPIRED', async () => {
    const { token } = await stack.shortBroker.clientToken('gus', 60)
    const out = await inPage(async (web, { baseUrl, token }) => {
      const gl = await web.GrantlineWeb.init({ baseUrl, clientToken: token })
      const req = await gl.authorize('oidc', {})
      const e = await req.waitForConnection(15000).catch((err) => err)
      return [e instanceof web.ConnectionRequestFailedError, e.code, e.accountStatus]
    }, { baseUrl: stack.shortBroker.baseUrl, token })
    assert.deepEqual(out, [true, 'CONNECTION_REQUEST_FAILED', 'EXPIRED'])
  })

  test('an expired client token is refused', async () => {
    const { token } = await stack.broker.clientToken('hal', 1)
    await new Promise((r) => setTimeout(r, 1200))
    const out = await inPage(async (web, { baseUrl, token }) => {
      const e = await web.GrantlineWeb.init({ baseUrl, clientToken: token }).catch((err) => err)
      return [e instanceof web.AuthenticationError, e.code, e.message]
    }, { baseUrl: stack.broker.baseUrl, token })
    assert.equal(out[0], true)
    assert.equal(out[1], 'UNAUTHORIZED')
    assert.match(out[2], /expired/)
  })

  test('every error code reaches the page as its class with its fields', async () => {
    // The shared scenarios (tests/scenarios/errors.json, kept equal to the core by its tests),
    // answered by a local server standing in for the broker's error answers, CORS included.
    const scenarios = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'scenarios', 'errors.json'), 'utf8'))
    let answer = null
    const server = http.createServer((req, res) => {
      const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' }
      if (req.method === 'OPTIONS') return res.writeHead(204, cors).end()
      res.writeHead(answer.http_status, { ...cors, 'content-type': 'application/json' }).end(JSON.stringify(answer.body))
    })
    await new Promise((r) => server.listen(0, '127.0.0.1', r))
    try {
      const baseUrl = `http://127.0.0.1:${server.address().port}`
      for (const scenario of scenarios) {
        answer = scenario
        const got = await inPage(async (web, { baseUrl }) => {
          const e = await web.GrantlineWeb.init({ baseUrl, clientToken: 'ct_test' }).then(() => null, (err) => err)
          return e && { name: e.name, isClass: e instanceof web.GrantlineError, message: e.message, fields: { ...e } }
        }, { baseUrl })
        assert.equal(got.name, scenario.class)
        assert.ok(got.isClass)
        assert.equal(got.message, scenario.message)
        for (const [key, value] of Object.entries(scenario.fields)) {
          const camel = key.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
          assert.deepEqual(got.fields[camel], value, `${scenario.class}.${camel}`)
        }
      }
    } finally {
      server.close()
    }
  })
})

test('no request from any page or popup carried the project API key', async () => {
  await Promise.all(recording)
  assert.ok(requests.length > 20, `saw ${requests.length} requests`)
  for (const key of [stack.broker.apiKey, stack.shortBroker.apiKey]) {
    for (const r of requests) {
      assert.equal(r.headers['x-api-key'], undefined, r.url)
      assert.ok(!JSON.stringify(r).includes(key), `the API key left the browser in ${r.url}`)
    }
  }
  assert.ok(requests.some((r) => (r.headers.authorization || '').startsWith('Bearer glct_')), 'the pages used client tokens')

})
