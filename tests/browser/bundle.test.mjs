// A front-end developer's build: `npm pack` of @grantline/web installed from its tarball into a
// fresh project (target/web-bundle), the onboarding widget's page script importing the package
// by name, bundled by esbuild (pinned here), and run in Chromium against a real broker.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { after, before, test } from 'node:test'

import * as esbuild from 'esbuild'

import helpers from '../../bindings-node/test/helpers.js'
import { REPO, signInAndAnswer, startStack } from './fixtures.mjs'

const WORK = path.join(REPO, 'target', 'web-bundle')
const EXAMPLE = path.join(REPO, 'examples', 'onboarding-widget', 'public')
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' }

let stack
let site
let server
let siteUrl

const npm = (args, cwd) => execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, encoding: 'utf8' })

/** The package as npm publishes it, installed into a new project, bundled with the page's script. */
async function buildSite() {
  fs.rmSync(WORK, { recursive: true, force: true })
  const app = path.join(WORK, 'app')
  fs.mkdirSync(path.join(app, 'src'), { recursive: true })
  const [packed] = JSON.parse(npm(['pack', path.join(REPO, 'bindings-wasm'), '--pack-destination', WORK, '--json'], WORK))
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'bundled-widget', private: true, type: 'module' }))
  npm(['install', '--offline', path.join(WORK, packed.filename)], app)

  const script = fs.readFileSync(path.join(EXAMPLE, 'app.js'), 'utf8')
  const byName = script.replace("from '/grantline-web/index.js'", "from '@grantline/web'")
  assert.notEqual(byName, script, "the example imports the served package; the bundle imports it by name")
  fs.writeFileSync(path.join(app, 'src', 'app.js'), byName)
  const out = path.join(app, 'dist')
  await esbuild.build({
    entryPoints: [path.join(app, 'src', 'app.js')], outfile: path.join(out, 'app.js'),
    bundle: true, format: 'esm', target: 'es2022', minify: true, logLevel: 'warning',
  })
  // wasm-bindgen's loader fetches the module beside the script (`new URL(…, import.meta.url)`).
  const wasm = path.join(app, 'node_modules', '@grantline', 'web', 'pkg', 'grantline_web_bg.wasm')
  fs.copyFileSync(wasm, path.join(out, 'grantline_web_bg.wasm'))
  fs.copyFileSync(path.join(EXAMPLE, 'index.html'), path.join(out, 'index.html'))
  return out
}

/**
 * The bundled site on its own origin (one the brokers allow), with the app backend's one route:
 * `POST /api/grantline/client-token` mints a client token with the API key, as the example's does.
 */
function serveSite(dir) {
  return http.createServer(async (req, res) => {
    const url = new URL(req.url, siteUrl)
    if (req.method === 'POST' && url.pathname === '/api/grantline/client-token') {
      const { token } = await stack.broker.clientToken(url.searchParams.get('user'), 600)
      return res.writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ baseUrl: stack.broker.baseUrl, clientToken: token }))
    }
    const file = path.join(dir, path.normalize(url.pathname === '/' ? 'index.html' : url.pathname.slice(1)))
    if (!file.startsWith(dir) || !fs.existsSync(file)) return res.writeHead(404).end('not found')
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' })
    fs.createReadStream(file).pipe(res)
  })
}

before(async () => {
  siteUrl = `http://127.0.0.1:${await helpers.freePort()}`
  ;[stack, site] = await Promise.all([startStack({ extraOrigins: [siteUrl] }), buildSite()])
  server = serveSite(site)
  await new Promise((r) => server.listen(Number(new URL(siteUrl).port), '127.0.0.1', r))
})
after(async () => {
  server?.close()
  await stack?.stop()
})

test('the packed package, bundled by esbuild, runs the onboarding widget', async () => {
  const context = await stack.browser.newContext()
  const fetched = []
  context.on('request', (r) => fetched.push(r.url()))
  const page = await context.newPage()
  await page.goto(`${siteUrl}/?user=ivy`)
  const row = page.locator('li[data-toolkit="oidc"]')
  await row.locator('[data-status="not-connected"]').waitFor()

  const [popup] = await Promise.all([page.waitForEvent('popup'), row.getByRole('button').click()])
  const closed = popup.isClosed() ? Promise.resolve() : popup.waitForEvent('close')
  await signInAndAnswer(popup, 'Allow')
  await closed
  await row.locator('[data-status="connected"]').waitFor()

  const [account] = await stack.broker.accounts('ivy')
  assert.equal(account.status, 'ACTIVE')
  const fromSite = fetched.filter((u) => u.startsWith(siteUrl)).map((u) => new URL(u).pathname)
  assert.deepEqual([...new Set(fromSite)].sort(), ['/', '/api/grantline/client-token', '/app.js', '/grantline_web_bg.wasm'])
})
