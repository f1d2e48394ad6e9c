//! Files and images end to end: uploads over multipart, messages that carry them, downloads with
//! their headers, and everything an uploader may try to slip through.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use awc::http::header::HeaderMap;
use awc::http::StatusCode;
use bytes::Bytes;
use confab::auth::Role;
use image::{ExtendedColorType, ImageEncoder};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

/// A server whose uploads go to a directory of its own (removed with the guard).
pub(crate) async fn app_with(
    adjust: impl FnOnce(&mut confab::config::Settings),
) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_str().expect("utf-8 path").to_owned();
    let app = spawn_app_with(move |s| {
        s.uploads.dir = path;
        adjust(s);
    })
    .await;
    (app, dir)
}

pub(crate) async fn app() -> (TestApp, tempfile::TempDir) {
    app_with(|_| {}).await
}

/// A multipart/form-data body with one `file` part, built by hand as a browser sends it.
pub(crate) fn form(file_name: &str, part_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("----confab{}", Uuid::new_v4().simple());
    let mut body = Vec::new();
    write!(
        body,
        "--{boundary}\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nignored\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: {part_type}\r\n\r\n"
    )
    .expect("write");
    body.extend_from_slice(bytes);
    write!(body, "\r\n--{boundary}--\r\n").expect("write");
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn upload(
    app: &TestApp,
    token: &str,
    file_name: &str,
    part_type: &str,
    bytes: &[u8],
) -> Answer {
    let (content_type, body) = form(file_name, part_type, bytes);
    let mut resp = app
        .client
        .post(app.url("/api/chat/uploads"))
        .bearer_auth(token)
        .insert_header(("Content-Type", content_type))
        .send_body(body)
        .await
        .expect("upload sent");
    let bytes = resp.body().limit(1024 * 1024).await.expect("body read");
    Answer {
        status: resp.status(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        headers: resp.headers().clone(),
        raw: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Uploads and answers the attachment object (201 expected).
pub(crate) async fn uploaded(app: &TestApp, user: &User, file_name: &str, bytes: &[u8]) -> Value {
    let a = upload(
        app,
        &user.token,
        file_name,
        "application/octet-stream",
        bytes,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body
}

pub(crate) struct Download {
    pub(crate) status: StatusCode,
    headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Download {
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A GET of `path` with `token` (none when empty, as `<img src>` fetches), optionally a range.
pub(crate) async fn download_with(
    app: &TestApp,
    token: &str,
    path: &str,
    range: Option<&str>,
) -> Download {
    let mut req = app.client.get(app.url(path));
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    if let Some(r) = range {
        req = req.insert_header(("Range", r));
    }
    let mut resp = req.send().await.expect("download sent");
    let body = resp
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .expect("body read");
    Download {
        status: resp.status(),
        headers: resp.headers().clone(),
        body,
    }
}

pub(crate) async fn download(app: &TestApp, token: &str, path: &str) -> Download {
    download_with(app, token, path, None).await
}

async fn status_of(app: &TestApp, token: &str, path: &str) -> StatusCode {
    download(app, token, path).await.status
}

/// Posts a message carrying `attachment` into `room`; answers the message.
pub(crate) async fn share(app: &TestApp, user: &User, room: Uuid, attachment: &Value) -> Value {
    let a = app
        .post(
            &messages_path(room),
            &user.token,
            json!({"content": "have a look", "attachment_id": attachment["id"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body
}

pub(crate) fn url(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .to_owned()
}

/// A w×h RGB gradient as PNG.
pub(crate) fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), w, h, ExtendedColorType::Rgb8)
        .expect("png");
    out
}

pub(crate) fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
      2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n\
      trailer << /Root 1 0 R >>\n%%EOF\n"
        .to_vec()
}

fn assert_safe_headers(d: &Download) {
    assert_eq!(d.header("x-content-type-options"), "nosniff");
    let csp = d.header("content-security-policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("sandbox"),
        "{csp}"
    );
    assert_eq!(d.header("content-length"), d.body.len().to_string());
}

#[actix_rt::test]
async fn a_png_and_a_pdf_sent_as_messages_reach_the_other_member_byte_identical() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let png_bytes = png(640, 480);
    let pdf_bytes = pdf();

    let image = uploaded(&app, &ann, "chart.png", &png_bytes).await;
    assert_eq!(image["content_type"], "image/png");
    assert_eq!(image["file_name"], "chart.png");
    assert_eq!(image["file_size"], png_bytes.len());
    assert_eq!(
        (image["width"].as_i64(), image["height"].as_i64()),
        (Some(640), Some(480))
    );
    let doc = uploaded(&app, &ann, "report.pdf", &pdf_bytes).await;
    assert_eq!(doc["content_type"], "application/pdf");
    assert!(doc["thumbnail_url"].is_null() && doc["width"].is_null());

    let m1 = share(&app, &ann, room, &image).await;
    assert_eq!(m1["message_type"], "image");
    assert_eq!(m1["attachment"]["id"], image["id"]);
    let m2 = share(&app, &ann, room, &doc).await;
    assert_eq!(m2["message_type"], "file");

    // Bob finds them in the history and downloads them.
    let h = app.get(&messages_path(room), &bob.token).await;
    let seen: Vec<&Value> = h.body["results"]
        .as_array()
        .map(|ms| ms.iter().filter(|m| !m["attachment"].is_null()).collect())
        .unwrap_or_default();
    assert_eq!(seen.len(), 2, "{:?}", h.body);

    let got = download(&app, &bob.token, &url(&m1["attachment"], "url")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body.as_ref(), png_bytes.as_slice());
    assert_eq!(got.header("content-type"), "image/png");
    assert!(got.header("content-disposition").starts_with("inline"));
    assert_safe_headers(&got);

    let got = download(&app, &bob.token, &url(&m2["attachment"], "url")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body.as_ref(), pdf_bytes.as_slice());
    assert_eq!(got.header("content-type"), "application/pdf");
    let cd = got.header("content-disposition");
    assert!(
        cd.starts_with("attachment") && cd.contains("report.pdf"),
        "{cd}"
    );
    assert_safe_headers(&got);

    let thumb = download(&app, &bob.token, &url(&m1["attachment"], "thumbnail_url")).await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert_safe_headers(&thumb);
    let small = image::load_from_memory(&thumb.body).expect("thumbnail decodes");
    assert_eq!((small.width(), small.height()), (320, 240));
}

#[actix_rt::test]
async fn non_members_other_tenants_and_removed_members_get_404_on_download() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let room = app.room(&ann, "group", &[&bob, &carol]).await;
    let image = uploaded(&app, &ann, "cat.png", &png(64, 64)).await;
    share(&app, &ann, room, &image).await;
    let file = url(&image, "url");
    let thumb = url(&image, "thumbnail_url");

    for (who, token) in [
        ("ann", &ann.token),
        ("bob", &bob.token),
        ("carol", &carol.token),
    ] {
        assert_eq!(
            download(&app, token, &file).await.status,
            StatusCode::OK,
            "{who}"
        );
    }
    let stranger = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "x", Role::User);
    let removed = app
        .delete(
            &format!("/api/chat/rooms/{room}/members/{}", carol.id),
            &ann.token,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{:?}", removed.body);
    for (who, token) in [
        ("dave", &dave.token),
        ("other tenant", &stranger),
        ("carol", &carol.token),
    ] {
        for path in [&file, &thumb] {
            let d = download(&app, token, path).await;
            assert_eq!(d.status, StatusCode::NOT_FOUND, "{who} {path}");
            assert!(!d.body.starts_with(b"\x89PNG"), "{who} got bytes");
        }
    }
    assert_eq!(status_of(&app, &bob.token, &file).await, StatusCode::OK);
    let unknown = format!("/api/chat/uploads/{}", Uuid::new_v4());
    assert_eq!(
        status_of(&app, &bob.token, &unknown).await,
        StatusCode::NOT_FOUND
    );
}

#[actix_rt::test]
async fn an_unshared_upload_is_readable_by_its_uploader_only() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    app.room(&ann, "group", &[&bob]).await;
    let doc = uploaded(&app, &ann, "draft.pdf", &pdf()).await;
    let file = url(&doc, "url");
    assert_eq!(status_of(&app, &ann.token, &file).await, StatusCode::OK);
    assert_eq!(
        status_of(&app, &bob.token, &file).await,
        StatusCode::NOT_FOUND
    );
}

#[actix_rt::test]
async fn a_tenant_admin_reads_files_shared_in_its_rooms_but_not_unshared_ones() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let shared = uploaded(&app, &ann, "minutes.pdf", &pdf()).await;
    share(&app, &ann, room, &shared).await;
    let private = uploaded(&app, &ann, "diary.pdf", &pdf()).await;
    let admin = app.platform_token(Uuid::new_v4(), ann.tenant_id, "mod", Role::Admin);
    let shared_url = url(&shared, "url");
    let private_url = url(&private, "url");
    assert_eq!(status_of(&app, &admin, &shared_url).await, StatusCode::OK);
    assert_eq!(
        status_of(&app, &admin, &private_url).await,
        StatusCode::NOT_FOUND
    );
    let elsewhere = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "mod", Role::Admin);
    assert_eq!(
        status_of(&app, &elsewhere, &shared_url).await,
        StatusCode::NOT_FOUND
    );
}

#[actix_rt::test]
async fn deleting_the_message_detaches_its_file_from_the_room() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let doc = uploaded(&app, &ann, "oops.pdf", &pdf()).await;
    let m = share(&app, &ann, room, &doc).await;
    let file = url(&doc, "url");
    assert_eq!(status_of(&app, &bob.token, &file).await, StatusCode::OK);
    let d = app
        .delete(
            &format!("/api/chat/rooms/{room}/messages/{}", url(&m, "id")),
            &ann.token,
        )
        .await;
    assert!(d.status.is_success(), "{:?}", d.body);
    assert_eq!(
        status_of(&app, &bob.token, &file).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(status_of(&app, &ann.token, &file).await, StatusCode::OK);
}

#[actix_rt::test]
async fn an_upload_over_the_limit_is_413_and_leaves_no_file_behind() {
    let limit: usize = 64 * 1024;
    let (app, dir) = app_with(|s| s.limits.max_upload_bytes = limit as u64).await;
    let ann = app.register("ann").await;
    let too_big = vec![7u8; limit + 1];
    let a = upload(
        &app,
        &ann.token,
        "big.bin",
        "application/octet-stream",
        &too_big,
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", a.body);
    assert_eq!(a.error_code(), "too_large");
    assert_eq!(walk(dir.path()), Vec::<PathBuf>::new());
    // A declared length far past the limit is refused before the body is read.
    let a = upload(
        &app,
        &ann.token,
        "huge.bin",
        "application/octet-stream",
        &vec![7u8; 4 * limit],
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(walk(dir.path()), Vec::<PathBuf>::new());
    // Exactly the limit is fine.
    uploaded(&app, &ann, "fits.bin", &vec![7u8; limit]).await;
    assert_eq!(walk(dir.path()).len(), 1);
}

#[actix_rt::test]
async fn html_renamed_png_is_served_neither_as_an_image_nor_as_html() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let html = b"<html><body><script>fetch('/api/chat/users/me')</script></body></html>";
    let a = upload(&app, &ann.token, "cute-cat.png", "image/png", html).await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert_eq!(a.body["content_type"], "text/html");
    assert!(a.body["thumbnail_url"].is_null() && a.body["width"].is_null());
    let m = share(&app, &ann, room, &a.body).await;
    assert_eq!(m["message_type"], "file");

    let got = download(&app, &bob.token, &url(&a.body, "url")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body.as_ref(), html.as_slice());
    let ct = got.header("content-type");
    assert!(!ct.starts_with("image/") && !ct.contains("html"), "{ct}");
    assert!(got.header("content-disposition").starts_with("attachment"));
    assert_safe_headers(&got);
    // It has no thumbnail: the thumbnail of a file that is not an image is empty.
    let thumb = format!("{}/thumbnail", url(&a.body, "url"));
    assert_eq!(
        status_of(&app, &bob.token, &thumb).await,
        StatusCode::NO_CONTENT
    );

    // An SVG (script in an image) goes out as opaque bytes too.
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
    let s = uploaded(&app, &ann, "logo.svg", svg).await;
    assert_eq!(s["content_type"], "image/svg+xml");
    let got = download(&app, &ann.token, &url(&s, "url")).await;
    assert_eq!(got.header("content-type"), "application/octet-stream");
    assert!(got.header("content-disposition").starts_with("attachment"));
}

#[actix_rt::test]
async fn a_denied_type_is_refused_with_415() {
    let (app, dir) = app_with(|s| s.uploads.denied_types = vec!["text/html".into()]).await;
    let ann = app.register("ann").await;
    let a = upload(
        &app,
        &ann.token,
        "page.png",
        "image/png",
        b"<html><p>hi</p></html>",
    )
    .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{:?}", a.body);
    assert_eq!(a.error_code(), "unsupported_media_type");
    assert_eq!(walk(dir.path()), Vec::<PathBuf>::new());
    uploaded(&app, &ann, "ok.pdf", &pdf()).await;
}

#[actix_rt::test]
async fn a_path_as_file_name_is_stored_safely() {
    let (app, dir) = app().await;
    let ann = app.register("ann").await;
    let body = b"root:x:0:0:not really\n";
    let a = uploaded(&app, &ann, "../../etc/passwd", body).await;
    assert_eq!(a["file_name"], "passwd");
    let stored = walk(dir.path());
    assert_eq!(stored.len(), 1, "{stored:?}");
    let canonical = dir.path().canonicalize().expect("dir");
    assert!(stored[0]
        .canonicalize()
        .expect("file")
        .starts_with(&canonical));
    assert!(!stored[0].to_string_lossy().contains("passwd"));
    assert_eq!(std::fs::read(&stored[0]).expect("read"), body);
    let got = download(&app, &ann.token, &url(&a, "url")).await;
    let cd = got.header("content-disposition");
    assert!(cd.contains("filename=\"passwd\""), "{cd}");
    // A non-ASCII name survives, with an ASCII fallback in the header.
    let a = uploaded(&app, &ann, "résumé.pdf", &pdf()).await;
    assert_eq!(a["file_name"], "résumé.pdf");
    let cd = download(&app, &ann.token, &url(&a, "url")).await;
    let cd = cd.header("content-disposition");
    assert!(cd.contains("filename=\"r_sum_.pdf\""), "{cd}");
    assert!(cd.contains("filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"), "{cd}");
    // Bidi overrides (a name that reads as something else) go; a raw CR breaks the form itself.
    let a = uploaded(&app, &ann, "invoice\u{202e}fdp.exe", b"text").await;
    assert_eq!(a["file_name"], "invoicefdp.exe");
    let bad = upload(
        &app,
        &ann.token,
        "a\rSet-Cookie: x=1.txt",
        "text/plain",
        b"text",
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(walk(dir.path()).len(), 3);
}

/// A real 20000×20000 greyscale PNG of zeros: a few hundred KiB, 400 MB once decoded.
fn png_bomb() -> Vec<u8> {
    let side = 20_000;
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, side, side);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header().expect("png header");
    let mut stream = writer.stream_writer().expect("png stream");
    let row = vec![0u8; side as usize];
    for _ in 0..side {
        stream.write_all(&row).expect("png row");
    }
    stream.finish().expect("png end");
    drop(writer);
    out
}

/// This process's peak resident memory in bytes (Linux), if known.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[actix_rt::test]
async fn a_20000_by_20000_png_bomb_is_refused_without_exhausting_memory() {
    // Made first: seconds of CPU that would otherwise idle the client's pooled connection.
    let bomb = png_bomb();
    let (app, dir) = app().await;
    let ann = app.register("ann").await;
    assert!(bomb.len() < 2 * 1024 * 1024, "bomb is {} bytes", bomb.len());
    let before = peak_rss();
    let started = Instant::now();
    let a = upload(&app, &ann.token, "innocent.png", "image/png", &bomb).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", a.body);
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("20000x20000"),
        "{:?}",
        a.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    if let (Some(b), Some(after)) = (before, peak_rss()) {
        assert!(
            after.saturating_sub(b) < 100 * 1024 * 1024,
            "peak memory grew by {} bytes",
            after - b
        );
    }
    assert_eq!(walk(dir.path()), Vec::<PathBuf>::new());
}

#[actix_rt::test]
async fn someone_elses_attachment_id_is_404() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let doc = uploaded(&app, &ann, "mine.pdf", &pdf()).await;
    let a = app
        .post(
            &messages_path(room),
            &bob.token,
            json!({"content": "stolen", "attachment_id": doc["id"]}),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{:?}", a.body);
    let mut ws = app.ws(&bob.token).await;
    let e = ws
        .request(with(
            send_frame(room, "stolen"),
            "attachment_id",
            doc["id"].clone(),
        ))
        .await;
    assert_eq!(e["error"]["code"], "not_found", "{e}");
    // Nothing was shared, so bob still cannot read it.
    assert_eq!(
        status_of(&app, &bob.token, &url(&doc, "url")).await,
        StatusCode::NOT_FOUND
    );
}

/// The smallest MP4 header infer recognises, then filler.
fn mp4() -> Vec<u8> {
    let mut v = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom".to_vec();
    v.extend((0..4000u32).map(|i| (i % 251) as u8));
    v
}

/// Shares a video and an image on `app`; bob downloads them whole, in a range, and past the end.
async fn share_and_seek(app: &TestApp) {
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let bytes = mp4();
    let v = uploaded(app, &ann, "clip.mp4", &bytes).await;
    assert_eq!(v["content_type"], "video/mp4");
    let m = share(app, &ann, room, &v).await;
    assert_eq!(m["message_type"], "video");
    let file = url(&v, "url");

    let whole = download(app, &bob.token, &file).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.body.as_ref(), bytes.as_slice());
    assert_eq!(whole.header("content-type"), "video/mp4");
    assert!(whole
        .header("content-disposition")
        .starts_with("attachment"));
    assert_eq!(whole.header("accept-ranges"), "bytes");
    assert_safe_headers(&whole);

    let part = download_with(app, &bob.token, &file, Some("bytes=100-199")).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body.as_ref(), &bytes[100..200]);
    let total = bytes.len();
    assert_eq!(
        part.header("content-range"),
        format!("bytes 100-199/{total}")
    );
    assert_eq!(part.header("content-length"), "100");
    assert_eq!(part.header("x-content-type-options"), "nosniff");

    let past = download_with(app, &bob.token, &file, Some("bytes=999999-")).await;
    assert_eq!(past.status, StatusCode::RANGE_NOT_SATISFIABLE);

    let image = uploaded(app, &ann, "dot.png", &png(400, 200)).await;
    share(app, &ann, room, &image).await;
    let thumb = download(app, &bob.token, &url(&image, "thumbnail_url")).await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert_eq!(thumb.header("content-type"), "image/jpeg");
    let small = image::load_from_memory(&thumb.body).expect("thumbnail decodes");
    assert_eq!((small.width(), small.height()), (320, 160));
}

#[actix_rt::test]
async fn video_is_served_in_ranges() {
    let (app, _dir) = app().await;
    share_and_seek(&app).await;
}

#[actix_rt::test]
async fn the_object_store_backend_serves_files_and_ranges_the_same_way() {
    let (app, dir) = app_with(|s| s.uploads.storage = "memory".into()).await;
    share_and_seek(&app).await;
    // Only staging touches the disk, and it is empty again.
    assert_eq!(walk(dir.path()), Vec::<PathBuf>::new());
}

/// A JPEG whose EXIF says "rotate 90° clockwise to display".
fn rotated_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| image::Rgb([(x % 256) as u8, 0, 0]));
    // TIFF, big-endian, one IFD entry: Orientation (0x0112) SHORT = 6.
    let exif = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00".to_vec();
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    enc.set_exif_metadata(exif).expect("exif");
    enc.write_image(img.as_raw(), w, h, ExtendedColorType::Rgb8)
        .expect("jpeg");
    out
}

