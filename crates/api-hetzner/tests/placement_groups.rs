//! `/placement_groups`: shapes, members, the spread limit, lists, errors and tenancy;
//! and servers created in a group or moved in and out of one.

mod common;

use axum::http::{Method, StatusCode};
use common::{Answer, TestApi};
use serde_json::{json, Value};
use stratus_core::Config;

fn assert_error(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!((a.status, a.code()), (status, code), "{:?}", a.body);
    assert!(a.body["error"]["message"].is_string(), "{:?}", a.body);
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().expect("integer id")
}

async fn create_group(api: &TestApi, token: &str, body: Value) -> Value {
    let r = api.call_as(token, Method::POST, "/placement_groups", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

async fn make_group(api: &TestApi, name: &str) -> i64 {
    id_of(&create_group(api, &api.token, json!({"name": name, "type": "spread"})).await["placement_group"])
}

async fn group(api: &TestApi, id: i64) -> Value {
    let r = api.get(&format!("/placement_groups/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["placement_group"].clone()
}

/// Creates a server in `group` (off, so that it may change groups) and waits for it.
async fn server_in(api: &TestApi, name: &str, group: Option<i64>) -> Answer {
    let body = json!({"name": name, "server_type": "cx22", "image": "debian-12", "placement_group": group, "start_after_create": false});
    let r = api.post("/servers", body).await;
    if r.status == StatusCode::CREATED {
        api.wait_action(id_of(&r.body["action"])).await;
    }
    r
}

async fn server_action(api: &TestApi, server: i64, action: &str, body: Value) -> Answer {
    let r = api.post(&format!("/servers/{server}/actions/{action}"), body).await;
    if r.status == StatusCode::CREATED {
        assert_eq!(api.wait_action(id_of(&r.body["action"])).await["status"], "success");
    }
    r
}

fn names(body: &Value) -> Vec<&str> {
    body["placement_groups"].as_array().expect("list").iter().map(|g| g["name"].as_str().expect("name")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_renders_the_full_object_without_an_action() {
        let api = TestApi::new().await;
        let body = create_group(&api, &api.token, json!({"name": "ha", "type": "spread", "labels": {"k": "v"}})).await;
        assert_eq!(body["action"], Value::Null, "made at once");
        let g = &body["placement_group"];
        let mut keys: Vec<&str> = g.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created", "id", "labels", "name", "servers", "type"]);
        assert_eq!(
            (&g["name"], &g["type"], &g["labels"], &g["servers"]),
            (&json!("ha"), &json!("spread"), &json!({"k": "v"}), &json!([]))
        );
        assert!(chrono::DateTime::parse_from_rfc3339(g["created"].as_str().expect("created")).is_ok());
        assert_eq!(&group(&api, id_of(g)).await, g);

        // Ansible sends `type: null` when the user left it out; spread is the only type.
        for body in [json!({"name": "null-type", "type": null}), json!({"name": "no-type"})] {
            let made = create_group(&api, &api.token, body).await;
            assert_eq!(made["placement_group"]["type"], "spread");
        }
    }

    #[tokio::test]
    async fn create_refuses_bad_input() {
        let api = TestApi::new().await;
        make_group(&api, "taken").await;
        let cases = [
            (json!({"type": "spread"}), "name"),
            (json!({"name": "", "type": "spread"}), "name"),
            (json!({"name": "x", "type": "cluster"}), "type"),
            (json!({"name": "x", "type": 1}), "type"),
            (json!({"name": "x", "labels": {"bad key!": "v"}}), "labels"),
        ];
        for (body, field) in cases {
            let r = api.post("/placement_groups", body.clone()).await;
            assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field, "{body}: {:?}", r.body);
        }
        let r = api.post("/placement_groups", json!({"name": "taken", "type": "spread"})).await;
        assert_error(&r, StatusCode::CONFLICT, "uniqueness_error");
        assert_eq!(names(&api.get("/placement_groups").await.body), ["taken"]);
    }

    #[tokio::test]
    async fn servers_created_in_a_group_are_its_members() {
        let api = TestApi::new().await;
        let id = make_group(&api, "ha").await;
        let r = server_in(&api, "a", Some(id)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let a = id_of(&r.body["server"]);
        let embedded = &r.body["server"]["placement_group"];
        assert_eq!(
            (&embedded["id"], &embedded["name"], &embedded["type"]),
            (&json!(id), &json!("ha"), &json!("spread"))
        );
        assert_eq!(embedded["servers"], json!([a]), "the embedded group lists its members too");
        let b = id_of(&server_in(&api, "b", Some(id)).await.body["server"]);
        assert_eq!(group(&api, id).await["servers"], json!([a, b]));
        let listed = api.get("/servers?sort=id").await.body["servers"].clone();
        for s in listed.as_array().expect("servers") {
            assert_eq!(s["placement_group"]["servers"], json!([a, b]), "every member shows the whole group");
        }
        // A group of another project, or none, cannot be joined.
        let r = server_in(&api, "c", Some(987_654_321)).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(r.body["error"]["details"]["fields"][0]["name"], "placement_group");
    }

    #[tokio::test]
    async fn a_spread_group_has_room_for_as_many_servers_as_hosts() {
        let api = TestApi::with_config(Config { spread_group_limit: 2, ..Config::default() }).await;
        let id = make_group(&api, "ha").await;
        for name in ["a", "b"] {
            assert_eq!(server_in(&api, name, Some(id)).await.status, StatusCode::CREATED);
        }
        let r = server_in(&api, "c", Some(id)).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "placement_error");
        assert!(api.get("/servers?name=c").await.body["servers"].as_array().is_some_and(Vec::is_empty), "nothing made");
        // Joining later is refused the same way.
        let outsider = id_of(&server_in(&api, "d", None).await.body["server"]);
        let r = server_action(&api, outsider, "add_to_placement_group", json!({"placement_group": id})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "placement_error");
        assert_eq!(group(&api, id).await["servers"].as_array().map(Vec::len), Some(2));
    }

    #[tokio::test]
    async fn servers_move_in_and_out_and_a_group_with_servers_is_not_deleted() {
        let api = TestApi::new().await;
        let id = make_group(&api, "ha").await;
        let server = id_of(&server_in(&api, "a", None).await.body["server"]);
        let r = server_action(&api, server, "add_to_placement_group", json!({"placement_group": id})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["action"]["command"], "add_to_placement_group");
        assert_eq!(group(&api, id).await["servers"], json!([server]));
        let srv = api.get(&format!("/servers/{server}")).await.body["server"].clone();
        assert_eq!(srv["placement_group"]["id"], id);

        assert_error(
            &api.delete(&format!("/placement_groups/{id}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "resource_in_use",
        );
        let r = server_action(&api, server, "remove_from_placement_group", json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(group(&api, id).await["servers"], json!([]));
        assert_eq!(api.get(&format!("/servers/{server}")).await.body["server"]["placement_group"], Value::Null);

        let r = api.delete(&format!("/placement_groups/{id}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
        assert_eq!(r.body, Value::Null);
        assert!(r.headers.get("content-type").is_none());
        assert_error(&api.get(&format!("/placement_groups/{id}")).await, StatusCode::NOT_FOUND, "not_found");
    }

    #[tokio::test]
    async fn a_running_server_cannot_join_a_group() {
        let api = TestApi::new().await;
        let id = make_group(&api, "ha").await;
        let server = api.make_server(&api.token, "web").await;
        // The document's code for this case (hcloud-python and the CLI show it), not `invalid_input`.
        let r = server_action(&api, server, "add_to_placement_group", json!({"placement_group": id})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "server_not_stopped");
        assert_eq!(group(&api, id).await["servers"], json!([]));
    }

    #[tokio::test]
    async fn a_deleted_server_leaves_its_group() {
        let api = TestApi::new().await;
        let id = make_group(&api, "ha").await;
        let server = id_of(&server_in(&api, "a", Some(id)).await.body["server"]);
        let r = api.delete(&format!("/servers/{server}")).await;
        api.wait_action(id_of(&r.body["action"])).await;
        assert_eq!(group(&api, id).await["servers"], json!([]));
        assert_eq!(api.delete(&format!("/placement_groups/{id}")).await.status, StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn lists_filter_sort_and_page() {
        let api = TestApi::new().await;
        for (name, env) in [("b", "prod"), ("a", "dev"), ("c", "prod")] {
            create_group(&api, &api.token, json!({"name": name, "type": "spread", "labels": {"env": env}})).await;
        }
        assert_eq!(names(&api.get("/placement_groups").await.body), ["b", "a", "c"]);
        assert_eq!(names(&api.get("/placement_groups?sort=name").await.body), ["a", "b", "c"]);
        assert_eq!(names(&api.get("/placement_groups?sort=id:desc").await.body), ["c", "a", "b"]);
        assert_eq!(names(&api.get("/placement_groups?sort=created:desc&sort=id:desc").await.body), ["c", "a", "b"]);
        assert_eq!(names(&api.get("/placement_groups?name=a").await.body), ["a"]);
        assert_eq!(names(&api.get("/placement_groups?label_selector=env%3Dprod").await.body), ["b", "c"]);
        assert_eq!(names(&api.get("/placement_groups?type=spread").await.body), ["b", "a", "c"]);
        let r = api.get("/placement_groups?per_page=1&page=3").await;
        assert_eq!(names(&r.body), ["c"]);
        assert_eq!(r.body["meta"]["pagination"]["total_entries"], 3);
        assert_eq!(r.body["meta"]["pagination"]["previous_page"], 2);
        assert_error(&api.get("/placement_groups?type=cluster").await, StatusCode::BAD_REQUEST, "invalid_input");
        assert_error(&api.get("/placement_groups?sort=type").await, StatusCode::BAD_REQUEST, "invalid_input");
    }

    #[tokio::test]
    async fn update_renames_and_relabels() {
        let api = TestApi::new().await;
        let id = make_group(&api, "old").await;
        make_group(&api, "other").await;
        let r = api.put(&format!("/placement_groups/{id}"), json!({"name": "new", "labels": {"k": "v"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let g = &r.body["placement_group"];
        assert_eq!((&g["name"], &g["labels"], &g["type"]), (&json!("new"), &json!({"k": "v"}), &json!("spread")));
        let r = api.put(&format!("/placement_groups/{id}"), json!({"labels": {}})).await;
        assert_eq!(
            (&r.body["placement_group"]["name"], &r.body["placement_group"]["labels"]),
            (&json!("new"), &json!({}))
        );
        let r = api.put(&format!("/placement_groups/{id}"), json!({"name": "other"})).await;
        assert_error(&r, StatusCode::CONFLICT, "uniqueness_error");
        let r = api.put(&format!("/placement_groups/{id}"), json!({"name": 5})).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
    }

    /// Every placement group endpoint that names an id, with a body where it takes one.
    fn endpoints(id: i64) -> Vec<(Method, String, Option<Value>)> {
        vec![
            (Method::GET, format!("/placement_groups/{id}"), None),
            (Method::PUT, format!("/placement_groups/{id}"), Some(json!({"name": "x"}))),
            (Method::DELETE, format!("/placement_groups/{id}"), None),
        ]
    }

    #[tokio::test]
    async fn missing_ids_are_not_found() {
        let api = TestApi::new().await;
        for (method, path, body) in endpoints(987_654_321) {
            let r = api.call_as(&api.token, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}: {:?}", r.body);
        }
        assert_error(&api.get("/placement_groups/abc").await, StatusCode::NOT_FOUND, "not_found");
    }

    #[tokio::test]
    async fn another_projects_group_is_not_found() {
        let api = TestApi::new().await;
        let id = make_group(&api, "mine").await;
        let other = api.other_token().await;
        for (method, path, body) in endpoints(id) {
            let r = api.call_as(&other, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}: {:?}", r.body);
        }
        let r = api.call_as(&other, Method::GET, "/placement_groups", None).await;
        assert_eq!(r.body["placement_groups"], json!([]));
        // Nor can its servers join the group, at creation or later.
        let body = json!({"name": "theirs", "server_type": "cx22", "image": "debian-12", "placement_group": id, "start_after_create": false});
        let r = api.call_as(&other, Method::POST, "/servers", Some(body)).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        let body = json!({"name": "theirs", "server_type": "cx22", "image": "debian-12", "start_after_create": false});
        let r = api.call_as(&other, Method::POST, "/servers", Some(body)).await;
        let theirs = id_of(&r.body["server"]);
        api.wait_action_as(&other, id_of(&r.body["action"])).await;
        let path = format!("/servers/{theirs}/actions/add_to_placement_group");
        let r = api.call_as(&other, Method::POST, &path, Some(json!({"placement_group": id}))).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        // The same name is free in another project.
        create_group(&api, &other, json!({"name": "mine", "type": "spread"})).await;

        let g = group(&api, id).await;
        assert_eq!((&g["name"], &g["servers"]), (&json!("mine"), &json!([])), "untouched");
    }
}
