#!/usr/bin/env node
'use strict'
// `grantline` from npm: runs the prebuilt broker binary of this platform's package
// (`@grantline/server-<os>-<cpu>`, an optional dependency, as esbuild ships its binary),
// passing arguments, stdio, signals and the exit status through.
const { spawn } = require('node:child_process')
const path = require('node:path')

const PLATFORMS = {
  'linux x64': '@grantline/server-linux-x64',
  'linux arm64': '@grantline/server-linux-arm64',
  'darwin x64': '@grantline/server-darwin-x64',
  'darwin arm64': '@grantline/server-darwin-arm64',
  'win32 x64': '@grantline/server-win32-x64',
}

function binaryPath() {
  if (process.env.GRANTLINE_BINARY_PATH) return process.env.GRANTLINE_BINARY_PATH
  const key = `${process.platform} ${process.arch}`
  const pkg = PLATFORMS[key]
  if (!pkg) {
    throw new Error(`@grantline/server has no prebuilt broker for ${key}; build it from source: cargo install --path server --locked`)
  }
  const exe = process.platform === 'win32' ? 'grantline.exe' : 'grantline'
  try {
    return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'bin', exe)
  } catch {
    throw new Error(`@grantline/server: the package ${pkg} is not installed. It is an optional dependency: ` +
      'reinstall without --no-optional / --omit=optional, and with the same operating system and CPU as where it runs')
  }
}

let bin
try {
  bin = binaryPath()
} catch (e) {
  console.error(e.message)
  process.exit(1)
}
const child = spawn(bin, process.argv.slice(2), { stdio: 'inherit', windowsHide: true })
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal))
}
child.on('error', (e) => {
  console.error(`@grantline/server: cannot run ${bin}: ${e.message}`)
  process.exit(1)
})
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal)
    process.kill(process.pid, signal)
  } else {
    process.exit(code ?? 1)
  }
})
