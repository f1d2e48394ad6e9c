//! CORS for the origins in `server.allowed_origins`: a host platform's page (the SDK, the
//! `<confab-room>` element) may load `/sdk/confab.js`, call the API and fetch files with a bearer
//! token. Nothing rides on cookies, so credentials are never allowed.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::HttpResponse;
use futures_util::future::{self, FutureExt, LocalBoxFuture};

const METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
const HEADERS: &str = "authorization, content-type, range";

/// The request's `Origin` when it is another origin that `allowed` names (`*` = any).
fn foreign_allowed(req: &ServiceRequest, allowed: &[String]) -> Option<HeaderValue> {
    let origin = req.headers().get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    let info = req.connection_info();
    if text == format!("{}://{}", info.scheme(), info.host()) {
        return None;
    }
    allowed
        .iter()
        .any(|a| a == "*" || a.trim_end_matches('/') == text)
        .then(|| origin.clone())
}

fn allow(headers: &mut header::HeaderMap, origin: HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("content-length, content-range, content-disposition"),
    );
}

type Answer = LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>;

/// Answers a preflight from an allowed origin itself, and marks every other answer to one as
/// readable by it; requests from elsewhere pass untouched (the browser then refuses them).
pub fn handle<S, B>(allowed: &[String], req: ServiceRequest, srv: &S) -> Answer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let origin = foreign_allowed(&req, allowed);
    let preflight = req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if let (true, Some(origin)) = (preflight, origin.clone()) {
        let mut resp = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, METHODS))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, HEADERS))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .finish();
        allow(resp.headers_mut(), origin);
        return future::ready(Ok(req.into_response(resp))).boxed_local();
    }
    srv.call(req)
        .map(move |res| {
            res.map(|mut res| {
                if let Some(origin) = origin {
                    allow(res.headers_mut(), origin);
                }
                res.map_into_boxed_body()
            })
        })
        .boxed_local()
}
