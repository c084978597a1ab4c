//! `serve --resource-limit N`: each kind of resource a project creates stops at N, with
//! Hetzner's `403 resource_limit_exceeded`, and the refused create leaves nothing.

mod common;

use axum::http::StatusCode;
use common::TestApi;
use serde_json::{json, Value};
use stratus_core::Config;

/// A create path, the list key of its `GET`, and its body for a name.
type Create = (&'static str, &'static str, fn(&str) -> Value);

/// Each create path, with bodies that differ only in name.
fn creates() -> Vec<Create> {
    vec![
        ("/servers", "servers", |n| json!({"name": n, "server_type": "cx22", "image": "debian-12"})),
        ("/ssh_keys", "ssh_keys", |n| {
            let key = if n == "a" {
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ0pHhF5ZxXn8r0iU0kDEOtYOR0UM8ZYpZsWWcg0uLp a"
            } else {
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl b"
            };
            json!({"name": n, "public_key": key})
        }),
        ("/floating_ips", "floating_ips", |n| json!({"name": n, "type": "ipv4", "home_location": "fsn1"})),
        (
            "/primary_ips",
            "primary_ips",
            |n| json!({"name": n, "type": "ipv4", "assignee_type": "server", "datacenter": "fsn1-dc14"}),
        ),
        ("/volumes", "volumes", |n| json!({"name": n, "size": 10, "location": "fsn1"})),
        ("/networks", "networks", |n| json!({"name": n, "ip_range": "10.0.0.0/16"})),
        ("/firewalls", "firewalls", |n| json!({"name": n})),
        ("/placement_groups", "placement_groups", |n| json!({"name": n, "type": "spread"})),
        ("/load_balancers", "load_balancers", |n| json!({"name": n, "load_balancer_type": "lb11", "location": "fsn1"})),
        ("/certificates", "certificates", |n| {
            let key = rcgen::KeyPair::generate().expect("key");
            let params = rcgen::CertificateParams::new(vec![format!("{n}.example.com")]).expect("params");
            let certificate = params.self_signed(&key).expect("certificate").pem();
            json!({"name": n, "certificate": certificate, "private_key": key.serialize_pem()})
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_kind_stops_at_the_limit_and_the_refused_create_leaves_nothing() {
        for (path, list, body) in creates() {
            // A project each: a server's own primary IPs count against the primary IP limit.
            let api = TestApi::with_config(Config { resource_limit: 1, ..Config::default() }).await;
            let first = api.post(path, body("a")).await;
            assert_eq!(first.status, StatusCode::CREATED, "{path}: {:?}", first.body);
            let second = api.post(path, body("b")).await;
            assert_eq!((second.status, second.code()), (StatusCode::FORBIDDEN, "resource_limit_exceeded"), "{path}");
            assert!(second.body["error"]["message"].as_str().is_some_and(|m| m.contains("limit of 1")), "{path}");
            let names: Vec<Value> =
                api.get(path).await.body[list].as_array().expect("list").iter().map(|r| r["name"].clone()).collect();
            assert_eq!(names, [json!("a")], "{path}: the refused create made nothing");
        }
    }

    #[tokio::test]
    async fn without_a_limit_a_project_has_as_many_as_it_asks_for() {
        let api = TestApi::new().await;
        for (path, _, body) in creates() {
            for name in ["a", "b"] {
                let r = api.post(path, body(name)).await;
                assert_eq!(r.status, StatusCode::CREATED, "{path} {name}: {:?}", r.body);
            }
        }
    }
}
