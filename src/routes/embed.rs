//! `GET /embed/rooms/{room_id}`: one room's conversation for an iframe. The page is the same for
//! every room and holds no data: it signs in with the platform token in its URL fragment and asks
//! the API, which answers only what that user may read. `server.content_security_policy`'s
//! `frame-ancestors` names who may frame it.

use std::path::Path;

use actix_files::NamedFile;
use actix_web::{web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/embed/rooms/{room_id}", web::get().to(room_page));
}

/// The embeddable page of one room (HTML; its script reads the room id from the path).
#[utoipa::path(
    get,
    path = "/embed/rooms/{room_id}",
    operation_id = "embed_room",
    tag = "embed",
    params(("room_id" = Uuid, Path, description = "The room to show")),
    responses(
        (status = 200, description = "The page", content_type = "text/html"),
        (status = 400, description = "Not a room id")
    )
)]
async fn room_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    _room: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let path = Path::new(&state.settings.server.static_dir).join("embed.html");
    let file = NamedFile::open_async(&path)
        .await
        .map_err(|e| AppError::internal(format!("opening {}: {e}", path.display())))?;
    Ok(file.into_response(&req))
}
