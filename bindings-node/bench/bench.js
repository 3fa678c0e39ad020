'use strict'
// Node SDK figures: `require('grantline')` time and RSS beside `require('@composio/core')`, and
// how fast a pending `waitForConnection` resolves after the user's callback. Prints; asserts nothing.
// Usage: node bench.js --composio-dir DIR [--runs 7] [--flows 200]
const { execFileSync } = require('node:child_process')
const path = require('node:path')

const { Browser, startBroker } = require('../test/helpers.js')

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : dflt
}

const PROBE = `
const before = process.memoryUsage().rss
const t = process.hrtime.bigint()
require(process.argv[1])
const ms = Number(process.hrtime.bigint() - t) / 1e6
const rss = process.memoryUsage().rss
console.log(JSON.stringify({ ms, rss, added: rss - before }))
`

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))]
}

function requireCost(module, cwd, runs) {
  const samples = []
  for (let i = 0; i < runs; i++) {
    samples.push(JSON.parse(execFileSync('node', ['-e', PROBE, module], { cwd, encoding: 'utf8' })))
  }
  return { ms: median(samples.map((s) => s.ms)), rss: median(samples.map((s) => s.rss)), added: median(samples.map((s) => s.added)) }
}

async function waitLatency(flows) {
  const broker = await startBroker()
  try {
    const { Grantline } = require('..')
    const gl = new Grantline({ apiKey: broker.apiKey, baseUrl: broker.baseUrl })
    const session = await gl.create('bench', { toolkits: ['sandbox'], manageConnections: false })
    const latencies = []
    for (let i = 0; i < flows; i++) {
      const req = await session.authorize('sandbox')
      let woke = 0
      const waiting = req.waitForConnection(30000).then(() => { woke = performance.now() })
      await new Browser().sandboxConsent(req.redirectUrl) // resolves once the broker answered the callback
      const answered = performance.now()
      await waiting
      latencies.push(woke - answered)
    }
    return latencies
  } finally {
    broker.stop()
  }
}

async function main() {
  const runs = Number(arg('--runs', 7))
  const composioDir = arg('--composio-dir')
  console.log(`require cost, median of ${runs} fresh processes (Node ${process.version}):`)
  const rows = [['grantline', path.resolve(__dirname, '..'), path.resolve(__dirname, '..')]]
  if (composioDir) rows.push(['@composio/core', composioDir, '@composio/core'])
  for (const [name, cwd, module] of rows) {
    const c = requireCost(module, cwd, runs)
    console.log(`  require ${name.padEnd(15)} ${c.ms.toFixed(1).padStart(8)} ms   RSS after ${(c.rss / 2 ** 20).toFixed(1)} MiB (+${(c.added / 2 ** 20).toFixed(1)} MiB)`)
  }
  const lat = await waitLatency(Number(arg('--flows', 200)))
  console.log(`waitForConnection after the callback answered, ${lat.length} flows:`)
  console.log(`  p50 ${percentile(lat, 50).toFixed(2)} ms   p99 ${percentile(lat, 99).toFixed(2)} ms   max ${Math.max(...lat).toFixed(2)} ms`)
  console.log('  (negative: the promise settled before the browser had read the callback response)')
}

main()
