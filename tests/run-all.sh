#!/usr/bin/env bash
# The project's test command (see README):  bash tests/run-all.sh
#   1. installs missing prerequisites (tests/setup.sh, idempotent)
#   2. cargo fmt --check, cargo clippy -D warnings, cargo build --release, cargo test
#   3. the end-to-end suites against target/release/stratus:
#        hcloud CLI (tests/e2e/hcloud_cli.sh), hcloud-python (pytest), Ansible, Schemathesis against
#        the official OpenAPI document (tests/schemathesis/run.sh), crash test, real VMs under the
#        libvirt driver (tests/e2e/libvirt.sh)
# Ends with the line "N passed, N failed" counting the e2e suites; exits non-zero if any step
# (Rust or e2e) failed.
# The release binary is built with the libvirt feature (the README's start command builds without).
# Env: STRATUS_SKIP_RUST=1 skips step 2 except the release build (STRATUS_SKIP_BUILD=1 skips that
# too, for a prebuilt $STRATUS_BIN); E2E_SUITES=cli,python,ansible,schemathesis,crash,libvirt
# picks suites; STRATUS_KEEP_DATA=1 keeps the servers' temp dirs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

bash tests/setup.sh
VENV=${STRATUS_VENV:-$ROOT/.venv}
export STRATUS_VENV=$VENV
export STRATUS_BIN=${STRATUS_BIN:-$ROOT/target/release/stratus}

declare -a RUST_RESULTS=() E2E_RESULTS=()
rust_failed=0

stage() { # LIST NAME TIMEOUT CMD...: runs CMD, records "NAME|ok|secs" or "NAME|FAIL(rc)|secs"
	local list=$1 name=$2 limit=$3
	shift 3
	local t0 rc=0
	t0=$(date +%s)
	printf '\n======== %s ========\n' "$name"
	timeout --kill-after=30 "$limit" "$@" || rc=$?
	local secs=$(($(date +%s) - t0)) res=ok
	if ((rc == 124)); then
		res="FAIL(timeout ${limit}s)"
	elif ((rc != 0)); then
		res="FAIL(exit $rc)"
	fi
	printf -- '-------- %s: %s (%ss)\n' "$name" "$res" "$secs"
	if [[ $list == rust ]]; then
		RUST_RESULTS+=("$name|$res|$secs")
	else
		E2E_RESULTS+=("$name|$res|$secs")
	fi
	[[ $res == ok ]]
}

# ---- Rust -----------------------------------------------------------------------------------
if [[ -z ${STRATUS_SKIP_RUST:-} ]]; then
	stage rust "cargo fmt --all --check" 300 cargo fmt --all --check || rust_failed=1
	stage rust "cargo clippy" 1500 cargo clippy --workspace --all-targets --all-features -- -D warnings || rust_failed=1
fi
built=1
if [[ -z ${STRATUS_SKIP_BUILD:-} ]]; then
	stage rust "cargo build --release" 1500 cargo build --release --features libvirt || { built=0; rust_failed=1; }
fi
if [[ -z ${STRATUS_SKIP_RUST:-} ]]; then
	stage rust "cargo test --workspace" 1500 cargo test --workspace --all-features || rust_failed=1
fi

# ---- end to end -----------------------------------------------------------------------------
SUITES=${E2E_SUITES:-cli,python,ansible,schemathesis,crash,libvirt}
run_suite() {
	local key=$1 name=$2 limit=$3
	shift 3
	[[ ,$SUITES, == *,$key,* ]] || return 0
	if ((built == 0)) || [[ ! -x $STRATUS_BIN ]]; then
		E2E_RESULTS+=("$name|FAIL(no binary)|0")
		return 0
	fi
	stage e2e "$name" "$limit" "$@" || true
}
run_suite cli "e2e: hcloud CLI" 900 bash tests/e2e/hcloud_cli.sh
run_suite python "e2e: hcloud-python" 1200 "$VENV/bin/python" -m pytest -q tests/e2e
run_suite ansible "e2e: ansible" 900 bash tests/e2e/ansible.sh
run_suite schemathesis "e2e: schemathesis" 900 bash tests/schemathesis/run.sh
run_suite crash "e2e: crash test" 900 "$VENV/bin/python" tests/crash/crash_test.py
run_suite libvirt "e2e: libvirt VMs" 900 bash tests/e2e/libvirt.sh

# ---- summary --------------------------------------------------------------------------------
echo
echo "======== summary ========"
passed=0
failed=0
for r in "${RUST_RESULTS[@]}" "${E2E_RESULTS[@]}"; do
	IFS='|' read -r name res secs <<<"$r"
	printf '  %-28s %-22s %5ss\n' "$name" "$res" "$secs"
done
for r in "${E2E_RESULTS[@]}"; do
	IFS='|' read -r _ res _ <<<"$r"
	if [[ $res == ok ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
if ((rust_failed)); then
	echo "rust checks: FAILED (see above)"
elif ((${#RUST_RESULTS[@]} == 0)); then
	echo "rust checks: skipped"
else
	echo "rust checks: ok"
fi
echo "$passed passed, $failed failed"
if ((failed > 0 || rust_failed)); then
	exit 1
fi
