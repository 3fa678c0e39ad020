//! The browser side of a connection: the Connect Link and the OAuth callback.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use grantline_core::engine::{CallbackOutcome, CallbackParams, FormOutcome, LinkOpen};

use crate::extract::QueryParams;
use crate::{pages, AppState};

pub async fn open_link(State(s): State<AppState>, Path(token): Path<String>) -> Response {
    match s.engine.open_link(&token).await {
        Ok(LinkOpen::Redirect(url)) => Redirect::to(url.as_str()).into_response(),
        Ok(LinkOpen::Page(page)) => pages::callback_page(&page),
        Ok(LinkOpen::Form(form)) => pages::connect_form(&form, StatusCode::OK),
        Err(e) => pages::error_page(&e),
    }
}

/// `POST /link/{token}`: the connect form of an API-key, bearer or basic toolkit.
pub async fn submit_form(State(s): State<AppState>, Path(token): Path<String>, Form(fields): Form<Vec<(String, String)>>) -> Response {
    match s.engine.submit_link_form(&token, fields).await {
        Ok(FormOutcome::Done(CallbackOutcome::Redirect(url))) => Redirect::to(url.as_str()).into_response(),
        Ok(FormOutcome::Done(CallbackOutcome::Page(page))) => pages::callback_page(&page),
        Ok(FormOutcome::Retry(form)) => pages::connect_form(&form, StatusCode::UNPROCESSABLE_ENTITY),
        Err(e) => pages::error_page(&e),
    }
}

pub async fn callback(State(s): State<AppState>, q: QueryParams) -> Response {
    let params = CallbackParams {
        state: q.get("state").map(str::to_string),
        code: q.get("code").map(str::to_string),
        error: q.get("error").map(str::to_string),
        error_description: q.get("error_description").map(str::to_string),
    };
    match s.engine.complete_callback(params).await {
        Ok(CallbackOutcome::Redirect(url)) => Redirect::to(url.as_str()).into_response(),
        Ok(CallbackOutcome::Page(page)) => pages::callback_page(&page),
        Err(e) => pages::error_page(&e),
    }
}
