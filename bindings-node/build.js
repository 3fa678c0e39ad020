'use strict'
// The package's install script. Installed from npm, the addon is prebuilt: `native.js` loads it
// from the platform's package (`grantline-linux-x64-gnu`, …, optional dependencies) and there is
// nothing to do. From a source checkout (`npm install ./bindings-node`, `node build.js --force`)
// it builds the Rust addon with cargo (napi-rs). The napi CLI is fetched by npx: a linked install
// does not install this package's own dependencies before running its install script.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')

function loads() {
  try {
    require('./native.js')
    return true
  } catch {
    return false
  }
}

const force = process.argv.includes('--force')
if (!force && fs.existsSync(`${__dirname}/native.js`) && loads()) process.exit(0)
if (!fs.existsSync(`${__dirname}/Cargo.toml`)) {
  // A packed package with no prebuilt addon for this platform: say so; `require('grantline')`
  // will fail with the same advice.
  console.warn(`grantline: no prebuilt addon for ${process.platform}-${process.arch}; ` +
    'build it from a source checkout with Rust installed: npm install ./bindings-node')
  process.exit(0)
}
const cli = '@napi-rs/cli@3.10.12'
const args = ['--yes', '--package', cli, 'napi', 'build', '--platform', '--release', '--js', 'native.js', '--dts', 'native.d.ts']
execFileSync('npx', args, { cwd: __dirname, stdio: 'inherit' })
