//! The admin socket: how admin commands reach a running `serve`, so that what they do
//! takes effect at once in the live cloud (a token revoked is refused on its next
//! request) instead of in a database the server would not re-read.
//!
//! A Unix socket rather than an HTTP endpoint: it needs no credential of its own, because
//! the file's permissions (0600, in the server's data directory) already say who is the
//! operator, and it is never reachable from the network whatever `--listen` says.

use super::protocol::{AdminRequest, AdminResponse, MAX_LINE};
use crate::datadir::{socket_path, DataDir};
use std::future::Future;
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use stratus_core::Cloud;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// `sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// How long a command waits for the server's answer. Admin operations are quick (the
/// slowest, `sim advance`, is one write); a server that stays silent this long is stuck.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error(
        "the admin socket path {path} is {len} bytes, more than a Unix socket allows ({MAX_SOCKET_PATH}); \
         use a shorter --data-dir"
    )]
    PathTooLong { path: PathBuf, len: usize },
    #[error("cannot create the admin socket {path}: {source}")]
    Bind { path: PathBuf, source: std::io::Error },
    #[error("cannot reach the admin socket {path}: {source}")]
    Connect { path: PathBuf, source: std::io::Error },
    #[error("the server did not answer on {path}: {source}")]
    Exchange { path: PathBuf, source: std::io::Error },
    #[error("the server did not answer on {path} within {ANSWER_TIMEOUT:?}")]
    Timeout { path: PathBuf },
    #[error("the server's answer on {path} is not a valid admin response: {source}")]
    Garbled { path: PathBuf, source: serde_json::Error },
}

/// A bound admin socket, not yet serving.
#[derive(Debug)]
pub struct AdminSocket {
    listener: UnixListener,
    path: PathBuf,
}

fn checked_path(dir: &Path) -> Result<PathBuf, SocketError> {
    let path = socket_path(dir);
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH {
        return Err(SocketError::PathTooLong { path, len });
    }
    Ok(path)
}

