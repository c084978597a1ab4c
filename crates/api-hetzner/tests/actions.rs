//! `/actions` (seed 002 "Actions"; today's `get_multiple_actions` and `get_action`).

mod common;

use axum::http::StatusCode;
use common::TestApi;
use serde_json::{json, Value};
use stratus_core::Config;

/// Creates a server and returns the ids of its create and start actions, finished.
async fn server_actions(api: &TestApi, name: &str) -> (i64, i64) {
    let a = api.post("/servers", json!({"name": name, "server_type": "cx22", "image": "debian-12"})).await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let create = a.body["action"]["id"].as_i64().expect("create action");
    let start = a.body["next_actions"][0]["id"].as_i64().expect("start action");
    api.wait_action(create).await;
    api.wait_action(start).await;
    (create, start)
}

fn ids(body: &Value) -> Vec<i64> {
    body["actions"].as_array().expect("actions").iter().map(|a| a["id"].as_i64().expect("id")).collect()
}

// Tests live in a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn get_one_action() {
        let api = TestApi::new().await;
        let (create, _) = server_actions(&api, "a").await;
        let a = api.get(&format!("/actions/{create}")).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let action = &a.body["action"];
        assert_eq!(
            (&action["id"], &action["command"], &action["status"]),
            (&json!(create), &json!("create_server"), &json!("success"))
        );
        assert_eq!((&action["progress"], &action["error"]), (&json!(100), &Value::Null));
        assert!(action["started"].as_str().is_some_and(|t| t.ends_with("+00:00")));
        assert!(action["finished"].is_string());
        assert_eq!(action["resources"][0]["type"], "server");

        for path in ["/actions/999999", "/actions/abc"] {
            let a = api.get(path).await;
            assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, "not_found"), "{path}");
        }
        let other = api.other_token().await;
        let a = api.call_as(&other, axum::http::Method::GET, &format!("/actions/{create}"), None).await;
        assert_eq!((a.status, a.code()), (StatusCode::NOT_FOUND, "not_found"));
    }

    #[tokio::test]
    async fn get_multiple_actions_by_id() {
        let api = TestApi::with_config(Config { rate_limit: 0, ..Config::default() }).await;
        let (c1, s1) = server_actions(&api, "one").await;
        let (c2, s2) = server_actions(&api, "two").await;

        // hcloud-go's poll: every requested id is answered, whatever the order asked.
        let a = api.get(&format!("/actions?id={s2}&id={c1}")).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert_eq!(ids(&a.body), [c1, s2]);
        assert_eq!(ids(&api.get(&format!("/actions?id={c1},{c2}&id={s1}")).await.body), [c1, s1, c2]);
        // An unknown id is simply not there; the known ones still are.
        assert_eq!(ids(&api.get(&format!("/actions?id={c2}&id=999999")).await.body), [c2]);
        // Many ids over pages: all of them, across the pages.
        let mut all = Vec::new();
        for i in 0..30 {
            let (c, s) = server_actions(&api, &format!("n{i}")).await;
            all.extend([c, s]);
        }
        let query: String = all.iter().map(|id| format!("id={id}")).collect::<Vec<_>>().join("&");
        let p1 = api.get(&format!("/actions?{query}&per_page=50")).await;
        let p2 = api.get(&format!("/actions?{query}&per_page=50&page=2")).await;
        assert_eq!(p1.body["meta"]["pagination"]["total_entries"], 60);
        assert_eq!(p2.body["meta"]["pagination"]["next_page"], Value::Null);
        let got: Vec<i64> = ids(&p1.body).into_iter().chain(ids(&p2.body)).collect();
        assert_eq!(got, all);

        // Not ids: the document's id is an integer from 1 to 2^53 - 1 (Schemathesis sent
        // 9007199254740992 and an empty id and got 200).
        for bad in ["abc", "9007199254740992", ""] {
            let a = api.get(&format!("/actions?id={c1}&id={bad}")).await;
            assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{bad}");
            assert_eq!(a.body["error"]["details"]["fields"][0]["name"], "id");
        }
        assert_eq!(ids(&api.get(&format!("/actions?id={c1}&id=9007199254740991")).await.body), [c1]);
    }

    #[tokio::test]
    async fn list_filters_and_sorts_like_seed_002() {
        let api = TestApi::new().await;
        let (c1, s1) = server_actions(&api, "one").await;
        let (c2, s2) = server_actions(&api, "two").await;
        assert_eq!(ids(&api.get("/actions").await.body), [c1, s1, c2, s2]);
        assert_eq!(ids(&api.get("/actions?sort=id:desc").await.body), [s2, c2, s1, c1]);
        assert_eq!(ids(&api.get("/actions?sort=command:desc&sort=id:asc").await.body), [s1, s2, c1, c2]);
        assert_eq!(ids(&api.get("/actions?status=success&status=running").await.body).len(), 4);
        assert_eq!(ids(&api.get("/actions?status=error").await.body), Vec::<i64>::new());
        let a = api.get("/actions?per_page=3&page=2").await;
        assert_eq!(ids(&a.body), [s2]);
        assert_eq!(
            a.body["meta"]["pagination"],
            json!({"page": 2, "per_page": 3, "previous_page": 1, "next_page": null, "last_page": 2, "total_entries": 4})
        );
        let link = a.headers.get("link").expect("Link").to_str().expect("ascii");
        assert!(link.contains("/hetzner/v1/actions?page=1&per_page=3>; rel=\"prev\""), "{link}");
        // An empty status is not one of the document's statuses either (Schemathesis sent
        // `status=&status=` and got every action).
        for bad in ["/actions?status=paused", "/actions?status=", "/actions?status=success,", "/actions?sort=server"] {
            let a = api.get(bad).await;
            assert_eq!((a.status, a.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{bad}");
        }
    }
}
