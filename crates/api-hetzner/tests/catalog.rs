//! The catalogue every project reads: `/server_types`, `/locations`, `/datacenters`,
//! `/isos` and `/pricing`.

mod common;

use axum::http::{Method, StatusCode};
use common::TestApi;
use serde_json::Value;
use stratus_core::ids::IsoId;
use stratus_core::model::Iso;
use stratus_core::ops::catalog::CatalogEntry;

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

fn names<'a>(body: &'a Value, key: &str) -> Vec<&'a str> {
    body[key].as_array().expect("list").iter().map(|i| i["name"].as_str().expect("name")).collect()
}

/// A decimal string as an exact count of 10^-10 units.
fn units(s: &str) -> i128 {
    let (int, frac) = s.split_once('.').expect("a decimal point");
    assert_eq!(frac.len(), 10, "10 decimals: {s}");
    int.parse::<i128>().expect("int") * 10_i128.pow(10) + frac.parse::<i128>().expect("frac")
}

/// `gross` is `net` plus 19 % VAT (to the last shown digit).
fn assert_vat(price: &Value, what: &str) {
    let net = units(price["net"].as_str().expect("net"));
    let gross = units(price["gross"].as_str().expect("gross"));
    let want = net * 119 / 100;
    assert!((gross - want).abs() <= 1, "{what}: net {} gross {}", price["net"], price["gross"]);
}

