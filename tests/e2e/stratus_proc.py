"""Start and stop a `stratus serve` process for tests (Python stdlib only).

Shared by the pytest suite (tests/e2e) and the crash test (tests/crash).
The binary is `$STRATUS_BIN`, default `<repo>/target/release/stratus`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = os.environ.get("STRATUS_BIN") or str(REPO / "target" / "release" / "stratus")

# Environment variables the server reads: never leak the caller's into a test server.
_SCRUB = ("STRATUS_LISTEN", "STRATUS_DATA_DIR", "STRATUS_SIM_TIMING", "STRATUS_RATE_LIMIT",
          "STRATUS_DRIVER", "STRATUS_CONFIG")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.setdefault("RUST_LOG", "warn")
    return env


class StratusServer:
    """One `stratus serve` process on a free loopback port with its own data dir."""

    def __init__(self, timing: str = "instant", extra_args: list[str] | None = None,
                 data_dir: str | None = None, name: str = "stratus"):
        self.timing = timing
        self.extra_args = list(extra_args or [])
        self._own_dir = data_dir is None
        self.root = tempfile.mkdtemp(prefix=f"{name}-")
        self.data_dir = data_dir or os.path.join(self.root, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.base = f"http://{self.addr}"
        self.hetzner = f"{self.base}/hetzner/v1"
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(self.root, "serve.log")
        self.banner_token: str | None = None
        self._starts = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> "StratusServer":
        if not os.access(BIN, os.X_OK):
            raise RuntimeError(f"stratus binary not found at {BIN} (cargo build --release)")
        self._starts += 1
        log = open(self.log_path, "ab")
        log.write(f"\n==== start #{self._starts} ====\n".encode())
        log.flush()
        args = [BIN, "serve", "--listen", self.addr, "--data-dir", self.data_dir,
                "--driver", "sim", "--sim-timing", self.timing, *self.extra_args]
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=_env(), start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"stratus serve exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        self._scrape_banner()
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"stratus serve did not answer /healthz within {timeout}s:\n{self.log_tail()}")

    def rebind(self) -> None:
        """Move to a new free port (if the old one cannot be bound again after a crash)."""
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.base = f"http://{self.addr}"
        self.hetzner = f"{self.base}/hetzner/v1"

    def restart(self, timeout: float = 60.0) -> "StratusServer":
        """Start again on the same data dir; on a new port if the old one is not usable."""
        try:
            return self.start(timeout)
        except RuntimeError as first:
            if "Address already in use" not in self.log_tail(20) and "in use" not in str(first):
                raise
            self.stop()
            self.rebind()
            return self.start(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # SIGKILL
            self.proc.wait(10)

    def cleanup(self) -> None:
        self.stop()
        if os.environ.get("STRATUS_KEEP_DATA"):
            return
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # -- helpers ---------------------------------------------------------------------------
    def log_tail(self, n: int = 60) -> str:
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"

    def _scrape_banner(self) -> None:
        try:
            with open(self.log_path, "r", errors="replace") as f:
                for line in f:
                    line = line.strip()
                    if line.startswith("token:"):
                        self.banner_token = line.split(":", 1)[1].strip()
        except OSError:
            pass

    def cli(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run `stratus <args> --data-dir <dir>`."""
        cmd = [BIN, *args, "--data-dir", self.data_dir]
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env(),
                            stdin=subprocess.DEVNULL)
        if check and cp.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({cp.returncode}):\n{cp.stdout}\n{cp.stderr}")
        return cp

    def token(self, project: str | None = None) -> str:
        """A new API token via `stratus token create` (falls back to the serve banner)."""
        args = ["token", "create"]
        if project:
            args += ["--project", project]
        cp = self.cli(*args, check=False)
        lines = [ln.strip() for ln in cp.stdout.splitlines() if ln.strip()]
        if cp.returncode == 0 and lines:
            tok = lines[-1]
            if tok.startswith("token:"):
                tok = tok.split(":", 1)[1].strip()
            return tok
        if project is None and self.banner_token:
            return self.banner_token
        raise RuntimeError(f"stratus token create failed ({cp.returncode}): {cp.stdout}\n{cp.stderr}")

    def request(self, method: str, path: str, token: str | None = None, body=None,
                raw: bytes | None = None, timeout: float = 30):
        """Plain HTTP request against the Hetzner dialect. Returns (status, headers, json|None)."""
        url = path if path.startswith("http") else self.hetzner + path
        data = raw
        headers = {}
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, hdrs, payload = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, payload = e.code, dict(e.headers), e.read()
        try:
            doc = json.loads(payload) if payload else None
        except ValueError:
            doc = None
        return status, hdrs, doc
