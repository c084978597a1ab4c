//! `/ssh_keys`: CRUD, MD5 fingerprints, validation, uniqueness, filters, sorting,
//! pagination and tenancy.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApi;
use serde_json::{json, Value};

/// Generated with `ssh-keygen -t ed25519 -C stratus@test`; `ssh-keygen -l -E md5` printed
/// `MD5:79:6d:47:11:0c:83:46:59:e3:3c:cf:40:a1:02:a6:3c`.
const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA4kXJRAcA4pWL59uNMBRGt+F0KqVzNeBsR/bdYbHUar stratus@test";
const ED25519_MD5: &str = "79:6d:47:11:0c:83:46:59:e3:3c:cf:40:a1:02:a6:3c";

/// Generated with `ssh-keygen -t rsa -b 2048 -C rsa@test`; `ssh-keygen -l -E md5` printed
/// `MD5:6a:1a:8a:63:01:84:07:19:9c:80:64:48:57:c4:5b:55`.
const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCtlrtLs1ACD1hlNWgNRX3ol8se0OljRNVlM16Xj0LLK6xiZ43+x9j8UReXnITWvjnlBqa/AObyA9x5Z6WBobfCJ7s2Ph4qYP9x7YXpT80i+cEYrLN9WMU0vco0FWz/LbIFAhLP3i+/RAskEwlsUDJPh/H3yjv5PJPd9XLmYVqf2/ZNnpv0ecrOS3zbLYz6Yna4ph28A57RUkBMtA+SQmLA+O8XwKr/h3c5hzD2OGsOV3FCmzJN1mai3h+2BMMNV/Yv/yJTzczSZynnizDbS5uzVKlsGC4h10tUCf4Ux0sh/3sS7zAxpp4AVfub73G0gU0eBYb6UUo/NkS/WCCI5HjD rsa@test";
const RSA_MD5: &str = "6a:1a:8a:63:01:84:07:19:9c:80:64:48:57:c4:5b:55";

/// Five more ed25519 keys (`ssh-keygen -t ed25519`), for lists.
const MORE: [&str; 5] = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID+xD+UFjPrKynfPw8JBUd9Cm+SOHbzZQ815Z+ncSeCX",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICO6hTfLixEVlXL8FwwURBkFC5ofwtgOgInuTrr8kvXw",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBxjjshp8YOHeidy9vjCMhbs94IQQGcptKrRxIpp+O2Z",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB4uNBsfR4OT/VmzfrCqg4XSeO6x4zq9gkX1Ohuw7Bk8",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPQwkmR+/rCcCLgQESnzs4UfU+5wCyyhfxB5OZkM3bVu",
];

