// Self-test of server.mjs: drives login, consent, abort and the token endpoint with plain
// HTTP (fetch, redirect: 'manual', a tiny cookie jar), as Grantline's Rust tests do.
// Run: node selftest.mjs — prints `ok - …` / `not ok - …` and exits 1 when a case failed.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const REDIRECT_URI = 'http://127.0.0.1:9/cb';
const CLIENT_ID = 'grantline-test';
const CLIENT_SECRET = 'grantline-test-secret';
const SERVER = fileURLToPath(new URL('./server.mjs', import.meta.url));
const children = [];
let passed = 0;
let failed = 0;

// Starts server.mjs with extra env and resolves with its one JSON line.
function startServer(extraEnv = {}) {
  const child = spawn(process.execPath, [SERVER], {
    env: { ...process.env, REDIRECT_URIS: REDIRECT_URI, ...extraEnv },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not print its endpoints in 10s')), 10_000);
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
    child.extraStdout = [];
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line));
      lines.on('line', (more) => child.extraStdout.push(more)); // must stay empty
    });
  });
}

// A cookie jar keeping name=value of every set-cookie header.
class Jar {
  cookies = new Map();
  store(res) {
    for (const header of res.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  header() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

// One request with the jar's cookies, never following redirects.
async function request(jar, url, { method = 'GET', form } = {}) {
  const headers = { cookie: jar.header() };
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const res = await fetch(url, { method, headers, body, redirect: 'manual' });
  res.label = `${method} ${new URL(url).pathname}`;
  jar.store(res);
  return res;
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// Follows 3xx Locations (recording statuses) until a page answers, or until the Location
// points at the redirect URI, which is returned without being fetched.
async function follow(jar, res, base, steps) {
  while (res.status >= 300 && res.status < 400) {
    const location = new URL(res.headers.get('location'), base).href;
    steps.push(`${res.label} ${res.status} -> ${location.startsWith(REDIRECT_URI) ? 'redirect_uri' : new URL(location).pathname}`);
    if (location.startsWith(REDIRECT_URI)) return { redirect: new URL(location) };
    base = location;
    res = await request(jar, location);
  }
  return { res, url: base, text: await res.text() };
}

// Extracts the action of the first form whose action ends with `suffix`.
function formAction(html, suffix) {
  const m = [...html.matchAll(/<form[^>]*action="([^"]+)"/g)].map((x) => x[1]).find((a) => a.endsWith(suffix));
  assert(m, `no form ending in ${suffix} in page: ${html.slice(0, 300)}`);
  return m;
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

// Runs the authorization request through login up to the consent page.
async function toConsent(meta, steps) {
  const jar = new Jar();
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString('base64url');
  const auth = new URL(meta.authorization_endpoint);
  auth.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile offline_access',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    prompt: 'consent',
  }).toString();

  let page = await follow(jar, await request(jar, auth.href), auth.href, steps);
  assert(page.res?.status === 200, `login page: ${page.res?.status}`);
  const loginAction = formAction(page.text, '/login');
  assert(/name="login"/.test(page.text) && /name="password"/.test(page.text), 'login inputs missing');

  // A wrong password re-renders the login form with 400.
  const bad = await request(jar, new URL(loginAction, page.url).href, {
    method: 'POST',
    form: { login: 'alice', password: 'nope' },
  });
  assert(bad.status === 400, `wrong password: ${bad.status}`);
  await bad.text();

  const loginUrl = new URL(loginAction, page.url).href;
  const login = await request(jar, loginUrl, { method: 'POST', form: { login: 'alice', password: 'secret' } });
  page = await follow(jar, login, loginUrl, steps);
  assert(page.res?.status === 200, `consent page: ${page.res?.status}`);
  return { jar, page, state, verifier };
}

async function token(meta, form) {
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, ...form }).toString(),
  });
  return { status: res.status, body: await res.json() };
}

// Runs the flow up to the code (confirming consent).
async function toCode(meta, steps) {
  const { jar, page, state, verifier } = await toConsent(meta, steps);
  const confirmUrl = new URL(formAction(page.text, '/confirm'), page.url).href;
  const done = await follow(jar, await request(jar, confirmUrl, { method: 'POST' }), confirmUrl, steps);
  assert(done.redirect, `confirm ended on a page: ${done.res?.status}`);
  assert(done.redirect.searchParams.get('state') === state, 'state mismatch');
  const code = done.redirect.searchParams.get('code');
  assert(code, `no code: ${done.redirect.search}`);
  return { code, verifier };
}

