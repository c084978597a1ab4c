//! `/floating_ips` and their actions: shapes, allocation, assignment, reverse DNS,
//! protection, filters, errors and tenancy.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApi;
use serde_json::{json, Value};

async fn create(api: &TestApi, body: Value) -> Value {
    let r = api.post("/floating_ips", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

async fn create_in_fsn1(api: &TestApi, name: &str, family: &str) -> i64 {
    let body = create(api, json!({"type": family, "home_location": "fsn1", "name": name})).await;
    body["floating_ip"]["id"].as_i64().expect("integer id")
}

fn names(body: &Value) -> Vec<&str> {
    body["floating_ips"].as_array().expect("list").iter().map(|f| f["name"].as_str().expect("name")).collect()
}

// Tests live in a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_ipv4_in_a_location_renders_the_full_object() {
        let api = TestApi::new().await;
        let body = create(
            &api,
            json!({"type": "ipv4", "home_location": "fsn1", "name": "web", "description": "Web Frontend", "labels": {"env": "prod"}}),
        )
        .await;
        assert!(
            body.get("action").is_none(),
            "no server, no action: the key is left out (the document does not allow null)"
        );
        let fip = &body["floating_ip"];
        let mut fields: Vec<&str> = fip.as_object().expect("object").keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "blocked",
                "created",
                "description",
                "dns_ptr",
                "home_location",
                "id",
                "ip",
                "labels",
                "name",
                "protection",
                "server",
                "type"
            ]
        );
        assert!(fip["id"].is_i64());
        assert_eq!(fip["name"], "web");
        assert_eq!(fip["description"], "Web Frontend");
        assert_eq!(fip["type"], "ipv4");
        assert_eq!(fip["server"], Value::Null);
        assert_eq!(fip["blocked"], false);
        assert_eq!(fip["protection"], json!({"delete": false}));
        assert_eq!(fip["labels"], json!({"env": "prod"}));
        assert!(chrono::DateTime::parse_from_rfc3339(fip["created"].as_str().expect("created")).is_ok());
        let ip: std::net::Ipv4Addr = fip["ip"].as_str().expect("ip").parse().expect("an IPv4 address");
        assert_eq!(ip.octets()[0], 198, "from the default pool 198.18.0.0/15: {ip}");
        // An IPv4 address always has a PTR: the default until one is set.
        let o = ip.octets();
        assert_eq!(
            fip["dns_ptr"],
            json!([{"ip": ip.to_string(), "dns_ptr": format!("static.{}.{}.{}.{}.clients.your-server.de", o[3], o[2], o[1], o[0])}])
        );
        let loc = &fip["home_location"];
        assert_eq!(loc["name"], "fsn1");
        for field in ["id", "description", "country", "city", "latitude", "longitude", "network_zone"] {
            assert!(!loc[field].is_null(), "home_location.{field}");
        }

        let r = api.get(&format!("/floating_ips/{}", fip["id"])).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(&r.body["floating_ip"], fip);
    }

    #[tokio::test]
    async fn create_ipv6_shows_the_network_and_defaults() {
        let api = TestApi::new().await;
        // The location may be given by id, as a number.
        let nbg1 = api.get("/locations?name=nbg1").await.body["locations"][0]["id"].clone();
        let body = create(&api, json!({"type": "ipv6", "home_location": nbg1})).await;
        let fip = &body["floating_ip"];
        let ip = fip["ip"].as_str().expect("ip");
        assert!(ip.ends_with("/64"), "{ip}");
        assert!(ip.starts_with("2001:db8:"), "from the default pool: {ip}");
        assert_eq!(fip["type"], "ipv6");
        assert_eq!(fip["dns_ptr"], json!([]));
        assert_eq!(fip["home_location"]["name"], "nbg1");
        assert_eq!(fip["description"], Value::Null);
        assert_eq!(fip["labels"], json!({}));
        let id = fip["id"].as_i64().expect("id");
        assert_eq!(fip["name"], format!("floating-ip-{id}"), "a name is made up when none is given");

        // Every floating IP gets its own address.
        let other = create(&api, json!({"type": "ipv6", "home_location": "nbg1"})).await;
        assert_ne!(other["floating_ip"]["ip"], fip["ip"]);
    }

    #[tokio::test]
    async fn create_with_a_server_assigns_by_action() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "web").await;
        let body = create(&api, json!({"type": "ipv4", "server": server, "description": "vip"})).await;
        let fip = &body["floating_ip"];
        assert_eq!(fip["server"], server);
        assert_eq!(fip["home_location"]["name"], "fsn1", "the server's location");
        let action = &body["action"];
        assert_eq!(action["command"], "assign_floating_ip");
        assert!(action["id"].is_i64());
        let resources = action["resources"].as_array().expect("resources");
        assert!(resources.contains(&json!({"id": fip["id"], "type": "floating_ip"})), "{resources:?}");
        assert!(resources.contains(&json!({"id": server, "type": "server"})), "{resources:?}");
        api.wait_action(action["id"].as_i64().expect("id")).await;
        let r = api.get(&format!("/floating_ips/{}/actions/{}", fip["id"], action["id"])).await;
        assert_eq!(r.body["action"]["status"], "success");
    }

    #[tokio::test]
    async fn create_rejects_bad_input() {
        let api = TestApi::new().await;
        let cases = [
            ("no type", json!({"home_location": "fsn1"}), "type"),
            ("unknown type", json!({"type": "ipv5", "home_location": "fsn1"}), "type"),
            ("type of wrong kind", json!({"type": 4, "home_location": "fsn1"}), "type"),
            ("no place", json!({"type": "ipv4"}), "home_location"),
            ("bad labels", json!({"type": "ipv4", "home_location": "fsn1", "labels": {"a b": "c"}}), "labels"),
            ("labels not a map", json!({"type": "ipv4", "home_location": "fsn1", "labels": ["x"]}), "labels"),
            ("unknown server", json!({"type": "ipv4", "server": 987654}), "server"),
        ];
        for (what, body, field) in cases {
            let r = api.post("/floating_ips", body).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{what}: {:?}", r.body);
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field, "{what}: {:?}", r.body);
        }
        let r = api.post("/floating_ips", json!({"type": "ipv4", "home_location": "atlantis"})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
        assert_eq!(r.code(), "invalid_input");
        let server = api.make_server(&api.token, "s").await;
        let r = api.post("/floating_ips", json!({"type": "ipv4", "server": server, "home_location": "fsn1"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "mutually exclusive");
        assert_eq!(api.get("/floating_ips").await.body["floating_ips"], json!([]), "nothing half-made");

        let r = api.call_as(&api.token, Method::POST, "/floating_ips", None).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "json_error"), "the body is required");
        let req = axum::http::Request::builder()
            .method(Method::POST)
            .uri(format!("{}/floating_ips", stratus_api_hetzner::PREFIX))
            .header("authorization", format!("Bearer {}", api.token))
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{\"type\": \"ipv4\",}"))
            .expect("request");
        let res = tower::ServiceExt::oneshot(api.router.clone(), req).await.expect("infallible");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
        assert_eq!(serde_json::from_slice::<Value>(&bytes).expect("json")["error"]["code"], "json_error");
    }

    #[tokio::test]
    async fn update_changes_description_name_and_labels() {
        let api = TestApi::new().await;
        let id = create_in_fsn1(&api, "a", "ipv4").await;
        create_in_fsn1(&api, "b", "ipv4").await;
        let path = format!("/floating_ips/{id}");
        let r = api.put(&path, json!({"description": "New description"})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["floating_ip"]["description"], "New description");
        assert_eq!(r.body["floating_ip"]["name"], "a");
        let r = api.put(&path, json!({"name": "renamed", "labels": {"k": "v"}})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["floating_ip"]["name"], "renamed");
        assert_eq!(r.body["floating_ip"]["labels"], json!({"k": "v"}));
        assert_eq!(r.body["floating_ip"]["description"], "New description");

        let r = api.put(&path, json!({"name": "b"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "uniqueness_error"));
        let r = api.post("/floating_ips", json!({"type": "ipv6", "home_location": "fsn1", "name": "b"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "uniqueness_error"));
        let r = api.put(&path, json!({"labels": {"k": "not valid!"}})).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
        assert_eq!(r.body["error"]["details"]["fields"][0]["name"], "labels");
        let r = api.put(&path, json!({"name": ""})).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
        assert_eq!(
            api.get(&path).await.body["floating_ip"]["labels"],
            json!({"k": "v"}),
            "refused updates change nothing"
        );
    }

    #[tokio::test]
    async fn list_filters_and_sorts() {
        let api = TestApi::new().await;
        for (name, env) in [("one", "prod"), ("two", "dev"), ("three", "prod")] {
            create(&api, json!({"type": "ipv4", "home_location": "hel1", "name": name, "labels": {"env": env}})).await;
        }
        let cases = [
            ("", vec!["one", "two", "three"]),
            ("?name=two", vec!["two"]),
            ("?label_selector=env%3Dprod", vec!["one", "three"]),
            ("?label_selector=env!%3Dprod", vec!["two"]),
            ("?sort=id:desc", vec!["three", "two", "one"]),
            ("?sort=created:desc&sort=id:desc", vec!["three", "two", "one"]),
            ("?sort=created", vec!["one", "two", "three"]),
        ];
        for (query, want) in cases {
            let r = api.get(&format!("/floating_ips{query}")).await;
            assert_eq!(r.status, StatusCode::OK, "{query}");
            assert_eq!(names(&r.body), want, "{query}");
        }
        let r = api.get("/floating_ips?per_page=2").await;
        assert_eq!(r.body["meta"]["pagination"]["total_entries"], 3);
        assert_eq!(r.body["meta"]["pagination"]["next_page"], 2);
        assert!(r.headers.contains_key("link"));
        let r = api.get("/floating_ips?sort=name").await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "name is no sort field here");
    }

    #[tokio::test]
    async fn assign_unassign_and_their_actions() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "web").await;
        let id = create_in_fsn1(&api, "vip", "ipv4").await;

        let r = api.post(&format!("/floating_ips/{id}/actions/assign"), json!({"server": server})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let assign = r.body["action"].clone();
        assert_eq!(assign["command"], "assign_floating_ip");
        for field in ["id", "command", "status", "progress", "started", "finished", "resources", "error"] {
            assert!(assign.get(field).is_some(), "action.{field}");
        }
        api.wait_action(assign["id"].as_i64().expect("id")).await;
        assert_eq!(api.get(&format!("/floating_ips/{id}")).await.body["floating_ip"]["server"], server);

        let r = api.post(&format!("/floating_ips/{id}/actions/unassign"), json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let unassign = r.body["action"].clone();
        assert_eq!(unassign["command"], "unassign_floating_ip");
        assert_eq!(unassign["resources"], json!([{"id": id, "type": "floating_ip"}]));
        api.wait_action(unassign["id"].as_i64().expect("id")).await;
        assert_eq!(api.get(&format!("/floating_ips/{id}")).await.body["floating_ip"]["server"], Value::Null);

        // Unassign takes no body at all, as hcloud sends it.
        let r = api.call_as(&api.token, Method::POST, &format!("/floating_ips/{id}/actions/unassign"), None).await;
        assert_eq!(r.status, StatusCode::CREATED);

        let r = api.post(&format!("/floating_ips/{id}/actions/assign"), json!({})).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
        assert_eq!(r.body["error"]["details"]["fields"][0]["name"], "server");
        let r = api.post(&format!("/floating_ips/{id}/actions/assign"), json!({"server": 424242})).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));

        // The IP's actions, filtered and sorted.
        let r = api.get(&format!("/floating_ips/{id}/actions")).await;
        assert_eq!(r.status, StatusCode::OK);
        let commands: Vec<&str> =
            r.body["actions"].as_array().expect("actions").iter().filter_map(|a| a["command"].as_str()).collect();
        assert_eq!(commands, ["assign_floating_ip", "unassign_floating_ip", "unassign_floating_ip"]);
        assert_eq!(r.body["meta"]["pagination"]["total_entries"], 3);
        let r = api.get(&format!("/floating_ips/{id}/actions?sort=id:desc")).await;
        assert_eq!(r.body["actions"][0]["command"], "unassign_floating_ip");
        let r = api.get(&format!("/floating_ips/{id}/actions?sort=command:asc&per_page=1")).await;
        assert_eq!(r.body["actions"][0]["command"], "assign_floating_ip");
        assert_eq!(r.body["meta"]["pagination"]["last_page"], 3);
        let r = api.get(&format!("/floating_ips/{id}/actions?status=running")).await;
        assert_eq!(r.body["actions"], json!([]), "all finished");
        let r = api.get(&format!("/floating_ips/{id}/actions?status=success&status=error")).await;
        assert_eq!(r.body["actions"].as_array().map(Vec::len), Some(3));
        let r = api.get(&format!("/floating_ips/{id}/actions?status=bogus")).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
        let r = api.get(&format!("/floating_ips/{id}/actions?sort=resources")).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));

        let r = api.get(&format!("/floating_ips/{id}/actions/{}", assign["id"])).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["action"]["id"], assign["id"]);
        assert_eq!(r.body["action"]["status"], "success");
        assert_eq!(r.body["action"]["progress"], 100);

        // An action of another floating IP is not one of this one's.
        let other = create_in_fsn1(&api, "other", "ipv4").await;
        let r = api.get(&format!("/floating_ips/{other}/actions/{}", assign["id"])).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
        let r = api.get(&format!("/floating_ips/{id}/actions/99999999")).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));

        // Today's API also lists every floating IP action of the project.
        let r = api.get("/floating_ips/actions?sort=id").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["actions"].as_array().map(Vec::len), Some(3));
        let r = api.get(&format!("/floating_ips/actions?id={}&id={}", assign["id"], unassign["id"])).await;
        let listed: Vec<&Value> = r.body["actions"].as_array().expect("actions").iter().map(|a| &a["id"]).collect();
        assert_eq!(listed, [&assign["id"], &unassign["id"]]);
        let r = api.get(&format!("/floating_ips/actions/{}", assign["id"])).await;
        assert_eq!(r.body["action"]["command"], "assign_floating_ip");
        let r = api.get("/floating_ips/actions/99999999").await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    }

    #[tokio::test]
    async fn reverse_dns_for_ipv4_and_ipv6() {
        let api = TestApi::new().await;
        let v4 = create_in_fsn1(&api, "v4", "ipv4").await;
        let v6 = create_in_fsn1(&api, "v6", "ipv6").await;
        let fip = |id: i64| {
            let api = &api;
            async move { api.get(&format!("/floating_ips/{id}")).await.body["floating_ip"].clone() }
        };
        let addr4 = fip(v4).await["ip"].as_str().expect("ip").to_string();

        let r = api
            .post(
                &format!("/floating_ips/{v4}/actions/change_dns_ptr"),
                json!({"ip": addr4, "dns_ptr": "vip.example.com"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["action"]["command"], "change_dns_ptr");
        assert_eq!(r.body["action"]["resources"], json!([{"id": v4, "type": "floating_ip"}]));
        api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
        assert_eq!(fip(v4).await["dns_ptr"], json!([{"ip": addr4, "dns_ptr": "vip.example.com"}]));

        // null resets to the default.
        let r = api
            .post(&format!("/floating_ips/{v4}/actions/change_dns_ptr"), json!({"ip": addr4, "dns_ptr": null}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let ptr = fip(v4).await["dns_ptr"][0]["dns_ptr"].as_str().expect("ptr").to_string();
        assert!(ptr.ends_with(".clients.your-server.de"), "{ptr}");

        let net = fip(v6).await["ip"].as_str().expect("ip").to_string();
        let one = net.replace("::/64", "::1");
        let r = api
            .post(
                &format!("/floating_ips/{v6}/actions/change_dns_ptr"),
                json!({"ip": one, "dns_ptr": "v6.example.com"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(fip(v6).await["dns_ptr"], json!([{"ip": one, "dns_ptr": "v6.example.com"}]));

        let cases = [
            (v4, json!({"ip": "192.0.2.1", "dns_ptr": "x.example.com"}), "ip"),
            (v6, json!({"ip": "2001:db9::1", "dns_ptr": "x.example.com"}), "ip"),
            (v4, json!({"ip": addr4, "dns_ptr": "not a hostname"}), "dns_ptr"),
            (v4, json!({"dns_ptr": "x.example.com"}), "ip"),
        ];
        for (id, body, field) in cases {
            let r = api.post(&format!("/floating_ips/{id}/actions/change_dns_ptr"), body.clone()).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{body}: {:?}", r.body);
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field, "{body}");
        }
    }

    #[tokio::test]
    async fn protection_blocks_delete() {
        let api = TestApi::new().await;
        let id = create_in_fsn1(&api, "keep", "ipv4").await;
        let path = format!("/floating_ips/{id}");
        let r = api.post(&format!("{path}/actions/change_protection"), json!({"delete": true})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        assert_eq!(r.body["action"]["command"], "change_protection");
        api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
        assert_eq!(api.get(&path).await.body["floating_ip"]["protection"], json!({"delete": true}));

        let r = api.delete(&path).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "protected"));
        assert_eq!(api.get(&path).await.status, StatusCode::OK, "still there");

        // `delete` is required (Schemathesis sent `{}` and got an action): nothing changes.
        let r = api.post(&format!("{path}/actions/change_protection"), json!({})).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
        assert_eq!(api.get(&path).await.body["floating_ip"]["protection"], json!({"delete": true}));

        let r = api.post(&format!("{path}/actions/change_protection"), json!({"delete": "yes"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
        let r = api.post(&format!("{path}/actions/change_protection"), json!({"delete": false})).await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = api.delete(&path).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(r.body, Value::Null);
        assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn deleting_an_assigned_ip_unassigns_it() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "web").await;
        let body = create(&api, json!({"type": "ipv4", "server": server})).await;
        api.wait_action(body["action"]["id"].as_i64().expect("id")).await;
        let id = body["floating_ip"]["id"].as_i64().expect("id");
        let r = api.delete(&format!("/floating_ips/{id}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
        assert_eq!(api.get("/floating_ips").await.body["floating_ips"], json!([]));
    }

    /// Every floating IP endpoint that names an id, with a body where it takes one.
    fn endpoints(id: i64, action: i64, server: i64) -> Vec<(Method, String, Option<Value>)> {
        vec![
            (Method::GET, format!("/floating_ips/{id}"), None),
            (Method::PUT, format!("/floating_ips/{id}"), Some(json!({"description": "x"}))),
            (Method::DELETE, format!("/floating_ips/{id}"), None),
            (Method::GET, format!("/floating_ips/{id}/actions"), None),
            (Method::GET, format!("/floating_ips/{id}/actions/{action}"), None),
            (Method::POST, format!("/floating_ips/{id}/actions/assign"), Some(json!({"server": server}))),
            (Method::POST, format!("/floating_ips/{id}/actions/unassign"), Some(json!({}))),
            (
                Method::POST,
                format!("/floating_ips/{id}/actions/change_dns_ptr"),
                Some(json!({"ip": "198.18.0.2", "dns_ptr": "a.example.com"})),
            ),
            (Method::POST, format!("/floating_ips/{id}/actions/change_protection"), Some(json!({"delete": true}))),
            (Method::GET, format!("/floating_ips/actions/{action}"), None),
        ]
    }

    #[tokio::test]
    async fn missing_ids_are_not_found() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "web").await;
        for (method, path, body) in endpoints(987_654_321, 987_654_322, server) {
            let r = api.call_as(&api.token, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}: {:?}", r.body);
        }
        let r = api.get("/floating_ips/abc").await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    }

    #[tokio::test]
    async fn another_projects_ip_is_not_found() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "web").await;
        let body = create(&api, json!({"type": "ipv4", "server": server, "name": "mine"})).await;
        let id = body["floating_ip"]["id"].as_i64().expect("id");
        let action = body["action"]["id"].as_i64().expect("action id");
        let other = api.other_token().await;
        let their_server = api.make_server(&other, "theirs").await;
        for (method, path, body) in endpoints(id, action, their_server) {
            let r = api.call_as(&other, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}: {:?}", r.body);
        }
        let r = api.call_as(&other, Method::GET, "/floating_ips", None).await;
        assert_eq!(r.body["floating_ips"], json!([]));
        let r = api.call_as(&other, Method::GET, "/floating_ips/actions", None).await;
        assert_eq!(r.body["actions"], json!([]));
        // Nor can the other project assign its IPs to this project's server.
        let r =
            api.call_as(&other, Method::POST, "/floating_ips", Some(json!({"type": "ipv4", "server": server}))).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));

        let fip = api.get(&format!("/floating_ips/{id}")).await.body["floating_ip"].clone();
        assert_eq!(
            (fip["name"].as_str(), fip["protection"]["delete"].as_bool()),
            (Some("mine"), Some(false)),
            "untouched"
        );
        assert_eq!(fip["server"], server);
    }
}
