//! The project's auth configs (never a secret) and API keys (their hints, never a key).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use grantline_core::engine::clock::rfc3339;

use super::layout::{self, Section};
use super::session::Operator;
use crate::extract::QueryParams;
use crate::pages::esc;
use crate::AppState;

/// `GET /dashboard/auth-configs`.
pub async fn auth_configs(State(s): State<AppState>, Operator(op): Operator, q: QueryParams) -> Response {
    let config = s.engine.config();
    let configs = match q.only(&[]) {
        Ok(()) => s.engine.list_auth_configs(&op.principal).await,
        Err(e) => Err(e),
    };
    let configs = match configs {
        Ok(c) => c,
        Err(e) => return super::error_page(config, &e),
    };
    let rows: Vec<Vec<String>> = configs
        .iter()
        .map(|c| {
            vec![
                format!("<code>{}</code>", esc(&c.id)),
                esc(c.toolkit.as_deref().unwrap_or("")),
                esc(c.name.as_deref().unwrap_or("")),
                esc(&c.auth_scheme),
                esc(&c.scopes.join(" ")),
                if c.is_disabled { "Disabled".into() } else { "Enabled".into() },
            ]
        })
        .collect();
    let table = layout::table(
        &format!("{} auth config(s)", configs.len()),
        &["Auth config", "Toolkit", "Name", "Scheme", "Scopes", "Use"],
        &rows,
        "No auth config yet: the first link of a toolkit makes one from the catalog, or create one with POST /api/v3.1/auth_configs.",
    );
    let body = format!(r#"<p class="muted">Client secrets are stored encrypted and never shown.</p>{table}"#);
    layout::html(StatusCode::OK, layout::page(config, Section::AuthConfigs, "Auth configs", &op.csrf_token, &body))
}

/// `GET /dashboard/api-keys`.
pub async fn api_keys(State(s): State<AppState>, Operator(op): Operator, q: QueryParams) -> Response {
    let config = s.engine.config();
    let keys = match q.only(&[]) {
        Ok(()) => s.engine.list_api_keys(&op.principal.project.id).await,
        Err(e) => Err(e),
    };
    let keys = match keys {
        Ok(k) => k,
        Err(e) => return super::error_page(config, &e),
    };
    let signed_in_with = op.principal.api_key_id.as_deref();
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            let this = if Some(k.id.as_str()) == signed_in_with { " (this session)" } else { "" };
            vec![
                format!("<code>{}</code>{this}", esc(&k.id)),
                esc(&k.name),
                format!("<code>{}…</code>", esc(&k.hint)),
                layout::when(&rfc3339(k.created_at)),
                k.revoked_at.map(|t| format!("Revoked {}", layout::when(&rfc3339(t)))).unwrap_or_else(|| "Active".into()),
            ]
        })
        .collect();
    let table = layout::table(&format!("{} API key(s)", keys.len()), &["Key", "Name", "Begins with", "Created", "State"], &rows, "No API key.");
    let body = format!(
        r#"<p class="muted">Keys are stored hashed: only their first characters are shown. Create and revoke them with <code>grantline keys</code>; revoking the key of a dashboard session ends that session.</p>{table}"#
    );
    layout::html(StatusCode::OK, layout::page(config, Section::ApiKeys, "API keys", &op.csrf_token, &body))
}
