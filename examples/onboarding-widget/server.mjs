// The app's backend: it holds the project API key, creates a Grantline session for the signed-in
// user and mints a short-lived client token for the page. It also serves the page and the
// @grantline/web package. The API key never leaves this process.
//
// Environment:
//   GRANTLINE_API_KEY      the project API key (required)
//   GRANTLINE_BASE_URL     the broker as this backend reaches it (default http://127.0.0.1:9900)
//   GRANTLINE_PUBLIC_URL   the broker as browsers reach it (default: GRANTLINE_BASE_URL)
//   GRANTLINE_TOOLKITS     toolkits to offer, comma-separated (default: all the broker has)
//   HOST, PORT             where to listen (default 127.0.0.1:8787; PORT=0 picks a free port)
import { createReadStream, existsSync, statSync } from 'node:fs'
import http from 'node:http'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { Grantline } from 'grantline'

const here = path.dirname(fileURLToPath(import.meta.url))
const webPackage = path.dirname(createRequire(import.meta.url).resolve('@grantline/web/package.json'))
const env = process.env
const baseUrl = env.GRANTLINE_BASE_URL || 'http://127.0.0.1:9900'
const publicUrl = env.GRANTLINE_PUBLIC_URL || baseUrl
const toolkits = (env.GRANTLINE_TOOLKITS || '').split(',').map((s) => s.trim()).filter(Boolean)
const grantline = new Grantline({ apiKey: env.GRANTLINE_API_KEY, baseUrl })

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' }

/** Serves `file` if it lies inside `dir`. */
function serveFile(res, dir, rel) {
  const file = path.join(dir, path.normalize(rel).replace(/^(\.\.[/\\])+/, ''))
  if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) return notFound(res)
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' })
  createReadStream(file).pipe(res)
}

function notFound(res) {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
}

function json(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

/** Who is signed in. A real app reads its own session cookie; the example takes `?user=`. */
function signedInUser(url) {
  return url.searchParams.get('user') || 'demo-user'
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://localhost')
  try {
    if (req.method === 'POST' && url.pathname === '/api/grantline/client-token') {
      const session = await grantline.create(signedInUser(url), toolkits.length ? { toolkits } : {})
      const { token, expiresAt } = await session.clientToken()
      return json(res, 200, { baseUrl: publicUrl, clientToken: token, expiresAt })
    }
    if (req.method !== 'GET') return notFound(res)
    if (url.pathname.startsWith('/grantline-web/')) return serveFile(res, webPackage, url.pathname.slice('/grantline-web/'.length))
    return serveFile(res, path.join(here, 'public'), url.pathname === '/' ? 'index.html' : url.pathname.slice(1))
  } catch (e) {
    console.error(`backend: ${e.code || 'ERROR'} ${e.message}`)
    return json(res, 502, { error: { code: e.code || 'INTERNAL', message: e.message } })
  }
})

server.listen(Number(env.PORT ?? 8787), env.HOST || '127.0.0.1', () => {
  const { address, port } = server.address()
  console.log(`onboarding widget on http://${address}:${port}`)
})
