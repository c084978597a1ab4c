//! Log output: human-readable lines on stderr, so stdout carries only what commands print
//! for scripts (the token, the addresses, results).

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. The filter is `--log-level` / `STRATUS_LOG_LEVEL` if
/// given, else `RUST_LOG`, else `info` for the server and `warn` for admin commands, whose
/// stderr should stay quiet unless something is wrong.
pub fn init(level: Option<&str>, serving: bool) -> Result<(), String> {
    let filter = match level {
        Some(directives) => {
            EnvFilter::try_new(directives).map_err(|e| format!("invalid --log-level {directives:?}: {e}"))?
        }
        None => {
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(if serving { "info" } else { "warn" }))
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    Ok(())
}
