//! What admin commands print on stdout. Results arrive as JSON (from the socket or from
//! a local `execute`), are read back into their types and shown as a table for people or
//! as JSON lines for scripts. `token create` prints the secret alone, so
//! `TOKEN=$(stratus token create)` works.

use super::protocol::{
    ActionRow, AdminRequest, Advanced, ApiKeyCreated, ApiKeyRow, Cleared, ImageRegistered, KindRow, TokenCreated,
    TokenRow, UserCreated, UserRow,
};
use crate::cli::Format;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use stratus_core::model::{Fault, FaultTarget, Project, StepRef};
use stratus_core::ops::catalog::CatalogEntry;

#[derive(Debug, thiserror::Error)]
#[error("unexpected result: {0}")]
pub struct RenderError(#[from] serde_json::Error);

pub fn render(request: &AdminRequest, result: Value, format: Format) -> Result<String, RenderError> {
    Ok(match request {
        AdminRequest::TokenCreate { .. } => line(parse::<TokenCreated>(result)?.token),
        AdminRequest::UserCreate { .. } => {
            let user = parse::<UserCreated>(result)?;
            line(format!("created user {} (id {}) in project {}", user.name, user.id, user.project))
        }
        AdminRequest::UserList { .. } => {
            let rows: Vec<UserRow> = parse(result)?;
            list(format, &rows, &["ID", "PROJECT", "NAME", "ACCESS", "CREATED"], |u| {
                vec![u.id.to_string(), u.project.clone(), u.name.clone(), name_of(&u.access), time(u.created)]
            })?
        }
        AdminRequest::ApiKeyList { .. } => {
            let rows: Vec<ApiKeyRow> = parse(result)?;
            list(format, &rows, &["ID", "PROJECT", "KEY", "ACCESS", "CREATED", "REVOKED"], |k| {
                vec![
                    k.id.to_string(),
                    k.project.clone(),
                    k.key.clone(),
                    name_of(&k.access),
                    time(k.created),
                    k.revoked.map(time).unwrap_or_else(|| "-".into()),
                ]
            })?
        }
        AdminRequest::ApiKeyRevoke { id } => line(format!("revoked API key {id}")),
        AdminRequest::ApiKeyCreate { .. } => {
            let created = parse::<ApiKeyCreated>(result)?;
            format!("{}\n{}\n", created.key, created.secret)
        }
        AdminRequest::TokenList { .. } => {
            let rows: Vec<TokenRow> = parse(result)?;
            list(format, &rows, &["ID", "PROJECT", "NAME", "ACCESS", "CREATED", "REVOKED"], |t| {
                vec![
                    t.id.to_string(),
                    t.project.clone(),
                    t.name.clone(),
                    name_of(&t.access),
                    time(t.created),
                    t.revoked.map(time).unwrap_or_else(|| "-".into()),
                ]
            })?
        }
        AdminRequest::TokenRevoke { id } => line(format!("revoked token {id}")),
        AdminRequest::ProjectCreate { .. } => {
            let p: Project = parse(result)?;
            line(format!("created project {} (id {})", p.name, p.id))
        }
        AdminRequest::ProjectList => {
            let rows: Vec<Project> = parse(result)?;
            list(format, &rows, &["ID", "NAME", "CREATED"], |p| {
                vec![p.id.to_string(), p.name.clone(), time(p.created)]
            })?
        }
        AdminRequest::CatalogList { .. } => {
            let rows: Vec<CatalogEntry> = parse(result)?;
            list(format, &rows, &["ID", "NAME"], |e| vec![e.id().to_string(), e.name().unwrap_or("-").to_string()])?
        }
        AdminRequest::CatalogPut { .. } => line(serde_json::to_string(&parse::<CatalogEntry>(result)?)?),
        AdminRequest::CatalogRemove { kind, id } => line(format!("removed {} {id}", name_of(kind))),
        AdminRequest::PriceListGet | AdminRequest::PriceListSet { .. } => {
            line(serde_json::to_string(&parse::<stratus_core::model::PriceList>(result)?)?)
        }
        AdminRequest::FaultAction { .. } | AdminRequest::FaultApi { .. } => {
            let f: Fault = parse(result)?;
            line(format!("armed fault {}: {} fails the next {} time(s)", f.id, target(&f.target), f.remaining))
        }
        AdminRequest::FaultList => {
            let rows: Vec<Fault> = parse(result)?;
            list(format, &rows, &["ID", "TARGET", "REMAINING", "CODE", "MESSAGE"], |f| {
                vec![f.id.to_string(), target(&f.target), f.remaining.to_string(), f.code.clone(), f.message.clone()]
            })?
        }
        AdminRequest::FaultClear => line(format!("cleared {} fault(s)", parse::<Cleared>(result)?.cleared)),
        AdminRequest::SimAdvance { .. } => {
            let run = parse::<Advanced>(result)?;
            line(format!(
                "{} backup(s) started, {} rescue system(s) disabled",
                run.backups_started, run.rescues_disabled
            ))
        }
        AdminRequest::ActionList { .. } => {
            let rows: Vec<ActionRow> = parse(result)?;
            list(format, &rows, &["ID", "PROJECT", "KIND", "STATUS", "PROGRESS", "STEP", "RESOURCES", "ERROR"], |a| {
                vec![
                    a.id.to_string(),
                    a.project.to_string(),
                    a.kind.clone(),
                    a.status.clone(),
                    format!("{}%", a.progress),
                    a.step.clone().unwrap_or_else(|| "-".into()),
                    a.resources.join(", "),
                    a.error.clone().unwrap_or_else(|| "-".into()),
                ]
            })?
        }
        AdminRequest::ActionKinds => {
            let rows: Vec<KindRow> = parse(result)?;
            list(format, &rows, &["KIND", "STEPS"], |k| vec![k.kind.clone(), k.steps.join(" ")])?
        }
        AdminRequest::IsoRegister { name, .. } => {
            line(format!("catalogue ISO {name} (id {})", parse::<ImageRegistered>(result)?.id))
        }
        AdminRequest::ImageRegister { name, .. } => {
            line(format!("catalogue image {name} (id {})", parse::<ImageRegistered>(result)?.id))
        }
        AdminRequest::ActionRetry { .. } | AdminRequest::ActionResolve { .. } => {
            let a: ActionRow = parse(result)?;
            line(format!("action {} ({}) is {}", a.id, a.kind, a.status))
        }
    })
}

fn parse<T: DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
    serde_json::from_value(value)
}

