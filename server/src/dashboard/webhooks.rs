//! Webhook subscriptions, each one's recent deliveries with their attempts, and a retry button.
//! Secrets are never shown here (the API's `GET /api/v3.1/webhook_subscriptions/{id}` has them).

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use grantline_core::model::{DeliveryStatus, PageRequest, WebhookDelivery};
use grantline_core::Error;

use super::layout::{self, Section};
use super::session::Operator;
use crate::extract::QueryParams;
use crate::pages::esc;
use crate::AppState;

/// Deliveries shown per page of a subscription.
const DELIVERIES_PER_PAGE: u32 = 50;

/// `GET /dashboard/webhooks`.
pub async fn list(State(s): State<AppState>, Operator(op): Operator) -> Response {
    let config = s.engine.config();
    let found = match s.engine.list_webhook_subscriptions(&op.principal, PageRequest { page: 1, limit: 100 }).await {
        Ok(f) => f,
        Err(e) => return super::error_page(config, &e),
    };
    let rows: Vec<Vec<String>> = found
        .items
        .iter()
        .map(|w| {
            vec![
                format!(r#"<a href="{}"><code>{}</code></a>"#, esc(&config.url(&format!("/dashboard/webhooks/{}", w.id))), esc(&w.id)),
                format!("<code>{}</code>", esc(&w.webhook_url)),
                w.enabled_events.iter().map(|e| format!("<code>{}</code>", esc(e))).collect::<Vec<_>>().join("<br>"),
                layout::when(&w.created_at),
            ]
        })
        .collect();
    let table = layout::table(
        &format!("{} subscription(s)", found.total_items),
        &["Subscription", "Receiver", "Events", "Created"],
        &rows,
        "No webhook subscription yet: create one with POST /api/v3.1/webhook_subscriptions.",
    );
    layout::html(StatusCode::OK, layout::page(config, Section::Webhooks, "Webhooks", &op.csrf_token, &table))
}

/// `GET /dashboard/webhooks/{id}?page=&done=`: the subscription and its deliveries, newest first.
pub async fn show(State(s): State<AppState>, Operator(op): Operator, Path(id): Path<String>, q: QueryParams) -> Response {
    let config = s.engine.config();
    let found = async {
        q.only(&["page", "done"])?;
        let page = PageRequest::parse(q.get("page"), None).map_err(|_| Error::validation("page", "expected a page number"))?;
        let page = PageRequest { limit: DELIVERIES_PER_PAGE, ..page };
        let subscription = s.engine.get_webhook_subscription(&op.principal, &id).await?;
        let deliveries = s.engine.list_webhook_deliveries(&op.principal, &id, page).await?;
        Ok::<_, Error>((subscription, deliveries))
    }
    .await;
    let (w, deliveries) = match found {
        Ok(f) => f,
        Err(e) => return super::error_page(config, &e),
    };
    let notice = match q.get("done") {
        Some(d) if d.starts_with("msg_") => format!(r#"<p class="notice" role="status">Delivery <code>{}</code> will be sent again now.</p>"#, esc(d)),
        _ => String::new(),
    };
    let row = |k: &str, v: String| format!("<dt>{}</dt><dd>{v}</dd>", esc(k));
    let details = [
        row("Subscription", format!("<code>{}</code>", esc(&w.id))),
        row("Receiver", format!("<code>{}</code>", esc(&w.webhook_url))),
        row("Events", w.enabled_events.iter().map(|e| format!("<code>{}</code>", esc(e))).collect::<Vec<_>>().join(", ")),
        row("Payload version", esc(&w.version)),
        row("Signing secret", "not shown here (the API answers it)".into()),
        row("Updated", layout::when(&w.updated_at)),
    ]
    .concat();
    let rows: Vec<Vec<String>> = deliveries.items.iter().map(|d| delivery_row(&s, &op.csrf_token, &w.id, d)).collect();
    let table = layout::table(
        &format!("{} deliveries, newest first", deliveries.total_items),
        &["Delivery", "Event", "Account", "Sequence", "Status", "Attempts", "Last answer", "Next attempt", "Retry"],
        &rows,
        "Nothing sent yet.",
    );
    let pager = super::accounts::pager(&s, &[], deliveries.current_page, deliveries.next_cursor.is_some(), &format!("/dashboard/webhooks/{id}"));
    let body = format!(r#"{notice}<dl>{details}</dl><h2>Deliveries</h2>{table}{pager}"#);
    layout::html(StatusCode::OK, layout::page(config, Section::Webhooks, &format!("Webhook {}", w.id), &op.csrf_token, &body))
}

fn delivery_row(s: &AppState, csrf: &str, subscription: &str, d: &WebhookDelivery) -> Vec<String> {
    let config = s.engine.config();
    let last = d.attempts.last().map_or_else(
        || "—".to_string(),
        |a| match (a.status_code, &a.error) {
            (Some(code), _) => format!("HTTP {code} in {} ms", a.latency_ms),
            (None, Some(e)) => format!(r#"<span class="error">{}</span>"#, esc(e)),
            (None, None) => "—".into(),
        },
    );
    let status = match d.status {
        DeliveryStatus::Delivered => r#"<span class="ok">Delivered</span>"#.to_string(),
        DeliveryStatus::Pending => "Pending".to_string(),
        DeliveryStatus::Failed => r#"<span class="error">Failed</span>"#.to_string(),
    };
    let retry = format!(
        r#"<form class="inline" method="post" action="{action}"><input type="hidden" name="csrf_token" value="{csrf}"><button type="submit" aria-label="Retry delivery {id}">Retry</button></form>"#,
        action = esc(&config.url(&format!("/dashboard/webhooks/{subscription}/deliveries/{}/retry", d.id))),
        csrf = esc(csrf),
        id = esc(&d.id),
    );
    vec![
        format!("<code>{}</code>", esc(&d.id)),
        format!("<code>{}</code>", esc(&d.event_type)),
        format!(r#"<a href="{}"><code>{}</code></a>"#, esc(&config.url(&format!("/dashboard/accounts/{}", d.connected_account_id))), esc(&d.connected_account_id)),
        d.sequence.to_string(),
        status,
        d.attempts.len().to_string(),
        last,
        d.next_attempt_at.as_deref().map(layout::when).unwrap_or_else(|| "—".into()),
        retry,
    ]
}

/// `POST /dashboard/webhooks/{id}/deliveries/{delivery_id}/retry`.
pub async fn retry(
    State(s): State<AppState>,
    Operator(op): Operator,
    Path((id, delivery_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = format!("/dashboard/webhooks/{id}?done={delivery_id}");
    super::press(&s, &op, &headers, &fields, &back, s.engine.retry_webhook_delivery(&op.principal, &id, &delivery_id)).await
}
