//! The dev-mode `sandbox` provider: an OAuth 2.0 authorization server inside the broker,
//! so a newcomer can click through the whole flow with no OAuth app and no internet.
//!
//! Grants live in memory: a restart forgets pending codes and issued sandbox tokens,
//! which is fine for a toy provider and never used outside `--dev`.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::{json, Value};

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
const CODE_TTL_MS: i64 = 60_000;
const TOKEN_TTL_S: i64 = 3600;

/// The sandbox's catalog entry, pointing at this broker.
pub fn toolkit(config: &EngineConfig) -> ToolkitDef {
    ToolkitDef {
        slug: SLUG.into(),
        name: "Grantline Sandbox".into(),
        description: "A pretend provider served by the broker in dev mode, to try the whole flow offline.".into(),
        logo: config.url("/sandbox/logo.svg"),
        categories: vec!["developer-tools".into()],
        auth: AuthKind::Oauth2,
        api_base_url: Some(config.url("/sandbox/api")),
        oauth2: Some(OAuth2Def {
            authorization_url: config.url(AUTHORIZE_PATH),
            token_url: config.url(TOKEN_PATH),
            userinfo_url: Some(config.url(USERINFO_PATH)),
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

/// The query of the sandbox's authorization endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthorizeRequest {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// Must be [`CLIENT_ID`].
    pub client_id: Option<String>,
    /// Must be the broker's callback.
    pub redirect_uri: Option<String>,
    /// Echoed back.
    pub state: Option<String>,
    /// Requested scopes.
    pub scope: Option<String>,
    /// PKCE challenge (required).
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
}

/// The form of the sandbox's token endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenRequest {
    /// `authorization_code` or `refresh_token`.
    pub grant_type: Option<String>,
    /// The code.
    pub code: Option<String>,
    /// Same as at authorize.
    pub redirect_uri: Option<String>,
    /// Client id.
    pub client_id: Option<String>,
    /// Client secret.
    pub client_secret: Option<String>,
    /// PKCE verifier.
    pub code_verifier: Option<String>,
    /// For `refresh_token` grants.
    pub refresh_token: Option<String>,
}

struct Grant {
    redirect_uri: String,
    challenge: String,
    user: String,
    scope: String,
    expires_at: i64,
}

/// The sandbox's in-memory grants and tokens.
#[derive(Default)]
pub struct Sandbox {
    codes: Mutex<HashMap<String, Grant>>,
    access: Mutex<HashMap<String, (String, i64)>>,
    refresh: Mutex<HashMap<String, String>>,
}

/// An OAuth error answer: HTTP status and `{error, error_description}`.
pub type OAuthError = (u16, Value);

fn oauth_error(status: u16, error: &str, description: &str) -> OAuthError {
    (status, json!({"error": error, "error_description": description}))
}

impl Sandbox {
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
        if r.code_challenge.as_deref().unwrap_or("").len() < 43 || r.code_challenge_method.as_deref() != Some("S256") {
            return Err(Error::validation("code_challenge", "PKCE with S256 is required"));
        }
        Ok(())
    }

    /// The user allowed access: a code for the redirect URI.
    pub fn approve(&self, config: &EngineConfig, r: &AuthorizeRequest, user: &str) -> Result<url::Url> {
        self.check_authorize(config, r)?;
        let user = user.trim();
        if user.is_empty() || user.len() > 64 {
            return Err(Error::validation("user", "must be 1 to 64 characters"));
        }
        let code = secrets::random_token(32)?;
        self.codes.lock().unwrap().insert(
            code.clone(),
            Grant {
                redirect_uri: r.redirect_uri.clone().unwrap_or_default(),
                challenge: r.code_challenge.clone().unwrap_or_default(),
                user: user.to_string(),
                scope: r.scope.clone().unwrap_or_default(),
                expires_at: clock::now_ms() + CODE_TTL_MS,
            },
        );
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

    /// The token endpoint: a JSON token response, or an OAuth error.
    pub fn token(&self, t: &TokenRequest) -> std::result::Result<Value, OAuthError> {
        if t.client_id.as_deref() != Some(CLIENT_ID)
            || !secrets::constant_time_eq(t.client_secret.as_deref().unwrap_or("").as_bytes(), CLIENT_SECRET.as_bytes())
        {
            return Err(oauth_error(401, "invalid_client", "client authentication failed"));
        }
        let (user, scope) = match t.grant_type.as_deref() {
            Some("authorization_code") => {
                let grant = self
                    .codes
                    .lock()
                    .unwrap()
                    .remove(t.code.as_deref().unwrap_or(""))
                    .ok_or_else(|| oauth_error(400, "invalid_grant", "unknown or used code"))?;
                if grant.expires_at < clock::now_ms() {
                    return Err(oauth_error(400, "invalid_grant", "code expired"));
                }
                if t.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
                    return Err(oauth_error(400, "invalid_grant", "redirect_uri mismatch"));
                }
                if secrets::s256(t.code_verifier.as_deref().unwrap_or("")) != grant.challenge {
                    return Err(oauth_error(400, "invalid_grant", "PKCE verification failed"));
                }
                (grant.user, grant.scope)
            }
            Some("refresh_token") => {
                let user = self
                    .refresh
                    .lock()
                    .unwrap()
                    .get(t.refresh_token.as_deref().unwrap_or(""))
                    .cloned()
                    .ok_or_else(|| oauth_error(400, "invalid_grant", "unknown refresh token"))?;
                (user, "profile".to_string())
            }
            _ => return Err(oauth_error(400, "unsupported_grant_type", "use authorization_code or refresh_token")),
        };
        let new = || secrets::random_token(40).map_err(|_| oauth_error(500, "server_error", "no randomness"));
        let (access, refresh) = (format!("sbx_at_{}", new()?), format!("sbx_rt_{}", new()?));
        self.access.lock().unwrap().insert(access.clone(), (user.clone(), clock::now_ms() + TOKEN_TTL_S * 1000));
        self.refresh.lock().unwrap().insert(refresh.clone(), user);
        Ok(json!({"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_TTL_S, "refresh_token": refresh, "scope": scope}))
    }

    /// The userinfo endpoint: the user behind a bearer token.
    pub fn userinfo(&self, access_token: &str) -> Option<Value> {
        let access = self.access.lock().unwrap();
        let (user, expires_at) = access.get(access_token)?;
        (*expires_at > clock::now_ms()).then(|| json!({"sub": user, "name": user, "email": format!("{user}@sandbox.grantline.test")}))
    }
}
