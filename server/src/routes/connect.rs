//! The browser side of a connection: the Connect Link and the OAuth callback.
//!
//! Every answer here is [`pages::private`] (its URL or body carries a link token, a `state`, a
//! code or a credential form); opening a link and submitting its form are rate limited per link.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use grantline_core::engine::{BindingCookies, CallbackOutcome, CallbackParams, FormOutcome, LinkOpen};

use crate::extract::QueryParams;
use crate::{pages, AppState};

/// Connect Link: redirects the browser to the provider (or shows the connect form of an API-key, bearer or basic toolkit); first to the app's verification page when the project verifies its users.
#[utoipa::path(
    get,
    path = "/link/{token}",
    operation_id = "open_link",
    tag = "connect",
    security(()),
    params(("token" = String, Path, description = "The Connect Link's token (`ln_…`).", pattern = r"^ln_[A-Za-z0-9]{1,64}$")),
    responses(
        (status = 200, description = "A page: the connect form, or how the connection ended.", content_type = "text/html", body = String),
        (status = 303, description = "On to the app's verification page (setting the flow's binding cookie), the provider's consent page, or back to the app's callback URL.", headers(("Location" = String, description = "Where the browser goes next."))),
        (status = 400, description = "An invalid or used link or request (a page).", content_type = "text/html", body = String),
        (status = 404, description = "No such link (a page).", content_type = "text/html", body = String),
        (status = 409, description = "The account cannot take this link any more (a page).", content_type = "text/html", body = String),
        (status = 410, description = "The link expired (a page).", content_type = "text/html", body = String),
        (status = 500, description = "The broker failed (a page).", content_type = "text/html", body = String),
        (status = 502, description = "The provider failed (a page).", content_type = "text/html", body = String),
        (status = 503, description = "The broker is briefly unavailable (a page).", content_type = "text/html", body = String),
        (status = 429, description = "This link was opened too often (a page).", content_type = "text/html", body = String,
            headers(("Retry-After" = u64, description = "Seconds until the link may be opened again."))),
    ),
)]
pub async fn open_link(State(s): State<AppState>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    if let Err(e) = s.limits.link_open.check(&token) {
        return pages::private(pages::error_page(&e));
    }
    let brand = s.engine.brand_for_link(&token).await.ok().flatten();
    pages::private(link_answer(&s, s.engine.open_link(&token, &binding_cookies(&headers)).await, brand.as_ref()))
}

/// The browser's user-verification binding cookies.
pub(crate) fn binding_cookies(headers: &HeaderMap) -> BindingCookies {
    BindingCookies::from_header(&crate::cookies::header(headers))
}

/// Where opening a link (or coming back from its verification) leads.
pub(crate) fn link_answer(s: &AppState, open: grantline_core::Result<LinkOpen>, brand: Option<&grantline_core::engine::AppBrand>) -> Response {
    match open {
        Ok(LinkOpen::Redirect(url)) => Redirect::to(url.as_str()).into_response(),
        Ok(LinkOpen::Page(page)) => pages::callback_page(&page, brand),
        Ok(LinkOpen::Form(form)) => pages::connect_form(s.engine.config(), &form, brand, StatusCode::OK),
        Ok(LinkOpen::Verify(start)) => pages::verification_redirect(s.engine.config(), &start),
        Err(e) => pages::error_page_for(&e, brand),
    }
}

