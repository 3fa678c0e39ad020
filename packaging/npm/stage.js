'use strict'
// Lays out the npm packages that scripts/package.sh packs, in the layout napi-rs and esbuild use:
// a main package whose `optionalDependencies` name one package per platform carrying the binary.
//
//   node stage.js sdk <dir>                          grantline: bindings-node's files, package.json
//                                                    naming the platform packages in <dir>/npm
//   node stage.js server <dir>                       @grantline/server: packaging/npm/server
//   node stage.js server-platform <dir> <os> <cpu> <binary>
//                                                    @grantline/server-<os>-<cpu> carrying <binary>
// The per-platform packages of the SDK come from `napi create-npm-dirs` (see package.sh).
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..', '..')
const LICENSE = path.join(ROOT, 'LICENSE')

function writeJson(file, value) {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n')
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true })
  fs.copyFileSync(from, to)
}

const [, , kind, dir, ...rest] = process.argv
fs.mkdirSync(dir, { recursive: true })

if (kind === 'sdk') {
  const src = path.join(ROOT, 'bindings-node')
  const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'))
  // The prebuilt addons live in the platform packages, not in the main one.
  pkg.files = pkg.files.filter((f) => f !== '*.node')
  for (const f of pkg.files) if (!f.startsWith('native.')) copy(path.join(src, f), path.join(dir, f))
  copy(path.join(src, 'README.md'), path.join(dir, 'README.md'))
  // One optional dependency per platform package that `napi create-npm-dirs` wrote into <dir>/npm.
  pkg.optionalDependencies = {}
  for (const platform of fs.readdirSync(path.join(dir, 'npm')).sort()) {
    const sub = JSON.parse(fs.readFileSync(path.join(dir, 'npm', platform, 'package.json'), 'utf8'))
    pkg.optionalDependencies[sub.name] = sub.version
  }
  delete pkg.devDependencies
  delete pkg.scripts.build
  delete pkg.scripts.test
  writeJson(path.join(dir, 'package.json'), pkg)
} else if (kind === 'server') {
  const src = path.join(ROOT, 'packaging', 'npm', 'server')
  const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'))
  for (const f of [...pkg.files, 'README.md', 'package.json']) copy(path.join(src, f), path.join(dir, f))
  fs.chmodSync(path.join(dir, 'bin', 'grantline.js'), 0o755)
} else if (kind === 'server-platform') {
  const [os, cpu, binary] = rest
  const main = JSON.parse(fs.readFileSync(path.join(ROOT, 'packaging', 'npm', 'server', 'package.json'), 'utf8'))
  const exe = os === 'win32' ? 'grantline.exe' : 'grantline'
  const pkg = {
    name: `@grantline/server-${os}-${cpu}`,
    version: main.version,
    description: `The Grantline broker binary for ${os} ${cpu} (installed by @grantline/server)`,
    license: main.license,
    repository: main.repository,
    type: 'commonjs',
    os: [os],
    cpu: [cpu],
    ...(os === 'linux' ? { libc: ['glibc'] } : {}),
    files: [`bin/${exe}`],
    preferUnplugged: true,
  }
  writeJson(path.join(dir, 'package.json'), pkg)
  fs.writeFileSync(path.join(dir, 'README.md'), `# ${pkg.name}\n\n${pkg.description}. Install \`@grantline/server\` instead.\n`)
  copy(binary, path.join(dir, 'bin', exe))
  fs.chmodSync(path.join(dir, 'bin', exe), 0o755)
} else {
  console.error('usage: node stage.js sdk|server|server-platform <dir> ...')
  process.exit(2)
}
if (fs.existsSync(LICENSE)) copy(LICENSE, path.join(dir, 'LICENSE'))
