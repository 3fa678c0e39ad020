// Fixtures of the browser tests: npm's oidc-provider, two real brokers (one with a 1-second link
// lifetime), the onboarding-widget example on an allowed origin and on one the project does not
// allow, and Debian's Chromium driven by playwright-core. Everything listens on 127.0.0.1.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { chromium } from 'playwright-core'

// Port picking, the test broker and start-up line reading are the Node SDK tests' own helpers.
import helpers from '../../bindings-node/test/helpers.js'

const { freePort, spawnTestBroker, stopTestBroker, waitForLine } = helpers

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run']

async function startBroker({ port, providers, origin, linkTtlSecs, brokers }) {
  const { child, started } = await spawnTestBroker(['--no-dev', '--bind', `127.0.0.1:${port}`,
    '--link-ttl-secs', String(linkTtlSecs), '--providers', providers, '--allowed-origins', origin, '--allowed-callback-urls', origin])
  brokers.push(child)
  const apiKey = started.api_key
  const baseUrl = `http://127.0.0.1:${port}`
  const api = async (method, route, body) => {
    const res = await fetch(`${baseUrl}/api/v3.1${route}`, {
      method, headers: { 'x-api-key': apiKey, 'content-type': 'application/json' }, body: body && JSON.stringify(body),
    })
    const json = await res.json()
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${JSON.stringify(json)}`)
    return json
  }
  await api('POST', '/auth_configs', { toolkit: { slug: 'oidc' }, auth_config: { type: 'use_custom_auth', auth_scheme: 'OAUTH2',
    credentials: { client_id: 'grantline-web', client_secret: 'web-secret', scopes: 'openid,email,profile' } } })
  return {
    baseUrl, apiKey, api,
    /** The user's accounts, as the app's backend sees them. */
    async accounts(userId) {
      return (await api('GET', `/connected_accounts?user_ids=${encodeURIComponent(userId)}`)).items
    },
    /** A session for `userId` and a client token for it, minted with the API key (the backend's job). */
    async clientToken(userId, ttlSeconds) {
      const session = await api('POST', '/tool_router/session', { user_id: userId, toolkits: ['oidc'] })
      return api('POST', `/tool_router/session/${session.session_id}/client_token`, { ttl_seconds: ttlSeconds })
    },
  }
}

async function startWidget({ port, broker, children }) {
  const env = { ...process.env, PORT: String(port), GRANTLINE_API_KEY: broker.apiKey, GRANTLINE_BASE_URL: broker.baseUrl,
    GRANTLINE_TOOLKITS: 'oidc,hackernews' }
  const child = spawn('node', ['server.mjs'], { cwd: path.join(REPO, 'examples', 'onboarding-widget'), env,
    stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  await waitForLine(child, /^onboarding widget on /)
  return `http://127.0.0.1:${port}`
}

/** Debian's Chromium, headless, through playwright-core. */
export function launchChromium() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS })
}

/** Starts everything; `stop()` ends it all. The brokers also allow `extraOrigins` (pages a test serves). */
export async function startStack({ extraOrigins = [] } = {}) {
  const children = []
  const dirs = []
  const [mainPort, shortPort, widgetPort, otherPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()])
  const harness = path.join(REPO, 'tests', 'oidc-provider')
  const provider = spawn('node', ['server.mjs'], {
    cwd: harness,
    env: { ...process.env, CLIENT_ID: 'grantline-web', CLIENT_SECRET: 'web-secret',
      REDIRECT_URIS: [mainPort, shortPort].map((p) => `http://127.0.0.1:${p}/oauth/callback`).join(',') },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  children.push(provider)
  const e = JSON.parse((await waitForLine(provider, /^\{/)).at(-1))
  const providersDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-web-oidc-'))
  dirs.push(providersDir)
  const providers = path.join(providersDir, 'providers.toml')
  fs.writeFileSync(providers, e.toolkit_toml)
  const widgetOrigin = `http://127.0.0.1:${widgetPort}`
  const brokers = []
  const common = { providers, origin: [widgetOrigin, ...extraOrigins].join(','), brokers }
  const broker = await startBroker({ ...common, port: mainPort, linkTtlSecs: 600 })
  const shortBroker = await startBroker({ ...common, port: shortPort, linkTtlSecs: 1 })
  const widgetUrl = await startWidget({ port: widgetPort, broker, children })
  const otherOriginUrl = await startWidget({ port: otherPort, broker, children })
  const browser = await launchChromium()
  return {
    broker, shortBroker, widgetUrl, otherOriginUrl, browser,
    async stop() {
      await browser.close()
      for (const c of children) c.kill('SIGKILL')
      // The brokers stop as at the end of a test run: their temporary databases go with them.
      await Promise.all(brokers.map(stopTestBroker))
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
    },
  }
}

/** Signs in to the oidc-provider in `page` (a popup or the whole tab) and answers its consent. */
export async function signInAndAnswer(page, answer) {
  await page.locator('input[name=login]').fill('alice')
  await page.locator('input[name=password]').fill('secret')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: answer }).click()
}
