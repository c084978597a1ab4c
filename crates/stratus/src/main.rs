//! `stratus`: serve the control plane, or administer its data directory.

/// Admin commands, their protocol and the admin socket.
mod admin;
/// The command line (clap).
mod cli;
/// The `/console/{token}` websocket.
mod console;
/// The data directory's layout and lock.
mod datadir;
/// `stratus doctor`: can this host run servers.
mod doctor;
/// `stratus image`: the image store.
mod images;
/// Log output.
mod logging;
/// `stratus serve`.
mod serve;
/// Merging flags, environment, config file and defaults.
mod settings;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;
use std::time::Duration;

/// See the workspace's Cargo.toml for why not the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version are "errors" that print to stdout and exit 0.
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    if let Err(e) = logging::init(cli.global.log_level.as_deref(), matches!(cli.command, Command::Serve(_))) {
        eprintln!("stratus: {e}");
        return ExitCode::from(2);
    }
    // Built by hand rather than with #[tokio::main], so the shutdown below is bounded: tasks
    // still running at exit (action runners, the backup schedule) have nothing to flush.
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("stratus: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run(cli));
    runtime.shutdown_timeout(Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Every error here already names its cause in its message; `{e:#}` would
            // repeat each source.
            eprintln!("stratus: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let file = settings::FileConfig::from_args(&cli.global)?;
            serve::run(settings::ServeSettings::load(&cli.global, &args, file)?).await?;
        }
        Command::Image(command) => images::command(&cli.global, command).await?,
        Command::Doctor(args) => doctor::run(&cli.global, &args).await?,
        Command::Admin(command) => admin::command(&cli.global, command).await?,
    }
    Ok(())
}
