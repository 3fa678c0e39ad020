//! The one error type every host sees, with a stable machine-readable `code`.

use serde::{Deserialize, Serialize};

mod kinds;
pub use kinds::{ErrorField, ErrorKind, FieldType, Host, HostErrorKind, Sdk, SdkClass, BASE_CLASS, HOST_KINDS, KINDS};

/// Everything that can go wrong in Grantline, by kind. Each kind has a stable [`Error::code`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field of the request was missing, malformed or not allowed.
    #[error("invalid {field}: {message}")]
    Validation { field: String, message: String },

    /// The API key or client token is missing, unknown or revoked.
    #[error("unauthorized: {0}")]
    Unauthorized(String),

    /// The credential is valid but may not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),

    /// The named thing does not exist (or is not visible to this project).
    #[error("{kind} not found: {id}")]
    NotFound { kind: String, id: String },

    /// The request conflicts with existing state (e.g. a duplicate alias).
    #[error("conflict: {0}")]
    Conflict(String),

    /// The connection ended in FAILED, EXPIRED or REVOKED while being waited on.
    #[error("connection request {id} ended {status}{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    ConnectionRequestFailed {
        id: String,
        status: String,
        reason: Option<String>,
    },

    /// `wait_for_connection` reached its deadline with the account still INITIATED.
    #[error("connection request {id} still INITIATED after {waited_ms} ms")]
    ConnectionRequestTimeout { id: String, waited_ms: u64 },

    /// The broker could not be reached, or answered something that is not the API.
    #[error("network error: {0}")]
    Network(String),

    /// An upstream OAuth provider failed (token endpoint error, bad response, timeout).
    #[error("provider error: {0}")]
    Provider(String),

    /// A broken invariant inside Grantline (storage, encryption, configuration).
    #[error("internal error: {0}")]
    Internal(String),

    /// The broker is briefly unable to serve this (e.g. its database is busy); retry after
    /// `retry_after` seconds.
    #[error("unavailable: {message} (retry after {retry_after} s)")]
    Unavailable { message: String, retry_after: u64 },

    /// This credential sent too many requests (a per-credential rate limit of one broker
    /// process); retry after `retry_after` seconds.
    #[error("rate limited: {message} (retry after {retry_after} s)")]
    RateLimited { message: String, retry_after: u64 },

    /// A provider (its token endpoint or its API) is briefly unable to answer: rate limited,
    /// timed out, failing or unreachable. The account is unchanged; retry after `retry_after`
    /// seconds.
    #[error("provider unavailable: {message} (retry after {retry_after} s)")]
    ProviderUnavailable { message: String, retry_after: u64 },

    /// An error with a code this SDK does not know (a newer broker): its code, HTTP status and
    /// message are kept as the broker sent them.
    #[error("{message}")]
    Other { code: String, status: u16, message: String },
}

