//! `/servers`, their actions and metrics, through the router (seed 002 "Servers" and
//! "Server Actions"; shapes from `hetzner-cloud-openapi.json`).

mod common;

use axum::http::{Method, StatusCode};
use common::{Answer, TestApi};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use stratus_compute::sim::{SimDriver, SimTimings};
use stratus_core::labels::Labels;
use stratus_core::Config;

const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfrxhHFYk61rFHrQrAcq0sh6r5wET/pnMFIvyNWRLCJ test@stratus";

/// The keys `components.schemas.server` requires, plus those today's clients read.
const SERVER_KEYS: [&str; 23] = [
    "id",
    "name",
    "status",
    "created",
    "public_net",
    "private_net",
    "server_type",
    "datacenter",
    "location",
    "image",
    "iso",
    "rescue_enabled",
    "locked",
    "backup_window",
    "outgoing_traffic",
    "ingoing_traffic",
    "included_traffic",
    "protection",
    "labels",
    "volumes",
    "load_balancers",
    "primary_disk_size",
    "placement_group",
];

const ACTION_KEYS: [&str; 8] = ["id", "command", "status", "progress", "started", "finished", "resources", "error"];

fn assert_action(a: &Value, command: &str) {
    for key in ACTION_KEYS {
        assert!(a.get(key).is_some(), "action lacks {key}: {a}");
    }
    assert!(a["id"].is_i64(), "{a}");
    assert_eq!(a["command"], command, "{a}");
}

fn assert_error(a: &Answer, status: StatusCode, code: &str) {
    assert_eq!(a.status, status, "{:?}", a.body);
    assert_eq!(a.code(), code, "{:?}", a.body);
    assert!(a.body["error"]["message"].is_string(), "{:?}", a.body);
}

/// An `invalid_input` answer whose details name `field`.
fn assert_invalid(a: &Answer, field: &str) {
    assert_error(a, StatusCode::BAD_REQUEST, "invalid_input");
    let fields = a.body["error"]["details"]["fields"].as_array().expect("details.fields");
    assert!(fields.iter().any(|f| f["name"] == field), "expected field {field}: {:?}", a.body);
}

