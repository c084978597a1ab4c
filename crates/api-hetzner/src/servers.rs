use axum::Router;
use stratus_core::Cloud;

pub fn routes() -> Router<Cloud> {
    Router::new()
}