async fn create(api: &TestApi, name: &str, key: &str, labels: Value) -> i64 {
    let r = api.post("/ssh_keys", json!({"name": name, "public_key": key, "labels": labels})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["ssh_key"]["id"].as_i64().expect("integer id")
}

fn names(body: &Value) -> Vec<&str> {
    body["ssh_keys"].as_array().expect("list").iter().map(|k| k["name"].as_str().expect("name")).collect()
}

// Tests live in a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn create_get_update_delete() {
        let api = TestApi::new().await;
        let r = api
            .post(
                "/ssh_keys",
                json!({"name": "laptop", "public_key": format!("  {ED25519}\n"), "labels": {"env": "prod"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let key = &r.body["ssh_key"];
        let id = key["id"].as_i64().expect("integer id");
        assert_eq!(key["name"], "laptop");
        assert_eq!(key["fingerprint"], ED25519_MD5);
        assert_eq!(key["public_key"], ED25519, "stored trimmed");
        assert_eq!(key["labels"], json!({"env": "prod"}));
        let created = key["created"].as_str().expect("created");
        assert!(chrono::DateTime::parse_from_rfc3339(created).is_ok(), "{created}");
        let mut fields: Vec<&str> = key.as_object().expect("object").keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["created", "fingerprint", "id", "labels", "name", "public_key"]);

        let r = api.get(&format!("/ssh_keys/{id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(&r.body["ssh_key"], key);

        let r = api
            .put(&format!("/ssh_keys/{id}"), json!({"name": "desktop", "labels": {"env": "dev", "team": "ops"}}))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["ssh_key"]["name"], "desktop");
        assert_eq!(r.body["ssh_key"]["labels"], json!({"env": "dev", "team": "ops"}));
        assert_eq!(r.body["ssh_key"]["fingerprint"], ED25519_MD5);

        // A PUT naming only labels keeps the name.
        let r = api.put(&format!("/ssh_keys/{id}"), json!({"labels": {}})).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["ssh_key"]["name"], "desktop");
        assert_eq!(r.body["ssh_key"]["labels"], json!({}));

        let r = api.delete(&format!("/ssh_keys/{id}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(r.body, Value::Null, "204 has an empty body");
        let r = api.get(&format!("/ssh_keys/{id}")).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    }

    #[tokio::test]
    async fn fingerprints_are_md5_as_ssh_keygen_prints_them() {
        let api = TestApi::new().await;
        for (name, key, md5) in [("ed", ED25519, ED25519_MD5), ("rsa", RSA, RSA_MD5)] {
            let r = api.post("/ssh_keys", json!({"name": name, "public_key": key})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{name}");
            assert_eq!(r.body["ssh_key"]["fingerprint"], md5, "{name}");
            assert_eq!(r.body["ssh_key"]["labels"], json!({}), "labels default to empty");
        }
    }

    #[tokio::test]
    async fn invalid_input_names_the_field() {
        let api = TestApi::new().await;
        let cases = [
            ("not a key", json!({"name": "k", "public_key": "ssh-rsa AAAAnot-base64!"}), "public_key"),
            ("garbage", json!({"name": "k", "public_key": "hello"}), "public_key"),
            ("bad label key", json!({"name": "k", "public_key": ED25519, "labels": {"-bad": "x"}}), "labels"),
            (
                "bad label value",
                json!({"name": "k", "public_key": ED25519, "labels": {"ok": "spaces are bad"}}),
                "labels",
            ),
            ("missing name", json!({"public_key": ED25519}), "name"),
            ("missing key", json!({"name": "k"}), "public_key"),
            ("empty name", json!({"name": "", "public_key": ED25519}), "name"),
            ("name of wrong type", json!({"name": 5, "public_key": ED25519}), "name"),
        ];
        for (what, body, field) in cases {
            let r = api.post("/ssh_keys", body).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{what}: {:?}", r.body);
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], field, "{what}: {:?}", r.body);
            assert!(r.body["error"]["details"]["fields"][0]["messages"][0].is_string(), "{what}");
        }
        let id = create(&api, "k", ED25519, json!({})).await;
        let r = api.put(&format!("/ssh_keys/{id}"), json!({"labels": {"a": "b c"}})).await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
        assert_eq!(r.body["error"]["details"]["fields"][0]["name"], "labels");
        assert_eq!(api.get("/ssh_keys").await.body["ssh_keys"].as_array().map(Vec::len), Some(1), "nothing half-made");
    }

    #[tokio::test]
    async fn malformed_json_is_json_error() {
        let api = TestApi::new().await;
        let id = create(&api, "k", ED25519, json!({})).await;
        for (method, path) in [(Method::POST, "/ssh_keys".to_string()), (Method::PUT, format!("/ssh_keys/{id}"))] {
            let req = axum::http::Request::builder()
                .method(method.clone())
                .uri(format!("{}{path}", stratus_api_hetzner::PREFIX))
                .header("authorization", format!("Bearer {}", api.token))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{\"name\": "))
                .expect("request");
            let res = tower::ServiceExt::oneshot(api.router.clone(), req).await.expect("infallible");
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{method} {path}");
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
            let body: Value = serde_json::from_slice(&bytes).expect("json");
            assert_eq!(body["error"]["code"], "json_error", "{method} {path}");
        }
    }

    #[tokio::test]
    async fn names_and_fingerprints_are_unique_per_project() {
        let api = TestApi::new().await;
        let first = create(&api, "laptop", ED25519, json!({})).await;
        let r = api.post("/ssh_keys", json!({"name": "laptop", "public_key": RSA})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "uniqueness_error"), "{:?}", r.body);
        assert_eq!(r.body["error"]["details"]["fields"][0]["name"], "name");
        let r = api.post("/ssh_keys", json!({"name": "other", "public_key": ED25519})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "uniqueness_error"), "{:?}", r.body);
        assert_eq!(r.body["error"]["details"]["fields"][0]["name"], "public_key");

        let second = create(&api, "rsa", RSA, json!({})).await;
        let r = api.put(&format!("/ssh_keys/{second}"), json!({"name": "laptop"})).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "uniqueness_error"));
        // Renaming a key to its own name is no clash.
        let r = api.put(&format!("/ssh_keys/{first}"), json!({"name": "laptop"})).await;
        assert_eq!(r.status, StatusCode::OK);

        // Another project may use the same name and key.
        let other = api.other_token().await;
        let r = api
            .call_as(&other, Method::POST, "/ssh_keys", Some(json!({"name": "laptop", "public_key": ED25519})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }

    #[tokio::test]
    async fn filters_by_name_fingerprint_and_label_selector() {
        let api = TestApi::new().await;
        create(&api, "a", MORE[0], json!({"env": "prod", "tier": "web"})).await;
        create(&api, "b", MORE[1], json!({"env": "dev"})).await;
        create(&api, "c", MORE[2], json!({"env": "staging", "tier": "db"})).await;
        create(&api, "d", ED25519, json!({})).await;

        let cases = [
            ("name=b", vec!["b"]),
            ("name=nope", vec![]),
            (&format!("fingerprint={ED25519_MD5}") as &str, vec!["d"]),
            ("label_selector=env%3Dprod", vec!["a"]),
            ("label_selector=env%3D%3Dprod", vec!["a"]),
            ("label_selector=env!%3Dprod", vec!["b", "c", "d"]),
            ("label_selector=env", vec!["a", "b", "c"]),
            ("label_selector=!env", vec!["d"]),
            ("label_selector=env%20in%20(dev,staging)", vec!["b", "c"]),
            ("label_selector=env%20notin%20(dev,staging)", vec!["a", "d"]),
            ("label_selector=env,tier%3Dweb", vec!["a"]),
            ("label_selector=env,!tier", vec!["b"]),
            ("name=a&label_selector=env%3Ddev", vec![]),
        ];
        for (query, want) in cases {
            let r = api.get(&format!("/ssh_keys?{query}")).await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {:?}", r.body);
            assert_eq!(names(&r.body), want, "{query}");
        }
        let r = api.get("/ssh_keys?label_selector=env%20in%20(a").await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{:?}", r.body);
    }

    #[tokio::test]
    async fn sorts_by_id_and_name() {
        let api = TestApi::new().await;
        for (name, key) in ["b", "c", "a"].into_iter().zip(MORE) {
            create(&api, name, key, json!({})).await;
        }
        let cases = [
            ("", vec!["b", "c", "a"]),
            ("?sort=id", vec!["b", "c", "a"]),
            ("?sort=id:desc", vec!["a", "c", "b"]),
            ("?sort=name", vec!["a", "b", "c"]),
            ("?sort=name:asc", vec!["a", "b", "c"]),
            ("?sort=name:desc", vec!["c", "b", "a"]),
        ];
        for (query, want) in cases {
            let r = api.get(&format!("/ssh_keys{query}")).await;
            assert_eq!(names(&r.body), want, "{query}");
        }
        for bad in ["?sort=fingerprint", "?sort=name:up"] {
            let r = api.get(&format!("/ssh_keys{bad}")).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{bad}");
            assert_eq!(r.body["error"]["details"]["fields"][0]["name"], "sort", "{bad}");
        }
    }

    #[tokio::test]
    async fn pages_with_meta_and_link_header() {
        let api = TestApi::new().await;
        for (i, key) in MORE.iter().enumerate() {
            create(&api, &format!("key-{i}"), key, json!({"set": "paged"})).await;
        }
        let mut seen = Vec::new();
        let mut page = Some(1);
        while let Some(n) = page {
            let r = api.get(&format!("/ssh_keys?per_page=2&page={n}&label_selector=set%3Dpaged")).await;
            assert_eq!(r.status, StatusCode::OK);
            let meta = &r.body["meta"]["pagination"];
            let mut keys: Vec<&str> = meta.as_object().expect("pagination").keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["last_page", "next_page", "page", "per_page", "previous_page", "total_entries"]);
            assert_eq!(meta["page"], n);
            assert_eq!(meta["per_page"], 2);
            assert_eq!(meta["last_page"], 3);
            assert_eq!(meta["total_entries"], 5);
            assert_eq!(meta["previous_page"], if n == 1 { Value::Null } else { json!(n - 1) });
            let link = r.headers.get("link").expect("Link header").to_str().expect("ascii");
            assert!(link.contains("rel=\"last\""), "{link}");
            assert!(link.contains("page=3&per_page=2>; rel=\"last\""), "{link}");
            assert!(link.contains("label_selector=set%3Dpaged"), "other parameters kept: {link}");
            assert!(link.starts_with("<http://stratus.test/hetzner/v1/ssh_keys?"), "{link}");
            assert_eq!(link.contains("rel=\"prev\""), n > 1, "{link}");
            assert_eq!(link.contains("rel=\"next\""), n < 3, "{link}");
            seen.extend(names(&r.body).into_iter().map(String::from));
            page = meta["next_page"].as_i64();
            assert!(page.is_none_or(|p| p == n + 1));
        }
        assert_eq!(seen, ["key-0", "key-1", "key-2", "key-3", "key-4"]);

        // Defaults: page 1 of 25; a per_page above 50 is capped.
        let r = api.get("/ssh_keys").await;
        assert_eq!(r.body["meta"]["pagination"]["per_page"], 25);
        assert_eq!(r.body["meta"]["pagination"]["next_page"], Value::Null);
        let r = api.get("/ssh_keys?per_page=500").await;
        assert_eq!(r.body["meta"]["pagination"]["per_page"], 50);
        // A page past the end is empty, not an error.
        let r = api.get("/ssh_keys?page=9&per_page=2").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(names(&r.body), Vec::<&str>::new());
        for bad in ["page=0", "per_page=0", "page=x"] {
            let r = api.get(&format!("/ssh_keys?{bad}")).await;
            assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"), "{bad}");
        }
    }

    #[tokio::test]
    async fn missing_ids_are_not_found() {
        let api = TestApi::new().await;
        for (method, path) in [
            (Method::GET, "/ssh_keys/999999"),
            (Method::PUT, "/ssh_keys/999999"),
            (Method::DELETE, "/ssh_keys/999999"),
            (Method::GET, "/ssh_keys/not-an-id"),
            (Method::GET, "/ssh_keys/-3"),
        ] {
            let body = (method == Method::PUT).then(|| json!({"name": "x"}));
            let r = api.call_as(&api.token, method.clone(), path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}");
        }
    }

    #[tokio::test]
    async fn another_projects_key_is_not_found() {
        let api = TestApi::new().await;
        let id = create(&api, "mine", ED25519, json!({})).await;
        let other = api.other_token().await;
        let path = format!("/ssh_keys/{id}");
        for (method, body) in
            [(Method::GET, None), (Method::PUT, Some(json!({"name": "theirs"}))), (Method::DELETE, None)]
        {
            let r = api.call_as(&other, method.clone(), &path, body).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{method} {path}");
        }
        let r = api.call_as(&other, Method::GET, "/ssh_keys", None).await;
        assert_eq!(r.body["ssh_keys"], json!([]));
        let r = api.call_as(&other, Method::GET, &format!("/ssh_keys?fingerprint={ED25519_MD5}"), None).await;
        assert_eq!(r.body["ssh_keys"], json!([]));
        // Untouched for its owner.
        assert_eq!(api.get(&path).await.body["ssh_key"]["name"], "mine");
    }
}
