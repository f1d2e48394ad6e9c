//! Whom I block reaches my clients on every socket (issue 17), the seeds' sockets too: they pass
//! the native `blocks` frame on as it is (seed clients ignore frame types they do not know), when
//! the socket opens and whenever the list changes; the blocked user's sockets hear nothing of it.

use awc::http::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

async fn block(app: &TestApp, me: &User, whom: Uuid) {
    let path = format!("/api/chat/users/me/blocks/{whom}");
    let a = app.put(&path, &me.token, json!({})).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{:?}", a.body);
}

#[actix_rt::test]
async fn every_seed_socket_of_mine_is_told_whom_i_block_and_the_blocked_user_is_not() {
    let app = spawn_app().await;
    let (ann, bob, carol) = (
        app.register("ann").await,
        app.register("bob").await,
        app.register("carol").await,
    );
    let room = app.room(&ann, "group", &[&bob, &carol]).await;
    block(&app, &ann, bob.id).await;
    let paths = [
        format!("/ws/chat/{room}/"),
        format!("/ws/chat/{room}/?dialect=wasgo"),
        format!("/ws/chat/{}/", ann.tenant_id),
        "/ws/notifications/".to_owned(),
        "/ws/presence/".to_owned(),
    ];
    let mut sockets = Vec::new();
    for path in &paths {
        let mut ws = app
            .ws_dialect(path, Some(&ann.token))
            .await
            .unwrap_or_else(|code| panic!("{path}: {code}"));
        let told = ws.recv_type("blocks").await;
        assert_eq!(
            told,
            json!({"type": "blocks", "user_ids": [bob.id]}),
            "{path}"
        );
        sockets.push(ws);
    }
    let mut bob_ws = app
        .ws_dialect(&paths[0], Some(&bob.token))
        .await
        .expect("bob's socket");

    block(&app, &ann, carol.id).await;
    for (ws, path) in sockets.iter_mut().zip(&paths) {
        let told = ws.recv_type("blocks").await;
        let mut ids: Vec<String> = told["user_ids"]
            .as_array()
            .expect("user_ids")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        ids.sort();
        let mut want = vec![bob.id.to_string(), carol.id.to_string()];
        want.sort();
        assert_eq!(ids, want, "{path}");
    }
    let heard = bob_ws.drain(500).await;
    assert!(
        heard.iter().all(|f| f["type"] != "blocks"),
        "the blocked user learns nothing: {heard:?}"
    );
}
