//! Servers in private networks and behind firewalls: `attach_to_network`,
//! `detach_from_network`, `change_alias_ips`, server create with `networks` and
//! `firewalls`, and label-selector firewalls following a server's labels; checked in the
//! answers and on the simulator.

mod common;

use axum::http::{Method, StatusCode};
use common::{Answer, TestApi};
use serde_json::{json, Value};
use std::sync::Arc;
use stratus_compute::sim::{SimDriver, SimTiming};

async fn api_with_sim() -> (TestApi, Arc<SimDriver>) {
    let sim = Arc::new(SimDriver::new(SimTiming::Instant));
    (TestApi::with_driver(sim.clone()).await, sim)
}

async fn network(api: &TestApi, name: &str, range: &str, subnet: &str, zone: &str) -> i64 {
    let body = json!({
        "name": name,
        "ip_range": range,
        "subnets": [{"type": "cloud", "ip_range": subnet, "network_zone": zone}],
    });
    let r = api.post("/networks", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["network"]["id"].as_i64().expect("id")
}

async fn server_action(api: &TestApi, server: i64, action: &str, body: Value) -> Answer {
    api.post(&format!("/servers/{server}/actions/{action}"), body).await
}

/// Runs a server action that must succeed; the finished action.
async fn done(api: &TestApi, server: i64, action: &str, body: Value) -> Value {
    let r = server_action(api, server, action, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{action}: {:?}", r.body);
    let a = api.wait_action(r.body["action"]["id"].as_i64().expect("action id")).await;
    assert_eq!(a["status"], "success", "{action}: {a:?}");
    a
}

async fn server(api: &TestApi, id: i64) -> Value {
    api.get(&format!("/servers/{id}")).await.body["server"].clone()
}

fn assert_error(r: &Answer, status: StatusCode, code: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{:?}", r.body);
}

/// The private addresses the simulator's VM has in `network`.
fn plugged(sim: &SimDriver, server: i64, network: i64) -> Vec<String> {
    let vm = sim.vm(server).expect("vm");
    vm.nics.values().filter(|n| n.network == Some(network)).flat_map(|n| n.addresses.clone()).collect()
}

fn ssh_rule() -> Value {
    json!({"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["0.0.0.0/0"]})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn attach_change_aliases_and_detach() {
        let (api, sim) = api_with_sim().await;
        let net = network(&api, "n", "10.0.0.0/16", "10.0.1.0/24", "eu-central").await;
        let id = api.make_server(&api.token, "web").await;
        let a =
            done(&api, id, "attach_to_network", json!({"network": net, "ip": "10.0.1.10", "alias_ips": ["10.0.1.11"]}))
                .await;
        assert_eq!(a["command"], "attach_to_network");
        let mut resources = a["resources"].as_array().expect("resources").clone();
        resources.sort_by_key(|r| r["type"].as_str().map(str::to_string));
        assert_eq!(resources, [json!({"id": net, "type": "network"}), json!({"id": id, "type": "server"})]);
        let private = server(&api, id).await["private_net"].clone();
        assert_eq!(private[0]["network"], net);
        assert_eq!((&private[0]["ip"], &private[0]["alias_ips"]), (&json!("10.0.1.10"), &json!(["10.0.1.11"])));
        let mac = private[0]["mac_address"].as_str().expect("mac");
        assert_eq!(mac.len(), 17, "{mac}");
        assert_eq!(plugged(&sim, id, net), ["10.0.1.10", "10.0.1.11"]);

        // Aliases are replaced as a whole.
        let a =
            done(&api, id, "change_alias_ips", json!({"network": net, "alias_ips": ["10.0.1.21", "10.0.1.20"]})).await;
        assert_eq!(a["command"], "change_alias_ips");
        assert_eq!(server(&api, id).await["private_net"][0]["alias_ips"], json!(["10.0.1.21", "10.0.1.20"]));
        assert_eq!(plugged(&sim, id, net), ["10.0.1.10", "10.0.1.21", "10.0.1.20"]);
        let members = api.get(&format!("/networks/{net}/members")).await.body["members"].clone();
        assert_eq!(members[0]["alias_ips"], json!(["10.0.1.21", "10.0.1.20"]));

        let a = done(&api, id, "detach_from_network", json!({"network": net})).await;
        assert_eq!(a["command"], "detach_from_network");
        assert_eq!(server(&api, id).await["private_net"], json!([]));
        assert!(plugged(&sim, id, net).is_empty());
        assert_eq!(api.get(&format!("/networks/{net}")).await.body["network"]["servers"], json!([]));
        // The addresses are free again.
        done(&api, id, "attach_to_network", json!({"network": net, "ip": "10.0.1.10"})).await;
    }

    #[tokio::test]
    async fn attach_picks_a_free_address_in_the_servers_zone() {
        let api = TestApi::new().await;
        let net = network(&api, "n", "10.0.0.0/16", "10.0.0.0/24", "eu-central").await;
        let a = api.make_server(&api.token, "a").await;
        let b = api.make_server(&api.token, "b").await;
        done(&api, a, "attach_to_network", json!({"network": net})).await;
        done(&api, b, "attach_to_network", json!({"network": net})).await;
        // The network's first address is the gateway.
        assert_eq!(server(&api, a).await["private_net"][0]["ip"], "10.0.0.2");
        assert_eq!(server(&api, b).await["private_net"][0]["ip"], "10.0.0.3");
    }

    #[tokio::test]
    async fn attach_answers_the_documented_errors() {
        let api = TestApi::new().await;
        let net = network(&api, "n", "10.0.0.0/16", "10.0.1.0/24", "eu-central").await;
        let faraway = network(&api, "us", "10.1.0.0/16", "10.1.1.0/24", "us-east").await;
        let overlapping = network(&api, "o", "10.0.0.0/8", "10.2.0.0/24", "eu-central").await;
        let id = api.make_server(&api.token, "web").await;
        let other = api.make_server(&api.token, "other").await;
        done(&api, id, "attach_to_network", json!({"network": net, "ip": "10.0.1.10", "alias_ips": ["10.0.1.11"]}))
            .await;
        let cases = [
            (json!({"network": net}), StatusCode::UNPROCESSABLE_ENTITY, "server_already_attached"),
            (json!({"network": faraway}), StatusCode::UNPROCESSABLE_ENTITY, "no_subnet_available"),
            (json!({"network": overlapping}), StatusCode::UNPROCESSABLE_ENTITY, "networks_overlap"),
            (json!({"network": 999_999}), StatusCode::BAD_REQUEST, "invalid_input"),
            (json!({}), StatusCode::BAD_REQUEST, "invalid_input"),
        ];
        for (body, status, code) in cases {
            assert_error(&server_action(&api, id, "attach_to_network", body).await, status, code);
        }
        for (body, status, code) in [
            (json!({"network": net, "ip": "10.0.1.10"}), StatusCode::UNPROCESSABLE_ENTITY, "ip_not_available"),
            (json!({"network": net, "ip": "10.0.1.11"}), StatusCode::UNPROCESSABLE_ENTITY, "ip_not_available"),
            (json!({"network": net, "alias_ips": ["10.0.1.10"]}), StatusCode::UNPROCESSABLE_ENTITY, "ip_not_available"),
            (json!({"network": net, "ip": "10.9.0.1"}), StatusCode::BAD_REQUEST, "invalid_input"),
        ] {
            assert_error(&server_action(&api, other, "attach_to_network", body).await, status, code);
        }
        let r = server_action(&api, other, "detach_from_network", json!({"network": net})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "server_not_attached_to_network");
        let r = server_action(&api, other, "change_alias_ips", json!({"network": net, "alias_ips": []})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "server_not_attached_to_network");
        let r = server_action(&api, id, "change_alias_ips", json!({"network": net, "alias_ips": ["10.5.0.1"]})).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        let r = server_action(&api, id, "change_alias_ips", json!({"network": net})).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(server(&api, other).await["private_net"], json!([]));
    }

    #[tokio::test]
    async fn an_address_that_is_no_ipv4_address_is_named_so() {
        // Schemathesis sent garbage as `ip`: the answer must say it is no address, not
        // that it lies outside the subnets.
        let api = TestApi::new().await;
        let net = network(&api, "n", "10.0.0.0/16", "10.0.1.0/24", "eu-central").await;
        let id = api.make_server(&api.token, "web").await;
        for (body, field) in [
            (json!({"network": net, "ip": "not-an-ip"}), "ip"),
            (json!({"network": net, "ip": "10.0.1.10", "alias_ips": ["10.0.1.x"]}), "alias_ips"),
        ] {
            let r = server_action(&api, id, "attach_to_network", body).await;
            assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
            let f = &r.body["error"]["details"]["fields"][0];
            assert_eq!(f["name"], field);
            assert!(f["messages"][0].as_str().is_some_and(|m| m.ends_with("is not an IPv4 address")), "{f}");
        }
        assert_eq!(server(&api, id).await["private_net"], json!([]));
    }

    #[tokio::test]
    async fn create_with_networks_and_firewalls() {
        let (api, sim) = api_with_sim().await;
        let net = network(&api, "n", "10.0.0.0/16", "10.0.1.0/24", "eu-central").await;
        let fw = api.post("/firewalls", json!({"name": "fw", "rules": [ssh_rule()]})).await.body["firewall"]["id"]
            .as_i64()
            .expect("id");
        let r = api
            .post(
                "/servers",
                json!({"name": "web", "server_type": "cx22", "image": "debian-12", "networks": [net], "firewalls": [{"firewall": fw}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let id = r.body["server"]["id"].as_i64().expect("id");
        api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
        for next in r.body["next_actions"].as_array().expect("next_actions") {
            api.wait_action(next["id"].as_i64().expect("id")).await;
        }
        let s = server(&api, id).await;
        assert_eq!((&s["private_net"][0]["network"], &s["private_net"][0]["ip"]), (&json!(net), &json!("10.0.1.1")));
        assert_eq!(s["public_net"]["firewalls"], json!([{"id": fw, "status": "applied"}]));
        assert_eq!(
            api.get(&format!("/firewalls/{fw}")).await.body["firewall"]["applied_to"],
            json!([{"type": "server", "server": {"id": id}}])
        );
        assert_eq!(api.get(&format!("/networks/{net}")).await.body["network"]["servers"], json!([id]));
        assert_eq!(plugged(&sim, id, net), ["10.0.1.1"]);
        let vm = sim.vm(id).expect("vm");
        assert_eq!(vm.firewall.len(), 1);
        assert_eq!(
            (vm.firewall[0].port.as_deref(), &vm.firewall[0].addresses),
            (Some("22"), &vec!["0.0.0.0/0".to_string()])
        );
    }

    #[tokio::test]
    async fn label_selector_firewalls_follow_the_servers_labels() {
        let (api, sim) = api_with_sim().await;
        let id = api.make_server(&api.token, "web").await;
        let body = json!({"name": "fw", "rules": [ssh_rule()], "apply_to": [{"type": "label_selector", "label_selector": {"selector": "env=prod"}}]});
        let r = api.post("/firewalls", body).await;
        let fw = r.body["firewall"]["id"].as_i64().expect("id");
        api.wait_action(r.body["actions"][0]["id"].as_i64().expect("id")).await;
        assert_eq!(server(&api, id).await["public_net"]["firewalls"], json!([]));
        let commands = |v: Value| -> Vec<String> {
            v["actions"]
                .as_array()
                .expect("actions")
                .iter()
                .map(|a| a["command"].as_str().expect("command").to_string())
                .collect()
        };
        let before = commands(api.get(&format!("/servers/{id}/actions")).await.body).len();

        // Labels that bring it under the selector apply the firewall.
        let r = api.put(&format!("/servers/{id}"), json!({"labels": {"env": "prod"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["server"]["labels"], json!({"env": "prod"}), "the answer shows the new labels");
        let listed = commands(api.get(&format!("/servers/{id}/actions")).await.body);
        assert_eq!(listed[before..], ["apply_firewall"]);
        let applied = api.get(&format!("/firewalls/{fw}/actions?sort=id:desc")).await.body["actions"][0].clone();
        assert_eq!(api.wait_action(applied["id"].as_i64().expect("id")).await["status"], "success");
        assert_eq!(server(&api, id).await["public_net"]["firewalls"], json!([{"id": fw, "status": "applied"}]));
        let resources =
            &api.get(&format!("/firewalls/{fw}")).await.body["firewall"]["applied_to"][0]["applied_to_resources"];
        assert_eq!(*resources, json!([{"type": "server", "server": {"id": id}}]));
        assert_eq!(sim.vm(id).expect("vm").firewall.len(), 1);

        // Other label changes leave the firewalls alone: no action.
        api.put(&format!("/servers/{id}"), json!({"labels": {"env": "prod", "team": "a"}, "name": "web2"})).await;
        assert_eq!(commands(api.get(&format!("/servers/{id}/actions")).await.body).len(), before + 1);
        assert_eq!(server(&api, id).await["name"], "web2");

        // Labels that take it out remove the firewall.
        api.put(&format!("/servers/{id}"), json!({"labels": {}})).await;
        let listed = commands(api.get(&format!("/servers/{id}/actions")).await.body);
        assert_eq!(listed[before..], ["apply_firewall", "remove_firewall"]);
        let removed = api.get(&format!("/firewalls/{fw}/actions?sort=id:desc")).await.body["actions"][0].clone();
        assert_eq!(api.wait_action(removed["id"].as_i64().expect("id")).await["status"], "success");
        assert_eq!(server(&api, id).await["public_net"]["firewalls"], json!([]));
        assert!(sim.vm(id).expect("vm").firewall.is_empty());
    }

    #[tokio::test]
    async fn another_projects_server_is_not_found_for_network_actions() {
        let api = TestApi::new().await;
        let net = network(&api, "n", "10.0.0.0/16", "10.0.1.0/24", "eu-central").await;
        let id = api.make_server(&api.token, "web").await;
        done(&api, id, "attach_to_network", json!({"network": net})).await;
        let other = api.other_token().await;
        for (action, body) in [
            ("attach_to_network", json!({"network": net})),
            ("detach_from_network", json!({"network": net})),
            ("change_alias_ips", json!({"network": net, "alias_ips": []})),
        ] {
            let r = api.call_as(&other, Method::POST, &format!("/servers/{id}/actions/{action}"), Some(body)).await;
            assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        }
        assert_eq!(server(&api, id).await["private_net"][0]["network"], net);
    }
}
