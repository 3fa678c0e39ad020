'use strict'
// The shared stories of tests/scenarios/stories.json, run through the Node SDK. This file
// interprets the steps (tests/scenarios/README.md lists them); the Rust
// (server/tests/scenarios.rs) and Python (bindings-py/tests/test_scenarios.py) runners run the
// same stories.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { test } = require('node:test')

const { APP, REPO, Browser, query, startBroker } = require('./helpers.js')
const { Grantline, GrantlineError } = require('..')

const STORIES = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'scenarios', 'stories.json'), 'utf8'))

class StoryFailed extends Error {}

const account = (a) => ({ id: a.id, status: a.status, user_id: a.userId, toolkit: a.toolkit, alias: a.alias ?? null, is_disabled: a.isDisabled, reconnecting: a.reconnecting })

const project = (p) => ({
  display_name: p.displayName ?? null, support_url: p.supportUrl ?? null, user_verification_url: p.userVerificationUrl ?? null,
  verify_connect_links: p.verifyConnectLinks,
})

/** An SDK error as the stories state errors. */
function error(e) {
  const out = { code: e.code, message: e.message }
  for (const [ours, theirs] of [['field', 'field'], ['account_status', 'accountStatus'], ['reason', 'statusReason'], ['connected_account_id', 'connectedAccountId']]) {
    if (e[theirs] !== undefined && e[theirs] !== null) out[ours] = e[theirs]
  }
  return out
}

/**
 * `actual` matches `expected`: objects by the keys given, lists item by item, and the matchers
 * $prefix, $contains, $contains_all, $lacks, $absent.
 */
function check(actual, expected, at, present = true) {
  const fail = () => { throw new StoryFailed(`${at}: expected ${JSON.stringify(expected)}, got ${present ? JSON.stringify(actual) : 'nothing'}`) }
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
  if (isObject(expected) && Object.keys(expected).some((k) => k.startsWith('$'))) {
    const [[matcher, arg]] = Object.entries(expected)
    const text = present && typeof actual === 'string' ? actual : null
    const ok = {
      $absent: () => !present || actual === null || actual === undefined,
      $prefix: () => text !== null && text.startsWith(arg),
      $contains: () => text !== null && text.includes(arg),
      $contains_all: () => text !== null && arg.every((a) => text.includes(a)),
      $lacks: () => present && Array.isArray(actual) && !actual.includes(arg),
    }[matcher]
    if (!ok) throw new Error(`unknown matcher ${matcher}`)
    if (!ok()) fail()
  } else if (isObject(expected)) {
    if (!present || !isObject(actual)) fail()
    for (const [k, v] of Object.entries(expected)) check(actual[k], v, `${at}.${k}`, k in actual && actual[k] !== undefined)
  } else if (Array.isArray(expected)) {
    if (!present || !Array.isArray(actual) || actual.length !== expected.length) fail()
    expected.forEach((w, i) => check(actual[i], w, `${at}[${i}]`))
  } else if (!present || actual !== expected) {
    fail()
  }
}

/** The user's browser opens a Connect Link and, with a decision, answers the sandbox consent page. */
async function openLink(url, decision) {
  const browser = new Browser()
  let walked
  if (!decision) {
    walked = await browser.walk(url)
  } else {
    const res = await browser.request(url)
    if (res.status < 300 || res.status >= 400) throw new StoryFailed(`the link sends the browser to the provider, not ${res.status}`)
    const authorize = new URL(res.headers.get('location'))
    const form = { ...Object.fromEntries(authorize.searchParams), user: 'octocat', decision }
    walked = await browser.walk(`${authorize.origin}${authorize.pathname}`, form)
  }
  return walked.stopped ? { landed: walked.stopped, query: query(walked.stopped) } : { status: walked.status, body: walked.html }
}

/** What a browser page holding a client token gets from the broker. */
async function asPage(broker, step) {
  const res = await fetch(`${broker.baseUrl}${step.path}`, {
    method: step.method,
    headers: { authorization: `Bearer ${step.token}`, 'content-type': 'application/json' },
    body: step.body === undefined ? undefined : JSON.stringify(step.body),
  })
  const text = await res.text()
  try {
    return { status: res.status, body: JSON.parse(text) }
  } catch {
    return { status: res.status, body: text }
  }
}

