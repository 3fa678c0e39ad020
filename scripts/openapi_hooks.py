"""schemathesis hooks for scripts/test-openapi.sh.

A callback URL must be on the project's allow-list (no open redirects), which no static schema
can state: a made-up `https://0.com` is rightly a 400 naming the field (server/tests/api_errors.rs
tests that refusal). So every absolute URL the fuzzer puts in `callback_url` or `redirect_url`
becomes one the test project allows; anything else (a relative URL, a number) goes as drawn, and
schemathesis re-judges the edited case before sending it.

A project's `support_url` and `user_verification_url` must be https (a schema says only
`^https?://`): an absolute one becomes an https URL of the app (server/tests/user_verification.rs
tests the refusals). Logos need no help: for an image body schemathesis sends its own samples of
each type.

Likewise a webhook receiver must be a public https URL (or loopback on a --dev broker), which a
schema cannot state either: an absolute `webhook_url` becomes a loopback one on the discard port
(deliveries to it fail and are retried, harmlessly); server/tests/webhooks.rs tests the refusals.
"""
import schemathesis

ALLOWED = {"callback_url": "http://localhost/callback", "redirect_url": "http://localhost/callback",
           "webhook_url": "http://127.0.0.1:9/hook", "support_url": "https://app.example.com/help",
           "user_verification_url": "https://app.example.com/verify"}


def _allowed(value):
    if isinstance(value, dict):
        return {k: (ALLOWED[k] if k in ALLOWED and isinstance(v, str) and "://" in v else _allowed(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_allowed(v) for v in value]
    return value


@schemathesis.hook
def before_call(context, case, kwargs):
    if isinstance(case.body, dict):
        case.body = _allowed(case.body)
    if isinstance(case.query, dict):
        case.query = _allowed(case.query)
