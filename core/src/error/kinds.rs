//! The table of error kinds: code, wire number, HTTP status, SDK class, its doc and its fields.
//!
//! Every host's error classes (`errors.py`, `errors.js`, `errors.d.ts`) are generated from this
//! table by `cargo xtask gen-errors`, and CI checks they are. This file is plain data with no
//! dependency and no link to the rest of the crate, so `xtask` compiles it as is (`#[path]`)
//! instead of building the whole core.

/// Every kind of `Error`, with its stable code, its number in Composio's error envelope, its
/// HTTP status and its SDK class: the one table every host and the wire derive from.
pub const KINDS: &[ErrorKind] = &[
    ErrorKind {
        code: "VALIDATION",
        number: 10400,
        http_status: 400,
        class: "ValidationError",
        sdk: sdk(SdkClass {
            doc: "A field was missing, malformed or not allowed.",
            python_base: Some("ValueError"),
            fields: &[ErrorField::text("field", "The field at fault, e.g. `callback_url` or `toolkits[1]`.")],
        }),
    },
    ErrorKind {
        code: "UNAUTHORIZED",
        number: 10401,
        http_status: 401,
        class: "AuthenticationError",
        sdk: sdk(SdkClass { doc: "The API key or client token is missing, unknown, revoked or expired.", python_base: None, fields: &[] }),
    },
    ErrorKind {
        code: "FORBIDDEN",
        number: 10403,
        http_status: 403,
        class: "PermissionDeniedError",
        sdk: sdk(SdkClass {
            doc: "The credential is valid but may not do this (or this page's origin is not allowed).",
            python_base: None,
            fields: &[],
        }),
    },
    ErrorKind {
        code: "NOT_FOUND",
        number: 10404,
        http_status: 404,
        class: "NotFoundError",
        sdk: sdk(SdkClass {
            doc: "The named session, account, toolkit or other resource does not exist.",
            python_base: Some("LookupError"),
            fields: &[
                ErrorField::text("resource", "What was not found, e.g. `session`, `toolkit`, `connected account`."),
                ErrorField::text("id", "The id that was not found."),
            ],
        }),
    },
    ErrorKind {
        code: "CONFLICT",
        number: 10409,
        http_status: 409,
        class: "ConflictError",
        sdk: sdk(SdkClass { doc: "The request conflicts with existing state, e.g. a duplicate alias.", python_base: None, fields: &[] }),
    },
    ErrorKind {
        code: "CONNECTION_REQUEST_FAILED",
        number: 11409,
        http_status: 409,
        class: "ConnectionRequestFailedError",
        sdk: sdk(SdkClass {
            doc: "The connection ended FAILED, EXPIRED or REVOKED while being waited on or used.",
            python_base: None,
            fields: &[
                ErrorField::text("connected_account_id", "The connected account concerned (`ca_…`)."),
                ErrorField::text("account_status", "How it ended: `FAILED`, `EXPIRED` or `REVOKED`."),
                ErrorField::text("status_reason", "Why it ended, when known.").optional(),
            ],
        }),
    },
    ErrorKind {
        code: "CONNECTION_REQUEST_TIMEOUT",
        number: 11408,
        http_status: 408,
        class: "ConnectionRequestTimeoutError",
        sdk: sdk(SdkClass {
            doc: "The wait for a connection reached its timeout with the account still INITIATED.",
            python_base: Some("TimeoutError"),
            fields: &[ErrorField::text("connected_account_id", "The connected account waited on (`ca_…`).")],
        }),
    },
    ErrorKind {
        code: "NETWORK",
        number: 11502,
        http_status: 502,
        class: "NetworkError",
        sdk: sdk(SdkClass {
            doc: "The broker could not be reached, or answered something that is not its API.",
            python_base: Some("ConnectionError"),
            fields: &[],
        }),
    },
    ErrorKind {
        code: "PROVIDER",
        number: 10502,
        http_status: 502,
        class: "ProviderError",
        sdk: sdk(SdkClass { doc: "An upstream OAuth provider failed.", python_base: None, fields: &[] }),
    },
    ErrorKind {
        code: "INTERNAL",
        number: 10500,
        http_status: 500,
        class: "InternalError",
        sdk: sdk(SdkClass { doc: "A broken invariant inside Grantline.", python_base: None, fields: &[] }),
    },
    ErrorKind {
        code: "UNAVAILABLE",
        number: 10503,
        http_status: 503,
        class: "UnavailableError",
        sdk: sdk(SdkClass {
            doc: "The broker is briefly unable to serve this (e.g. its database is busy).",
            python_base: None,
            fields: &[ErrorField::int("retry_after", "Seconds after which the same call may succeed.")],
        }),
    },
    ErrorKind {
        code: "RATE_LIMITED",
        number: 10429,
        http_status: 429,
        class: "RateLimitError",
        sdk: sdk(SdkClass {
            doc: "This credential (client token, link, or API key where limited) sent too many requests; slow down.",
            python_base: None,
            fields: &[ErrorField::int("retry_after", "Seconds after which the same call may succeed.")],
        }),
    },
    ErrorKind {
        code: "PROVIDER_UNAVAILABLE",
        number: 11503,
        http_status: 503,
        class: "ProviderUnavailableError",
        sdk: sdk(SdkClass {
            doc: "A provider is briefly unable to answer (rate limited, failing or unreachable); the account is unchanged, retry later.",
            python_base: None,
            fields: &[ErrorField::int("retry_after", "Seconds after which the same call may succeed.")],
        }),
    },
];