class Story {
  constructor(broker) {
    this.broker = broker
    this.gl = new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })
    this.values = { APP, BROKER: broker.baseUrl }
    this.sessions = {}
    this.requests = {}
    this.background = {}
  }

  /** `$name.path` is a value made earlier; `${name.path}` inside a string is replaced by it. */
  resolve(v) {
    if (typeof v === 'string' && v.startsWith('$') && !v.startsWith('${')) return this.lookup(v.slice(1))
    if (typeof v === 'string') {
      return v.replace(/\$\{([^}]+)\}/g, (_, p) => {
        const found = this.lookup(p)
        return typeof found === 'string' ? found : JSON.stringify(found)
      })
    }
    if (Array.isArray(v)) return v.map((i) => this.resolve(i))
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, i]) => [k, this.resolve(i)]))
    return v
  }

  lookup(p) {
    const [name, ...parts] = p.split('.')
    if (!(name in this.values)) throw new Error(`no value named ${name} yet`)
    return parts.reduce((v, k) => v[k], this.values[name])
  }

  session(step) {
    return this.sessions[step.session]
  }

  /** One step's outcome: ['ok', value] or ['error', error]. */
  async run(step) {
    try {
      return ['ok', await this.do(step)]
    } catch (e) {
      if (e instanceof GrantlineError) return ['error', error(e)]
      throw e
    }
  }

  async do(step) {
    switch (step.do) {
      case 'create_session': {
        const options = { toolkits: step.toolkits }
        if (step.direct_tools) options.directTools = step.direct_tools
        if (step.manage_connections !== undefined) options.manageConnections = step.manage_connections
        if (step.wait_for_connections) {
          options.manageConnections = { waitForConnections: true, ...(step.manage_connections === undefined ? {} : { enable: step.manage_connections }) }
        }
        const s = await this.gl.create(step.user_id, options)
        if (step.as) this.sessions[step.as] = s
        return { session_id: s.sessionId, user_id: s.userId, mcp_url: s.mcp.url }
      }
      case 'authorize': {
        const options = {}
        if (step.callback_url) options.callbackUrl = step.callback_url
        if (step.alias) options.alias = step.alias
        const r = await this.session(step).authorize(step.toolkit, options)
        if (step.as) this.requests[step.as] = r
        return { id: r.id, redirect_url: r.redirectUrl }
      }
      case 'wait_for_connection':
        return account(await this.requests[step.request].waitForConnection(step.timeout_ms))
      case 'get_account':
        return account(await this.gl.connectedAccounts.get(step.id))
      case 'list_accounts': {
        const filter = {}
        if (step.user_ids) filter.userIds = step.user_ids
        if (step.statuses) filter.statuses = step.statuses
        const page = await this.gl.connectedAccounts.list(filter)
        return { ids: page.items.map((a) => a.id), total_items: page.totalItems }
      }
      case 'refresh_account': {
        const r = await this.gl.connectedAccounts.refresh(step.id, step.callback_url === undefined ? undefined : { callbackUrl: step.callback_url })
        return { id: r.id, status: r.status, redirect_url: r.redirectUrl }
      }
      case 'revoke_account': {
        const r = await this.gl.connectedAccounts.revoke(step.id)
        return { id: r.id, status: r.status, provider_revocation: r.providerRevocation, revoked_tokens: [...r.revokedTokens].sort(), note: r.note ?? null }
      }
      case 'wait_for_account':
        return account(await this.gl.connectedAccounts.waitForConnection(step.id, step.timeout_ms))
      case 'update_project': {
        const changes = Object.fromEntries(Object.entries(step.changes).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), v]))
        return project(await this.gl.updateProject(changes))
      }
      case 'project':
        return project(await this.gl.project())
      case 'confirm_user': {
        const c = await this.gl.confirmUser(step.flow_id, step.user_id)
        return { matched: c.matched, flow_id: c.flowId, redirect_url: c.redirectUrl }
      }
      case 'delete_account':
        await this.gl.connectedAccounts.delete(step.id)
        return {}
      case 'list_toolkits': {
        const q = step.is_connected === undefined ? {} : { isConnected: step.is_connected }
        const page = await this.session(step).toolkits(q)
        return { items: page.items.map((t) => ({ slug: t.slug, is_connected: t.isConnected, connected_account_id: t.connection?.connectedAccountId ?? null })) }
      }
      case 'search': {
        const options = {}
        if (step.toolkits) options.toolkits = step.toolkits
        if (step.limit !== undefined) options.limit = step.limit
        const hits = await this.session(step).search(step.query, options)
        return { hits: hits.map((h) => ({ slug: h.slug, toolkit: h.toolkit, is_connected: h.isConnected })) }
      }
      case 'list_tools':
        return { slugs: (await this.session(step).tools()).map((t) => t.slug) }
      case 'execute': {
        const r = await this.session(step).execute(step.tool, step.arguments ?? {}, step.connected_account_id ? { connectedAccountId: step.connected_account_id } : undefined)
        return { successful: r.successful, data: r.data, error: r.error ?? null }
      }
      case 'execute_meta': {
        const r = await this.session(step).executeMeta(step.tool, step.arguments ?? {})
        return { data: r.data, error: r.error ?? null }
      }
      case 'client_token': {
        const t = await this.session(step).clientToken(step.ttl_seconds === undefined ? undefined : { ttlSeconds: step.ttl_seconds })
        return { id: t.id, token: t.token, session_id: t.sessionId, expires_at: t.expiresAt }
      }
      case 'revoke_client_token':
        await this.session(step).revokeClientToken(step.id)
        return {}
      case 'open_link':
        return openLink(step.url, step.decision)
      case 'as_page':
        return asPage(this.broker, step)
      case 'sleep':
        await new Promise((r) => setTimeout(r, step.ms))
        return {}
      case 'still_running': {
        await new Promise((r) => setTimeout(r, step.for_ms ?? 0))
        if (this.background[step.background].settled) throw new StoryFailed(`${step.background} is no longer running`)
        return {}
      }
      case 'join': {
        const { promise } = this.background[step.background]
        delete this.background[step.background]
        return promise
      }
      default:
        throw new Error(`unknown step ${step.do}`)
    }
  }
}

