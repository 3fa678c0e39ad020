// @grantline/web: loads the wasm module once (next to this file), registers the error classes
// so failures are `instanceof`-able, and re-exports the API wasm-bindgen generated.
import init, { GrantlineWeb, ConnectionRequest, registerErrorClasses } from './pkg/grantline_web.js'
import * as errors from './errors.js'

await init()
registerErrorClasses(errors)

export { GrantlineWeb, ConnectionRequest }
export * from './errors.js'
