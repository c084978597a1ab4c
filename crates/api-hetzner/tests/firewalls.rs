//! `/firewalls` and their actions: shapes (six-key rules, `applied_to`), rule checks,
//! applying to servers and label selectors, removal, deletion, filters, errors, tenancy,
//! and what servers show of it (`public_net.firewalls`).

mod common;

use axum::http::{Method, StatusCode};
use common::{Answer, TestApi};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use stratus_compute::sim::{SimDriver, SimTimings};

fn ssh_rule() -> Value {
    json!({"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["0.0.0.0/0", "::/0"], "description": "ssh"})
}

async fn create(api: &TestApi, body: Value) -> Value {
    let r = api.post("/firewalls", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

async fn firewall(api: &TestApi, name: &str) -> i64 {
    create(api, json!({"name": name, "rules": [ssh_rule()]})).await["firewall"]["id"].as_i64().expect("id")
}

async fn get(api: &TestApi, id: i64) -> Value {
    let r = api.get(&format!("/firewalls/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["firewall"].clone()
}

/// Posts a firewall action; its one action, waited for.
async fn act(api: &TestApi, id: i64, action: &str, body: Value) -> Value {
    let r = api.post(&format!("/firewalls/{id}/actions/{action}"), body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{action}: {:?}", r.body);
    let list = r.body["actions"].as_array().expect("actions");
    assert_eq!(list.len(), 1, "{action}: {:?}", r.body);
    api.wait_action(list[0]["id"].as_i64().expect("action id")).await
}

fn server_target(id: i64) -> Value {
    json!({"type": "server", "server": {"id": id}})
}

fn selector_target(sel: &str) -> Value {
    json!({"type": "label_selector", "label_selector": {"selector": sel}})
}

fn assert_error(r: &Answer, status: StatusCode, code: &str) {
    assert_eq!((r.status, r.code()), (status, code), "{:?}", r.body);
}

/// `public_net.firewalls` of a server.
async fn server_firewalls(api: &TestApi, server: i64) -> Value {
    api.get(&format!("/servers/{server}")).await.body["server"]["public_net"]["firewalls"].clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_keeps_rules_exactly_with_all_six_keys() {
        let api = TestApi::new().await;
        let rules = json!([
            {"direction": "in", "protocol": "tcp", "port": "80", "source_ips": ["192.0.2.0/24", "2001:0db8:9a3b:ee58:5ca:990c:8bc9:c03b/128"], "description": "web"},
            {"direction": "in", "protocol": "icmp", "source_ips": ["0.0.0.0/0"]},
            {"direction": "out", "protocol": "udp", "port": "1024-5000", "destination_ips": ["10.0.0.0/8"], "source_ips": []},
            {"direction": "out", "protocol": "gre", "destination_ips": ["::/0"], "port": null, "description": null},
        ]);
        let body = create(&api, json!({"name": "fw", "labels": {"env": "prod"}, "rules": rules})).await;
        assert_eq!(body["actions"], json!([]), "no targets, no action");
        let fw = &body["firewall"];
        let mut fields: Vec<&str> = fw.as_object().expect("object").keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["applied_to", "created", "id", "labels", "name", "rules"]);
        assert_eq!(
            (&fw["name"], &fw["labels"], &fw["applied_to"]),
            (&json!("fw"), &json!({"env": "prod"}), &json!([]))
        );
        assert!(chrono::DateTime::parse_from_rfc3339(fw["created"].as_str().expect("created")).is_ok());
        assert_eq!(
            fw["rules"],
            json!([
                {"direction": "in", "protocol": "tcp", "port": "80", "source_ips": ["192.0.2.0/24", "2001:0db8:9a3b:ee58:5ca:990c:8bc9:c03b/128"], "destination_ips": [], "description": "web"},
                {"direction": "in", "protocol": "icmp", "port": null, "source_ips": ["0.0.0.0/0"], "destination_ips": [], "description": null},
                {"direction": "out", "protocol": "udp", "port": "1024-5000", "source_ips": [], "destination_ips": ["10.0.0.0/8"], "description": null},
                {"direction": "out", "protocol": "gre", "port": null, "source_ips": [], "destination_ips": ["::/0"], "description": null},
            ]),
            "as sent, in order, every key present"
        );
        assert_eq!(get(&api, fw["id"].as_i64().expect("id")).await, *fw);
    }

    #[tokio::test]
    async fn rules_are_checked() {
        let api = TestApi::new().await;
        let id = firewall(&api, "fw").await;
        let with = |rule: Value| json!({"rules": [ssh_rule(), rule]});
        let cases = [
            (
                json!({"direction": "in", "protocol": "tcp", "source_ips": ["0.0.0.0/0"]}),
                "rules[1].port",
                "tcp without port",
            ),
            (
                json!({"direction": "in", "protocol": "icmp", "port": "1", "source_ips": ["0.0.0.0/0"]}),
                "rules[1].port",
                "icmp with port",
            ),
            (
                json!({"direction": "in", "protocol": "tcp", "port": "0", "source_ips": ["0.0.0.0/0"]}),
                "rules[1].port",
                "port 0",
            ),
            (
                json!({"direction": "in", "protocol": "tcp", "port": "90-80", "source_ips": ["0.0.0.0/0"]}),
                "rules[1].port",
                "backwards range",
            ),
            (
                json!({"direction": "in", "protocol": "tcp", "port": "65536", "source_ips": ["0.0.0.0/0"]}),
                "rules[1].port",
                "too high",
            ),
            (
                json!({"direction": "in", "protocol": "sctp", "source_ips": ["0.0.0.0/0"]}),
                "rules[1].protocol",
                "protocol",
            ),
            (json!({"direction": "in", "protocol": "icmp"}), "rules[1].source_ips", "no sources"),
            (
                json!({"direction": "in", "protocol": "icmp", "source_ips": ["10.0.0.1/8"]}),
                "rules[1].source_ips",
                "host bits",
            ),
            (
                json!({"direction": "in", "protocol": "icmp", "source_ips": ["10.0.0.0"]}),
                "rules[1].source_ips",
                "no prefix",
            ),
            (
                json!({"direction": "in", "protocol": "icmp", "source_ips": ["::/0"], "destination_ips": ["::/0"]}),
                "rules[1].destination_ips",
                "both lists",
            ),
            (
                json!({"direction": "out", "protocol": "icmp", "source_ips": ["::/0"]}),
                "rules[1].destination_ips",
                "out without destinations",
            ),
            (
                json!({"direction": "sideways", "protocol": "icmp", "source_ips": ["::/0"]}),
                "rules[1].direction",
                "direction",
            ),
        ];
        for (rule, field, why) in cases {
            let r = api.post(&format!("/firewalls/{id}/actions/set_rules"), with(rule)).await;
            assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field, "{why}: {:?}", r.body);
        }
        let many: Vec<Value> = (0..51).map(|_| ssh_rule()).collect();
        let r = api.post(&format!("/firewalls/{id}/actions/set_rules"), json!({"rules": many})).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        let r = api.post("/firewalls", json!({"name": "bad", "rules": [{"direction": "in", "protocol": "tcp"}]})).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(get(&api, id).await["rules"].as_array().expect("rules").len(), 1, "untouched");
        let names: Vec<Value> = api.get("/firewalls").await.body["firewalls"]
            .as_array()
            .expect("list")
            .iter()
            .map(|f| f["name"].clone())
            .collect();
        assert_eq!(names, [json!("fw")], "nothing half-made");
    }

    #[tokio::test]
    async fn set_rules_shows_at_once_and_reaches_the_servers() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "web").await;
        let body =
            create(&api, json!({"name": "fw", "rules": [ssh_rule()], "apply_to": [server_target(server)]})).await;
        let id = body["firewall"]["id"].as_i64().expect("id");
        api.wait_action(body["actions"][0]["id"].as_i64().expect("id")).await;
        let rules = json!([{"direction": "in", "protocol": "tcp", "port": "443", "source_ips": ["0.0.0.0/0"], "destination_ips": [], "description": null}]);
        let r = api.post(&format!("/firewalls/{id}/actions/set_rules"), json!({"rules": rules})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        // Visible before the action is waited for: Ansible re-reads right away.
        assert_eq!(get(&api, id).await["rules"], rules);
        let a = &r.body["actions"][0];
        assert_eq!(a["command"], "set_firewall_rules");
        let mut resources: Vec<Value> = a["resources"].as_array().expect("resources").clone();
        resources.sort_by_key(|r| r["type"].as_str().map(str::to_string));
        assert_eq!(resources, [json!({"id": id, "type": "firewall"}), json!({"id": server, "type": "server"})]);
        assert_eq!(api.wait_action(a["id"].as_i64().expect("id")).await["status"], "success");
        // An empty list removes every rule; the answer still has its action.
        let a = act(&api, id, "set_rules", json!({"rules": []})).await;
        assert_eq!(a["status"], "success");
        assert_eq!(get(&api, id).await["rules"], json!([]));
        assert_eq!(server_firewalls(&api, server).await, json!([{"id": id, "status": "applied"}]));
    }

    #[tokio::test]
    async fn a_change_while_another_runs_is_a_conflict_clients_retry() {
        // Applying rules to a VM takes a while: the first change still runs.
        let timings = SimTimings { apply_firewall: Duration::from_millis(300), ..SimTimings::instant() };
        let api = TestApi::with_driver(Arc::new(SimDriver::with_timings(timings))).await;
        let server = api.make_server(&api.token, "web").await;
        let id = firewall(&api, "fw").await;
        let r = api
            .post(&format!("/firewalls/{id}/actions/apply_to_resources"), json!({"apply_to": [server_target(server)]}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        // While it runs, the server shows the firewall pending.
        assert_eq!(server_firewalls(&api, server).await, json!([{"id": id, "status": "pending"}]));
        for (action, body) in [
            ("set_rules", json!({"rules": []})),
            ("remove_from_resources", json!({"remove_from": [server_target(server)]})),
        ] {
            let busy = api.post(&format!("/firewalls/{id}/actions/{action}"), body).await;
            assert_error(&busy, StatusCode::CONFLICT, "conflict");
        }
        assert_error(
            &api.delete(&format!("/firewalls/{id}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "resource_in_use",
        );
        assert_eq!(api.wait_action(r.body["actions"][0]["id"].as_i64().expect("id")).await["status"], "success");
        assert_eq!(server_firewalls(&api, server).await, json!([{"id": id, "status": "applied"}]));
        assert_eq!(act(&api, id, "set_rules", json!({"rules": []})).await["status"], "success", "the retry succeeds");
    }

    #[tokio::test]
    async fn create_applies_to_servers_and_selectors() {
        let api = TestApi::new().await;
        let web = api.make_server(&api.token, "web").await;
        let db = api.make_server(&api.token, "db").await;
        api.put(&format!("/servers/{db}"), json!({"labels": {"role": "db"}})).await;
        let body = create(
            &api,
            json!({"name": "fw", "rules": [ssh_rule()], "apply_to": [server_target(web), selector_target("role=db")]}),
        )
        .await;
        let actions = body["actions"].as_array().expect("actions");
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0]["command"], "apply_firewall");
        let id = body["firewall"]["id"].as_i64().expect("id");
        assert_eq!(
            body["firewall"]["applied_to"],
            json!([
                {"type": "server", "server": {"id": web}},
                {"type": "label_selector", "label_selector": {"selector": "role=db"}, "applied_to_resources": [{"type": "server", "server": {"id": db}}]},
            ])
        );
        assert_eq!(api.wait_action(actions[0]["id"].as_i64().expect("id")).await["status"], "success");
        for server in [web, db] {
            assert_eq!(server_firewalls(&api, server).await, json!([{"id": id, "status": "applied"}]));
        }
        // Deleting a server removes it from the firewall.
        let r = api.delete(&format!("/servers/{web}")).await;
        api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
        assert_eq!(get(&api, id).await["applied_to"][0]["type"], "label_selector");
        assert_eq!(get(&api, id).await["applied_to"].as_array().expect("applied_to").len(), 1);
    }

    #[tokio::test]
    async fn apply_and_remove_answer_their_documented_errors() {
        let api = TestApi::new().await;
        let id = firewall(&api, "fw").await;
        let web = api.make_server(&api.token, "web").await;
        let a =
            act(&api, id, "apply_to_resources", json!({"apply_to": [server_target(web), selector_target("env=prod")]}))
                .await;
        assert_eq!((&a["command"], &a["status"]), (&json!("apply_firewall"), &json!("success")));
        let post = |action: &'static str, body: Value| {
            let api = &api;
            async move { api.post(&format!("/firewalls/{id}/actions/{action}"), body).await }
        };
        let cases = [
            (
                "apply_to_resources",
                json!({"apply_to": [server_target(web)]}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "firewall_already_applied",
            ),
            (
                "apply_to_resources",
                json!({"apply_to": [selector_target("env=prod")]}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "firewall_already_applied",
            ),
            (
                "apply_to_resources",
                json!({"apply_to": [server_target(999_999)]}),
                StatusCode::NOT_FOUND,
                "firewall_resource_not_found",
            ),
            (
                "apply_to_resources",
                json!({"apply_to": [selector_target("a=b"), selector_target("a=b")]}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "server_already_added",
            ),
            (
                "apply_to_resources",
                json!({"apply_to": [selector_target("==")]}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
            ),
            ("apply_to_resources", json!({"apply_to": [{"type": "server"}]}), StatusCode::BAD_REQUEST, "invalid_input"),
            (
                "apply_to_resources",
                json!({"apply_to": [{"type": "volume", "server": {"id": web}}]}),
                StatusCode::BAD_REQUEST,
                "invalid_input",
            ),
            ("apply_to_resources", json!({"apply_to": []}), StatusCode::BAD_REQUEST, "invalid_input"),
            (
                "remove_from_resources",
                json!({"remove_from": [server_target(999_999)]}),
                StatusCode::NOT_FOUND,
                "firewall_resource_not_found",
            ),
            (
                "remove_from_resources",
                json!({"remove_from": [selector_target("env=dev")]}),
                StatusCode::NOT_FOUND,
                "firewall_resource_not_found",
            ),
        ];
        for (action, body, status, code) in cases {
            assert_error(&post(action, body.clone()).await, status, code);
        }
        // A server the firewall reaches only through its selector cannot be removed alone.
        let prod = api.make_server(&api.token, "prod").await;
        api.put(&format!("/servers/{prod}"), json!({"labels": {"env": "prod"}})).await;
        let r = post("remove_from_resources", json!({"remove_from": [server_target(prod)]})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "firewall_managed_by_label_selector");
        // A server without a public interface cannot have a firewall.
        let r = api
            .post("/servers", json!({"name": "private", "server_type": "cx22", "image": "debian-12", "public_net": {"enable_ipv4": false, "enable_ipv6": false}}))
            .await;
        let private = r.body["server"]["id"].as_i64().expect("id");
        api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
        let r = post("apply_to_resources", json!({"apply_to": [server_target(private)]})).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "private_net_only_server");
        // Create refuses a server named twice.
        let r = api
            .post("/firewalls", json!({"name": "twice", "apply_to": [server_target(web), server_target(web)]}))
            .await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "server_already_added");
        let r = api.post("/firewalls", json!({"name": "nowhere", "apply_to": [server_target(999_999)]})).await;
        assert_error(&r, StatusCode::NOT_FOUND, "firewall_resource_not_found");
    }

    #[tokio::test]
    async fn remove_then_delete_as_ansible_forces_it() {
        let api = TestApi::new().await;
        let id = firewall(&api, "fw").await;
        let web = api.make_server(&api.token, "web").await;
        act(&api, id, "apply_to_resources", json!({"apply_to": [server_target(web), selector_target("env=prod")]}))
            .await;
        let r = api.delete(&format!("/firewalls/{id}")).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "resource_in_use");
        assert!(
            r.body["error"]["message"].as_str().expect("message").contains("is still in use"),
            "Ansible matches it"
        );
        let a = act(
            &api,
            id,
            "remove_from_resources",
            json!({"remove_from": [server_target(web), selector_target("env=prod")]}),
        )
        .await;
        assert_eq!((&a["command"], &a["status"]), (&json!("remove_firewall"), &json!("success")));
        assert_eq!(get(&api, id).await["applied_to"], json!([]));
        assert_eq!(server_firewalls(&api, web).await, json!([]));
        let r = api.delete(&format!("/firewalls/{id}")).await;
        assert_eq!((r.status, &r.body), (StatusCode::NO_CONTENT, &Value::Null));
        assert_error(&api.get(&format!("/firewalls/{id}")).await, StatusCode::NOT_FOUND, "not_found");
    }

    /// Schemathesis sent a label_selector entry with a server id above the document's
    /// maximum (2^53 - 1) and got an action: the id is refused though the type ignores it.
    #[tokio::test]
    async fn an_id_above_the_documents_maximum_is_invalid_input() {
        let api = TestApi::new().await;
        let id = firewall(&api, "fw").await;
        let mut target = selector_target("env=prod");
        target["server"] = json!({"id": 9_007_199_254_740_992_i64});
        let r =
            api.post(&format!("/firewalls/{id}/actions/remove_from_resources"), json!({"remove_from": [target]})).await;
        assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
        assert_eq!(r.body["error"]["details"]["fields"][0]["name"], "remove_from[0].server.id");
    }

    /// Schemathesis sent `PUT /firewalls/{id}` (and the same to placement groups and volumes)
    /// with the body `[null, null]`: serde read the array as the struct's fields one by one
    /// and the update answered 200.
    #[tokio::test]
    async fn a_body_that_is_not_an_object_is_invalid_input() {
        let api = TestApi::new().await;
        let id = firewall(&api, "fw").await;
        let pg = api.post("/placement_groups", json!({"name": "pg", "type": "spread"})).await.body["placement_group"]
            ["id"]
            .as_i64()
            .expect("id");
        for (method, path) in [
            (Method::PUT, format!("/firewalls/{id}")),
            (Method::POST, format!("/firewalls/{id}/actions/set_rules")),
            (Method::PUT, format!("/placement_groups/{pg}")),
            (Method::POST, "/firewalls".to_string()),
        ] {
            for body in [json!([null, null]), json!(["fw", {}]), json!("fw"), json!(1)] {
                let r = api.call_as(&api.token, method.clone(), &path, Some(body.clone())).await;
                assert_error(&r, StatusCode::BAD_REQUEST, "invalid_input");
                assert_eq!(r.body["error"]["details"]["fields"][0]["name"], "body", "{method} {path} {body}");
            }
        }
        assert_eq!(get(&api, id).await["name"], "fw", "nothing changed");
    }

    #[tokio::test]
    async fn update_list_filters_and_actions() {
        let api = TestApi::new().await;
        for (name, env) in [("b", "prod"), ("a", "dev"), ("c", "prod")] {
            create(&api, json!({"name": name, "labels": {"env": env}})).await;
        }
        let names = |v: Value| -> Vec<String> {
            v["firewalls"]
                .as_array()
                .expect("list")
                .iter()
                .map(|f| f["name"].as_str().expect("name").to_string())
                .collect()
        };
        assert_eq!(names(api.get("/firewalls").await.body), ["b", "a", "c"]);
        assert_eq!(names(api.get("/firewalls?sort=name:desc").await.body), ["c", "b", "a"]);
        assert_eq!(names(api.get("/firewalls?name=a").await.body), ["a"]);
        assert_eq!(names(api.get("/firewalls?label_selector=env%3Dprod&sort=name").await.body), ["b", "c"]);
        let page = api.get("/firewalls?per_page=1&page=3").await.body;
        assert_eq!(names(page.clone()), ["c"]);
        assert_eq!(page["meta"]["pagination"]["total_entries"], 3);
        assert_error(&api.get("/firewalls?sort=rules").await, StatusCode::BAD_REQUEST, "invalid_input");

        let id = api.get("/firewalls?name=a").await.body["firewalls"][0]["id"].as_i64().expect("id");
        let r = api.put(&format!("/firewalls/{id}"), json!({"name": "z", "labels": {"k": "v"}})).await;
        assert_eq!((&r.body["firewall"]["name"], &r.body["firewall"]["labels"]), (&json!("z"), &json!({"k": "v"})));
        assert_error(
            &api.put(&format!("/firewalls/{id}"), json!({"name": "b"})).await,
            StatusCode::CONFLICT,
            "uniqueness_error",
        );
        assert_error(&api.post("/firewalls", json!({"name": "b"})).await, StatusCode::CONFLICT, "uniqueness_error");

        let a = act(&api, id, "set_rules", json!({"rules": [ssh_rule()]})).await["id"].as_i64().expect("id");
        let other = api.get("/firewalls?name=b").await.body["firewalls"][0]["id"].as_i64().expect("id");
        let b = act(&api, other, "apply_to_resources", json!({"apply_to": [selector_target("x=y")]})).await["id"]
            .as_i64()
            .expect("id");
        let ids = |v: Value| -> Vec<i64> {
            v["actions"].as_array().expect("actions").iter().map(|x| x["id"].as_i64().expect("id")).collect()
        };
        assert_eq!(ids(api.get(&format!("/firewalls/{id}/actions")).await.body), [a]);
        assert_eq!(ids(api.get("/firewalls/actions").await.body), [a, b]);
        assert_eq!(ids(api.get("/firewalls/actions?status=success&sort=id:desc").await.body), [b, a]);
        assert_eq!(api.get(&format!("/firewalls/actions/{b}")).await.body["action"]["command"], "apply_firewall");
        assert_eq!(
            api.get(&format!("/firewalls/{id}/actions/{a}")).await.body["action"]["command"],
            "set_firewall_rules"
        );
        assert_error(&api.get(&format!("/firewalls/{id}/actions/{b}")).await, StatusCode::NOT_FOUND, "not_found");
    }

    #[tokio::test]
    async fn another_projects_firewall_is_not_found_everywhere() {
        let api = TestApi::new().await;
        let server = api.make_server(&api.token, "web").await;
        let body =
            create(&api, json!({"name": "mine", "rules": [ssh_rule()], "apply_to": [server_target(server)]})).await;
        let id = body["firewall"]["id"].as_i64().expect("id");
        let action = body["actions"][0]["id"].as_i64().expect("id");
        api.wait_action(action).await;
        let other = api.other_token().await;
        let theirs = api.make_server(&other, "theirs").await;
        let endpoints: Vec<(Method, String, Option<Value>)> = vec![
            (Method::GET, format!("/firewalls/{id}"), None),
            (Method::PUT, format!("/firewalls/{id}"), Some(json!({"name": "stolen"}))),
            (Method::DELETE, format!("/firewalls/{id}"), None),
            (Method::GET, format!("/firewalls/{id}/actions"), None),
            (Method::GET, format!("/firewalls/{id}/actions/{action}"), None),
            (Method::GET, format!("/firewalls/actions/{action}"), None),
            (Method::POST, format!("/firewalls/{id}/actions/set_rules"), Some(json!({"rules": []}))),
            (
                Method::POST,
                format!("/firewalls/{id}/actions/apply_to_resources"),
                Some(json!({"apply_to": [server_target(theirs)]})),
            ),
            (
                Method::POST,
                format!("/firewalls/{id}/actions/remove_from_resources"),
                Some(json!({"remove_from": [server_target(server)]})),
            ),
        ];
        for (method, path, body) in endpoints {
            let r = api.call_as(&other, method.clone(), &path, body).await;
            assert_error(&r, StatusCode::NOT_FOUND, "not_found");
        }
        assert_eq!(api.call_as(&other, Method::GET, "/firewalls", None).await.body["firewalls"], json!([]));
        assert_eq!(api.call_as(&other, Method::GET, "/firewalls/actions", None).await.body["actions"], json!([]));
        // Nor can the other project apply its firewall to this project's server.
        let r = api
            .call_as(
                &other,
                Method::POST,
                "/firewalls",
                Some(json!({"name": "x", "apply_to": [server_target(server)]})),
            )
            .await;
        assert_error(&r, StatusCode::NOT_FOUND, "firewall_resource_not_found");
        let fw = get(&api, id).await;
        assert_eq!((&fw["name"], fw["rules"].as_array().map(Vec::len)), (&json!("mine"), Some(1)));
        assert_eq!(fw["applied_to"], json!([server_target(server)]));
    }
}
