//! What every answer of the dialect has in common, whatever the resource: the error
//! envelope even for refusals below the handlers, and the rate-limit headers even on
//! refusals of unknown credentials.

mod common;

#[cfg(test)]
mod tests {
    use super::common::TestApi;
    use axum::body::Body;
    use axum::http::{Method, Request, StatusCode};
    use serde_json::Value;
    use tower::ServiceExt;

    async fn send(api: &TestApi, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let res = api.router.clone().oneshot(req).await.expect("infallible");
        let (status, headers) = (res.status(), res.headers().clone());
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
        (status, headers, serde_json::from_slice(&bytes).expect("a JSON body"))
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_in_the_error_envelope() {
        let api = TestApi::new().await;
        let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(stratus_api_hetzner::MAX_BODY + 1));
        let req = Request::builder()
            .method(Method::POST)
            .uri("/hetzner/v1/ssh_keys")
            .header("authorization", format!("Bearer {}", api.token))
            .header("content-type", "application/json")
            .body(Body::from(huge))
            .unwrap();
        let (status, headers, body) = send(&api, req).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["error"]["code"], "invalid_input");
        assert!(body["error"]["message"].as_str().unwrap().contains("2 MiB"), "{body}");
        assert!(headers.contains_key("ratelimit-limit"), "an authenticated refusal is metered too");
    }

    #[tokio::test]
    async fn refusals_of_unknown_credentials_carry_the_rate_limit_headers() {
        let api = TestApi::new().await;
        for auth in [None, Some("Bearer nope")] {
            let mut req = Request::builder().uri("/hetzner/v1/servers");
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let (status, headers, body) = send(&api, req.body(Body::empty()).unwrap()).await;
            assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
            for h in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
                assert!(headers.contains_key(h), "{h} on a 401 ({auth:?})");
            }
        }
        let r = api.get("/servers").await;
        assert_eq!(r.headers["ratelimit-remaining"], "3599", "the anonymous budget is not the token's");
    }

    #[tokio::test]
    async fn unknown_paths_and_methods_answer_in_the_envelope() {
        let api = TestApi::new().await;
        let r = api.get("/nowhere").await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
        let r = api.call_as(&api.token, Method::PATCH, "/servers", None).await;
        assert_eq!((r.status, r.code()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
    }
}
