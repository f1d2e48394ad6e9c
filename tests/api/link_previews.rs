//! Link previews (issue 20) against pages served by the test on loopback (allowed for the test
//! through `link_previews.allow_hosts`): a page previews after the ack, as a `message_updated`,
//! and is fetched once per URL; private addresses, a redirect to one, a 50 MB page, a slow page
//! and non-HTML do not, and cost the message nothing; bracketed links, code, direct rooms and
//! tenants that turned previews off get none.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::scan::metric_reaching;
use crate::uploads::png;

/// A small HTTP server on loopback: answers by path, counts the requests of each.
struct Site {
    port: u16,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Site {
    fn start() -> Site {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let counted = hits.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let counted = counted.clone();
                std::thread::spawn(move || serve(conn, port, &counted));
            }
        });
        Site { port, hits }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

const PAGE: &str = r#"<!doctype html><html><head><title>Fallback</title>
<meta property="og:title" content="Course &amp; syllabus">
<meta property="og:description" content="Week 1: <b>tags</b> stay text">
<meta property="og:site_name" content="CS 101">
<meta property="og:image" content="/card.png"></head><body>hi</body></html>"#;

fn serve(mut conn: TcpStream, port: u16, hits: &Mutex<HashMap<String, usize>>) {
    let mut buf = [0u8; 4096];
    let n = conn.read(&mut buf).unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let reply = |conn: &mut TcpStream, status: &str, headers: &str, body: &[u8]| {
        let _ = write!(
            conn,
            "HTTP/1.1 {status}\r\nConnection: close\r\n{headers}\r\n"
        );
        let _ = conn.write_all(body);
    };
    match path.as_str() {
        "/page" | "/page2" => reply(
            &mut conn,
            "200 OK",
            &html_headers(PAGE.len()),
            PAGE.as_bytes(),
        ),
        "/card.png" => {
            let img = png(400, 200);
            let h = format!(
                "Content-Type: image/png\r\nContent-Length: {}\r\n",
                img.len()
            );
            reply(&mut conn, "200 OK", &h, &img)
        }
        "/to-private" => reply(
            &mut conn,
            "302 Found",
            &format!("Location: http://localhost:{port}/page\r\n"),
            b"",
        ),
        "/to-metadata" => reply(
            &mut conn,
            "302 Found",
            "Location: http://169.254.169.254/latest/meta-data/\r\n",
            b"",
        ),
        "/big" => {
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nConnection: close\r\n{}\r\n",
                html_headers(50 << 20)
            );
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..800 {
                if conn.write_all(&chunk).is_err() {
                    return;
                }
            }
        }
        "/big-unsized" => {
            let _ = write!(conn, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<title>x</title>");
            let chunk = vec![b' '; 64 * 1024];
            for _ in 0..800 {
                if conn.write_all(&chunk).is_err() {
                    return;
                }
            }
        }
        "/slow" => {
            std::thread::sleep(Duration::from_secs(8));
            reply(
                &mut conn,
                "200 OK",
                &html_headers(PAGE.len()),
                PAGE.as_bytes(),
            )
        }
        "/plain" => reply(
            &mut conn,
            "200 OK",
            "Content-Type: text/plain\r\nContent-Length: 17\r\n",
            b"<title>t</title>\n",
        ),
        _ => reply(&mut conn, "404 Not Found", "Content-Length: 0\r\n", b""),
    }
}

fn html_headers(len: usize) -> String {
    format!("Content-Type: text/html; charset=utf-8\r\nContent-Length: {len}\r\n")
}

async fn previewing_app(adjust: impl FnOnce(&mut confab::config::Settings)) -> TestApp {
    spawn_app_with(|s| {
        s.link_previews.allow_hosts = vec!["127.0.0.1".into()];
        s.link_previews.timeout_ms = 1500;
        adjust(s);
    })
    .await
}

/// A loopback site, a node that previews it, and ann and bob in a group room.
async fn scene() -> (Site, TestApp, User, User, Uuid) {
    let site = Site::start();
    let app = previewing_app(|_| {}).await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    (site, app, ann, bob, room)
}

async fn joined(app: &TestApp, user: &User, room: Uuid) -> Ws {
    let mut ws = app.ws(&user.token).await;
    let ack = ws
        .request(json!({"type": "join_room", "room_id": room}))
        .await;
    assert_eq!(ack["type"], "ack", "{ack}");
    ws
}

