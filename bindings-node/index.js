'use strict'
// `grantline` for Node: the classes of the Rust addon, and the errors it rejects with.
const native = require('./native.js')
const errors = require('./errors.js')

native.registerErrorClasses(errors)

// console.log shows what toJSON shows: a client token's secret never lands in a log.
native.ClientToken.prototype[Symbol.for('nodejs.util.inspect.custom')] = function () {
  return this.toJSON()
}

module.exports = {
  Grantline: native.Grantline,
  Session: native.Session,
  ConnectionRequest: native.ConnectionRequest,
  ConnectedAccounts: native.ConnectedAccounts,
  ClientToken: native.ClientToken,
  ...errors,
}
