//! `stratus doctor`: whether this host can run real servers (`serve --driver libvirt`)
//! and how, one line per check, so a new user learns what to fix before a create fails.
//! Exits non-zero when a check fails; warnings (TCG, no image yet) do not.

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::settings::{self, FileConfig, DEFAULT_LIBVIRT_URI, DEFAULT_NOVNC_DIR};

#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error("{0} of the checks failed")]
    Failed(usize),
}

pub async fn run(global: &GlobalArgs, args: &DoctorArgs) -> Result<(), DoctorError> {
    let file = FileConfig::from_args(global)?;
    let data_dir = settings::data_dir(global, &file);
    let uri = args.libvirt_uri.clone().or(file.libvirt_uri.clone()).unwrap_or_else(|| DEFAULT_LIBVIRT_URI.to_owned());
    let novnc = args.novnc_dir.clone().or(file.novnc_dir.clone()).unwrap_or_else(|| DEFAULT_NOVNC_DIR.into());
    let mut lines: Vec<(&str, &str, String)> = vec![];
    libvirt(&mut lines, &data_dir, &uri).await;
    if novnc.join("vnc_lite.html").is_file() {
        lines.push(("ok", "console", format!("noVNC in {} (served at /novnc/)", novnc.display())));
    } else {
        lines.push((
            "warn",
            "console",
            format!("no noVNC in {}: browser consoles need Debian's novnc (or --novnc-dir)", novnc.display()),
        ));
    }
    let width = lines.iter().map(|(_, check, _)| check.len()).max().unwrap_or(0);
    for (health, check, detail) in &lines {
        println!("{health:<5} {check:<width$}  {detail}");
    }
    match lines.iter().filter(|(health, _, _)| *health == "FAIL").count() {
        0 => Ok(()),
        n => Err(DoctorError::Failed(n)),
    }
}

#[cfg(feature = "libvirt")]
async fn libvirt(lines: &mut Vec<(&str, &str, String)>, data_dir: &std::path::Path, uri: &str) {
    use stratus_compute::libvirt::doctor::{examine, Health};
    use stratus_compute::libvirt::LibvirtConfig;
    let config = LibvirtConfig { uri: uri.to_owned(), data_dir: data_dir.to_owned() };
    for f in examine(&config).await {
        let health = match f.health {
            Health::Ok => "ok",
            Health::Warn => "warn",
            Health::Fail => "FAIL",
        };
        lines.push((health, f.check, f.detail));
    }
}

#[cfg(not(feature = "libvirt"))]
async fn libvirt(lines: &mut Vec<(&str, &str, String)>, _data_dir: &std::path::Path, uri: &str) {
    lines.push((
        "FAIL",
        "libvirt",
        format!("this stratus was built without the libvirt driver, so it cannot use {uri}: `cargo build --release --features libvirt`"),
    ));
}
