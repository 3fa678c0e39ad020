// npm's oidc-provider on 127.0.0.1: the OAuth 2.0 / OpenID Connect peer of Grantline's
// end-to-end tests. Its login and consent pages are plain HTML forms, so a test drives them
// with HTTP requests alone.
//
// Settings (environment):
//   PORT                 port to listen on (default 0: a free one)
//   REDIRECT_URIS        comma-separated redirect URIs of the one client (required)
//   CLIENT_ID            default "grantline-test"
//   CLIENT_SECRET        default "grantline-test-secret" (client_secret_post)
//   ACCESS_TOKEN_TTL     seconds (default 3600)
//   TOKEN_ENDPOINT_FAIL  an HTTP status the token endpoint answers instead of working
//
// Test controls: GET /_stats (token requests seen), POST /_control?token_endpoint_fail=N
// (0 = work again) to make the token endpoint fail from now on.
//
// On start it prints one JSON line with its endpoints and `toolkit_toml` (how a broker declares
// it, see grantline-toolkit.toml); it exits when stdin closes.
// Any login name signs in with the password "secret".

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const PASSWORD = 'secret';
// stdout carries the one JSON line only: oidc-provider's NOTICEs (console.info) go to stderr.
console.info = console.error;
console.log = console.error;
const env = process.env;
if (!env.REDIRECT_URIS) {
  console.error('server.mjs: REDIRECT_URIS is required');
  process.exit(2);
}
let tokenFail = env.TOKEN_ENDPOINT_FAIL ? Number(env.TOKEN_ENDPOINT_FAIL) : 0;
const stats = { token_requests: 0, token_successes: 0, revocations: 0 };

// Listen first, so the issuer carries the real port.
let handle = (_req, res) => res.writeHead(503).end();
const server = http.createServer((req, res) => handle(req, res));
await new Promise((resolve) => server.listen(Number(env.PORT || 0), '127.0.0.1', resolve));
const port = server.address().port;
const issuer = `http://127.0.0.1:${port}`;

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: env.CLIENT_ID || 'grantline-test',
      client_secret: env.CLIENT_SECRET || 'grantline-test-secret',
      redirect_uris: env.REDIRECT_URIS.split(',').map((u) => u.trim()),
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@example.test`, email_verified: true, name: id }),
  }),
  issueRefreshToken: async () => true,
  // Explicit lifetimes (seconds), which also keeps oidc-provider from nagging about defaults.
  ttl: {
    AccessToken: Number(env.ACCESS_TOKEN_TTL || 3600),
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 14 * 24 * 3600,
    Interaction: 3600,
    Session: 24 * 3600,
    Grant: 14 * 24 * 3600,
  },
  clientBasedCORS: () => false,
  // Errors shown to the browser (bad authorization requests) as a bare page.
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>Error</title><h1>${esc(out.error)}</h1><p>${esc(out.error_description || '')}</p>`;
  },
  jwks: { keys: [{ ...signingKey, use: 'sig', alg: 'RS256', kid: randomUUID() }] },
  cookies: { keys: [randomUUID()] },
  features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});

// Counts token requests, and answers TOKEN_ENDPOINT_FAIL instead of a token when it is set.
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/token/revocation') {
    await next();
    if (ctx.status === 200) stats.revocations += 1;
    return undefined;
  }
  if (ctx.method !== 'POST' || ctx.path !== '/token') return next();
  stats.token_requests += 1;
  if (tokenFail) {
    ctx.status = tokenFail;
    ctx.body = { error: tokenFail < 500 ? 'invalid_grant' : 'server_error', error_description: 'the token endpoint is failing on purpose' };
    return undefined;
  }
  await next();
  if (ctx.status === 200) stats.token_successes += 1;
  return undefined;
});

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const html = (res, status, title, body) =>
  res
    .writeHead(status, { 'content-type': 'text/html; charset=utf-8' })
    .end(`<!doctype html><title>${esc(title)}</title><h1>${esc(title)}</h1>${body}`);

async function formBody(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return new URLSearchParams(text);
}

function loginPage(res, uid, status, message) {
  html(res, status, 'Sign in', `${message ? `<p class="error">${esc(message)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
  <input name="login" autofocus> <input name="password" type="password">
  <button type="submit">Sign in</button>
</form>`);
}

function consentPage(res, uid, details) {
  html(res, 200, 'Authorize', `<p>Client ${esc(details.params.client_id)} asks for: ${esc(details.params.scope)}</p>
<form method="post" action="/interaction/${esc(uid)}/confirm"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit">Deny</button></form>`);
}

// The interaction routes: login and consent, answered with plain forms.
async function interaction(req, res, uid, step) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return html(res, 400, 'Wrong interaction', '');
  const { prompt, params, session } = details;

  // GET /interaction/:uid — the form for the current prompt.
  if (!step && req.method === 'GET') {
    return prompt.name === 'login' ? loginPage(res, uid, 200) : consentPage(res, uid, details);
  }
  if (req.method !== 'POST') return html(res, 405, 'Method not allowed', '');

  // POST /interaction/:uid/login — any name, the one password.
  if (step === 'login') {
    const form = await formBody(req);
    const login = form.get('login') || '';
    if (!login || form.get('password') !== PASSWORD) return loginPage(res, uid, 400, 'Wrong name or password.');
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }

  // POST /interaction/:uid/confirm — grant what the prompt says is missing.
  if (step === 'confirm') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes || {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  // POST /interaction/:uid/abort — the user said no.
  if (step === 'abort') {
    const result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  return html(res, 404, 'Not found', '');
}

const callback = provider.callback();
handle = async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  // GET /_stats — what the token endpoint saw.
  if (path === '/_stats') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
  // POST /_control?token_endpoint_fail=N — fail the token endpoint with N from now on (0: stop).
  if (path === '/_control' && req.method === 'POST') {
    tokenFail = Number(new URL(req.url, issuer).searchParams.get('token_endpoint_fail') || 0);
    return res.writeHead(204).end();
  }
  const m = path.match(/^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/);
  if (!m) return callback(req, res);
  try {
    return await interaction(req, res, m[1], m[2]);
  } catch (err) {
    return html(res, 400, 'Interaction failed', `<p>${esc(err.name)}: ${esc(err.message)}</p>`);
  }
};

const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const { authorization_endpoint, token_endpoint, userinfo_endpoint, revocation_endpoint } = discovery;
process.stdout.on('error', () => {}); // a reader that went away is not our problem
// How a broker declares this provider: grantline-toolkit.toml with this run's endpoints.
const toolkit_toml = fs
  .readFileSync(new URL('./grantline-toolkit.toml', import.meta.url), 'utf8')
  .replaceAll('@AUTHORIZATION_ENDPOINT@', authorization_endpoint)
  .replaceAll('@TOKEN_ENDPOINT@', token_endpoint)
  .replaceAll('@USERINFO_ENDPOINT@', userinfo_endpoint)
  .replaceAll('@REVOCATION_ENDPOINT@', revocation_endpoint)
  .replaceAll('@ISSUER@', issuer);
process.stdout.write(`${JSON.stringify({ issuer, port, authorization_endpoint, token_endpoint, userinfo_endpoint, revocation_endpoint, toolkit_toml })}\n`);

const stop = () => {
  server.close();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
