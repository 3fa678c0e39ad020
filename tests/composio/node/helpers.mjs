// Fixtures of the Composio-compatibility suite for Node: the official `@composio/core` (npm)
// pointed at real `grantline serve` processes with nothing but `baseURL` and an API key.
//
// The broker, the oidc-provider start-up and the browser stand-in are the Node SDK tests' own
// helpers (bindings-node/test/helpers.js). This file adds a guard that refuses every request to
// a non-loopback host (and fails the test that made it), a recorder of the SDK's HTTP exchanges
// that is appended to a failing test's error, an HTTP proxy in front of oidc-provider that records
// what the broker sends it, and the story helpers the tests share.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
const helpers = require('../../../bindings-node/test/helpers.js')

export const { APP, QUICK_WEBHOOKS, REPO, Browser, freePort, waitForLine, startBroker, query } = helpers
export const startWebhookReceiver = helpers.startReceiver

// The SDK keeps nothing of the developer's: its home, telemetry and version check are off.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'composio-node-home-'))
process.env.HOME = home
process.env.TELEMETRY_DISABLED = 'true'
process.env.COMPOSIO_LOG_LEVEL = process.env.COMPOSIO_LOG_LEVEL || 'warn'
for (const v of ['COMPOSIO_API_KEY', 'COMPOSIO_BASE_URL', 'COMPOSIO_USER_API_KEY', 'COMPOSIO_ORG_API_KEY']) delete process.env[v]

// --- no test leaves the machine; what the SDK sent and what the broker answered -----------------
export const OUTBOUND = []
export const EXCHANGES = []
const realFetch = globalThis.fetch
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

globalThis.fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input))
  if (!LOOPBACK.has(url.hostname)) {
    OUTBOUND.push(url.href)
    throw new TypeError(`composio compatibility tests stay on loopback (refused ${url.host})`)
  }
  if (!url.pathname.startsWith('/api/')) return realFetch(input, init)
  const method = (init?.method || (input instanceof Request ? input.method : 'GET')).toUpperCase()
  let body = init?.body ?? null
  if (input instanceof Request && body === null) body = await input.clone().text()
  const res = await realFetch(input, init)
  const text = await res.clone().text()
  const parse = (t) => { try { return t ? JSON.parse(t) : null } catch { return t } }
  EXCHANGES.push({ method, path: url.pathname + url.search, body: parse(typeof body === 'string' ? body : null), status: res.status, answer: parse(text) })
  return res
}

const short = (v, n = 1200) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v)
  return s && s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s
}

export function formatExchanges(list) {
  return list.map((x) => {
    const keys = x.body && typeof x.body === 'object' && !Array.isArray(x.body) ? Object.keys(x.body).sort() : null
    return `${x.method} ${x.path}  body keys=${JSON.stringify(keys)}  body=${short(x.body, 600)}\n  -> ${x.status} ${short(x.answer)}`
  }).join('\n')
}

/** Wraps a test body: a failure carries the HTTP exchanges; any outbound attempt fails it. */
export function story(fn) {
  return async (t) => {
    const start = EXCHANGES.length
    const outbound = OUTBOUND.length
    try {
      await fn(t)
    } catch (err) {
      err.message += `\n--- SDK HTTP exchanges (request the SDK sent -> broker's answer) ---\n${formatExchanges(EXCHANGES.slice(start)) || '(none)'}`
      throw err
    }
    if (OUTBOUND.length > outbound) throw new Error(`something tried to reach the internet: ${OUTBOUND.slice(outbound).join(', ')}`)
  }
}

// --- the official SDK, from the folder scripts/test-composio.sh installs it into -----------------
const SDK_DIR = process.env.COMPOSIO_NODE_DIR || path.join(REPO, 'target', 'composio-node')
const sdkRequire = createRequire(path.join(SDK_DIR, 'package.json'))
export const core = await import(pathToFileURL(sdkRequire.resolve('@composio/core')).href)
export const client = await import(pathToFileURL(sdkRequire.resolve('@composio/client')).href)

/** What an app does: the official SDK, only `baseURL` and the API key changed. */
export function composioFor(broker, options = {}) {
  return new core.Composio({ apiKey: broker.apiKey, baseURL: broker.baseUrl, allowTracking: false, disableVersionCheck: true, ...options })
}

