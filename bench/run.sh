#!/usr/bin/env bash
# Benchmark (not a test): creates/s through the Hetzner API (simulator, instant timing, 64
# concurrent clients) and p50/p99 latency of GET /hetzner/v1/servers?per_page=50 with 10,000
# servers in the project.
#   bash bench/run.sh [--servers N] [--concurrency N] [--list-requests N]
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
# a rate limit high enough not to throttle the benchmark
stratus_start --rate-limit 1000000000

echo "stratus $("$STRATUS_BIN" --version 2>/dev/null || echo '(version unknown)'); $(nproc) cores; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$VENV/bin/python" bench/loadgen.py --endpoint "$HCLOUD_ENDPOINT" --token "$HCLOUD_TOKEN" "$@"
