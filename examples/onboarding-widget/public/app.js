// The onboarding page: every toolkit of the user's session, its live status, a Connect button.
// It holds a client token from the app's backend, never the project API key.
import { GrantlineWeb } from '/grantline-web/index.js'

const list = document.querySelector('#toolkits')
const message = document.querySelector('#message')

function say(text, kind = 'info', code = '') {
  message.textContent = text
  message.dataset.kind = kind
  message.dataset.code = code
}

function sayError(e) {
  say(`${e.name}: ${e.message}`, 'error', e.code || '')
}

async function start() {
  const res = await fetch(`/api/grantline/client-token${location.search}`, { method: 'POST' })
  if (!res.ok) throw new Error(`the backend could not start a session (${res.status})`)
  const { baseUrl, clientToken } = await res.json()
  const gl = await GrantlineWeb.init({ baseUrl, clientToken })
  // Back from a Connect Link that took the whole page (connect(…, { redirect: true }))?
  const returned = await gl.completeRedirect().catch((e) => (sayError(e), null))
  if (returned) say(`${returned.toolkit} connected`)
  await render(gl)
  // Live status: refresh when the user comes back to the tab.
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && render(gl))
}

async function render(gl) {
  const { items } = await gl.toolkits({ limit: 100 })
  list.replaceChildren(...items.map((t) => row(gl, t)))
  list.setAttribute('aria-busy', 'false')
}

function row(gl, toolkit) {
  const li = document.createElement('li')
  li.dataset.toolkit = toolkit.slug
  const connected = toolkit.connection?.isActive ?? false
  li.innerHTML = `<img alt=""><span class="name"></span><span class="status"></span>`
  li.querySelector('img').src = toolkit.logo
  li.querySelector('.name').textContent = toolkit.name
  const status = li.querySelector('.status')
  status.dataset.status = toolkit.isNoAuth ? 'no-auth' : connected ? 'connected' : 'not-connected'
  status.textContent = toolkit.isNoAuth ? 'no account needed' : connected ? 'Connected' : 'Not connected'
  if (!toolkit.isNoAuth) {
    const button = document.createElement('button')
    button.textContent = connected ? 'Reconnect' : 'Connect'
    const redirect = new URLSearchParams(location.search).has('redirect')
    button.addEventListener('click', async () => {
      button.disabled = true
      say(`Connecting ${toolkit.name}…`)
      try {
        // Opens the popup synchronously, inside this click.
        const account = await gl.connect(toolkit.slug, { redirect })
        if (account) say(`${toolkit.name} connected`)
      } catch (e) {
        sayError(e)
      } finally {
        button.disabled = false
        await render(gl)
      }
    })
    li.append(button)
  }
  return li
}

start().catch(sayError)
