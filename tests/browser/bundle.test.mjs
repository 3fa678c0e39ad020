// A front-end developer's build: `npm pack` of @grantline/web installed from its tarball into a
// fresh project (target/web-bundle), the onboarding widget's page script importing the package
// by name, bundled by esbuild (pinned here), and run in Chromium against a real broker.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'

import * as esbuild from 'esbuild'

import { REPO, signInAndAnswer, startStack } from './fixtures.mjs'

const WORK = path.join(REPO, 'target', 'web-bundle')
const EXAMPLE = path.join(REPO, 'examples', 'onboarding-widget', 'public')
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' }

let stack
let site

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
  fs.writeFileSync(path.join(out, 'index.html'), fs.readFileSync(path.join(EXAMPLE, 'index.html'), 'utf8').replace('src="/app.js"', 'src="app.js"'))
  return out
}

before(async () => {
  ;[stack, site] = await Promise.all([startStack(), buildSite()])
})
after(() => stack?.stop())

test('the packed package, bundled by esbuild, runs the onboarding widget', async () => {
  // The bundle is served under the widget's origin (the one the broker allows), beside the
  // example's own backend, which mints the client token.
  const context = await stack.browser.newContext()
  const fetched = []
  context.on('request', (r) => fetched.push(new URL(r.url()).pathname))
  await context.route(`${stack.widgetUrl}/bundled/**`, (route) => {
    const file = path.join(site, new URL(route.request().url()).pathname.slice('/bundled/'.length) || 'index.html')
    if (!fs.existsSync(file)) return route.fulfill({ status: 404, body: 'not found' })
    return route.fulfill({ path: file, contentType: TYPES[path.extname(file)] })
  })
  const page = await context.newPage()
  await page.goto(`${stack.widgetUrl}/bundled/?user=ivy`)
  const row = page.locator('li[data-toolkit="oidc"]')
  await row.locator('[data-status="not-connected"]').waitFor()

  const [popup] = await Promise.all([page.waitForEvent('popup'), row.getByRole('button').click()])
  const closed = popup.isClosed() ? Promise.resolve() : popup.waitForEvent('close')
  await signInAndAnswer(popup, 'Allow')
  await closed
  await row.locator('[data-status="connected"]').waitFor()

  const [account] = await stack.broker.accounts('ivy')
  assert.equal(account.status, 'ACTIVE')
  assert.ok(fetched.includes('/bundled/app.js') && fetched.includes('/bundled/grantline_web_bg.wasm'), fetched.join(' '))
  assert.ok(!fetched.some((p) => p.startsWith('/grantline-web/')), 'nothing came from the unpacked package')
})
