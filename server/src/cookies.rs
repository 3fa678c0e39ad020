//! The browser's cookies, read from a request's `Cookie` headers: one reader for every page that
//! sets one (the dashboard's session, the MCP consent form's CSRF cookie, user verification's
//! binding cookies).

use axum::http::header::COOKIE;
use axum::http::HeaderMap;
use grantline_core::engine::EngineConfig;

/// Every `Cookie` header of a request, joined as one `name=value; …` list.
pub fn header(headers: &HeaderMap) -> String {
    headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join("; ")
}

/// The value of cookie `name`, if the request carries one (an empty value counts as none).
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    header(headers)
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The attributes of a cookie the broker sets at `path`: HttpOnly, the given `SameSite`, and
/// `Secure` when the broker's public URL is https.
pub fn attributes(config: &EngineConfig, path: &str, same_site: &str) -> String {
    let secure = if config.public_base_url.scheme() == "https" { "; Secure" } else { "" };
    format!("Path={path}; HttpOnly; SameSite={same_site}{secure}")
}