#[actix_rt::test]
async fn a_photo_is_turned_upright_and_its_thumbnail_carries_no_metadata() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let photo = rotated_jpeg(640, 320);
    assert!(photo.windows(4).any(|w| w == b"Exif"));
    let a = uploaded(&app, &ann, "IMG_0001.JPG", &photo).await;
    assert_eq!(a["content_type"], "image/jpeg");
    assert_eq!(
        (a["width"].as_i64(), a["height"].as_i64()),
        (Some(320), Some(640))
    );
    let thumb = download(&app, &ann.token, &url(&a, "thumbnail_url")).await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert!(!thumb.body.windows(4).any(|w| w == b"Exif"));
    let small = image::load_from_memory(&thumb.body).expect("thumbnail decodes");
    assert_eq!((small.width(), small.height()), (160, 320));
}

#[actix_rt::test]
async fn an_upload_needs_a_token_and_a_file_field() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let (ct, body) = form("a.txt", "text/plain", b"hi");
    let a = app.post_raw("/api/chat/uploads", &ct, body).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let boundary = "xyz";
    let body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--{boundary}--\r\n");
    let mut resp = app
        .client
        .post(app.url("/api/chat/uploads"))
        .bearer_auth(&ann.token)
        .insert_header((
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        ))
        .send_body(body)
        .await
        .expect("sent");
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_slice(&resp.body().await.expect("body")).expect("json");
    assert_eq!(v["error"]["field"], "file");
    let empty = upload(&app, &ann.token, "empty.txt", "text/plain", b"").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
}
