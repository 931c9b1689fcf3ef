//! The dashboard's pages: server-rendered (maud) shells whose plots and tables fill from the JSON
//! API with the vendored uPlot (`/assets/…`), so the pages show exactly what the API answers.
//! A page without a valid session redirects to `/login`.

mod assessment;
mod assets;
mod evidence;
mod layout;
mod machine;
mod overview;
mod proposals;
mod tool;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

/// Every page and asset route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(assets::routes())
        .merge(layout::routes())
        .merge(overview::routes())
        .merge(machine::routes())
        .merge(tool::routes())
        .merge(proposals::routes())
        .merge(evidence::routes())
        .merge(assessment::routes())
}
