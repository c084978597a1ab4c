//! Waiting for a guest to have booted: the image's ready marker on the serial port, or
//! an SSH banner on its forwarded port, or (images that give neither) the VM running.

use crate::driver::{DriverError, DriverResult};
use crate::images::{Ready, READY_MARKER};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How often the serial log and the SSH port are looked at.
const POLL: Duration = Duration::from_millis(100);

/// How many times the guest has announced it is ready since its VM process started
/// (the serial log is truncated at each start; a reboot inside one process adds one).
pub fn markers(serial_log: &Path) -> usize {
    std::fs::read(serial_log).map_or(0, |bytes| {
        let text = String::from_utf8_lossy(&bytes);
        text.matches(READY_MARKER).count()
    })
}

/// Whether the guest's kernel gave up: it then hangs (or restarts) without ever
/// becoming ready, so waiting on would only end in the timeout.
fn panicked(serial_log: &Path) -> bool {
    std::fs::read(serial_log).is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains("Kernel panic - not syncing"))
}

/// How many times the guest's kernel reported a CPU stalled (RCU's watchdog). Under TCG
/// with more vCPUs than host cores, a vCPU that halts is now and then never woken again
/// (QEMU's multi-threaded TCG loses the wakeup); the boot then hangs for good while the
/// other vCPUs keep reporting the stall.
fn stalls(serial_log: &Path) -> usize {
    std::fs::read(serial_log).map_or(0, |bytes| String::from_utf8_lossy(&bytes).matches("detected stall").count())
}

/// How long an accepted connection may wait for the banner. OpenSSH starts a new
/// process per connection, which takes seconds under TCG; giving up sooner and trying
/// again would only pile up half-started processes on the guest's vCPUs.
const BANNER_WAIT: Duration = Duration::from_secs(30);

/// What the probe says first. SSH lets the client send its identification before the
/// server's (RFC 4253, 4.2), and it must here: bookworm's passt does not acknowledge the
/// guest's SYN-ACK until the host side sends data, so a client that only listens never
/// sees the banner (OpenSSH's client speaks at once, which is why `ssh` works).
const PROBE_IDENT: &[u8] = b"SSH-2.0-Stratus_boot_probe\r\n";

/// Whether an SSH server answers with its banner at `addr`. Before the guest listens,
/// the forwarder closes each connection at once, so a closed one is retried soon.
async fn ssh_banner(addr: (&str, u16)) -> bool {
    let Ok(Ok(mut stream)) = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await
    else {
        return false;
    };
    if stream.write_all(PROBE_IDENT).await.is_err() {
        return false;
    }
    let mut banner = [0u8; 4];
    matches!(tokio::time::timeout(BANNER_WAIT, stream.read_exact(&mut banner)).await, Ok(Ok(_)) if &banner == b"SSH-")
}

/// Waits until the guest is ready (`markers` above `seen`, for the serial marker), or
/// fails once `timeout` passed or `alive` says the VM stopped.
pub async fn wait_ready(
    ready: Ready,
    serial_log: &Path,
    seen: usize,
    ip: Option<&str>,
    timeout: Duration,
    alive: impl Fn() -> bool,
) -> DriverResult<()> {
    let deadline = tokio::time::Instant::now() + timeout;
    let stalls_before = stalls(serial_log);
    loop {
        let done = match ready {
            Ready::Running => true,
            Ready::SerialMarker => markers(serial_log) > seen,
            Ready::SshBanner => match ip {
                Some(ip) => ssh_banner((ip, 22)).await,
                None => markers(serial_log) > seen,
            },
        };
        if done {
            return Ok(());
        }
        if panicked(serial_log) {
            return Err(DriverError::new(
                "boot_failed",
                format!("the guest's kernel panicked while booting; its console output is in {}", serial_log.display()),
            ));
        }
        if stalls(serial_log) > stalls_before {
            return Err(DriverError::new(
                "boot_stalled",
                format!("a vCPU of the guest stalled while booting; its console output is in {}", serial_log.display()),
            ));
        }
        if !alive() {
            return Err(DriverError::new(
                "boot_failed",
                format!("the guest stopped while booting; its console output is in {}", serial_log.display()),
            ));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DriverError::new(
                "boot_timeout",
                format!(
                    "the guest did not boot within {}s; its console output is in {}",
                    timeout.as_secs(),
                    serial_log.display()
                ),
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_marker_count_decides() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("serial.log");
        assert_eq!(markers(&log), 0);
        std::fs::write(&log, format!("boot\n{READY_MARKER}\n")).unwrap();
        assert_eq!(markers(&log), 1);
        wait_ready(Ready::SerialMarker, &log, 0, None, Duration::from_secs(1), || true).await.unwrap();
        let err =
            wait_ready(Ready::SerialMarker, &log, 1, None, Duration::from_millis(300), || true).await.unwrap_err();
        assert_eq!(err.code, "boot_timeout");
        let err = wait_ready(Ready::SerialMarker, &log, 1, None, Duration::from_secs(5), || false).await.unwrap_err();
        assert_eq!(err.code, "boot_failed");
        std::fs::write(&log, "[ 1.9] Kernel panic - not syncing: No working init found.\n").unwrap();
        let err = wait_ready(Ready::SerialMarker, &log, 0, None, Duration::from_secs(5), || true).await.unwrap_err();
        assert!(err.message.contains("panicked"), "{err}");
    }

    #[tokio::test]
    async fn a_new_cpu_stall_ends_the_wait_and_an_old_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("serial.log");
        let stall = "[ 24.6] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:\n";
        std::fs::write(&log, stall).unwrap();
        let err =
            wait_ready(Ready::SerialMarker, &log, 0, None, Duration::from_millis(300), || true).await.unwrap_err();
        assert_eq!(err.code, "boot_timeout", "a stall from before the wait is not this boot's");
        let writer = {
            let log = log.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                std::fs::write(&log, format!("{stall}{stall}")).unwrap();
            })
        };
        let err = wait_ready(Ready::SerialMarker, &log, 0, None, Duration::from_secs(5), || true).await.unwrap_err();
        assert_eq!(err.code, "boot_stalled");
        writer.await.unwrap();
    }

    /// A server that, like an SSH server behind bookworm's passt, sends nothing until the
    /// client has: the probe must speak first to see the banner.
    #[tokio::test]
    async fn the_probe_speaks_first() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut ident = vec![0u8; PROBE_IDENT.len()];
            conn.read_exact(&mut ident).await.unwrap();
            conn.write_all(b"SSH-2.0-OpenSSH_9.2p1\r\n").await.unwrap();
            ident
        });
        assert!(ssh_banner(("127.0.0.1", port)).await);
        assert!(server.await.unwrap().starts_with(b"SSH-2.0-"));
    }

    #[tokio::test]
    async fn a_closed_port_is_no_banner() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        assert!(!ssh_banner(("127.0.0.1", port)).await);
    }
}
