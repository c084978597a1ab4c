//! `/load_balancer_types`: the catalogue's load balancer sizes, their limits and prices.

mod common;

use axum::http::StatusCode;
use common::TestApi;
use serde_json::{json, Value};

fn names(body: &Value) -> Vec<&str> {
    body["load_balancer_types"].as_array().expect("list").iter().map(|t| t["name"].as_str().expect("name")).collect()
}

// Tests live in a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn list_renders_limits_and_prices_per_location() {
        let api = TestApi::new().await;
        let r = api.get("/load_balancer_types").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(names(&r.body), ["lb11", "lb21", "lb31"]);
        let lb11 = &r.body["load_balancer_types"][0];
        let mut fields: Vec<&str> = lb11.as_object().expect("object").keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "deprecated",
                "deprecation",
                "description",
                "id",
                "max_assigned_certificates",
                "max_connections",
                "max_services",
                "max_targets",
                "name",
                "prices"
            ]
        );
        assert!(lb11["id"].is_i64());
        assert_eq!(lb11["description"], "LB11");
        assert_eq!(
            (&lb11["max_connections"], &lb11["max_services"], &lb11["max_targets"], &lb11["max_assigned_certificates"]),
            (&json!(10000), &json!(5), &json!(25), &json!(10))
        );
        assert_eq!((&lb11["deprecated"], &lb11["deprecation"]), (&Value::Null, &Value::Null));
        let prices = lb11["prices"].as_array().expect("prices");
        let locations: Vec<&str> = prices.iter().map(|p| p["location"].as_str().expect("location")).collect();
        assert_eq!(locations, ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"], "offered everywhere");
        let fsn1 = &prices[0];
        assert_eq!(fsn1["price_hourly"], json!({"net": "0.0088000000", "gross": "0.0104720000"}));
        assert_eq!(fsn1["price_monthly"], json!({"net": "5.3900000000", "gross": "6.4141000000"}));
        assert_eq!(fsn1["price_per_tb_traffic"], json!({"net": "1.0000000000", "gross": "1.1900000000"}));
        assert!(fsn1["included_traffic"].as_u64().is_some_and(|t| t > 0));
        assert_eq!(r.body["meta"]["pagination"]["total_entries"], 3);
    }

    #[tokio::test]
    async fn get_filter_sort_and_page() {
        let api = TestApi::new().await;
        let list = api.get("/load_balancer_types").await.body;
        let lb21 = list["load_balancer_types"][1].clone();
        let r = api.get(&format!("/load_balancer_types/{}", lb21["id"])).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["load_balancer_type"], lb21, "one answers as it is listed");
        assert_eq!(names(&api.get("/load_balancer_types?name=lb31").await.body), ["lb31"]);
        assert_eq!(names(&api.get("/load_balancer_types?name=lb99").await.body), Vec::<&str>::new());
        assert_eq!(names(&api.get("/load_balancer_types?sort=name:desc").await.body), ["lb31", "lb21", "lb11"]);
        assert_eq!(names(&api.get("/load_balancer_types?sort=id:desc").await.body), ["lb31", "lb21", "lb11"]);
        let r = api.get("/load_balancer_types?per_page=2&page=2").await;
        assert_eq!(names(&r.body), ["lb31"]);
        assert_eq!(r.body["meta"]["pagination"]["previous_page"], 1);
        assert!(r.headers.contains_key("link"));
        let r = api.get("/load_balancer_types?sort=price").await;
        assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_input"));
    }

    #[tokio::test]
    async fn unknown_types_are_not_found() {
        let api = TestApi::new().await;
        for path in ["/load_balancer_types/987654321", "/load_balancer_types/lb11", "/load_balancer_types/0"] {
            let r = api.get(path).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{path}");
        }
        // A server's id is no load balancer type's.
        let server = api.make_server(&api.token, "s").await;
        let r = api.get(&format!("/load_balancer_types/{server}")).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    }

    #[tokio::test]
    async fn every_project_sees_the_same_catalogue() {
        let api = TestApi::new().await;
        let mine = api.get("/load_balancer_types").await.body["load_balancer_types"].clone();
        let other = api.other_token().await;
        let theirs = api.call_as(&other, axum::http::Method::GET, "/load_balancer_types", None).await;
        assert_eq!(theirs.body["load_balancer_types"], mine);
        let r = api.call_as("bogus", axum::http::Method::GET, "/load_balancer_types", None).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    }
}
