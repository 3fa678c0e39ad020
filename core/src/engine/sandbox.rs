//! The dev-mode `sandbox` provider: an OAuth 2.0 authorization server inside the broker,
//! so a newcomer can click through the whole flow with no OAuth app and no internet.
//!
//! Its codes and tokens live in the store (hashed, through the [`Store`] trait), so a restarted
//! broker, or several brokers on one database, honour what any of them issued: only expiry or
//! revocation ends a sandbox grant. The table is bounded: expired grants are dropped on every
//! insert, past [`MAX_CODES`] unredeemed codes (which expire after [`CODE_TTL_MS`]) or
//! [`MAX_GRANTS`] live tokens of a kind the oldest of that kind go, and what a client may put in
//! a grant is small ([`MAX_SCOPE_LEN`], a 43-character PKCE challenge, a user of 1 to 64).

use std::sync::Arc;

use serde_json::{json, Value};

pub use super::oauth_server::{AuthorizeRequest, OAuthError, RevokeRequest, TokenRequest};
use super::oauth_server::oauth_error;
use super::store::{SandboxGrant, SandboxGrantKind, Store};
use super::{clock, secrets, EngineConfig};
use crate::catalog::{AuthKind, OAuth2Def, TokenAuth, ToolkitDef};
use crate::{Error, Result};

/// The sandbox toolkit's slug.
pub const SLUG: &str = "sandbox";
/// The client id of the broker's own sandbox auth config.
pub const CLIENT_ID: &str = "grantline-sandbox";
/// Its client secret: public on purpose, the sandbox only exists in dev mode.
pub const CLIENT_SECRET: &str = "sandbox-secret-dev-only";
/// Path of the sandbox's consent page.
pub const AUTHORIZE_PATH: &str = "/sandbox/oauth/authorize";
/// Path of the sandbox's token endpoint.
pub const TOKEN_PATH: &str = "/sandbox/oauth/token";
/// Path of the sandbox's userinfo endpoint.
pub const USERINFO_PATH: &str = "/sandbox/oauth/userinfo";
/// Path of the sandbox's token revocation endpoint (RFC 7009).
pub const REVOKE_PATH: &str = "/sandbox/oauth/revoke";
/// How long an authorization code may wait for its exchange.
pub const CODE_TTL_MS: i64 = 60_000;
/// How long an access token works.
pub const ACCESS_TTL_S: i64 = 3600;
/// How long an unused refresh token works (each refresh rotates it).
pub const REFRESH_TTL_S: i64 = 30 * 24 * 3600;
/// The most live sandbox tokens of each kind (access, refresh) the store keeps; past it the
/// oldest are dropped.
pub const MAX_GRANTS: u32 = 10_000;
/// The most unredeemed codes the store keeps; past it the oldest are dropped.
pub const MAX_CODES: u32 = 1_000;
/// The longest `scope` an authorization request may ask for, in bytes.
pub const MAX_SCOPE_LEN: usize = 256;
/// The longest `state` an authorization request may carry, in bytes (it is echoed back).
pub const MAX_STATE_LEN: usize = 512;
/// A PKCE S256 challenge: the base64url (no padding) of a SHA-256 digest.
const S256_CHALLENGE_LEN: usize = 43;

/// The sandbox's catalog entry, pointing at this broker.
pub fn toolkit(config: &EngineConfig) -> ToolkitDef {
    ToolkitDef {
        slug: SLUG.into(),
        name: "Grantline Sandbox".into(),
        description: "A pretend provider served by the broker in dev mode, to try the whole flow offline.".into(),
        logo: Some(config.url("/sandbox/logo.svg")),
        categories: vec!["developer-tools".into()],
        auth: AuthKind::Oauth2,
        api_base_url: Some(config.url("/sandbox/api")),
        oauth2: Some(OAuth2Def {
            authorization_url: config.url(AUTHORIZE_PATH),
            token_url: config.url(TOKEN_PATH),
            userinfo_url: Some(config.url(USERINFO_PATH)),
            revocation_url: Some(config.url(REVOKE_PATH)),
            scope_separator: " ".into(),
            default_scopes: vec!["profile".into()],
            pkce: true,
            token_auth: TokenAuth::Post,
            extra_authorize_params: None,
        }),
        fields: None,
        api_headers: Default::default(),
        credential: None,
        verify: None,
    }
}

