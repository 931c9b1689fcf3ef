//! The JSON API under `/api/`. Each module holds the handlers of one resource, each annotated
//! with `#[utoipa::path]` and registered through `utoipa_axum::routes!`, which adds the route and
//! its OpenAPI description together.

pub mod assessment;
pub mod ledger;
pub mod live;
pub mod loops;
pub mod machines;
pub mod programs;
pub mod proposals;
pub mod schedules;
pub mod session;
pub mod signals;
pub mod tools;
pub mod users;

use crate::state::AppState;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, PathItem};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

/// The document's fixed parts: title, version, security schemes, tags.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "aimm",
        description = "aimm's HTTP API: machines, signals, runs, loops, NC program versions, \
                       proposals, schedules, the evidence ledger and assessments. Every route \
                       but /login, /assets/* and this document needs a token (Bearer or the \
                       session cookie); what a role may do is the table in DESIGN.md."
    ),
    modifiers(&Security),
    security(("bearer" = []), ("session" = []))
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

impl ApiDoc {
    /// The base document the routes are added to.
    pub fn openapi_base() -> OpenApi {
        ApiDoc::openapi()
    }
}

/// Every API route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(session::routes())
        .merge(machines::routes())
        .merge(signals::routes())
        .merge(tools::routes())
        .merge(ledger::routes())
        .merge(proposals::routes())
        .merge(users::routes())
        .merge(live::routes())
        .merge(loops::routes())
        .merge(programs::routes())
        .merge(schedules::routes())
        .merge(assessment::routes())
}

/// The OpenAPI document's own entry (it is served by a closure over the finished document, so
/// it cannot be registered through `routes!`).
pub fn openapi_path_item() -> PathItem {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::ResponseBuilder;
    PathItem::new(
        HttpMethod::Get,
        OperationBuilder::new()
            .summary(Some("This OpenAPI 3 document"))
            .operation_id(Some("openapi"))
            .security(utoipa::openapi::security::SecurityRequirement::default())
            .response(
                "200",
                ResponseBuilder::new().description("The document, listing every route"),
            )
            .build(),
    )
}

/// Adds the answers every operation can give to each that does not list them: 400 for a
/// malformed request (its message names the parameter or body field) on operations that take
/// parameters or a body, 401 on those that need a token.
pub fn document_common_errors(openapi: &mut OpenApi) {
    use utoipa::openapi::path::Operation;
    use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
    let error = || {
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "ErrorBody",
            ))))
            .build()
    };
    let add = |op: &mut Operation, code: &str, what: &str| {
        op.responses
            .responses
            .entry(code.to_string())
            .or_insert_with(|| {
                ResponseBuilder::new()
                    .description(what)
                    .content("application/json", error())
                    .into()
            });
    };
    for item in openapi.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            let public = op.security.as_ref().is_some_and(|s| {
                s.iter()
                    .all(|r| serde_json::to_value(r).is_ok_and(|v| v == serde_json::json!({})))
            });
            let takes_input =
                op.parameters.as_ref().is_some_and(|p| !p.is_empty()) || op.request_body.is_some();
            if takes_input {
                add(
                    op,
                    "400",
                    "Malformed request: the message names the parameter or field",
                );
            }
            if !public {
                add(op, "401", "No token, or one unknown, expired or revoked");
            }
        }
    }
    let components = openapi.components.get_or_insert_with(Default::default);
    components
        .schemas
        .entry("ErrorBody".to_string())
        .or_insert_with(<crate::error::ErrorBody as utoipa::PartialSchema>::schema);
}

/// Query parameters shared by list endpoints.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct Page {
    /// At most this many items (default 100, at most 1000).
    pub limit: Option<usize>,
}

impl Page {
    /// The limit to apply, checked.
    pub fn limit(&self) -> Result<usize, crate::ApiError> {
        match self.limit {
            None => Ok(100),
            Some(n) if (1..=1000).contains(&n) => Ok(n),
            Some(n) => Err(crate::ApiError::BadRequest(format!(
                "limit {n} is out of range: 1 to 1000"
            ))),
        }
    }
}
