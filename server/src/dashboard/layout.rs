//! The dashboard's page frame: headings, navigation, a skip link, and the one stylesheet
//! (served by the broker itself, so the Content-Security-Policy allows nothing from elsewhere).

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use grantline_core::engine::EngineConfig;

use crate::pages::esc;

/// Nothing from any other origin, no script at all, forms post only to the broker, never framed.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The dashboard's stylesheet: visible focus on everything that takes it.
pub const STYLE: &str = r#"
body{font-family:system-ui,sans-serif;background:#f6f7f9;color:#1d2330;margin:0;line-height:1.45}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;z-index:10}
.skip:focus{left:1rem;top:1rem}
header{background:#1d2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.5rem;align-items:center;flex-wrap:wrap}
header a{color:#fff} header .brand{font-weight:600}
nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0;flex-wrap:wrap}
nav a[aria-current=page]{text-decoration-thickness:3px}
main{max-width:70rem;margin:1.5rem auto;padding:0 1.2rem}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;background:#fff} caption{text-align:left;font-weight:600;padding:.4rem 0}
th,td{border-bottom:1px solid #dde1e7;padding:.45rem .6rem;text-align:left;vertical-align:top}
th{background:#eef0f4} code{font-size:.92em;word-break:break-all}
form.inline{display:inline} .filters{display:flex;gap:1rem;flex-wrap:wrap;align-items:flex-end;margin:1rem 0}
label{display:block;font-weight:500} input,select{font-size:1rem;padding:.4rem;border:1px solid #8a93a3;border-radius:6px}
button{font-size:1rem;padding:.45rem 1rem;border-radius:8px;border:1px solid #5b6472;background:#fff;cursor:pointer;margin:.2rem .4rem .2rem 0}
button.primary{background:#2358d8;color:#fff;border-color:#2358d8} button.danger{border-color:#b3261e;color:#b3261e}
a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #f0a500;outline-offset:2px}
.error{color:#b3261e} .ok{color:#196c2e} .muted{color:#5b6472}
.notice{background:#fff;border-left:4px solid #2358d8;padding:.6rem 1rem;margin:1rem 0}
.notice.warning{border-left-color:#b3261e} .check label{display:inline}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;background:#fff;padding:1rem}
dt{font-weight:600} dd{margin:0}
.pager{display:flex;gap:1rem;margin:1rem 0}
.signin{max-width:26rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:12px}
.signin input{width:100%;box-sizing:border-box}
"#;

/// Which section a page belongs to (its navigation entry is marked current).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Accounts,
    AuthConfigs,
    ApiKeys,
    Logs,
    Webhooks,
    Sessions,
    Project,
}

/// A dashboard page (`body` is already escaped HTML) with the navigation and a sign-out form.
pub fn page(config: &EngineConfig, section: Section, title: &str, csrf: &str, body: &str) -> String {
    let item = |s: Section, path: &str, label: &str| {
        let current = if s == section { r#" aria-current="page""# } else { "" };
        format!(r#"<li><a href="{}"{current}>{label}</a></li>"#, esc(&config.url(path)))
    };
    let nav = [
        item(Section::Accounts, "/dashboard/accounts", "Connected accounts"),
        item(Section::AuthConfigs, "/dashboard/auth-configs", "Auth configs"),
        item(Section::ApiKeys, "/dashboard/api-keys", "API keys"),
        item(Section::Logs, "/dashboard/logs", "Tool executions"),
        item(Section::Webhooks, "/dashboard/webhooks", "Webhooks"),
        item(Section::Sessions, "/dashboard/sessions", "Sessions"),
        item(Section::Project, "/dashboard/project", "Project"),
    ]
    .concat();
    let header = format!(
        r#"<header><span class="brand">Grantline</span><nav aria-label="Dashboard"><ul>{nav}</ul></nav>
<form class="inline" method="post" action="{out}"><input type="hidden" name="csrf_token" value="{csrf}"><button type="submit">Sign out</button></form></header>"#,
        out = esc(&config.url("/dashboard/sign-out")),
        csrf = esc(csrf),
    );
    frame(config, title, &header, body)
}

/// A page without navigation (signing in).
pub fn bare(config: &EngineConfig, title: &str, body: &str) -> String {
    frame(config, title, "", body)
}

fn frame(config: &EngineConfig, title: &str, header: &str, body: &str) -> String {
    format!(
        r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} · Grantline dashboard</title>
<link rel="stylesheet" href="{css}">
</head><body>
<a class="skip" href="#main">Skip to content</a>
{header}
<main id="main" tabindex="-1">
<h1>{title}</h1>
{body}
</main></body></html>"##,
        title = esc(title),
        css = esc(&config.url("/dashboard/style.css")),
    )
}

/// The dashboard's response headers: private (never cached or framed, never named in a Referer to
/// another origin) and a policy that loads nothing but the broker's own stylesheet.
pub fn secured(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(HeaderName::from_static("content-security-policy"), HeaderValue::from_static(CSP));
    // Not `no-referrer`: with it, browsers post forms with `Origin: null`, and the origin check
    // needs the real one. Nothing of the dashboard's is sent to another origin either way.
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// An HTML answer with the dashboard's headers.
pub fn html(status: StatusCode, html: String) -> Response {
    secured((status, Html(html)).into_response())
}

/// The stylesheet.
pub async fn stylesheet() -> Response {
    let mut r = (StatusCode::OK, STYLE).into_response();
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r.headers_mut().insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// A table with a caption, header cells and rows (cells already escaped); `empty` when no rows.
pub fn table(caption: &str, headers: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!(r#"<p class="muted">{}</p>"#, esc(empty));
    }
    let head: String = headers.iter().map(|h| format!(r#"<th scope="col">{}</th>"#, esc(h))).collect();
    let body: String = rows.iter().map(|r| format!("<tr>{}</tr>", r.iter().map(|c| format!("<td>{c}</td>")).collect::<String>())).collect();
    format!("<table><caption>{}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>", esc(caption))
}

/// An RFC 3339 time as people read it (UTC, to the second).
pub fn when(rfc3339: &str) -> String {
    let t = rfc3339.replace('T', " ");
    format!("{} UTC", esc(t.trim_end_matches('Z').split('.').next().unwrap_or_default()))
}
