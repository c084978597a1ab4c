//! Lists: `page`/`per_page` (default 25, at most 50), `sort=field[:asc|:desc]` (repeatable),
//! `name` and `label_selector` filters, and the answer's `meta.pagination` and `Link`
//! header exactly as documented (seed 002, "Pagination" and "Sorting").

use crate::error::{ApiError, ApiResult};
use crate::request::Params;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::sync::Arc;
use stratus_core::labels::Selector;
use stratus_core::model::{Action, ActionStatus, Principal};
use stratus_core::ops::actions::ActionFilter;
use stratus_core::ops::ListFilter;
use stratus_core::page::Page;
use stratus_core::{Cloud, Error};

pub const DEFAULT_PER_PAGE: u64 = 25;
pub const MAX_PER_PAGE: u64 = 50;

/// A list request: its parameters and where it was sent (for `Link` URLs).
#[derive(Debug, Clone)]
pub struct Listing {
    pub params: Params,
    path: String,
    host: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Listing {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> ApiResult<Self> {
        let params = Params::from_request_parts(parts, state).await?;
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_string(), |u| u.path().to_string());
        let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_string();
        Ok(Listing { params, path, host })
    }
}

/// One `sort` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortTerm {
    pub field: String,
    pub descending: bool,
}

/// A value to sort by. Variants compare among themselves; mixed fields never occur.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum SortKey {
    Int(i64),
    Float(f64),
    Text(String),
    Time(Option<DateTime<Utc>>),
}

impl Listing {
    /// The common filters (`name`, `label_selector`).
    pub fn filter(&self) -> ApiResult<ListFilter> {
        let label_selector = self.params.get("label_selector").map(Selector::parse).transpose()?;
        Ok(ListFilter { name: self.params.get("name").map(str::to_string), label_selector })
    }

    /// The `sort` terms, each checked against the fields this list sorts by.
    pub fn sort(&self, allowed: &[&str]) -> ApiResult<Vec<SortTerm>> {
        self.params
            .all("sort")
            .into_iter()
            .map(|term| {
                let (field, dir) = term.split_once(':').unwrap_or((term, "asc"));
                let descending = match dir {
                    "asc" => false,
                    "desc" => true,
                    _ => return Err(Error::invalid_field("sort", format!("invalid sort direction '{dir}'")).into()),
                };
                if !allowed.contains(&field) {
                    return Err(Error::invalid_field("sort", format!("cannot sort by '{field}'")).into());
                }
                Ok(SortTerm { field: field.to_string(), descending })
            })
            .collect()
    }

    /// Where the requested page lies in a list of `total` items.
    pub fn page(&self, total: usize) -> ApiResult<Page> {
        let page = self.params.int("page")?.unwrap_or(1);
        let per_page =
            self.params.int("per_page")?.unwrap_or_else(|| i64::try_from(DEFAULT_PER_PAGE).unwrap_or(i64::MAX));
        if page < 1 {
            return Err(Error::invalid_field("page", "must be at least 1").into());
        }
        if per_page < 1 {
            return Err(Error::invalid_field("per_page", "must be at least 1").into());
        }
        let per_page = u64::try_from(per_page).unwrap_or(MAX_PER_PAGE).min(MAX_PER_PAGE);
        Ok(Page::new(u64::try_from(page).unwrap_or(1), per_page, total as u64))
    }

    /// Sorts `items` by `terms` (stable, so ties keep id order), pages them and renders
    /// the page under `key`.
    pub fn respond<T>(
        &self,
        key: &'static str,
        items: Vec<T>,
        terms: &[SortTerm],
        sort_key: impl Fn(&T, &str) -> SortKey,
        render: impl Fn(&T) -> Value,
    ) -> ApiResult<Response> {
        self.respond_with(key, items, terms, sort_key, render, serde_json::Map::new())
    }

    /// [`Listing::respond`] with more top-level fields in the answer (`/datacenters`
    /// has `recommendation`).
    pub fn respond_with<T>(
        &self,
        key: &'static str,
        mut items: Vec<T>,
        terms: &[SortTerm],
        sort_key: impl Fn(&T, &str) -> SortKey,
        render: impl Fn(&T) -> Value,
        extra: serde_json::Map<String, Value>,
    ) -> ApiResult<Response> {
        if !terms.is_empty() {
            items.sort_by(order_by(terms, sort_key));
        }
        let page = self.page(items.len())?;
        let rendered = page.slice(&items).iter().map(render).collect();
        Ok(self.respond_rendered(key, rendered, &page, extra))
    }

    /// The answer for one page already rendered: `meta.pagination` and the `Link` header.
    /// The items may be any serializable rendering (the server list's embeds raw JSON).
    pub fn respond_rendered<T: Serialize>(
        &self,
        key: &'static str,
        rendered: Vec<T>,
        page: &Page,
        extra: serde_json::Map<String, Value>,
    ) -> Response {
        let meta = json!({"pagination": {
            "page": page.page,
            "per_page": page.per_page,
            "previous_page": page.previous_page(),
            "next_page": page.next_page(),
            "last_page": page.last_page(),
            "total_entries": page.total,
        }});
        let body = Envelope { key, items: &rendered, meta, extra };
        let mut response = axum::Json(body).into_response();
        if let Ok(link) = HeaderValue::from_str(&self.link(page)) {
            response.headers_mut().insert(header::LINK, link);
        }
        response
    }

