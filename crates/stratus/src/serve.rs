//! `stratus serve`: opens the data directory, starts the cloud and serves the APIs and
//! the admin socket until SIGINT or SIGTERM.
//!
//! Start-up order matters for the one-time token: everything that can fail for reasons
//! outside the store (the listen address taken, the admin socket path) is set up before
//! the default project and its token are created, so a failed first start does not use
//! up the only time the token is shown.

use crate::admin::socket::AdminSocket;
use crate::console;
use crate::datadir::{DataDir, DataDirError};
use crate::settings::{DriverKind, ServeSettings};
use axum::routing::get;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use stratus_compute::sim::SimDriver;
use stratus_compute::Driver;
use stratus_core::model::Access;
use stratus_core::Cloud;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::trace::TraceLayer;

/// How long open connections get to finish after a stop signal. Long polls and idle
/// keep-alive connections would otherwise hold the process up indefinitely; everything
/// acknowledged is already durable, and running actions resume at the next start.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The project (and token name) created on first start.
const DEFAULT_PROJECT: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[cfg(not(feature = "libvirt"))]
    #[error(
        "this build of Stratus has no libvirt driver (for {0}): build it with `--features libvirt` (needs libvirt-dev)"
    )]
    NoLibvirt(String),
    #[cfg(feature = "libvirt")]
    #[error("cannot start the libvirt driver: {0}")]
    Libvirt(stratus_compute::DriverError),
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Socket(#[from] crate::admin::socket::SocketError),
    #[error("cannot start: {0}")]
    Cloud(#[from] stratus_core::Error),
    #[error("cannot install the signal handler: {0}")]
    Signal(std::io::Error),
    #[error("the HTTP server failed: {0}")]
    Http(std::io::Error),
}

pub async fn run(settings: ServeSettings) -> Result<(), ServeError> {
    // Connected before touching the data directory: a misconfigured start changes nothing.
    let driver: Arc<dyn Driver> = match settings.driver {
        DriverKind::Sim => Arc::new(SimDriver::new(settings.sim_timing)),
        DriverKind::Libvirt => libvirt(&settings).await?,
    };
    let data = DataDir::create_and_lock(&settings.data_dir)?;
    let cloud = data.open_cloud(driver.clone(), settings.core.clone()).await?;

    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|source| ServeError::Listen { addr: settings.listen, source })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen { addr: settings.listen, source })?;
    let admin = AdminSocket::bind(&data)?;
    let stop = Stop::on_signals()?;

    bootstrap(&cloud).await?;
    cloud.start().await?;

    let app = router(cloud.clone(), driver, settings.novnc_dir.clone());
    println!("hetzner: http://{addr}{}", stratus_api_hetzner::PREFIX);
    println!("listening on {addr}");
    tracing::info!(%addr, data_dir = %settings.data_dir.display(), driver = ?settings.driver,
        sim_timing = %settings.sim_timing, ipv4_pool = %settings.core.ipv4_pool, "serving");

    let admin = tokio::spawn(admin.serve(cloud, stop.requested()));
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(stop.requested());
    let outcome = tokio::select! {
        served = server => served.map_err(ServeError::Http),
        () = async { stop.requested().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::warn!("connections still open {SHUTDOWN_GRACE:?} after the stop signal; closing them");
            Ok(())
        }
    };
    // The admin task removes its socket file once it sees the stop; wait for that so the
    // next admin command does not find a socket nobody answers.
    let _ = admin.await;
    tracing::info!("stopped");
    // Only now, with nothing left that could write, is the data directory released.
    drop(data);
    outcome
}

#[cfg(feature = "libvirt")]
async fn libvirt(settings: &ServeSettings) -> Result<Arc<dyn Driver>, ServeError> {
    use stratus_compute::libvirt::{LibvirtConfig, LibvirtDriver};
    let config = LibvirtConfig { uri: settings.libvirt_uri.clone(), data_dir: settings.data_dir.clone() };
    Ok(Arc::new(LibvirtDriver::connect(config).await.map_err(ServeError::Libvirt)?))
}

#[cfg(not(feature = "libvirt"))]
async fn libvirt(settings: &ServeSettings) -> Result<Arc<dyn Driver>, ServeError> {
    Err(ServeError::NoLibvirt(settings.libvirt_uri.clone()))
}

/// Every route this process answers.
fn router(cloud: Cloud, driver: Arc<dyn Driver>, novnc_dir: PathBuf) -> Router {
    let router = Router::new()
        // Unauthenticated and free of the store, so load balancers and scripts can poll
        // it; it answers only once the listener serves, which is all it promises.
        .route("/healthz", get(|| async { "ok" }))
        .nest(stratus_api_hetzner::PREFIX, stratus_api_hetzner::router(cloud));
    let lookup: console::Lookup = Arc::new(move |token: &str| driver.console_session(token));
    router.merge(console::routes(lookup, novnc_dir)).layer(TraceLayer::new_for_http())
}

/// On a store without projects (the first start), creates the default project with a
/// token and prints the token: the one time it is shown, since only its hash is kept.
async fn bootstrap(cloud: &Cloud) -> Result<(), ServeError> {
    if !cloud.project_list().is_empty() {
        return Ok(());
    }
    let issued = cloud.token_create(DEFAULT_PROJECT, DEFAULT_PROJECT, Access::ReadWrite).await?;
    println!("token: {}", issued.secret);
    tracing::info!(
        project = DEFAULT_PROJECT,
        token_id = issued.token.id.0,
        "created the default project and its token"
    );
    Ok(())
}

/// The stop request, raised by SIGINT or SIGTERM and observed by every part of the
/// server (HTTP, admin socket, grace timer).
#[derive(Debug, Clone)]
struct Stop {
    rx: watch::Receiver<bool>,
}

impl Stop {
    /// Installs the handlers now, so a signal that arrives during start-up is not lost.
    fn on_signals() -> Result<Stop, ServeError> {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt()).map_err(ServeError::Signal)?;
        let mut terminate = signal(SignalKind::terminate()).map_err(ServeError::Signal)?;
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            tracing::info!(signal = name, "stopping");
            let _ = tx.send(true);
        });
        Ok(Stop { rx })
    }

    /// Resolves once a stop was requested.
    fn requested(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.rx.clone();
        async move {
            // An error means the sender is gone, which only happens once it has sent.
            let _ = rx.wait_for(|stopped| *stopped).await;
        }
    }
}
