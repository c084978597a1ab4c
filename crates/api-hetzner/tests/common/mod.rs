//! A Hetzner API over an in-memory store and the instant simulator, driven through the
//! router without a socket. Shared by the dialect's integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use std::sync::Arc;
use stratus_compute::sim::{SimDriver, SimTiming};
use stratus_core::model::Access;
use stratus_core::store::memory::MemoryStore;
use stratus_core::{Cloud, Config};
use tower::ServiceExt;

/// One answer: status, headers and the JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The error code of an error answer.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub struct TestApi {
    pub cloud: Cloud,
    pub router: Router,
    pub token: String,
    pub store: Arc<MemoryStore>,
}

impl TestApi {
    pub async fn new() -> TestApi {
        Self::with_config(Config::default()).await
    }

    pub async fn with_config(config: Config) -> TestApi {
        Self::with_driver_and_config(Arc::new(SimDriver::new(SimTiming::Instant)), config).await
    }

    /// With a simulator of its own, e.g. one whose timings keep an action running.
    pub async fn with_driver(driver: Arc<SimDriver>) -> TestApi {
        Self::with_driver_and_config(driver, Config::default()).await
    }

    pub async fn with_driver_and_config(driver: Arc<SimDriver>, config: Config) -> TestApi {
        let store = MemoryStore::new();
        let cloud = Cloud::open(store.clone(), driver, config).await.expect("open");
        cloud.start().await.expect("start");
        let token = cloud.token_create("test", "test", Access::ReadWrite).await.expect("token").secret;
        let router = Router::new().nest(stratus_api_hetzner::PREFIX, stratus_api_hetzner::router(cloud.clone()));
        TestApi { cloud, router, token, store }
    }

    /// The same store opened again with another configuration (a restart with other
    /// flags), on a fresh instant simulator; tokens and resources carry over.
    pub async fn reopen(&self, config: Config) -> TestApi {
        let driver = Arc::new(SimDriver::new(SimTiming::Instant));
        let cloud = Cloud::open(self.store.clone(), driver, config).await.expect("open");
        cloud.start().await.expect("start");
        let router = Router::new().nest(stratus_api_hetzner::PREFIX, stratus_api_hetzner::router(cloud.clone()));
        TestApi { cloud, router, token: self.token.clone(), store: self.store.clone() }
    }

    /// A token of another project, for tenancy checks.
    pub async fn other_token(&self) -> String {
        self.cloud.token_create("other", "other", Access::ReadWrite).await.expect("token").secret
    }

    pub async fn call_as(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", stratus_api_hetzner::PREFIX))
            .header("host", "stratus.test")
            .header("authorization", format!("Bearer {token}"));
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let res = self.router.clone().oneshot(req.body(body).expect("request")).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
        let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON body") };
        Answer { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call_as(&self.token, Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call_as(&self.token, Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.call_as(&self.token, Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call_as(&self.token, Method::DELETE, path, None).await
    }

    /// Polls an action until it is no longer running (the instant simulator finishes
    /// in a few scheduler turns); returns it.
    pub async fn wait_action(&self, id: i64) -> Value {
        for _ in 0..1000 {
            let a = self.get(&format!("/actions/{id}")).await;
            if a.body["action"]["status"] != "running" {
                return a.body["action"].clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        panic!("action {id} still running");
    }
}

/// Fixtures for tests of resources that need a server or an image, made through the
/// server endpoints as a client would.
impl TestApi {
    /// A running `cx22` Debian server of `token`'s project (in the default datacenter,
    /// fsn1-dc14); its id.
    pub async fn make_server(&self, token: &str, name: &str) -> i64 {
        let body = serde_json::json!({"name": name, "server_type": "cx22", "image": "debian-12"});
        let r = self.call_as(token, Method::POST, "/servers", Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "create server: {:?}", r.body);
        self.wait_action_as(token, r.body["action"]["id"].as_i64().expect("action id")).await;
        for next in r.body["next_actions"].as_array().expect("next_actions") {
            self.wait_action_as(token, next["id"].as_i64().expect("action id")).await;
        }
        r.body["server"]["id"].as_i64().expect("server id")
    }

    /// A finished image (`type` `snapshot` or `backup`) of `server`; its id.
    pub async fn make_image(&self, token: &str, server: i64, kind: &str, description: &str) -> i64 {
        let body = serde_json::json!({"type": kind, "description": description});
        let r = self.call_as(token, Method::POST, &format!("/servers/{server}/actions/create_image"), Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "create_image: {:?}", r.body);
        self.wait_action_as(token, r.body["action"]["id"].as_i64().expect("action id")).await;
        r.body["image"]["id"].as_i64().expect("image id")
    }

    /// [`TestApi::wait_action`] with another project's token.
    pub async fn wait_action_as(&self, token: &str, id: i64) -> Value {
        for _ in 0..1000 {
            let a = self.call_as(token, Method::GET, &format!("/actions/{id}"), None).await;
            assert_eq!(a.status, StatusCode::OK, "action {id}: {:?}", a.body);
            if a.body["action"]["status"] != "running" {
                return a.body["action"].clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        panic!("action {id} still running");
    }
}
