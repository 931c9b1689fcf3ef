//! The frame every page shares (navigation, the user and their role, the scripts), the login
//! page, and the extractor that sends a visitor without a session to it.

use crate::auth::{authenticate, request_token, Principal};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login_page))
}

/// The signed-in user of a page; without one, the page redirects to `/login?next=…`.
pub struct PageUser(pub Principal);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match authenticate(state, request_token(parts)).await {
            Ok(p) => Ok(PageUser(p)),
            Err(_) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let next: String = next
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || "/-_.".contains(c) {
                            c.to_string()
                        } else {
                            format!("%{:02X}", c as u32 & 0xFF)
                        }
                    })
                    .collect();
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
        }
    }
}

/// The navigation: (path, label).
const NAV: [(&str, &str); 6] = [
    ("/", "Cell"),
    ("/programs", "NC programs"),
    ("/proposals", "Proposals"),
    ("/schedule", "Schedule"),
    ("/ledger", "Ledger"),
    ("/assessment", "Assessment"),
];

/// A page: `title`, the signed-in `user`, the `body`, and `data` handed to the page's script as
/// JSON (`window.AIMM`), e.g. the machine shown.
pub fn page(title: &str, user: &Principal, data: serde_json::Value, body: Markup) -> Response {
    let data = serde_json::json!({
        "user": user.name, "role": user.role.as_str(), "page": data,
    });
    // `</` cannot end the script early once escaped so.
    let data = data.to_string().replace("</", "<\\/");
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · aimm" }
                    link rel="stylesheet" href="/assets/uPlot.min.css";
                    link rel="stylesheet" href="/assets/style.css";
                }
                body {
                    header {
                        a.brand href="/" { "aimm" }
                        nav { @for (href, label) in NAV { a href=(href) { (label) } } }
                        span.who {
                            (user.name) " · " span.role { (user.role.as_str()) }
                            " " button #logout type="button" { "Log out" }
                        }
                    }
                    main {
                        h1 { (title) }
                        (body)
                    }
                    script { (PreEscaped(format!("window.AIMM = {data};"))) }
                    script src="/assets/uPlot.iife.min.js" {}
                    script src="/assets/app.js" {}
                    script src="/assets/machine.js" {}
                    script src="/assets/evidence.js" {}
                }
            }
        }
        .into_string(),
    )
    .into_response()
}

/// The login page: paste a token (made with `aimm users add`).
#[utoipa::path(get, path = "/login", tag = "pages", security(()),
    responses((status = 200, description = "The login page", content_type = "text/html")))]
async fn login_page() -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    title { "Log in · aimm" }
                    link rel="stylesheet" href="/assets/style.css";
                }
                body.login {
                    main {
                        h1 { "aimm" }
                        p { "Paste your token. An admin makes one with "
                            code { "aimm users add NAME --role ROLE" } "." }
                        form #login {
                            label for="token" { "Token" }
                            input #token name="token" type="password" autocomplete="off" required;
                            button type="submit" { "Log in" }
                            p #login-error .error {}
                        }
                    }
                    script src="/assets/app.js" {}
                }
            }
        }
        .into_string(),
    )
}
