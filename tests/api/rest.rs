//! The REST API: rooms, members, messages, reads; who may do what; paging; bad input.

use std::collections::HashSet;

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;
use crate::sql::snapshot;

struct World {
    app: TestApp,
    owner: User,
    member: User,
    outsider: User,
    foreign: String,
    room: Uuid,
    message: String,
    owners_message: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let member = app.register("member").await;
    let outsider = app.register("outsider").await;
    let foreign = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Foreigner", Role::User);
    let room = app.room(&owner, "group", &[&member]).await;
    let m = app
        .post(
            &messages_path(room),
            &member.token,
            json!({"content": "member says"}),
        )
        .await;
    assert_eq!(m.status, StatusCode::CREATED, "{:?}", m.body);
    let o = app
        .post(
            &messages_path(room),
            &owner.token,
            json!({"content": "owner says"}),
        )
        .await;
    app.post(
        &format!(
            "/api/chat/rooms/{room}/messages/{}/reactions",
            o.body["id"].as_str().unwrap()
        ),
        &owner.token,
        json!({"emoji": "👍"}),
    )
    .await;
    World {
        message: m.body["id"].as_str().unwrap().to_owned(),
        owners_message: o.body["id"].as_str().unwrap().to_owned(),
        app,
        owner,
        member,
        outsider,
        foreign,
        room,
    }
}

