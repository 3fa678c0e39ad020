'use strict'
// Test fixtures: a real `grantline serve --test` on a free port with a temporary SQLite file, npm's
// oidc-provider as the OAuth provider, and a cookie-keeping browser stand-in.
const { execFileSync, spawn } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const readline = require('node:readline')

const REPO = path.resolve(__dirname, '..', '..')
const APP = 'https://app.example.com'

/**
 * A free loopback port below the kernel's ephemeral range (32768 and up), so no process that
 * listens on port 0 or opens a connection can take it before the test uses it.
 */
function freePort() {
  return new Promise((resolve) => {
    const attempt = () => {
      const port = 20000 + Math.floor(Math.random() * 12768)
      const srv = net.createServer()
      srv.once('error', attempt)
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(port)))
    }
    attempt()
  })
}

/** Resolves with the first stdout line matching `re` (and the lines before it). */
function waitForLine(child, re) {
  return new Promise((resolve, reject) => {
    const lines = []
    const rl = readline.createInterface({ input: child.stdout })
    rl.on('line', (line) => {
      lines.push(line)
      if (re.test(line)) resolve(lines)
    })
    child.on('exit', (code) => reject(new Error(`exited with ${code} before printing ${re}`)))
    child.on('error', (e) => reject(new Error(`could not start (${e.message}) to read ${re}`)))
  })
}

/**
 * The broker's database: a SQLite file in `dir`, or with GRANTLINE_TEST_DATABASE=postgres a fresh
 * database on the PostgreSQL server at GRANTLINE_TEST_POSTGRES_URL (scripts/test.sh).
 */