/// The sandbox provider. Its state is the store's; the value itself is a handle.
pub struct Sandbox {
    store: Arc<dyn Store>,
}

fn client_authenticated(client_id: Option<&str>, client_secret: Option<&str>) -> bool {
    client_id == Some(CLIENT_ID) && secrets::constant_time_eq(client_secret.unwrap_or("").as_bytes(), CLIENT_SECRET.as_bytes())
}

impl Sandbox {
    /// A sandbox keeping its grants in `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Stores a new grant of `kind` for `from`'s user and scope, returning the secret itself.
    async fn issue(&self, kind: SandboxGrantKind, from: &SandboxGrant, ttl_ms: i64) -> Result<String> {
        let prefix = match kind {
            SandboxGrantKind::Code => "sbx_code_",
            SandboxGrantKind::AccessToken => "sbx_at_",
            SandboxGrantKind::RefreshToken => "sbx_rt_",
        };
        let secret = format!("{prefix}{}", secrets::random_token(40)?);
        let now = clock::now_ms();
        let grant = SandboxGrant { hash: secrets::sha256_hex(&secret), kind, created_at: now, expires_at: now + ttl_ms, ..from.clone() };
        let cap = if kind == SandboxGrantKind::Code { MAX_CODES } else { MAX_GRANTS };
        self.store.insert_sandbox_grant(&grant, cap).await?;
        Ok(secret)
    }

    /// Checks an authorization request; errors are shown on the consent page, not redirected.
    pub fn check_authorize(&self, config: &EngineConfig, r: &AuthorizeRequest) -> Result<()> {
        if r.response_type.as_deref() != Some("code") {
            return Err(Error::validation("response_type", "must be `code`"));
        }
        if r.client_id.as_deref() != Some(CLIENT_ID) {
            return Err(Error::validation("client_id", "unknown client"));
        }
        if r.redirect_uri.as_deref() != Some(config.redirect_uri().as_str()) {
            return Err(Error::validation("redirect_uri", "not registered for this client"));
        }
        let challenge = r.code_challenge.as_deref().unwrap_or("");
        let base64url = challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if challenge.len() != S256_CHALLENGE_LEN || !base64url || r.code_challenge_method.as_deref() != Some("S256") {
            return Err(Error::validation("code_challenge", "PKCE with S256 is required (a 43-character base64url challenge)"));
        }
        if r.scope.as_deref().unwrap_or("").len() > MAX_SCOPE_LEN {
            return Err(Error::validation("scope", format!("must be at most {MAX_SCOPE_LEN} bytes")));
        }
        if r.state.as_deref().unwrap_or("").len() > MAX_STATE_LEN {
            return Err(Error::validation("state", format!("must be at most {MAX_STATE_LEN} bytes")));
        }
        if r.resource.is_some() {
            return Err(Error::validation("resource", "the sandbox provider takes no resource indicator"));
        }
        Ok(())
    }

    /// The user allowed access: a code for the redirect URI.
    pub async fn approve(&self, config: &EngineConfig, r: &AuthorizeRequest, user: &str) -> Result<url::Url> {
        self.check_authorize(config, r)?;
        let user = user.trim();
        if user.is_empty() || user.len() > 64 {
            return Err(Error::validation("user", "must be 1 to 64 characters"));
        }
        let consent = SandboxGrant {
            hash: String::new(),
            kind: SandboxGrantKind::Code,
            family: secrets::new_id("sbg")?,
            user: user.to_string(),
            scope: r.scope.clone().unwrap_or_default(),
            redirect_uri: r.redirect_uri.clone(),
            code_challenge: r.code_challenge.clone(),
            created_at: 0,
            expires_at: 0,
        };
        let code = self.issue(SandboxGrantKind::Code, &consent, CODE_TTL_MS).await?;
        let mut url = url::Url::parse(r.redirect_uri.as_deref().unwrap_or_default()).map_err(|e| Error::Internal(e.to_string()))?;
        url.query_pairs_mut().append_pair("code", &code).append_pair("state", r.state.as_deref().unwrap_or(""));
        Ok(url)
    }

