'use strict'
// The README's quickstarts against installed packages (scripts/test-packages.sh).
//
//   node quickstart.js extract python|esm|cjs <file>   writes the README's Python or Node block
//                                                      (`cjs`: the Node block as CommonJS)
//   node quickstart.js run <label> <command> [args…]   runs a quickstart with GRANTLINE_API_KEY and
//                                                      GRANTLINE_BASE_URL from the environment, plays
//                                                      the user who clicks Allow on the sandbox consent
//                                                      page, and checks it prints the ACTIVE account
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')

const { Browser, REPO } = require('../../bindings-node/test/helpers.js')

function block(name, lang) {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8')
  const m = readme.match(new RegExp(`<!-- ${name}-quickstart.*?-->\\n\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``))
  if (!m) throw new Error(`README.md has no ${name}-quickstart block`)
  return m[1]
}

async function run(label, command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)))
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const first = (await lines.next()).value
  assert.match(first ?? '', /^Open in your browser: http/, `${label}: the quickstart's first line`)
  await new Browser().sandboxConsent(first.split(': ')[1]) // the user clicks Allow
  const rest = []
  for await (const line of { [Symbol.asyncIterator]: () => lines }) rest.push(line)
  assert.equal(await exited, 0, `${label}: exit status`)
  assert.match(rest[0], /^ca_\S+ ACTIVE$/, `${label}: the connected account`)
  assert.match(rest[1], /^sandbox\b/, `${label}: the connected toolkit`)
  console.log(`quickstart ok: ${label} (${rest[0].split(' ')[1]}, ${rest[1]})`)
}

const [, , cmd, ...args] = process.argv
if (cmd === 'extract') {
  const [kind, file] = args
  let code
  if (kind === 'python') code = block('python', 'python')
  else if (kind === 'esm') code = block('node', 'js')
  else if (kind === 'cjs') {
    // The same program as CommonJS: require() instead of import, no top-level await.
    const esm = block('node', 'js').split('\n')
    assert.match(esm[0], /^import \{ Grantline \} from 'grantline'/)
    code = ["const { Grantline } = require('grantline')", '', ';(async () => {',
      ...esm.slice(1).filter((l) => l.trim()).map((l) => `  ${l}`),
      '})().catch((e) => { console.error(e); process.exit(1) })', ''].join('\n')
  } else throw new Error(`extract: ${kind}?`)
  fs.writeFileSync(file, code)
} else if (cmd === 'run') {
  run(args[0], args[1], args.slice(2)).catch((e) => {
    console.error(e.message)
    process.exit(1)
  })
} else {
  console.error('usage: node quickstart.js extract python|esm|cjs <file> | run <label> <command> [args…]')
  process.exit(2)
}