/// Creates a server and waits for its actions; returns the creation answer's body.
async fn create(api: &TestApi, body: Value) -> Value {
    let a = api.post("/servers", body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    api.wait_action(a.body["action"]["id"].as_i64().expect("action id")).await;
    for next in a.body["next_actions"].as_array().expect("next_actions") {
        api.wait_action(next["id"].as_i64().expect("id")).await;
    }
    a.body
}

/// A running server named `name`; its id.
async fn server(api: &TestApi, name: &str) -> i64 {
    let body =
        create(api, json!({"name": name, "server_type": "cx22", "image": "debian-12", "location": "fsn1"})).await;
    body["server"]["id"].as_i64().expect("server id")
}

async fn get_server(api: &TestApi, id: i64) -> Value {
    let a = api.get(&format!("/servers/{id}")).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    a.body["server"].clone()
}

/// Runs a server action that must be accepted; waits for it and returns the answer body.
async fn act(api: &TestApi, id: i64, action: &str, body: Value) -> Value {
    let a = api.post(&format!("/servers/{id}/actions/{action}"), body).await;
    assert_eq!(a.status, StatusCode::CREATED, "{action}: {:?}", a.body);
    let done = api.wait_action(a.body["action"]["id"].as_i64().expect("action id")).await;
    assert_eq!(done["status"], "success", "{action}: {done}");
    a.body
}

async fn ssh_key(api: &TestApi, name: &str) -> i64 {
    let p = api.cloud.authenticate(&api.token).expect("principal");
    api.cloud.ssh_key_create(&p, name.into(), PUBLIC_KEY.into(), Labels::new()).await.expect("key").id.0
}

// Tests live in a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_answers_server_action_next_actions_and_root_password() {
        let api = TestApi::new().await;
        let a = api
        .post(
            "/servers",
            json!({"name": "web-1", "server_type": "cx22", "image": "debian-12", "location": "fsn1", "labels": {"env": "prod"}}),
        )
        .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        let s = &a.body["server"];
        for key in SERVER_KEYS {
            assert!(s.get(key).is_some(), "server lacks {key}");
        }
        assert!(s["id"].is_i64());
        assert_eq!(s["name"], "web-1");
        assert_eq!(s["status"], "initializing");
        assert!(s["created"].as_str().expect("created").ends_with("+00:00"));
        assert_eq!(s["labels"], json!({"env": "prod"}));
        assert_eq!(s["server_type"]["name"], "cx22");
        assert_eq!(s["server_type"]["cores"], 2);
        // hcloud-python (2.27) refuses a server type whose locations lack these two.
        let loc = &s["server_type"]["locations"][0];
        assert_eq!((&loc["available"], &loc["recommended"]), (&json!(true), &json!(true)));
        assert_eq!(s["datacenter"]["name"], "fsn1-dc14");
        assert_eq!(s["datacenter"]["location"]["name"], "fsn1");
        assert_eq!(s["location"]["name"], "fsn1");
        assert_eq!(s["image"]["name"], "debian-12");
        assert_eq!(s["image"]["type"], "system");
        assert_eq!(s["iso"], Value::Null);
        assert_eq!(s["rescue_enabled"], false);
        assert_eq!(s["locked"], true, "the create action holds it");
        assert_eq!(s["backup_window"], Value::Null);
        assert_eq!(s["protection"], json!({"delete": false, "rebuild": false}));
        assert_eq!(s["primary_disk_size"], 40);
        assert_eq!(s["included_traffic"], 20_u64 * 1024 * 1024 * 1024 * 1024);
        assert_eq!(s["outgoing_traffic"], 0);
        assert_eq!((&s["volumes"], &s["load_balancers"], &s["private_net"]), (&json!([]), &json!([]), &json!([])));
        assert_eq!(s["placement_group"], Value::Null);
        let net = &s["public_net"];
        assert!(net["ipv4"]["id"].is_i64());
        let ip = net["ipv4"]["ip"].as_str().expect("ipv4");
        let reversed: Vec<&str> = ip.rsplit('.').collect();
        assert_eq!(net["ipv4"]["dns_ptr"], format!("static.{}.clients.your-server.de", reversed.join(".")));
        assert_eq!(net["ipv4"]["blocked"], false);
        assert!(net["ipv6"]["ip"].as_str().expect("ipv6").ends_with("::/64"));
        assert_eq!(net["ipv6"]["dns_ptr"], json!([]));
        assert_eq!((&net["floating_ips"], &net["firewalls"]), (&json!([]), &json!([])));

        assert_action(&a.body["action"], "create_server");
        assert_eq!(a.body["action"]["resources"], json!([{"id": s["id"], "type": "server"}]));
        let next = a.body["next_actions"].as_array().expect("next_actions");
        assert_eq!(next.len(), 1);
        assert_action(&next[0], "start_server");
        let password = a.body["root_password"].as_str().expect("root password without SSH keys");
        assert!(password.len() >= 12);

        let id = s["id"].as_i64().expect("id");
        assert_eq!(api.wait_action(a.body["action"]["id"].as_i64().expect("id")).await["status"], "success");
        assert_eq!(api.wait_action(next[0]["id"].as_i64().expect("id")).await["status"], "success");
        let s = get_server(&api, id).await;
        assert_eq!((&s["status"], &s["locked"]), (&json!("running"), &json!(false)));
    }

    #[tokio::test]
    async fn create_accepts_ids_as_numbers_or_strings_and_public_net_options() {
        let api = TestApi::new().await;
        let key = ssh_key(&api, "laptop").await;
        let st = api.get("/server_types?name=cpx11").await.body["server_types"][0]["id"].as_i64().expect("type id");
        let image = api.get("/images?name=ubuntu-24.04").await.body["images"][0]["id"].as_i64().expect("image id");

        let body = create(
            &api,
            json!({
                "name": "by-ids",
                "server_type": st,
                "image": image.to_string(),
                "datacenter": "nbg1-dc3",
                "ssh_keys": [key],
                "start_after_create": false,
                "public_net": {"enable_ipv4": false, "enable_ipv6": true},
                "volumes": [], "networks": [], "firewalls": [], "automount": false,
            }),
        )
        .await;
        assert_eq!(body["root_password"], Value::Null, "no password when SSH keys are given");
        assert_eq!(body["next_actions"], json!([]));
        let s = &body["server"];
        assert_eq!((&s["server_type"]["name"], &s["image"]["name"]), (&json!("cpx11"), &json!("ubuntu-24.04")));
        assert_eq!(s["datacenter"]["name"], "nbg1-dc3");
        assert_eq!(s["public_net"]["ipv4"], Value::Null);
        assert!(s["public_net"]["ipv6"]["ip"].is_string());
        let s = get_server(&api, s["id"].as_i64().expect("id")).await;
        assert_eq!(s["status"], "off", "not started");

        // SSH keys by name.
        let body = create(
            &api,
            json!({"name": "by-name", "server_type": "cx22", "image": "debian-12", "ssh_keys": ["laptop"]}),
        )
        .await;
        assert_eq!(body["root_password"], Value::Null);
    }

    #[tokio::test]
    async fn create_refuses_bad_input() {
        let api = TestApi::new().await;
        server(&api, "taken").await;
        let base = json!({"name": "x", "server_type": "cx22", "image": "debian-12"});
        let with = |patch: Value| {
            let mut b = base.clone();
            for (k, v) in patch.as_object().expect("object") {
                b[k] = v.clone();
            }
            b
        };

        let a = api.call_as(&api.token, Method::POST, "/servers", None).await;
        assert_error(&a, StatusCode::BAD_REQUEST, "json_error");
        assert_invalid(&api.post("/servers", json!({})).await, "name");
        let cases = [
            (with(json!({"name": 5})), "name"),
            (json!({"server_type": "cx22", "image": "debian-12"}), "name"),
            (json!({"name": "x", "image": "debian-12"}), "server_type"),
            (with(json!({"server_type": true})), "server_type"),
            (with(json!({"server_type": "cx999"})), "server_type"),
            (with(json!({"image": "no-such-image"})), "image"),
            (with(json!({"location": "mars1"})), "location"),
            (with(json!({"ssh_keys": ["nope"]})), "ssh_keys"),
            (with(json!({"ssh_keys": "laptop"})), "ssh_keys"),
            (with(json!({"start_after_create": "yes"})), "start_after_create"),
            (with(json!({"public_net": {"enable_ipv4": "no"}})), "public_net.enable_ipv4"),
            (with(json!({"labels": {"env": 1}})), "labels.env"),
            (with(json!({"labels": {"bad key!": "v"}})), "labels"),
            (with(json!({"name": "not_a_hostname!"})), "name"),
            (with(json!({"user_data": "x".repeat(33 * 1024)})), "user_data"),
            (with(json!({"volumes": [7]})), "volumes"),
            (with(json!({"networks": [7]})), "networks"),
            (with(json!({"firewalls": [{"firewall": 7}]})), "firewalls"),
            (with(json!({"placement_group": 7})), "placement_group"),
            (with(json!({"public_net": {"ipv4": 7}})), "public_net.ipv4"),
        ];
        for (body, field) in cases {
            let a = api.post("/servers", body.clone()).await;
            assert_invalid(&a, field);
        }

        let raw = api.router.clone();
        let req = axum::http::Request::post("/hetzner/v1/servers")
            .header("authorization", format!("Bearer {}", api.token))
            .header("content-type", "application/json")
            .body(axum::body::Body::from("{\"name\": \"x\","))
            .expect("request");
        let res = tower::ServiceExt::oneshot(raw, req).await.expect("answer");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body: Value =
            serde_json::from_slice(&axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body"))
                .expect("json");
        assert_eq!(body["error"]["code"], "json_error");

        let a = api.post("/servers", with(json!({"name": "taken"}))).await;
        assert_error(&a, StatusCode::CONFLICT, "uniqueness_error");
        assert_eq!(a.body["error"]["details"]["fields"][0]["name"], "name");

        // Nothing half-made: only the first server exists.
        let list = api.get("/servers").await;
        assert_eq!(list.body["meta"]["pagination"]["total_entries"], 1);
    }

    #[tokio::test]
    async fn get_update_and_delete() {
        let api = TestApi::new().await;
        let id = server(&api, "one").await;
        server(&api, "two").await;
        let s = get_server(&api, id).await;
        assert_eq!((&s["id"], &s["name"]), (&json!(id), &json!("one")));

        let a = api.put(&format!("/servers/{id}"), json!({"name": "renamed", "labels": {"tier": "web"}})).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert_eq!(
            (&a.body["server"]["name"], &a.body["server"]["labels"]),
            (&json!("renamed"), &json!({"tier": "web"}))
        );
        let a = api.put(&format!("/servers/{id}"), json!({"labels": {}})).await;
        assert_eq!((&a.body["server"]["name"], &a.body["server"]["labels"]), (&json!("renamed"), &json!({})));

        assert_error(
            &api.put(&format!("/servers/{id}"), json!({"name": "two"})).await,
            StatusCode::CONFLICT,
            "uniqueness_error",
        );
        assert_invalid(&api.put(&format!("/servers/{id}"), json!({"name": 3})).await, "name");
        assert_invalid(&api.put(&format!("/servers/{id}"), json!({"labels": {"k": "bad value!"}})).await, "labels");
        assert_error(&api.put("/servers/999999", json!({"name": "x"})).await, StatusCode::NOT_FOUND, "not_found");

        let a = api.delete(&format!("/servers/{id}")).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert_action(&a.body["action"], "delete_server");
        assert_eq!(api.wait_action(a.body["action"]["id"].as_i64().expect("id")).await["status"], "success");
        assert_error(&api.get(&format!("/servers/{id}")).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(&api.delete(&format!("/servers/{id}")).await, StatusCode::NOT_FOUND, "not_found");
        for path in ["/servers/999999", "/servers/abc", "/servers/-1", "/servers/0"] {
            assert_error(&api.get(path).await, StatusCode::NOT_FOUND, "not_found");
        }
        assert_eq!(api.get("/servers").await.body["servers"].as_array().map(Vec::len), Some(1));
    }

    #[tokio::test]
    async fn protection_refuses_delete_and_rebuild() {
        let api = TestApi::new().await;
        let id = server(&api, "guarded").await;
        act(&api, id, "change_protection", json!({"delete": true, "rebuild": true})).await;
        assert_eq!(get_server(&api, id).await["protection"], json!({"delete": true, "rebuild": true}));
        assert_error(&api.delete(&format!("/servers/{id}")).await, StatusCode::FORBIDDEN, "protected");
        let a = api.post(&format!("/servers/{id}/actions/rebuild"), json!({"image": "debian-12"})).await;
        assert_error(&a, StatusCode::FORBIDDEN, "protected");

        act(&api, id, "change_protection", json!({"delete": false, "rebuild": false})).await;
        let a = api.delete(&format!("/servers/{id}")).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }

    #[tokio::test]
    async fn list_filters_sorts_and_pages() {
        let api = TestApi::with_config(Config { rate_limit: 0, ..Config::default() }).await;
        let names = ["delta", "alpha", "charlie", "bravo", "echo"];
        let mut ids = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let env = if i % 2 == 0 { "prod" } else { "dev" };
            let body = create(
            &api,
            json!({"name": name, "server_type": "cx22", "image": "debian-12", "labels": {"env": env, "n": i.to_string()},
                   "start_after_create": i != 4}),
        )
        .await;
            ids.push(body["server"]["id"].as_i64().expect("id"));
        }
        let names_of = |a: &Answer| -> Vec<String> {
            a.body["servers"]
                .as_array()
                .expect("servers")
                .iter()
                .map(|s| s["name"].as_str().expect("name").to_string())
                .collect()
        };

        let all = api.get("/servers").await;
        assert_eq!(names_of(&all), names, "id order by default");
        assert_eq!(names_of(&api.get("/servers?sort=name").await), ["alpha", "bravo", "charlie", "delta", "echo"]);
        assert_eq!(names_of(&api.get("/servers?sort=name:desc").await), ["echo", "delta", "charlie", "bravo", "alpha"]);
        assert_eq!(names_of(&api.get("/servers?sort=id:desc").await), ["echo", "bravo", "charlie", "alpha", "delta"]);
        assert_eq!(names_of(&api.get("/servers?sort=created:asc&sort=id:desc").await).len(), 5);
        assert_invalid(&api.get("/servers?sort=status").await, "sort");
        assert_invalid(&api.get("/servers?sort=name:sideways").await, "sort");

        assert_eq!(names_of(&api.get("/servers?name=charlie").await), ["charlie"]);
        assert_eq!(names_of(&api.get("/servers?name=nobody").await), Vec::<String>::new());
        assert_eq!(names_of(&api.get("/servers?label_selector=env%3Dprod").await), ["delta", "charlie", "echo"]);
        assert_eq!(names_of(&api.get("/servers?label_selector=env!%3Dprod").await), ["alpha", "bravo"]);
        assert_eq!(names_of(&api.get("/servers?label_selector=n%20in%20(0,1),env").await), ["delta", "alpha"]);
        assert_eq!(names_of(&api.get("/servers?label_selector=!env").await), Vec::<String>::new());
        assert_invalid(&api.get("/servers?label_selector=env%3D%3D%3D").await, "label_selector");

        assert_eq!(names_of(&api.get("/servers?status=off").await), ["echo"]);
        assert_eq!(names_of(&api.get("/servers?status=off&status=running").await).len(), 5);
        assert_eq!(
            names_of(&api.get("/servers?status=running&sort=name").await),
            ["alpha", "bravo", "charlie", "delta"]
        );
        assert_invalid(&api.get("/servers?status=sleeping").await, "status");

        // Pages of two: 3 pages, the Link header and meta agree.
        let p1 = api.get("/servers?per_page=2").await;
        assert_eq!(names_of(&p1), ["delta", "alpha"]);
        assert_eq!(
            p1.body["meta"]["pagination"],
            json!({"page": 1, "per_page": 2, "previous_page": null, "next_page": 2, "last_page": 3, "total_entries": 5})
        );
        let link = p1.headers.get("link").expect("Link header").to_str().expect("ascii");
        assert!(link.contains("<http://stratus.test/hetzner/v1/servers?page=2&per_page=2>; rel=\"next\""), "{link}");
        assert!(link.contains("<http://stratus.test/hetzner/v1/servers?page=3&per_page=2>; rel=\"last\""), "{link}");
        assert!(!link.contains("rel=\"prev\""), "{link}");
        let p2 = api.get("/servers?per_page=2&page=2&sort=id").await;
        assert_eq!(names_of(&p2), ["charlie", "bravo"]);
        let link = p2.headers.get("link").expect("Link header").to_str().expect("ascii");
        assert!(link.contains("sort=id&page=1&per_page=2>; rel=\"prev\""), "{link}");
        let p3 = api.get("/servers?per_page=2&page=3").await;
        assert_eq!(names_of(&p3), ["echo"]);
        assert_eq!(
            p3.body["meta"]["pagination"],
            json!({"page": 3, "per_page": 2, "previous_page": 2, "next_page": null, "last_page": 3, "total_entries": 5})
        );
        // Past the end: empty, and no next page, so clients stop.
        let p9 = api.get("/servers?per_page=2&page=9").await;
        assert_eq!((names_of(&p9).len(), &p9.body["meta"]["pagination"]["next_page"]), (0, &Value::Null));
        let big = api.get("/servers?per_page=500").await;
        assert_eq!(big.body["meta"]["pagination"]["per_page"], 50, "capped at 50");
        assert_invalid(&api.get("/servers?page=0").await, "page");
        assert_invalid(&api.get("/servers?per_page=x").await, "per_page");
        assert_eq!(ids.len(), 5);
    }

    #[tokio::test]
    async fn metrics_have_hetzners_shape() {
        let api = TestApi::new().await;
        let id = server(&api, "busy").await;
        let a = api.get(&format!("/servers/{id}/metrics?type=cpu,disk&type=network&start=2024-05-01T10:00:00Z&end=2024-05-01T11:00:00Z&step=60")).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        let m = &a.body["metrics"];
        assert_eq!(
            (&m["start"], &m["end"], &m["step"]),
            (&json!("2024-05-01T10:00:00+00:00"), &json!("2024-05-01T11:00:00+00:00"), &json!(60))
        );
        let series = m["time_series"].as_object().expect("time_series");
        for name in [
            "cpu",
            "disk.0.iops.read",
            "disk.0.iops.write",
            "disk.0.bandwidth.read",
            "disk.0.bandwidth.write",
            "network.0.pps.in",
            "network.0.pps.out",
            "network.0.bandwidth.in",
            "network.0.bandwidth.out",
        ] {
            let values = series[name]["values"].as_array().unwrap_or_else(|| panic!("{name} missing"));
            assert_eq!(values.len(), 61, "{name}: one sample a minute, both ends included");
            let first = values[0].as_array().expect("pair");
            assert_eq!(first[0].as_f64(), Some(1_714_557_600.0), "a unix timestamp as a number");
            let value: f64 = first[1].as_str().expect("value as string").parse().expect("number");
            assert!(value >= 0.0, "{name}: {value}");
        }
        assert_eq!(series.len(), 9);

        // Without step: about 100 samples; with too fine a step: at most 500.
        let a = api
            .get(&format!("/servers/{id}/metrics?type=cpu&start=2024-05-01T00:00:00Z&end=2024-05-02T00:00:00Z"))
            .await;
        assert_eq!(a.body["metrics"]["step"], 864);
        let a = api
            .get(&format!(
            "/servers/{id}/metrics?type=cpu&start=2024-05-01T00:00:00%2B02:00&end=2024-05-02T00:00:00%2B02:00&step=1"
        ))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert!(a.body["metrics"]["time_series"]["cpu"]["values"].as_array().expect("values").len() <= 501);
        assert_eq!(a.body["metrics"]["start"], "2024-04-30T22:00:00+00:00");

        let q = "start=2024-05-01T10:00:00Z&end=2024-05-01T11:00:00Z";
        assert_invalid(&api.get(&format!("/servers/{id}/metrics?{q}")).await, "type");
        assert_invalid(&api.get(&format!("/servers/{id}/metrics?type=gpu&{q}")).await, "type");
        assert_invalid(&api.get(&format!("/servers/{id}/metrics?type=cpu&end=2024-05-01T11:00:00Z")).await, "start");
        assert_invalid(
            &api.get(&format!("/servers/{id}/metrics?type=cpu&start=yesterday&end=2024-05-01T11:00:00Z")).await,
            "start",
        );
        assert_invalid(&api.get(&format!("/servers/{id}/metrics?type=cpu&{q}&step=-5")).await, "step");
        assert_invalid(
            &api.get(&format!("/servers/{id}/metrics?type=cpu&start=2024-05-01T11:00:00Z&end=2024-05-01T10:00:00Z"))
                .await,
            "end",
        );
        assert_error(
            &api.get(&format!("/servers/999999/metrics?type=cpu&{q}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }

    #[tokio::test]
    async fn power_actions_change_status() {
        let api = TestApi::new().await;
        let id = server(&api, "power").await;
        let body = act(&api, id, "poweroff", json!({})).await;
        assert_action(&body["action"], "stop_server");
        assert_eq!(body["action"]["resources"], json!([{"id": id, "type": "server"}]));
        assert_eq!(get_server(&api, id).await["status"], "off");
        assert_action(&act(&api, id, "poweron", Value::Null).await["action"], "start_server");
        assert_eq!(get_server(&api, id).await["status"], "running");
        assert_action(&act(&api, id, "shutdown", json!({})).await["action"], "shutdown_server");
        assert_eq!(get_server(&api, id).await["status"], "off");
        act(&api, id, "poweron", json!({})).await;
        assert_action(&act(&api, id, "reboot", json!({})).await["action"], "reboot_server");
        assert_action(&act(&api, id, "reset", json!({})).await["action"], "reset_server");
        assert_eq!(get_server(&api, id).await["status"], "running");
    }

    #[tokio::test]
    async fn password_rescue_backup_iso_and_console() {
        let api = TestApi::new().await;
        let key = ssh_key(&api, "rescue-key").await;
        let id = server(&api, "tools").await;

        let body = act(&api, id, "reset_password", json!({})).await;
        assert_action(&body["action"], "reset_password");
        assert!(body["root_password"].as_str().is_some_and(|p| p.len() >= 12), "{body}");

        let body = act(&api, id, "enable_rescue", json!({"type": "linux64", "ssh_keys": [key]})).await;
        assert_action(&body["action"], "enable_rescue");
        assert!(body["root_password"].is_string());
        assert_eq!(get_server(&api, id).await["rescue_enabled"], true);
        act(&api, id, "disable_rescue", json!({})).await;
        assert_eq!(get_server(&api, id).await["rescue_enabled"], false);
        assert_invalid(
            &api.post(&format!("/servers/{id}/actions/enable_rescue"), json!({"type": "freebsd64"})).await,
            "type",
        );
        assert_invalid(
            &api.post(&format!("/servers/{id}/actions/enable_rescue"), json!({"ssh_keys": [424242]})).await,
            "ssh_keys",
        );

        assert_action(&act(&api, id, "enable_backup", json!({})).await["action"], "enable_backup");
        assert!(get_server(&api, id).await["backup_window"].is_string());
        act(&api, id, "disable_backup", Value::Null).await;
        assert_eq!(get_server(&api, id).await["backup_window"], Value::Null);

        assert_action(
            &act(&api, id, "attach_iso", json!({"iso": "FreeBSD-14.1-RELEASE-amd64-disc1.iso"})).await["action"],
            "attach_iso",
        );
        let iso = get_server(&api, id).await["iso"].clone();
        assert_eq!(iso["name"], "FreeBSD-14.1-RELEASE-amd64-disc1.iso");
        for key in ["id", "name", "description", "type", "deprecation", "architecture"] {
            assert!(iso.get(key).is_some(), "iso lacks {key}");
        }
        assert_eq!(iso["type"], "public");
        act(&api, id, "detach_iso", json!({})).await;
        assert_eq!(get_server(&api, id).await["iso"], Value::Null);
        // By id, as hcloud-go sends it (a string) and as hcloud-python does (a number).
        let iso_id = iso["id"].as_i64().expect("iso id");
        act(&api, id, "attach_iso", json!({"iso": iso_id.to_string()})).await;
        act(&api, id, "detach_iso", json!({})).await;
        act(&api, id, "attach_iso", json!({"iso": iso_id})).await;
        assert_eq!(get_server(&api, id).await["iso"]["id"], iso_id);
        assert_invalid(
            &api.post(&format!("/servers/{id}/actions/attach_iso"), json!({"iso": "nope.iso"})).await,
            "iso",
        );
        assert_invalid(&api.post(&format!("/servers/{id}/actions/attach_iso"), json!({})).await, "iso");

        let a = api.post(&format!("/servers/{id}/actions/request_console"), json!({})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        assert_action(&a.body["action"], "request_console");
        let url = a.body["wss_url"].as_str().expect("wss_url");
        assert!(url.starts_with("ws://stratus.test/console/"), "{url}");
        assert!(a.body["password"].as_str().is_some_and(|p| !p.is_empty()));

        // State rules are core's: no password reset or console on a stopped server.
        act(&api, id, "poweroff", json!({})).await;
        assert_invalid_input(&api.post(&format!("/servers/{id}/actions/reset_password"), json!({})).await);
        assert_invalid_input(&api.post(&format!("/servers/{id}/actions/request_console"), json!({})).await);
    }

    fn assert_invalid_input(a: &Answer) {
        assert_error(a, StatusCode::BAD_REQUEST, "invalid_input");
    }

    #[tokio::test]
    async fn create_image_rebuild_and_change_type() {
        let api = TestApi::new().await;
        let id = server(&api, "builder").await;

        let a = api
            .post(
                &format!("/servers/{id}/actions/create_image"),
                json!({"description": "golden", "labels": {"v": "1"}}),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        assert_action(&a.body["action"], "create_image");
        let image = &a.body["image"];
        assert_eq!(
            (&image["type"], &image["status"], &image["description"]),
            (&json!("snapshot"), &json!("creating"), &json!("golden"))
        );
        assert_eq!(image["labels"], json!({"v": "1"}));
        assert_eq!(image["created_from"]["id"], id);
        let image_id = image["id"].as_i64().expect("image id");
        assert_eq!(
            a.body["action"]["resources"],
            json!([{"id": id, "type": "server"}, {"id": image_id, "type": "image"}])
        );
        api.wait_action(a.body["action"]["id"].as_i64().expect("id")).await;
        assert_invalid(
            &api.post(&format!("/servers/{id}/actions/create_image"), json!({"type": "golden"})).await,
            "type",
        );
        let a = api.post(&format!("/servers/{id}/actions/create_image"), json!({"labels": "x"})).await;
        assert_invalid(&a, "labels");

        // Rebuild from the snapshot by id; no SSH keys, so a new root password.
        let body = act(&api, id, "rebuild", json!({"image": image_id})).await;
        assert_action(&body["action"], "rebuild_server");
        assert!(body["root_password"].is_string());
        let s = get_server(&api, id).await;
        assert_eq!((&s["image"]["id"], &s["status"]), (&json!(image_id), &json!("running")));
        act(&api, id, "rebuild", json!({"image": "ubuntu-24.04", "user_data": "#cloud-config\n"})).await;
        assert_eq!(get_server(&api, id).await["image"]["name"], "ubuntu-24.04");
        assert_invalid(&api.post(&format!("/servers/{id}/actions/rebuild"), json!({})).await, "image");
        assert_invalid(&api.post(&format!("/servers/{id}/actions/rebuild"), json!({"image": "nope"})).await, "image");

        // change_type needs a stopped server (core's rule) and both fields (the spec's).
        let a = api
            .post(&format!("/servers/{id}/actions/change_type"), json!({"server_type": "cx32", "upgrade_disk": true}))
            .await;
        assert_invalid_input(&a);
        act(&api, id, "poweroff", json!({})).await;
        assert_invalid(
            &api.post(&format!("/servers/{id}/actions/change_type"), json!({"server_type": "cx32"})).await,
            "upgrade_disk",
        );
        assert_invalid(
            &api.post(
                &format!("/servers/{id}/actions/change_type"),
                json!({"server_type": "cx32", "upgrade_disk": "yes"}),
            )
            .await,
            "upgrade_disk",
        );
        let body = act(&api, id, "change_type", json!({"server_type": "cx32", "upgrade_disk": true})).await;
        assert_action(&body["action"], "change_server_type");
        let s = get_server(&api, id).await;
        assert_eq!((&s["server_type"]["name"], &s["primary_disk_size"]), (&json!("cx32"), &json!(80)));
        act(&api, id, "change_type", json!({"server_type": "cx42", "upgrade_disk": false})).await;
        let s = get_server(&api, id).await;
        assert_eq!((&s["server_type"]["name"], &s["primary_disk_size"]), (&json!("cx42"), &json!(80)), "disk kept");
    }

    #[tokio::test]
    async fn change_dns_ptr_for_both_families() {
        let api = TestApi::new().await;
        let id = server(&api, "named").await;
        let net = get_server(&api, id).await["public_net"].clone();
        let v4 = net["ipv4"]["ip"].as_str().expect("ipv4").to_string();
        let default_ptr = net["ipv4"]["dns_ptr"].clone();
        let v6_net = net["ipv6"]["ip"].as_str().expect("ipv6").to_string();
        let v6 = v6_net.replace("::/64", "::1");

        assert_action(
            &act(&api, id, "change_dns_ptr", json!({"ip": v4, "dns_ptr": "web.example.com"})).await["action"],
            "change_dns_ptr",
        );
        act(&api, id, "change_dns_ptr", json!({"ip": v6, "dns_ptr": "v6.example.com"})).await;
        let net = get_server(&api, id).await["public_net"].clone();
        assert_eq!(net["ipv4"]["dns_ptr"], "web.example.com");
        assert_eq!(net["ipv6"]["dns_ptr"], json!([{"ip": v6, "dns_ptr": "v6.example.com"}]));

        act(&api, id, "change_dns_ptr", json!({"ip": v4, "dns_ptr": null})).await;
        assert_eq!(
            get_server(&api, id).await["public_net"]["ipv4"]["dns_ptr"],
            default_ptr,
            "null resets to the default"
        );

        let path = format!("/servers/{id}/actions/change_dns_ptr");
        assert_invalid(&api.post(&path, json!({"ip": v4})).await, "dns_ptr");
        assert_invalid(&api.post(&path, json!({"dns_ptr": "x.example.com"})).await, "ip");
        assert_invalid(&api.post(&path, json!({"ip": "192.0.2.99", "dns_ptr": "x.example.com"})).await, "ip");
        assert_invalid(&api.post(&path, json!({"ip": v4, "dns_ptr": "not a hostname"})).await, "dns_ptr");
    }

    #[tokio::test]
    async fn server_actions_refuse_bad_json_and_unknown_servers() {
        let api = TestApi::new().await;
        let id = server(&api, "strict").await;
        let req = axum::http::Request::post(format!("/hetzner/v1/servers/{id}/actions/create_image"))
            .header("authorization", format!("Bearer {}", api.token))
            .body(axum::body::Body::from("{not json"))
            .expect("request");
        let res = tower::ServiceExt::oneshot(api.router.clone(), req).await.expect("answer");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body: Value =
            serde_json::from_slice(&axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body"))
                .expect("json");
        assert_eq!(body["error"]["code"], "json_error");

        for action in ALL_ACTIONS {
            for path in [format!("/servers/999999/actions/{action}"), format!("/servers/nope/actions/{action}")] {
                let a = api.post(&path, action_body(action)).await;
                assert_error(&a, StatusCode::NOT_FOUND, "not_found");
            }
        }
    }

    /// The 18 server actions of seed 002.
    const ALL_ACTIONS: [&str; 18] = [
        "poweron",
        "reboot",
        "reset",
        "shutdown",
        "poweroff",
        "reset_password",
        "enable_rescue",
        "disable_rescue",
        "create_image",
        "rebuild",
        "change_type",
        "enable_backup",
        "disable_backup",
        "attach_iso",
        "detach_iso",
        "change_dns_ptr",
        "change_protection",
        "request_console",
    ];

    /// A body each action accepts.
    fn action_body(action: &str) -> Value {
        match action {
            "rebuild" => json!({"image": "debian-12"}),
            "change_type" => json!({"server_type": "cx32", "upgrade_disk": true}),
            "attach_iso" => json!({"iso": "FreeBSD-14.1-RELEASE-amd64-disc1.iso"}),
            "change_dns_ptr" => json!({"ip": "198.18.0.2", "dns_ptr": "x.example.com"}),
            "change_protection" => json!({"delete": true}),
            _ => json!({}),
        }
    }

    #[tokio::test]
    async fn another_projects_token_sees_no_server() {
        let api = TestApi::new().await;
        let id = server(&api, "mine").await;
        let other = api.other_token().await;
        let actions = api.get(&format!("/servers/{id}/actions")).await;
        let action = actions.body["actions"][0]["id"].as_i64().expect("an action");
        let q = "type=cpu&start=2024-05-01T10:00:00Z&end=2024-05-01T11:00:00Z";

        let mut endpoints: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/servers/{id}"), None),
            (Method::PUT, format!("/servers/{id}"), Some(json!({"name": "stolen"}))),
            (Method::DELETE, format!("/servers/{id}"), None),
            (Method::GET, format!("/servers/{id}/metrics?{q}"), None),
            (Method::GET, format!("/servers/{id}/actions"), None),
            (Method::GET, format!("/servers/{id}/actions/{action}"), None),
            (Method::GET, format!("/servers/actions/{action}"), None),
            (Method::GET, format!("/actions/{action}"), None),
        ];
        for a in ALL_ACTIONS {
            endpoints.push((Method::POST, format!("/servers/{id}/actions/{a}"), Some(action_body(a))));
        }
        for (method, path, body) in endpoints {
            let a = api.call_as(&other, method.clone(), &path, body).await;
            assert_error(&a, StatusCode::NOT_FOUND, "not_found");
            assert!(a.headers.contains_key("ratelimit-remaining"), "{method} {path}");
        }

        // Lists are empty for the other project, and the owner still has it, unchanged.
        let a = api.call_as(&other, Method::GET, "/servers", None).await;
        assert_eq!((a.status, &a.body["servers"]), (StatusCode::OK, &json!([])));
        let a = api.call_as(&other, Method::GET, &format!("/actions?id={action}"), None).await;
        assert_eq!(a.body["actions"], json!([]));
        let a = api.call_as(&other, Method::GET, "/servers/actions", None).await;
        assert_eq!(a.body["actions"], json!([]));
        let s = get_server(&api, id).await;
        assert_eq!(
            (&s["name"], &s["status"], &s["protection"]["delete"]),
            (&json!("mine"), &json!("running"), &json!(false))
        );

        // And a bad token gets nothing at all.
        let a = api.call_as("not-a-token", Method::GET, &format!("/servers/{id}"), None).await;
        assert_error(&a, StatusCode::UNAUTHORIZED, "unauthorized");
    }

    /// Refusals while an action holds server `id`.
    async fn assert_locked(api: &TestApi, id: i64) {
        assert_eq!(get_server(api, id).await["locked"], true);
        for action in ["poweroff", "reboot", "create_image", "change_protection", "enable_backup"] {
            let a = api.post(&format!("/servers/{id}/actions/{action}"), action_body(action)).await;
            assert_error(&a, StatusCode::LOCKED, "locked");
        }
        assert_error(&api.delete(&format!("/servers/{id}")).await, StatusCode::LOCKED, "locked");
        // Renaming is not an action: it is allowed while locked, as at Hetzner.
        let a = api.put(&format!("/servers/{id}"), json!({"labels": {"touched": "yes"}})).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }

    #[tokio::test]
    async fn a_running_action_locks_the_server() {
        // Creating takes an hour: the create action keeps the lock.
        let timings = SimTimings { create: Duration::from_secs(3600), ..SimTimings::instant() };
        let api = TestApi::with_driver(Arc::new(SimDriver::with_timings(timings))).await;
        let a = api.post("/servers", json!({"name": "slow", "server_type": "cx22", "image": "debian-12"})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        let id = a.body["server"]["id"].as_i64().expect("id");
        let create = a.body["action"]["id"].as_i64().expect("create action");

        let s = get_server(&api, id).await;
        assert_eq!(s["status"], "initializing");
        let running = api.get(&format!("/actions/{create}")).await;
        assert_eq!(
            (&running.body["action"]["status"], &running.body["action"]["finished"]),
            (&json!("running"), &Value::Null)
        );
        assert_locked(&api, id).await;
        let a = api.get(&format!("/servers/{id}/actions?status=running")).await;
        let running: Vec<i64> =
            a.body["actions"].as_array().expect("actions").iter().map(|x| x["id"].as_i64().expect("id")).collect();
        assert_eq!(running, [create, a.body["actions"][1]["id"].as_i64().expect("start waits")]);
        assert_eq!(a.body["actions"][1]["command"], "start_server");
    }

    #[tokio::test]
    async fn the_start_after_create_keeps_the_lock() {
        // Creating is instant, starting takes an hour: the start action must hold the lock.
        let timings = SimTimings { start: Duration::from_secs(3600), ..SimTimings::instant() };
        let api = TestApi::with_driver(Arc::new(SimDriver::with_timings(timings))).await;
        let a = api.post("/servers", json!({"name": "slow", "server_type": "cx22", "image": "debian-12"})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
        let id = a.body["server"]["id"].as_i64().expect("id");
        assert_eq!(api.wait_action(a.body["action"]["id"].as_i64().expect("id")).await["status"], "success");
        assert_eq!(get_server(&api, id).await["status"], "starting");
        assert_locked(&api, id).await;
    }

    #[tokio::test]
    async fn server_action_lists() {
        let api = TestApi::with_config(Config { rate_limit: 0, ..Config::default() }).await;
        let id = server(&api, "listed").await;
        let other = server(&api, "other").await;
        act(&api, id, "poweroff", json!({})).await;
        act(&api, id, "poweron", json!({})).await;

        let commands = |a: &Answer| -> Vec<String> {
            a.body["actions"]
                .as_array()
                .expect("actions")
                .iter()
                .map(|x| x["command"].as_str().expect("command").to_string())
                .collect()
        };
        let a = api.get(&format!("/servers/{id}/actions")).await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
        assert_eq!(commands(&a), ["create_server", "start_server", "stop_server", "start_server"]);
        assert_eq!(a.body["meta"]["pagination"]["total_entries"], 4);
        for x in a.body["actions"].as_array().expect("actions") {
            assert_action(x, x["command"].as_str().expect("command"));
            assert_eq!((&x["status"], &x["progress"], &x["error"]), (&json!("success"), &json!(100), &Value::Null));
            assert!(x["finished"].is_string());
            assert!(x["resources"].as_array().expect("resources").iter().any(|r| r["id"] == id));
        }
        assert_eq!(commands(&api.get(&format!("/servers/{id}/actions?sort=id:desc")).await)[0], "start_server");
        assert_eq!(
            commands(&api.get(&format!("/servers/{id}/actions?sort=command&sort=id")).await),
            ["create_server", "start_server", "start_server", "stop_server"]
        );
        assert_eq!(commands(&api.get(&format!("/servers/{id}/actions?status=error")).await).len(), 0);
        assert_eq!(commands(&api.get(&format!("/servers/{id}/actions?status=success&per_page=3")).await).len(), 3);
        assert_invalid(&api.get(&format!("/servers/{id}/actions?status=done")).await, "status");
        assert_invalid(&api.get(&format!("/servers/{id}/actions?sort=resources")).await, "sort");
        assert_error(&api.get("/servers/999999/actions").await, StatusCode::NOT_FOUND, "not_found");

        let first = a.body["actions"][0]["id"].as_i64().expect("id");
        let one = api.get(&format!("/servers/{id}/actions/{first}")).await;
        assert_eq!((one.status, &one.body["action"]["command"]), (StatusCode::OK, &json!("create_server")));
        // Another server's action is not this server's.
        assert_error(&api.get(&format!("/servers/{other}/actions/{first}")).await, StatusCode::NOT_FOUND, "not_found");
        assert_error(&api.get(&format!("/servers/{id}/actions/999999")).await, StatusCode::NOT_FOUND, "not_found");

        // Today's `/servers/actions`: every server's actions.
        let all = api.get("/servers/actions?per_page=50").await;
        assert_eq!(all.body["meta"]["pagination"]["total_entries"], 6);
        let filtered = api.get(&format!("/servers/actions?id={first}")).await;
        assert_eq!(commands(&filtered), ["create_server"]);
        let one = api.get(&format!("/servers/actions/{first}")).await;
        assert_eq!(one.body["action"]["id"], first);
        assert_error(&api.get("/servers/actions/999999").await, StatusCode::NOT_FOUND, "not_found");
    }
}
