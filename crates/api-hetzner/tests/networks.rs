//! `/networks`, their members and actions: shapes, subnet and route rules, range
//! changes, protection, deletion with attached servers, filters, errors and tenancy.

mod common;

use axum::http::{Method, StatusCode};
use common::{Answer, TestApi};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use stratus_compute::sim::{SimDriver, SimTimings};

async fn create(api: &TestApi, body: Value) -> Value {
    let r = api.post("/networks", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["network"].clone()
}

/// A `10.0.0.0/16` network with the subnet `10.0.1.0/24` in eu-central (fsn1's zone).
async fn network(api: &TestApi, name: &str) -> i64 {
    let body = json!({
        "name": name,
        "ip_range": "10.0.0.0/16",
        "subnets": [{"type": "cloud", "ip_range": "10.0.1.0/24", "network_zone": "eu-central"}],
    });
    create(api, body).await["id"].as_i64().expect("id")
}

async fn get(api: &TestApi, id: i64) -> Value {
    let r = api.get(&format!("/networks/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["network"].clone()
}

/// Posts a network action, checks the answer and waits for it; the finished action.
async fn act(api: &TestApi, id: i64, action: &str, body: Value) -> Value {
    let r = api.post(&format!("/networks/{id}/actions/{action}"), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{action}: {:?}", r.body);
    assert_eq!(r.body["action"]["resources"], json!([{"id": id, "type": "network"}]), "{action}");
    api.wait_action(r.body["action"]["id"].as_i64().expect("action id")).await
}

fn assert_error(r: &Answer, status: StatusCode, code: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{:?}", r.body);
}

fn names(body: &Value) -> Vec<&str> {
    body["networks"].as_array().expect("list").iter().map(|n| n["name"].as_str().expect("name")).collect()
}

async fn attach(api: &TestApi, server: i64, network: i64, body: Value) -> Value {
    let mut body = body;
    body["network"] = json!(network);
    let r = api.post(&format!("/servers/{server}/actions/attach_to_network"), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    api.wait_action(r.body["action"]["id"].as_i64().expect("action id")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_answers_the_network_alone_with_every_field() {
        let api = TestApi::new().await;
        let r = api
            .post(
                "/networks",
                json!({
                    "name": "mynet",
                    "ip_range": "10.0.0.0/16",
                    "labels": {"env": "prod"},
                    "subnets": [{"type": "cloud", "ip_range": "10.0.1.0/24", "network_zone": "eu-central"}],
                    "routes": [{"destination": "10.100.1.0/24", "gateway": "10.0.1.1"}],
                    "expose_routes_to_vswitch": true,
                }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let keys: Vec<&String> = r.body.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["network"], "Hetzner answers a new network without an action");
        let n = &r.body["network"];
        let mut fields: Vec<&str> = n.as_object().expect("object").keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "created",
                "expose_routes_to_vswitch",
                "id",
                "ip_range",
                "labels",
                "load_balancers",
                "name",
                "protection",
                "routes",
                "servers",
                "subnets"
            ]
        );
        assert!(n["id"].is_i64());
        assert_eq!(n["name"], "mynet");
        assert_eq!(n["ip_range"], "10.0.0.0/16");
        // The gateway of a subnet is the network's first address, as Hetzner shows it.
        assert_eq!(
            n["subnets"],
            json!([{"type": "cloud", "ip_range": "10.0.1.0/24", "network_zone": "eu-central", "gateway": "10.0.0.1", "vswitch_id": null}])
        );
        assert_eq!(n["routes"], json!([{"destination": "10.100.1.0/24", "gateway": "10.0.1.1"}]));
        assert_eq!(n["servers"], json!([]));
        assert_eq!(n["load_balancers"], json!([]));
        assert_eq!(n["expose_routes_to_vswitch"], true);
        assert_eq!(n["protection"], json!({"delete": false}));
        assert_eq!(n["labels"], json!({"env": "prod"}));
        assert!(chrono::DateTime::parse_from_rfc3339(n["created"].as_str().expect("created")).is_ok());
        let id = n["id"].as_i64().expect("id");
        assert_eq!(get(&api, id).await, *n);
        // Its creation is no Hetzner action: none is listed.
        assert_eq!(api.get(&format!("/networks/{id}/actions")).await.body["actions"], json!([]));
        assert_eq!(api.get("/networks/actions").await.body["actions"], json!([]));
    }

    #[tokio::test]
    async fn create_checks_the_range_the_subnets_and_the_routes() {
        let api = TestApi::new().await;
        network(&api, "taken").await;
        let net = |extra: Value| {
            let mut body = json!({"name": "n", "ip_range": "10.0.0.0/16"});
            if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
                b.extend(e.clone());
            }
            body
        };
        let subnet = |s: Value| net(json!({"subnets": [s]}));
        let cases = [
            (net(json!({"ip_range": "8.8.0.0/16"})), "ip_range", "not RFC 1918"),
            (net(json!({"ip_range": "10.0.0.0/25"})), "ip_range", "smaller than /24"),
            (net(json!({"ip_range": "10.0.0.0/7"})), "ip_range", "larger than /8"),
            (net(json!({"ip_range": "10.0.0.1/16"})), "ip_range", "host bits"),
            (net(json!({"ip_range": "10.0.0.0"})), "ip_range", "no prefix"),
            (
                subnet(json!({"type": "cloud", "ip_range": "10.1.0.0/24", "network_zone": "eu-central"})),
                "ip_range",
                "outside",
            ),
            (
                subnet(json!({"type": "cloud", "ip_range": "10.0.0.0/31", "network_zone": "eu-central"})),
                "ip_range",
                "smaller than /30",
            ),
            (subnet(json!({"type": "cloud", "network_zone": "mars"})), "network_zone", "unknown zone"),
            (subnet(json!({"type": "vswitch", "network_zone": "eu-central"})), "vswitch_id", "vswitch without id"),
            (
                subnet(json!({"type": "cloud", "network_zone": "eu-central", "vswitch_id": 5})),
                "vswitch_id",
                "id without vswitch",
            ),
            (subnet(json!({"type": "dedicated", "network_zone": "eu-central"})), "subnets[0].type", "unknown type"),
            (
                net(json!({"routes": [{"destination": "8.8.8.0/24", "gateway": "10.0.1.1"}]})),
                "destination",
                "public destination",
            ),
            (
                net(json!({"routes": [{"destination": "172.31.0.0/16", "gateway": "10.0.1.1"}]})),
                "destination",
                "holds 172.31.1.1",
            ),
            (
                net(json!({"routes": [{"destination": "10.100.0.0/16", "gateway": "10.0.0.1"}]})),
                "gateway",
                "the network's first IP",
            ),
            (
                net(json!({"routes": [{"destination": "10.100.0.0/16", "gateway": "192.168.0.1"}]})),
                "gateway",
                "outside",
            ),
            (json!({"ip_range": "10.0.0.0/16"}), "name", "no name"),
        ];
        for (body, field, why) in cases {
            let r = api.post("/networks", body).await;
            assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field, "{why}: {:?}", r.body);
        }
        let r = api.post("/networks", json!({"name": "taken", "ip_range": "10.0.0.0/16"})).await;
        assert_error(&r, StatusCode::CONFLICT, "uniqueness_error");
        let r = api.post("/networks", json!({"name": "x", "ip_range": 5})).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(names(&api.get("/networks").await.body), ["taken"], "nothing half-made");
    }

    #[tokio::test]
    async fn list_filters_sorts_and_pages() {
        let api = TestApi::new().await;
        for (name, env) in [("b", "prod"), ("a", "dev"), ("c", "prod")] {
            create(&api, json!({"name": name, "ip_range": "10.0.0.0/16", "labels": {"env": env}})).await;
        }
        assert_eq!(names(&api.get("/networks").await.body), ["b", "a", "c"], "id order");
        assert_eq!(names(&api.get("/networks?sort=name").await.body), ["a", "b", "c"]);
        assert_eq!(names(&api.get("/networks?sort=name:desc").await.body), ["c", "b", "a"]);
        assert_eq!(names(&api.get("/networks?sort=created:desc&sort=id:desc").await.body), ["c", "a", "b"]);
        assert_eq!(names(&api.get("/networks?name=a").await.body), ["a"]);
        assert_eq!(names(&api.get("/networks?label_selector=env%3Dprod").await.body), ["b", "c"]);
        assert_eq!(names(&api.get("/networks?label_selector=env!%3Dprod").await.body), ["a"]);
        let page = api.get("/networks?per_page=2&page=2").await.body;
        assert_eq!(names(&page), ["c"]);
        assert_eq!(
            page["meta"]["pagination"],
            json!({"page": 2, "per_page": 2, "previous_page": 1, "next_page": null, "last_page": 2, "total_entries": 3})
        );
        assert_error(&api.get("/networks?sort=ip_range").await, StatusCode::BAD_REQUEST, "invalid_input");
        assert_error(&api.get("/networks?label_selector=%3D%3D").await, StatusCode::BAD_REQUEST, "invalid_input");
    }

    #[tokio::test]
    async fn update_renames_relabels_and_toggles_vswitch_routes() {
        let api = TestApi::new().await;
        let id = network(&api, "old").await;
        network(&api, "other").await;
        let r = api
            .put(
                &format!("/networks/{id}"),
                json!({"name": "new", "labels": {"k": "v"}, "expose_routes_to_vswitch": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let n = &r.body["network"];
        assert_eq!(
            (&n["name"], &n["labels"], &n["expose_routes_to_vswitch"]),
            (&json!("new"), &json!({"k": "v"}), &json!(true))
        );
        assert_eq!(n["subnets"][0]["ip_range"], "10.0.1.0/24", "the rest is kept");
        // Each field alone, as Ansible sends them.
        let n = api.put(&format!("/networks/{id}"), json!({"expose_routes_to_vswitch": false})).await.body;
        assert_eq!((&n["network"]["name"], &n["network"]["expose_routes_to_vswitch"]), (&json!("new"), &json!(false)));
        assert_error(
            &api.put(&format!("/networks/{id}"), json!({"name": "other"})).await,
            StatusCode::CONFLICT,
            "uniqueness_error",
        );
        assert_error(
            &api.put(&format!("/networks/{id}"), json!({"name": ""})).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        );
        assert_error(&api.put("/networks/999999", json!({"name": "x"})).await, StatusCode::NOT_FOUND, "not_found");
    }

    #[tokio::test]
    async fn subnets_are_added_picked_and_deleted() {
        let api = TestApi::new().await;
        let id = create(
            &api,
            json!({"name": "n", "ip_range": "10.0.0.0/16", "subnets": [{"type": "cloud", "ip_range": "10.0.0.0/24", "network_zone": "eu-central"}]}),
        )
        .await["id"]
            .as_i64()
            .expect("id");
        let a = act(&api, id, "add_subnet", json!({"type": "cloud", "network_zone": "eu-central"})).await;
        assert_eq!((&a["command"], &a["status"]), (&json!("add_subnet"), &json!("success")));
        // The deprecated type `server` is kept as sent (Ansible compares it).
        act(
            &api,
            id,
            "add_subnet",
            json!({"type": "server", "ip_range": "10.0.128.0/30", "network_zone": "eu-central"}),
        )
        .await;
        act(
            &api,
            id,
            "add_subnet",
            json!({"type": "vswitch", "ip_range": "10.0.200.0/24", "network_zone": "eu-central", "vswitch_id": 1000}),
        )
        .await;
        let subnets = get(&api, id).await["subnets"].clone();
        let ranges: Vec<&str> =
            subnets.as_array().expect("subnets").iter().map(|s| s["ip_range"].as_str().expect("range")).collect();
        assert_eq!(
            ranges,
            ["10.0.0.0/24", "10.0.1.0/24", "10.0.128.0/30", "10.0.200.0/24"],
            "the first free /24 is picked"
        );
        assert_eq!(subnets[2]["type"], "server");
        assert_eq!((&subnets[3]["type"], &subnets[3]["vswitch_id"]), (&json!("vswitch"), &json!(1000)));

        let r = api
            .post(
                &format!("/networks/{id}/actions/add_subnet"),
                json!({"type": "cloud", "ip_range": "10.0.1.128/25", "network_zone": "eu-central"}),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        let r = api
            .post(
                &format!("/networks/{id}/actions/add_subnet"),
                json!({"ip_range": "10.0.5.0/24", "network_zone": "eu-central"}),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");

        let a = act(&api, id, "delete_subnet", json!({"ip_range": "10.0.128.0/30"})).await;
        assert_eq!((&a["command"], &a["status"]), (&json!("delete_subnet"), &json!("success")));
        assert_eq!(get(&api, id).await["subnets"].as_array().expect("subnets").len(), 3);
        let r = api.post(&format!("/networks/{id}/actions/delete_subnet"), json!({"ip_range": "10.0.128.0/30"})).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
    }

    #[tokio::test]
    async fn a_subnet_in_use_cannot_be_deleted() {
        let api = TestApi::new().await;
        let id = network(&api, "n").await;
        let server = api.make_server(&api.token, "web").await;
        attach(&api, server, id, json!({})).await;
        let r = api.post(&format!("/networks/{id}/actions/delete_subnet"), json!({"ip_range": "10.0.1.0/24"})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "resource_in_use");
        assert_eq!(get(&api, id).await["subnets"].as_array().expect("subnets").len(), 1);
    }

    #[tokio::test]
    async fn routes_are_added_and_deleted_exactly() {
        let api = TestApi::new().await;
        let id = network(&api, "n").await;
        let route = json!({"destination": "10.100.1.0/24", "gateway": "10.0.1.1"});
        let a = act(&api, id, "add_route", route.clone()).await;
        assert_eq!((&a["command"], &a["status"]), (&json!("add_route"), &json!("success")));
        act(&api, id, "add_route", json!({"destination": "0.0.0.0/0", "gateway": "10.0.1.2"})).await;
        assert_eq!(get(&api, id).await["routes"], json!([route, {"destination": "0.0.0.0/0", "gateway": "10.0.1.2"}]));
        for (body, why) in [
            (json!({"destination": "10.100.1.0/25", "gateway": "10.0.1.1"}), "overlaps a route"),
            (json!({"destination": "10.0.1.0/24", "gateway": "10.0.1.1"}), "overlaps a subnet"),
            (json!({"destination": "0.0.0.0/0", "gateway": "10.0.1.3"}), "a second default route"),
            (json!({"destination": "10.200.0.0/16", "gateway": "172.31.1.1"}), "the public gateway"),
            (json!({"destination": "10.200.0.0/16", "gateway": "nope"}), "not an address"),
        ] {
            let r = api.post(&format!("/networks/{id}/actions/add_route"), body).await;
            assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
            assert!(r.body["error"]["message"].is_string(), "{why}");
        }
        let r = api
            .post(
                &format!("/networks/{id}/actions/delete_route"),
                json!({"destination": "10.100.1.0/24", "gateway": "10.0.1.9"}),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        let a = act(&api, id, "delete_route", route).await;
        assert_eq!((&a["command"], &a["status"]), (&json!("delete_route"), &json!("success")));
        assert_eq!(get(&api, id).await["routes"], json!([{"destination": "0.0.0.0/0", "gateway": "10.0.1.2"}]));
    }

    #[tokio::test]
    async fn the_range_only_grows() {
        let api = TestApi::new().await;
        let id = network(&api, "n").await;
        for (range, why) in [
            ("10.0.0.0/17", "shrinks"),
            ("10.1.0.0/16", "moves"),
            ("10.0.0.0/7", "too large"),
            ("10.0.0.5/15", "host bits"),
        ] {
            let r = api.post(&format!("/networks/{id}/actions/change_ip_range"), json!({"ip_range": range})).await;
            assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
            assert!(r.body["error"]["message"].is_string(), "{why}");
        }
        let a = act(&api, id, "change_ip_range", json!({"ip_range": "10.0.0.0/12"})).await;
        assert_eq!((&a["command"], &a["status"]), (&json!("change_ip_range"), &json!("success")));
        let n = get(&api, id).await;
        assert_eq!(n["ip_range"], "10.0.0.0/12");
        assert_eq!(n["subnets"][0]["gateway"], "10.0.0.1", "the gateway stays the first address");
    }

    #[tokio::test]
    async fn protection_guards_deletion() {
        let api = TestApi::new().await;
        let id = network(&api, "n").await;
        let a = act(&api, id, "change_protection", json!({"delete": true})).await;
        assert_eq!((&a["command"], &a["status"]), (&json!("change_protection"), &json!("success")));
        assert_eq!(get(&api, id).await["protection"], json!({"delete": true}));
        assert_error(&api.delete(&format!("/networks/{id}")).await, StatusCode::FORBIDDEN, "protected");
        act(&api, id, "change_protection", json!({"delete": false})).await;
        let r = api.delete(&format!("/networks/{id}")).await;
        assert_eq!((r.status, &r.body), (StatusCode::NO_CONTENT, &Value::Null));
        assert!(r.headers.get("content-type").is_none(), "a 204 has no JSON content type");
        assert_error(&api.get(&format!("/networks/{id}")).await, StatusCode::NOT_FOUND, "not_found");
    }

    #[tokio::test]
    async fn deleting_detaches_the_servers_in_it() {
        let api = TestApi::new().await;
        let id = network(&api, "n").await;
        let server = api.make_server(&api.token, "web").await;
        attach(&api, server, id, json!({"ip": "10.0.1.5"})).await;
        assert_eq!(get(&api, id).await["servers"], json!([server]));
        let r = api.delete(&format!("/networks/{id}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
        // At once, no server shows a network that is gone (hcloud-go would panic).
        let s = api.get(&format!("/servers/{server}")).await.body;
        assert_eq!(s["server"]["private_net"], json!([]));
        assert_error(&api.get(&format!("/networks/{id}")).await, StatusCode::NOT_FOUND, "not_found");
        // The name is free again right away.
        network(&api, "n").await;
    }

    #[tokio::test]
    async fn members_show_each_interface_with_six_fields() {
        let api = TestApi::new().await;
        let id = network(&api, "n").await;
        act(&api, id, "add_subnet", json!({"type": "cloud", "ip_range": "10.0.2.0/24", "network_zone": "eu-central"}))
            .await;
        let a = api.make_server(&api.token, "a").await;
        let b = api.make_server(&api.token, "b").await;
        attach(&api, a, id, json!({"ip": "10.0.2.7", "alias_ips": ["10.0.2.8"]})).await;
        attach(&api, b, id, json!({})).await;
        let r = api.get(&format!("/networks/{id}/members")).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(
            r.body["members"],
            json!([
                {"id": a, "type": "server", "ip": "10.0.2.7", "alias_ips": ["10.0.2.8"], "subnet": "10.0.2.0/24", "status": "ok"},
                {"id": b, "type": "server", "ip": "10.0.1.1", "alias_ips": [], "subnet": "10.0.1.0/24", "status": "ok"},
            ])
        );
        assert_eq!(r.body["meta"]["pagination"]["total_entries"], 2);
        let ids = |r: &Answer| -> Vec<i64> {
            r.body["members"].as_array().expect("members").iter().map(|m| m["id"].as_i64().expect("id")).collect()
        };
        assert_eq!(ids(&api.get(&format!("/networks/{id}/members?sort=ip")).await), [b, a]);
        assert_eq!(ids(&api.get(&format!("/networks/{id}/members?sort=id:desc")).await), [b, a]);
        assert_eq!(ids(&api.get(&format!("/networks/{id}/members?subnet=10.0.2.0/24")).await), [a]);
        assert_eq!(ids(&api.get(&format!("/networks/{id}/members?type=server&status=ok")).await), [a, b]);
        assert_eq!(ids(&api.get(&format!("/networks/{id}/members?type=load_balancer")).await), Vec::<i64>::new());
        assert_eq!(ids(&api.get(&format!("/networks/{id}/members?status=attaching")).await), Vec::<i64>::new());
        assert_eq!(ids(&api.get(&format!("/networks/{id}/members?per_page=1&page=2")).await), [b]);
        assert_error(
            &api.get(&format!("/networks/{id}/members?type=volume")).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        );
        assert_error(
            &api.get(&format!("/networks/{id}/members?status=gone")).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        );
        assert_eq!(get(&api, id).await["servers"], json!([a, b]));
    }

    #[tokio::test]
    async fn action_lists_and_lookups() {
        let api = TestApi::new().await;
        let id = network(&api, "n").await;
        let other = network(&api, "m").await;
        let a = act(&api, id, "add_route", json!({"destination": "10.100.0.0/16", "gateway": "10.0.1.1"})).await;
        let b = act(&api, id, "change_protection", json!({"delete": true})).await;
        let c = act(&api, other, "change_protection", json!({"delete": true})).await;
        let ids = |v: &Value| -> Vec<i64> {
            v["actions"].as_array().expect("actions").iter().map(|x| x["id"].as_i64().expect("id")).collect()
        };
        let (a, b, c) = (a["id"].as_i64().unwrap(), b["id"].as_i64().unwrap(), c["id"].as_i64().unwrap());
        assert_eq!(ids(&api.get(&format!("/networks/{id}/actions")).await.body), [a, b]);
        assert_eq!(ids(&api.get(&format!("/networks/{id}/actions?sort=id:desc")).await.body), [b, a]);
        assert_eq!(ids(&api.get("/networks/actions").await.body), [a, b, c]);
        assert_eq!(ids(&api.get(&format!("/networks/actions?id={c}")).await.body), [c]);
        assert_eq!(api.get(&format!("/networks/actions/{a}")).await.body["action"]["command"], "add_route");
        assert_eq!(
            api.get(&format!("/networks/{id}/actions/{b}")).await.body["action"]["command"],
            "change_protection"
        );
        assert_error(&api.get(&format!("/networks/{id}/actions/{c}")).await, StatusCode::NOT_FOUND, "not_found");
    }

    #[tokio::test]
    async fn a_change_asked_for_while_another_runs_waits_for_it() {
        // Applying a network takes a while: the create's own action still runs when the
        // client adds a subnet, as Ansible and Terraform do at once.
        let timings = SimTimings { apply_network: Duration::from_millis(200), ..SimTimings::instant() };
        let api = TestApi::with_driver(Arc::new(SimDriver::with_timings(timings))).await;
        let id = create(&api, json!({"name": "n", "ip_range": "10.0.0.0/16"})).await["id"].as_i64().expect("id");
        let first = api
            .post(&format!("/networks/{id}/actions/add_subnet"), json!({"type": "cloud", "network_zone": "eu-central"}))
            .await;
        let second = api
            .post(&format!("/networks/{id}/actions/add_subnet"), json!({"type": "cloud", "network_zone": "eu-central"}))
            .await;
        assert_eq!((first.status, second.status), (StatusCode::CREATED, StatusCode::CREATED), "{:?}", second.body);
        assert_eq!(first.body["action"]["status"], "running");
        for r in [&first, &second] {
            let a = api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
            assert_eq!(a["status"], "success", "{a:?}");
        }
        // Each picked its /24 when it ran, so they do not collide.
        let ranges: Vec<Value> =
            get(&api, id).await["subnets"].as_array().expect("subnets").iter().map(|s| s["ip_range"].clone()).collect();
        assert_eq!(ranges, [json!("10.0.0.0/24"), json!("10.0.1.0/24")]);
    }

    #[tokio::test]
    async fn another_projects_network_is_not_found_everywhere() {
        let api = TestApi::new().await;
        let id = network(&api, "mine").await;
        let action = act(&api, id, "change_protection", json!({"delete": false})).await["id"].as_i64().expect("id");
        let other = api.other_token().await;
        let endpoints: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/networks/{id}"), None),
            (Method::PUT, format!("/networks/{id}"), Some(json!({"name": "stolen"}))),
            (Method::DELETE, format!("/networks/{id}"), None),
            (Method::GET, format!("/networks/{id}/members"), None),
            (Method::GET, format!("/networks/{id}/actions"), None),
            (Method::GET, format!("/networks/{id}/actions/{action}"), None),
            (Method::GET, format!("/networks/actions/{action}"), None),
            (
                Method::POST,
                format!("/networks/{id}/actions/add_subnet"),
                Some(json!({"type": "cloud", "network_zone": "eu-central"})),
            ),
            (Method::POST, format!("/networks/{id}/actions/delete_subnet"), Some(json!({"ip_range": "10.0.1.0/24"}))),
            (
                Method::POST,
                format!("/networks/{id}/actions/add_route"),
                Some(json!({"destination": "10.100.0.0/16", "gateway": "10.0.1.1"})),
            ),
            (
                Method::POST,
                format!("/networks/{id}/actions/delete_route"),
                Some(json!({"destination": "10.100.0.0/16", "gateway": "10.0.1.1"})),
            ),
            (Method::POST, format!("/networks/{id}/actions/change_ip_range"), Some(json!({"ip_range": "10.0.0.0/15"}))),
            (Method::POST, format!("/networks/{id}/actions/change_protection"), Some(json!({"delete": true}))),
        ];
        for (method, path, body) in endpoints {
            let r = api.call_as(&other, method.clone(), &path, body).await;
            assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        }
        assert_eq!(api.call_as(&other, Method::GET, "/networks", None).await.body["networks"], json!([]));
        assert_eq!(api.call_as(&other, Method::GET, "/networks/actions", None).await.body["actions"], json!([]));
        // Nor can the other project attach its servers to this network.
        let theirs = api.make_server(&other, "theirs").await;
        let r = api
            .call_as(
                &other,
                Method::POST,
                &format!("/servers/{theirs}/actions/attach_to_network"),
                Some(json!({"network": id})),
            )
            .await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        let n = get(&api, id).await;
        assert_eq!(
            (&n["name"], &n["servers"], &n["subnets"][0]["ip_range"]),
            (&json!("mine"), &json!([]), &json!("10.0.1.0/24"))
        );
    }
}
