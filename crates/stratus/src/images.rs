//! `stratus image`: the image store of the data directory (`DATA/images`), which the
//! libvirt driver makes servers' disks from. Building and importing write files only;
//! the catalogue entry an image backs is then added through the admin path (the running
//! server, or the data directory), so `--image NAME` works at once.

use crate::admin::protocol::{AdminRequest, ImageRegistered};
use crate::admin::{self, AdminError};
use crate::cli::{Format, GlobalArgs, ImageCommand};
use crate::settings::{self, FileConfig};
use indicatif::{ProgressBar, ProgressStyle};
use stratus_compute::images::{build, ImageError, ImageStore, IsoStore, StoredImage};

#[derive(Debug, thiserror::Error)]
pub enum ImagesError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error("the build task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("unexpected answer from the catalogue: {0}")]
    Answer(#[from] serde_json::Error),
}

pub async fn command(global: &GlobalArgs, command: ImageCommand) -> Result<(), ImagesError> {
    let file_config = FileConfig::from_args(global)?;
    let store = ImageStore::new(&settings::data_dir(global, &file_config));
    match command {
        ImageCommand::Build { recipe } => {
            let image = tokio::task::spawn_blocking(move || {
                let bar = Bar::new();
                let built = build::build(&store, &recipe, &bar);
                bar.0.finish_and_clear();
                built
            })
            .await??;
            println!("built image {} in {}", image.manifest.name, image.dir.display());
            register(global, &image).await?;
        }
        ImageCommand::Import { file, name, description } => {
            let description = description.unwrap_or_else(|| format!("Imported from {}", file.display()));
            let image = tokio::task::spawn_blocking(move || store.import(&file, &name, &description)).await??;
            println!("imported image {} into {}", image.manifest.name, image.dir.display());
            register(global, &image).await?;
        }
        ImageCommand::ImportIso { file, name, description } => {
            let name = match name {
                Some(name) => name,
                None => file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            };
            let description = description.unwrap_or_else(|| format!("Imported from {}", file.display()));
            let isos = IsoStore::new(&settings::data_dir(global, &file_config));
            let path = tokio::task::spawn_blocking({
                let name = name.clone();
                move || isos.import(&file, &name)
            })
            .await??;
            println!("imported ISO {name} into {}", path.display());
            let request = AdminRequest::IsoRegister { name: name.clone(), description };
            let registered: ImageRegistered = serde_json::from_value(admin::send(global, request).await?)?;
            if registered.added {
                println!("added catalogue ISO {name} (id {})", registered.id);
            } else {
                println!("catalogue ISO {name} (id {}) is now backed by this file", registered.id);
            }
        }
        ImageCommand::List { format } => {
            let images = tokio::task::spawn_blocking(move || store.list()).await??;
            for image in images {
                let m = &image.manifest;
                match format {
                    Format::Json => println!(
                        "{}",
                        serde_json::json!({"name": m.name, "description": m.description, "path": image.dir,
                            "boot": m.boot, "ready": m.ready, "created": m.created})
                    ),
                    Format::Table => println!("{:<20} {:<30} {}", m.name, m.created.to_rfc3339(), image.dir.display()),
                }
            }
        }
    }
    Ok(())
}

/// Makes sure a catalogue image of this name exists: an image store entry with no
/// catalogue entry could not be chosen through any API.
async fn register(global: &GlobalArgs, image: &StoredImage) -> Result<(), ImagesError> {
    let bytes = tokio::task::spawn_blocking({
        let image = image.clone();
        move || image.virtual_size()
    })
    .await??;
    let m = &image.manifest;
    let request = AdminRequest::ImageRegister {
        name: m.name.clone(),
        description: m.description.clone(),
        os_flavor: m.os_flavor.clone(),
        os_version: m.os_version.clone(),
        disk_size: bytes.div_ceil(1_000_000_000).max(1),
    };
    let registered: ImageRegistered = serde_json::from_value(admin::send(global, request).await?)?;
    if registered.added {
        println!("added catalogue image {} (id {})", m.name, registered.id);
    } else {
        println!("catalogue image {} (id {}) is now backed by this build", m.name, registered.id);
    }
    Ok(())
}

/// The build's progress on stderr, one bar per stage.
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Bar {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg:32} [{bar:30}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Bar(bar)
    }
}

impl build::BuildProgress for Bar {
    fn stage(&self, message: &str, total: u64) {
        self.0.set_message(message.to_owned());
        self.0.set_length(total);
        self.0.set_position(0);
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}
