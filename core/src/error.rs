//! The one error type every host sees, with a stable machine-readable `code`.

use serde::{Deserialize, Serialize};

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
}

impl Error {
    /// The stable code hosts match on, e.g. `CONNECTION_REQUEST_TIMEOUT`.
    pub fn code(&self) -> &'static str {
        match self {
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
        }
    }

    /// The fields a JavaScript error carries besides its message, in JS naming
    /// (`code`, `status`, `field`, `connectedAccountId`, `statusReason`); Node and the browser share it.
    pub fn js_details(&self) -> serde_json::Value {
        let mut d = serde_json::json!({"code": self.code(), "status": self.http_status()});
        match self {
            Error::Validation { field, .. } => d["field"] = serde_json::json!(field),
            Error::ConnectionRequestFailed { id, status, reason } => {
                d["connectedAccountId"] = serde_json::json!(id);
                d["status"] = serde_json::json!(status);
                d["statusReason"] = serde_json::json!(reason);
            }
            Error::ConnectionRequestTimeout { id, .. } => d["connectedAccountId"] = serde_json::json!(id),
            _ => {}
        }
        d
    }

    /// The SDK error class for this kind, the same name in every host (`NotFoundError`, …).
    pub fn class_name(&self) -> &'static str {
        match self {
            Error::Validation { .. } => "ValidationError",
            Error::Unauthorized(_) => "AuthenticationError",
            Error::Forbidden(_) => "PermissionDeniedError",
            Error::NotFound { .. } => "NotFoundError",
            Error::Conflict(_) => "ConflictError",
            Error::ConnectionRequestFailed { .. } => "ConnectionRequestFailedError",
            Error::ConnectionRequestTimeout { .. } => "ConnectionRequestTimeoutError",
            Error::Network(_) => "NetworkError",
            Error::Provider(_) => "ProviderError",
            Error::Internal(_) => "InternalError",
        }
    }

    /// The HTTP status the broker answers this error with.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Validation { .. } => 400,
            Error::Unauthorized(_) => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound { .. } => 404,
            Error::Conflict(_) => 409,
            Error::ConnectionRequestFailed { .. } => 409,
            Error::ConnectionRequestTimeout { .. } => 408,
            Error::Network(_) | Error::Provider(_) => 502,
            Error::Internal(_) => 500,
        }
    }

    /// Shorthand for a validation error on `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation { field: field.into(), message: message.into() }
    }

    /// Shorthand for a not-found error of `kind` with `id`.
    pub fn not_found(kind: impl Into<String>, id: impl Into<String>) -> Self {
        Error::NotFound { kind: kind.into(), id: id.into() }
    }

    /// The error as the broker's JSON body.
    pub fn to_body(&self) -> ErrorBody {
        let field = match self {
            Error::Validation { field, .. } => Some(field.clone()),
            _ => None,
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.to_string(),
                status: self.http_status(),
                field,
            },
        }
    }

    /// Rebuilds a typed error from the broker's JSON error body (client side).
    pub fn from_body(status: u16, body: &ErrorBody) -> Self {
        let d = &body.error;
        let message = d.message.clone();
        match d.code.as_str() {
            "VALIDATION" => Error::Validation {
                field: d.field.clone().unwrap_or_default(),
                message: strip_prefix_field(&message, d.field.as_deref()),
            },
            "UNAUTHORIZED" => Error::Unauthorized(strip(&message, "unauthorized: ")),
            "FORBIDDEN" => Error::Forbidden(strip(&message, "forbidden: ")),
            "NOT_FOUND" => {
                let (kind, id) = message.split_once(" not found: ").unwrap_or(("resource", &message));
                Error::not_found(kind, id)
            }
            "CONFLICT" => Error::Conflict(strip(&message, "conflict: ")),
            "PROVIDER" => Error::Provider(strip(&message, "provider error: ")),
            "INTERNAL" => Error::Internal(strip(&message, "internal error: ")),
            _ => match status {
                401 => Error::Unauthorized(message),
                404 => Error::not_found("resource", message),
                400 | 422 => Error::validation(d.field.clone().unwrap_or_default(), message),
                _ => Error::Internal(format!("HTTP {status}: {message}")),
            },
        }
    }
}

fn strip(message: &str, prefix: &str) -> String {
    message.strip_prefix(prefix).unwrap_or(message).to_string()
}

fn strip_prefix_field(message: &str, field: Option<&str>) -> String {
    match field {
        Some(f) => strip(message, &format!("invalid {f}: ")),
        None => message.to_string(),
    }
}

/// The broker's JSON error envelope: `{"error": {code, message, status, field?}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ErrorDetail,
}

/// One error as sent on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable code, see [`Error::code`].
    pub code: String,
    /// Human-readable message; never contains a secret.
    pub message: String,
    /// HTTP status, repeated for clients that only keep the body.
    pub status: u16,
    /// The request field at fault, for validation errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Result with Grantline's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
