//! Request extractors that turn bad input into errors naming the field.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use grantline_core::engine::Principal;
use grantline_core::Error;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::AppState;

/// A JSON body whose errors name the offending field (`toolkits`, `manage_connections.enable`, …).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(axum::http::header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("");
            if !ct.starts_with("application/json") {
                return Err(Error::validation("content-type", "send the body as application/json").into());
            }
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| Error::validation("body", e.body_text()))?;
        parse_json(&bytes).map(ApiJson).map_err(ApiError)
    }
}

/// Like [`ApiJson`], for endpoints whose body is optional: no body (or only whitespace) is `T::default()`.
pub struct OptionalApiJson<T>(pub T);

impl<T: DeserializeOwned + Default> FromRequest<AppState> for OptionalApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(axum::http::header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("").to_string());
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| Error::validation("body", e.body_text()))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalApiJson(T::default()));
        }
        if content_type.is_some_and(|ct| !ct.starts_with("application/json")) {
            return Err(Error::validation("content-type", "send the body as application/json").into());
        }
        // `null` is no body too.
        parse_json::<Option<T>>(&bytes).map(|t| OptionalApiJson(t.unwrap_or_default())).map_err(ApiError)
    }
}

/// Parses JSON, naming the field at fault in the error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    // Every body is an object; serde's derive would read a struct from an array by position.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(Error::validation("body", "expected a JSON object"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            return Error::validation("body", format!("malformed JSON: {message}"));
        }
        // serde reports an unknown field at its parent's path; name the field itself.
        let field = match message.strip_prefix("unknown field `").and_then(|m| m.split('`').next()) {
            Some(name) if path == "." => name.to_string(),
            Some(name) if path == name || path.ends_with(&format!(".{name}")) => path,
            Some(name) => format!("{path}.{name}"),
            None if path == "." => {
                match message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
                    Some(name) => name.to_string(),
                    None => "body".to_string(),
                }
            }
            None => path,
        };
        Error::validation(field, message)
    })
}

/// The caller, authenticated by `x-api-key`: the endpoints only a backend may use.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let key = header(parts, "x-api-key");
        if let (None, Some(token)) = (key, bearer(parts)) {
            // Say what the bearer is, so no one takes one kind of credential for another.
            grantline_core::engine::refuse_outside_mcp(token)?;
            return Err(Error::Forbidden("a client token can only authorize, wait and list toolkits for its own session".into()).into());
        }
        Ok(Caller(api_key(state, key).await?))
    }
}

/// Authenticates an API key, then takes one request from its rate limit (when one is set).
async fn api_key(state: &AppState, key: Option<&str>) -> Result<Principal, Error> {
    let who = state.engine.authenticate(key).await?;
    if let Some(key_id) = &who.api_key_id {
        state.limits.api_key.check(key_id)?;
    }
    Ok(who)
}

/// Authenticates a client token, then takes one request from its rate limit.
async fn client_token(state: &AppState, token: &str, origin: Option<&str>) -> Result<Principal, Error> {
    let who = state.engine.authenticate_client_token(token, origin).await?;
    if let grantline_core::engine::Scope::Session { token_id, .. } = &who.scope {
        state.limits.client_token.check(token_id)?;
    }
    Ok(who)
}

/// The caller by `x-api-key`, or by a session's client token (`Authorization: Bearer glct_…`):
/// the endpoints a browser widget may reach.
pub struct ClientCaller(pub Principal);

impl FromRequestParts<AppState> for ClientCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(key) = header(parts, "x-api-key") {
            return Ok(ClientCaller(api_key(state, Some(key)).await?));
        }
        match bearer(parts) {
            Some(token) => {
                let origin = header(parts, "origin");
                Ok(ClientCaller(client_token(state, token, origin).await?))
            }
            None => Err(Error::Unauthorized("send an x-api-key header, or Authorization: Bearer with a client token".into()).into()),
        }
    }
}

/// The caller by a session's client token alone (`Authorization: Bearer glct_…`): the operations
/// about the token's own session. Without one the request is unauthenticated for them (401),
/// whatever `x-api-key` says: an API key has no session of its own.
pub struct ClientTokenCaller(pub Principal);

impl FromRequestParts<AppState> for ClientTokenCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match bearer(parts) {
            Some(token) => {
                let origin = header(parts, "origin");
                Ok(ClientTokenCaller(client_token(state, token, origin).await?))
            }
            None => {
                if let Some(key) = header(parts, "x-api-key") {
                    grantline_core::engine::refuse_outside_mcp(key)?;
                }
                Err(Error::Unauthorized("this operation takes a client token (Authorization: Bearer glct_…); an API key has no session of its own".into()).into())
            }
        }
    }
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty())
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = header(parts, "authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Query parameters as a list, so repeated keys and comma lists both work.
pub struct QueryParams(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        Ok(QueryParams(url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()))
    }
}

impl QueryParams {
    /// Refuses parameters not in `allowed`, naming the first one, and a parameter that takes one
    /// value given more than once (`limit=1&limit=2`: which one was meant?). A parameter takes a
    /// list when its `name[]` spelling is allowed too.
    pub fn only(&self, allowed: &[&str]) -> Result<(), Error> {
        if let Some((k, _)) = self.0.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            let expected = match allowed {
                [] => "this operation takes none".to_string(),
                _ => format!("expected one of {}", allowed.join(", ")),
            };
            return Err(Error::validation(k.clone(), format!("unknown query parameter; {expected}")));
        }
        for (i, (k, _)) in self.0.iter().enumerate() {
            let list = k.ends_with("[]") || allowed.contains(&format!("{k}[]").as_str());
            if !list && self.0[..i].iter().any(|(seen, _)| seen == k) {
                return Err(Error::validation(k.clone(), "given more than once; it takes one value"));
            }
        }
        Ok(())
    }

    /// The last value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// All values of `name` (repeated or comma-separated, also `name[]`), trimmed, empty ones dropped.
    pub fn list(&self, name: &str) -> Vec<String> {
        let bracket = format!("{name}[]");
        self.0
            .iter()
            .filter(|(k, _)| k == name || *k == bracket)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// A boolean parameter, naming it when it is not `true`/`false`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some("true") | Some("1") => Ok(Some(true)),
            Some("false") | Some("0") => Ok(Some(false)),
            Some(_) => Err(Error::validation(name, "expected true or false")),
        }
    }
}
