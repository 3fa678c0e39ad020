//! No value that holds a secret prints it with `{:?}`: a stray `tracing::debug!(?x)` or a
//! panic message must never put a token, client secret, code or `state` in a log.

use grantline_core::engine::oauth::TokenSet;
use grantline_core::engine::sandbox::TokenRequest;
use grantline_core::engine::{BindingCookies, CallbackParams, VerificationStart};
use grantline_core::model::AuthConfigCredentials;

const SECRET: &str = "s3cr3t-value-that-must-not-print";

fn assert_hidden(what: &str, printed: String) {
    assert!(!printed.contains(SECRET), "{what} printed a secret: {printed}");
    assert!(printed.contains("redacted"), "{what} says a value is there: {printed}");
}

#[test]
fn tokens_callback_params_credentials_and_sandbox_token_requests_print_no_secret() {
    let tokens = TokenSet {
        access_token: SECRET.into(),
        refresh_token: Some(SECRET.into()),
        token_type: Some("Bearer".into()),
        scope: Some("repo".into()),
        expires_at: Some(1),
        obtained_at: 0,
    };
    assert_hidden("TokenSet", format!("{tokens:?} {tokens:#?}"));

    let cookies = BindingCookies(vec![("grantline_uv_0123456789abcdef".into(), SECRET.into())]);
    let params = CallbackParams { state: Some(SECRET.into()), code: Some(SECRET.into()), error: None, error_description: None, cookies };
    assert_hidden("CallbackParams", format!("{params:?}"));
    let start = VerificationStart {
        flow_id: "uvf_public".into(),
        browser_url: "https://app.test/verify?flow_id=uvf_public".into(),
        binding: SECRET.into(),
        cookie_name: "grantline_uv_0123456789abcdef".into(),
    };
    assert!(!format!("{start:?}").contains(SECRET), "VerificationStart printed its binding");

    let credentials = AuthConfigCredentials { client_id: Some("Iv1.public".into()), client_secret: Some(SECRET.into()), ..Default::default() };
    let printed = format!("{credentials:?}");
    assert_hidden("AuthConfigCredentials", printed.clone());
    assert!(printed.contains("Iv1.public"), "the client id is not a secret: {printed}");

    let request = TokenRequest {
        grant_type: Some("authorization_code".into()),
        code: Some(SECRET.into()),
        client_secret: Some(SECRET.into()),
        code_verifier: Some(SECRET.into()),
        refresh_token: Some(SECRET.into()),
        ..Default::default()
    };
    assert_hidden("sandbox TokenRequest", format!("{request:?}"));
}
