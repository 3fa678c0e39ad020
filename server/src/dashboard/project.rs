//! The project's profile (the name, logo and support URL its pages show) and its user
//! verification, with a form that changes them through the engine call `PATCH /api/v3.1/project`
//! makes. The logo is shown from the broker's own origin; it is set with the API or the CLI.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use grantline_core::engine::DashboardSession;
use grantline_core::model::{ProjectInfo, ProjectPatch};
use grantline_core::Error;

use super::layout::{self, Section};
use super::session::{self, Operator};
use crate::extract::QueryParams;
use crate::pages::esc;
use crate::AppState;

/// The form's fields besides its CSRF token (an empty text field clears its value).
const FIELDS: [&str; 4] = ["display_name", "support_url", "user_verification_url", "verify_connect_links"];

/// `GET /dashboard/project?done=saved`.
pub async fn show(State(s): State<AppState>, Operator(op): Operator, q: QueryParams) -> Response {
    let config = s.engine.config();
    if let Err(e) = q.only(&["done"]) {
        return super::error_page(config, &e);
    }
    let notice = (q.get("done") == Some("saved")).then_some("The project's profile is saved.");
    match s.engine.get_project_info(&op.principal).await {
        Ok(p) => page(&s, &op, StatusCode::OK, &p, notice, None),
        Err(e) => super::error_page(config, &e),
    }
}

/// `POST /dashboard/project`: the same change as `PATCH /api/v3.1/project` with every field of the
/// form; a refused field is shown on the page, with what was typed, and nothing changes.
pub async fn update(State(s): State<AppState>, Operator(op): Operator, headers: HeaderMap, Form(fields): Form<Vec<(String, String)>>) -> Response {
    let config = s.engine.config();
    if let Err(e) = session::check_form(&s, &op, &headers, &fields) {
        return super::error_page(config, &e);
    }
    let result = async {
        if let Some((k, _)) = fields.iter().find(|(k, _)| k != "csrf_token" && !FIELDS.contains(&k.as_str())) {
            return Err(Error::validation(k.clone(), "unknown form field"));
        }
        s.engine.update_project(&op.principal, patch_of(&fields)?).await
    }
    .await;
    match result {
        Ok(_) => layout::secured(Redirect::to(&config.url("/dashboard/project?done=saved")).into_response()),
        Err(e @ Error::Validation { .. }) => match s.engine.get_project_info(&op.principal).await {
            Ok(p) => page(&s, &op, StatusCode::BAD_REQUEST, &p, None, Some((&e, &fields))),
            Err(e) => super::error_page(config, &e),
        },
        Err(e) => super::error_page(config, &e),
    }
}

/// The form as a patch of every field: an empty text field is `null` (cleared), an unticked box `false`.
fn patch_of(fields: &[(String, String)]) -> Result<ProjectPatch, Error> {
    let one = |name: &str| {
        let mut values = fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (_, Some(_)) => Err(Error::validation(name, "given more than once")),
            (v, None) => Ok(v),
        }
    };
    let text = |name: &str| one(name).map(|v| Some(v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)));
    let verify = match one("verify_connect_links")? {
        None => false,
        Some("on") => true,
        Some(_) => return Err(Error::validation("verify_connect_links", "a checkbox: send \"on\" or leave it out")),
    };
    Ok(ProjectPatch {
        display_name: text("display_name")?,
        support_url: text("support_url")?,
        user_verification_url: text("user_verification_url")?,
        verify_connect_links: Some(verify),
    })
}