#[actix_rt::test]
async fn outsiders_and_other_tenants_get_404_and_members_without_the_role_get_403_and_nothing_changes(
) {
    let w = world().await;
    let (app, room, m, om) = (&w.app, w.room, &w.message, &w.owners_message);
    let before = snapshot(app).await;
    let owner = w.owner.id;
    // (method, path, body) of every endpoint that takes a room or message id.
    let any_id = vec![
        ("GET", format!("/api/chat/rooms/{room}"), None),
        (
            "PATCH",
            format!("/api/chat/rooms/{room}"),
            Some(json!({"name": "renamed"})),
        ),
        ("DELETE", format!("/api/chat/rooms/{room}"), None),
        ("POST", format!("/api/chat/rooms/{room}/join"), None),
        ("POST", format!("/api/chat/rooms/{room}/leave"), None),
        ("POST", format!("/api/chat/rooms/{room}/archive"), None),
        ("POST", format!("/api/chat/rooms/{room}/unarchive"), None),
        (
            "POST",
            format!("/api/chat/rooms/{room}/mark_read"),
            Some(json!({})),
        ),
        ("GET", format!("/api/chat/rooms/{room}/typing"), None),
        ("GET", format!("/api/chat/rooms/{room}/members"), None),
        (
            "POST",
            format!("/api/chat/rooms/{room}/members"),
            Some(json!({"user_id": w.outsider.id})),
        ),
        (
            "PATCH",
            format!("/api/chat/rooms/{room}/members/{owner}"),
            Some(json!({"role": "member"})),
        ),
        (
            "DELETE",
            format!("/api/chat/rooms/{room}/members/{owner}"),
            None,
        ),
        ("GET", messages_path(room), None),
        (
            "POST",
            messages_path(room),
            Some(json!({"content": "intruder"})),
        ),
        ("GET", format!("/api/chat/rooms/{room}/messages/{m}"), None),
        (
            "PATCH",
            format!("/api/chat/rooms/{room}/messages/{m}"),
            Some(json!({"content": "changed"})),
        ),
        (
            "DELETE",
            format!("/api/chat/rooms/{room}/messages/{m}"),
            None,
        ),
        (
            "GET",
            format!("/api/chat/rooms/{room}/messages/{m}/thread"),
            None,
        ),
        (
            "GET",
            format!("/api/chat/rooms/{room}/messages/{m}/history"),
            None,
        ),
        (
            "GET",
            format!("/api/chat/rooms/{room}/messages/{m}/read_by"),
            None,
        ),
        (
            "GET",
            format!("/api/chat/rooms/{room}/messages/{m}/reactions"),
            None,
        ),
        (
            "POST",
            format!("/api/chat/rooms/{room}/messages/{m}/reactions"),
            Some(json!({"emoji": "🔥"})),
        ),
        (
            "DELETE",
            format!(
                "/api/chat/rooms/{room}/messages/{om}/reactions/{}",
                pct("👍")
            ),
            None,
        ),
    ];
    for token in [&w.outsider.token, &w.foreign] {
        for (method, path, body) in &any_id {
            let a = app.send(method, path, Some(token), body.clone()).await;
            assert_eq!(
                a.status,
                StatusCode::NOT_FOUND,
                "{method} {path}: {:?}",
                a.body
            );
            assert_eq!(
                a.body
                    .as_object()
                    .map(|o| o.keys().cloned().collect::<Vec<_>>()),
                Some(vec!["error".to_owned()]),
                "no data"
            );
        }
    }
    // A plain member lacks the role for these.
    let needs_role = vec![
        (
            "PATCH",
            format!("/api/chat/rooms/{room}"),
            Some(json!({"name": "renamed"})),
        ),
        ("DELETE", format!("/api/chat/rooms/{room}"), None),
        (
            "POST",
            format!("/api/chat/rooms/{room}/members"),
            Some(json!({"user_id": w.outsider.id})),
        ),
        (
            "PATCH",
            format!("/api/chat/rooms/{room}/members/{owner}"),
            Some(json!({"role": "member"})),
        ),
        (
            "DELETE",
            format!("/api/chat/rooms/{room}/members/{owner}"),
            None,
        ),
        (
            "PATCH",
            format!("/api/chat/rooms/{room}/messages/{om}"),
            Some(json!({"content": "changed"})),
        ),
        (
            "DELETE",
            format!("/api/chat/rooms/{room}/messages/{om}"),
            None,
        ),
        (
            "GET",
            format!("/api/chat/rooms/{room}/messages/{om}/history"),
            None,
        ),
    ];
    for (method, path, body) in &needs_role {
        let a = app
            .send(method, path, Some(&w.member.token), body.clone())
            .await;
        assert_eq!(
            a.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {:?}",
            a.body
        );
        assert_eq!(a.error_code(), "forbidden");
    }
    // Admin endpoints refuse user tokens, and other tenants' ids do not exist for a service token.
    let svc_other = app.platform_token(
        Uuid::new_v4(),
        Uuid::new_v4(),
        "other module",
        Role::Service,
    );
    for (method, path, body) in [
        (
            "POST",
            format!("/api/admin/rooms/{room}/system_message"),
            Some(json!({"content": "x"})),
        ),
        ("DELETE", format!("/api/admin/messages/{m}"), None),
        (
            "POST",
            format!("/api/admin/users/{}/ban", w.member.id),
            None,
        ),
    ] {
        let a = app
            .send(method, &path, Some(&w.member.token), body.clone())
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{method} {path}");
        let a = app.send(method, &path, Some(&svc_other), body).await;
        assert_eq!(
            a.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {:?}",
            a.body
        );
    }
    assert_eq!(
        snapshot(app).await,
        before,
        "a refused request changed something"
    );
}