/// Posts `content` over REST: answers the message, after checking it was answered at once.
async fn post_fast(app: &TestApp, user: &User, room: Uuid, content: &str) -> Value {
    let started = Instant::now();
    let a = app
        .post_message(room, &user.token, json!({"content": content}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{content}: {:?}",
        started.elapsed()
    );
    assert!(
        a.body.get("link_preview").is_none(),
        "no preview in the ack: {}",
        a.body
    );
    a.body
}

/// The direct room of `a` and `b`.
async fn direct(app: &TestApp, a: &User, b: &User) -> Uuid {
    let r = app
        .post("/api/chat/rooms/direct", &a.token, json!({"user_id": b.id}))
        .await;
    assert!(r.status.is_success(), "{:?}", r.body);
    r.body["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("room id")
}

#[actix_rt::test]
async fn a_page_on_loopback_previews_after_the_ack_once_per_url() {
    let (site, app, ann, bob, room) = scene().await;
    let mut ws = joined(&app, &bob, room).await;
    let sent = post_fast(
        &app,
        &ann,
        room,
        &format!("read **this** {} first", site.url("/page")),
    )
    .await;
    let created = ws.recv_type("new_message").await;
    assert!(created["message"].get("link_preview").is_none());
    let updated = ws.recv_type("message_updated").await;
    assert_eq!(updated["message"]["id"], sent["id"]);
    assert!(updated["seq"].as_i64() > created["seq"].as_i64());
    assert!(updated["message"]["edited_at"].is_null(), "not an edit");
    let p = &updated["message"]["link_preview"];
    assert_eq!(p["url"], site.url("/page"));
    assert_eq!(p["title"], "Course & syllabus");
    assert_eq!(p["description"], "Week 1: <b>tags</b> stay text");
    assert_eq!(p["site_name"], "CS 101");
    let image = p["image"].as_str().expect("an image");
    let b64 = image
        .strip_prefix("data:image/jpeg;base64,")
        .expect("a JPEG data URL");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("base64");
    let img = image::load_from_memory(&bytes).expect("decodes");
    assert_eq!(
        (img.width(), img.height()),
        (160, 80),
        "re-encoded to the preview size"
    );
    // History carries it too.
    let h = app.get(&messages_path(room), &bob.token).await;
    let m = h.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == sent["id"])
        .cloned()
        .unwrap();
    assert_eq!(m["link_preview"]["title"], "Course & syllabus");
    // The same URL again: previewed from the cache, the page is fetched once.
    post_fast(&app, &ann, room, &site.url("/page")).await;
    let again = ws.recv_type("message_updated").await;
    assert_eq!(
        again["message"]["link_preview"]["title"],
        "Course & syllabus"
    );
    assert_eq!(site.hits("/page"), 1);
    assert_eq!(site.hits("/card.png"), 1);
    assert_eq!(
        metric_reaching(&app, "confab_link_previews_total", 2).await,
        2
    );
    // Deleting the message takes its preview out of history and out of the event log.
    let gone = app
        .delete(
            &format!("{}/{}", messages_path(room), sent["id"].as_str().unwrap()),
            &ann.token,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{:?}", gone.body);
    let h = app.get(&messages_path(room), &bob.token).await;
    let m = h.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == sent["id"])
        .cloned()
        .unwrap();
    assert!(m.get("link_preview").is_none(), "{m}");
    assert_eq!(
        logged_previews(&app, room).await,
        1,
        "only the second message's stays"
    );
}

/// How many stored events of `room` still carry a preview.
async fn logged_previews(app: &TestApp, room: Uuid) -> i64 {
    use diesel_async::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.db.conn().await;
    let c: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM room_events WHERE room_id = $1 AND payload LIKE '%Course &%'",
    )
    .bind::<diesel::sql_types::Uuid, _>(room)
    .get_result(&mut conn)
    .await
    .expect("count events");
    c.n
}

#[actix_rt::test]
async fn private_addresses_redirects_to_them_huge_slow_and_plain_pages_do_not_preview() {
    let (site, app, ann, bob, room) = scene().await;
    let mut ws = joined(&app, &bob, room).await;
    let port = site.port;
    let links = [
        format!("http://localhost:{port}/page"),
        "https://10.1.2.3/".to_owned(),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        "https://[::1]/".to_owned(),
        site.url("/to-private"),
        site.url("/to-metadata"),
        site.url("/big"),
        site.url("/big-unsized"),
        site.url("/slow"),
        site.url("/plain"),
    ];
    for link in &links {
        post_fast(&app, &ann, room, &format!("see {link}")).await;
    }
    // Longer than the fetch timeout: nothing but the messages themselves arrives.
    let frames = ws.drain(2500).await;
    let kinds: Vec<&str> = frames.iter().filter_map(|f| f["type"].as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "new_message").count(),
        links.len(),
        "{kinds:?}"
    );
    assert!(!kinds.contains(&"message_updated"), "{kinds:?}");
    assert_eq!(
        metric_reaching(
            &app,
            "confab_link_previews_refused_total",
            links.len() as u64
        )
        .await,
        links.len() as u64
    );
    assert_eq!(
        site.hits("/page"),
        0,
        "the redirect to a private name was not followed"
    );
    assert_eq!(site.hits("/slow"), 1);
    let h = app.get(&messages_path(room), &bob.token).await;
    for m in h.body["results"].as_array().unwrap() {
        assert!(m.get("link_preview").is_none(), "{m}");
    }
    // Refusals are cached too: the same slow link is not fetched again.
    post_fast(&app, &ann, room, &site.url("/slow")).await;
    ws.drain(300).await;
    assert_eq!(site.hits("/slow"), 1);
}

