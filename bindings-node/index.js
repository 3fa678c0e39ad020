'use strict'
// `grantline` for Node: the classes of the Rust addon, and the errors it rejects with.
const native = require('./native.js')
const errors = require('./errors.js')

native.registerErrorClasses(errors)

module.exports = {
  Grantline: native.Grantline,
  Session: native.Session,
  ConnectionRequest: native.ConnectionRequest,
  ConnectedAccounts: native.ConnectedAccounts,
  ...errors,
}
