//! Blocks (private to the blocker: the blocked user cannot reach them directly and learns nothing
//! else) and reports (members file, admins of the same tenant resolve).

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

fn block_path(user: Uuid) -> String {
    format!("/api/chat/users/me/blocks/{user}")
}

async fn direct_rooms(app: &TestApp) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.db.conn().await;
    let c: Count = diesel::sql_query("SELECT count(*) AS n FROM rooms WHERE room_type = 'direct'")
        .get_result(&mut conn)
        .await
        .unwrap();
    c.n
}

/// What `who` can learn of `other` without a direct room: their profile and presence.
async fn seen_by(app: &TestApp, who: &User, other: &User) -> Vec<(StatusCode, Value)> {
    let profile = app
        .get(&format!("/api/chat/users/{}", other.id), &who.token)
        .await;
    let presence = app
        .get(
            &format!("/api/chat/presence?user_ids={}", other.id),
            &who.token,
        )
        .await;
    let strip = |mut v: Value| {
        // The ids and names differ by user; what matters is the shape and the statuses.
        for k in ["id", "user_id", "username", "display_name", "last_seen"] {
            if let Some(o) = v.as_object_mut() {
                o.remove(k);
            }
        }
        v
    };
    let presence_rows: Vec<Value> = presence.body["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(strip)
        .collect();
    vec![
        (profile.status, strip(profile.body)),
        (presence.status, Value::Array(presence_rows)),
    ]
}

#[actix_rt::test]
async fn a_blocked_user_cannot_open_or_write_in_a_direct_room_and_is_not_told_why() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let dave = app.register("dave").await;
    let mut ann_ws = app.ws(&ann.token).await;
    // Dave is online too, so the two look alike but for the block.
    let _dave_ws = app.ws(&dave.token).await;
    assert_eq!(
        app.put(&block_path(bob.id), &ann.token, json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    // Blocking twice is the same.
    assert_eq!(
        app.put(&block_path(bob.id), &ann.token, json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let told = ann_ws.recv_type("blocks").await;
    assert_eq!(told["user_ids"], json!([bob.id]));

    let before = direct_rooms(&app).await;
    let refused = app
        .post(
            "/api/chat/rooms/direct",
            &bob.token,
            json!({"user_id": ann.id}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{:?}", refused.body);
    assert_eq!(
        refused.body["error"]["message"],
        "you cannot message this user"
    );
    assert_eq!(direct_rooms(&app).await, before, "a room was created");

    // Ann may still open one; Bob cannot write in it (nothing stored).
    let dm = app
        .post(
            "/api/chat/rooms/direct",
            &ann.token,
            json!({"user_id": bob.id}),
        )
        .await;
    assert_eq!(dm.status, StatusCode::CREATED, "{:?}", dm.body);
    let dm: Uuid = dm.body["id"].as_str().unwrap().parse().unwrap();
    let sent = app
        .post_message(dm, &bob.token, json!({"content": "hi"}))
        .await;
    assert_eq!(sent.status, StatusCode::FORBIDDEN);
    assert_eq!(
        sent.body["error"]["message"],
        "you cannot message this user"
    );
    let mut bob_ws = app.ws(&bob.token).await;
    let frame = bob_ws.request(send_frame(dm, "hi again")).await;
    assert_eq!(frame["type"], "error", "{frame}");
    let history = app.get(&messages_path(dm), &ann.token).await;
    assert_eq!(history.body["results"], json!([]));
    // Existing room, opened again by Bob: the same 403.
    let again = app
        .post(
            "/api/chat/rooms/direct",
            &bob.token,
            json!({"user_id": ann.id}),
        )
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);

    // Nothing else tells Bob: Ann looks to him as Dave (who blocks nobody) does; his own block
    // list is empty; a fresh socket of his carries no `blocks` frame.
    assert_eq!(
        seen_by(&app, &bob, &ann).await,
        seen_by(&app, &bob, &dave).await
    );
    let mine = app.get("/api/chat/users/me/blocks", &bob.token).await;
    assert_eq!(mine.body["results"], json!([]));
    let mut fresh = app.ws(&bob.token).await;
    assert!(fresh.drain(300).await.iter().all(|f| f["type"] != "blocks"));

    // Ann's list and her next connection know.
    let list = app.get("/api/chat/users/me/blocks", &ann.token).await;
    assert_eq!(list.body["results"][0]["user"]["id"], bob.id.to_string());
    let mut next = app.ws(&ann.token).await;
    assert_eq!(next.recv().await["type"], "blocks");

    // Unblocked: Bob writes again.
    assert_eq!(
        app.delete(&block_path(bob.id), &ann.token).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(ann_ws.recv_type("blocks").await["user_ids"], json!([]));
    let sent = app
        .post_message(dm, &bob.token, json!({"content": "hello"}))
        .await;
    assert_eq!(sent.status, StatusCode::CREATED);
}

#[actix_rt::test]
async fn in_a_group_a_blocked_users_mentions_do_not_reach_me() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app.room(&ann, "group", &[&bob, &carol]).await;
    app.put(&block_path(bob.id), &ann.token, json!({})).await;
    let mut a = app.ws(&ann.token).await;
    let mut c = app.ws(&carol.token).await;
    a.request(json!({"type": "join_room", "room_id": room}))
        .await;
    let sent = app
        .post_message(room, &bob.token, json!({"content": "@ann @carol look"}))
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    // Stored and delivered as usual (the message names both); only Carol is told of a mention.
    assert_eq!(sent.body["mentions"].as_array().unwrap().len(), 2);
    let got = a.recv_type("new_message").await;
    assert_eq!(got["message"]["content"], "@ann @carol look");
    assert_eq!(c.recv_type("mention").await["room_id"], room.to_string());
    let frames = a.drain(400).await;
    assert!(frames.iter().all(|f| f["type"] != "mention"), "{frames:?}");
    // Nor is it counted as a mention in my room list (Carol's count has it).
    let mine = app.get("/api/chat/rooms", &ann.token).await;
    assert_eq!(
        mine.body["results"][0]["unread_count"], 1,
        "{:?}",
        mine.body
    );
    assert_eq!(mine.body["results"][0]["mention_count"], 0);
    let hers = app.get("/api/chat/rooms", &carol.token).await;
    assert_eq!(hers.body["results"][0]["mention_count"], 1);
}

#[actix_rt::test]
async fn blocks_refuse_wrong_unauthorized_and_other_tenant_users() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let outsider = Uuid::new_v4();
    let other = app.platform_token(outsider, Uuid::new_v4(), "Other", Role::User);
    // The outsider exists (in their own tenant) once they called.
    app.get("/api/chat/users/me", &other).await;
    for (path, code) in [
        (block_path(ann.id), StatusCode::CONFLICT),
        (block_path(outsider), StatusCode::NOT_FOUND),
        (block_path(Uuid::new_v4()), StatusCode::NOT_FOUND),
        (
            "/api/chat/users/me/blocks/nope".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let a = app.put(&path, &ann.token, json!({})).await;
        assert_eq!(a.status, code, "PUT {path}: {:?}", a.body);
        let a = app.delete(&path, &ann.token).await;
        assert_eq!(a.status, code, "DELETE {path}: {:?}", a.body);
    }
    let anon = app.send("PUT", &block_path(ann.id), None, None).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    let anon = app
        .send("GET", "/api/chat/users/me/blocks", None, None)
        .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
}

fn report_path(room: Uuid, message: Uuid) -> String {
    format!("/api/chat/rooms/{room}/messages/{message}/report")
}

#[actix_rt::test]
async fn members_report_and_admins_of_the_tenant_resolve() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let eve = app.register("eve").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let rude = app
        .post_message(room, &bob.token, json!({"content": "rude"}))
        .await;
    let rude: Uuid = rude.body["id"].as_str().unwrap().parse().unwrap();
    let path = report_path(room, rude);

    let filed = app
        .post(&path, &ann.token, json!({"reason": "insulting"}))
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{:?}", filed.body);
    assert_eq!(filed.body["status"], "open");
    let twice = app
        .post(&path, &ann.token, json!({"reason": "again"}))
        .await;
    assert_eq!(twice.status, StatusCode::OK);
    assert_eq!(twice.body["id"], filed.body["id"]);
    // Wrong, too large, unauthorized, not a member, another tenant.
    let other = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Other", Role::Admin);
    for (token, body, code) in [
        (
            Some(&ann.token),
            json!({"reason": ""}),
            StatusCode::BAD_REQUEST,
        ),
        (Some(&ann.token), json!({}), StatusCode::BAD_REQUEST),
        (
            Some(&ann.token),
            json!({"reason": "x".repeat(1001)}),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (None, json!({"reason": "r"}), StatusCode::UNAUTHORIZED),
        (
            Some(&eve.token),
            json!({"reason": "r"}),
            StatusCode::NOT_FOUND,
        ),
        (Some(&other), json!({"reason": "r"}), StatusCode::NOT_FOUND),
    ] {
        let a = app
            .send("POST", &path, token.map(|t| t.as_str()), Some(body.clone()))
            .await;
        assert_eq!(a.status, code, "{body}: {:?}", a.body);
    }
    let unknown = app
        .post(
            &report_path(room, Uuid::new_v4()),
            &ann.token,
            json!({"reason": "r"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let admin = app.platform_token(Uuid::new_v4(), DEFAULT_TENANT, "Admin", Role::Admin);
    let list = app.get("/api/admin/reports?status=open", &admin).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let rows = list.body["results"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["message"]["content"], "rude");
    assert_eq!(rows[0]["reporter_id"], ann.id.to_string());
    // Another tenant's admin sees none and resolves none; a member lists none.
    let theirs = app.get("/api/admin/reports", &other).await;
    assert_eq!(theirs.body["results"], json!([]));
    assert_eq!(
        app.get("/api/admin/reports", &ann.token).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/admin/reports?status=bogus", &admin)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let id = filed.body["id"].as_str().unwrap();
    let resolve = format!("/api/admin/reports/{id}/resolve");
    let a = app
        .post(&resolve, &other, json!({"action": "dismiss"}))
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = app.post(&resolve, &admin, json!({"action": "shout"})).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = app
        .post(&resolve, &ann.token, json!({"action": "dismiss"}))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    let done = app
        .post(&resolve, &admin, json!({"action": "delete_message"}))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.body["status"], "message_deleted");
    let msg = app
        .get(&format!("{}/{rude}", messages_path(room)), &ann.token)
        .await;
    assert_eq!(msg.body["is_deleted"], true);
    let again = app
        .post(&resolve, &admin, json!({"action": "dismiss"}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // A second report, resolved by banning the sender.
    let worse = app
        .post_message(room, &bob.token, json!({"content": "worse"}))
        .await;
    let worse: Uuid = worse.body["id"].as_str().unwrap().parse().unwrap();
    let r2 = app
        .post(
            &report_path(room, worse),
            &ann.token,
            json!({"reason": "spam"}),
        )
        .await;
    let resolve2 = format!(
        "/api/admin/reports/{}/resolve",
        r2.body["id"].as_str().unwrap()
    );
    let banned = app
        .post(&resolve2, &admin, json!({"action": "ban_user"}))
        .await;
    assert_eq!(banned.status, StatusCode::OK, "{:?}", banned.body);
    assert_eq!(
        app.get("/api/chat/users/me", &bob.token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let log = app
        .get("/api/admin/audit?action=report.resolve", &admin)
        .await;
    assert_eq!(log.body["results"].as_array().unwrap().len(), 2);
    let bans = app.get("/api/admin/audit?action=user.ban", &admin).await;
    assert_eq!(bans.body["results"][0]["target_id"], bob.id.to_string());
}

#[actix_rt::test]
async fn a_rooms_moderators_see_its_open_reports() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let said = app
        .post_message(room, &ann.token, json!({"content": "hm"}))
        .await;
    let said: Uuid = said.body["id"].as_str().unwrap().parse().unwrap();
    let filed = app
        .post(
            &report_path(room, said),
            &bob.token,
            json!({"reason": "off topic"}),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED);
    let path = format!("/api/chat/rooms/{room}/reports");
    let seen = app.get(&path, &ann.token).await;
    assert_eq!(seen.status, StatusCode::OK, "{:?}", seen.body);
    assert_eq!(seen.body["results"][0]["reason"], "off topic");
    assert_eq!(seen.body["results"][0]["message"]["content"], "hm");
    // A member, an outsider, another tenant, nobody: not theirs to see.
    assert_eq!(
        app.get(&path, &bob.token).await.status,
        StatusCode::FORBIDDEN
    );
    let eve = app.register("eve").await;
    assert_eq!(
        app.get(&path, &eve.token).await.status,
        StatusCode::NOT_FOUND
    );
    let other = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Other", Role::Admin);
    assert_eq!(app.get(&path, &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.send("GET", &path, None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let bad = app.get("/api/chat/rooms/nope/reports", &ann.token).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