async function runStory(story, broker) {
  await runSteps(new Story(broker), story.steps)
}

/** Runs `steps` on the story `s`, checking each one's expectations. */
async function runSteps(s, steps) {
  for (const [i, raw] of steps.entries()) {
    const at = `step ${i + 1} (${raw.do})`
    const { expect: expected, expect_error: expectedError, ...rest } = raw
    const step = s.resolve(rest)
    if (step.background && step.do !== 'join' && step.do !== 'still_running') {
      const running = { settled: false }
      running.promise = s.run(step).finally(() => { running.settled = true })
      s.background[step.background] = running
      continue
    }
    const started = Date.now()
    const [kind, got] = step.do === 'join' ? await s.do(step) : await s.run(step)
    const took = Date.now() - started
    if (step.took_less_than_ms !== undefined && took >= step.took_less_than_ms) {
      throw new StoryFailed(`${at}: took ${took} ms, expected less than ${step.took_less_than_ms}`)
    }
    if (kind === 'ok' && expectedError) throw new StoryFailed(`${at}: expected the error ${JSON.stringify(expectedError)}, got ${JSON.stringify(got)}`)
    if (kind === 'error' && !expectedError) throw new StoryFailed(`${at}: failed with ${JSON.stringify(got)}`)
    if (kind === 'error') {
      check(got, s.resolve(expectedError), `${at} error`)
    } else {
      if (expected) check(got, s.resolve(expected), at)
      if (step.as) s.values[step.as] = got
    }
  }
}

for (const story of STORIES) {
  test(story.name, async (t) => {
    const opts = story.broker ?? {}
    const extraArgs = opts.max_wait_secs === undefined ? [] : ['--max-wait-secs', String(opts.max_wait_secs)]
    const broker = await startBroker({ linkTtlSecs: opts.link_ttl_secs ?? 600, extraArgs })
    t.after(() => broker.stop())
    await runStory(story, broker)
  })
}

// The SDKs' bad-argument matrix (tests/scenarios/bad_arguments.json): each case is a typed error
// naming the argument in JavaScript's spelling, and changes nothing.
const MATRIX = JSON.parse(fs.readFileSync(path.join(REPO, 'tests', 'scenarios', 'bad_arguments.json'), 'utf8'))
const HOST = 'node'

/** An argument's name (snake_case, as the data writes it) in JavaScript's spelling: `timeout_ms` is `timeoutMs`. */
const spell = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase())

/** Options in JavaScript's spelling, nested options included; headers, query and body are data, kept as written. */
function spellKeys(v) {
  if (Array.isArray(v)) return v.map(spellKeys)
  if (v === null || typeof v !== 'object') return v
  return Object.fromEntries(Object.entries(v).map(([k, i]) => [spell(k), ['headers', 'query', 'body'].includes(k) ? i : spellKeys(i)]))
}

/**
 * A value as the data writes it, with the builders `{"$loop": obj}`, `{"$deep": n}`,
 * `{"$not_json": true}` (a value JSON cannot hold: a function) and `{"$nan": true}`.
 */
