'use strict'
// `npm install` of this folder builds the Rust addon with cargo (napi-rs), unless it is built.
// The napi CLI is fetched by npx: a linked install (`npm install ./bindings-node`) does not
// install this package's own dependencies before running its install script.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')

const built = fs.existsSync(`${__dirname}/native.js`) && fs.readdirSync(__dirname).some((f) => f.endsWith('.node'))
if (!built || process.argv.includes('--force')) {
  const cli = '@napi-rs/cli@3.10.12'
  const args = ['--yes', '--package', cli, 'napi', 'build', '--platform', '--release', '--js', 'native.js', '--dts', 'native.d.ts']
  execFileSync('npx', args, { cwd: __dirname, stdio: 'inherit' })
}