// --- an HTTP proxy in front of the OAuth provider -----------------------------------------------
/** Forwards to 127.0.0.1:`targetPort` keeping the Host header and records each request. */
export async function startRecordingProxy(targetPort) {
  const requests = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const headers = { ...req.headers }
      delete headers.connection
      const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers }, (ans) => {
        const out = []
        ans.on('data', (c) => out.push(c))
        ans.on('end', () => {
          const data = Buffer.concat(out)
          requests.push({ method: req.method, path: new URL(req.url, 'http://x').pathname, body: body.toString(), status: ans.statusCode, answer: data.toString() })
          const h = { ...ans.headers }
          delete h['transfer-encoding']
          delete h.connection
          h['content-length'] = String(data.length)
          res.writeHead(ans.statusCode, h).end(data)
        })
      })
      up.on('error', (e) => res.writeHead(502).end(String(e)))
      up.end(body)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}`
  return {
    url, requests,
    issuedTokens() {
      const tokens = new Set()
      for (const r of requests) {
        if (!r.path.endsWith('/token') || r.status !== 200) continue
        const a = JSON.parse(r.answer)
        for (const k of ['access_token', 'refresh_token']) if (a[k]) tokens.add(a[k])
      }
      return tokens
    },
    callsTo: (p) => requests.filter((r) => r.path === p),
    stop: () => server.close(),
  }
}

/** A broker that knows tests/oidc-provider as toolkit `oidc` (through a recording proxy when `proxied`). */
export async function startOidc({ proxied = false } = {}) {
  const port = await freePort()
  const provider = spawn('node', ['server.mjs'], {
    cwd: path.join(REPO, 'tests', 'oidc-provider'),
    env: { ...process.env, REDIRECT_URIS: `http://127.0.0.1:${port}/oauth/callback`, CLIENT_ID: 'grantline-node', CLIENT_SECRET: 'node-secret' },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const endpoints = JSON.parse((await waitForLine(provider, /^\{/)).at(-1))
  const discovery = await (await realFetch(`${endpoints.issuer}/.well-known/openid-configuration`)).json()
  let toml = endpoints.toolkit_toml
  const proxy = proxied ? await startRecordingProxy(endpoints.port) : null
  if (proxy) toml = toml.replaceAll(endpoints.issuer, proxy.url)
  const providers = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'composio-oidc-')), 'providers.toml')
  fs.writeFileSync(providers, toml)
  const broker = await startBroker({ dev: false, port, providers })
  await broker.addAuthConfig('oidc', 'grantline-node', 'node-secret', 'openid,email,profile')
  const stop = broker.stop
  return Object.assign(broker, {
    proxy,
    revocationPath: new URL(discovery.revocation_endpoint).pathname,
    stop() {
      stop()
      provider.kill('SIGKILL')
      proxy?.stop()
    },
  })
}

// --- the user's side of a Connect Link ----------------------------------------------------------
/** The user opens the link and answers the provider; resolves where the browser ended. */
export async function completeLink(url, toolkit, { allow = true, login = 'alice' } = {}) {
  const browser = new Browser()
  if (toolkit === 'sandbox') {
    const res = await browser.request(url)
    const authorize = new URL(res.headers.get('location'))
    const form = { ...Object.fromEntries(authorize.searchParams), user: 'octocat', decision: allow ? 'allow' : 'deny' }
    return browser.walk(`${authorize.origin}${authorize.pathname}`, form)
  }
  let page = await browser.walk(url)
  page = await browser.walk(formAction(page, '/login'), { login, password: 'secret' })
  return browser.walk(formAction(page, allow ? '/confirm' : '/abort'), {})
}

function formAction(page, suffix) {
  const action = [...(page.html || '').matchAll(/action="([^"]+)"/g)].map((m) => m[1]).find((a) => a.endsWith(suffix))
  if (!action) throw new Error(`no form posting to …${suffix} in ${page.html ?? JSON.stringify(page)}`)
  return new URL(action, page.url).toString()
}

/** Completes the link once the SDK's waiter has asked the broker about `accountId`. */
export async function userCompletesAfterTheWaitStarted(accountId, url, toolkit, options) {
  const mark = EXCHANGES.length
  const deadline = Date.now() + 30000
  while (!EXCHANGES.slice(mark).some((x) => x.method === 'GET' && x.path.includes(accountId))) {
    if (Date.now() > deadline) throw new Error('the SDK never asked the broker about the account')
    await new Promise((r) => setTimeout(r, 20))
  }
  return completeLink(url, toolkit, options)
}

/** The first value stored under `key` anywhere in a JSON-like value. */
export function findKey(value, key) {
  if (value && typeof value === 'object') {
    if (!Array.isArray(value) && key in value) return value[key]
    for (const v of Object.values(value)) {
      const found = findKey(v, key)
      if (found !== undefined && found !== null) return found
    }
  }
  return undefined
}

/** An OpenAI chat completion whose assistant message calls these tools. */
export function modelSays(...calls) {
  return {
    id: 'chatcmpl-test', object: 'chat.completion', created: 0, model: 'scripted-model',
    choices: [{ index: 0, finish_reason: 'tool_calls', logprobs: null, message: {
      role: 'assistant', content: null, refusal: null,
      tool_calls: calls.map(([name, args], i) => ({ id: `call_${i}`, type: 'function', function: { name, arguments: JSON.stringify(args) } })),
    } }],
  }
}
