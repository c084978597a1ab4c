#!/usr/bin/env bash
# Benchmark (not a test): how cost grows with what is stored. One project, the simulator in
# instant mode, the Hetzner API:
#   creates/s into an empty project and while filling it to 100,000 servers (64 clients);
#   GET /servers?per_page=50 and label_selector lists at 100,000 servers (p50/p99);
#   a 64-client mix of GET /servers/{id} and list pages at 2,000 and at 100,000 servers;
#   creates/s with a volume and a network attached;
#   start-up time with everything stored (the process started until /healthz answers).
#   bash bench/run.sh [--servers N] [--concurrency N] [--mix-seconds S] [--with-attachments N] ...
# Env: STRATUS_BIN (default target/release/stratus), STRATUS_VENV (default .venv),
#      BENCH_NO_BUILD=1 to skip `cargo build --release`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [[ -z ${BENCH_NO_BUILD:-} ]]; then
	cargo build --release --quiet
fi

VENV=${STRATUS_VENV:-$ROOT/.venv}
if [[ ! -x $VENV/bin/python ]]; then
	python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import aiohttp' 2>/dev/null; then
	"$VENV/bin/pip" install --disable-pip-version-check -q -r bench/requirements.txt
fi

source tests/e2e/lib.sh
# Rate limiting off: the benchmark measures the control plane, not the budget.
stratus_start --rate-limit 0

echo "stratus $("$STRATUS_BIN" --version 2>/dev/null || echo '(version unknown)'); $(nproc) cores; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$VENV/bin/python" bench/loadgen.py --endpoint "$HCLOUD_ENDPOINT" --token "$HCLOUD_TOKEN" "$@"

# Start-up with everything stored: stop cleanly, then time a fresh start until it serves.
kill -TERM "$STRATUS_E2E_PID"
wait "$STRATUS_E2E_PID" 2>/dev/null || true
port=${STRATUS_E2E_URL##*:}
t0=$(date +%s%N)
RUST_LOG=warn "$STRATUS_BIN" serve --listen "127.0.0.1:$port" --data-dir "$STRATUS_E2E_DATA" --driver sim \
	--sim-timing instant --rate-limit 0 </dev/null >>"$STRATUS_E2E_TMP/serve.log" 2>&1 &
STRATUS_E2E_PID=$!
until curl -fsS -o /dev/null --max-time 1 "$STRATUS_E2E_URL/healthz" 2>/dev/null; do
	kill -0 "$STRATUS_E2E_PID" 2>/dev/null || { echo "restart failed" >&2; exit 1; }
	sleep 0.05
done
t1=$(date +%s%N)
rows=$(du -sh "$STRATUS_E2E_DATA" | cut -f1)
echo "start-up with the data above ($rows on disk): $(((t1 - t0) / 1000000)) ms"
echo "RESULT startup_ms=$(((t1 - t0) / 1000000))"