    /// The user denied access: `error=access_denied` for the redirect URI.
    pub fn deny(&self, config: &EngineConfig, r: &AuthorizeRequest) -> Result<url::Url> {
        self.check_authorize(config, r)?;
        let mut url = url::Url::parse(r.redirect_uri.as_deref().unwrap_or_default()).map_err(|e| Error::Internal(e.to_string()))?;
        url.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "The user denied access.")
            .append_pair("state", r.state.as_deref().unwrap_or(""));
        Ok(url)
    }

    /// The token endpoint: a JSON token response, or an OAuth error. Codes and refresh tokens
    /// are single use; a refresh answers with a new refresh token (rotation).
    pub async fn token(&self, t: &TokenRequest) -> std::result::Result<Value, OAuthError> {
        if !client_authenticated(t.client_id.as_deref(), t.client_secret.as_deref()) {
            return Err(oauth_error(401, "invalid_client", "client authentication failed"));
        }
        if t.resource.is_some() || t.scope.is_some() {
            let field = if t.resource.is_some() { "resource" } else { "scope" };
            return Err(oauth_error(400, "invalid_request", format!("the sandbox provider takes no {field} at its token endpoint")));
        }
        let now = clock::now_ms();
        let take = |kind, secret: Option<&str>| {
            let hash = secrets::sha256_hex(secret.unwrap_or(""));
            async move { self.store.take_sandbox_grant(kind, &hash, now).await.map_err(server_error) }
        };
        let grant = match t.grant_type.as_deref() {
            Some("authorization_code") => {
                let grant = take(SandboxGrantKind::Code, t.code.as_deref())
                    .await?
                    .ok_or_else(|| oauth_error(400, "invalid_grant", "unknown, used or expired code"))?;
                if t.redirect_uri != grant.redirect_uri {
                    return Err(oauth_error(400, "invalid_grant", "redirect_uri mismatch"));
                }
                if Some(secrets::s256(t.code_verifier.as_deref().unwrap_or(""))) != grant.code_challenge {
                    return Err(oauth_error(400, "invalid_grant", "PKCE verification failed"));
                }
                grant
            }
            Some("refresh_token") => take(SandboxGrantKind::RefreshToken, t.refresh_token.as_deref())
                .await?
                .ok_or_else(|| oauth_error(400, "invalid_grant", "unknown, used, revoked or expired refresh token"))?,
            _ => return Err(oauth_error(400, "unsupported_grant_type", "use authorization_code or refresh_token")),
        };
        let access = self.issue(SandboxGrantKind::AccessToken, &grant, ACCESS_TTL_S * 1000).await.map_err(server_error)?;
        let refresh = self.issue(SandboxGrantKind::RefreshToken, &grant, REFRESH_TTL_S * 1000).await.map_err(server_error)?;
        Ok(json!({"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TTL_S, "refresh_token": refresh, "scope": grant.scope}))
    }

    /// The userinfo endpoint: the user behind an unexpired, unrevoked bearer token.
    pub async fn userinfo(&self, access_token: &str) -> Result<Option<Value>> {
        let grant = self.store.sandbox_grant(SandboxGrantKind::AccessToken, &secrets::sha256_hex(access_token), clock::now_ms()).await?;
        Ok(grant.map(|g| json!({"sub": g.user, "name": g.user, "email": format!("{}@sandbox.grantline.test", g.user)})))
    }

    /// The revocation endpoint (RFC 7009): revoking an access or refresh token ends every token
    /// of the same consent. An unknown token is not an error.
    pub async fn revoke(&self, r: &RevokeRequest) -> std::result::Result<(), OAuthError> {
        if !client_authenticated(r.client_id.as_deref(), r.client_secret.as_deref()) {
            return Err(oauth_error(401, "invalid_client", "client authentication failed"));
        }
        let hash = secrets::sha256_hex(r.token.as_deref().unwrap_or(""));
        for kind in [SandboxGrantKind::RefreshToken, SandboxGrantKind::AccessToken] {
            if let Some(g) = self.store.sandbox_grant(kind, &hash, clock::now_ms()).await.map_err(server_error)? {
                self.store.revoke_sandbox_family(&g.family).await.map_err(server_error)?;
            }
        }
        Ok(())
    }
}

fn server_error(e: Error) -> OAuthError {
    tracing::error!(error = %e, "sandbox provider: store failed");
    oauth_error(500, "server_error", "the sandbox could not reach its store")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::SqliteStore;

    const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-for-rfc-7636-rules";

    struct Fixture {
        _dir: tempfile::TempDir,
        path: std::path::PathBuf,
        config: EngineConfig,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sandbox.db");
            Self { _dir: dir, path, config: EngineConfig::new(url::Url::parse("http://127.0.0.1:9900").unwrap()) }
        }

        /// A sandbox over the database file, as a freshly started broker opens it.
        async fn sandbox(&self) -> Sandbox {
            let store = SqliteStore::open(&self.path).unwrap();
            store.migrate().await.unwrap();
            Sandbox::new(Arc::new(store))
        }

        fn authorize(&self) -> AuthorizeRequest {
            AuthorizeRequest {
                response_type: Some("code".into()),
                client_id: Some(CLIENT_ID.into()),
                redirect_uri: Some(self.config.redirect_uri()),
                state: Some("st".into()),
                scope: Some("profile".into()),
                code_challenge: Some(secrets::s256(VERIFIER)),
                code_challenge_method: Some("S256".into()),
                resource: None,
            }
        }

        fn exchange(&self, code: &str) -> TokenRequest {
            TokenRequest {
                grant_type: Some("authorization_code".into()),
                code: Some(code.into()),
                redirect_uri: Some(self.config.redirect_uri()),
                client_id: Some(CLIENT_ID.into()),
                client_secret: Some(CLIENT_SECRET.into()),
                code_verifier: Some(VERIFIER.into()),
                ..Default::default()
            }
        }
    }

    fn refresh(token: &str) -> TokenRequest {
        TokenRequest {
            grant_type: Some("refresh_token".into()),
            refresh_token: Some(token.into()),
            client_id: Some(CLIENT_ID.into()),
            client_secret: Some(CLIENT_SECRET.into()),
            ..Default::default()
        }
    }

    fn code_of(url: &url::Url) -> String {
        url.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned()
    }

    fn token_pair(answer: &Value) -> (String, String) {
        (answer["access_token"].as_str().unwrap().to_string(), answer["refresh_token"].as_str().unwrap().to_string())
    }

    #[tokio::test]
    async fn tokens_issued_before_a_restart_keep_working_after_it() {
        let f = Fixture::new();
        let before = f.sandbox().await;
        let code = code_of(&before.approve(&f.config, &f.authorize(), "ada").await.unwrap());
        let (access, refresh_token) = token_pair(&before.token(&f.exchange(&code)).await.unwrap());
        drop(before);

        let after = f.sandbox().await;
        assert_eq!(after.userinfo(&access).await.unwrap().unwrap()["sub"], "ada");
        let (new_access, _) = token_pair(&after.token(&refresh(&refresh_token)).await.unwrap());
        assert_eq!(after.userinfo(&new_access).await.unwrap().unwrap()["email"], "ada@sandbox.grantline.test");
    }

    #[tokio::test]
    async fn codes_and_refresh_tokens_are_single_use() {
        let f = Fixture::new();
        let sb = f.sandbox().await;
        let code = code_of(&sb.approve(&f.config, &f.authorize(), "ada").await.unwrap());
        let (_, refresh_token) = token_pair(&sb.token(&f.exchange(&code)).await.unwrap());
        assert_eq!(sb.token(&f.exchange(&code)).await.unwrap_err().1["error"], "invalid_grant");

        let twice = refresh(&refresh_token);
        let (a, b) = tokio::join!(sb.token(&twice), sb.token(&twice));
        assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(), 1, "one of two concurrent refreshes wins");
    }

    #[tokio::test]
    async fn a_code_needs_its_pkce_verifier_and_redirect_uri() {
        let f = Fixture::new();
        let sb = f.sandbox().await;
        let code = code_of(&sb.approve(&f.config, &f.authorize(), "ada").await.unwrap());
        let wrong = TokenRequest { code_verifier: Some("another-verifier-of-sufficient-length-000000000".into()), ..f.exchange(&code) };
        assert_eq!(sb.token(&wrong).await.unwrap_err().1["error_description"], "PKCE verification failed");
        let secretless = TokenRequest { client_secret: Some("guess".into()), ..f.exchange(&code) };
        assert_eq!(sb.token(&secretless).await.unwrap_err().0, 401);
    }

    #[tokio::test]
    async fn revoking_a_refresh_token_ends_every_token_of_that_consent() {
        let f = Fixture::new();
        let sb = f.sandbox().await;
        let code = code_of(&sb.approve(&f.config, &f.authorize(), "ada").await.unwrap());
        let (access, refresh_token) = token_pair(&sb.token(&f.exchange(&code)).await.unwrap());
        let other = code_of(&sb.approve(&f.config, &f.authorize(), "bob").await.unwrap());
        let (bobs_access, _) = token_pair(&sb.token(&f.exchange(&other)).await.unwrap());

        let revoke = |token: &str| RevokeRequest {
            token: Some(token.into()),
            client_id: Some(CLIENT_ID.into()),
            client_secret: Some(CLIENT_SECRET.into()),
            ..Default::default()
        };
        sb.revoke(&revoke(&refresh_token)).await.unwrap();
        assert!(sb.userinfo(&access).await.unwrap().is_none());
        assert_eq!(sb.token(&refresh(&refresh_token)).await.unwrap_err().1["error"], "invalid_grant");
        assert!(sb.userinfo(&bobs_access).await.unwrap().is_some(), "another consent is untouched");
        sb.revoke(&revoke("sbx_rt_unknown")).await.expect("an unknown token is not an error (RFC 7009)");
    }

    #[tokio::test]
    async fn the_store_keeps_at_most_the_cap_and_drops_the_oldest() {
        let f = Fixture::new();
        let store = SqliteStore::open(&f.path).unwrap();
        store.migrate().await.unwrap();
        let grant = |i: i64| SandboxGrant {
            hash: format!("h{i}"),
            kind: SandboxGrantKind::AccessToken,
            family: format!("f{i}"),
            user: "u".into(),
            scope: String::new(),
            redirect_uri: None,
            code_challenge: None,
            created_at: 1_000 + i,
            expires_at: 1_000_000,
        };
        for i in 0..5 {
            store.insert_sandbox_grant(&grant(i), 3).await.unwrap();
        }
        let live = |i: i64| {
            let store = store.clone();
            async move { store.sandbox_grant(SandboxGrantKind::AccessToken, &format!("h{i}"), 2_000).await.unwrap().is_some() }
        };
        assert_eq!([live(0).await, live(1).await, live(2).await, live(3).await, live(4).await], [false, false, true, true, true]);
        assert!(store.sandbox_grant(SandboxGrantKind::AccessToken, "h4", 1_000_000).await.unwrap().is_none(), "expired");
    }

    #[tokio::test]
    async fn an_authorization_request_is_small_or_refused() {
        let f = Fixture::new();
        let sb = f.sandbox().await;
        let field = |r: &AuthorizeRequest| match sb.check_authorize(&f.config, r) {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        let huge_scope = AuthorizeRequest { scope: Some("profile ".repeat(10_000)), ..f.authorize() };
        assert_eq!(field(&huge_scope), "scope");
        let long_challenge = AuthorizeRequest { code_challenge: Some("a".repeat(10_000)), ..f.authorize() };
        assert_eq!(field(&long_challenge), "code_challenge");
        let huge_state = AuthorizeRequest { state: Some("s".repeat(10_000)), ..f.authorize() };
        assert_eq!(field(&huge_state), "state");
        assert!(sb.approve(&f.config, &huge_scope, "ada").await.is_err(), "nothing is stored for it");
        sb.check_authorize(&f.config, &f.authorize()).expect("a normal request passes");
    }

    #[tokio::test]
    async fn unredeemed_codes_are_capped_apart_from_tokens() {
        let f = Fixture::new();
        let sb = f.sandbox().await;
        let code = code_of(&sb.approve(&f.config, &f.authorize(), "ada").await.unwrap());
        let (access, _) = token_pair(&sb.token(&f.exchange(&code)).await.unwrap());
        let first = code_of(&sb.approve(&f.config, &f.authorize(), "ada").await.unwrap());
        // Strictly older than every code of the flood (codes of one millisecond tie).
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        for _ in 0..MAX_CODES {
            sb.approve(&f.config, &f.authorize(), "mallory").await.unwrap();
        }
        assert_eq!(sb.token(&f.exchange(&first)).await.unwrap_err().1["error"], "invalid_grant", "the oldest code went");
        assert!(sb.userinfo(&access).await.unwrap().is_some(), "a flood of codes leaves live tokens alone");
    }
}