let databases = 0
function databaseUrl(dir) {
  if (process.env.GRANTLINE_TEST_DATABASE !== 'postgres') return `sqlite://${dir}/grantline.db`
  const server = new URL(process.env.GRANTLINE_TEST_POSTGRES_URL)
  const name = `grantline_node_${process.pid}_${databases++}`
  execFileSync('psql', [server.toString(), '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${name}`])
  server.pathname = `/${name}`
  return server.toString()
}

/**
 * Starts `grantline serve --test ARGS` (the one test broker of every suite) and resolves with the
 * child and the JSON line it prints once it listens: `{ url, api_key, database_url,
 * encryption_key }`. Its stdin stays open: the broker stops when it closes, so it dies with this
 * process. Also used by the browser tests.
 */
async function spawnTestBroker(args) {
  const bin = process.env.GRANTLINE_BIN || path.join(REPO, 'target', 'debug', 'grantline')
  const env = { ...process.env, GRANTLINE_LOG: 'warn' }
  delete env.GRANTLINE_DEV
  const child = spawn(bin, ['serve', '--test', ...args], { env, stdio: ['pipe', 'pipe', 'inherit'] })
  const [line] = await waitForLine(child, /^\{/)
  return { child, started: JSON.parse(line) }
}

/**
 * Stops a broker from `spawnTestBroker` as a test runner's exit would: closes its stdin, so it
 * shuts down and removes its temporary database; kills it if it has not exited after 5 s.
 */
function stopTestBroker(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    child.stdin.end()
  })
}

/**
 * Starts a test broker; `stop()` kills it. `databaseUrl` and `encryptionKey` start it on a
 * database another broker set up (its `apiKey` is then null).
 */
async function startBroker({ dev = true, port = 0, providers = null, linkTtlSecs = 600, extraArgs = [], databaseUrl: db = null, encryptionKey = null } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-node-'))
  const args = ['--database-url', db || databaseUrl(dir), '--link-ttl-secs', String(linkTtlSecs), '--allowed-callback-urls', `${APP}/done`]
  if (port) args.push('--bind', `127.0.0.1:${port}`)
  if (encryptionKey) args.push('--encryption-key', encryptionKey)
  if (!dev) args.push('--no-dev')
  if (providers) args.push('--providers', providers)
  args.push(...extraArgs)
  const { child, started } = await spawnTestBroker(args)
  const { url: baseUrl, api_key: apiKey } = started
  return {
    apiKey, baseUrl, dir, databaseUrl: started.database_url, encryptionKey: started.encryption_key,
    async addAuthConfig(toolkit, clientId, clientSecret, scopes) {
      const res = await fetch(`${baseUrl}/api/v3.1/auth_configs`, {
        method: 'POST',
        headers: { 'x-api-key': apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ toolkit: { slug: toolkit }, auth_config: { type: 'use_custom_auth', auth_scheme: 'OAUTH2',
          credentials: { client_id: clientId, client_secret: clientSecret, scopes } } }),
      })
      if (res.status !== 201) throw new Error(`auth config: ${res.status} ${await res.text()}`)
    },
    stop() {
      child.kill('SIGKILL')
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Flags of a broker that retries webhook deliveries after a fifth of a second. */
const QUICK_WEBHOOKS = ['--webhook-first-retry-secs', '0.2', '--webhook-poll-secs', '0.1', '--webhook-timeout-secs', '2']

/** A broker that knows tests/oidc-provider as toolkit `oidc`, with an auth config for it. */
async function startOidcBroker() {
  const port = await freePort()
  const harness = path.join(REPO, 'tests', 'oidc-provider')
  const provider = spawn('node', ['server.mjs'], {
    cwd: harness,
    env: { ...process.env, REDIRECT_URIS: `http://127.0.0.1:${port}/oauth/callback`, CLIENT_ID: 'grantline-node', CLIENT_SECRET: 'node-secret' },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const [line] = (await waitForLine(provider, /^\{/)).slice(-1)
  const e = JSON.parse(line)
  const providers = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-oidc-')), 'providers.toml')
  fs.writeFileSync(providers, e.toolkit_toml)
  const broker = await startBroker({ dev: false, port, providers })
  await broker.addAuthConfig('oidc', 'grantline-node', 'node-secret', 'openid,email,profile')
  const stop = broker.stop
  broker.stop = () => {
    stop()
    provider.kill('SIGKILL')
  }
  return broker
}

/** Keeps cookies and follows redirects one at a time, like a user's browser. */
class Browser {
  constructor() {
    this.cookies = new Map()
  }

  async request(url, form) {
    const headers = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }
    const init = { redirect: 'manual', headers }
    if (form) {
      init.method = 'POST'
      init.body = new URLSearchParams(form)
    }
    const res = await fetch(url, init)
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const i = pair.indexOf('=')
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1))
    }
    return res
  }

  /** Follows redirects from `url`; returns { stopped: url } at `stop`, else { url, status, html }. */
  async walk(url, form, stop = APP) {
    let res = await this.request(url, form)
    for (let i = 0; i < 20; i++) {
      if (res.status < 300 || res.status >= 400) return { url, status: res.status, html: await res.text() }
      url = new URL(res.headers.get('location'), url).toString()
      if (url.startsWith(stop)) return { stopped: url }
      res = await this.request(url)
    }
    throw new Error('too many redirects')
  }

  /** Opens a Connect Link to the oidc-provider, signs in and answers consent. */
  async oidcSignIn(redirectUrl, consent = '/confirm') {
    let page = await this.walk(redirectUrl)
    page = await this.walk(formAction(page, '/login'), { login: 'alice', password: 'secret' })
    return this.walk(formAction(page, consent), {})
  }

  /** Opens a Connect Link on a --dev broker and answers the sandbox consent page. */
  async sandboxConsent(redirectUrl) {
    const res = await this.request(redirectUrl)
    const authorize = new URL(res.headers.get('location'))
    const form = { ...Object.fromEntries(authorize.searchParams), user: 'octocat', decision: 'allow' }
    return this.walk(`${authorize.origin}${authorize.pathname}`, form)
  }
}

function formAction(page, suffix) {
  const action = [...page.html.matchAll(/action="([^"]+)"/g)].map((m) => m[1]).find((a) => a.endsWith(suffix))
  if (!action) throw new Error(`no form posting to …${suffix} in ${page.html}`)
  return new URL(action, page.url).toString()
}

function query(url) {
  return Object.fromEntries(new URL(url).searchParams)
}

/**
 * An app's webhook endpoint on 127.0.0.1 whose URL ends with `urlPath` (also used by the
 * Composio-compatibility suite): records every POST (path, headers, raw body) and answers 200.
 */
async function startReceiver(urlPath = '/webhooks/grantline') {
  const got = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      got.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') })
      res.writeHead(200).end()
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}${urlPath}`,
    got,
    ofType: (type) => got.filter((g) => JSON.parse(g.body).type === type),
    /** What it got, once `done` holds of it; rejects saying what it got after `timeoutMs`. */
    async waitFor(what, done, timeoutMs = 15000) {
      const deadline = Date.now() + timeoutMs
      while (!done(got)) {
        if (Date.now() > deadline) throw new Error(`${what}: the receiver got ${JSON.stringify(got.map((g) => JSON.parse(g.body)))}`)
        await new Promise((r) => setTimeout(r, 50))
      }
      return [...got]
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  }
}

module.exports = { APP, QUICK_WEBHOOKS, REPO, Browser, freePort, waitForLine, spawnTestBroker, stopTestBroker, startBroker, startOidcBroker, startReceiver, query }
