//! `/certificates` and their actions: uploaded certificates read from real PEM, managed
//! ones issued (or not) by the local CA, their use by load balancers, filters and tenancy.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApi;
use serde_json::{json, Value};
use stratus_core::config::LocalCa;
use stratus_core::Config;

/// A self-signed certificate for `names` (the first is its common name) and its key.
fn self_signed(names: &[&str]) -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, names[0]);
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2034, 1, 1);
    (params.self_signed(&key).expect("certificate").pem(), key.serialize_pem())
}

fn local_ca() -> LocalCa {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, "Test CA");
    let cert = params.self_signed(&key).expect("certificate");
    LocalCa::new(cert.pem(), key.serialize_pem()).expect("a CA")
}

async fn api_with_ca() -> TestApi {
    TestApi::with_config(Config { local_ca: Some(local_ca()), ..Config::default() }).await
}

async fn upload(api: &TestApi, name: &str, names: &[&str]) -> i64 {
    let (certificate, private_key) = self_signed(names);
    let r =
        api.post("/certificates", json!({"name": name, "certificate": certificate, "private_key": private_key})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["certificate"]["id"].as_i64().expect("id")
}

async fn managed(api: &TestApi, name: &str, domains: &[&str]) -> Value {
    let r = api.post("/certificates", json!({"name": name, "type": "managed", "domain_names": domains})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

async fn get_cert(api: &TestApi, id: i64) -> Value {
    let r = api.get(&format!("/certificates/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["certificate"].clone()
}

fn names(body: &Value) -> Vec<&str> {
    body["certificates"].as_array().expect("list").iter().map(|c| c["name"].as_str().expect("name")).collect()
}

/// A load balancer with an https service terminating TLS with `certificate`; its id.
async fn lb_using(api: &TestApi, certificate: i64) -> i64 {
    let body = json!({"name": "lb", "load_balancer_type": "lb11", "location": "fsn1",
        "services": [{"protocol": "https", "http": {"certificates": [certificate]}}]});
    let r = api.post("/load_balancers", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
    r.body["load_balancer"]["id"].as_i64().expect("id")
}

// Tests live in a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_uploaded_certificate_is_read_from_its_pem() {
        let api = TestApi::new().await;
        let (certificate, private_key) = self_signed(&["example.com", "www.example.com"]);
        let body =
            json!({"name": "site", "certificate": certificate, "private_key": private_key, "labels": {"env": "prod"}});
        let r = api.post("/certificates", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["action"], Value::Null, "an upload has no action");
        let c = &r.body["certificate"];
        let mut fields: Vec<&str> = c.as_object().expect("object").keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "certificate",
                "created",
                "domain_names",
                "fingerprint",
                "id",
                "labels",
                "name",
                "not_valid_after",
                "not_valid_before",
                "status",
                "type",
                "used_by"
            ],
            "and never the private key"
        );
        assert_eq!((c["name"].as_str(), c["type"].as_str()), (Some("site"), Some("uploaded")));
        assert_eq!(c["certificate"], certificate);
        assert_eq!(c["domain_names"], json!(["example.com", "www.example.com"]));
        assert_eq!(c["not_valid_before"], "2024-01-01T00:00:00+00:00");
        assert_eq!(c["not_valid_after"], "2034-01-01T00:00:00+00:00");
        let fingerprint = c["fingerprint"].as_str().expect("fingerprint");
        assert_eq!(fingerprint.split(':').count(), 32, "SHA-256: {fingerprint}");
        assert!(fingerprint.split(':').all(|b| b.len() == 2 && b.bytes().all(|x| x.is_ascii_hexdigit())));
        assert_eq!((&c["status"], &c["used_by"]), (&Value::Null, &json!([])));
        assert_eq!(c["labels"], json!({"env": "prod"}));
        assert!(chrono::DateTime::parse_from_rfc3339(c["created"].as_str().expect("created")).is_ok());
        assert_eq!(&get_cert(&api, c["id"].as_i64().expect("id")).await, c);
    }

    #[tokio::test]
    async fn bad_uploads_are_refused() {
        let api = TestApi::new().await;
        let (certificate, private_key) = self_signed(&["a.example"]);
        let (other, other_key) = self_signed(&["b.example"]);
        let cases = [
            ("no name", json!({"certificate": certificate, "private_key": private_key}), "name"),
            ("no certificate", json!({"name": "x", "private_key": private_key}), "certificate"),
            ("no key", json!({"name": "x", "certificate": certificate}), "private_key"),
            ("not PEM", json!({"name": "x", "certificate": "hello", "private_key": private_key}), "certificate"),
            (
                "a key as certificate",
                json!({"name": "x", "certificate": private_key, "private_key": private_key}),
                "certificate",
            ),
            (
                "chain out of order",
                json!({"name": "x", "certificate": format!("{certificate}{other}"), "private_key": private_key}),
                "certificate",
            ),
            (
                "someone else's key",
                json!({"name": "x", "certificate": certificate, "private_key": other_key}),
                "private_key",
            ),
            ("unknown type", json!({"name": "x", "type": "borrowed"}), "type"),
            ("managed without domains", json!({"name": "x", "type": "managed"}), "domain_names"),
            ("a bad domain", json!({"name": "x", "type": "managed", "domain_names": ["not a domain"]}), "domain_names"),
            ("no domains", json!({"name": "x", "type": "managed", "domain_names": []}), "domain_names"),
            (
                "a domain twice",
                json!({"name": "x", "type": "managed", "domain_names": ["a.example", "a.example"]}),
                "domain_names",
            ),
            (
                "bad labels",
                json!({"name": "x", "type": "managed", "domain_names": ["a.example"], "labels": {"a b": "c"}}),
                "labels",
            ),
        ];
        for (what, body, field) in cases {
            let r = api.post("/certificates", body).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{what}: {:?}", r.body);
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field, "{what}: {:?}", r.body);
        }
        assert_eq!(api.get("/certificates").await.body["certificates"], json!([]), "nothing made");
        upload(&api, "taken", &["a.example"]).await;
        let r =
            api.post("/certificates", json!({"name": "taken", "type": "managed", "domain_names": ["a.example"]})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "uniqueness_error"));
    }

    #[tokio::test]
    async fn a_managed_certificate_without_a_ca_fails_and_says_why() {
        let api = TestApi::new().await;
        let body = managed(&api, "shop", &["shop.example.com", "*.shop.example.com"]).await;
        let id = body["certificate"]["id"].as_i64().expect("id");
        let action = &body["action"];
        assert_eq!(action["command"], "create_certificate");
        assert_eq!(action["resources"], json!([{"id": id, "type": "certificate"}]));
        let done = api.wait_action(action["id"].as_i64().expect("id")).await;
        assert_eq!(done["status"], "error");
        let code = done["error"]["code"].as_str().expect("code").to_string();
        assert!(
            !code.is_empty() && done["error"]["message"].as_str().is_some_and(|m| m.contains("--local-ca")),
            "{done}"
        );
        let c = get_cert(&api, id).await;
        assert_eq!(c["type"], "managed");
        assert_eq!(c["domain_names"], json!(["shop.example.com", "*.shop.example.com"]));
        assert_eq!(
            (&c["certificate"], &c["fingerprint"], &c["not_valid_after"]),
            (&Value::Null, &Value::Null, &Value::Null)
        );
        // The CLI dereferences `status.error` when a status is failed.
        assert_eq!(c["status"]["issuance"], "failed");
        assert_eq!(c["status"]["renewal"], "unavailable");
        assert_eq!(c["status"]["error"], done["error"]);

        // Retrying without a CA fails the same way.
        let r = api.post(&format!("/certificates/{id}/actions/retry"), json!({})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        assert_eq!(r.body["action"]["command"], "issue_certificate");
        let retry = api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
        assert_eq!((retry["status"].as_str(), retry["error"]["code"].as_str()), (Some("error"), Some(code.as_str())));
        assert_eq!(get_cert(&api, id).await["status"]["issuance"], "failed");

        // Restarted with a local CA, a retry issues it.
        let api = api.reopen(Config { local_ca: Some(local_ca()), ..Config::default() }).await;
        let r = api.post(&format!("/certificates/{id}/actions/retry"), json!({})).await;
        let retry = api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
        assert_eq!(retry["status"], "success", "{retry}");
        let c = get_cert(&api, id).await;
        assert_eq!(c["status"], json!({"issuance": "completed", "renewal": "unavailable", "error": null}));
        assert!(c["certificate"].as_str().is_some_and(|p| p.contains("BEGIN CERTIFICATE")));
        let r = api.post(&format!("/certificates/{id}/actions/retry"), json!({})).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_input"),
            "nothing failed: nothing to retry"
        );
        let r = api
            .post(&format!("/certificates/{}/actions/retry", upload(&api, "up", &["u.example"]).await), json!({}))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "invalid_input"),
            "uploaded certificates are not retried"
        );
    }

    #[tokio::test]
    async fn a_local_ca_issues_managed_certificates() {
        let api = api_with_ca().await;
        let body = managed(&api, "shop", &["shop.example.com", "www.shop.example.com"]).await;
        let id = body["certificate"]["id"].as_i64().expect("id");
        let done = api.wait_action(body["action"]["id"].as_i64().expect("id")).await;
        assert_eq!((done["status"].as_str(), &done["error"]), (Some("success"), &Value::Null), "{done}");
        let c = get_cert(&api, id).await;
        assert_eq!(c["status"], json!({"issuance": "completed", "renewal": "unavailable", "error": null}));
        assert_eq!(c["domain_names"], json!(["shop.example.com", "www.shop.example.com"]));
        let chain = c["certificate"].as_str().expect("chain");
        assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "leaf, then the CA");
        assert!(!chain.contains("PRIVATE KEY"));
        let before =
            chrono::DateTime::parse_from_rfc3339(c["not_valid_before"].as_str().expect("before")).expect("date");
        let after = chrono::DateTime::parse_from_rfc3339(c["not_valid_after"].as_str().expect("after")).expect("date");
        assert_eq!((after - before).num_days(), 90);
        assert_eq!(c["fingerprint"].as_str().map(|f| f.split(':').count()), Some(32));
        // An issued certificate terminates TLS on a load balancer.
        let lb = lb_using(&api, id).await;
        assert_eq!(get_cert(&api, id).await["used_by"], json!([{"id": lb, "type": "load_balancer"}]));
        // The issuance is among the certificate's actions.
        let r = api.get(&format!("/certificates/{id}/actions")).await;
        let commands: Vec<&str> =
            r.body["actions"].as_array().expect("actions").iter().filter_map(|a| a["command"].as_str()).collect();
        assert_eq!(commands, ["create_certificate"]);
    }

    #[tokio::test]
    async fn a_certificate_in_use_cannot_be_deleted() {
        let api = TestApi::new().await;
        let id = upload(&api, "site", &["example.com"]).await;
        let lb = lb_using(&api, id).await;
        assert_eq!(get_cert(&api, id).await["used_by"], json!([{"id": lb, "type": "load_balancer"}]));
        let path = format!("/certificates/{id}");
        let r = api.delete(&path).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "resource_in_use"), "{:?}", r.body);
        // A managed certificate that was never issued cannot be used.
        let unissued = managed(&api, "unissued", &["p.example.com"]).await["certificate"]["id"].clone();
        let r = api
            .post(
                &format!("/load_balancers/{lb}/actions/add_service"),
                json!({"protocol": "https", "listen_port": 8443, "http": {"certificates": [unissued]}}),
            )
            .await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "not issued: {:?}", r.body);

        let r = api.post(&format!("/load_balancers/{lb}/actions/delete_service"), json!({"listen_port": 443})).await;
        api.wait_action(r.body["action"]["id"].as_i64().expect("id")).await;
        assert_eq!(get_cert(&api, id).await["used_by"], json!([]));
        let r = api.delete(&path).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(r.body, Value::Null);
        assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn update_changes_name_and_labels() {
        let api = TestApi::new().await;
        let id = upload(&api, "a", &["a.example"]).await;
        upload(&api, "b", &["b.example"]).await;
        let path = format!("/certificates/{id}");
        let r = api.put(&path, json!({"name": "renamed", "labels": {"k": "v"}})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(
            (r.body["certificate"]["name"].as_str(), &r.body["certificate"]["labels"]),
            (Some("renamed"), &json!({"k": "v"}))
        );
        let r = api.put(&path, json!({"name": "b"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "uniqueness_error"));
        for body in [json!({"name": ""}), json!({"labels": {"k": "not valid!"}})] {
            let r = api.put(&path, body.clone()).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{body}");
        }
        assert_eq!(get_cert(&api, id).await["name"], "renamed");
    }

    #[tokio::test]
    async fn list_filters_sorts_and_pages() {
        let api = TestApi::new().await;
        upload(&api, "one", &["one.example"]).await;
        managed(&api, "two", &["two.example"]).await;
        let three = upload(&api, "three", &["three.example"]).await;
        api.put(&format!("/certificates/{three}"), json!({"labels": {"env": "prod"}})).await;
        let cases = [
            ("", vec!["one", "two", "three"]),
            ("?name=two", vec!["two"]),
            ("?type=managed", vec!["two"]),
            ("?type=uploaded", vec!["one", "three"]),
            ("?type=uploaded&type=managed", vec!["one", "two", "three"]),
            ("?label_selector=env%3Dprod", vec!["three"]),
            ("?sort=name", vec!["one", "three", "two"]),
            ("?sort=id:desc", vec!["three", "two", "one"]),
            ("?sort=created:desc&sort=id:desc", vec!["three", "two", "one"]),
        ];
        for (query, want) in cases {
            let r = api.get(&format!("/certificates{query}")).await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {:?}", r.body);
            assert_eq!(names(&r.body), want, "{query}");
        }
        let r = api.get("/certificates?per_page=2").await;
        assert_eq!(names(&r.body), ["one", "two"]);
        assert_eq!(r.body["meta"]["pagination"]["next_page"], 2);
        assert!(r.headers.contains_key("link"));
        for query in ["?type=stolen", "?sort=fingerprint", "?page=0"] {
            let r = api.get(&format!("/certificates{query}")).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{query}");
        }
    }

    #[tokio::test]
    async fn certificate_action_lists() {
        let api = api_with_ca().await;
        let a = managed(&api, "a", &["a.example.com"]).await;
        let b = managed(&api, "b", &["b.example.com"]).await;
        let (a_id, a_action) = (a["certificate"]["id"].as_i64().expect("id"), a["action"]["id"].clone());
        let r = api.get(&format!("/certificates/{a_id}/actions/{a_action}")).await;
        assert_eq!((r.status, r.body["action"]["command"].as_str()), (StatusCode::OK, Some("create_certificate")));
        let r = api.get(&format!("/certificates/{}/actions/{a_action}", b["certificate"]["id"])).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "another certificate's action");
        let r = api.get("/certificates/actions?sort=id:desc").await;
        let ids: Vec<&Value> = r.body["actions"].as_array().expect("actions").iter().map(|a| &a["id"]).collect();
        assert_eq!(ids, [&b["action"]["id"], &a_action]);
        let r = api.get(&format!("/certificates/actions/{a_action}")).await;
        assert_eq!(r.body["action"]["id"], a_action);
        let r = api.get("/certificates/actions?status=error").await;
        assert_eq!(r.body["actions"], json!([]));
        let r = api.get("/certificates/actions/987654321").await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    }

    /// Every certificate endpoint that names an id, with a body where it takes one.
    fn endpoints(id: i64, action: i64) -> Vec<(Method, String, Option<Value>)> {
        vec![
            (Method::GET, format!("/certificates/{id}"), None),
            (Method::PUT, format!("/certificates/{id}"), Some(json!({"name": "x"}))),
            (Method::DELETE, format!("/certificates/{id}"), None),
            (Method::GET, format!("/certificates/{id}/actions"), None),
            (Method::GET, format!("/certificates/{id}/actions/{action}"), None),
            (Method::POST, format!("/certificates/{id}/actions/retry"), Some(json!({}))),
            (Method::GET, format!("/certificates/actions/{action}"), None),
        ]
    }

    #[tokio::test]
    async fn missing_ids_are_not_found() {
        let api = TestApi::new().await;
        for (method, path, body) in endpoints(987_654_321, 987_654_322) {
            let r = api.call_as(&api.token, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}: {:?}", r.body);
        }
        let r = api.get("/certificates/abc").await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    }

    #[tokio::test]
    async fn another_projects_certificate_is_not_found() {
        let api = TestApi::new().await;
        let body = managed(&api, "mine", &["mine.example.com"]).await;
        let id = body["certificate"]["id"].as_i64().expect("id");
        let action = body["action"]["id"].as_i64().expect("action id");
        let uploaded = upload(&api, "up", &["up.example"]).await;
        let other = api.other_token().await;
        for (method, path, body) in endpoints(id, action).into_iter().chain(endpoints(uploaded, action)) {
            let r = api.call_as(&other, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}: {:?}", r.body);
        }
        let r = api.call_as(&other, Method::GET, "/certificates", None).await;
        assert_eq!(r.body["certificates"], json!([]));
        let r = api.call_as(&other, Method::GET, "/certificates/actions", None).await;
        assert_eq!(r.body["actions"], json!([]));
        // Nor can their load balancer use this project's certificate.
        let lb = json!({"name": "lb", "load_balancer_type": "lb11", "location": "fsn1",
            "services": [{"protocol": "https", "http": {"certificates": [uploaded]}}]});
        let r = api.call_as(&other, Method::POST, "/load_balancers", Some(lb)).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
        assert_eq!(get_cert(&api, id).await["name"], "mine", "untouched");
        assert_eq!(api.get(&format!("/certificates/{uploaded}")).await.status, StatusCode::OK);
    }
}
