//! `GET /openapi.json`: the REST API's description, generated from the routes themselves
//! (`utoipa-axum`'s `OpenApiRouter`: a route cannot be served without its entry) and the core
//! wire types (`grantline-core`'s `openapi` feature).
//!
//! `server/src/openapi.json` is this document as committed for reviewers; `tests/openapi.rs`
//! requires it to equal [`document`] (`GRANTLINE_BLESS=1 cargo test -p grantline-server --test
//! openapi` rewrites it).

use std::collections::BTreeMap;

use axum::http::header;
use axum::response::IntoResponse;
use grantline_core::{ErrorBody, KINDS};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::schema::{AdditionalProperties, SchemaType};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, RefOr, Response, ResponseBuilder, Schema, Type};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};


/// The document's frame: what is not said by a route (info, security schemes, the error envelope).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Grantline broker API",
        version = "0.1.0",
        description = "Session-auth subset of Composio's v3.1 API, plus Grantline's long-poll `/wait`. Authenticate with the `x-api-key` header; a browser widget uses a session's client token (`Authorization: Bearer glct_…`) on the operations that list `clientToken`. Errors are `{\"error\": {message, code, slug, status, …}}` (`ErrorBody`): `slug` is the stable code SDKs expose, and the kind's structured fields (`field`, `resource`, `id`, `connected_account_id`, …) come with it. A 429 (a rate limit per client token, Connect Link or, when configured, API key) or a 503 carries `Retry-After`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(ErrorBody, super::accounts::AccountOrderBy, super::accounts::OrderDirection, super::accounts::AccountType)),
    security(("apiKey" = [])),
    modifiers(&SecuritySchemes),
)]
pub(crate) struct Frame;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-api-key",
                "The project API key (`gl_…`), for the app's backend.",
            ))),
        );
        components.add_security_scheme(
            "clientToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session-scoped client token (glct_…) minted by POST …/session/{id}/client_token; only the operations that list it accept one, and only from the project's allowed origins (CORS).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "mcpCredential",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session-scoped MCP credential (glmcp_…) minted by POST …/session/{id}/mcp_credentials; accepted by that session's MCP endpoint only.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "mcpAccessToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An MCP client's access token (glmat_…) from MCP authorization (OAuth 2.1: the endpoint's 401 names its Protected Resource Metadata in WWW-Authenticate; the token endpoint is /mcp/oauth/token). It works on the one session MCP URL it was granted for.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Says `additionalProperties: false` where the derive cannot, on bodies that refuse unknown
/// fields. Runs on the whole document: the routes' schemas join the frame after its modifiers.
pub(crate) struct ClosedBodies;

impl Modify for ClosedBodies {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let Some(components) = doc.components.as_mut() else { return };
        // The session bodies flatten the shared `SessionSettings`, so the derive writes an
        // `allOf` that cannot close each part: `unevaluatedProperties` closes the whole (the
        // engine refuses an unknown field, naming it).
        for name in ["CreateSessionRequest", "UpdateSessionRequest"] {
            if let Some(RefOr::T(Schema::AllOf(all))) = components.schemas.get_mut(name) {
                all.extensions.get_or_insert_with(Default::default).insert("unevaluatedProperties".into(), false.into());
            }
        }
        // The derive does not carry `deny_unknown_fields` to an enum's struct variants.
        if let Some(RefOr::T(Schema::OneOf(one))) = components.schemas.get_mut("ToolkitsInput") {
            for item in &mut one.items {
                if let RefOr::T(Schema::Object(o)) = item {
                    if o.schema_type == SchemaType::Type(Type::Object) {
                        o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
                    }
                }
            }
        }
    }
}

/// The generated document: the routes' entries in the frame, closed where the derive cannot say it.
pub(crate) fn generated() -> utoipa::openapi::OpenApi {
    let mut doc = super::documented(None).into_openapi();
    ClosedBodies.modify(&mut doc);
    doc
}

/// The error answers one operation can give, each with the envelope and what the kind means.
fn error_responses(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|&status| {
            let kinds: Vec<_> = KINDS.iter().filter(|k| k.http_status == status).collect();
            let description = kinds.iter().map(|k| format!("`{}`: {}", k.code, k.sdk.doc)).collect::<Vec<_>>().join(" ");
            let slugs: Vec<&str> = kinds.iter().map(|k| k.code).collect();
            let body = ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(
                    "error",
                    ObjectBuilder::new()
                        .schema_type(Type::Object)
                        .property("slug", ObjectBuilder::new().schema_type(Type::String).enum_values(Some(slugs)))
                        .property("status", ObjectBuilder::new().schema_type(Type::Integer).enum_values(Some([status]))),
                )
                .required("error");
            let envelope = RefOr::Ref(utoipa::openapi::Ref::from_schema_name(<ErrorBody as ToSchema>::name()));
            let schema = utoipa::openapi::schema::AllOfBuilder::new().item(envelope).item(body);
            let mut response = ResponseBuilder::new()
                .description(description)
                .content("application/json", ContentBuilder::new().schema(Some(schema)).build());
            if status == 503 || status == 429 {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(<u64 as PartialSchema>::schema())
                        .description(Some("Seconds after which the same request may succeed."))
                        .build(),
                );
            }
            (status.to_string(), RefOr::T(response.build()))
        })
        .collect()
}

/// Declares a set of error answers, used in `#[utoipa::path(responses(..., Set))]`.
macro_rules! error_sets {
    ($($(#[$doc:meta])* $name:ident = [$($status:literal),*];)*) => {$(
        $(#[$doc])*
        pub(crate) struct $name;
        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                error_responses(&[$($status),*])
            }
        }
    )*};
}

error_sets! {
    /// A backend call on one resource: bad input, credentials, the resource, the database.
    /// Every set of an authenticated call has 429: its credential's rate limit.
    ResourceErrors = [400, 401, 403, 404, 429, 500, 503];
    /// [`ResourceErrors`], and state that forbids the change (a taken alias, a stale version).
    ChangeErrors = [400, 401, 403, 404, 409, 429, 500, 503];
    /// [`ChangeErrors`], and the provider's failures (a tool run, a proxied call, a revocation).
    ProviderErrors = [400, 401, 403, 404, 409, 429, 500, 502, 503];
    /// A listing: no single resource to miss.
    ListErrors = [400, 401, 403, 429, 500, 503];
    /// Only the resource can be missing (the logos).
    NotFoundOnly = [404];
}

/// The generated document as pretty JSON with a final newline (the committed file's form).
pub fn render(doc: &utoipa::openapi::OpenApi) -> String {
    let mut text = doc.to_pretty_json().expect("the OpenAPI document serializes");
    text.push('\n');
    text
}

/// The REST API's OpenAPI 3.1 description (this very document).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI document (this one).", content_type = "application/json", body = Object)),
)]
pub(crate) async fn document() -> impl IntoResponse {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = TEXT.get_or_init(|| render(&generated()));
    ([(header::CONTENT_TYPE, "application/json")], text.as_str())
}