    /// `<url?page=N&per_page=M>; rel="prev", ...` keeping the other parameters.
    fn link(&self, page: &Page) -> String {
        let url = |n: u64| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            for (k, v) in self.params.0.iter().filter(|(k, _)| k != "page" && k != "per_page") {
                q.append_pair(k, v);
            }
            q.append_pair("page", &n.to_string());
            q.append_pair("per_page", &page.per_page.to_string());
            format!("<http://{}{}?{}>", self.host, self.path, q.finish())
        };
        let mut rels = Vec::new();
        if let Some(p) = page.previous_page() {
            rels.push(format!("{}; rel=\"prev\"", url(p)));
        }
        if let Some(n) = page.next_page() {
            rels.push(format!("{}; rel=\"next\"", url(n)));
        }
        rels.push(format!("{}; rel=\"last\"", url(page.last_page())));
        rels.join(", ")
    }
}

/// The fields action lists sort by (seed 002, "Get all Actions").
pub const ACTION_SORT: &[&str] = &["id", "command", "status", "progress", "started", "finished"];

/// An action's value for an [`ACTION_SORT`] field.
pub fn action_sort_key(a: &Arc<Action>, field: &str) -> SortKey {
    match field {
        "command" => SortKey::Text(crate::commands::command(&a.kind).unwrap_or_default().to_string()),
        "status" => {
            SortKey::Text(if a.status == ActionStatus::Stuck { "error" } else { a.status.as_str() }.to_string())
        }
        "progress" => SortKey::Int(i64::from(a.progress)),
        "started" => SortKey::Time(Some(a.started)),
        "finished" => SortKey::Time(a.finished),
        _ => SortKey::Int(a.id.0),
    }
}

impl Listing {
    /// Answers an action list (`GET /{resources}/{id}/actions` and the like): the
    /// repeatable `status` filter is added to `filter`, then sorted, paged and rendered
    /// under `actions`.
    pub fn actions(&self, cloud: &Cloud, p: &Principal, filter: ActionFilter) -> ApiResult<Response> {
        self.actions_where(cloud, p, filter, |_| true)
    }

    /// [`Listing::actions`] of the actions `keep` accepts, before sorting and paging: for
    /// distinctions the core does not make (floating and primary IPs are one kind there).
    pub fn actions_where(
        &self,
        cloud: &Cloud,
        p: &Principal,
        mut filter: ActionFilter,
        keep: impl Fn(&Action) -> bool,
    ) -> ApiResult<Response> {
        filter.kinds = crate::commands::shown_kinds();
        filter.status = self
            .params
            .all("status")
            .into_iter()
            .map(|s| match s {
                // A stuck action shows as `error` here, so it is found as one.
                "error" => Ok(vec![ActionStatus::Error, ActionStatus::Stuck]),
                "running" | "success" => Ok(ActionStatus::parse(s).into_iter().collect()),
                _ => Err(ApiError::from(Error::invalid_field("status", format!("unknown status '{s}'")))),
            })
            .collect::<ApiResult<Vec<Vec<_>>>>()?
            .into_iter()
            .flatten()
            .collect();
        let terms = self.sort(ACTION_SORT)?;
        let mut actions = cloud.action_list(p, &filter);
        actions.retain(|a| keep(a));
        self.respond("actions", actions, &terms, action_sort_key, |a| crate::render::action(cloud, a))
    }
}

/// The comparison `terms` describe: each term in turn, descending where asked.
pub fn order_by<'a, T>(
    terms: &'a [SortTerm],
    sort_key: impl Fn(&T, &str) -> SortKey + 'a,
) -> impl Fn(&T, &T) -> Ordering + 'a {
    move |a, b| {
        terms
            .iter()
            .map(|t| {
                let ord = sort_key(a, &t.field).partial_cmp(&sort_key(b, &t.field)).unwrap_or(Ordering::Equal);
                if t.descending {
                    ord.reverse()
                } else {
                    ord
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

/// A list answer: the page's items under their key, `meta`, and any extra top-level
/// fields, in key order as a `serde_json` map would have them.
struct Envelope<'a, T> {
    key: &'static str,
    items: &'a [T],
    meta: Value,
    extra: serde_json::Map<String, Value>,
}

impl<T: Serialize> Serialize for Envelope<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        enum Field<'b, T> {
            Items(&'b [T]),
            Value(&'b Value),
        }
        let mut fields: Vec<(&str, Field<'_, T>)> =
            vec![(self.key, Field::Items(self.items)), ("meta", Field::Value(&self.meta))];
        fields.extend(
            self.extra
                .iter()
                .filter(|(k, _)| *k != self.key && *k != "meta")
                .map(|(k, v)| (k.as_str(), Field::Value(v))),
        );
        fields.sort_by(|a, b| a.0.cmp(b.0));
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for (key, field) in fields {
            match field {
                Field::Items(items) => map.serialize_entry(key, items)?,
                Field::Value(value) => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}