function build(v) {
  if (Array.isArray(v)) return v.map(build)
  if (v === null || typeof v !== 'object') return v
  if ('$loop' in v) {
    const looped = build(v.$loop)
    looped.self = looped
    return looped
  }
  if ('$deep' in v) {
    let deep = {}
    for (let i = 0; i < v.$deep; i++) deep = { a: deep }
    return deep
  }
  if ('$not_json' in v) return () => 1
  if ('$nan' in v) return NaN
  return Object.fromEntries(Object.entries(v).map(([k, i]) => [k, build(i)]))
}

/** The case's SDK call, its options as an options object. */
async function badCall(s, c) {
  const options = build({ ...spellKeys(c.options ?? {}), ...(c.options_as_written ?? {}) })
  const session = () => s.session(c)
  switch (c.do) {
    case 'create_session': return s.gl.create(c.user_id, options)
    case 'use_session': return s.gl.use(c.session_id)
    case 'list_accounts': return s.gl.connectedAccounts.list(options)
    case 'get_account': return s.gl.connectedAccounts.get(c.id)
    case 'list_webhooks': return s.gl.webhooks.list(options)
    case 'list_toolkits': return session().toolkits(options)
    case 'search': return session().search(c.query, options)
    case 'client_token': return session().clientToken(options)
    case 'create_mcp_credential': return session().createMcpCredential(options)
    case 'authorize': return session().authorize(c.toolkit, options)
    case 'wait_for_connection': return s.requests[c.request].waitForConnection(c.timeout_ms)
    case 'proxy_execute': return session().proxyExecute({ endpoint: c.endpoint, ...options })
    case 'execute': return session().execute(c.tool, build(c.arguments), options)
    case 'execute_meta': return session().executeMeta(c.tool, build(c.arguments))
    case 'update_project': return s.gl.updateProject(options)
    case 'new_client': {
      const saved = process.env.GRANTLINE_API_KEY
      delete process.env.GRANTLINE_API_KEY
      try {
        const gl = new Grantline({ ...(c.api_key === null ? {} : { apiKey: c.api_key }), baseUrl: s.broker.baseUrl })
        return await gl.create('u')
      } finally {
        if (saved !== undefined) process.env.GRANTLINE_API_KEY = saved
      }
    }
    default: throw new Error(`unknown call ${c.do}`)
  }
}

/** What the case's error must hold: its code and the field in JavaScript's spelling (unless `field_as_written`). */
function expectedError(c) {
  const out = { code: c.code ?? 'VALIDATION' }
  if (c.field !== undefined) out.field = typeof c.field === 'string' && !c.field_as_written ? spell(c.field) : c.field
  if (c.message !== undefined) out.message = c.message
  return out
}

test('every bad argument is refused by name and changes nothing', async (t) => {
  const broker = await startBroker({ linkTtlSecs: 600 })
  t.after(() => broker.stop())
  const s = new Story(broker)
  await runSteps(s, MATRIX.setup)
  const [, before] = await s.run(MATRIX.unchanged)
  const failures = []
  let ran = 0
  for (const c of MATRIX.cases) {
    if (!(c.hosts ?? [HOST]).includes(HOST)) continue
    ran++
    try {
      let got
      try {
        await badCall(s, c)
        throw new StoryFailed(`${c.name}: expected an error, the call succeeded`)
      } catch (e) {
        if (!(e instanceof GrantlineError)) throw e
        got = error(e)
      }
      check(got, expectedError(c), `${c.name}: error`)
      const [, after] = await s.run(MATRIX.unchanged)
      check(after, before, `${c.name}: changes nothing`)
    } catch (e) {
      failures.push(e instanceof StoryFailed ? e.message : `${c.name}: ${e}`)
    }
  }
  assert.ok(ran >= 20, `the matrix ran ${ran} cases`)
  assert.deepEqual(failures, [])
})

test('a broken expectation fails', () => {
  const got = { status: 'ACTIVE', items: [{ slug: 'sandbox' }], text: 'link expired' }
  check(got, { status: 'ACTIVE', items: [{ slug: 'sandbox' }] }, 'x')
  for (const wrong of [{ status: 'FAILED' }, { items: [] }, { items: [{ slug: 'github' }] }, { text: { $contains: 'revoked' } },
    { missing: { $prefix: 'a' } }, { status: { $absent: true } }]) {
    assert.throws(() => check(got, wrong, 'x'), StoryFailed, JSON.stringify(wrong))
  }
})
