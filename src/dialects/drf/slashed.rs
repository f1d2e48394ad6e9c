//! Which requests speak seed 004: a path under `/api/chat/` that ended with a slash, as DRF's
//! routers write every path, before `NormalizePath` trimmed it. Where 004 and the native API share
//! a path but not a shape (rooms, messages, mark_read, leave, search), the slashed request gets
//! 004's answer and the bare one Confab's own (docs/DIALECTS.md).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::guard::{self, Guard, GuardContext};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, Route};

/// Marks a request whose path ended with a slash.
#[derive(Debug, Clone, Copy)]
struct Slashed;

/// Runs before `NormalizePath`: remembers the slash it is about to trim.
pub async fn remember_slash(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let path = req.path();
    if path.starts_with("/api/chat/") && path.ends_with('/') {
        req.extensions_mut().insert(Slashed);
    }
    next.call(req).await
}

fn slashed(ctx: &GuardContext<'_>) -> bool {
    ctx.req_data().get::<Slashed>().is_some()
}

/// Registers `route` at `path` (written without its slash) for slashed requests with `method`;
/// every other request falls through to the native route of the same path.
pub fn register(
    cfg: &mut web::ServiceConfig,
    path: &str,
    method: impl Guard + 'static,
    route: Route,
) {
    cfg.service(
        web::resource(path)
            .guard(guard::All(guard::fn_guard(slashed)).and(method))
            .route(route),
    );
}
