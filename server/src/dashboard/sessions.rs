//! Sessions: one session's page (its user, toolkits, MCP endpoint) with its MCP credentials and a
//! revoke button for each, and a form that opens a session by its id. Never a credential's secret:
//! it is shown once, to whoever minted it.

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use grantline_core::model::{McpCredentialInfo, ToolkitsConfig};
use grantline_core::Error;

use super::layout::{self, Section};
use super::session::Operator;
use crate::extract::QueryParams;
use crate::pages::esc;
use crate::AppState;

/// The form that opens a session by its id (on this page and on an account's).
pub(super) fn find_form(s: &AppState, value: &str) -> String {
    format!(
        r#"<form method="get" action="{action}" class="filters" role="search" aria-label="Open a session"><div><label for="session_id">Session id</label><input id="session_id" name="session_id" placeholder="trs_…" value="{value}"></div><div><button type="submit" class="primary">Open session</button></div></form>"#,
        action = esc(&s.engine.config().url("/dashboard/sessions")),
        value = esc(value),
    )
}

/// `GET /dashboard/sessions?session_id=`: the form, or the session it names.
pub async fn find(State(s): State<AppState>, Operator(op): Operator, q: QueryParams) -> Response {
    let config = s.engine.config();
    if let Err(e) = q.only(&["session_id"]) {
        return super::error_page(config, &e);
    }
    if let Some(id) = q.get("session_id").map(str::trim).filter(|v| !v.is_empty()) {
        // The engine's own check of the id, so a bad one is refused naming the field.
        return match s.engine.get_session(&op.principal, id).await {
            Ok(found) => layout::secured(Redirect::to(&config.url(&format!("/dashboard/sessions/{}", found.session_id))).into_response()),
            Err(e) => super::error_page(config, &e),
        };
    }
    let body = format!(
        r#"<p>The app creates sessions (<code>POST /api/v3.1/tool_router/session</code>) and keeps their ids; open one to see its MCP endpoint and revoke the credentials of its MCP clients. A tool execution's page links to the session it ran in.</p>{}"#,
        find_form(&s, "")
    );
    layout::html(StatusCode::OK, layout::page(config, Section::Sessions, "Sessions", &op.csrf_token, &body))
}

/// `GET /dashboard/sessions/{id}?done=`.
pub async fn show(State(s): State<AppState>, Operator(op): Operator, Path(id): Path<String>, q: QueryParams) -> Response {
    let config = s.engine.config();
    let found = async {
        q.only(&["done"])?;
        let info = s.engine.get_session(&op.principal, &id).await?;
        let credentials = s.engine.list_mcp_credentials(&op.principal, &id).await?;
        Ok::<_, Error>((info, credentials))
    }
    .await;
    let (info, credentials) = match found {
        Ok(f) => f,
        Err(e) => return super::error_page(config, &e),
    };
    // Only a credential of this session that is revoked is named (the query is the browser's).
    let notice = q
        .get("done")
        .filter(|done| credentials.items.iter().any(|m| m.id == *done && m.status == "REVOKED"))
        .map(|c| format!(r#"<p class="notice" role="status">MCP credential <code>{}</code> is revoked: the MCP endpoint refuses it from now on.</p>"#, esc(c)))
        .unwrap_or_default();
    let c = &info.config.config;
    let toolkits = match &c.toolkits {
        None => "all".to_string(),
        Some(ToolkitsConfig::Enabled { enabled }) => enabled.iter().map(|t| format!("<code>{}</code>", esc(t))).collect::<Vec<_>>().join(", "),
        Some(ToolkitsConfig::Disabled { disabled }) => {
            format!("all but {}", disabled.iter().map(|t| format!("<code>{}</code>", esc(t))).collect::<Vec<_>>().join(", "))
        }
    };
    let row = |k: &str, v: String| format!("<dt>{}</dt><dd>{v}</dd>", esc(k));
    let details = [
        row("Session", format!("<code>{}</code>", esc(&info.session_id))),
        row(
            "User",
            format!(r#"<a href="{}">{}</a>"#, esc(&config.url(&format!("/dashboard/accounts?user_id={}", urlencode(&c.user_id)))), esc(&c.user_id)),
        ),
        row("Toolkits", toolkits),
        row("MCP URL", format!("<code>{}</code>", esc(&info.mcp.url))),
    ]
    .concat();
    let rows: Vec<Vec<String>> = credentials.items.iter().map(|m| credential_row(&s, &op.csrf_token, &info.session_id, m)).collect();
    let table = layout::table(
        &format!("{} MCP credential(s), newest first", credentials.items.len()),
        &["Credential", "Name", "Status", "Created", "Expires", "Last used", "Revoke"],
        &rows,
        "No MCP credential: the app mints one per MCP client with POST …/mcp_credentials.",
    );
    let body = format!(
        r#"{notice}<dl>{details}</dl><h2>MCP credentials</h2><p class="muted">Each opens this session's MCP endpoint only. Secrets are shown once, to the app that minted them; never here.</p>{table}"#
    );
    layout::html(StatusCode::OK, layout::page(config, Section::Sessions, &format!("Session {}", info.session_id), &op.csrf_token, &body))
}

fn credential_row(s: &AppState, csrf: &str, session_id: &str, m: &McpCredentialInfo) -> Vec<String> {
    let config = s.engine.config();
    let status = match m.status.as_str() {
        "ACTIVE" => r#"<span class="ok" data-status="ACTIVE">ACTIVE</span>"#.to_string(),
        other => format!(r#"<span class="muted" data-status="{0}">{0}</span>"#, esc(other)),
    };
    let revoke = if m.status == "ACTIVE" {
        format!(
            r#"<form class="inline" method="post" action="{action}"><input type="hidden" name="csrf_token" value="{csrf}"><button type="submit" class="danger" aria-label="Revoke MCP credential {id}">Revoke</button></form>"#,
            action = esc(&config.url(&format!("/dashboard/sessions/{session_id}/mcp_credentials/{}/revoke", m.id))),
            csrf = esc(csrf),
            id = esc(&m.id),
        )
    } else {
        m.revoked_at.as_deref().map(|r| format!("revoked {}", layout::when(r))).unwrap_or_else(|| "—".into())
    };
    vec![
        format!("<code>{}</code>", esc(&m.id)),
        esc(m.name.as_deref().unwrap_or("—")),
        status,
        layout::when(&m.created_at),
        layout::when(&m.expires_at),
        m.last_used_at.as_deref().map(layout::when).unwrap_or_else(|| "never".into()),
        revoke,
    ]
}

fn urlencode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// `POST /dashboard/sessions/{id}/mcp_credentials/{credential_id}/revoke`: the engine's revoke,
/// as `DELETE …/mcp_credentials/{credential_id}` does it.
pub async fn revoke(
    State(s): State<AppState>,
    Operator(op): Operator,
    Path((id, credential_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = format!("/dashboard/sessions/{id}?done={credential_id}");
    super::press(&s, &op, &headers, &fields, &back, s.engine.revoke_mcp_credential(&op.principal, &id, &credential_id)).await
}
