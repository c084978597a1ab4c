//! `/images` and their actions: catalogue and project images, filters, updates,
//! protection, errors and tenancy.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApi;
use serde_json::{json, Value};

fn names(body: &Value) -> Vec<String> {
    body["images"]
        .as_array()
        .expect("list")
        .iter()
        .map(|i| i["name"].as_str().map_or_else(|| format!("#{}", i["id"]), String::from))
        .collect()
}

fn ids(body: &Value) -> Vec<i64> {
    body["images"].as_array().expect("list").iter().map(|i| i["id"].as_i64().expect("id")).collect()
}

/// A server and a snapshot of it; (server, snapshot).
async fn snapshot(api: &TestApi) -> (i64, i64) {
    let server = api.make_server(&api.token, "source").await;
    let image = api.make_image(&api.token, server, "snapshot", "my snapshot").await;
    (server, image)
}

// Tests live in a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn system_images_render_every_field() {
        let api = TestApi::new().await;
        let r = api.get("/images?name=debian-12").await;
        assert_eq!(r.status, StatusCode::OK);
        let image = &r.body["images"][0];
        let mut fields: Vec<&str> = image.as_object().expect("object").keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "architecture",
                "bound_to",
                "created",
                "created_from",
                "deleted",
                "deprecated",
                "description",
                "disk_size",
                "id",
                "image_size",
                "labels",
                "name",
                "os_flavor",
                "os_version",
                "protection",
                "rapid_deploy",
                "status",
                "type"
            ]
        );
        assert_eq!(image["type"], "system");
        assert_eq!(image["status"], "available");
        assert_eq!(image["name"], "debian-12");
        assert_eq!(image["os_flavor"], "debian");
        assert_eq!(image["os_version"], "12");
        assert_eq!(image["architecture"], "x86");
        assert_eq!(image["created_from"], Value::Null);
        assert_eq!(image["bound_to"], Value::Null);
        assert_eq!(image["deleted"], Value::Null);
        assert_eq!(image["deprecated"], Value::Null);
        assert_eq!(image["protection"], json!({"delete": false}));
        assert_eq!(image["labels"], json!({}));
        assert!(image["disk_size"].is_number());
        assert!(chrono::DateTime::parse_from_rfc3339(image["created"].as_str().expect("created")).is_ok());

        let r = api.get(&format!("/images/{}", image["id"])).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(&r.body["image"], image);
    }

    #[tokio::test]
    async fn list_filters_and_sorts() {
        let api = TestApi::new().await;
        let all = api.get("/images?per_page=50").await;
        let system = names(&all.body);
        assert!(system.len() >= 8, "{system:?}");
        assert!(system.contains(&"ubuntu-24.04".to_string()));

        let (server, snap) = snapshot(&api).await;
        let backup = api.make_image(&api.token, server, "backup", "nightly").await;

        let one = format!("bound_to={server}");
        let two = format!("bound_to={server}&bound_to=123456");
        let cases: Vec<(&str, Vec<i64>)> = vec![
            ("type=snapshot", vec![snap]),
            ("type=backup", vec![backup]),
            ("type=snapshot&type=backup", vec![snap, backup]),
            ("type=snapshot,backup", vec![snap, backup]),
            (&one, vec![backup]),
            (&two, vec![backup]),
            ("bound_to=123456", vec![]),
            ("type=snapshot&status=available", vec![snap]),
            ("type=snapshot&status=creating", vec![]),
            ("type=snapshot&architecture=x86", vec![snap]),
            ("type=snapshot&architecture=arm", vec![]),
            ("sort=id:desc&per_page=2", vec![backup, snap]),
        ];
        for (query, want) in cases {
            let r = api.get(&format!("/images?{query}")).await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {:?}", r.body);
            assert_eq!(ids(&r.body), want, "{query}");
        }
        let r = api.get("/images?type=system&sort=name:desc&per_page=50").await;
        let mut sorted = system.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(names(&r.body), sorted);
        let r = api.get("/images?type=system&sort=created&sort=id&per_page=50").await;
        assert_eq!(names(&r.body), system, "equal created times fall back to id");
        let r = api.get("/images?type=system&name=rocky-9").await;
        assert_eq!(names(&r.body), ["rocky-9"]);
        let r = api.get("/images?per_page=50").await;
        assert_eq!(r.body["meta"]["pagination"]["total_entries"], system.len() + 2);

        for bad in ["type=iso", "status=broken", "bound_to=x", "include_deprecated=maybe", "sort=size"] {
            let r = api.get(&format!("/images?{bad}")).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{bad}");
        }
    }

    #[tokio::test]
    async fn labels_select_project_images() {
        let api = TestApi::new().await;
        let (_, snap) = snapshot(&api).await;
        let r = api.put(&format!("/images/{snap}"), json!({"labels": {"keep": "yes"}})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(ids(&api.get("/images?label_selector=keep%3Dyes").await.body), [snap]);
        assert_eq!(ids(&api.get("/images?label_selector=keep%3Dno").await.body), Vec::<i64>::new());
    }

    #[tokio::test]
    async fn snapshots_show_where_they_came_from_and_can_be_updated() {
        let api = TestApi::new().await;
        let (server, snap) = snapshot(&api).await;
        let path = format!("/images/{snap}");
        let image = api.get(&path).await.body["image"].clone();
        assert_eq!(image["type"], "snapshot");
        assert_eq!(image["status"], "available");
        assert_eq!(image["name"], Value::Null);
        assert_eq!(image["description"], "my snapshot");
        assert_eq!(image["created_from"], json!({"id": server, "name": "source"}));
        assert_eq!(image["bound_to"], Value::Null);
        assert_eq!(image["os_flavor"], "debian");
        assert_eq!(image["rapid_deploy"], false);

        let r = api.put(&path, json!({"description": "golden", "labels": {"role": "web"}, "type": "snapshot"})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["image"]["description"], "golden");
        assert_eq!(r.body["image"]["labels"], json!({"role": "web"}));
        assert_eq!(r.body["image"]["type"], "snapshot");

        let cases = [
            (json!({"type": "system"}), "type"),
            (json!({"type": "nonsense"}), "type"),
            (json!({"labels": {"role": "w e b"}}), "labels"),
            (json!({"description": 7}), "description"),
        ];
        for (body, field) in cases {
            let r = api.put(&path, body.clone()).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{body}: {:?}", r.body);
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field, "{body}");
        }
        let req = axum::http::Request::builder()
            .method(Method::PUT)
            .uri(format!("{}{path}", stratus_api_hetzner::PREFIX))
            .header("authorization", format!("Bearer {}", api.token))
            .body(axum::body::Body::from("{description"))
            .expect("request");
        let res = tower::ServiceExt::oneshot(api.router.clone(), req).await.expect("infallible");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
        assert_eq!(serde_json::from_slice::<Value>(&bytes).expect("json")["error"]["code"], "json_error");
        assert_eq!(api.get(&path).await.body["image"]["description"], "golden", "refused updates change nothing");
    }

    #[tokio::test]
    async fn a_backup_becomes_a_snapshot() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "db").await;
        let backup = api.make_image(&api.token, server, "backup", "nightly").await;
        let path = format!("/images/{backup}");
        let image = api.get(&path).await.body["image"].clone();
        assert_eq!((image["type"].as_str(), image["bound_to"].as_i64()), (Some("backup"), Some(server)));
        let r = api.put(&path, json!({"type": "snapshot"})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["image"]["type"], "snapshot");
        assert_eq!(r.body["image"]["bound_to"], Value::Null);
    }

    #[tokio::test]
    async fn protection_blocks_delete_and_actions_are_listed() {
        let api = TestApi::new().await;
        let (_, snap) = snapshot(&api).await;
        let path = format!("/images/{snap}");

        let r = api.post(&format!("{path}/actions/change_protection"), json!({"delete": true})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let protect = r.body["action"].clone();
        assert_eq!(protect["command"], "change_protection");
        assert_eq!(protect["resources"], json!([{"id": snap, "type": "image"}]));
        api.wait_action(protect["id"].as_i64().expect("id")).await;
        assert_eq!(api.get(&path).await.body["image"]["protection"], json!({"delete": true}));

        let r = api.delete(&path).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "protected"));
        assert_eq!(api.get(&path).await.status, StatusCode::OK);

        // The image's actions: the create_image that made it and the protection change.
        let r = api.get(&format!("{path}/actions")).await;
        assert_eq!(r.status, StatusCode::OK);
        let commands: Vec<&str> =
            r.body["actions"].as_array().expect("actions").iter().filter_map(|a| a["command"].as_str()).collect();
        assert_eq!(commands, ["create_image", "change_protection"]);
        let r = api.get(&format!("{path}/actions?sort=command")).await;
        assert_eq!(r.body["actions"][0]["command"], "change_protection");
        let r = api.get(&format!("{path}/actions?status=error")).await;
        assert_eq!(r.body["actions"], json!([]));
        let r = api.get(&format!("{path}/actions/{}", protect["id"])).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["action"]["status"], "success");
        let r = api.get(&format!("/images/actions/{}", protect["id"])).await;
        assert_eq!(r.body["action"]["id"], protect["id"]);
        let r = api.get("/images/actions").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body["actions"].as_array().expect("actions").iter().any(|a| a["id"] == protect["id"]));

        let r = api.post(&format!("{path}/actions/change_protection"), json!({"delete": false})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = api.delete(&path).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(r.body, Value::Null);
        let r = api.get(&path).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    }

    #[tokio::test]
    async fn catalogue_images_cannot_be_changed() {
        let api = TestApi::new().await;
        let id = api.get("/images?name=debian-12").await.body["images"][0]["id"].as_i64().expect("id");
        let path = format!("/images/{id}");
        for (method, path, body) in [
            (Method::PUT, path.clone(), Some(json!({"description": "mine now"}))),
            (Method::DELETE, path.clone(), None),
            (Method::POST, format!("{path}/actions/change_protection"), Some(json!({"delete": true}))),
        ] {
            let r = api.call_as(&api.token, method.clone(), &path, body).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}: {:?}", r.body);
        }
        assert_eq!(api.get(&path).await.body["image"]["description"], "Debian 12");
        // Reading a catalogue image's actions is fine (there are none).
        let r = api.get(&format!("{path}/actions")).await;
        assert_eq!((r.status, r.body["actions"].clone()), (StatusCode::OK, json!([])));
    }

    /// Every image endpoint that names an id, with a body where it takes one.
    fn endpoints(id: i64, action: i64) -> Vec<(Method, String, Option<Value>)> {
        vec![
            (Method::GET, format!("/images/{id}"), None),
            (Method::PUT, format!("/images/{id}"), Some(json!({"description": "x"}))),
            (Method::DELETE, format!("/images/{id}"), None),
            (Method::GET, format!("/images/{id}/actions"), None),
            (Method::GET, format!("/images/{id}/actions/{action}"), None),
            (Method::POST, format!("/images/{id}/actions/change_protection"), Some(json!({"delete": true}))),
            (Method::GET, format!("/images/actions/{action}"), None),
        ]
    }

    #[tokio::test]
    async fn missing_ids_are_not_found() {
        let api = TestApi::new().await;
        for (method, path, body) in endpoints(987_654_321, 987_654_322) {
            let r = api.call_as(&api.token, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}: {:?}", r.body);
        }
        let r = api.get("/images/debian-12").await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "ids only in paths");
    }

    #[tokio::test]
    async fn another_projects_snapshot_is_not_found() {
        let api = TestApi::new().await;
        let (_, snap) = snapshot(&api).await;
        let r = api.post(&format!("/images/{snap}/actions/change_protection"), json!({"delete": false})).await;
        let action = r.body["action"]["id"].as_i64().expect("action id");
        let other = api.other_token().await;
        for (method, path, body) in endpoints(snap, action) {
            let r = api.call_as(&other, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}: {:?}", r.body);
        }
        let r = api.call_as(&other, Method::GET, "/images?type=snapshot", None).await;
        assert_eq!(r.body["images"], json!([]));
        let r = api.call_as(&other, Method::GET, "/images/actions", None).await;
        assert_eq!(r.body["actions"], json!([]));
        // The catalogue is everyone's.
        let r = api.call_as(&other, Method::GET, "/images?name=debian-12", None).await;
        assert_eq!(r.body["images"].as_array().map(Vec::len), Some(1));
        assert_eq!(api.get(&format!("/images/{snap}")).await.body["image"]["description"], "my snapshot", "untouched");
    }
}
