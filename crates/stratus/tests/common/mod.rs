//! Fixtures for the binary's integration tests: run the real `stratus` executable, start
//! `serve` on a free port and read what it prints.
#![allow(dead_code)] // Each test file uses its own subset.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_stratus");

/// How long a server may take to print its address: generous, CI machines are small.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Variables `stratus` reads. Cleared for every child, so a developer's environment
/// cannot change what a test checks; tests set the ones they mean to test.
const SCRUB: &[&str] = &[
    "STRATUS_LISTEN",
    "STRATUS_DATA_DIR",
    "STRATUS_DRIVER",
    "STRATUS_SIM_TIMING",
    "STRATUS_RATE_LIMIT",
    "STRATUS_RESOURCE_LIMIT",
    "STRATUS_IPV4_POOL",
    "STRATUS_IPV6_POOL",
    "STRATUS_CONFIG",
    "STRATUS_LOG_LEVEL",
    "RUST_LOG",
];

/// A `stratus` command with a clean environment.
pub fn stratus() -> Command {
    let mut cmd = Command::new(BIN);
    for var in SCRUB {
        cmd.env_remove(var);
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs an admin command on `data_dir` and returns its output.
pub fn admin(data_dir: &Path, args: &[&str]) -> Output {
    stratus().args(args).arg("--data-dir").arg(data_dir).output().expect("run stratus")
}

/// Runs an admin command with `input` on its standard input.
pub fn admin_stdin(data_dir: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = stratus()
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run stratus");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("run stratus")
}

/// Runs an admin command that must succeed; returns its stdout.
pub fn admin_ok(data_dir: &Path, args: &[&str]) -> String {
    let out = admin(data_dir, args);
    assert!(
        out.status.success(),
        "stratus {args:?} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// A running `stratus serve`, stopped (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The `hetzner:` line.
    pub hetzner: String,
    /// The `token:` line, if this start printed one.
    pub token: Option<String>,
    /// Everything printed on stdout before the `listening on` line.
    pub banner: Vec<String>,
    stderr: Arc<Mutex<String>>,
}

/// `stratus serve --listen 127.0.0.1:0 --sim-timing instant` on `data_dir` (passed as a
/// flag unless `None`, for tests that configure it otherwise), plus `args`.
pub fn serve_cmd(data_dir: Option<&Path>, args: &[&str]) -> Command {
    let mut cmd = stratus();
    cmd.arg("serve");
    if let Some(dir) = data_dir {
        cmd.arg("--data-dir").arg(dir);
    }
    cmd.args(args);
    cmd
}

impl Server {
    /// Starts `stratus serve --listen 127.0.0.1:0 --sim-timing instant` on `data_dir`.
    pub fn start(data_dir: &Path) -> Server {
        Server::spawn(serve_cmd(Some(data_dir), &["--listen", "127.0.0.1:0", "--sim-timing", "instant"]))
    }

    /// Starts a prepared `serve` command and waits until it prints where it listens.
    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn stratus serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().expect("stderr");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = Vec::new();
        let listening = loop {
            match rx.recv_timeout(START_TIMEOUT) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("listening on ") {
                        break addr.trim().to_string();
                    }
                    banner.push(line);
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("serve printed no address ({e}); stdout: {banner:?}\nstderr: {}", stderr.lock().unwrap());
                }
            }
        };
        let token = banner.iter().find_map(|l| l.strip_prefix("token: ")).map(str::to_string);
        let hetzner = banner
            .iter()
            .find_map(|l| l.strip_prefix("hetzner: "))
            .expect("a hetzner: line before listening on")
            .to_string();
        Server { child, base: format!("http://{listening}"), hetzner, token, banner, stderr }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Asks the server to stop as an operator would (SIGTERM) and waits for it.
    pub fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM {pid}");
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("serve did not stop within 30s of SIGTERM; stderr: {}", self.stderr());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh temporary directory and the data directory path inside it (not yet created,
/// so tests also cover `serve` creating it).
pub fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    (tmp, dir)
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("http client")
}

/// `GET {hetzner}{path}` with a bearer token; returns the status code.
pub async fn get_status(server: &Server, path: &str, token: &str) -> u16 {
    client()
        .get(format!("{}{path}", server.hetzner))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}