#[actix_rt::test]
async fn every_room_and_member_endpoint_works_for_those_allowed() {
    let w = world().await;
    let (app, room) = (&w.app, w.room);
    let t = &w.owner.token;
    let got = app.get(&format!("/api/chat/rooms/{room}"), t).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["my_role"], "owner");
    assert_eq!(got.body["member_count"], 2);
    let p = app
        .patch(
            &format!("/api/chat/rooms/{room}"),
            t,
            json!({"name": "Course 101", "description": "welcome", "max_participants": 50}),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);
    assert_eq!(p.body["name"], "Course 101");
    assert_eq!(p.body["max_participants"], 50);
    let add = app
        .post(
            &format!("/api/chat/rooms/{room}/members"),
            t,
            json!({"user_id": w.outsider.id, "role": "moderator"}),
        )
        .await;
    assert_eq!(add.status, StatusCode::CREATED, "{:?}", add.body);
    assert_eq!(add.body["role"], "moderator");
    let again = app
        .post(
            &format!("/api/chat/rooms/{room}/members"),
            t,
            json!({"user_id": w.outsider.id}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let list = app
        .get(&format!("/api/chat/rooms/{room}/members"), &w.member.token)
        .await;
    assert_eq!(list.body["results"].as_array().unwrap().len(), 3);
    // A moderator may not grant admin (above their own role).
    let up = app
        .patch(
            &format!("/api/chat/rooms/{room}/members/{}", w.member.id),
            &w.outsider.token,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(up.status, StatusCode::FORBIDDEN);
    let up = app
        .patch(
            &format!("/api/chat/rooms/{room}/members/{}", w.member.id),
            t,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{:?}", up.body);
    assert_eq!(up.body["role"], "admin");
    // The same role again changes nothing and answers the member as they are.
    let same = app
        .patch(
            &format!("/api/chat/rooms/{room}/members/{}", w.member.id),
            t,
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "{:?}", same.body);
    assert_eq!(same.body["role"], "admin");
    assert_eq!(same.body["user"]["id"], w.member.id.to_string());
    // The last owner can neither leave nor step down without handing over.
    let leave = app
        .post(&format!("/api/chat/rooms/{room}/leave"), t, json!({}))
        .await;
    assert_eq!(leave.status, StatusCode::CONFLICT);
    let down = app
        .patch(
            &format!("/api/chat/rooms/{room}/members/{}", w.owner.id),
            t,
            json!({"role": "member"}),
        )
        .await;
    assert_eq!(down.status, StatusCode::CONFLICT);
    // The admin removes the moderator; the moderator's history access ends.
    let rm = app
        .delete(
            &format!("/api/chat/rooms/{room}/members/{}", w.outsider.id),
            &w.member.token,
        )
        .await;
    assert_eq!(rm.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&messages_path(room), &w.outsider.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Archive is per member.
    assert_eq!(
        app.post(
            &format!("/api/chat/rooms/{room}/archive"),
            &w.member.token,
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );
    let mine = app
        .get("/api/chat/rooms?archived=true", &w.member.token)
        .await;
    assert_eq!(mine.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get("/api/chat/rooms?archived=true", t).await.body["results"],
        json!([])
    );
    assert_eq!(
        app.post(
            &format!("/api/chat/rooms/{room}/unarchive"),
            &w.member.token,
            json!({})
        )
        .await
        .status,
        StatusCode::OK
    );
    // Leave (admin may), then deactivate (owner).
    assert_eq!(
        app.post(
            &format!("/api/chat/rooms/{room}/leave"),
            &w.member.token,
            json!({})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&format!("/api/chat/rooms/{room}"), t)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let gone = app.get(&format!("/api/chat/rooms/{room}"), t).await;
    assert_eq!(gone.body["is_active"], false);
    let post = app
        .post(&messages_path(room), t, json!({"content": "anyone?"}))
        .await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
}

#[actix_rt::test]
async fn public_rooms_are_joined_and_full_rooms_refuse() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let cat = app.register("cat").await;
    let r = app
        .post(
            "/api/chat/rooms",
            &ann.token,
            json!({"name": "Lobby", "room_type": "public", "max_participants": 2}),
        )
        .await;
    let room = r.body["id"].as_str().unwrap().to_owned();
    let browse = app.get("/api/chat/rooms/public", &bob.token).await;
    assert_eq!(browse.body["results"][0]["id"], room.as_str());
    // Not a member yet: reading is refused with 403 (the room is public, so it may be known).
    assert_eq!(
        app.post(&messages_path(&room), &bob.token, json!({"content": "hi"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let j = app
        .post(
            &format!("/api/chat/rooms/{room}/join"),
            &bob.token,
            json!({}),
        )
        .await;
    assert_eq!(j.status, StatusCode::OK, "{:?}", j.body);
    assert_eq!(j.body["my_role"], "member");
    let full = app
        .post(
            &format!("/api/chat/rooms/{room}/join"),
            &cat.token,
            json!({}),
        )
        .await;
    assert_eq!(full.status, StatusCode::CONFLICT);
    let twice = app
        .post(
            &format!("/api/chat/rooms/{room}/join"),
            &bob.token,
            json!({}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    // Group rooms cannot be joined.
    let g = app.room(&ann, "group", &[]).await;
    assert_eq!(
        app.post(&format!("/api/chat/rooms/{g}/join"), &cat.token, json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[actix_rt::test]
async fn two_concurrent_direct_and_by_ref_requests_make_one_room_each() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let (a, b) = futures_util::join!(
        app.post(
            "/api/chat/rooms/direct",
            &ann.token,
            json!({"user_id": bob.id})
        ),
        app.post(
            "/api/chat/rooms/direct",
            &bob.token,
            json!({"user_id": ann.id})
        )
    );
    assert!(
        a.status.is_success() && b.status.is_success(),
        "{:?} {:?}",
        a.body,
        b.body
    );
    assert_eq!(a.body["id"], b.body["id"]);
    assert_eq!(a.body["room_type"], "direct");
    assert_eq!(a.body["other_user"]["id"], bob.id.to_string());
    assert_eq!(b.body["other_user"]["id"], ann.id.to_string());
    let again = app
        .post(
            "/api/chat/rooms/direct",
            &ann.token,
            json!({"user_id": bob.id}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], a.body["id"]);
    assert_eq!(
        app.post(
            "/api/chat/rooms/direct",
            &ann.token,
            json!({"user_id": ann.id})
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    let dr = a.body["id"].as_str().unwrap();
    assert_eq!(
        app.post(
            &format!("/api/chat/rooms/{dr}/leave"),
            &ann.token,
            json!({})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    let svc = app.platform_token(
        Uuid::new_v4(),
        DEFAULT_TENANT,
        "Course module",
        Role::Service,
    );
    let body =
        json!({"name": "Course 42", "room_type": "group", "participant_ids": [ann.id, bob.id]});
    let (x, y) = futures_util::join!(
        app.put("/api/chat/rooms/by-ref/course/42", &svc, body.clone()),
        app.put("/api/chat/rooms/by-ref/course/42", &svc, body.clone())
    );
    assert!(
        x.status.is_success() && y.status.is_success(),
        "{:?} {:?}",
        x.body,
        y.body
    );
    assert_eq!(x.body["id"], y.body["id"]);
    assert_eq!(
        x.body["external_ref"],
        json!({"kind": "course", "id": "42"})
    );
    let got = app
        .get("/api/chat/rooms/by-ref/course/42", &ann.token)
        .await;
    assert_eq!(got.body["id"], x.body["id"]);
    assert_eq!(
        app.put("/api/chat/rooms/by-ref/course/43", &ann.token, body)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/chat/rooms/by-ref/Course!/42", &ann.token)
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
}

#[actix_rt::test]
async fn two_hundred_fifty_messages_page_back_without_gap_or_duplicate() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    for i in 0..250 {
        let r = app
            .post(
                &messages_path(room),
                &ann.token,
                json!({"content": format!("n{i}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let mut seen: Vec<i64> = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let q = before
            .map(|b| format!("?before_seq={b}&limit=50"))
            .unwrap_or_else(|| "?limit=50".into());
        let page = app
            .get(&format!("/api/chat/rooms/{room}/messages{q}"), &ann.token)
            .await;
        let rs: Vec<i64> = page.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect();
        assert!(rs.windows(2).all(|w| w[0] < w[1]), "oldest first");
        seen.splice(0..0, rs.iter().copied());
        before = rs.first().copied();
        if page.body["has_more"] == false {
            break;
        }
        assert_eq!(rs.len(), 50);
    }
    assert_eq!(seen, (1..=250).collect::<Vec<_>>());
    let mut forward: Vec<i64> = Vec::new();
    let mut after = 0;
    loop {
        let page = app
            .get(
                &format!("/api/chat/rooms/{room}/messages?after_seq={after}&limit=50"),
                &ann.token,
            )
            .await;
        let rs: Vec<i64> = page.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect();
        forward.extend(&rs);
        after = *rs.last().unwrap();
        if page.body["has_more"] == false {
            break;
        }
    }
    assert_eq!(forward, seen);
    let capped = app
        .get(
            &format!("/api/chat/rooms/{room}/messages?limit=1000"),
            &ann.token,
        )
        .await;
    assert_eq!(capped.body["results"].as_array().unwrap().len(), 100);
    let unique: HashSet<String> = capped.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(unique.len(), 100);
}

#[actix_rt::test]
async fn a_message_posted_over_rest_arrives_on_a_websocket_with_the_next_seq() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let mut b = app.ws(&bob.token).await;
    b.request(json!({"type": "join_room", "room_id": room}))
        .await;
    let first = app
        .post(&messages_path(room), &ann.token, json!({"content": "one"}))
        .await;
    let second = app
        .post(
            &messages_path(room),
            &ann.token,
            json!({"content": "two", "reply_to": first.body["id"]}),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{:?}", second.body);
    let f1 = b.recv_type("new_message").await;
    let f2 = b.recv_type("new_message").await;
    assert_eq!(f1["message"]["id"], first.body["id"]);
    assert_eq!(f2["seq"], f1["seq"].as_i64().unwrap() + 1);
    assert_eq!(f2["message"]["reply_to"], first.body["id"]);
    let thread = app
        .get(
            &format!(
                "/api/chat/rooms/{room}/messages/{}/thread",
                first.body["id"].as_str().unwrap()
            ),
            &bob.token,
        )
        .await;
    assert_eq!(thread.body["parent"]["reply_count"], 1);
    assert_eq!(thread.body["results"][0]["id"], second.body["id"]);
}

#[actix_rt::test]
async fn unread_counts_are_exact_after_sends_deletes_and_reads() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let r1 = app.room(&ann, "group", &[&bob]).await;
    let r2 = app.room(&ann, "group", &[&bob]).await;
    let post = |room: Uuid, who: &User, text: &str| {
        let (path, token, body) = (
            messages_path(room),
            who.token.clone(),
            json!({"content": text}),
        );
        let app = &app;
        async move { app.post(&path, &token, body).await.body }
    };
    let m1 = post(r1, &ann, "a1").await;
    post(r1, &ann, "a2 @bob").await;
    post(r1, &bob, "b1 (own: never unread)").await;
    post(r2, &ann, "c1").await;
    let counts = app.get("/api/chat/rooms/unread_counts", &bob.token).await;
    assert_eq!(counts.body["rooms"][r1.to_string()]["unread"], 2);
    assert_eq!(counts.body["rooms"][r1.to_string()]["mentions"], 1);
    assert_eq!(counts.body["rooms"][r2.to_string()]["unread"], 1);
    assert_eq!(counts.body["total"], json!({"unread": 3, "mentions": 1}));
    assert!(
        counts.body["rooms"][r1.to_string()]["last_seq"]
            .as_i64()
            .unwrap()
            >= 3
    );
    // A deleted message is not unread.
    let del = app
        .delete(
            &format!(
                "/api/chat/rooms/{r1}/messages/{}",
                m1["id"].as_str().unwrap()
            ),
            &ann.token,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let list = app.get("/api/chat/rooms", &bob.token).await;
    let row = list.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == r1.to_string())
        .unwrap()
        .clone();
    assert_eq!(row["unread_count"], 1);
    assert_eq!(row["last_message"]["content"], "b1 (own: never unread)");
    // mark_read to a seq, then to the latest.
    let mr = app
        .post(
            &format!("/api/chat/rooms/{r1}/mark_read"),
            &bob.token,
            json!({"seq": 2}),
        )
        .await;
    assert_eq!(mr.body["last_read_seq"], 2);
    assert_eq!(mr.body["unread_count"], 0, "{:?}", mr.body);
    let mr = app
        .post(
            &format!("/api/chat/rooms/{r2}/mark_read"),
            &bob.token,
            json!({}),
        )
        .await;
    assert_eq!(mr.body["unread_count"], 0);
    assert_eq!(
        app.get("/api/chat/rooms/unread_counts", &bob.token)
            .await
            .body["total"],
        json!({"unread": 0, "mentions": 0})
    );
    // read_by: bob read ann's message.
    let c1 = app
        .get(&format!("/api/chat/rooms/{r2}/messages"), &ann.token)
        .await
        .body["results"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rb = app
        .get(
            &format!("/api/chat/rooms/{r2}/messages/{c1}/read_by"),
            &ann.token,
        )
        .await;
    assert_eq!(rb.body["results"][0]["user_id"], bob.id.to_string());
}

#[actix_rt::test]
async fn edits_keep_history_and_reactions_count_per_emoji() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let room = app.room(&ann, "group", &[&bob]).await;
    let m = app
        .post(&messages_path(room), &ann.token, json!({"content": "v1"}))
        .await
        .body;
    let id = m["id"].as_str().unwrap();
    app.patch(
        &format!("/api/chat/rooms/{room}/messages/{id}"),
        &ann.token,
        json!({"content": "v2"}),
    )
    .await;
    let e = app
        .patch(
            &format!("/api/chat/rooms/{room}/messages/{id}"),
            &ann.token,
            json!({"content": "v3"}),
        )
        .await;
    assert_eq!(e.body["content"], "v3");
    let h = app
        .get(
            &format!("/api/chat/rooms/{room}/messages/{id}/history"),
            &ann.token,
        )
        .await;
    let prev: Vec<&str> = h.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["previous_content"].as_str().unwrap())
        .collect();
    assert_eq!(prev, vec!["v1", "v2"]);
    for (who, emoji) in [(&ann, "👍"), (&bob, "👍"), (&bob, "🎉")] {
        let r = app
            .post(
                &format!("/api/chat/rooms/{room}/messages/{id}/reactions"),
                &who.token,
                json!({"emoji": emoji}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    let again = app
        .post(
            &format!("/api/chat/rooms/{room}/messages/{id}/reactions"),
            &bob.token,
            json!({"emoji": "🎉"}),
        )
        .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "a repeated reaction changes nothing"
    );
    let rs = app
        .get(
            &format!("/api/chat/rooms/{room}/messages/{id}/reactions"),
            &bob.token,
        )
        .await;
    assert_eq!(
        rs.body["results"][0],
        json!({"emoji": "👍", "count": 2, "user_ids": [ann.id, bob.id]})
    );
    assert_eq!(rs.body["results"][1]["count"], 1);
    let del = app
        .delete(
            &format!(
                "/api/chat/rooms/{room}/messages/{id}/reactions/{}",
                pct("🎉")
            ),
            &bob.token,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let got = app
        .get(&format!("/api/chat/rooms/{room}/messages/{id}"), &bob.token)
        .await;
    assert_eq!(got.body["reactions"].as_array().unwrap().len(), 1);
    // A moderator deletes anyone's message; the sender edits only their own.
    assert_eq!(
        app.patch(
            &format!("/api/chat/rooms/{room}/messages/{id}"),
            &bob.token,
            json!({"content": "hijack"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    app.patch(
        &format!("/api/chat/rooms/{room}/members/{}", bob.id),
        &ann.token,
        json!({"role": "moderator"}),
    )
    .await;
    assert_eq!(
        app.delete(&format!("/api/chat/rooms/{room}/messages/{id}"), &bob.token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
}

#[actix_rt::test]
async fn the_edit_window_closes_edits_when_configured() {
    let app = spawn_app_with(|s| s.limits.edit_window_secs = 1).await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let m = app
        .post(&messages_path(room), &ann.token, json!({"content": "v1"}))
        .await
        .body;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let e = app
        .patch(
            &format!(
                "/api/chat/rooms/{room}/messages/{}",
                m["id"].as_str().unwrap()
            ),
            &ann.token,
            json!({"content": "late"}),
        )
        .await;
    assert_eq!(e.status, StatusCode::FORBIDDEN);
}

#[actix_rt::test]
async fn bad_input_is_refused_with_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let before = snapshot(&app).await;
    let msgs = messages_path(room);
    let cases: Vec<(&str, String, Value, u16, Option<&str>)> = vec![
        (
            "POST",
            msgs.clone(),
            json!({"content": 5}),
            400,
            Some("content"),
        ),
        (
            "POST",
            msgs.clone(),
            json!({"content": "x", "reply_to": "not-a-uuid"}),
            400,
            Some("reply_to"),
        ),
        (
            "POST",
            msgs.clone(),
            json!({"content": "x".repeat(4001)}),
            413,
            None,
        ),
        (
            "POST",
            msgs.clone(),
            json!({"content": ""}),
            400,
            Some("content"),
        ),
        (
            "POST",
            msgs.clone(),
            json!({"content": "x", "message_type": "hologram"}),
            400,
            Some("message_type"),
        ),
        (
            "POST",
            msgs.clone(),
            json!({"content": "here", "message_type": "location", "metadata": {"lat": 500, "lon": 0}}),
            400,
            Some("metadata"),
        ),
        (
            "POST",
            msgs.clone(),
            json!({"content": "x", "message_type": "system"}),
            403,
            None,
        ),
        (
            "POST",
            msgs.clone(),
            json!({"content": "x", "client_id": "c".repeat(65)}),
            400,
            Some("client_id"),
        ),
        (
            "POST",
            msgs.clone(),
            json!({"content": "x", "reply_to": Uuid::new_v4()}),
            404,
            Some("reply_to"),
        ),
        (
            "POST",
            msgs.clone(),
            json!({"content": "x", "attachment_id": Uuid::new_v4()}),
            404,
            None,
        ),
        (
            "POST",
            "/api/chat/rooms".into(),
            json!({"name": "", "room_type": "group"}),
            400,
            Some("name"),
        ),
        (
            "POST",
            "/api/chat/rooms".into(),
            json!({"name": "x", "room_type": "party"}),
            400,
            Some("room_type"),
        ),
        (
            "POST",
            "/api/chat/rooms".into(),
            json!({"name": "x", "room_type": "group", "participant_ids": [Uuid::new_v4()]}),
            404,
            Some("participant_ids"),
        ),
        (
            "POST",
            "/api/chat/rooms".into(),
            json!({"name": "x", "room_type": "group", "external_ref": {"kind": "Bad Kind", "id": "1"}}),
            400,
            Some("external_ref.kind"),
        ),
        (
            "POST",
            "/api/chat/rooms".into(),
            json!({"name": "x", "room_type": "group", "max_participants": "ten"}),
            400,
            Some("max_participants"),
        ),
        (
            "PATCH",
            format!("/api/chat/rooms/{room}"),
            json!({"name": "ok", "colour": "red"}),
            400,
            None,
        ),
        (
            "POST",
            format!("/api/chat/rooms/{room}/members"),
            json!({"user_id": ann.id, "role": "emperor"}),
            400,
            Some("role"),
        ),
        (
            "POST",
            format!("/api/chat/rooms/{room}/mark_read"),
            json!({"seq": -1}),
            400,
            Some("seq"),
        ),
        (
            "PUT",
            "/api/chat/presence/me".into(),
            json!({"status": "sleeping"}),
            400,
            Some("status"),
        ),
    ];
    for (method, path, body, status, field) in cases {
        let a = app
            .send(method, &path, Some(&ann.token), Some(body.clone()))
            .await;
        assert_eq!(
            a.status.as_u16(),
            status,
            "{method} {path} {body}: {:?}",
            a.body
        );
        if let Some(f) = field {
            assert_eq!(
                a.body["error"]["field"], f,
                "{method} {path} {body}: {:?}",
                a.body
            );
        }
    }
    // Ids that are not UUIDs are 400 (never 500); unknown UUIDs are 404.
    for path in [
        "/api/chat/rooms/nope",
        "/api/chat/rooms/nope/messages",
        &format!("/api/chat/rooms/{room}/messages/123"),
    ] {
        assert_eq!(
            app.get(path, &ann.token).await.status,
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
    assert_eq!(
        app.get(&format!("/api/chat/rooms/{}", Uuid::new_v4()), &ann.token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let m = app
        .post(&msgs, &ann.token, json!({"content": "fine"}))
        .await
        .body;
    let long_emoji = app
        .post(
            &format!("{msgs}/{}/reactions", m["id"].as_str().unwrap()),
            &ann.token,
            json!({"emoji": "🙂".repeat(33)}),
        )
        .await;
    assert_eq!(long_emoji.status, StatusCode::BAD_REQUEST);
    assert_eq!(long_emoji.body["error"]["field"], "emoji");
    let bad_query = app.get(&format!("{msgs}?limit=abc"), &ann.token).await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
    // Only the one good message was stored.
    assert_ne!(snapshot(&app).await, before);
    let history = app.get(&msgs, &ann.token).await;
    assert_eq!(history.body["results"].as_array().unwrap().len(), 1);
}

#[actix_rt::test]
async fn a_location_and_a_system_message_carry_their_metadata() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let room = app.room(&ann, "group", &[]).await;
    let loc = app.post(&messages_path(room), &ann.token, json!({"content": "", "message_type": "location", "metadata": {"lat": 52.52, "lon": 13.4, "label": "Berlin"}})).await;
    assert_eq!(loc.status, StatusCode::CREATED, "{:?}", loc.body);
    assert_eq!(loc.body["metadata"]["label"], "Berlin");
    let svc = app.platform_token(
        Uuid::new_v4(),
        DEFAULT_TENANT,
        "Support desk",
        Role::Service,
    );
    let sys = app
        .post(
            &format!("/api/admin/rooms/{room}/system_message"),
            &svc,
            json!({"content": "Ticket #7 opened", "metadata": {"ticket": 7}}),
        )
        .await;
    assert_eq!(sys.status, StatusCode::CREATED, "{:?}", sys.body);
    assert_eq!(sys.body["message_type"], "system");
    assert_eq!(sys.body["sender"]["display_name"], "Support desk");
}

#[actix_rt::test]
async fn presence_endpoints_answer_my_status_and_who_is_online() {
    let app = spawn_app().await;
    let ann = app.register("ann").await;
    let bob = app.register("bob").await;
    let _ws = app.ws(&ann.token).await;
    let me = app.get("/api/chat/presence/me", &ann.token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["status"], "online");
    let set = app
        .put(
            "/api/chat/presence/me",
            &ann.token,
            json!({"status": "busy"}),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(set.body["status"], "busy");
    let online = app.get("/api/chat/presence/online", &bob.token).await;
    let ids: Vec<&str> = online.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![ann.id.to_string().as_str()]);
    assert_eq!(online.body["results"][0]["status"], "busy");
    let bobs = app
        .get(
            &format!("/api/chat/presence?user_ids={},{}", ann.id, bob.id),
            &bob.token,
        )
        .await;
    assert_eq!(bobs.body["results"][1]["status"], "offline");
    // The id list is exactly the documented pattern: no spaces, no empty parts, no other forms.
    for bad in [
        format!("%20{}", ann.id),
        format!("{},", ann.id),
        format!("{},,{}", ann.id, bob.id),
        "%C2%85".to_string(),
        ann.id.simple().to_string(),
        "x".repeat(36),
    ] {
        let got = app
            .get(&format!("/api/chat/presence?user_ids={bad}"), &bob.token)
            .await;
        assert_eq!(got.status, StatusCode::BAD_REQUEST, "{bad}: {:?}", got.body);
        assert_eq!(got.body["error"]["field"], "user_ids", "{bad}");
    }
    let many = vec![ann.id.to_string(); 201].join(",");
    let got = app
        .get(&format!("/api/chat/presence?user_ids={many}"), &bob.token)
        .await;
    assert_eq!(got.status, StatusCode::BAD_REQUEST);
    // Back to online clears the manual status; other tenants see nobody.
    let back = app
        .put(
            "/api/chat/presence/me",
            &ann.token,
            json!({"status": "online"}),
        )
        .await;
    assert_eq!(back.body["status"], "online");
    let other = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Other", Role::User);
    assert_eq!(
        app.get("/api/chat/presence/online", &other).await.body["results"],
        json!([])
    );
    assert_eq!(
        app.get(&format!("/api/chat/presence?user_ids={}", ann.id), &other)
            .await
            .body["results"],
        json!([])
    );
}