impl Error {
    /// The row of [`KINDS`] for this error; `None` for an unknown code ([`Error::Other`]).
    pub fn kind(&self) -> Option<&'static ErrorKind> {
        let code = match self {
            Error::Validation { .. } => "VALIDATION",
            Error::Unauthorized(_) => "UNAUTHORIZED",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::NotFound { .. } => "NOT_FOUND",
            Error::Conflict(_) => "CONFLICT",
            Error::ConnectionRequestFailed { .. } => "CONNECTION_REQUEST_FAILED",
            Error::ConnectionRequestTimeout { .. } => "CONNECTION_REQUEST_TIMEOUT",
            Error::Network(_) => "NETWORK",
            Error::Provider(_) => "PROVIDER",
            Error::Internal(_) => "INTERNAL",
            Error::Unavailable { .. } => "UNAVAILABLE",
            Error::ProviderUnavailable { .. } => "PROVIDER_UNAVAILABLE",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::Other { .. } => return None,
        };
        KINDS.iter().find(|k| k.code == code)
    }

    /// The stable code hosts match on, e.g. `CONNECTION_REQUEST_TIMEOUT`.
    pub fn code(&self) -> &str {
        match (self, self.kind()) {
            (Error::Other { code, .. }, _) => code,
            (_, Some(k)) => k.code,
            (_, None) => "INTERNAL",
        }
    }

    /// The SDK error class for this kind, the same name in every host (`NotFoundError`, …).
    pub fn class_name(&self) -> &'static str {
        self.kind().map_or(BASE_CLASS, |k| k.class)
    }

    /// The HTTP status the broker answers this error with.
    pub fn http_status(&self) -> u16 {
        match (self, self.kind()) {
            (Error::Other { status, .. }, _) => *status,
            (_, Some(k)) => k.http_status,
            (_, None) => 500,
        }
    }

    /// Seconds after which the same request may succeed, where a retry makes sense.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::Unavailable { retry_after, .. } => Some(*retry_after),
            Error::ProviderUnavailable { retry_after, .. } => Some(*retry_after),
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The fields an SDK error carries besides its message and class, in the wire's snake_case:
    /// `code`, `status` (HTTP), and per kind `field`, `resource`, `id`, `connected_account_id`,
    /// `account_status`, `status_reason`, `retry_after`. Python uses it as is; JS camelCases it.
    pub fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        let d = self.to_body().error;
        let mut m = serde_json::Map::new();
        m.insert("code".into(), d.slug.into());
        m.insert("status".into(), d.status.into());
        let extra = [
            ("field", d.field.map(Into::into)),
            ("resource", d.resource.map(Into::into)),
            ("id", d.id.map(Into::into)),
            ("connected_account_id", d.connected_account_id.map(Into::into)),
            ("account_status", d.account_status.map(Into::into)),
            ("status_reason", d.status_reason.map(Into::into)),
            ("retry_after", d.retry_after.map(Into::into)),
        ];
        m.extend(extra.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_string(), v))));
        m
    }

    /// [`Error::fields`] in JS naming (`connectedAccountId`, `accountStatus`, …); Node and the
    /// browser share it.
    pub fn js_details(&self) -> serde_json::Value {
        let camel = |k: &str| {
            let mut out = String::new();
            let mut up = false;
            for c in k.chars() {
                match (c, up) {
                    ('_', _) => up = true,
                    (c, true) => {
                        out.extend(c.to_uppercase());
                        up = false
                    }
                    (c, false) => out.push(c),
                }
            }
            out
        };
        self.fields().into_iter().map(|(k, v)| (camel(&k), v)).collect::<serde_json::Map<_, _>>().into()
    }

    /// Shorthand for a validation error on `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation { field: field.into(), message: message.into() }
    }

    /// Shorthand for a not-found error of `kind` with `id`.
    pub fn not_found(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Error::NotFound { kind: kind.into(), id: id.into() }
    }

    /// The error as the broker's JSON body: Composio's envelope (`message`, integer `code`,
    /// `slug`, `status`) plus the kind's structured fields, so a client rebuilds it exactly.
    pub fn to_body(&self) -> ErrorBody {
        let mut d = ErrorDetail {
            message: self.to_string(),
            code: self.kind().map_or(10000, |k| k.number),
            slug: self.code().to_string(),
            status: self.http_status(),
            ..Default::default()
        };
        match self {
            Error::Validation { field, message } => {
                d.field = Some(field.clone());
                d.detail = Some(message.clone());
                d.errors = Some(vec![format!("{field}: {message}")]);
            }
            Error::NotFound { kind, id } => {
                d.resource = Some(kind.clone());
                d.id = Some(id.clone());
            }
            Error::ConnectionRequestFailed { id, status, reason } => {
                d.connected_account_id = Some(id.clone());
                d.account_status = Some(status.clone());
                d.status_reason = reason.clone();
            }
            Error::ConnectionRequestTimeout { id, waited_ms } => {
                d.connected_account_id = Some(id.clone());
                d.waited_ms = Some(*waited_ms);
            }
            Error::Unavailable { message, retry_after } | Error::RateLimited { message, retry_after } => {
                d.detail = Some(message.clone());
                d.retry_after = Some(*retry_after);
            }
            Error::ProviderUnavailable { message, retry_after } => {
                d.detail = Some(message.clone());
                d.retry_after = Some(*retry_after);
            }
            Error::Unauthorized(m) | Error::Forbidden(m) | Error::Conflict(m) | Error::Network(m) | Error::Provider(m) | Error::Internal(m) => {
                d.detail = Some(m.clone())
            }
            Error::Other { .. } => {}
        }
        ErrorBody { error: d }
    }

    /// Rebuilds a typed error from the broker's JSON error body (client side), from its
    /// structured fields alone; a code this SDK does not know keeps its code and message.
    pub fn from_body(status: u16, body: &ErrorBody) -> Self {
        let d = &body.error;
        let detail = || d.detail.clone().unwrap_or_else(|| d.message.clone());
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        match d.slug.as_str() {
            "VALIDATION" => Error::validation(text(&d.field), detail()),
            "UNAUTHORIZED" => Error::Unauthorized(detail()),
            "FORBIDDEN" => Error::Forbidden(detail()),
            "NOT_FOUND" => match &d.resource {
                Some(resource) => Error::not_found(resource, text(&d.id)),
                None => Error::not_found("resource", d.message.clone()),
            },
            "CONFLICT" => Error::Conflict(detail()),
            "CONNECTION_REQUEST_FAILED" => Error::ConnectionRequestFailed {
                id: text(&d.connected_account_id),
                status: text(&d.account_status),
                reason: d.status_reason.clone(),
            },
            "CONNECTION_REQUEST_TIMEOUT" => {
                Error::ConnectionRequestTimeout { id: text(&d.connected_account_id), waited_ms: d.waited_ms.unwrap_or_default() }
            }
            "NETWORK" => Error::Network(detail()),
            "PROVIDER" => Error::Provider(detail()),
            "INTERNAL" => Error::Internal(detail()),
            "UNAVAILABLE" => Error::Unavailable { message: detail(), retry_after: d.retry_after.unwrap_or(1) },
            "PROVIDER_UNAVAILABLE" => Error::ProviderUnavailable { message: detail(), retry_after: d.retry_after.unwrap_or(1) },
            "RATE_LIMITED" => Error::RateLimited { message: detail(), retry_after: d.retry_after.unwrap_or(1) },
            code => Error::Other {
                code: if code.is_empty() { format!("HTTP_{status}") } else { code.to_string() },
                status,
                message: d.message.clone(),
            },
        }
    }
}

