//! Waiting for a guest to have booted: the image's ready marker on the serial port, or
//! an SSH banner on its forwarded port, or (images that give neither) the VM running.

use crate::driver::{DriverError, DriverResult};
use crate::images::{Ready, READY_MARKER};
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncReadExt;

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

/// Whether an SSH server answers with its banner at `ip:22`.
async fn ssh_banner(ip: &str) -> bool {
    let Ok(Ok(mut stream)) =
        tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect((ip, 22))).await
    else {
        return false;
    };
    let mut banner = [0u8; 4];
    matches!(tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut banner)).await, Ok(Ok(_)) if &banner == b"SSH-")
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
                Some(ip) => ssh_banner(ip).await,
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
}