async function check(name, fn) {
  try {
    const note = await fn();
    passed += 1;
    console.log(`ok - ${name}${note ? ` (${note})` : ''}`);
  } catch (err) {
    failed += 1;
    console.log(`not ok - ${name}: ${err.message}`);
  }
}

try {
  const meta = await startServer();

  await check('startup line', async () => {
    for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'port']) {
      assert(meta[k], `missing ${k}`);
    }
    assert(meta.issuer === `http://127.0.0.1:${meta.port}`, `issuer ${meta.issuer}`);
    return JSON.stringify(meta);
  });

  await check('login, consent, code, tokens, userinfo', async () => {
    const steps = [];
    const { code, verifier } = await toCode(meta, steps);
    const tok = await token(meta, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    });
    assert(tok.status === 200, `token ${tok.status} ${JSON.stringify(tok.body)}`);
    assert(tok.body.access_token, 'no access_token');
    assert(tok.body.refresh_token, 'no refresh_token');
    assert(tok.body.token_type === 'Bearer', `token_type ${tok.body.token_type}`);

    const me = await fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.body.access_token}` } });
    const info = await me.json();
    assert(me.status === 200, `userinfo ${me.status} ${JSON.stringify(info)}`);
    assert(info.sub === 'alice', `sub ${info.sub}`);
    assert(info.email === 'alice@example.test', `email ${info.email}`);

    const refreshed = await token(meta, { grant_type: 'refresh_token', refresh_token: tok.body.refresh_token });
    assert(refreshed.status === 200 && refreshed.body.access_token, `refresh ${refreshed.status}`);
    return `${steps.join(', ')}; expires_in=${tok.body.expires_in}; scope="${tok.body.scope}"; userinfo=${JSON.stringify(info)}`;
  });

  await check('abort at consent gives access_denied', async () => {
    const steps = [];
    const { jar, page, state } = await toConsent(meta, steps);
    const abortUrl = new URL(formAction(page.text, '/abort'), page.url).href;
    const done = await follow(jar, await request(jar, abortUrl, { method: 'POST' }), abortUrl, steps);
    assert(done.redirect, `abort ended on a page: ${done.res?.status}`);
    assert(done.redirect.searchParams.get('error') === 'access_denied', `error ${done.redirect.search}`);
    assert(done.redirect.searchParams.get('state') === state, 'state mismatch');
    return steps.join(', ');
  });

  await check('token without code_verifier is rejected', async () => {
    const { code } = await toCode(meta, []);
    const tok = await token(meta, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
    assert(tok.status === 400, `status ${tok.status}`);
    assert(['invalid_grant', 'invalid_request'].includes(tok.body.error), `error ${tok.body.error}`);
    return `${tok.status} ${tok.body.error}`;
  });

  await check('_stats counts token requests', async () => {
    const stats = await (await fetch(`${meta.issuer}/_stats`)).json();
    // 3 token calls in the full flow (code, refresh) + the rejected one.
    assert(stats.token_requests === 3 && stats.token_successes === 2, JSON.stringify(stats));
    return JSON.stringify(stats);
  });

  await check('TOKEN_ENDPOINT_FAIL=500 answers 500', async () => {
    const failing = await startServer({ TOKEN_ENDPOINT_FAIL: '500' });
    const tok = await token(failing, { grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT_URI });
    assert(tok.status === 500 && tok.body.error === 'server_error', `${tok.status} ${JSON.stringify(tok.body)}`);
    const stats = await (await fetch(`${failing.issuer}/_stats`)).json();
    assert(stats.token_requests === 1 && stats.token_successes === 0, JSON.stringify(stats));
    return `${tok.status} ${JSON.stringify(tok.body)}`;
  });

  await check('nothing but the JSON line on stdout', async () => {
    const extra = children.flatMap((c) => c.extraStdout);
    assert(extra.length === 0, `extra stdout: ${extra.join(' | ').slice(0, 200)}`);
  });

  await check('closing stdin stops the server', async () => {
    const child = children[0];
    const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdin.end();
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 5000))]);
    assert(code === 0, `exit ${code}`);
  });
} catch (err) {
  failed += 1;
  console.log(`not ok - harness: ${err.message}`);
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