/// Submit the connect form of an API-key, bearer or basic toolkit.
#[utoipa::path(
    post,
    path = "/link/{token}",
    operation_id = "submit_link_form",
    tag = "connect",
    security(()),
    params(("token" = String, Path, description = "The Connect Link's token (`ln_…`).", pattern = r"^ln_[A-Za-z0-9]{1,64}$")),
    request_body(content = std::collections::BTreeMap<String, String>, content_type = "application/x-www-form-urlencoded", description = "The form's fields (the toolkit's credential fields)."),
    responses(
        (status = 200, description = "A page: the connect form, or how the connection ended.", content_type = "text/html", body = String),
        (status = 303, description = "On to the provider's consent page, or back to the app's callback URL.", headers(("Location" = String, description = "Where the browser goes next."))),
        (status = 400, description = "An invalid or used link or request (a page).", content_type = "text/html", body = String),
        (status = 404, description = "No such link (a page).", content_type = "text/html", body = String),
        (status = 409, description = "The account cannot take this link any more (a page).", content_type = "text/html", body = String),
        (status = 410, description = "The link expired (a page).", content_type = "text/html", body = String),
        (status = 500, description = "The broker failed (a page).", content_type = "text/html", body = String),
        (status = 502, description = "The provider failed (a page).", content_type = "text/html", body = String),
        (status = 503, description = "The broker is briefly unavailable (a page).", content_type = "text/html", body = String),
        (status = 415, description = "The body is not a form.", content_type = "text/plain", body = String),
        (status = 422, description = "The form again, with what to fix.", content_type = "text/html", body = String),
        (status = 429, description = "Too many submissions to this link (a page).", content_type = "text/html", body = String,
            headers(("Retry-After" = u64, description = "Seconds until the next submission is taken."))),
    ),
)]
pub async fn submit_form(
    State(s): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(e) = s.limits.link_form.check(&token) {
        return pages::private(pages::error_page(&e));
    }
    let brand = s.engine.brand_for_link(&token).await.ok().flatten();
    let brand = brand.as_ref();
    pages::private(match s.engine.submit_link_form(&token, fields, &binding_cookies(&headers)).await {
        Ok(FormOutcome::Done(CallbackOutcome::Redirect(url))) => Redirect::to(url.as_str()).into_response(),
        Ok(FormOutcome::Done(CallbackOutcome::Page(page))) => pages::callback_page(&page, brand),
        Ok(FormOutcome::Retry(form)) => pages::connect_form(s.engine.config(), &form, brand, StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => pages::error_page_for(&e, brand),
    })
}

/// OAuth redirect URI: finishes the connection.
#[utoipa::path(
    get,
    path = "/oauth/callback",
    operation_id = "oauth_callback",
    tag = "connect",
    security(()),
    params(
        ("state" = Option<String>, Query, description = "The single-use `state` the broker sent the provider."),
        ("code" = Option<String>, Query, description = "The authorization code."),
        ("error" = Option<String>, Query, description = "The provider's error code, when the user refused or it failed."),
        ("error_description" = Option<String>, Query, description = "The provider's words on the error."),
    ),
    responses(
        (status = 200, description = "A page: the connect form, or how the connection ended.", content_type = "text/html", body = String),
        (status = 303, description = "On to the provider's consent page, or back to the app's callback URL.", headers(("Location" = String, description = "Where the browser goes next."))),
        (status = 400, description = "An invalid or used link or request (a page).", content_type = "text/html", body = String),
        (status = 404, description = "No such link (a page).", content_type = "text/html", body = String),
        (status = 409, description = "The account cannot take this link any more (a page).", content_type = "text/html", body = String),
        (status = 410, description = "The link expired (a page).", content_type = "text/html", body = String),
        (status = 500, description = "The broker failed (a page).", content_type = "text/html", body = String),
        (status = 502, description = "The provider failed (a page).", content_type = "text/html", body = String),
        (status = 503, description = "The broker is briefly unavailable (a page).", content_type = "text/html", body = String),
    ),
)]
pub async fn callback(State(s): State<AppState>, headers: HeaderMap, q: QueryParams) -> Response {
    let params = CallbackParams {
        state: q.get("state").map(str::to_string),
        code: q.get("code").map(str::to_string),
        error: q.get("error").map(str::to_string),
        error_description: q.get("error_description").map(str::to_string),
        cookies: binding_cookies(&headers),
    };
    let brand = s.engine.brand_for_state(params.state.as_deref()).await.ok().flatten();
    let brand = brand.as_ref();
    pages::private(match s.engine.complete_callback(params).await {
        Ok(CallbackOutcome::Redirect(url)) => Redirect::to(url.as_str()).into_response(),
        Ok(CallbackOutcome::Page(page)) => pages::callback_page(&page, brand),
        Err(e) => pages::error_page_for(&e, brand),
    })
}
