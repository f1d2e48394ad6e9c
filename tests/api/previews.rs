//! PDF and video previews (issue 20): a PDF's first page and a video's poster frame become the
//! upload's thumbnail (pdftoppm and ffmpeg, installed by `make media-tools`), fitted in the
//! thumbnail box whatever the page or frame size; the original is untouched; files that cannot be
//! previewed are still stored; the preview is read only by those who may read the file.

use std::io::Write;
use std::process::Command;

use awc::http::StatusCode;
use confab::auth::Role;
use image::GenericImageView;
use uuid::Uuid;

use crate::clamd::Clamd;
use crate::helpers::*;
use crate::uploads::{app, app_with, download, pdf, share, upload, uploaded, url};

/// A one-page PDF `w`×`h` points with a red rectangle on white, written with its xref table.
pub(crate) fn one_page_pdf(w: u32, h: u32) -> Vec<u8> {
    let content = format!(
        "1 0 0 rg {} {} {} {} re f",
        w / 10,
        h / 10,
        w * 8 / 10,
        h * 8 / 10
    );
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Contents 4 0 R >>"),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        write!(out, "{} 0 obj\n{body}\nendobj\n", i + 1).expect("write");
    }
    let xref = out.len();
    write!(out, "xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).expect("write");
    for o in offsets {
        writeln!(out, "{o:010} 00000 n ").expect("write");
    }
    write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    )
    .expect("write");
    out
}

/// A two-second 640×360 test-pattern MP4, made by ffmpeg.
fn mp4_video() -> Vec<u8> {
    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("v.mp4");
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=640x360:rate=10",
        ])
        .args(["-t", "2", "-pix_fmt", "yuv420p", "-y"])
        .arg(&out)
        .status()
        .expect("ffmpeg must be installed (make media-tools)");
    assert!(status.success());
    std::fs::read(out).expect("read video")
}

/// The thumbnail of `attachment` as `token` downloads it, decoded.
async fn thumbnail(
    app: &TestApp,
    token: &str,
    attachment: &serde_json::Value,
) -> image::DynamicImage {
    let d = download(app, token, &url(attachment, "thumbnail_url")).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.header("content-type"), "image/jpeg");
    image::load_from_memory(&d.body).expect("a decodable thumbnail")
}

#[actix_rt::test]
async fn a_pdf_gets_its_first_page_and_a_video_a_poster_frame_as_thumbnail() {
    let (app, _dir) = app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let dave = app.register("dave").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let bytes = one_page_pdf(600, 300);
    let doc = uploaded(&app, &ann, "paper.pdf", &bytes).await;
    assert_eq!(doc["content_type"], "application/pdf");
    assert!(
        doc["width"].is_null(),
        "width/height stay the image's own: {doc}"
    );
    share(&app, &ann, room, &doc).await;
    let page = thumbnail(&app, &bob.token, &doc).await;
    assert_eq!(
        page.dimensions(),
        (320, 160),
        "the page fits the 320 px box"
    );
    let centre = page.get_pixel(160, 80).0;
    let corner = page.get_pixel(3, 3).0;
    assert!(
        centre[0] > 200 && centre[1] < 60 && centre[2] < 60,
        "red middle {centre:?}"
    );
    assert!(
        corner.iter().take(3).all(|&c| c > 200),
        "white margin {corner:?}"
    );
    // The original is byte for byte what was sent.
    let original = download(&app, &bob.token, &url(&doc, "url")).await;
    assert_eq!(original.body.as_ref(), bytes.as_slice());
    // Strangers, other tenants and the unauthenticated get nothing.
    let stranger = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "x", Role::User);
    for token in [dave.token.as_str(), stranger.as_str()] {
        let d = download(&app, token, &url(&doc, "thumbnail_url")).await;
        assert_eq!(d.status, StatusCode::NOT_FOUND);
    }
    let d = download(&app, "", &url(&doc, "thumbnail_url")).await;
    assert_eq!(d.status, StatusCode::UNAUTHORIZED);

    let video = uploaded(&app, &ann, "clip.mp4", &mp4_video()).await;
    assert_eq!(video["content_type"], "video/mp4");
    let poster = thumbnail(&app, &ann.token, &video).await;
    assert_eq!(poster.dimensions(), (320, 180));
}

#[actix_rt::test]
async fn a_huge_page_is_rendered_at_the_thumbnail_size_and_a_broken_pdf_is_stored_without_one() {
    let (app, _dir) = app_with(|s| s.uploads.thumbnail_px = 200).await;
    let ann = app.register("ann").await;
    // 14400 pt square (200 inches): at 300 dpi that page would be 60000 × 60000 pixels.
    let big = uploaded(&app, &ann, "poster.pdf", &one_page_pdf(14400, 14400)).await;
    assert_eq!(
        thumbnail(&app, &ann.token, &big).await.dimensions(),
        (200, 200)
    );
    // A PDF without pages, and bytes that only start like one.
    for (name, bytes) in [
        ("empty.pdf", pdf()),
        ("cut.pdf", b"%PDF-1.7\n garbage".to_vec()),
    ] {
        let a = upload(&app, &ann.token, name, "application/pdf", &bytes).await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        assert!(a.body["thumbnail_url"].is_null(), "{:?}", a.body);
    }
    let mut m = app.client.get(app.url("/metrics")).send().await.unwrap();
    let text = String::from_utf8(m.body().await.unwrap().to_vec()).unwrap();
    assert!(
        text.contains("confab_file_previews_failed_total 2"),
        "{text}"
    );
}

#[actix_rt::test]
async fn with_previews_off_a_pdf_has_no_thumbnail() {
    let (app, _dir) = app_with(|s| s.uploads.file_previews = false).await;
    let ann = app.register("ann").await;
    let doc = uploaded(&app, &ann, "paper.pdf", &one_page_pdf(200, 100)).await;
    assert!(doc["thumbnail_url"].is_null(), "{doc}");
}

#[actix_rt::test]
async fn a_clean_pdf_passes_the_scanner_and_gets_its_preview() {
    let clamd = Clamd::start();
    let addr = clamd.address();
    let (app, _dir) = app_with(move |s| {
        s.uploads.scan = "clamav".into();
        s.uploads.clamd = addr;
    })
    .await;
    let ann = app.register("ann").await;
    let doc = uploaded(&app, &ann, "paper.pdf", &one_page_pdf(300, 300)).await;
    assert_eq!(
        thumbnail(&app, &ann.token, &doc).await.dimensions(),
        (320, 320)
    );
}
