//! The permission matrix through the seed dialects: for every standing in a room (owner,
//! moderator, member, observer, outsider of the tenant, another tenant's user) and every action,
//! seeds 001's and 003's routes answer as the native route does (allowed, or the same status).

use awc::http::StatusCode;
use confab::auth::Role;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

/// Allowed (any 2xx), or the refusal's status.
fn verdict(a: &Answer) -> Result<(), u16> {
    if a.status.is_success() {
        Ok(())
    } else {
        Err(a.status.as_u16())
    }
}

/// A fresh message of the owner (so an allowed edit or delete leaves the next try its own).
async fn owners_message(app: &TestApp, owner: &User, room: Uuid) -> String {
    let a = app
        .post_message(room, &owner.token, json!({"content": "owner's"}))
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    a.body["id"].as_str().unwrap().to_owned()
}

/// Every way of doing each action: (name, native, 001, 003) verdicts.
async fn try_all(
    app: &TestApp,
    owner: &User,
    room: Uuid,
    token: &str,
    carl: Uuid,
) -> Vec<(&'static str, Vec<Result<(), u16>>)> {
    let mut rows = Vec::new();
    let read = vec![
        verdict(&app.get(&format!("/api/chat/rooms/{room}"), token).await),
        verdict(&app.get(&format!("/chat/rooms/{room}/"), token).await),
        verdict(
            &app.get(&format!("/chat/conversations/{room}/"), token)
                .await,
        ),
    ];
    rows.push(("read", read));
    let send = vec![
        verdict(&app.post_message(room, token, json!({"content": "n"})).await),
        verdict(
            &app.post(
                "/chat/messages/",
                token,
                json!({"room": room, "content": "a"}),
            )
            .await,
        ),
        verdict(
            &app.post(
                "/chat/messages/",
                token,
                json!({"conversation": room, "content": "w"}),
            )
            .await,
        ),
    ];
    rows.push(("send", send));
    let mut edit = Vec::new();
    let mut delete = Vec::new();
    for way in 0..3 {
        let m = owners_message(app, owner, room).await;
        edit.push(verdict(&match way {
            0 => {
                app.patch(
                    &format!("/api/chat/rooms/{room}/messages/{m}"),
                    token,
                    json!({"content": "x"}),
                )
                .await
            }
            1 => {
                app.put(
                    &format!("/chat/messages/{m}/"),
                    token,
                    json!({"content": "x"}),
                )
                .await
            }
            _ => {
                app.post(
                    &format!("/chat/messages/{m}/edit/"),
                    token,
                    json!({"content": "x"}),
                )
                .await
            }
        }));
        let m = owners_message(app, owner, room).await;
        delete.push(verdict(&match way {
            0 => {
                app.delete(&format!("/api/chat/rooms/{room}/messages/{m}"), token)
                    .await
            }
            1 => app.delete(&format!("/chat/messages/{m}/"), token).await,
            _ => {
                app.post(&format!("/chat/messages/{m}/delete/"), token, json!({}))
                    .await
            }
        }));
    }
    rows.push(("edit others'", edit));
    rows.push(("delete others'", delete));
    let mut add = Vec::new();
    for way in 0..2 {
        add.push(verdict(&match way {
            0 => {
                app.post(
                    &format!("/api/chat/rooms/{room}/members"),
                    token,
                    json!({"user_id": carl}),
                )
                .await
            }
            _ => {
                app.post(
                    &format!("/chat/conversations/{room}/add_participant/"),
                    token,
                    json!({"user_id": carl}),
                )
                .await
            }
        }));
        // Back to the start for the next way.
        app.delete(
            &format!("/api/chat/rooms/{room}/members/{carl}"),
            &owner.token,
        )
        .await;
    }
    rows.push(("add participant", add));
    let update = vec![
        verdict(
            &app.patch(
                &format!("/api/chat/rooms/{room}"),
                token,
                json!({"name": "R"}),
            )
            .await,
        ),
        verdict(
            &app.put(&format!("/chat/rooms/{room}/"), token, json!({"name": "R"}))
                .await,
        ),
    ];
    rows.push(("update room", update));
    rows
}

#[actix_rt::test]
async fn every_standing_gets_the_native_answer_through_001_and_003() {
    let app = spawn_app().await;
    let owner = app.register("owner").await;
    let names = ["moderator", "member", "observer", "outsider", "carl"];
    let mut users = Vec::new();
    for n in names {
        users.push(app.register(n).await);
    }
    let room = app.room(&owner, "group", &[]).await;
    for (user, role) in users.iter().zip(["moderator", "member", "observer"]) {
        let a = app
            .post(
                &format!("/api/chat/rooms/{room}/members"),
                &owner.token,
                json!({"user_id": user.id, "role": role}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    }
    let foreign = app.platform_token(Uuid::new_v4(), Uuid::new_v4(), "Oz", Role::User);
    let carl = users[4].id;
    let mut standings: Vec<(&str, String)> = vec![("owner", owner.token.clone())];
    for (i, n) in names.iter().enumerate().take(4) {
        standings.push((n, users[i].token.clone()));
    }
    standings.push(("other tenant", foreign));
    let mut seen = Vec::new();
    for (standing, token) in &standings {
        for (action, answers) in try_all(&app, &owner, room, token, carl).await {
            let native = answers[0];
            for (i, dialect) in answers.iter().enumerate().skip(1) {
                assert_eq!(
                    *dialect, native,
                    "{standing} / {action}: way {i} differs from native ({answers:?})"
                );
            }
            seen.push((*standing, action, native));
        }
    }
    // The matrix is not trivial: some of each.
    assert!(
        seen.iter().any(|s| s.2.is_ok())
            && seen.iter().any(|s| s.2 == Err(403))
            && seen.iter().any(|s| s.2 == Err(404)),
        "{seen:?}"
    );
}
