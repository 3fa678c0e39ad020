//! Connected accounts: a searchable, paged list, and one account's page with its actions
//! (disable, enable, delete, a new Connect Link), each the engine call the REST API makes.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use grantline_core::engine::dashboard::AccountChange;
use grantline_core::engine::store::LogFilter;
use grantline_core::engine::DashboardSession;
use grantline_core::model::{AccountFilter, AccountStatus, ConnectedAccount, PageRequest, RefreshAccountRequest};
use grantline_core::Error;

use super::layout::{self, Section};
use super::session::{self, Operator};
use crate::extract::QueryParams;
use crate::pages::esc;
use crate::AppState;

/// `GET /dashboard/accounts?user_id=&toolkit=&status=&page=`.
pub async fn list(State(s): State<AppState>, Operator(op): Operator, q: QueryParams) -> Response {
    let config = s.engine.config();
    let result = async {
        q.only(&["user_id", "toolkit", "status", "page"])?;
        let text = |name: &str| q.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let (user, toolkit, status) = (text("user_id"), text("toolkit"), text("status"));
        let statuses = match &status {
            None => vec![],
            Some(st) => vec![AccountStatus::parse(st).ok_or_else(|| Error::validation("status", format!("unknown status {st:?}")))?],
        };
        let page = PageRequest::parse(q.get("page"), None).map_err(|_| Error::validation("page", "expected a page number"))?;
        let filter = AccountFilter {
            user_ids: user.iter().cloned().collect(),
            toolkit_slugs: toolkit.iter().map(|t| t.to_ascii_lowercase()).collect(),
            statuses,
            ..AccountFilter::default()
        };
        let found = s.engine.list_accounts(&op.principal, &filter, page).await?;
        Ok::<_, Error>((user, toolkit, status, found))
    }
    .await;
    let (user, toolkit, status, found) = match result {
        Ok(r) => r,
        Err(e) => return super::error_page(config, &e),
    };
    let options: String = std::iter::once(("", "Any status"))
        .chain(AccountStatus::ALL.iter().map(|s| (s.as_str(), s.as_str())))
        .map(|(value, label)| {
            let selected = if status.as_deref() == Some(value) { " selected" } else { "" };
            format!(r#"<option value="{value}"{selected}>{label}</option>"#)
        })
        .collect();
    let filters = format!(
        r#"<form method="get" action="{action}" class="filters" role="search" aria-label="Search connected accounts">
<div><label for="user_id">User id</label><input id="user_id" name="user_id" value="{user}"></div>
<div><label for="toolkit">Toolkit</label><input id="toolkit" name="toolkit" value="{toolkit}"></div>
<div><label for="status">Status</label><select id="status" name="status">{options}</select></div>
<div><button type="submit" class="primary">Search</button></div></form>"#,
        action = esc(&config.url("/dashboard/accounts")),
        user = esc(user.as_deref().unwrap_or_default()),
        toolkit = esc(toolkit.as_deref().unwrap_or_default()),
    );
    let rows: Vec<Vec<String>> = found
        .items
        .iter()
        .map(|a| {
            vec![
                format!(r#"<a href="{}"><code>{}</code></a>"#, esc(&config.url(&format!("/dashboard/accounts/{}", a.id))), esc(&a.id)),
                esc(&a.user_id),
                esc(&a.toolkit.slug),
                format!(r#"<span data-status="{0}">{0}</span>"#, esc(a.status.as_str())),
                esc(a.status_reason.as_deref().unwrap_or("")),
                if a.is_disabled { "Disabled".into() } else { "Enabled".into() },
                layout::when(&a.updated_at),
            ]
        })
        .collect();
    let table = layout::table(
        &format!("{} connected account(s)", found.total_items),
        &["Account", "User", "Toolkit", "Status", "Status reason", "Use", "Last change"],
        &rows,
        "No connected account matches.",
    );
    let pager = pager(&s, &[("user_id", user.as_deref()), ("toolkit", toolkit.as_deref()), ("status", status.as_deref())], found.current_page, found.next_cursor.is_some(), "/dashboard/accounts");
    let html = layout::page(config, Section::Accounts, "Connected accounts", &op.csrf_token, &format!("{filters}{table}{pager}"));
    layout::html(StatusCode::OK, html)
}

/// Previous and next page links keeping the search.
pub(super) fn pager(s: &AppState, kept: &[(&str, Option<&str>)], current: u64, has_next: bool, path: &str) -> String {
    let link = |page: u64, label: &str, rel: &str| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in kept {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        q.append_pair("page", &page.to_string());
        format!(r#"<a rel="{rel}" href="{}">{label}</a>"#, esc(&s.engine.config().url(&format!("{path}?{}", q.finish()))))
    };
    let mut out = String::new();
    if current > 1 {
        out.push_str(&link(current - 1, "Previous page", "prev"));
    }
    if has_next {
        out.push_str(&link(current + 1, "Next page", "next"));
    }
    if out.is_empty() {
        return out;
    }
    format!(r#"<nav class="pager" aria-label="Pages">{out}<span class="muted">Page {current}</span></nav>"#)
}

/// `GET /dashboard/accounts/{id}`.
pub async fn show(State(s): State<AppState>, Operator(op): Operator, Path(id): Path<String>, q: QueryParams) -> Response {
    let config = s.engine.config();
    if let Err(e) = q.only(&["done"]) {
        return super::error_page(config, &e);
    }
    let notice = match q.get("done") {
        Some("disabled") => Some("The account is disabled: tools no longer run as it.".to_string()),
        Some("enabled") => Some("The account is enabled again.".to_string()),
        _ => None,
    };
    match account_and_history(&s, &op, &id).await {
        Ok((a, history, sessions)) => account_page(&s, &op, &a, &history, &sessions, notice.as_deref(), None),
        Err(e) => super::error_page(config, &e),
    }
}

/// An account, its history, and the sessions that ran tools as it lately (from the execution logs).
async fn account_and_history(s: &AppState, op: &DashboardSession, id: &str) -> Result<(ConnectedAccount, Vec<AccountChange>, Vec<String>), Error> {
    let account = s.engine.get_account(&op.principal, id).await?;
    let history = s.engine.account_history(&op.principal, id).await?;
    let filter = LogFilter { account_id: Some(account.id.clone()), ..LogFilter::default() };
    let logs = s.engine.list_execution_logs(&op.principal, &filter, PageRequest { page: 1, limit: 100 }).await?;
    let mut sessions: Vec<String> = Vec::new();
    for l in logs.items {
        if !sessions.contains(&l.session_id) {
            sessions.push(l.session_id);
        }
    }
    Ok((account, history, sessions))
}

fn account_page(
    s: &AppState,
    op: &DashboardSession,
    a: &ConnectedAccount,
    history: &[AccountChange],
    sessions: &[String],
    notice: Option<&str>,
    link: Option<&str>,
) -> Response {
    let config = s.engine.config();
    let notice = notice.map(|n| format!(r#"<p class="notice" role="status">{}</p>"#, esc(n))).unwrap_or_default();
    let link = link
        .map(|l| {
            format!(
                r#"<div class="notice" role="status"><h2 id="new-link">New Connect Link</h2>
<p>Send this link to the user; it works once, until it expires. The account keeps its status until they finish it.</p>
<label for="connect-link">Connect Link</label><input id="connect-link" readonly size="60" value="{l}"></div>"#,
                l = esc(l)
            )
        })
        .unwrap_or_default();
    let row = |k: &str, v: String| format!("<dt>{}</dt><dd>{v}</dd>", esc(k));
    let details = [
        row("Account", format!("<code>{}</code>", esc(&a.id))),
        row("User", esc(&a.user_id)),
        row("Toolkit", esc(&a.toolkit.slug)),
        row("Status", format!(r#"<span id="account-status" data-status="{0}">{0}</span>"#, esc(a.status.as_str()))),
        row("Status reason", esc(a.status_reason.as_deref().unwrap_or("—"))),
        row("Use", if a.is_disabled { r#"<span id="account-use">Disabled</span>"#.into() } else { r#"<span id="account-use">Enabled</span>"#.into() }),
        row("Alias", esc(a.alias.as_deref().unwrap_or("—"))),
        row("Auth config", format!("<code>{}</code> ({})", esc(&a.auth_config.id), esc(&a.auth_config.auth_scheme))),
        row("Reconnect link out", if a.reconnecting { "yes".into() } else { "no".into() }),
        row("Created", layout::when(&a.created_at)),
        row("Last change", layout::when(&a.updated_at)),
    ]
    .concat();
    let action = |name: &str, label: &str, class: &str| {
        format!(
            r#"<form class="inline" method="post" action="{action}"><input type="hidden" name="csrf_token" value="{csrf}"><button type="submit" class="{class}">{label}</button></form>"#,
            action = esc(&config.url(&format!("/dashboard/accounts/{}/{name}", a.id))),
            csrf = esc(&op.csrf_token),
        )
    };
    let toggle = if a.is_disabled { action("enable", "Enable account", "") } else { action("disable", "Disable account", "") };
    let actions = format!(
        r#"<h2>Actions</h2><p>{toggle}{link}{delete}</p><p class="muted">Deleting removes the account and its credentials; the user connects again from the app.</p>"#,
        link = action("link", "New Connect Link", ""),
        delete = action("delete", "Delete account", "danger"),
    );
    let logs = format!(
        r#"<p><a href="{}">Tool executions as this account</a></p>"#,
        esc(&config.url(&format!("/dashboard/logs?account_id={}", a.id)))
    );
    let rows: Vec<Vec<String>> = history
        .iter()
        .map(|c| {
            vec![
                c.sequence.to_string(),
                layout::when(&c.at),
                format!("<code>{}</code>", esc(c.event)),
                esc(c.status.as_str()),
                esc(c.status_reason.as_deref().unwrap_or("—")),
            ]
        })
        .collect();
    let history = layout::table(
        "History, newest first",
        &["#", "When", "Event", "Status after", "Reason"],
        &rows,
        "No change recorded yet (the first connection is still pending, or older changes were purged).",
    );
    let sessions = if sessions.is_empty() {
        r#"<p class="muted">No session ran a tool as this account lately.</p>"#.to_string()
    } else {
        let items: String = sessions
            .iter()
            .map(|id| format!(r#"<li><a href="{}"><code>{}</code></a></li>"#, esc(&config.url(&format!("/dashboard/sessions/{id}"))), esc(id)))
            .collect();
        format!(r#"<p>Sessions that ran tools as this account lately (open one for its MCP credentials):</p><ul id="account-sessions">{items}</ul>"#)
    };
    let sessions = format!("<h2>Sessions</h2>{sessions}{}", super::sessions::find_form(s, ""));
    let body = format!("{notice}{link}<dl>{details}</dl>{actions}<h2>History</h2>{history}{logs}{sessions}");
    layout::html(StatusCode::OK, layout::page(config, Section::Accounts, &format!("Account {}", a.id), &op.csrf_token, &body))
}

/// `POST /dashboard/accounts/{id}/{disable|enable|delete|link}`.
pub async fn act(
    State(s): State<AppState>,
    Operator(op): Operator,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let config = s.engine.config();
    if let Err(e) = session::check_button(&s, &op, &headers, &fields) {
        return super::error_page(config, &e);
    }
    let who = &op.principal;
    let back = |done: &str| layout::secured(Redirect::to(&config.url(&format!("/dashboard/accounts/{id}?done={done}"))).into_response());
    let result = match action.as_str() {
        "disable" | "enable" => s.engine.set_account_enabled(who, &id, action == "enable").await.map(|_| back(&format!("{action}d"))),
        "delete" => s.engine.delete_account(who, &id, false).await.map(|_| {
            let body = format!(
                r#"<p class="notice" role="status">Account <code>{}</code> was deleted.</p><p><a href="{}">Back to connected accounts</a></p>"#,
                esc(&id),
                esc(&config.url("/dashboard/accounts"))
            );
            layout::html(StatusCode::OK, layout::page(config, Section::Accounts, "Account deleted", &op.csrf_token, &body))
        }),
        "link" => match s.engine.reconnect_account(who, &id, RefreshAccountRequest::default()).await {
            Ok(r) => match account_and_history(&s, &op, &id).await {
                Ok((a, history, sessions)) => Ok(account_page(&s, &op, &a, &history, &sessions, None, Some(&r.redirect_url))),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        other => Err(Error::not_found("dashboard action", other)),
    };
    result.unwrap_or_else(|e| super::error_page(config, &e))
}
