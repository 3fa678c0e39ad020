//! Recent tool executions (the execution logs) and one execution's page.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use grantline_core::engine::store::LogFilter;
use grantline_core::model::PageRequest;
use grantline_core::Error;

use super::layout::{self, Section};
use super::session::Operator;
use crate::extract::QueryParams;
use crate::pages::esc;
use crate::AppState;

/// `GET /dashboard/logs?user_id=&account_id=&toolkit=&page=`.
pub async fn list(State(s): State<AppState>, Operator(op): Operator, q: QueryParams) -> Response {
    let config = s.engine.config();
    let text = |name: &str| q.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let filter = LogFilter { user_id: text("user_id"), account_id: text("account_id"), toolkit: text("toolkit") };
    let found = async {
        q.only(&["user_id", "account_id", "toolkit", "page"])?;
        let page = PageRequest::parse(q.get("page"), None).map_err(|_| Error::validation("page", "expected a page number"))?;
        s.engine.list_execution_logs(&op.principal, &filter, page).await
    }
    .await;
    let found = match found {
        Ok(f) => f,
        Err(e) => return super::error_page(config, &e),
    };
    let input = |id: &str, label: &str, value: &Option<String>| {
        format!(r#"<div><label for="{id}">{label}</label><input id="{id}" name="{id}" value="{}"></div>"#, esc(value.as_deref().unwrap_or_default()))
    };
    let filters = format!(
        r#"<form method="get" action="{action}" class="filters" role="search" aria-label="Search tool executions">{}{}{}<div><button type="submit" class="primary">Search</button></div></form>"#,
        input("user_id", "User id", &filter.user_id),
        input("account_id", "Account", &filter.account_id),
        input("toolkit", "Toolkit", &filter.toolkit),
        action = esc(&config.url("/dashboard/logs")),
    );
    let rows: Vec<Vec<String>> = found
        .items
        .iter()
        .map(|l| {
            vec![
                format!(r#"<a href="{}"><code>{}</code></a>"#, esc(&config.url(&format!("/dashboard/logs/{}", l.log_id))), esc(&l.log_id)),
                layout::when(&l.created_at),
                esc(&l.user_id),
                esc(&l.toolkit),
                esc(l.tool_slug.as_deref().unwrap_or("(proxied request)")),
                outcome(l.successful, l.error.as_ref().map(|e| e.code.as_str())),
                l.provider_status.map(|s| s.to_string()).unwrap_or_default(),
                format!("{} ms", l.duration_ms),
            ]
        })
        .collect();
    let table = layout::table(
        &format!("{} execution(s), newest first", found.total_items),
        &["Log", "When", "User", "Toolkit", "Tool", "Outcome", "Provider HTTP status", "Duration"],
        &rows,
        "No tool execution matches.",
    );
    let kept = [("user_id", filter.user_id.as_deref()), ("account_id", filter.account_id.as_deref()), ("toolkit", filter.toolkit.as_deref())];
    let pager = super::accounts::pager(&s, &kept, found.current_page, found.next_cursor.is_some(), "/dashboard/logs");
    let body = format!(r#"<p class="muted">Arguments and answers are never recorded: they may carry users' data.</p>{filters}{table}{pager}"#);
    layout::html(StatusCode::OK, layout::page(config, Section::Logs, "Tool executions", &op.csrf_token, &body))
}

fn outcome(successful: bool, code: Option<&str>) -> String {
    if successful {
        r#"<span class="ok">Success</span>"#.into()
    } else {
        format!(r#"<span class="error">Error{}</span>"#, code.map(|c| format!(" ({})", esc(c))).unwrap_or_default())
    }
}

/// `GET /dashboard/logs/{id}`.
pub async fn show(State(s): State<AppState>, Operator(op): Operator, Path(id): Path<String>) -> Response {
    let config = s.engine.config();
    let l = match s.engine.get_execution_log(&op.principal, &id).await {
        Ok(l) => l,
        Err(e) => return super::error_page(config, &e),
    };
    let row = |k: &str, v: String| format!("<dt>{}</dt><dd>{v}</dd>", esc(k));
    let account = match &l.connected_account_id {
        Some(a) => format!(r#"<a href="{}"><code>{}</code></a>"#, esc(&config.url(&format!("/dashboard/accounts/{a}"))), esc(a)),
        None => "—".into(),
    };
    let details = [
        row("Log", format!("<code>{}</code>", esc(&l.log_id))),
        row("When", layout::when(&l.created_at)),
        row("Session", format!(r#"<a href="{}"><code>{}</code></a>"#, esc(&config.url(&format!("/dashboard/sessions/{}", l.session_id))), esc(&l.session_id))),
        row("User", esc(&l.user_id)),
        row("Account", account),
        row("Toolkit", esc(&l.toolkit)),
        row("Tool", esc(l.tool_slug.as_deref().unwrap_or("(proxied request)"))),
        row("Outcome", outcome(l.successful, l.error.as_ref().map(|e| e.code.as_str()))),
        row("Error", esc(l.error.as_ref().map(|e| e.message.as_str()).unwrap_or("—"))),
        row("Provider HTTP status", l.provider_status.map(|s| s.to_string()).unwrap_or_else(|| "—".into())),
        row("Duration", format!("{} ms", l.duration_ms)),
    ]
    .concat();
    let body = format!(r#"<dl>{details}</dl><p class="muted">Arguments and answers are never recorded.</p>"#);
    layout::html(StatusCode::OK, layout::page(config, Section::Logs, &format!("Execution {}", l.log_id), &op.csrf_token, &body))
}