/// The profile, the form (filled with what was typed when `refused` says why it was refused).
fn page(
    s: &AppState,
    op: &DashboardSession,
    status: StatusCode,
    p: &ProjectInfo,
    notice: Option<&str>,
    refused: Option<(&Error, &[(String, String)])>,
) -> Response {
    let config = s.engine.config();
    let notice = notice.map(|n| format!(r#"<p class="notice" role="status">{}</p>"#, esc(n))).unwrap_or_default();
    let refused_field = refused.and_then(|(e, _)| match e {
        Error::Validation { field, .. } => Some(field.as_str()),
        _ => None,
    });
    let alert = refused
        .map(|(e, _)| {
            format!(
                r#"<p class="error" role="alert" data-code="{code}" data-field="{field}">Nothing was changed: {message}</p>"#,
                code = esc(e.code()),
                field = esc(refused_field.unwrap_or_default()),
                message = esc(&e.to_string()),
            )
        })
        .unwrap_or_default();
    let warning = if p.user_verification_url.is_none() {
        r#"<p class="notice warning" role="note" id="no-verifier"><strong>No user verification URL.</strong> MCP clients cannot be approved in production until you set one: the app's page that confirms who its user is.</p>"#
    } else {
        ""
    };
    let link = |u: &Option<String>| match u {
        Some(u) => format!(r#"<a href="{0}"><code>{0}</code></a>"#, esc(u)),
        None => r#"<span class="muted">not set</span>"#.to_string(),
    };
    let logo = match &p.logo_url {
        // The broker serves the logo from its own origin, as the policy's `img-src 'self'` allows.
        Some(u) => format!(r#"<img src="{}" alt="The project's logo" height="64">"#, esc(u)),
        None => r#"<span class="muted">none (set one with PUT /api/v3.1/project/logo or <code>grantline project set --logo</code>)</span>"#.to_string(),
    };
    let row = |k: &str, v: String| format!("<dt>{}</dt><dd>{v}</dd>", esc(k));
    let details = [
        row("Project", format!("<code>{}</code> ({})", esc(&p.id), esc(&p.name))),
        row("Display name", format!(r#"<span id="display-name">{}</span>"#, p.display_name.as_deref().map(esc).unwrap_or_else(|| format!(r#"<span class="muted">not set: pages show {}</span>"#, esc(&p.name))))),
        row("Support URL", link(&p.support_url)),
        row("Logo", logo),
        row("User verification URL", link(&p.user_verification_url)),
        row(
            "Connect Links verified",
            if p.verify_connect_links { r#"<span id="verify-links">yes</span>"#.into() } else { r#"<span id="verify-links">no</span>"#.into() },
        ),
    ]
    .concat();
    // After a refusal the form keeps what was typed; otherwise it shows what is saved.
    let typed = |name: &str, saved: Option<&str>| match refused {
        Some((_, fields)) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default(),
        None => saved.unwrap_or_default().to_string(),
    };
    let verify_on = match refused {
        Some((_, fields)) => fields.iter().any(|(k, v)| k == "verify_connect_links" && v == "on"),
        None => p.verify_connect_links,
    };
    let input = |name: &str, label: &str, kind: &str, value: String, hint: &str| {
        let invalid = if refused_field == Some(name) { r#" aria-invalid="true""# } else { "" };
        format!(
            r#"<div><label for="{name}">{label}</label><input id="{name}" name="{name}" type="{kind}" size="50" value="{value}" aria-describedby="{name}-hint"{invalid}><p class="muted" id="{name}-hint">{hint}</p></div>"#,
            label = esc(label),
            value = esc(&value),
            hint = esc(hint),
        )
    };
    let form = format!(
        r#"<h2>Change the profile</h2><form method="post" action="{action}"><input type="hidden" name="csrf_token" value="{csrf}">
{name}{support}{verifier}
<div class="check"><input id="verify_connect_links" name="verify_connect_links" type="checkbox"{checked}> <label for="verify_connect_links">Verify the user of every Connect Link first (needs a user verification URL)</label></div>
<p><button type="submit" class="primary">Save</button></p></form>"#,
        action = esc(&config.url("/dashboard/project")),
        csrf = esc(&op.csrf_token),
        name = input("display_name", "Display name", "text", typed("display_name", p.display_name.as_deref()), "What pages call the app; empty shows the project's name."),
        support = input("support_url", "Support URL", "url", typed("support_url", p.support_url.as_deref()), "An https page where people get help; empty clears it."),
        verifier = input(
            "user_verification_url",
            "User verification URL",
            "url",
            typed("user_verification_url", p.user_verification_url.as_deref()),
            "The app's https page that confirms who its user is; empty clears it."
        ),
        checked = if verify_on { " checked" } else { "" },
    );
    let body = format!("{notice}{alert}{warning}<dl>{details}</dl>{form}");
    layout::html(status, layout::page(config, Section::Project, "Project", &op.csrf_token, &body))
}