/// The broker's JSON error envelope: `{"error": {message, code, slug, status, …}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// One error as sent on the wire: Composio's envelope (`message`, integer `code`, `slug`,
/// `status`, `errors`) plus the structured fields of its kind. Absent fields are omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Human-readable message; never contains a secret.
    pub message: String,
    /// The kind's number (see [`KINDS`]); Composio's SDKs expect an integer here.
    #[serde(default)]
    pub code: u32,
    /// Grantline's stable code, e.g. `CONNECTION_REQUEST_FAILED`: what SDKs expose as `code`.
    #[serde(default)]
    pub slug: String,
    /// HTTP status, repeated for clients that only keep the body.
    pub status: u16,
    /// The message without the kind's prefix (what the error's variant holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Validation errors as `"field: message"` lines (Composio's `errors`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
    /// The request field at fault (VALIDATION).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What was not found, e.g. `session`, `toolkit` (NOT_FOUND).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The id that was not found (NOT_FOUND).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The connected account concerned (CONNECTION_REQUEST_*).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_account_id: Option<String>,
    /// The account's status, e.g. FAILED (CONNECTION_REQUEST_FAILED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_status: Option<String>,
    /// Why the account ended (CONNECTION_REQUEST_FAILED).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// How long the client waited (CONNECTION_REQUEST_TIMEOUT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited_ms: Option<u64>,
    /// Seconds after which a retry may succeed (also sent as the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// The broker's id of the request (also its `x-request-id` header): quote it when
    /// reporting an error; the broker's log has the details under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// Result with Grantline's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of every kind, with every structured field set.
    pub(crate) fn one_of_each() -> Vec<Error> {
        vec![
            Error::validation("toolkits[2]", "unknown toolkit `nosuchkit`"),
            Error::Unauthorized("unknown API key".into()),
            Error::Forbidden("a client token cannot list accounts".into()),
            Error::not_found("connected account", "ca_missing"),
            Error::Conflict("alias `work` is taken".into()),
            Error::ConnectionRequestFailed { id: "ca_1".into(), status: "FAILED".into(), reason: Some("access_denied".into()) },
            Error::ConnectionRequestTimeout { id: "ca_2".into(), waited_ms: 1500 },
            Error::Network("connection refused".into()),
            Error::Provider("token endpoint answered 500".into()),
            Error::Internal("sealed value does not open".into()),
            Error::Unavailable { message: "the database is busy".into(), retry_after: 2 },
            Error::ProviderUnavailable { message: "token endpoint answered HTTP 429".into(), retry_after: 30 },
            Error::RateLimited { message: "too many requests with this client token".into(), retry_after: 3 },
            Error::Other { code: "FROM_A_NEWER_BROKER".into(), status: 418, message: "something new".into() },
        ]
    }

    #[test]
    fn every_kind_survives_the_wire_with_its_fields_and_message() {
        let errors = one_of_each();
        for kind in KINDS {
            assert!(errors.iter().any(|e| e.code() == kind.code), "no sample of {}", kind.code);
        }
        for e in errors {
            let body = e.to_body();
            let json = serde_json::to_string(&body).unwrap();
            let back = Error::from_body(e.http_status(), &serde_json::from_str(&json).unwrap());
            assert_eq!(back.to_body(), body, "{json}");
            assert_eq!(back.to_string(), e.to_string());
            assert_eq!((back.class_name(), back.http_status()), (e.class_name(), e.http_status()));
        }
    }

    /// `tests/scenarios/errors.json`: every kind as the broker sends it and as every SDK must
    /// surface it (class, message, fields). The SDK suites replay it; this test keeps it equal to
    /// the code (`GRANTLINE_BLESS=1 cargo test -p grantline-core` rewrites it).
    #[test]
    fn the_shared_error_scenarios_are_what_the_code_sends() {
        let scenarios: Vec<serde_json::Value> = one_of_each()
            .iter()
            .map(|e| {
                serde_json::json!({
                    "class": e.class_name(),
                    "http_status": e.http_status(),
                    "body": e.to_body(),
                    "message": e.to_string(),
                    "fields": e.fields(),
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&scenarios).unwrap() + "\n";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/errors.json");
        if std::env::var_os("GRANTLINE_BLESS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(on_disk == text, "{} is stale: run GRANTLINE_BLESS=1 cargo test -p grantline-core", path.display());
    }

    /// The table's fields are the ones `fields()` gives each kind, so the generated classes
    /// declare exactly what an SDK sets; codes and classes are unique across core and hosts.
    #[test]
    fn the_table_names_each_kinds_fields_and_unique_classes() {
        for e in one_of_each() {
            let Some(kind) = e.kind() else { continue };
            let mut given: Vec<String> = e.fields().keys().filter(|k| *k != "code" && *k != "status").cloned().collect();
            let mut declared: Vec<String> = kind.sdk.fields.iter().map(|f| f.name.to_string()).collect();
            given.sort();
            declared.sort();
            assert_eq!(given, declared, "{}", kind.code);
        }
        let without_reason = Error::ConnectionRequestFailed { id: "ca_1".into(), status: "EXPIRED".into(), reason: None };
        let kind = without_reason.kind().unwrap();
        for f in kind.sdk.fields.iter().filter(|f| !f.optional) {
            assert!(without_reason.fields().contains_key(f.name), "{} is always set", f.name);
        }
        let mut codes: Vec<&str> = KINDS.iter().map(|k| k.code).chain(HOST_KINDS.iter().map(|k| k.code)).collect();
        let mut classes: Vec<&str> = KINDS.iter().map(|k| k.class).chain(HOST_KINDS.iter().map(|k| k.class)).collect();
        classes.push(BASE_CLASS);
        let (n_codes, n_classes) = (codes.len(), classes.len());
        codes.sort();
        codes.dedup();
        classes.sort();
        classes.dedup();
        assert_eq!((codes.len(), classes.len()), (n_codes, n_classes), "a code or class appears twice");
    }

    #[test]
    fn the_body_is_composios_envelope() {
        let body = serde_json::to_value(Error::validation("user_id", "must not be empty").to_body()).unwrap();
        assert_eq!(body["error"]["code"], 10400);
        assert_eq!(body["error"]["slug"], "VALIDATION");
        assert_eq!(body["error"]["status"], 400);
        assert_eq!(body["error"]["message"], "invalid user_id: must not be empty");
        assert_eq!(body["error"]["errors"], serde_json::json!(["user_id: must not be empty"]));
    }

    #[test]
    fn js_details_are_camel_cased_and_keep_the_http_status() {
        let e = Error::ConnectionRequestFailed { id: "ca_1".into(), status: "EXPIRED".into(), reason: None };
        assert_eq!(
            e.js_details(),
            serde_json::json!({"code": "CONNECTION_REQUEST_FAILED", "status": 409, "connectedAccountId": "ca_1", "accountStatus": "EXPIRED"})
        );
    }
}