/// The errors one SDK raises by itself, with no broker answer behind them (so no HTTP status).
pub const HOST_KINDS: &[HostErrorKind] = &[
    HostErrorKind {
        host: Host::Node,
        code: "ABORTED",
        class: "AbortError",
        sdk: SdkClass { doc: "The caller's AbortSignal fired during a wait.", python_base: None, fields: &[] },
    },
    HostErrorKind {
        host: Host::Browser,
        code: "POPUP_BLOCKED",
        class: "PopupBlockedError",
        sdk: SdkClass {
            doc: "The browser blocked the popup: call `connect()` from a click handler, or pass `{ redirect: true }`.",
            python_base: None,
            fields: &[],
        },
    },
    HostErrorKind {
        host: Host::Browser,
        code: "POPUP_CLOSED",
        class: "PopupClosedError",
        sdk: SdkClass {
            doc: "The user closed the popup before the connection finished.",
            python_base: None,
            fields: &[ErrorField::text("connected_account_id", "The account left unfinished (`ca_…`).")],
        },
    },
];

/// The base class of every SDK error, and the class of codes an SDK does not know.
pub const BASE_CLASS: &str = "GrantlineError";

/// One row of [`KINDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorKind {
    /// The stable code hosts match on (the wire's `slug`).
    pub code: &'static str,
    /// The number in the wire's `code` (Composio's envelope wants an integer there).
    pub number: u32,
    /// The HTTP status the broker answers with.
    pub http_status: u16,
    /// The SDK error class, the same name in every host.
    pub class: &'static str,
    /// How the SDKs declare the class; `()` in wasm32 builds, which never read it.
    pub sdk: Sdk,
}

/// How every SDK declares one error class (what `cargo xtask gen-errors` reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdkClass {
    /// One line on what went wrong: the class's doc comment in every host (Markdown code spans).
    pub doc: &'static str,
    /// The Python built-in exception the class also derives from, so `except TimeoutError:` and
    /// friends catch it the way Python users expect.
    pub python_base: Option<&'static str>,
    /// The structured fields an error of this kind carries besides `code` and `status`.
    pub fields: &'static [ErrorField],
}

/// [`ErrorKind::sdk`]: the class's declaration, kept out of the browser build, where the table
/// is read at run time but its docs would only add bytes.
#[cfg(not(target_arch = "wasm32"))]
pub type Sdk = SdkClass;
/// [`ErrorKind::sdk`]: the class's declaration, kept out of the browser build, where the table
/// is read at run time but its docs would only add bytes.
#[cfg(target_arch = "wasm32")]
pub type Sdk = ();

#[cfg(not(target_arch = "wasm32"))]
const fn sdk(class: SdkClass) -> Sdk {
    class
}

// Evaluated at compile time and dropped: its strings never reach the binary.
#[cfg(target_arch = "wasm32")]
const fn sdk(class: SdkClass) -> Sdk {
    let _ = class;
}

/// One structured field of an error kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorField {
    /// Its name on the wire and in Python (snake_case); JS hosts camelCase it.
    pub name: &'static str,
    /// Its type.
    pub ty: FieldType,
    /// Whether an error of this kind may lack it (e.g. a reason nobody gave).
    pub optional: bool,
    /// One line on what it holds.
    pub doc: &'static str,
}

impl ErrorField {
    /// A string field every error of its kind carries.
    pub const fn text(name: &'static str, doc: &'static str) -> Self {
        ErrorField { name, ty: FieldType::Text, optional: false, doc }
    }

    /// A whole-number field every error of its kind carries.
    pub const fn int(name: &'static str, doc: &'static str) -> Self {
        ErrorField { name, ty: FieldType::Int, optional: false, doc }
    }

    /// The same field, absent when unknown.
    pub const fn optional(self) -> Self {
        ErrorField { optional: true, ..self }
    }
}

/// The type of an [`ErrorField`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A string.
    Text,
    /// A whole number.
    Int,
}

/// One row of [`HOST_KINDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostErrorKind {
    /// The SDK that raises it.
    pub host: Host,
    /// Its stable code.
    pub code: &'static str,
    /// Its class, besides those of [`KINDS`].
    pub class: &'static str,
    /// How that SDK declares it (`python_base` is always `None`).
    pub sdk: SdkClass,
}

/// An SDK with errors of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// `grantline` on npm (napi-rs).
    Node,
    /// `@grantline/web` (wasm).
    Browser,
}
