//! The admin commands (`token`, `project`, `catalog`, `fault`, `sim`, `action`).
//!
//! Every command becomes one or more [`AdminRequest`]s, and every request is carried out
//! by [`execute`] on a [`Cloud`]: inside the running server when one answers on the admin
//! socket, or on a cloud this process opens from the data directory when none does. One
//! code path for both means a command behaves the same whether or not `serve` runs; only
//! the live server can make it take effect at once, which is why the socket is tried first.

/// The request and response types, and their wire form.
pub mod protocol;
/// Printing results for people and scripts.
mod render;
/// The Unix socket between admin commands and `serve`.
pub mod socket;

use crate::cli::{
    ActionCommand, AdminCommand, ApiKeyCommand, CatalogCommand, FaultCommand, Format, GlobalArgs, ProjectCommand,
    ServeArgs, SimCommand, TokenCommand, UserCommand,
};
use crate::datadir::{self, DataDir, DataDirError};
use crate::settings::{self, FileConfig, ServeSettings};
use protocol::{
    ActionRow, AdminRequest, AdminResponse, Advanced, ApiKeyCreated, ApiKeyRow, Cleared, ImageRegistered, KindRow,
    Password, TokenCreated, TokenRow, UserCreated, UserRow,
};
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stratus_compute::sim::SimDriver;
use stratus_core::ids::{ActionId, ApiKeyId, ImageId, IsoId, ResourceKind, TokenId};
use stratus_core::labels::Labels;
use stratus_core::model::{Access, Action, FaultTarget, Image, ImageStatus, ImageType, Iso, IsoType, Protection};
use stratus_core::ops::catalog::CatalogEntry;
use stratus_core::Cloud;

/// Carries out one request on `cloud`. The only place admin requests touch the cloud, for
/// the server (socket) and for commands run without one alike.
pub async fn execute(cloud: &Cloud, request: AdminRequest) -> AdminResponse {
    match run(cloud, request).await {
        Ok(result) => AdminResponse::success(result),
        Err(e) => AdminResponse::failure(e),
    }
}