impl AdminSocket {
    /// Binds `DATA_DIR/admin.sock`, replacing a stale one. Taking the [`DataDir`] proves
    /// the caller holds the lock, which is what makes any existing socket file stale.
    ///
    /// The socket is bound inside a fresh 0700 directory, made 0600, and only then
    /// renamed into place: binding in place would leave it connectable with the umask's
    /// permissions for a moment, and a connection grants full control.
    pub fn bind(data: &DataDir) -> Result<AdminSocket, SocketError> {
        let path = checked_path(data.path())?;
        let bind_err = |source| SocketError::Bind { path: path.clone(), source };
        let staging = data.path().join(format!(".a{}", std::process::id()));
        // Left over from an earlier process that had our pid and died mid-bind.
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::DirBuilder::new().mode(0o700).create(&staging).map_err(bind_err)?;
        let staged = staging.join("s");
        let bound = (|| {
            let listener = UnixListener::bind(&staged)?;
            std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))?;
            std::fs::rename(&staged, &path)?;
            Ok(listener)
        })();
        let _ = std::fs::remove_dir_all(&staging);
        Ok(AdminSocket { listener: bound.map_err(bind_err)?, path })
    }

    /// Answers requests until `shutdown` resolves, then removes the socket file so the
    /// next admin command falls back to opening the store itself.
    pub async fn serve(self, cloud: Cloud, shutdown: impl Future<Output = ()>) {
        tracing::info!(path = %self.path.display(), "admin socket listening");
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    // One task per connection, as any server does; admin work itself
                    // goes through `Cloud`, whose durable effects do not depend on it.
                    Ok((stream, _)) => {
                        tokio::spawn(connection(cloud.clone(), stream));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "admin socket accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Answers one connection: one response line per request line, until the client closes.
async fn connection(cloud: Cloud, stream: UnixStream) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let line = match read_line(&mut read).await {
            Ok(Some(line)) => line,
            Ok(None) => return,
            Err(e) => {
                let _ = send(&mut write, &AdminResponse::failure(e)).await;
                return;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let response = match serde_json::from_str::<AdminRequest>(&line) {
            Ok(request) => {
                tracing::info!(?request, "admin request");
                super::execute(&cloud, request).await
            }
            Err(e) => AdminResponse::failure(format!("invalid admin request: {e}")),
        };
        if send(&mut write, &response).await.is_err() {
            return;
        }
    }
}

/// The next line, without its newline; `None` at end of stream.
async fn read_line<R: AsyncRead + Unpin>(read: &mut BufReader<R>) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    let n = (&mut *read).take(MAX_LINE + 1).read_line(&mut line).await?;
    if n == 0 {
        return Ok(None);
    }
    if !line.ends_with('\n') && u64::try_from(n).is_ok_and(|n| n > MAX_LINE) {
        return Err(std::io::Error::new(ErrorKind::InvalidData, format!("request longer than {MAX_LINE} bytes")));
    }
    Ok(Some(line))
}

async fn send<W: AsyncWrite + Unpin>(write: &mut W, response: &AdminResponse) -> std::io::Result<()> {
    let mut text = serde_json::to_string(response).map_err(std::io::Error::other)?;
    text.push('\n');
    write.write_all(text.as_bytes()).await?;
    write.flush().await
}

/// Sends one request to the server running on `dir`. `Ok(None)` means no server runs
/// there (no socket file, or nobody accepting on it), so the caller may open the store
/// itself.
pub async fn request(dir: &Path, request: &AdminRequest) -> Result<Option<AdminResponse>, SocketError> {
    let path = checked_path(dir)?;
    let stream = match UnixStream::connect(&path).await {
        Ok(stream) => stream,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => return Ok(None),
        Err(source) => return Err(SocketError::Connect { path, source }),
    };
    let exchange = async {
        let (read, mut write) = stream.into_split();
        let mut line = serde_json::to_string(request).map_err(std::io::Error::other)?;
        line.push('\n');
        write.write_all(line.as_bytes()).await?;
        write.flush().await?;
        let mut answer = String::new();
        BufReader::new(read).read_line(&mut answer).await?;
        if answer.is_empty() {
            return Err(std::io::Error::new(ErrorKind::UnexpectedEof, "connection closed without an answer"));
        }
        Ok(answer)
    };
    let answer = tokio::time::timeout(ANSWER_TIMEOUT, exchange)
        .await
        .map_err(|_| SocketError::Timeout { path: path.clone() })?
        .map_err(|source| SocketError::Exchange { path: path.clone(), source })?;
    serde_json::from_str(&answer).map(Some).map_err(|source| SocketError::Garbled { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_socket_means_no_server() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(request(tmp.path(), &AdminRequest::ProjectList).await.unwrap(), None);
        // A stale socket file nobody accepts on: also no server.
        drop(std::os::unix::net::UnixListener::bind(socket_path(tmp.path())).unwrap());
        assert_eq!(request(tmp.path(), &AdminRequest::ProjectList).await.unwrap(), None);
    }

    #[tokio::test]
    async fn long_paths_are_refused_clearly() {
        let dir = PathBuf::from("/").join("d".repeat(120));
        let err = request(&dir, &AdminRequest::ProjectList).await.unwrap_err();
        assert!(matches!(err, SocketError::PathTooLong { .. }), "{err}");
    }

    #[tokio::test]
    async fn overlong_lines_are_rejected() {
        let long = "x".repeat(usize::try_from(MAX_LINE).unwrap() + 10);
        let mut reader = BufReader::new(long.as_bytes());
        assert!(read_line(&mut reader).await.is_err());
        let mut reader = BufReader::new(&b"{\"op\":\"project_list\"}\nrest"[..]);
        assert_eq!(read_line(&mut reader).await.unwrap().as_deref(), Some("{\"op\":\"project_list\"}\n"));
        assert_eq!(read_line(&mut reader).await.unwrap().as_deref(), Some("rest"));
        assert_eq!(read_line(&mut reader).await.unwrap(), None);
    }
}