// Tests live in a test module, as the workspace lint `tests_outside_test_module` asks.
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn locations_list_get_filter_sort() {
        let api = TestApi::new().await;
        let r = api.get("/locations").await;
        assert_eq!(r.status, StatusCode::OK);
        let all = names(&r.body, "locations");
        assert_eq!(all, ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"]);
        let fsn1 = &r.body["locations"][0];
        assert_eq!(
            keys(fsn1),
            ["city", "country", "description", "id", "latitude", "longitude", "name", "network_zone"]
        );
        assert_eq!(fsn1["country"], "DE");
        assert_eq!(fsn1["network_zone"], "eu-central");
        assert!(fsn1["latitude"].is_f64());
        assert_eq!(r.body["meta"]["pagination"]["total_entries"], 6);
        assert!(r.headers.contains_key("link"));

        let r = api.get(&format!("/locations/{}", fsn1["id"])).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(&r.body["location"], fsn1);
        assert_eq!(names(&api.get("/locations?name=hel1").await.body, "locations"), ["hel1"]);
        assert_eq!(
            names(&api.get("/locations?sort=name").await.body, "locations"),
            ["ash", "fsn1", "hel1", "hil", "nbg1", "sin"]
        );
        assert_eq!(names(&api.get("/locations?sort=id:desc&per_page=2").await.body, "locations"), ["sin", "hil"]);
    }

    #[tokio::test]
    async fn datacenters_list_get_and_recommend() {
        let api = TestApi::new().await;
        let r = api.get("/datacenters").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(keys(&r.body), ["datacenters", "meta", "recommendation"]);
        let dcs = r.body["datacenters"].as_array().expect("list");
        assert_eq!(dcs.len(), 6);
        let recommended = r.body["recommendation"].as_i64().expect("an integer id");
        assert!(dcs.iter().any(|d| d["id"] == recommended), "recommends one of its datacenters");
        let fsn = dcs.iter().find(|d| d["name"] == "fsn1-dc14").expect("fsn1-dc14");
        assert_eq!(keys(fsn), ["description", "id", "location", "name", "server_types"]);
        assert_eq!(fsn["location"]["name"], "fsn1");
        assert_eq!(keys(&fsn["server_types"]), ["available", "available_for_migration", "supported"]);
        let supported = fsn["server_types"]["supported"].as_array().expect("ids");
        assert!(supported.iter().all(Value::is_i64) && !supported.is_empty());
        // cx22 is sold in the EU only.
        let cx22 = api.get("/server_types?name=cx22").await.body["server_types"][0]["id"].clone();
        assert!(supported.contains(&cx22));
        let ash = dcs.iter().find(|d| d["name"] == "ash-dc1").expect("ash-dc1");
        assert!(!ash["server_types"]["supported"].as_array().expect("ids").contains(&cx22));

        let r = api.get(&format!("/datacenters/{}", fsn["id"])).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(&r.body["datacenter"], fsn);
        let r = api.get("/datacenters?name=hel1-dc2").await;
        assert_eq!(names(&r.body, "datacenters"), ["hel1-dc2"]);
        assert!(r.body["recommendation"].is_i64(), "recommendation also with a filter");
        assert_eq!(names(&api.get("/datacenters?sort=name:desc&per_page=1").await.body, "datacenters"), ["sin-dc1"]);
    }

    #[tokio::test]
    async fn server_types_with_prices_per_location() {
        let api = TestApi::new().await;
        let r = api.get("/server_types").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["meta"]["pagination"]["total_entries"], 10);
        let r = api.get("/server_types?name=cx22").await;
        let t = &r.body["server_types"][0];
        assert_eq!(
            keys(t),
            [
                "architecture",
                "category",
                "cores",
                "cpu_type",
                "deprecated",
                "deprecation",
                "description",
                "disk",
                "id",
                "locations",
                "memory",
                "name",
                "prices",
                "storage_type"
            ]
        );
        assert_eq!((t["cores"].as_i64(), t["memory"].as_f64(), t["disk"].as_i64()), (Some(2), Some(4.0), Some(40)));
        assert_eq!(t["cpu_type"], "shared");
        assert_eq!(t["storage_type"], "local");
        assert_eq!(t["architecture"], "x86");
        assert_eq!(t["deprecated"], false);
        assert_eq!(t["deprecation"], Value::Null);
        let prices = t["prices"].as_array().expect("prices");
        let places: Vec<&str> = prices.iter().map(|p| p["location"].as_str().expect("location")).collect();
        assert_eq!(places, ["fsn1", "nbg1", "hel1"]);
        let fsn1 = &prices[0];
        assert_eq!(
            keys(fsn1),
            ["included_traffic", "location", "price_hourly", "price_monthly", "price_per_tb_traffic"]
        );
        assert_eq!(fsn1["price_monthly"]["net"], "3.7900000000");
        assert_eq!(fsn1["price_hourly"]["net"], "0.0060000000");
        for what in ["price_hourly", "price_monthly", "price_per_tb_traffic"] {
            assert_vat(&fsn1[what], what);
        }
        assert!(fsn1["included_traffic"].as_i64().expect("bytes") > 0);
        assert_eq!(t["locations"].as_array().map(Vec::len), Some(3));
        assert_eq!(keys(&t["locations"][0]), ["available", "deprecation", "id", "name", "recommended"]);

        let r = api.get(&format!("/server_types/{}", t["id"])).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(&r.body["server_type"], t);
        assert_eq!(names(&api.get("/server_types?sort=name:desc&per_page=1").await.body, "server_types"), ["cx52"]);
    }

    #[tokio::test]
    async fn isos_hide_deprecated_and_filter_by_architecture() {
        let api = TestApi::new().await;
        let r = api.get("/isos").await;
        assert_eq!(r.status, StatusCode::OK);
        let listed = names(&r.body, "isos");
        assert_eq!(
            listed,
            ["virtio-win-0.1.248.iso", "alpine-virt-3.20.3-x86_64.iso", "FreeBSD-14.1-RELEASE-amd64-disc1.iso"]
        );
        let iso = &r.body["isos"][0];
        assert_eq!(keys(iso), ["architecture", "deprecation", "description", "id", "name", "type"]);
        assert_eq!(iso["type"], "public");
        assert_eq!(iso["architecture"], "x86");
        assert_eq!(iso["deprecation"], Value::Null);
        let r = api.get(&format!("/isos/{}", iso["id"])).await;
        assert_eq!(&r.body["iso"], iso);

        // A deprecated ISO is not listed, but can be fetched by id.
        let deprecated = api
            .cloud
            .catalog_list(stratus_core::ids::ResourceKind::Iso)
            .into_iter()
            .find_map(|e| match e {
                CatalogEntry::Iso(i) if i.deprecated.is_some() => Some(i),
                _ => None,
            })
            .expect("the default catalogue has a deprecated ISO");
        assert!(!listed.contains(&deprecated.name.as_str()));
        assert!(names(&api.get(&format!("/isos?name={}", deprecated.name)).await.body, "isos").is_empty());
        let r = api.get(&format!("/isos/{}", deprecated.id)).await;
        assert_eq!(r.status, StatusCode::OK);
        let d = &r.body["iso"]["deprecation"];
        assert!(d["announced"].is_string() && d["unavailable_after"].is_string(), "{d}");
        assert!(r.body["iso"].get("deprecated").is_none(), "seed 002's field is not in today's document");
        assert_eq!(api.get("/isos?architecture=null").await.code(), "invalid_input", "architecture is x86 or arm");
        assert_eq!(api.get("/images?architecture=mips").await.code(), "invalid_input");

        // An ISO without architecture fits any; it is listed for an architecture only with the wildcard.
        let any = Iso {
            id: IsoId(0),
            name: "netboot.xyz.iso".into(),
            description: "netboot.xyz".into(),
            kind: stratus_core::model::IsoType::Public,
            architecture: None,
            deprecated: None,
        };
        api.cloud.catalog_put(CatalogEntry::Iso(any)).await.expect("catalog put");
        let x86 = names(&api.get("/isos?architecture=x86").await.body, "isos").len();
        assert_eq!(x86, 3);
        assert!(names(&api.get("/isos?architecture=arm").await.body, "isos").is_empty());
        let r = api.get("/isos?architecture=arm&include_architecture_wildcard=true").await;
        assert_eq!(names(&r.body, "isos"), ["netboot.xyz.iso"]);
        assert_eq!(r.body["isos"][0]["architecture"], Value::Null);
        assert_eq!(
            names(&api.get("/isos?architecture=x86&include_architecture_wildcard=true").await.body, "isos").len(),
            4
        );
        assert_eq!(names(&api.get("/isos").await.body, "isos").len(), 4);
        assert_eq!(names(&api.get("/isos?name=netboot.xyz.iso").await.body, "isos"), ["netboot.xyz.iso"]);
    }

    #[tokio::test]
    async fn pricing_has_todays_shape_and_gross_is_net_plus_19_percent() {
        let api = TestApi::new().await;
        let r = api.get("/pricing").await;
        assert_eq!(r.status, StatusCode::OK);
        let p = &r.body["pricing"];
        assert_eq!(
            keys(p),
            [
                "currency",
                "floating_ip",
                "floating_ips",
                "image",
                "load_balancer_types",
                "primary_ips",
                "server_backup",
                "server_types",
                "vat_rate",
                "volume"
            ]
        );
        assert_eq!(p["currency"], "EUR");
        assert_eq!(p["vat_rate"], "19.00");
        assert_eq!(p["server_backup"]["percentage"], "20.00");
        assert_eq!(p["image"]["price_per_gb_month"]["net"], "0.0119000000");
        assert_vat(&p["image"]["price_per_gb_month"], "image");
        assert_eq!(p["floating_ip"]["price_monthly"]["net"], "3.0000000000");
        assert_eq!(p["floating_ip"]["price_monthly"]["gross"], "3.5700000000");
        assert_vat(&p["volume"]["price_per_gb_month"], "volume");
        let lb_types = p["load_balancer_types"].as_array().expect("load_balancer_types");
        assert_eq!(
            lb_types.iter().map(|t| t["name"].as_str().unwrap_or("")).collect::<Vec<_>>(),
            ["lb11", "lb21", "lb31"]
        );
        assert_vat(&lb_types[0]["prices"][0]["price_monthly"], "load balancer");

        let locations = api.get("/locations").await.body["locations"].as_array().map(Vec::len).expect("locations");
        for (list, kind) in
            [("floating_ips", "ipv4"), ("floating_ips", "ipv6"), ("primary_ips", "ipv4"), ("primary_ips", "ipv6")]
        {
            let entry = p[list].as_array().expect(list).iter().find(|e| e["type"] == kind).expect("type");
            let prices = entry["prices"].as_array().expect("prices");
            assert_eq!(prices.len(), locations, "{list} {kind}: one price per location");
            for price in prices {
                let want: &[&str] = if list == "floating_ips" {
                    &["location", "price_monthly"]
                } else {
                    &["location", "price_hourly", "price_monthly"]
                };
                assert_eq!(keys(price), want, "{list} {kind}");
                assert_vat(&price["price_monthly"], list);
            }
        }

        let types = p["server_types"].as_array().expect("server types");
        assert_eq!(types.len(), 10);
        let cx22 = types.iter().find(|t| t["name"] == "cx22").expect("cx22");
        assert_eq!(keys(cx22), ["id", "name", "prices"]);
        let st = api.get("/server_types?name=cx22").await.body["server_types"][0].clone();
        assert_eq!(cx22["id"], st["id"]);
        assert_eq!(cx22["prices"], st["prices"], "the same prices as the server type shows");
        for t in types {
            for price in t["prices"].as_array().expect("prices") {
                for what in ["price_hourly", "price_monthly", "price_per_tb_traffic"] {
                    assert_vat(&price[what], what);
                }
            }
        }
    }

    #[tokio::test]
    async fn missing_ids_are_not_found() {
        let api = TestApi::new().await;
        for path in
            ["/server_types/999999", "/locations/999999", "/datacenters/999999", "/isos/999999", "/locations/fsn1"]
        {
            let r = api.get(path).await;
            assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{path}");
        }
    }

    #[tokio::test]
    async fn every_project_reads_the_same_catalogue() {
        let api = TestApi::new().await;
        let other = api.other_token().await;
        for path in ["/server_types", "/locations", "/datacenters", "/isos", "/pricing"] {
            let mine = api.get(path).await;
            let theirs = api.call_as(&other, Method::GET, path, None).await;
            assert_eq!(mine.status, StatusCode::OK, "{path}");
            assert_eq!(mine.body, theirs.body, "{path}");
        }
        let r = api.call_as("not-a-token", Method::GET, "/pricing", None).await;
        assert_eq!((r.status, r.code()), (StatusCode::UNAUTHORIZED, "unauthorized"));
    }
}
