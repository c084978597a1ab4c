#!/usr/bin/env bash
# Drives the real `hcloud` CLI (Debian package hcloud-cli, 1.30.x) against a fresh Stratus.
# Every step checks the exit code and the output (JSON through jq). Failures are counted and
# the script goes on, so one run lists every misbehaviour; it exits non-zero if any check failed.
# The checks live in cli/*.sh, one file per resource group, sourced in order below; each
# group deletes what it made.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v hcloud >/dev/null || { echo "hcloud CLI not installed (apt-get install hcloud-cli)" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq not installed" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl not installed" >&2; exit 1; }

# A local CA for managed certificates, read by `serve --local-ca` at start: ca.pem and its key
# ca.key, which `openssl genpkey` writes as PKCS#8 ("BEGIN PRIVATE KEY").
stratus_tmp
CA_DIR=$STRATUS_E2E_TMP/ca
mkdir -p "$CA_DIR"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CA_DIR/ca.key" 2>/dev/null
openssl req -x509 -new -key "$CA_DIR/ca.key" -subj "/CN=Stratus e2e CA" -days 30 -out "$CA_DIR/ca.pem" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null

# No rate limit: the suite sends a few thousand requests, past the default 3600 per hour, and
# hcloud-go retries rate_limit_exceeded without end.
stratus_start --local-ca "$CA_DIR" --rate-limit 0
WORK=$STRATUS_E2E_TMP/cli
mkdir -p "$WORK"

HC_TIMEOUT=${HC_TIMEOUT:-90}
TIMEOUTS=0
OUT=

# hcloud with a bounded run time. No --poll-interval: 1.30.3 (Debian package) ignores it and
# polls actions every 500 ms whatever it is given (see run_lanes).
hc() {
	local rc=0
	OUT=$(timeout "$HC_TIMEOUT" hcloud "$@" 2>&1) || rc=$?
	if ((rc == 124)); then
		TIMEOUTS=$((TIMEOUTS + 1))
		OUT="(timed out after ${HC_TIMEOUT}s) $OUT"
		if ((TIMEOUTS >= 3)); then
			fail "hcloud $* timed out (3rd time): giving up"
			checks_summary || true
			exit 1
		fi
	fi
	return $rc
}

# ok NAME hcloud-args...: the command must exit 0 (output left in $OUT)
ok() {
	local name=$1
	shift
	local rc=0
	hc "$@" || rc=$?
	if ((rc == 0)); then
		pass "$name"
	else
		fail "$name: 'hcloud $*' exited $rc" "$OUT"
	fi
	return 0
}

# expect_fail NAME REGEX hcloud-args...: must exit non-zero and print something matching REGEX
expect_fail() {
	local name=$1 pattern=$2
	shift 2
	local rc=0
	hc "$@" || rc=$?
	if ((rc == 0)); then
		fail "$name: 'hcloud $*' succeeded but should fail" "$OUT"
	elif grep -qiE -- "$pattern" <<<"$OUT"; then
		pass "$name"
	else
		fail "$name: 'hcloud $*' failed (exit $rc) without /$pattern/" "$OUT"
	fi
	return 0
}

# jqc NAME FILTER [JSON]: FILTER must evaluate to true on JSON (default $OUT)
jqc() {
	local name=$1 filter=$2 json=${3-$OUT}
	if jq -e "$filter" >/dev/null 2>&1 <<<"$json"; then
		pass "$name"
	else
		fail "$name: jq '$filter' is not true" "$json"
	fi
	return 0
}

# has NAME REGEX [TEXT]: TEXT (default $OUT) must match REGEX
has() {
	local name=$1 pattern=$2 text=${3-$OUT}
	if grep -qE -- "$pattern" <<<"$text"; then
		pass "$name"
	else
		fail "$name: output lacks /$pattern/" "$text"
	fi
	return 0
}

# jget FILTER [JSON]: print a value, empty on any error (never fails)
jget() {
	jq -r "$1" 2>/dev/null <<<"${2-$OUT}" || true
}

section() { printf '\n== %s\n' "$1"; }

# created_id WHAT: the id in "WHAT <id> created" in $OUT (empty if absent)
created_id() {
	sed -n "s/^$1 \([0-9]*\) created.*/\1/p" <<<"$OUT" | head -n 1
}

# await_gone RESOURCE NAME...: waits until `hcloud RESOURCE list` shows none of the names.
# `hcloud server delete` and `load-balancer delete` (1.30) do not wait for their delete action.
await_gone() {
	local resource=$1 names
	shift
	names=$(printf '%s\n' "$@" | jq -R . | jq -s .)
	for _ in $(seq 1 50); do
		hc "$resource" list -o json || true
		jq -e --argjson n "$names" '(. // []) | all(.[]; .name as $x | $n | index($x) | not)' >/dev/null 2>&1 <<<"$OUT" && return 0
		sleep 0.1
	done
	fail "$resource $* still listed after 5s" "$OUT"
}


# run_lanes LANE...: each LANE is a list of cli/*.sh names, sourced in order in a subshell of
# its own with a token of its own project, so that its lists show only what it made. The
# lanes run at once (hcloud 1.30.3 ignores --poll-interval and polls actions every 500 ms: a
# suite in one line mostly waits); their logs are printed and their tallies added in order.
run_lanes() {
	local dir=$STRATUS_E2E_TMP/lanes i=0 lane pids=() token
	mkdir -p "$dir"
	for lane in "$@"; do
		if ! token=$(stratus_cli token create --project "e2e-lane-$i" 2>"$dir/$i.log"); then
			fail "token for lane '$lane'" "$(cat "$dir/$i.log")"
			return 0
		fi
		(
			export HCLOUD_TOKEN=$token
			CHECKS_PASSED=0 CHECKS_FAILED=0 FAILED_NAMES=()
			for f in $lane; do source "$E2E_DIR/cli/$f.sh"; done
			echo "$CHECKS_PASSED $CHECKS_FAILED" >"$dir/$i.counts"
			printf '%s\n' "${FAILED_NAMES[@]}" >"$dir/$i.failed"
		) >"$dir/$i.log" 2>&1 &
		pids+=($!)
		i=$((i + 1))
	done
	local passed failed name
	i=0
	for lane in "$@"; do
		wait "${pids[$i]}" || true
		cat "$dir/$i.log"
		if [[ -f $dir/$i.counts ]]; then
			read -r passed failed <"$dir/$i.counts"
			CHECKS_PASSED=$((CHECKS_PASSED + passed))
			CHECKS_FAILED=$((CHECKS_FAILED + failed))
			while IFS= read -r name; do
				[[ -n $name ]] && FAILED_NAMES+=("$name")
			done <"$dir/$i.failed"
		else
			fail "lane '$lane' stopped before its end (see its log above)"
		fi
		i=$((i + 1))
	done
}

run_lanes servers volumes networks firewalls "certificates load_balancers" primary_ips placement_groups server_links

section "authentication"
GOOD_TOKEN=$HCLOUD_TOKEN
export HCLOUD_TOKEN=not-a-valid-token-0000000000000000000000000000000000000000000000000000
expect_fail "bad token -> unauthorized" 'unauthorized' server list
export HCLOUD_TOKEN=$GOOD_TOKEN

checks_summary