fn line(text: impl Into<String>) -> String {
    let mut text = text.into();
    text.push('\n');
    text
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The wire name of a unit enum value (`read_write`, `server_type`): what users type and
/// what the JSON output says, so the table says it too.
fn name_of(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

fn target(t: &FaultTarget) -> String {
    match t {
        FaultTarget::Action { kinds, step: Some(StepRef::Index(step)) } => {
            format!("action {} at step {step}", kinds.join("|"))
        }
        FaultTarget::Action { kinds, step: Some(StepRef::Name(step)) } => {
            format!("action {} at step {step}", kinds.join("|"))
        }
        FaultTarget::Action { kinds, step: None } => format!("action {}", kinds.join("|")),
        FaultTarget::Api { refusal } => format!("api {}", name_of(refusal)),
    }
}

/// Rows as JSON lines or as a table with aligned columns.
fn list<T: Serialize>(
    format: Format,
    rows: &[T],
    header: &[&str],
    cells: impl Fn(&T) -> Vec<String>,
) -> Result<String, serde_json::Error> {
    let mut out = String::new();
    match format {
        Format::Json => {
            for row in rows {
                out.push_str(&line(serde_json::to_string(row)?));
            }
        }
        Format::Table => {
            let mut table: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
            table.extend(rows.iter().map(cells));
            let widths: Vec<usize> = (0..header.len())
                .map(|i| table.iter().map(|r| r.get(i).map_or(0, |c| c.chars().count())).max().unwrap_or(0))
                .collect();
            for row in table {
                let padded: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
                out.push_str(&line(padded.join("  ").trim_end()));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn token_create_prints_the_secret_alone() {
        let result = json!({"id": 3, "project": "p", "name": "n", "access": "read", "token": "s3cr3t"});
        let request = AdminRequest::TokenCreate { project: "p".into(), name: "n".into(), read_only: true };
        assert_eq!(render(&request, result, Format::Table).unwrap(), "s3cr3t\n");
    }

    #[test]
    fn token_list_as_table_and_json_lines() {
        let result = json!([
            {"id": 3, "project": "default", "name": "default", "access": "read_write",
             "created": "2026-01-02T03:04:05Z", "revoked": null},
            {"id": 12, "project": "ci", "name": "robot", "access": "read",
             "created": "2026-01-02T03:04:05Z", "revoked": "2026-01-03T00:00:00Z"},
        ]);
        let request = AdminRequest::TokenList { project: None };
        let table = render(&request, result.clone(), Format::Table).unwrap();
        assert_eq!(
            table,
            "ID  PROJECT  NAME     ACCESS      CREATED               REVOKED\n\
             3   default  default  read_write  2026-01-02T03:04:05Z  -\n\
             12  ci       robot    read        2026-01-02T03:04:05Z  2026-01-03T00:00:00Z\n"
        );
        let lines = render(&request, result, Format::Json).unwrap();
        assert_eq!(lines.lines().count(), 2);
        let first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        assert_eq!(first["name"], "default");
    }

    #[test]
    fn garbage_results_are_errors_not_panics() {
        let request = AdminRequest::FaultClear;
        assert!(render(&request, json!("nope"), Format::Table).is_err());
    }
}