#[derive(Debug, thiserror::Error)]
enum ExecuteError {
    #[error(transparent)]
    Core(#[from] stratus_core::Error),
    #[error("cannot encode the result: {0}")]
    Encode(#[from] serde_json::Error),
}

/// What a credential made with `--read-only` (or without) may do.
fn access(read_only: bool) -> Access {
    if read_only {
        Access::Read
    } else {
        Access::ReadWrite
    }
}

fn json(value: impl Serialize) -> Result<Value, ExecuteError> {
    Ok(serde_json::to_value(value)?)
}

async fn run(cloud: &Cloud, request: AdminRequest) -> Result<Value, ExecuteError> {
    match request {
        AdminRequest::TokenCreate { project, name, read_only } => {
            let access = access(read_only);
            let issued = cloud.token_create(&project, &name, access).await?;
            json(TokenCreated {
                id: issued.token.id.0,
                project,
                name: issued.token.name.clone(),
                access: issued.token.access,
                token: issued.secret,
            })
        }
        AdminRequest::UserCreate { project, name, password, read_only } => {
            let access = access(read_only);
            let user = cloud.user_create(&project, &name, &password.0, access).await?;
            json(UserCreated { id: user.id.0, project, name: user.name.clone(), access: user.access })
        }
        AdminRequest::UserList { project } => {
            let rows: Vec<UserRow> = cloud
                .user_list(project.as_deref())?
                .into_iter()
                .map(|(u, p)| UserRow {
                    id: u.id.0,
                    project: p.name.clone(),
                    name: u.name.clone(),
                    access: u.access,
                    created: u.created,
                })
                .collect();
            json(rows)
        }
        AdminRequest::ApiKeyList { project } => {
            let rows: Vec<ApiKeyRow> = cloud
                .api_key_list(project.as_deref())?
                .into_iter()
                .map(|(k, p)| ApiKeyRow {
                    id: k.id.0,
                    project: p.name.clone(),
                    key: k.key.clone(),
                    access: k.access,
                    created: k.created,
                    revoked: k.revoked,
                })
                .collect();
            json(rows)
        }
        AdminRequest::ApiKeyRevoke { id } => {
            cloud.api_key_revoke(ApiKeyId(id)).await?;
            Ok(Value::Null)
        }
        AdminRequest::ApiKeyCreate { project, read_only } => {
            let access = access(read_only);
            let issued = cloud.api_key_create(&project, access).await?;
            json(ApiKeyCreated {
                id: issued.api_key.id.0,
                project,
                access: issued.api_key.access,
                key: issued.api_key.key.clone(),
                secret: issued.secret,
            })
        }
        AdminRequest::TokenList { project } => {
            let mut rows: Vec<TokenRow> = cloud
                .token_list(project.as_deref())?
                .into_iter()
                .map(|(t, p)| TokenRow {
                    id: t.id.0,
                    project: p.name.clone(),
                    name: t.name.clone(),
                    access: t.access,
                    created: t.created,
                    revoked: t.revoked,
                })
                .collect();
            rows.sort_by_key(|r| r.id);
            json(rows)
        }
        AdminRequest::TokenRevoke { id } => {
            cloud.token_revoke(TokenId(id)).await?;
            Ok(Value::Null)
        }
        AdminRequest::ProjectCreate { name } => json(&*cloud.project_create(&name).await?),
        AdminRequest::ProjectList => {
            let mut projects = cloud.project_list();
            projects.sort_by_key(|p| p.id);
            json(projects.iter().map(|p| &**p).collect::<Vec<_>>())
        }
        AdminRequest::CatalogList { kind } => {
            let mut entries = cloud.catalog_list(kind.resource_kind());
            entries.sort_by_key(CatalogEntry::id);
            json(entries)
        }
        AdminRequest::CatalogPut { entry } => json(cloud.catalog_put(*entry).await?),
        AdminRequest::CatalogRemove { kind, id } => {
            let key = stratus_core::ids::ResourceRef { kind: kind.resource_kind(), id };
            cloud.catalog_remove(key).await?;
            Ok(Value::Null)
        }
        AdminRequest::PriceListGet => json(&*cloud.pricing()?.list),
        AdminRequest::PriceListSet { list } => {
            cloud.price_list_set(*list).await?;
            json(&*cloud.pricing()?.list)
        }
        AdminRequest::FaultAction { kinds, count, step, code, message } => {
            json(&*cloud.fault_add(FaultTarget::Action { kinds, step }, count, &code, &message).await?)
        }
        AdminRequest::FaultApi { code, count } => {
            // An API refusal's code is implied by its kind; it is recorded for `fault list`.
            let name = serde_json::to_value(code)?.as_str().unwrap_or_default().to_string();
            json(&*cloud.fault_add(FaultTarget::Api { refusal: code }, count, &name, "").await?)
        }
        AdminRequest::FaultList => {
            let mut faults = cloud.fault_list();
            faults.sort_by_key(|f| f.id);
            json(faults.iter().map(|f| &**f).collect::<Vec<_>>())
        }
        AdminRequest::FaultClear => json(Cleared { cleared: cloud.fault_clear().await? }),
        AdminRequest::SimAdvance { hours } => {
            let run = cloud.sim_advance(hours).await?;
            json(Advanced { backups_started: run.backups_started, rescues_disabled: run.rescues_disabled })
        }
        AdminRequest::ActionList { stuck } => {
            let actions = if stuck { cloud.action_stuck_list() } else { cloud.action_active_list() };
            json(actions.iter().map(|a| action_row(a)).collect::<Vec<_>>())
        }
        AdminRequest::ActionKinds => json(
            stratus_core::action_kinds()
                .into_iter()
                .map(|(kind, steps)| KindRow { kind: kind.into(), steps: steps.into_iter().map(Into::into).collect() })
                .collect::<Vec<_>>(),
        ),
        AdminRequest::IsoRegister { name, description } => {
            let existing = cloud.catalog_list(ResourceKind::Iso).into_iter().find(|e| e.name() == Some(name.as_str()));
            if let Some(entry) = existing {
                return json(ImageRegistered { id: entry.id(), added: false });
            }
            let entry = CatalogEntry::Iso(Iso {
                id: IsoId(0),
                name,
                description,
                kind: IsoType::Public,
                architecture: Some("x86".into()),
                deprecated: None,
            });
            json(ImageRegistered { id: cloud.catalog_put(entry).await?.id(), added: true })
        }
        AdminRequest::ImageRegister { name, description, os_flavor, os_version, disk_size } => {
            let existing =
                cloud.catalog_list(ResourceKind::Image).into_iter().find(|e| e.name() == Some(name.as_str()));
            if let Some(entry) = existing {
                return json(ImageRegistered { id: entry.id(), added: false });
            }
            #[allow(clippy::cast_precision_loss)] // a few hundred GB at most
            let entry = CatalogEntry::Image(Image {
                id: ImageId(0),
                project: None,
                kind: ImageType::System,
                status: ImageStatus::Available,
                name: Some(name),
                description,
                image_size: None,
                disk_size: disk_size as f64,
                created: chrono::Utc::now(),
                created_from: None,
                bound_to: None,
                os_flavor,
                os_version,
                architecture: "x86".into(),
                rapid_deploy: false,
                protection: Protection::default(),
                deprecated: None,
                labels: Labels::new(),
            });
            json(ImageRegistered { id: cloud.catalog_put(entry).await?.id(), added: true })
        }
        AdminRequest::ActionRetry { id } => json(action_row(&*cloud.action_retry(ActionId(id)).await?)),
        AdminRequest::ActionResolve { id } => json(action_row(&*cloud.action_resolve(ActionId(id)).await?)),
    }
}

/// How long a command keeps trying when the data directory is locked but no server
/// answers yet: a server that is starting up (loading the store) holds the lock before
/// its socket exists, and another admin command may hold it for a moment.
const BUSY_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error(transparent)]
    Socket(#[from] socket::SocketError),
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error("{0}; but its admin socket {1} does not answer. Is it still starting, or stuck?")]
    Unreachable(DataDirError, PathBuf),
    #[error("no Stratus data in {0} (no {1}); check --data-dir")]
    NoData(PathBuf, PathBuf),
    #[error("cannot read {path}: {source}")]
    ReadInput { path: PathBuf, source: std::io::Error },
    #[error("invalid catalogue entry: {0}")]
    Entry(serde_json::Error),
    #[error("cannot print the result: {0}")]
    Render(#[from] render::RenderError),
    /// The operation itself failed (the server's or the local cloud's message).
    #[error("{0}")]
    Failed(String),
}

/// Runs an admin command: builds its requests, has them executed (by the running server
/// or locally) and prints each result on stdout as soon as it is in, so that when a later
/// request of the same command fails (one bad entry in a `catalog put --file`), what was
/// already done has been shown.
pub async fn command(global: &GlobalArgs, command: AdminCommand) -> Result<(), AdminError> {
    let (requests, format) = requests(command)?;
    let file = FileConfig::from_args(global)?;
    let dir = settings::data_dir(global, &file);
    // Once a command has opened the data directory itself, its further requests go to
    // the same cloud; the lock inside is held until the command ends.
    let mut local: Option<(Cloud, DataDir)> = None;
    for request in requests {
        let response = match &local {
            Some((cloud, _)) => execute(cloud, request.clone()).await,
            None => match reach(&dir, &request, global, &file).await? {
                Reached::Server(response) => response,
                Reached::Local(cloud, data) => {
                    let response = execute(&cloud, request.clone()).await;
                    local = Some((cloud, data));
                    response
                }
            },
        };
        if !response.ok {
            return Err(AdminError::Failed(response.error.unwrap_or_else(|| "failed".into())));
        }
        print!("{}", render::render(&request, response.result, format)?);
    }
    Ok(())
}

/// Executes one request, on the running server or the data directory, and returns its
/// result (for commands that decide what to do next from an answer).
pub async fn send(global: &GlobalArgs, request: AdminRequest) -> Result<Value, AdminError> {
    let file = FileConfig::from_args(global)?;
    let dir = settings::data_dir(global, &file);
    let response = match reach(&dir, &request, global, &file).await? {
        Reached::Server(response) => response,
        Reached::Local(cloud, _data) => execute(&cloud, request).await,
    };
    if !response.ok {
        return Err(AdminError::Failed(response.error.unwrap_or_else(|| "failed".into())));
    }
    Ok(response.result)
}

enum Reached {
    Server(AdminResponse),
    /// No server runs: a cloud opened here, and the lock that makes that safe.
    Local(Cloud, DataDir),
}

/// Sends `request` to the server on `dir`, or, when none runs, opens the data directory
/// here and returns the cloud to execute it on.
async fn reach(
    dir: &Path,
    request: &AdminRequest,
    global: &GlobalArgs,
    file: &FileConfig,
) -> Result<Reached, AdminError> {
    let deadline = Instant::now() + BUSY_WAIT;
    loop {
        if let Some(response) = socket::request(dir, request).await? {
            return Ok(Reached::Server(response));
        }
        let db = datadir::db_path(dir);
        if request.is_read_only() && !db.exists() {
            return Err(AdminError::NoData(dir.to_owned(), db));
        }
        match DataDir::create_and_lock(dir) {
            Ok(data) => return Ok(Reached::Local(open_local(&data, global, file).await?, data)),
            Err(busy @ DataDirError::Busy { .. }) if Instant::now() >= deadline => {
                return Err(AdminError::Unreachable(busy, datadir::socket_path(dir)));
            }
            Err(DataDirError::Busy { .. }) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Opens the cloud without starting it: actions an admin request creates (backups from
/// `sim advance`) are stored as running and carried out by the next `serve`.
async fn open_local(data: &DataDir, global: &GlobalArgs, file: &FileConfig) -> Result<Cloud, AdminError> {
    // The driver is never called while the cloud is not started, so the simulator
    // stands in for whatever driver the server is configured with.
    let driver = Arc::new(SimDriver::default());
    // The config file's core settings, as `serve` would use them without flags; none of
    // them matters to admin operations today, but the cloud is then the server's.
    let config = ServeSettings::resolve(global, &ServeArgs::default(), file.clone()).core;
    Ok(data.open_cloud(driver, config).await?)
}

/// The requests a command stands for, and how to print their results.
fn requests(command: AdminCommand) -> Result<(Vec<AdminRequest>, Format), AdminError> {
    let one = |r: AdminRequest| Ok((vec![r], Format::Table));
    match command {
        AdminCommand::Token(TokenCommand::Create { project, name, read_only }) => {
            one(AdminRequest::TokenCreate { project, name, read_only })
        }
        AdminCommand::Token(TokenCommand::List { project, format }) => {
            Ok((vec![AdminRequest::TokenList { project }], format))
        }
        AdminCommand::Token(TokenCommand::Revoke { id }) => one(AdminRequest::TokenRevoke { id }),
        AdminCommand::User(UserCommand::Create { project, name, password_stdin: _, read_only }) => {
            let password = Password(read_password(std::io::stdin().lock())?);
            one(AdminRequest::UserCreate { project, name, password, read_only })
        }
        AdminCommand::User(UserCommand::List { project, format }) => {
            Ok((vec![AdminRequest::UserList { project }], format))
        }
        AdminCommand::Apikey(ApiKeyCommand::Create { project, read_only }) => {
            one(AdminRequest::ApiKeyCreate { project, read_only })
        }
        AdminCommand::Apikey(ApiKeyCommand::List { project, format }) => {
            Ok((vec![AdminRequest::ApiKeyList { project }], format))
        }
        AdminCommand::Apikey(ApiKeyCommand::Revoke { id }) => one(AdminRequest::ApiKeyRevoke { id }),
        AdminCommand::Project(ProjectCommand::Create { name }) => one(AdminRequest::ProjectCreate { name }),
        AdminCommand::Project(ProjectCommand::List { format }) => Ok((vec![AdminRequest::ProjectList], format)),
        AdminCommand::Catalog(CatalogCommand::List { kind, format }) => {
            Ok((vec![AdminRequest::CatalogList { kind }], format))
        }
        AdminCommand::Catalog(CatalogCommand::Put { json, file }) => {
            let (text, source) = match (json, file) {
                (Some(text), _) => (text, PathBuf::from("--json")),
                (None, Some(path)) => (read_input(&path)?, path),
                (None, None) => return Err(AdminError::Failed("catalog put needs --json or --file".into())),
            };
            let entries = parse_entries(&text).map_err(AdminError::Entry)?;
            if entries.is_empty() {
                return Err(AdminError::Failed(format!("no catalogue entry in {}", source.display())));
            }
            Ok((
                entries.into_iter().map(|entry| AdminRequest::CatalogPut { entry: Box::new(entry) }).collect(),
                Format::Json,
            ))
        }
        AdminCommand::Catalog(CatalogCommand::Remove { kind, id }) => one(AdminRequest::CatalogRemove { kind, id }),
        AdminCommand::Catalog(CatalogCommand::Prices) => Ok((vec![AdminRequest::PriceListGet], Format::Json)),
        AdminCommand::Catalog(CatalogCommand::SetPrices { json, file }) => {
            let text = match (json, file) {
                (Some(text), _) => text,
                (None, Some(path)) => read_input(&path)?,
                (None, None) => return Err(AdminError::Failed("catalog set-prices needs --json or --file".into())),
            };
            let list = serde_json::from_str(&text).map_err(AdminError::Entry)?;
            one(AdminRequest::PriceListSet { list: Box::new(list) })
        }
        AdminCommand::Fault(FaultCommand::Action { command, kind, count, step, code, message }) => {
            let kinds = match (command, kind) {
                (_, Some(kind)) => vec![kind],
                (Some(command), None) => {
                    let kinds = stratus_api_hetzner::commands::kinds_of(&command);
                    if kinds.is_empty() {
                        let known = stratus_api_hetzner::commands::all_commands().join(", ");
                        return Err(AdminError::Failed(format!("unknown action command {command}; known: {known}")));
                    }
                    kinds.into_iter().map(str::to_string).collect()
                }
                (None, None) => return Err(AdminError::Failed("fault action needs --command or --kind".into())),
            };
            one(AdminRequest::FaultAction {
                kinds,
                count,
                step,
                code,
                message: message.unwrap_or_else(|| "injected failure".into()),
            })
        }
        AdminCommand::Fault(FaultCommand::Api { code, count }) => one(AdminRequest::FaultApi { code, count }),
        AdminCommand::Fault(FaultCommand::List { format }) => Ok((vec![AdminRequest::FaultList], format)),
        AdminCommand::Fault(FaultCommand::Clear) => one(AdminRequest::FaultClear),
        AdminCommand::Sim(SimCommand::Advance { hours }) => one(AdminRequest::SimAdvance { hours }),
        AdminCommand::Action(ActionCommand::List { stuck, format }) => {
            Ok((vec![AdminRequest::ActionList { stuck }], format))
        }
        AdminCommand::Action(ActionCommand::Kinds { format }) => Ok((vec![AdminRequest::ActionKinds], format)),
        AdminCommand::Action(ActionCommand::Retry { id }) => one(AdminRequest::ActionRetry { id }),
        AdminCommand::Action(ActionCommand::Resolve { id }) => one(AdminRequest::ActionResolve { id }),
    }
}

/// An action as `action list` shows it.
fn action_row(a: &Action) -> ActionRow {
    let step = a.run.as_deref().and_then(|run| match &run.unwinding {
        Some(u) => u.undo.get(u.done).map(|s| format!("undo {s}")),
        None => run.plan.get(run.done).cloned(),
    });
    ActionRow {
        id: a.id.0,
        project: a.project.0,
        kind: a.kind.clone(),
        status: a.status.as_str().to_string(),
        progress: a.progress,
        started: a.started,
        step,
        resources: a.resources.iter().map(ToString::to_string).collect(),
        error: a.error.as_ref().map(|e| format!("{}: {}", e.code, e.message)),
    }
}

/// A password from `input`: its first line, without the line's end (as `docker login
/// --password-stdin` reads it, so `echo "$PW" | stratus user create ...` works).
fn read_password(input: impl std::io::BufRead) -> Result<String, AdminError> {
    let line =
        input.lines().next().transpose().map_err(|e| AdminError::Failed(format!("cannot read the password: {e}")))?;
    line.filter(|l| !l.is_empty()).ok_or_else(|| AdminError::Failed("no password on standard input".into()))
}

fn read_input(path: &Path) -> Result<String, AdminError> {
    let read =
        if path == Path::new("-") { std::io::read_to_string(std::io::stdin()) } else { std::fs::read_to_string(path) };
    read.map_err(|source| AdminError::ReadInput { path: path.to_owned(), source })
}

/// One or more JSON values one after another (a single object, or JSON lines).
fn parse_entries(text: &str) -> Result<Vec<CatalogEntry>, serde_json::Error> {
    serde_json::Deserializer::from_str(text).into_iter::<CatalogEntry>().collect()
}
