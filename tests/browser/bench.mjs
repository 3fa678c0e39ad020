// Benchmark of @grantline/web: what a page downloads (gzipped), beside @nangohq/frontend, and
// the time from a click on Connect to the popup's first navigation to the Connect Link.
// Prints its figures; asserts nothing. Run by scripts/bench-web.sh.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'

import { REPO, startStack } from './fixtures.mjs'

const NANGO = '@nangohq/frontend@0.71.10'
const ROUNDS = Number(process.env.ROUNDS || 15)
// What @grantline/web aims at, wasm and JS gzipped: a figure to compare with, not a limit.
const TARGET = 60 * 1024

const gz = (files) => gzipSync(Buffer.concat(files.map((f) => fs.readFileSync(f))), { level: 9 }).length
const raw = (files) => files.reduce((n, f) => n + fs.statSync(f).size, 0)
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`

function sizes() {
  const web = path.join(REPO, 'bindings-wasm')
  const wasm = [path.join(web, 'pkg', 'grantline_web_bg.wasm')]
  const glue = ['pkg/grantline_web.js', 'index.js', 'errors.js'].map((f) => path.join(web, f))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grantline-bench-nango-'))
  execFileSync('npm', ['install', '--prefix', dir, NANGO, '--no-audit', '--no-fund', '--loglevel=error'], { stdio: 'ignore' })
  const dist = path.join(dir, 'node_modules', '@nangohq', 'frontend', 'dist')
  const nango = fs.readdirSync(dist).filter((f) => f.endsWith('.js') && !f.includes('.test.')).map((f) => path.join(dist, f))
  console.log('download size (what a page fetches)          raw        gzipped')
  console.log(`  @grantline/web .wasm                     ${kb(raw(wasm)).padStart(10)} ${kb(gz(wasm)).padStart(12)}`)
  console.log(`  @grantline/web JS glue + wrapper         ${kb(raw(glue)).padStart(10)} ${kb(gz(glue)).padStart(12)}`)
  console.log(`  @grantline/web total                     ${kb(raw([...wasm, ...glue])).padStart(10)} ${kb(gz(wasm) + gz(glue)).padStart(12)}`)
  console.log(`  @grantline/web target (issue 20)                    ${kb(TARGET).padStart(12)}`)
  console.log(`  ${NANGO} dist/*.js    ${kb(raw(nango)).padStart(10)} ${kb(gz(nango)).padStart(12)}`)
  fs.rmSync(dir, { recursive: true, force: true })
}

const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]

async function clickToPopup() {
  const stack = await startStack()
  try {
    const context = await stack.browser.newContext()
    const page = await context.newPage()
    await page.goto(`${stack.widgetUrl}/?user=bench`)
    const button = page.locator('li[data-toolkit="oidc"] button')
    await button.waitFor()
    const opened = []
    const navigated = []
    for (let i = 0; i < ROUNDS; i++) {
      await page.locator('li[data-toolkit="oidc"] button:enabled').waitFor()
      const t0 = performance.now()
      const popupSeen = page.waitForEvent('popup').then((p) => (opened.push(performance.now() - t0), p))
      const linkRequest = context.waitForEvent('request', (r) => r.url().includes('/link/ln_'))
        .then(() => navigated.push(performance.now() - t0))
      await button.click()
      const popup = await popupSeen
      await linkRequest
      await popup.close()
      await page.locator('#message[data-code="POPUP_CLOSED"]').waitFor()
    }
    console.log(`click → popup open           p50 ${pct(opened, 50).toFixed(1)} ms  p90 ${pct(opened, 90).toFixed(1)} ms  (${ROUNDS} clicks)`)
    console.log(`click → popup navigates to the Connect Link  p50 ${pct(navigated, 50).toFixed(1)} ms  p90 ${pct(navigated, 90).toFixed(1)} ms`)
  } finally {
    await stack.stop()
  }
}

sizes()
await clickToPopup()
