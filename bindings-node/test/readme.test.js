'use strict'
// The README's Node quickstart works exactly as written against `grantline serve --dev`.
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const { once } = require('node:events')
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')
const { test } = require('node:test')

const { Browser, REPO, startBroker } = require('./helpers.js')

function quickstart() {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8')
  return readme.match(/<!-- node-quickstart.*?-->\n```js\n([\s\S]*?)```/)[1]
}

test('the README quickstart connects the sandbox account', async (t) => {
  const broker = await startBroker()
  // Inside the package, so `import 'grantline'` resolves to it as it does for a user.
  const script = path.join(__dirname, `.readme-quickstart-${process.pid}.mjs`)
  fs.writeFileSync(script, quickstart())
  t.after(() => { broker.stop(); fs.rmSync(script, { force: true }) })

  const env = { ...process.env, GRANTLINE_API_KEY: broker.apiKey, GRANTLINE_BASE_URL: broker.baseUrl }
  const child = spawn('node', [script], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const first = (await lines.next()).value
  assert.match(first, /^Open in your browser: /)
  await new Browser().sandboxConsent(first.split(': ')[1]) // the user clicks Allow
  const rest = []
  for await (const line of { [Symbol.asyncIterator]: () => lines }) rest.push(line)
  const code = child.exitCode ?? (await once(child, 'close'))[0]
  assert.equal(code, 0)
  assert.match(rest[0], /^ca_\S+ ACTIVE$/)
  assert.equal(rest[1], 'sandbox')
})
