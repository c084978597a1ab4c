//! `/load_balancers`, their actions and metrics: shapes the clients read, defaults,
//! documented errors, filters, pagination and tenancy. Private networks have no API on
//! this branch; attaching to them and private-IP targets are tested in core
//! (`engine/tests/load_balancers.rs`).

mod common;

use axum::http::{Method, StatusCode};
use common::TestApi;
use serde_json::{json, Value};

async fn create(api: &TestApi, body: Value) -> Value {
    let r = api.post("/load_balancers", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    api.wait_action(r.body["action"]["id"].as_i64().expect("action id")).await;
    r.body
}

/// A load balancer `lb11` in fsn1 with no services; its id.
async fn make_lb(api: &TestApi, name: &str) -> i64 {
    let body = create(api, json!({"name": name, "load_balancer_type": "lb11", "location": "fsn1"})).await;
    body["load_balancer"]["id"].as_i64().expect("id")
}

async fn get_lb(api: &TestApi, id: i64) -> Value {
    let r = api.get(&format!("/load_balancers/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["load_balancer"].clone()
}

/// Runs an action and waits for it; the finished action.
async fn act(api: &TestApi, id: i64, action: &str, body: Value) -> Value {
    let r = api.post(&format!("/load_balancers/{id}/actions/{action}"), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{action}: {:?}", r.body);
    let done = api.wait_action(r.body["action"]["id"].as_i64().expect("action id")).await;
    assert_eq!(done["status"], "success", "{action}: {done:?}");
    done
}

/// The status and error code of an action request that is refused.
async fn refused(api: &TestApi, id: i64, action: &str, body: Value) -> (StatusCode, String) {
    let r = api.post(&format!("/load_balancers/{id}/actions/{action}"), body).await;
    (r.status, r.code().to_string())
}

fn names(body: &Value) -> Vec<&str> {
    body["load_balancers"].as_array().expect("list").iter().map(|l| l["name"].as_str().expect("name")).collect()
}

/// A floating IP's address, to try as a target.
async fn floating_address(api: &TestApi) -> String {
    let r = api.post("/floating_ips", json!({"type": "ipv4", "home_location": "fsn1"})).await;
    r.body["floating_ip"]["ip"].as_str().expect("ip").to_string()
}

// Tests live in a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_renders_everything_the_clients_read() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "web").await;
        let body = create(
            &api,
            json!({
                "name": "lb",
                "load_balancer_type": "lb11",
                "location": "fsn1",
                "algorithm": {"type": "least_connections"},
                "labels": {"env": "prod"},
                "services": [{
                    "protocol": "http",
                    "listen_port": 80,
                    "destination_port": 8080,
                    "proxyprotocol": false,
                    "health_check": {
                        "protocol": "http", "port": 8080, "interval": 10, "timeout": 5, "retries": 2,
                        "http": {"domain": "example.com", "path": "/health", "response": "ok", "status_codes": ["200"], "tls": false}
                    },
                    "http": {"sticky_sessions": true, "cookie_name": "SESSION", "cookie_lifetime": 600}
                }, {"protocol": "tcp", "listen_port": 22, "destination_port": 2222, "proxyprotocol": true}],
                "targets": [
                    {"type": "server", "server": {"id": server}},
                    {"type": "label_selector", "label_selector": {"selector": "app=web"}},
                    {"type": "ip", "ip": {"ip": "203.0.113.5"}}
                ]
            }),
        )
        .await;
        let action = &body["action"];
        assert_eq!(action["command"], "create_load_balancer");
        let lb = &body["load_balancer"];
        let id = lb["id"].as_i64().expect("id");
        assert_eq!(action["resources"], json!([{"id": id, "type": "load_balancer"}]));
        let mut fields: Vec<&str> = lb.as_object().expect("object").keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "algorithm",
                "created",
                "id",
                "included_traffic",
                "ingoing_traffic",
                "labels",
                "load_balancer_type",
                "location",
                "name",
                "outgoing_traffic",
                "private_net",
                "protection",
                "public_net",
                "services",
                "targets"
            ]
        );
        assert_eq!(lb["name"], "lb");
        assert_eq!(lb["algorithm"], json!({"type": "least_connections"}));
        assert_eq!(lb["labels"], json!({"env": "prod"}));
        assert_eq!(lb["protection"], json!({"delete": false}));
        assert_eq!(lb["private_net"], json!([]));
        assert!(chrono::DateTime::parse_from_rfc3339(lb["created"].as_str().expect("created")).is_ok());
        assert_eq!(lb["location"]["name"], "fsn1");
        assert_eq!(lb["location"]["network_zone"], "eu-central");
        let t = &lb["load_balancer_type"];
        assert_eq!(
            (t["name"].as_str(), t["max_services"].as_i64(), t["max_targets"].as_i64()),
            (Some("lb11"), Some(5), Some(25))
        );
        assert!(t["prices"].as_array().is_some_and(|p| !p.is_empty()));
        assert_eq!(lb["included_traffic"], t["prices"][0]["included_traffic"]);
        assert!(lb["ingoing_traffic"].is_u64() && lb["outgoing_traffic"].is_u64());

        let net = &lb["public_net"];
        assert_eq!(net["enabled"], true);
        let v4: std::net::Ipv4Addr = net["ipv4"]["ip"].as_str().expect("ipv4").parse().expect("an address");
        assert!(net["ipv4"]["id"].is_i64());
        assert!(net["ipv4"]["dns_ptr"].as_str().is_some_and(|p| p.ends_with(".clients.your-server.de")), "{net}");
        let v6: std::net::Ipv6Addr = net["ipv6"]["ip"].as_str().expect("ipv6").parse().expect("an address, not a CIDR");
        assert_eq!(v6.segments()[7], 1, "the first address of its /64: {v6}");
        assert!(net["ipv6"]["id"].is_i64());
        assert_eq!(net["ipv6"]["dns_ptr"], Value::Null);
        assert_eq!(v4.octets()[0], 198);

        let http = &lb["services"][0];
        assert_eq!(
            http,
            &json!({
                "protocol": "http", "listen_port": 80, "destination_port": 8080, "proxyprotocol": false,
                "health_check": {
                    "protocol": "http", "port": 8080, "interval": 10, "timeout": 5, "retries": 2,
                    "http": {"domain": "example.com", "path": "/health", "response": "ok", "status_codes": ["200"], "tls": false}
                },
                "http": {
                    "cookie_name": "SESSION", "cookie_lifetime": 600, "certificates": [], "redirect_http": false,
                    "sticky_sessions": true, "timeout_idle": 60
                }
            })
        );
        // Schemathesis found `http: null` (service and health check) on tcp services: the
        // document's `http` objects are optional but never null, so a tcp service has none.
        let tcp = &lb["services"][1];
        assert_eq!(
            tcp,
            &json!({
                "protocol": "tcp", "listen_port": 22, "destination_port": 2222, "proxyprotocol": true,
                "health_check": {"protocol": "tcp", "port": 2222, "interval": 15, "timeout": 10, "retries": 3},
            }),
            "no http keys; a health check is never null: the defaults"
        );

        let healthy = json!([{"listen_port": 80, "status": "healthy"}, {"listen_port": 22, "status": "healthy"}]);
        assert_eq!(
            lb["targets"],
            json!([
                {"type": "server", "server": {"id": server}, "use_private_ip": false, "health_status": healthy},
                {"type": "label_selector", "label_selector": {"selector": "app=web"}, "use_private_ip": false, "targets": []},
                {"type": "ip", "ip": {"ip": "203.0.113.5"}, "health_status": [
                    {"listen_port": 80, "status": "unknown"}, {"listen_port": 22, "status": "unknown"}
                ]}
            ])
        );
        assert_eq!(&get_lb(&api, id).await, lb, "GET answers the same");
        let srv = api.get(&format!("/servers/{server}")).await;
        assert_eq!(srv.body["server"]["load_balancers"], json!([id]), "the server lists it");

        // Label selectors resolve to the servers they match.
        api.put(&format!("/servers/{server}"), json!({"labels": {"app": "web"}})).await;
        let lb = get_lb(&api, id).await;
        assert_eq!(
            lb["targets"][1]["targets"],
            json!([{"type": "server", "server": {"id": server}, "use_private_ip": false, "health_status": healthy}])
        );
    }

    #[tokio::test]
    async fn create_takes_ids_network_zones_and_defaults() {
        let api = TestApi::new().await;
        let lb21 = api.get("/load_balancer_types?name=lb21").await.body["load_balancer_types"][0]["id"].clone();
        let hel1 = api.get("/locations?name=hel1").await.body["locations"][0]["id"].clone();
        // Ansible sends the type and location as integer ids.
        let body = create(&api, json!({"name": "a", "load_balancer_type": lb21, "location": hel1})).await;
        let lb = &body["load_balancer"];
        assert_eq!(
            (lb["load_balancer_type"]["name"].as_str(), lb["location"]["name"].as_str()),
            (Some("lb21"), Some("hel1"))
        );
        assert_eq!(lb["algorithm"], json!({"type": "round_robin"}), "the default algorithm");
        assert_eq!((lb["services"].clone(), lb["targets"].clone()), (json!([]), json!([])), "lists, never null");
        let body = create(&api, json!({"name": "b", "load_balancer_type": "lb11", "network_zone": "us-east"})).await;
        assert_eq!(body["load_balancer"]["location"]["network_zone"], "us-east");
        // hcloud-go sends ids as strings.
        let body = create(&api, json!({"name": "c", "load_balancer_type": lb21.to_string(), "location": "nbg1"})).await;
        assert_eq!(body["load_balancer"]["load_balancer_type"]["name"], "lb21");
    }

    #[tokio::test]
    async fn create_refuses_bad_requests_and_leaves_nothing() {
        let api = TestApi::new().await;
        let no_ipv4 = {
            let body = json!({"name": "v6", "server_type": "cx22", "image": "debian-12", "public_net": {"enable_ipv4": false}});
            let r = api.post("/servers", body).await;
            api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
            r.body["server"]["id"].as_i64().expect("id")
        };
        let cloud_ip = floating_address(&api).await;
        let base = || json!({"name": "lb", "load_balancer_type": "lb11", "location": "fsn1"});
        let with = |key: &str, value: Value| {
            let mut b = base();
            b[key] = value;
            b
        };
        let invalid = [
            ("no name", json!({"load_balancer_type": "lb11", "location": "fsn1"}), "name"),
            ("no type", json!({"name": "x", "location": "fsn1"}), "load_balancer_type"),
            ("unknown type", with("load_balancer_type", json!("lb99")), "load_balancer_type"),
            ("unknown location", with("location", json!("atlantis")), "location"),
            ("no place", json!({"name": "x", "load_balancer_type": "lb11"}), "location"),
            (
                "unknown zone",
                json!({"name": "x", "load_balancer_type": "lb11", "network_zone": "moon"}),
                "network_zone",
            ),
            ("bad labels", with("labels", json!({"a b": "c"})), "labels"),
            ("bad algorithm", with("algorithm", json!({"type": "random"})), "algorithm.type"),
            ("tcp without port", with("services", json!([{"protocol": "tcp"}])), "services[0].listen_port"),
            ("port zero", with("services", json!([{"protocol": "http", "listen_port": 0}])), "services[0].listen_port"),
            (
                "port too big",
                with("services", json!([{"protocol": "tcp", "listen_port": 70000}])),
                "services[0].listen_port",
            ),
            (
                "https without certificate",
                with("services", json!([{"protocol": "https"}])),
                "services[0].http.certificates",
            ),
            (
                "unknown health check protocol",
                with("services", json!([{"protocol": "http", "health_check": {"protocol": "udp"}}])),
                "services[0].health_check.protocol",
            ),
            (
                "unknown server",
                with("targets", json!([{"type": "server", "server": {"id": 987654}}])),
                "targets[0].server.id",
            ),
            ("server target without server", with("targets", json!([{"type": "server"}])), "targets[0].server"),
            ("unknown target type", with("targets", json!([{"type": "vm"}])), "targets[0].type"),
            ("bad ip", with("targets", json!([{"type": "ip", "ip": {"ip": "nope"}}])), "targets[0].ip.ip"),
            (
                "bad selector",
                with("targets", json!([{"type": "label_selector", "label_selector": {"selector": "a,,b"}}])),
                "targets[0].label_selector.selector",
            ),
            ("unknown network", with("network", json!(424242)), "network"),
        ];
        for (what, body, field) in invalid {
            let r = api.post("/load_balancers", body).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{what}: {:?}", r.body);
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field, "{what}: {:?}", r.body);
        }
        let refused = [
            ("mutually exclusive", with("network_zone", json!("eu-central")), StatusCode::BAD_REQUEST, "invalid_input"),
            (
                "duplicate port",
                with("services", json!([{"protocol": "http"}, {"protocol": "tcp", "listen_port": 80}])),
                StatusCode::UNPROCESSABLE_ENTITY,
                "source_port_already_used",
            ),
            (
                "duplicate target",
                with(
                    "targets",
                    json!([{"type": "ip", "ip": {"ip": "203.0.113.1"}}, {"type": "ip", "ip": {"ip": "203.0.113.1"}}]),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                "target_already_defined",
            ),
            (
                "server without IPv4",
                with("targets", json!([{"type": "server", "server": {"id": no_ipv4}}])),
                StatusCode::UNPROCESSABLE_ENTITY,
                "missing_ipv4",
            ),
            (
                "a cloud address",
                with("targets", json!([{"type": "ip", "ip": {"ip": cloud_ip}}])),
                StatusCode::UNPROCESSABLE_ENTITY,
                "cloud_resource_ip_not_allowed",
            ),
            (
                "private target without network",
                with(
                    "targets",
                    json!([{"type": "label_selector", "label_selector": {"selector": "a=b"}, "use_private_ip": true}]),
                ),
                StatusCode::UNPROCESSABLE_ENTITY,
                "load_balancer_not_attached_to_network",
            ),
            (
                "no public interface and no network",
                with("public_interface", json!(false)),
                StatusCode::UNPROCESSABLE_ENTITY,
                "load_balancer_not_attached_to_network",
            ),
        ];
        for (what, body, status, code) in refused {
            let r = api.post("/load_balancers", body).await;
            assert_eq!((r.status, r.code()), (status, code), "{what}: {:?}", r.body);
        }
        let six: Vec<Value> = (1..=6).map(|p| json!({"protocol": "tcp", "listen_port": p})).collect();
        let r = api.post("/load_balancers", with("services", json!(six))).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_input"),
            "lb11 has 5 services: {:?}",
            r.body
        );
        let r = api.call_as(&api.token, Method::POST, "/load_balancers", None).await;
        assert_eq!(r.code(), "json_error", "a create needs a body");
        assert_eq!(api.get("/load_balancers").await.body["load_balancers"], json!([]), "nothing half-made");

        make_lb(&api, "lb").await;
        let r = api.post("/load_balancers", base()).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "uniqueness_error"));
    }

    #[tokio::test]
    async fn update_changes_name_and_labels() {
        let api = TestApi::new().await;
        let id = make_lb(&api, "a").await;
        make_lb(&api, "b").await;
        let path = format!("/load_balancers/{id}");
        let r = api.put(&path, json!({"name": "renamed", "labels": {"k": "v"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(
            (r.body["load_balancer"]["name"].as_str(), &r.body["load_balancer"]["labels"]),
            (Some("renamed"), &json!({"k": "v"}))
        );
        assert!(r.body["load_balancer"]["public_net"]["ipv4"]["ip"].is_string(), "the whole object");
        let r = api.put(&path, json!({"labels": {}})).await;
        assert_eq!(r.body["load_balancer"]["labels"], json!({}));
        assert_eq!(r.body["load_balancer"]["name"], "renamed", "name kept");
        let r = api.put(&path, json!({"name": "b"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "uniqueness_error"));
        for body in [json!({"name": ""}), json!({"labels": {"k": "not valid!"}}), json!({"name": 5})] {
            let r = api.put(&path, body.clone()).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{body}");
        }
        assert_eq!(get_lb(&api, id).await["name"], "renamed", "refused updates change nothing");
    }

    #[tokio::test]
    async fn list_filters_sorts_and_pages() {
        let api = TestApi::new().await;
        for (name, env) in [("one", "prod"), ("two", "dev"), ("three", "prod")] {
            create(
                &api,
                json!({"name": name, "load_balancer_type": "lb11", "location": "fsn1", "labels": {"env": env}}),
            )
            .await;
        }
        let cases = [
            ("", vec!["one", "two", "three"]),
            ("?name=two", vec!["two"]),
            ("?label_selector=env%3Dprod", vec!["one", "three"]),
            ("?label_selector=env!%3Dprod", vec!["two"]),
            ("?sort=name", vec!["one", "three", "two"]),
            ("?sort=name:desc", vec!["two", "three", "one"]),
            ("?sort=id:desc", vec!["three", "two", "one"]),
        ];
        for (query, want) in cases {
            let r = api.get(&format!("/load_balancers{query}")).await;
            assert_eq!(r.status, StatusCode::OK, "{query}");
            assert_eq!(names(&r.body), want, "{query}");
        }
        // Two keys: created first, ties by id descending. Creation times have second
        // resolution and the three may straddle a second, so the expected order is
        // computed from what the list shows.
        let r = api.get("/load_balancers?sort=created:asc&sort=id:desc").await;
        let mut want: Vec<(String, i64, String)> = r.body["load_balancers"]
            .as_array()
            .expect("list")
            .iter()
            .map(|l| {
                (
                    l["created"].as_str().expect("created").to_string(),
                    l["id"].as_i64().expect("id"),
                    l["name"].as_str().expect("name").to_string(),
                )
            })
            .collect();
        want.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        assert_eq!(names(&r.body), want.iter().map(|w| w.2.as_str()).collect::<Vec<_>>());
        assert_eq!(want.len(), 3);

        let r = api.get("/load_balancers?per_page=2&page=2").await;
        assert_eq!(names(&r.body), ["three"]);
        let pagination = &r.body["meta"]["pagination"];
        assert_eq!(
            (
                pagination["total_entries"].as_i64(),
                pagination["previous_page"].as_i64(),
                pagination["last_page"].as_i64()
            ),
            (Some(3), Some(1), Some(2))
        );
        assert!(r.headers.contains_key("link"));
        for query in ["?sort=ip", "?sort=name:up", "?per_page=0", "?label_selector=a,,b"] {
            let r = api.get(&format!("/load_balancers{query}")).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{query}");
        }
    }

    #[tokio::test]
    async fn add_service_fills_in_what_the_cli_leaves_out() {
        let api = TestApi::new().await;
        let id = make_lb(&api, "lb").await;
        // `hcloud load-balancer add-service --protocol http` sends no ports and no health check.
        let done = act(&api, id, "add_service", json!({"protocol": "http", "proxyprotocol": false})).await;
        assert_eq!(done["command"], "add_service");
        assert_eq!(done["resources"], json!([{"id": id, "type": "load_balancer"}]));
        assert_eq!(
            get_lb(&api, id).await["services"][0],
            json!({
                "protocol": "http", "listen_port": 80, "destination_port": 80, "proxyprotocol": false,
                "health_check": {
                    "protocol": "http", "port": 80, "interval": 15, "timeout": 10, "retries": 3,
                    "http": {"domain": null, "path": "/", "response": null, "status_codes": ["2??", "3??"], "tls": false}
                },
                "http": {
                    "cookie_name": "HCLBSTICKY", "cookie_lifetime": 300, "certificates": [], "redirect_http": false,
                    "sticky_sessions": false, "timeout_idle": 60
                }
            })
        );
        // Ansible sends every health check key, null where unset.
        let ansible = json!({
            "protocol": "tcp", "listen_port": 5432, "destination_port": 5432, "proxyprotocol": false,
            "health_check": {"protocol": "tcp", "port": null, "interval": null, "timeout": null, "retries": null}
        });
        act(&api, id, "add_service", ansible).await;
        let tcp = &get_lb(&api, id).await["services"][1];
        assert_eq!(
            tcp["health_check"],
            json!({"protocol": "tcp", "port": 5432, "interval": 15, "timeout": 10, "retries": 3})
        );

        assert_eq!(
            refused(&api, id, "add_service", json!({"protocol": "tcp", "listen_port": 80, "destination_port": 81}))
                .await,
            (StatusCode::UNPROCESSABLE_ENTITY, "source_port_already_used".into())
        );
        for body in [
            json!({"protocol": "tcp"}),
            json!({}),
            json!({"protocol": "udp", "listen_port": 53}),
            json!({"protocol": "https", "listen_port": 443}),
            json!({"protocol": "https", "http": {"certificates": [987654]}}),
            json!({"protocol": "http", "listen_port": 81, "http": {"redirect_http": true}}),
            json!({"protocol": "tcp", "listen_port": 82, "http": {"sticky_sessions": true}}),
            json!({"protocol": "http", "listen_port": 83, "health_check": {"http": {"path": "no-slash"}}}),
            json!({"protocol": "http", "listen_port": 84, "health_check": {"http": {"status_codes": ["abcd"]}}}),
            json!({"protocol": "http", "listen_port": 85, "health_check": {"interval": 0}}),
            json!({"protocol": "tcp", "listen_port": 86, "health_check": {"protocol": "tcp", "http": {"path": "/"}}}),
        ] {
            let r = api.post(&format!("/load_balancers/{id}/actions/add_service"), body.clone()).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{body}: {:?}", r.body);
        }
        for port in [1, 2, 3] {
            act(&api, id, "add_service", json!({"protocol": "tcp", "listen_port": port})).await;
        }
        let r = api
            .post(&format!("/load_balancers/{id}/actions/add_service"), json!({"protocol": "tcp", "listen_port": 4}))
            .await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "lb11 allows 5 services");
        assert_eq!(get_lb(&api, id).await["services"].as_array().map(Vec::len), Some(5));
    }

    #[tokio::test]
    async fn update_and_delete_service() {
        let api = TestApi::new().await;
        let id = make_lb(&api, "lb").await;
        act(&api, id, "add_service", json!({"protocol": "http"})).await;
        let body = json!({"listen_port": 80, "destination_port": 8080, "health_check": {"port": 8081, "http": {"path": "/up"}}});
        let done = act(&api, id, "update_service", body).await;
        assert_eq!(done["command"], "update_service");
        let service = get_lb(&api, id).await["services"][0].clone();
        assert_eq!(service["destination_port"], 8080);
        assert_eq!(
            (service["health_check"]["port"].as_i64(), service["health_check"]["http"]["path"].as_str()),
            (Some(8081), Some("/up"))
        );
        assert_eq!(service["health_check"]["interval"], 15, "what is not given stays");
        assert_eq!(service["http"]["cookie_name"], "HCLBSTICKY");
        // Ansible may ask for an https health check: http settings, over TLS.
        act(&api, id, "update_service", json!({"listen_port": 80, "health_check": {"protocol": "https"}})).await;
        let check = get_lb(&api, id).await["services"][0]["health_check"].clone();
        assert_eq!((check["protocol"].as_str(), check["http"]["path"].as_str()), (Some("https"), Some("/up")));
        // Changing the protocol to tcp drops the http settings.
        act(
            &api,
            id,
            "update_service",
            json!({"listen_port": 80, "protocol": "tcp", "health_check": {"protocol": "tcp"}}),
        )
        .await;
        let service = get_lb(&api, id).await["services"][0].clone();
        assert_eq!(service["protocol"], "tcp");
        assert!(service.get("http").is_none() && service["health_check"].get("http").is_none(), "{service}");
        // `hcloud load-balancer update-service` (1.30.3) sends empty `http` objects even
        // for a tcp service: they ask for nothing; a non-empty one is still refused.
        let body = json!({"listen_port": 80, "proxyprotocol": true, "http": {}, "health_check": {"http": {}}});
        act(&api, id, "update_service", body).await;
        let service = get_lb(&api, id).await["services"][0].clone();
        assert_eq!(service["proxyprotocol"], json!(true));
        assert!(service.get("http").is_none() && service["health_check"].get("http").is_none(), "{service}");
        for body in [
            json!({"listen_port": 80, "http": {"sticky_sessions": true}}),
            json!({"listen_port": 80, "health_check": {"http": {"path": "/"}}}),
        ] {
            let r = api.post(&format!("/load_balancers/{id}/actions/update_service"), body.clone()).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{body}");
        }

        for (body, field) in [
            (json!({"destination_port": 1}), "listen_port"),
            (json!({"listen_port": 99, "destination_port": 1}), "listen_port"),
        ] {
            let r = api.post(&format!("/load_balancers/{id}/actions/update_service"), body).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field);
        }
        let r = api.post(&format!("/load_balancers/{id}/actions/delete_service"), json!({"listen_port": 99})).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
        let r = api.post(&format!("/load_balancers/{id}/actions/delete_service"), json!({})).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
        let done = act(&api, id, "delete_service", json!({"listen_port": 80})).await;
        assert_eq!(done["command"], "delete_service");
        assert_eq!(get_lb(&api, id).await["services"], json!([]));
    }

    #[tokio::test]
    async fn targets_are_added_and_removed() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "web").await;
        let id = make_lb(&api, "lb").await;
        act(&api, id, "add_service", json!({"protocol": "tcp", "listen_port": 443})).await;
        let done = act(&api, id, "add_target", json!({"type": "server", "server": {"id": server}})).await;
        assert_eq!(done["command"], "add_target");
        assert_eq!(done["resources"], json!([{"id": id, "type": "load_balancer"}]));
        act(&api, id, "add_target", json!({"type": "label_selector", "label_selector": {"selector": "env=prod"}}))
            .await;
        act(&api, id, "add_target", json!({"type": "ip", "ip": {"ip": "2001:DB8:ffff::0:1"}})).await;
        let lb = get_lb(&api, id).await;
        assert_eq!(lb["targets"][0]["health_status"], json!([{"listen_port": 443, "status": "healthy"}]));
        assert_eq!(lb["targets"][2]["ip"]["ip"], "2001:db8:ffff::1", "addresses are kept in one form");

        let duplicates = [
            json!({"type": "server", "server": {"id": server}, "use_private_ip": false}),
            json!({"type": "label_selector", "label_selector": {"selector": "env=prod"}}),
            json!({"type": "ip", "ip": {"ip": "2001:db8:ffff::1"}}),
        ];
        for body in duplicates {
            assert_eq!(
                refused(&api, id, "add_target", body.clone()).await,
                (StatusCode::UNPROCESSABLE_ENTITY, "target_already_defined".into()),
                "{body}"
            );
        }
        let cloud_ip = floating_address(&api).await;
        let refusals = [
            (json!({"type": "ip", "ip": {"ip": cloud_ip}}), "cloud_resource_ip_not_allowed"),
            (
                json!({"type": "server", "server": {"id": server}, "use_private_ip": true}),
                "load_balancer_not_attached_to_network",
            ),
        ];
        for (body, code) in refusals {
            assert_eq!(refused(&api, id, "add_target", body).await, (StatusCode::UNPROCESSABLE_ENTITY, code.into()));
        }
        for body in [
            json!({"type": "server", "server": {"id": 987654}}),
            json!({"type": "ip", "ip": {"ip": "203.0.113.9"}, "use_private_ip": true}),
            json!({"type": "ip"}),
            json!({}),
        ] {
            assert_eq!(
                refused(&api, id, "add_target", body.clone()).await,
                (StatusCode::BAD_REQUEST, "invalid_input".into()),
                "{body}"
            );
        }

        let done = act(&api, id, "remove_target", json!({"type": "server", "server": {"id": server}})).await;
        assert_eq!(done["command"], "remove_target");
        act(&api, id, "remove_target", json!({"type": "ip", "ip": {"ip": "2001:db8:ffff:0::1"}})).await;
        let lb = get_lb(&api, id).await;
        assert_eq!(lb["targets"].as_array().map(Vec::len), Some(1));
        assert_eq!(lb["targets"][0]["type"], "label_selector");
        assert_eq!(
            refused(&api, id, "remove_target", json!({"type": "server", "server": {"id": server}})).await,
            (StatusCode::BAD_REQUEST, "invalid_input".into())
        );

        // lb11 takes 25 targets.
        for i in 1..=24 {
            act(&api, id, "add_target", json!({"type": "ip", "ip": {"ip": format!("203.0.113.{i}")}})).await;
        }
        assert_eq!(
            refused(&api, id, "add_target", json!({"type": "ip", "ip": {"ip": "203.0.113.99"}})).await,
            (StatusCode::BAD_REQUEST, "invalid_input".into())
        );
    }

    #[tokio::test]
    async fn deleting_a_target_server_removes_it() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "web").await;
        let id = make_lb(&api, "lb").await;
        act(&api, id, "add_target", json!({"type": "server", "server": {"id": server}})).await;
        let r = api.delete(&format!("/servers/{server}")).await;
        api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
        assert_eq!(get_lb(&api, id).await["targets"], json!([]));
    }

    #[tokio::test]
    async fn algorithm_type_and_public_interface() {
        let api = TestApi::new().await;
        let id = make_lb(&api, "lb").await;
        let done = act(&api, id, "change_algorithm", json!({"type": "least_connections"})).await;
        assert_eq!(done["command"], "change_algorithm");
        assert_eq!(get_lb(&api, id).await["algorithm"], json!({"type": "least_connections"}));
        for body in [json!({"type": "fastest"}), json!({})] {
            assert_eq!(
                refused(&api, id, "change_algorithm", body).await,
                (StatusCode::BAD_REQUEST, "invalid_input".into())
            );
        }

        let done = act(&api, id, "change_type", json!({"load_balancer_type": "lb21"})).await;
        assert_eq!(done["command"], "change_load_balancer_type");
        assert_eq!(get_lb(&api, id).await["load_balancer_type"]["name"], "lb21");
        for port in 1..=6 {
            act(&api, id, "add_service", json!({"protocol": "tcp", "listen_port": port})).await;
        }
        assert_eq!(
            refused(&api, id, "change_type", json!({"load_balancer_type": "lb11"})).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_load_balancer_type".into()),
            "six services do not fit lb11"
        );
        assert_eq!(
            refused(&api, id, "change_type", json!({"load_balancer_type": "lb99"})).await,
            (StatusCode::BAD_REQUEST, "invalid_input".into())
        );
        assert_eq!(get_lb(&api, id).await["load_balancer_type"]["name"], "lb21");

        assert_eq!(
            refused(&api, id, "disable_public_interface", json!({})).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "load_balancer_not_attached_to_network".into()),
            "only a load balancer in a network may lose its public interface"
        );
        let done = act(&api, id, "enable_public_interface", json!({})).await;
        assert_eq!(done["command"], "enable_public_interface");
        assert_eq!(get_lb(&api, id).await["public_net"]["enabled"], true);
        let r = api
            .call_as(&api.token, Method::POST, &format!("/load_balancers/{id}/actions/enable_public_interface"), None)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "no body at all");
    }

    #[tokio::test]
    async fn networks_must_exist() {
        let api = TestApi::new().await;
        let id = make_lb(&api, "lb").await;
        for (action, body, field) in [
            ("attach_to_network", json!({"network": 424242}), "network"),
            ("attach_to_network", json!({}), "network"),
            ("detach_from_network", json!({"network": 424242}), "network"),
        ] {
            let r = api.post(&format!("/load_balancers/{id}/actions/{action}"), body).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{action}: {:?}", r.body);
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field);
        }
    }

    #[tokio::test]
    async fn an_address_that_is_no_ipv4_address_is_named_so() {
        let api = TestApi::new().await;
        let id = make_lb(&api, "lb").await;
        let r = api
            .post(
                "/networks",
                json!({"name": "n", "ip_range": "10.0.0.0/16",
            "subnets": [{"type": "cloud", "network_zone": "eu-central", "ip_range": "10.0.1.0/24"}]}),
            )
            .await;
        let net = r.body["network"]["id"].clone();
        let r = api
            .post(&format!("/load_balancers/{id}/actions/attach_to_network"), json!({"network": net, "ip": "x"}))
            .await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{:?}", r.body);
        assert_eq!(r.body["error"]["message"], "invalid input in field 'ip': 'x' is not an IPv4 address");
    }

    #[tokio::test]
    async fn reverse_dns_for_both_addresses() {
        let api = TestApi::new().await;
        let id = make_lb(&api, "lb").await;
        let net = get_lb(&api, id).await["public_net"].clone();
        let v4 = net["ipv4"]["ip"].as_str().expect("ipv4").to_string();
        let v6 = net["ipv6"]["ip"].as_str().expect("ipv6").to_string();
        let done = act(&api, id, "change_dns_ptr", json!({"ip": v4, "dns_ptr": "lb.example.com"})).await;
        assert_eq!(done["command"], "change_dns_ptr");
        assert_eq!(done["resources"], json!([{"id": id, "type": "load_balancer"}]));
        act(&api, id, "change_dns_ptr", json!({"ip": v6, "dns_ptr": "lb6.example.com"})).await;
        let net = get_lb(&api, id).await["public_net"].clone();
        assert_eq!(
            (net["ipv4"]["dns_ptr"].as_str(), net["ipv6"]["dns_ptr"].as_str()),
            (Some("lb.example.com"), Some("lb6.example.com"))
        );
        act(&api, id, "change_dns_ptr", json!({"ip": v4, "dns_ptr": null})).await;
        let ptr = get_lb(&api, id).await["public_net"]["ipv4"]["dns_ptr"].as_str().expect("ptr").to_string();
        assert!(ptr.ends_with(".clients.your-server.de"), "null resets it: {ptr}");
        for (body, field) in [
            (json!({"ip": "192.0.2.1", "dns_ptr": "x.example.com"}), "ip"),
            (json!({"ip": v4, "dns_ptr": "not a hostname"}), "dns_ptr"),
            (json!({"ip": v4}), "dns_ptr"),
            (json!({"dns_ptr": "x.example.com"}), "ip"),
        ] {
            let r = api.post(&format!("/load_balancers/{id}/actions/change_dns_ptr"), body.clone()).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{body}");
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field, "{body}");
        }
    }

    #[tokio::test]
    async fn protection_and_delete() {
        let api = TestApi::new().await;
        let id = make_lb(&api, "lb").await;
        let path = format!("/load_balancers/{id}");
        let done = act(&api, id, "change_protection", json!({"delete": true})).await;
        assert_eq!(done["command"], "change_protection");
        assert_eq!(get_lb(&api, id).await["protection"], json!({"delete": true}));
        let r = api.delete(&path).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "protected"));
        act(&api, id, "change_protection", json!({})).await;
        assert_eq!(get_lb(&api, id).await["protection"], json!({"delete": true}), "no flag, no change");
        assert_eq!(
            refused(&api, id, "change_protection", json!({"delete": "yes"})).await,
            (StatusCode::BAD_REQUEST, "invalid_input".into())
        );
        act(&api, id, "change_protection", json!({"delete": false})).await;

        // hcloud-python 2.27 reads the action from the answer's body.
        let r = api.delete(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["action"]["command"], "delete_load_balancer");
        assert_eq!(r.body["action"]["resources"], json!([{"id": id, "type": "load_balancer"}]));
        let done = api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
        assert_eq!(done["status"], "success");
        assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND);
        assert_eq!(api.get("/load_balancers").await.body["load_balancers"], json!([]));
        // Its name is free again.
        make_lb(&api, "lb").await;
    }

    #[tokio::test]
    async fn metrics_of_a_load_balancer() {
        let api = TestApi::new().await;
        let id = make_lb(&api, "lb").await;
        let path = format!("/load_balancers/{id}/metrics");
        let window = "start=2024-01-01T00:00:00Z&end=2024-01-01T01:00:00Z";
        let r = api.get(&format!("{path}?type=open_connections,bandwidth&type=requests_per_second&{window}")).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let m = &r.body["metrics"];
        assert_eq!(m["step"], 18, "about 200 samples without a step");
        let mut series: Vec<&str> = m["time_series"].as_object().expect("series").keys().map(String::as_str).collect();
        series.sort_unstable();
        assert_eq!(series, ["bandwidth.in", "bandwidth.out", "open_connections", "requests_per_second"]);
        let first = &m["time_series"]["open_connections"]["values"][0];
        assert!(first[0].is_number() && first[1].is_string(), "[timestamp, \"value\"]: {first}");
        let r = api.get(&format!("{path}?type=connections_per_second&{window}&step=1")).await;
        assert_eq!(r.body["metrics"]["step"], 8, "at most 500 samples");
        for query in [
            format!("?{window}"),
            format!("?type=cpu&{window}"),
            "?type=bandwidth&start=2024-01-01T00:00:00Z".to_string(),
            format!("?type=bandwidth&{window}&step=0"),
            "?type=bandwidth&start=2024-01-02T00:00:00Z&end=2024-01-01T00:00:00Z".to_string(),
        ] {
            let r = api.get(&format!("{path}{query}")).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{query}");
        }
    }

    #[tokio::test]
    async fn action_lists() {
        let api = TestApi::new().await;
        let id = make_lb(&api, "lb").await;
        let other = make_lb(&api, "other").await;
        let add = act(&api, id, "add_service", json!({"protocol": "http"})).await;
        act(&api, id, "change_algorithm", json!({"type": "least_connections"})).await;
        let r = api.get(&format!("/load_balancers/{id}/actions?sort=id")).await;
        let commands: Vec<&str> =
            r.body["actions"].as_array().expect("actions").iter().filter_map(|a| a["command"].as_str()).collect();
        assert_eq!(commands, ["create_load_balancer", "add_service", "change_algorithm"]);
        let r = api.get(&format!("/load_balancers/{id}/actions?sort=command:desc&per_page=1")).await;
        assert_eq!(r.body["actions"][0]["command"], "create_load_balancer");
        assert_eq!(r.body["meta"]["pagination"]["total_entries"], 3);
        let r = api.get(&format!("/load_balancers/{id}/actions?status=running")).await;
        assert_eq!(r.body["actions"], json!([]));
        let r = api.get(&format!("/load_balancers/{id}/actions/{}", add["id"])).await;
        assert_eq!((r.status, r.body["action"]["command"].as_str()), (StatusCode::OK, Some("add_service")));
        let r = api.get(&format!("/load_balancers/{other}/actions/{}", add["id"])).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "another load balancer's action");
        let r = api.get("/load_balancers/actions").await;
        assert_eq!(r.body["actions"].as_array().map(Vec::len), Some(4), "every load balancer's");
        let r = api.get(&format!("/load_balancers/actions?id={}", add["id"])).await;
        assert_eq!(r.body["actions"].as_array().map(Vec::len), Some(1));
        let r = api.get(&format!("/load_balancers/actions/{}", add["id"])).await;
        assert_eq!(r.body["action"]["id"], add["id"]);
        let server = api.make_server(&api.token, "s").await;
        let start = api.get(&format!("/servers/{server}/actions")).await.body["actions"][0]["id"].clone();
        let r = api.get(&format!("/load_balancers/actions/{start}")).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::NOT_FOUND, "not_found"),
            "a server's action is not a load balancer's"
        );
    }

    /// Every load balancer endpoint that names an id, with a body where it takes one.
    fn endpoints(id: i64, action: i64, server: i64) -> Vec<(Method, String, Option<Value>)> {
        let post = |name: &str, body: Value| (Method::POST, format!("/load_balancers/{id}/actions/{name}"), Some(body));
        vec![
            (Method::GET, format!("/load_balancers/{id}"), None),
            (Method::PUT, format!("/load_balancers/{id}"), Some(json!({"name": "x"}))),
            (Method::DELETE, format!("/load_balancers/{id}"), None),
            (
                Method::GET,
                format!(
                    "/load_balancers/{id}/metrics?type=bandwidth&start=2024-01-01T00:00:00Z&end=2024-01-01T01:00:00Z"
                ),
                None,
            ),
            (Method::GET, format!("/load_balancers/{id}/actions"), None),
            (Method::GET, format!("/load_balancers/{id}/actions/{action}"), None),
            (Method::GET, format!("/load_balancers/actions/{action}"), None),
            post("add_service", json!({"protocol": "tcp", "listen_port": 8000})),
            post("update_service", json!({"listen_port": 80, "destination_port": 81})),
            post("delete_service", json!({"listen_port": 80})),
            post("add_target", json!({"type": "server", "server": {"id": server}})),
            post("remove_target", json!({"type": "ip", "ip": {"ip": "203.0.113.1"}})),
            post("change_algorithm", json!({"type": "least_connections"})),
            post("change_type", json!({"load_balancer_type": "lb21"})),
            post("attach_to_network", json!({"network": 1})),
            post("detach_from_network", json!({"network": 1})),
            post("enable_public_interface", json!({})),
            post("disable_public_interface", json!({})),
            post("change_dns_ptr", json!({"ip": "198.18.0.2", "dns_ptr": "a.example.com"})),
            post("change_protection", json!({"delete": true})),
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
        let r = api.get("/load_balancers/abc").await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    }

    #[tokio::test]
    async fn another_projects_load_balancer_is_not_found() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "web").await;
        let body = create(
            &api,
            json!({"name": "mine", "load_balancer_type": "lb11", "location": "fsn1", "services": [{"protocol": "http"}]}),
        )
        .await;
        let id = body["load_balancer"]["id"].as_i64().expect("id");
        let action = body["action"]["id"].as_i64().expect("action id");
        let other = api.other_token().await;
        let their_server = api.make_server(&other, "theirs").await;
        for (method, path, body) in endpoints(id, action, their_server) {
            let r = api.call_as(&other, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}: {:?}", r.body);
        }
        for path in ["/load_balancers", "/load_balancers?name=mine"] {
            let r = api.call_as(&other, Method::GET, path, None).await;
            assert_eq!(r.body["load_balancers"], json!([]), "{path}");
        }
        let r = api.call_as(&other, Method::GET, "/load_balancers/actions", None).await;
        assert_eq!(r.body["actions"], json!([]));
        // Nor can a load balancer of theirs target this project's server.
        let theirs = json!({"name": "theirs", "load_balancer_type": "lb11", "location": "fsn1",
            "targets": [{"type": "server", "server": {"id": server}}]});
        let r = api.call_as(&other, Method::POST, "/load_balancers", Some(theirs)).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
        // The same name is free in another project.
        let r = api
            .call_as(
                &other,
                Method::POST,
                "/load_balancers",
                Some(json!({"name": "mine", "load_balancer_type": "lb11", "location": "fsn1"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);

        let lb = get_lb(&api, id).await;
        assert_eq!(
            (lb["name"].as_str(), lb["protection"]["delete"].as_bool()),
            (Some("mine"), Some(false)),
            "untouched"
        );
        assert_eq!(lb["services"].as_array().map(Vec::len), Some(1));
        assert_eq!(lb["targets"], json!([]));
    }

    #[tokio::test]
    async fn read_only_tokens_cannot_change_load_balancers() {
        let api = TestApi::new().await;
        let id = make_lb(&api, "lb").await;
        let ro = api.cloud.token_create("test", "ro", stratus_core::model::Access::Read).await.expect("token").secret;
        assert_eq!(api.call_as(&ro, Method::GET, &format!("/load_balancers/{id}"), None).await.status, StatusCode::OK);
        let r = api.call_as(&ro, Method::DELETE, &format!("/load_balancers/{id}"), None).await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
        let r = api
            .call_as(
                &ro,
                Method::POST,
                &format!("/load_balancers/{id}/actions/add_service"),
                Some(json!({"protocol": "http"})),
            )
            .await;
        assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "forbidden"));
    }
}
