# shellcheck shell=bash
# Shared helpers for the bash e2e suites. Source it; then call `stratus_start [serve args...]`.
#
# After stratus_start:
#   HCLOUD_ENDPOINT, HCLOUD_TOKEN   exported for the hcloud CLI / ansible
#   STRATUS_E2E_DATA                data dir of the running server (for `stratus fault|sim|token`)
#   STRATUS_E2E_URL                 http://127.0.0.1:PORT
#   STRATUS_E2E_PID                 server pid
# An EXIT trap stops the server and removes the temp dir (keep it with STRATUS_KEEP_DATA=1; keep
# only the logs of a failed run with STRATUS_LOGS_ON_FAILURE=DIR).

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_DIR/../.." && pwd)
STRATUS_BIN=${STRATUS_BIN:-$REPO_ROOT/target/release/stratus}
PYTHON=${PYTHON:-python3}

# never hand the caller's server settings to the test server
unset STRATUS_LISTEN STRATUS_DATA_DIR STRATUS_SIM_TIMING STRATUS_RATE_LIMIT STRATUS_DRIVER STRATUS_CONFIG || true

STRATUS_E2E_PID=
STRATUS_E2E_TMP=

free_port() {
	"$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

stratus_cli() { # stratus SUBCOMMAND... --data-dir <test data dir>
	"$STRATUS_BIN" "$@" --data-dir "$STRATUS_E2E_DATA"
}

stratus_cleanup() {
	local rc=$?
	if [[ -n $STRATUS_E2E_PID ]] && kill -0 "$STRATUS_E2E_PID" 2>/dev/null; then
		kill -TERM "$STRATUS_E2E_PID" 2>/dev/null || true
		for _ in $(seq 1 50); do
			kill -0 "$STRATUS_E2E_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$STRATUS_E2E_PID" 2>/dev/null || true
		wait "$STRATUS_E2E_PID" 2>/dev/null || true
	fi
	if [[ $rc -ne 0 && -n $STRATUS_E2E_TMP && -f $STRATUS_E2E_TMP/serve.log ]]; then
		echo "---- last lines of the server log ($STRATUS_E2E_TMP/serve.log) ----" >&2
		tail -n 40 "$STRATUS_E2E_TMP/serve.log" >&2 || true
		if [[ -n ${STRATUS_LOGS_ON_FAILURE:-} ]]; then
			# The server log and every other log of the run (guests' serial consoles, clients').
			mkdir -p "$STRATUS_LOGS_ON_FAILURE"
			(cd "$STRATUS_E2E_TMP" && find . -name '*.log' -size -50M -exec cp --parents {} "$STRATUS_LOGS_ON_FAILURE" \;) || true
			echo "---- the run's logs are kept in $STRATUS_LOGS_ON_FAILURE ----" >&2
		fi
	fi
	if [[ -n $STRATUS_E2E_TMP && -z ${STRATUS_KEEP_DATA:-} ]]; then
		rm -rf "$STRATUS_E2E_TMP"
	fi
	return $rc
}

# Makes the temp dir (removed on exit) before the server starts, for files `serve` reads at start
# (e.g. a --local-ca directory); stratus_start then uses the same dir.
stratus_tmp() {
	if [[ -z $STRATUS_E2E_TMP ]]; then
		STRATUS_E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/stratus-e2e.XXXXXX")
		trap stratus_cleanup EXIT
	fi
}

stratus_start() { # extra serve args... (STRATUS_E2E_DRIVER_ARGS replaces "--driver sim --sim-timing instant")
	if [[ ! -x $STRATUS_BIN ]]; then
		echo "stratus binary not found at $STRATUS_BIN (run cargo build --release)" >&2
		return 1
	fi
	stratus_tmp
	STRATUS_E2E_DATA=$STRATUS_E2E_TMP/data
	mkdir -p "$STRATUS_E2E_DATA"
	local port
	port=$(free_port)
	STRATUS_E2E_URL=http://127.0.0.1:$port
	RUST_LOG=${RUST_LOG:-warn} "$STRATUS_BIN" serve --listen "127.0.0.1:$port" --data-dir "$STRATUS_E2E_DATA" \
		${STRATUS_E2E_DRIVER_ARGS:---driver sim --sim-timing instant} "$@" </dev/null >"$STRATUS_E2E_TMP/serve.log" 2>&1 &
	STRATUS_E2E_PID=$!
	local i
	for i in $(seq 1 600); do
		if ! kill -0 "$STRATUS_E2E_PID" 2>/dev/null; then
			echo "stratus serve exited early:" >&2
			cat "$STRATUS_E2E_TMP/serve.log" >&2
			return 1
		fi
		if curl -fsS -o /dev/null --max-time 2 "$STRATUS_E2E_URL/healthz" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	if ! curl -fsS -o /dev/null --max-time 2 "$STRATUS_E2E_URL/healthz"; then
		echo "stratus serve did not answer /healthz within 60s" >&2
		return 1
	fi
	local tok
	tok=$(stratus_cli token create | sed '/^[[:space:]]*$/d' | tail -n 1 | sed 's/^token:[[:space:]]*//' | tr -d '[:space:]') || tok=
	if [[ -z $tok ]]; then
		echo "WARN: 'stratus token create' gave no token; using the serve banner" >&2
		tok=$(sed -n 's/^.*token:[[:space:]]*\([^[:space:]]*\).*$/\1/p' "$STRATUS_E2E_TMP/serve.log" | head -n 1)
	fi
	if [[ -z $tok ]]; then
		echo "could not obtain an API token" >&2
		return 1
	fi
	export STRATUS_E2E_DATA STRATUS_E2E_URL STRATUS_E2E_PID STRATUS_E2E_TMP STRATUS_BIN
	export HCLOUD_TOKEN=$tok
	export HCLOUD_ENDPOINT=$STRATUS_E2E_URL/hetzner/v1
	# keep the CLI away from the developer's ~/.config/hcloud
	export HCLOUD_CONFIG=$STRATUS_E2E_TMP/hcloud-cli.toml
	: >"$HCLOUD_CONFIG"
	echo "stratus serving at $STRATUS_E2E_URL (data $STRATUS_E2E_DATA)"
}

# ---- check bookkeeping ------------------------------------------------------------------
CHECKS_PASSED=0
CHECKS_FAILED=0
FAILED_NAMES=()

pass() {
	CHECKS_PASSED=$((CHECKS_PASSED + 1))
	printf '  ok   %s\n' "$1"
}

fail() { # name [detail]
	CHECKS_FAILED=$((CHECKS_FAILED + 1))
	FAILED_NAMES+=("$1")
	printf '  FAIL %s\n' "$1"
	if [[ -n ${2:-} ]]; then
		printf '%s\n' "$2" | head -n 20 | sed 's/^/       | /'
	fi
}

checks_summary() { # prints the totals and returns non-zero if anything failed
	echo
	echo "checks: $CHECKS_PASSED passed, $CHECKS_FAILED failed"
	if ((CHECKS_FAILED > 0)); then
		printf '  failed: %s\n' "${FAILED_NAMES[@]}"
		return 1
	fi
	return 0
}
