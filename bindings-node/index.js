'use strict'
// `grantline` for Node: the classes of the Rust addon, and the errors it rejects with.
const native = require('./native.js')
const errors = require('./errors.js')

native.registerErrorClasses(errors)

// console.log shows what toJSON shows: a client token's, an MCP credential's or a webhook subscription's secret never
// lands in a log.
for (const cls of [native.ClientToken, native.McpCredential, native.WebhookSubscription, native.RotatedWebhookSecret]) {
  cls.prototype[Symbol.for('nodejs.util.inspect.custom')] = function () {
    return this.toJSON()
  }
}

module.exports = {
  Grantline: native.Grantline,
  Session: native.Session,
  ConnectionRequest: native.ConnectionRequest,
  ConnectedAccounts: native.ConnectedAccounts,
  ClientToken: native.ClientToken,
  McpCredential: native.McpCredential,
  Webhooks: native.Webhooks,
  WebhookSubscription: native.WebhookSubscription,
  RotatedWebhookSecret: native.RotatedWebhookSecret,
  ...errors,
}
