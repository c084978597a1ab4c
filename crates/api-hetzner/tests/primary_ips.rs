//! `/primary_ips` and their actions: shapes, creation with and without an assignee,
//! assignment, reverse DNS, protection, deletion, lists, errors and tenancy; and servers
//! created with existing primary IPs.

mod common;

use axum::http::{Method, StatusCode};
use common::{Answer, TestApi};
use serde_json::{json, Value};

/// The keys `components.schemas.primary_ip` requires.
const PRIMARY_IP_KEYS: [&str; 14] = [
    "assignee_id",
    "assignee_type",
    "auto_delete",
    "blocked",
    "created",
    "datacenter",
    "dns_ptr",
    "id",
    "ip",
    "labels",
    "location",
    "name",
    "protection",
    "type",
];

fn assert_error(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!((a.status, a.code()), (status, code), "{:?}", a.body);
    assert!(a.body["error"]["message"].is_string(), "{:?}", a.body);
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().expect("integer id")
}

async fn create(api: &TestApi, body: Value) -> Value {
    let r = api.post("/primary_ips", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    if let Some(action) = r.body["action"].as_object() {
        assert_eq!(api.wait_action(action["id"].as_i64().expect("id")).await["status"], "success");
    }
    r.body
}

/// An unassigned primary IP in fsn1, as the CLI creates one; its id.
async fn make_ip(api: &TestApi, name: &str, family: &str) -> i64 {
    let body = json!({"name": name, "type": family, "assignee_type": "server", "datacenter": "fsn1-dc14"});
    id_of(&create(api, body).await["primary_ip"])
}

async fn primary_ip(api: &TestApi, id: i64) -> Value {
    let r = api.get(&format!("/primary_ips/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["primary_ip"].clone()
}

/// A server that is off, with a new primary IPv4 or none; its id.
async fn off_server(api: &TestApi, token: &str, name: &str, ipv4: bool) -> i64 {
    let body = json!({
        "name": name, "server_type": "cx22", "image": "debian-12", "location": "fsn1",
        "start_after_create": false, "public_net": {"enable_ipv4": ipv4, "enable_ipv6": true},
    });
    let r = api.call_as(token, Method::POST, "/servers", Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    api.wait_action_as(token, id_of(&r.body["action"])).await;
    id_of(&r.body["server"])
}

async fn act(api: &TestApi, id: i64, action: &str, body: Value) -> Answer {
    let r = api.post(&format!("/primary_ips/{id}/actions/{action}"), body).await;
    if r.status == StatusCode::CREATED {
        assert_eq!(api.wait_action(id_of(&r.body["action"])).await["status"], "success", "{action}");
    }
    r
}

async fn server(api: &TestApi, id: i64) -> Value {
    api.get(&format!("/servers/{id}")).await.body["server"].clone()
}

fn names(body: &Value) -> Vec<&str> {
    body["primary_ips"].as_array().expect("list").iter().map(|i| i["name"].as_str().expect("name")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_in_a_datacenter_renders_the_full_object() {
        let api = TestApi::new().await;
        let body = json!({"name": "web", "type": "ipv4", "assignee_type": "server", "datacenter": "fsn1-dc14", "labels": {"env": "prod"}});
        let body = create(&api, body).await;
        // No assignee, no action: left out, not null (Schemathesis: the document's action is
        // an optional object, not nullable).
        assert!(body.get("action").is_none(), "{body}");
        let ip = &body["primary_ip"];
        let mut keys: Vec<&str> = ip.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, PRIMARY_IP_KEYS);
        assert_eq!((&ip["name"], &ip["type"], &ip["labels"]), (&json!("web"), &json!("ipv4"), &json!({"env": "prod"})));
        assert_eq!((&ip["assignee_id"], &ip["assignee_type"]), (&Value::Null, &json!("server")));
        assert_eq!((&ip["auto_delete"], &ip["blocked"]), (&json!(false), &json!(false)));
        assert_eq!(ip["protection"], json!({"delete": false}));
        assert!(chrono::DateTime::parse_from_rfc3339(ip["created"].as_str().expect("created")).is_ok());
        let addr: std::net::Ipv4Addr = ip["ip"].as_str().expect("ip").parse().expect("an IPv4 address");
        assert_eq!(ip["dns_ptr"].as_array().map(Vec::len), Some(1), "an IPv4 address always has a PTR");
        assert_eq!(ip["dns_ptr"][0]["ip"], addr.to_string());
        // Both the location (hcloud-python 2.27) and the full datacenter (2.8, hcloud-go).
        assert_eq!(ip["location"]["name"], "fsn1");
        assert!(ip["location"]["network_zone"].is_string());
        let dc = &ip["datacenter"];
        assert_eq!((&dc["name"], &dc["location"]["name"]), (&json!("fsn1-dc14"), &json!("fsn1")));
        for key in ["supported", "available", "available_for_migration"] {
            assert!(dc["server_types"][key].is_array(), "datacenter.server_types.{key}");
        }
        assert_eq!(&primary_ip(&api, id_of(ip)).await, ip);
    }

    #[tokio::test]
    async fn the_datacenter_or_location_is_given_many_ways() {
        let api = TestApi::new().await;
        let dc = api.get("/datacenters?name=nbg1-dc3").await.body["datacenters"][0]["id"].clone();
        let location = api.get("/locations?name=hel1").await.body["locations"][0]["id"].clone();
        let cases = [
            (json!({"name": "by-dc-id", "type": "ipv6", "datacenter": dc}), "nbg1"),
            (json!({"name": "by-dc-digits", "type": "ipv6", "datacenter": dc.to_string()}), "nbg1"),
            (json!({"name": "by-location", "type": "ipv6", "location": "hel1"}), "hel1"),
            (json!({"name": "by-location-id", "type": "ipv6", "location": location}), "hel1"),
        ];
        for (body, want) in cases {
            let ip = create(&api, body.clone()).await["primary_ip"].clone();
            assert_eq!(ip["location"]["name"], want, "{body}");
            assert_eq!(ip["datacenter"]["location"]["name"], want, "{body}");
            let (network, prefix) = ip["ip"].as_str().and_then(|c| c.split_once('/')).expect("CIDR form");
            assert!(network.parse::<std::net::Ipv6Addr>().is_ok() && prefix == "64", "a /64: {}", ip["ip"]);
            assert_eq!(ip["dns_ptr"], json!([]));
        }
    }

    #[tokio::test]
    async fn create_refuses_bad_input() {
        let api = TestApi::new().await;
        make_ip(&api, "taken", "ipv4").await;
        let server = off_server(&api, &api.token, "s", false).await;
        let cases = [
            (json!({"type": "ipv4", "datacenter": "fsn1-dc14"}), "name"),
            (json!({"name": "x", "datacenter": "fsn1-dc14"}), "type"),
            (json!({"name": "x", "type": "ipv5", "datacenter": "fsn1-dc14"}), "type"),
            (json!({"name": "x", "type": "ipv4"}), "datacenter"),
            (json!({"name": "x", "type": "ipv4", "datacenter": "atlantis-dc1"}), "datacenter"),
            (json!({"name": "x", "type": "ipv4", "location": "atlantis"}), "location"),
            (
                json!({"name": "x", "type": "ipv4", "assignee_type": "load_balancer", "datacenter": "fsn1-dc14"}),
                "assignee_type",
            ),
            (
                json!({"name": "x", "type": "ipv4", "assignee_id": 987_654_321, "assignee_type": "server"}),
                "assignee_id",
            ),
            (json!({"name": "x", "type": "ipv4", "datacenter": "fsn1-dc14", "auto_delete": "yes"}), "auto_delete"),
            (json!({"name": "x", "type": "ipv4", "datacenter": "fsn1-dc14", "labels": {"bad key!": "v"}}), "labels"),
        ];
        for (body, field) in cases {
            let r = api.post("/primary_ips", body.clone()).await;
            assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field, "{body}: {:?}", r.body);
        }
        // An assignee and a place at once contradict each other.
        let both = json!({"name": "x", "type": "ipv4", "assignee_id": server, "assignee_type": "server", "datacenter": "fsn1-dc14"});
        assert_error(&api.post("/primary_ips", both).await, StatusCode::BAD_REQUEST, "invalid_input");
        let dup = json!({"name": "taken", "type": "ipv4", "datacenter": "fsn1-dc14"});
        assert_error(&api.post("/primary_ips", dup).await, StatusCode::CONFLICT, "uniqueness_error");
        let r = api.get("/primary_ips?name=x").await;
        assert_eq!(r.body["primary_ips"], json!([]), "nothing was made");
    }

    #[tokio::test]
    async fn create_with_an_assignee_assigns_by_action() {
        let api = TestApi::new().await;
        let srv = off_server(&api, &api.token, "s", false).await;
        // Ansible's body: the assignee and auto_delete.
        let body =
            json!({"name": "own", "type": "ipv4", "assignee_id": srv, "assignee_type": "server", "auto_delete": true});
        let r = api.post("/primary_ips", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let ip = &r.body["primary_ip"];
        let action = &r.body["action"];
        assert_eq!(action["command"], "assign_primary_ip");
        let resources = action["resources"].as_array().expect("resources");
        assert!(resources.contains(&json!({"id": ip["id"], "type": "primary_ip"})), "{resources:?}");
        assert!(resources.contains(&json!({"id": srv, "type": "server"})), "{resources:?}");
        assert_eq!(ip["location"]["name"], "fsn1", "the server's location");
        assert_eq!(ip["auto_delete"], true);
        api.wait_action(id_of(action)).await;
        assert_eq!(primary_ip(&api, id_of(ip)).await["assignee_id"], srv);
        assert_eq!(server(&api, srv).await["public_net"]["ipv4"]["id"], ip["id"]);

        // The server now has an IPv4 address; a running one takes none at all.
        let again = json!({"name": "two", "type": "ipv4", "assignee_id": srv, "assignee_type": "server"});
        assert_error(&api.post("/primary_ips", again).await, StatusCode::UNPROCESSABLE_ENTITY, "server_has_ipv4");
        let v6 = json!({"name": "v6", "type": "ipv6", "assignee_id": srv, "assignee_type": "server"});
        assert_error(&api.post("/primary_ips", v6).await, StatusCode::UNPROCESSABLE_ENTITY, "server_has_ipv6");
        let running = api.make_server(&api.token, "running").await;
        let body = json!({"name": "three", "type": "ipv4", "assignee_id": running, "assignee_type": "server"});
        assert_error(&api.post("/primary_ips", body).await, StatusCode::UNPROCESSABLE_ENTITY, "server_not_stopped");
        assert_eq!(names(&api.get("/primary_ips?name=two").await.body), Vec::<&str>::new(), "nothing was made");
    }

    #[tokio::test]
    async fn assign_and_unassign() {
        let api = TestApi::new().await;
        let id = make_ip(&api, "spare", "ipv4").await;
        let srv = off_server(&api, &api.token, "s", false).await;
        // The CLI's body carries an extra `ID` key.
        let r = act(&api, id, "assign", json!({"assignee_id": srv, "assignee_type": "server", "ID": id})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["action"]["command"], "assign_primary_ip");
        assert_eq!(primary_ip(&api, id).await["assignee_id"], srv);
        assert_eq!(server(&api, srv).await["public_net"]["ipv4"]["id"], id);

        let other = off_server(&api, &api.token, "t", false).await;
        let r = act(&api, id, "assign", json!({"assignee_id": other, "assignee_type": "server"})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "primary_ip_already_assigned");
        let spare = make_ip(&api, "spare2", "ipv4").await;
        let r = act(&api, spare, "assign", json!({"assignee_id": srv, "assignee_type": "server"})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "server_has_ipv4");

        // Unassigning needs the server off; the CLI sends no body.
        let r = api.post(&format!("/servers/{srv}/actions/poweron"), json!({})).await;
        api.wait_action(id_of(&r.body["action"])).await;
        let r = api.call_as(&api.token, Method::POST, &format!("/primary_ips/{id}/actions/unassign"), None).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "server_not_stopped");
        let r = api.post(&format!("/servers/{srv}/actions/poweroff"), json!({})).await;
        api.wait_action(id_of(&r.body["action"])).await;
        let r = api.call_as(&api.token, Method::POST, &format!("/primary_ips/{id}/actions/unassign"), None).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["action"]["command"], "unassign_primary_ip");
        api.wait_action(id_of(&r.body["action"])).await;
        assert_eq!(primary_ip(&api, id).await["assignee_id"], Value::Null);
        assert_eq!(server(&api, srv).await["public_net"]["ipv4"], Value::Null);

        // Another location's server cannot take it.
        let far = {
            let body = json!({"name": "far", "server_type": "cpx11", "image": "debian-12", "location": "ash",
                "start_after_create": false, "public_net": {"enable_ipv4": false, "enable_ipv6": true}});
            let r = api.post("/servers", body).await;
            api.wait_action(id_of(&r.body["action"])).await;
            id_of(&r.body["server"])
        };
        let r = act(&api, id, "assign", json!({"assignee_id": far, "assignee_type": "server"})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "primary_ip_datacenter_mismatch");
        for body in [
            json!({}),
            json!({"assignee_id": "s"}),
            json!({"assignee_id": 987_654_321}),
            json!({"assignee_id": srv, "assignee_type": "lb"}),
        ] {
            let r = act(&api, id, "assign", body.clone()).await;
            assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        }
    }

    #[tokio::test]
    async fn reverse_dns() {
        let api = TestApi::new().await;
        let v4 = make_ip(&api, "v4", "ipv4").await;
        let addr = primary_ip(&api, v4).await["ip"].as_str().expect("ip").to_string();
        let r = act(&api, v4, "change_dns_ptr", json!({"ip": addr, "dns_ptr": "www.example.com"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["action"]["command"], "change_dns_ptr");
        assert_eq!(primary_ip(&api, v4).await["dns_ptr"], json!([{"ip": addr, "dns_ptr": "www.example.com"}]));
        act(&api, v4, "change_dns_ptr", json!({"ip": addr, "dns_ptr": null})).await;
        let reset = primary_ip(&api, v4).await["dns_ptr"][0]["dns_ptr"].clone();
        assert!(reset.as_str().is_some_and(|p| p.ends_with(".clients.your-server.de")), "back to the default: {reset}");

        let v6 = make_ip(&api, "v6", "ipv6").await;
        let net = primary_ip(&api, v6).await["ip"].as_str().expect("ip").to_string();
        let host = net.replace("::/64", "::1");
        act(&api, v6, "change_dns_ptr", json!({"ip": host, "dns_ptr": "v6.example.com"})).await;
        assert_eq!(primary_ip(&api, v6).await["dns_ptr"], json!([{"ip": host, "dns_ptr": "v6.example.com"}]));

        let r = act(&api, v4, "change_dns_ptr", json!({"ip": "192.0.2.1", "dns_ptr": "x.example.com"})).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        let r = act(&api, v4, "change_dns_ptr", json!({"ip": addr, "dns_ptr": "not a host"})).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
    }

    #[tokio::test]
    async fn protection_update_and_delete() {
        let api = TestApi::new().await;
        let id = make_ip(&api, "ip", "ipv4").await;
        let r = api.put(&format!("/primary_ips/{id}"), json!({"auto_delete": true})).await;
        assert_eq!(r.body["primary_ip"]["auto_delete"], true);
        // A primary IP that would go with its server cannot be protected.
        let r = act(&api, id, "change_protection", json!({"delete": true})).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        assert_error(&act(&api, id, "change_protection", json!({})).await, StatusCode::BAD_REQUEST, "invalid_input");
        api.put(&format!("/primary_ips/{id}"), json!({"auto_delete": false})).await;
        let r = act(&api, id, "change_protection", json!({"delete": true})).await;
        assert_eq!(r.body["action"]["command"], "change_protection");
        assert_eq!(primary_ip(&api, id).await["protection"], json!({"delete": true}));
        assert_error(&api.delete(&format!("/primary_ips/{id}")).await, StatusCode::FORBIDDEN, "protected");
        act(&api, id, "change_protection", json!({"delete": false})).await;

        make_ip(&api, "other", "ipv4").await;
        let r = api.put(&format!("/primary_ips/{id}"), json!({"name": "renamed", "labels": {"k": "v"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(
            (&r.body["primary_ip"]["name"], &r.body["primary_ip"]["labels"]),
            (&json!("renamed"), &json!({"k": "v"}))
        );
        assert_error(
            &api.put(&format!("/primary_ips/{id}"), json!({"name": "other"})).await,
            StatusCode::CONFLICT,
            "uniqueness_error",
        );
        assert_error(
            &api.put(&format!("/primary_ips/{id}"), json!({"auto_delete": 1})).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        );

        let r = api.delete(&format!("/primary_ips/{id}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
        assert!(r.headers.get("content-type").is_none());
        assert_error(&api.get(&format!("/primary_ips/{id}")).await, StatusCode::NOT_FOUND, "not_found");
    }

    #[tokio::test]
    async fn deleting_an_assigned_ip_needs_its_server_off() {
        let api = TestApi::new().await;
        let running = api.make_server(&api.token, "web").await;
        let own = server(&api, running).await["public_net"]["ipv4"]["id"].clone();
        let own = own.as_i64().expect("the server's primary IPv4");
        assert_error(
            &api.delete(&format!("/primary_ips/{own}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "server_not_stopped",
        );
        let r = api.post(&format!("/servers/{running}/actions/poweroff"), json!({})).await;
        api.wait_action(id_of(&r.body["action"])).await;
        // Hetzner unassigns it with the delete (until May 2026).
        assert_eq!(api.delete(&format!("/primary_ips/{own}")).await.status, StatusCode::NO_CONTENT);
        assert_eq!(server(&api, running).await["public_net"]["ipv4"], Value::Null);
    }

    #[tokio::test]
    async fn lists_filter_sort_and_page() {
        let api = TestApi::new().await;
        let mut ids = Vec::new();
        for (name, family, env) in [("b", "ipv4", "prod"), ("a", "ipv6", "dev"), ("c", "ipv4", "prod")] {
            let body = json!({"name": name, "type": family, "datacenter": "fsn1-dc14", "labels": {"env": env}});
            ids.push(id_of(&create(&api, body).await["primary_ip"]));
        }
        assert_eq!(names(&api.get("/primary_ips").await.body), ["b", "a", "c"]);
        assert_eq!(names(&api.get("/primary_ips?sort=id:desc").await.body), ["c", "a", "b"]);
        assert_eq!(names(&api.get("/primary_ips?sort=created:desc&sort=id").await.body), ["b", "a", "c"]);
        assert_eq!(names(&api.get("/primary_ips?name=a").await.body), ["a"]);
        assert_eq!(names(&api.get("/primary_ips?label_selector=env%3Dprod").await.body), ["b", "c"]);
        let c = primary_ip(&api, ids[2]).await["ip"].as_str().expect("ip").to_string();
        assert_eq!(names(&api.get(&format!("/primary_ips?ip={c}")).await.body), ["c"]);
        assert_eq!(names(&api.get(&format!("/primary_ips?ip={c}&name=b")).await.body), Vec::<&str>::new());
        let a = primary_ip(&api, ids[1]).await["ip"].as_str().expect("ip").to_string();
        let encoded = a.replace('/', "%2F");
        assert_eq!(names(&api.get(&format!("/primary_ips?ip={encoded}")).await.body), ["a"], "the /64 itself");
        let host = a.replace("::/64", "::abcd");
        assert_eq!(names(&api.get(&format!("/primary_ips?ip={host}")).await.body), ["a"], "an address in it");
        assert_eq!(names(&api.get("/primary_ips?ip=192.0.2.200").await.body), Vec::<&str>::new());
        assert_error(&api.get("/primary_ips?ip=nonsense").await, StatusCode::BAD_REQUEST, "invalid_input");
        let r = api.get("/primary_ips?per_page=2").await;
        assert_eq!(names(&r.body), ["b", "a"]);
        assert_eq!(r.body["meta"]["pagination"]["next_page"], 2);
        assert_error(&api.get("/primary_ips?sort=name").await, StatusCode::BAD_REQUEST, "invalid_input");
        // Floating IPs are not primary IPs.
        api.post("/floating_ips", json!({"type": "ipv4", "home_location": "fsn1", "name": "f"})).await;
        let r = api.get("/primary_ips").await;
        assert_eq!(names(&r.body), ["b", "a", "c"]);
        assert_eq!(r.body["meta"]["pagination"]["total_entries"], 3, "counted from the primary IPs alone");
        let r = api.get("/primary_ips?per_page=1&page=3").await;
        assert_eq!((names(&r.body), r.body["meta"]["pagination"]["last_page"].as_i64()), (vec!["c"], Some(3)));
        let r = api.get("/floating_ips").await;
        assert_eq!(r.body["floating_ips"].as_array().map(Vec::len), Some(1));
        assert_eq!(r.body["meta"]["pagination"]["total_entries"], 1);
    }

    #[tokio::test]
    async fn the_actions_of_primary_ips_are_theirs_alone() {
        let api = TestApi::new().await;
        let id = make_ip(&api, "ip", "ipv4").await;
        let srv = off_server(&api, &api.token, "s", false).await;
        let assign = act(&api, id, "assign", json!({"assignee_id": srv, "assignee_type": "server"})).await.body
            ["action"]
            .clone();
        let unassign = act(&api, id, "unassign", json!({})).await.body["action"].clone();
        let fip = api.post("/floating_ips", json!({"type": "ipv4", "home_location": "fsn1"})).await.body["floating_ip"]
            ["id"]
            .clone();
        let fip_action =
            api.post(&format!("/floating_ips/{fip}/actions/change_protection"), json!({"delete": true})).await;
        let fip_action = fip_action.body["action"]["id"].clone();

        let commands = |r: &Answer| -> Vec<String> {
            r.body["actions"]
                .as_array()
                .expect("actions")
                .iter()
                .map(|a| a["command"].as_str().unwrap_or("").to_string())
                .collect()
        };
        let r = api.get(&format!("/primary_ips/{id}/actions")).await;
        assert_eq!(commands(&r), ["assign_primary_ip", "unassign_primary_ip"]);
        let r = api.get(&format!("/primary_ips/{id}/actions?sort=id:desc&per_page=1")).await;
        assert_eq!(commands(&r), ["unassign_primary_ip"]);
        let r = api.get(&format!("/primary_ips/{id}/actions/{}", assign["id"])).await;
        assert_eq!((r.status, &r.body["action"]["id"]), (StatusCode::OK, &assign["id"]));

        let r = api.get("/primary_ips/actions?sort=id").await;
        assert_eq!(commands(&r), ["assign_primary_ip", "unassign_primary_ip"], "no floating IP action");
        let r = api.get(&format!("/primary_ips/actions?id={}&id={fip_action}", unassign["id"])).await;
        assert_eq!(commands(&r), ["unassign_primary_ip"]);
        assert_eq!(api.get(&format!("/primary_ips/actions/{}", assign["id"])).await.status, StatusCode::OK);
        assert_error(&api.get(&format!("/primary_ips/actions/{fip_action}")).await, StatusCode::NOT_FOUND, "not_found");
        let r = api.get("/floating_ips/actions").await;
        assert_eq!(commands(&r), ["change_protection"], "and no primary IP action among the floating IPs'");
        assert_error(
            &api.get(&format!("/floating_ips/actions/{}", assign["id"])).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }

    #[tokio::test]
    async fn servers_take_existing_primary_ips() {
        let api = TestApi::new().await;
        let v4 = make_ip(&api, "keep", "ipv4").await;
        let v6 = make_ip(&api, "keep6", "ipv6").await;
        let body = json!({"name": "web", "server_type": "cx22", "image": "debian-12", "location": "fsn1",
            "public_net": {"enable_ipv4": true, "enable_ipv6": true, "ipv4": v4, "ipv6": v6}});
        let r = api.post("/servers", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let srv = id_of(&r.body["server"]);
        assert_eq!(
            (&r.body["server"]["public_net"]["ipv4"]["id"], &r.body["server"]["public_net"]["ipv6"]["id"]),
            (&json!(v4), &json!(v6))
        );
        let resources = r.body["action"]["resources"].as_array().expect("resources").clone();
        assert!(resources.contains(&json!({"id": v4, "type": "primary_ip"})), "{resources:?}");
        api.wait_action(id_of(&r.body["action"])).await;
        assert_eq!(primary_ip(&api, v4).await["assignee_id"], srv);

        // Taken, of the wrong family, or elsewhere: Hetzner's codes for each.
        let again = |ipv4: Value, location: &str| json!({"name": "web2", "server_type": "cpx11", "image": "debian-12", "location": location, "public_net": {"ipv4": ipv4}});
        assert_error(
            &api.post("/servers", again(json!(v4), "fsn1")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "primary_ip_assigned",
        );
        let spare6 = make_ip(&api, "spare6", "ipv6").await;
        assert_error(
            &api.post("/servers", again(json!(spare6), "fsn1")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "primary_ip_version_mismatch",
        );
        let spare = make_ip(&api, "spare", "ipv4").await;
        assert_error(
            &api.post("/servers", again(json!(spare), "ash")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "primary_ip_datacenter_mismatch",
        );
        assert_error(
            &api.post("/servers", again(json!(987_654_321), "fsn1")).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        );

        // Deleting the server keeps primary IPs without auto_delete, unassigned, and
        // deletes those with it.
        api.put(&format!("/primary_ips/{v6}"), json!({"auto_delete": true})).await;
        let r = api.delete(&format!("/servers/{srv}")).await;
        api.wait_action(id_of(&r.body["action"])).await;
        assert_eq!(primary_ip(&api, v4).await["assignee_id"], Value::Null);
        assert_error(&api.get(&format!("/primary_ips/{v6}")).await, StatusCode::NOT_FOUND, "not_found");
    }

    /// Every primary IP endpoint that names an id, with a body where it takes one.
    fn endpoints(id: i64, action: i64, server: i64) -> Vec<(Method, String, Option<Value>)> {
        vec![
            (Method::GET, format!("/primary_ips/{id}")),
            (Method::PUT, format!("/primary_ips/{id}")),
            (Method::DELETE, format!("/primary_ips/{id}")),
            (Method::GET, format!("/primary_ips/{id}/actions")),
            (Method::GET, format!("/primary_ips/{id}/actions/{action}")),
            (Method::POST, format!("/primary_ips/{id}/actions/assign")),
            (Method::POST, format!("/primary_ips/{id}/actions/unassign")),
            (Method::POST, format!("/primary_ips/{id}/actions/change_dns_ptr")),
            (Method::POST, format!("/primary_ips/{id}/actions/change_protection")),
            (Method::GET, format!("/primary_ips/actions/{action}")),
        ]
        .into_iter()
        .map(|(method, path)| {
            let body = match path.rsplit('/').next() {
                Some("assign") => Some(json!({"assignee_id": server, "assignee_type": "server"})),
                Some("change_dns_ptr") => Some(json!({"ip": "198.18.0.2", "dns_ptr": "a.example.com"})),
                Some("change_protection") => Some(json!({"delete": true})),
                _ if method == Method::PUT => Some(json!({"name": "x"})),
                _ if method == Method::POST => Some(json!({})),
                _ => None,
            };
            (method, path, body)
        })
        .collect()
    }

    #[tokio::test]
    async fn missing_ids_are_not_found() {
        let api = TestApi::new().await;
        let server = off_server(&api, &api.token, "s", false).await;
        for (method, path, body) in endpoints(987_654_321, 987_654_322, server) {
            let r = api.call_as(&api.token, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}: {:?}", r.body);
        }
        assert_error(&api.get("/primary_ips/abc").await, StatusCode::NOT_FOUND, "not_found");
        // A floating IP is no primary IP.
        let fip = api.post("/floating_ips", json!({"type": "ipv4", "home_location": "fsn1"})).await;
        assert_error(
            &api.get(&format!("/primary_ips/{}", fip.body["floating_ip"]["id"])).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }

    #[tokio::test]
    async fn another_projects_ip_is_not_found() {
        let api = TestApi::new().await;
        let srv = off_server(&api, &api.token, "s", false).await;
        let body =
            create(&api, json!({"name": "mine", "type": "ipv4", "assignee_id": srv, "assignee_type": "server"})).await;
        let id = id_of(&body["primary_ip"]);
        let action = id_of(&body["action"]);
        let other = api.other_token().await;
        let theirs = off_server(&api, &other, "theirs", false).await;
        for (method, path, body) in endpoints(id, action, theirs) {
            let r = api.call_as(&other, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}: {:?}", r.body);
        }
        // Its list holds its own server's IPv6 alone; this project's address finds nothing.
        let r = api.call_as(&other, Method::GET, "/primary_ips", None).await;
        let listed = r.body["primary_ips"].as_array().expect("list");
        assert!(!listed.is_empty() && listed.iter().all(|ip| ip["assignee_id"] == theirs), "{listed:?}");
        let address = primary_ip(&api, id).await["ip"].as_str().expect("ip").to_string();
        let r = api.call_as(&other, Method::GET, &format!("/primary_ips?ip={address}"), None).await;
        assert_eq!(r.body["primary_ips"], json!([]));
        let r = api.call_as(&other, Method::GET, "/primary_ips/actions", None).await;
        assert!(r.body["actions"].as_array().is_some_and(|a| a.iter().all(|a| a["id"] != action)));
        // Nor can it assign its IPs to this project's server, nor build a server on this
        // project's IP.
        let body = json!({"name": "x", "type": "ipv4", "assignee_id": srv, "assignee_type": "server"});
        assert_error(
            &api.call_as(&other, Method::POST, "/primary_ips", Some(body)).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        );
        let spare = make_ip(&api, "spare", "ipv4").await;
        let body = json!({"name": "x", "server_type": "cx22", "image": "debian-12", "public_net": {"ipv4": spare}});
        assert_error(
            &api.call_as(&other, Method::POST, "/servers", Some(body)).await,
            StatusCode::BAD_REQUEST,
            "invalid_input",
        );

        let ip = primary_ip(&api, id).await;
        assert_eq!(
            (&ip["name"], &ip["assignee_id"], &ip["protection"]["delete"]),
            (&json!("mine"), &json!(srv), &json!(false)),
            "untouched"
        );
    }
}