#[actix_rt::test]
async fn bracketed_links_code_direct_rooms_and_tenants_that_turned_them_off_get_none() {
    let (site, app, ann, bob, group) = scene().await;
    let mut ws = joined(&app, &bob, group).await;
    for text in [
        format!("quiet <{}>", site.url("/page")),
        format!("`{}`", site.url("/page")),
        format!("```\n{}\n```", site.url("/page")),
    ] {
        post_fast(&app, &ann, group, &text).await;
    }
    let dm = direct(&app, &ann, &bob).await;
    let mut dws = joined(&app, &bob, dm).await;
    post_fast(&app, &ann, dm, &site.url("/page")).await;
    let seen: Vec<Value> = ws
        .drain(1500)
        .await
        .into_iter()
        .chain(dws.drain(200).await)
        .collect();
    assert!(
        seen.iter().all(|f| f["type"] != "message_updated"),
        "{seen:?}"
    );
    assert_eq!(site.hits("/page"), 0);

    // A tenant may allow them in direct rooms; another may turn them off.
    let tenant = ann.tenant_id;
    let allowing = previewing_app(move |s| s.link_previews.direct_tenants = vec![tenant]).await;
    let (a2, b2) = (
        allowing.register("ann").await,
        allowing.register("bob").await,
    );
    let d2 = direct(&allowing, &a2, &b2).await;
    let mut ws2 = joined(&allowing, &b2, d2).await;
    post_fast(&allowing, &a2, d2, &site.url("/page2")).await;
    assert_eq!(
        ws2.recv_type("message_updated").await["message"]["link_preview"]["site_name"],
        "CS 101"
    );
    let off = previewing_app(move |s| s.link_previews.off_tenants = vec![tenant]).await;
    let (a3, b3) = (off.register("ann").await, off.register("bob").await);
    let g3 = off.room(&a3, "group", &[&b3]).await;
    let mut ws3 = joined(&off, &b3, g3).await;
    post_fast(&off, &a3, g3, &site.url("/page")).await;
    assert!(ws3
        .drain(1500)
        .await
        .iter()
        .all(|f| f["type"] != "message_updated"));
    assert_eq!(site.hits("/page"), 0);
}

#[actix_rt::test]
async fn seed_003s_socket_gets_no_edit_for_a_preview() {
    let (site, app, ann, bob, room) = scene().await;
    let mut native = joined(&app, &ann, room).await;
    let path = format!("/ws/chat/{room}/?dialect=wasgo");
    let mut wasgo = app
        .ws_dialect(&path, Some(&bob.token))
        .await
        .expect("socket");
    tokio::time::sleep(Duration::from_millis(150)).await;
    post_fast(&app, &ann, room, &site.url("/page")).await;
    native.recv_type("message_updated").await;
    let seen = wasgo.drain(300).await;
    let kinds: Vec<&str> = seen.iter().filter_map(|f| f["type"].as_str()).collect();
    assert!(kinds.contains(&"new_message"), "{kinds:?}");
    assert!(!kinds.contains(&"message_edited"), "{kinds:?}");
}

#[test]
fn link_preview_settings_are_checked_at_start() {
    let dir = manifest_dir().join("config");
    let load = |key: &str, value: &str| {
        confab::config::Settings::load_with(
            &dir,
            &[
                ("database.url", "postgres://x/y"),
                ("auth.jwt_secret", "0123456789abcdef0123456789abcdef"),
                (key, value),
            ],
        )
    };
    assert!(load("link_previews.timeout_ms", "2000").is_ok());
    for (key, value) in [
        ("link_previews.timeout_ms", "5"),
        ("link_previews.max_parallel", "0"),
        ("link_previews.max_bytes", "10"),
        ("link_previews.max_redirects", "50"),
    ] {
        let e = load(key, value)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("link_previews"), "{key}: {e}");
    }
}
