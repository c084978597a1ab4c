#!/usr/bin/env bash
# Schemathesis fuzzes Stratus's Hetzner dialect against the official OpenAPI document
# (shared/reference/hetzner-cloud-openapi.json, used as it is): every phase (examples, coverage,
# fuzzing, stateful with the links Schemathesis infers), every check. Known false positives are
# dropped one by one in hooks.py; settings and exclusions are in schemathesis.toml; README.md
# lists them with their reasons. Exits non-zero on any failure.
#
#   bash tests/schemathesis/run.sh [schemathesis run options, e.g. --phases stateful]
#
# Env: STRATUS_BIN (default target/release/stratus), STRATUS_SCHEMATHESIS_VENV (default
# .venv-schemathesis), STRATUS_SCHEMATHESIS_SEED (default: the fixed seed in schemathesis.toml),
# STRATUS_SCHEMATHESIS_MAX_TIME (seconds: fuzz that long, repeating the phases; default one pass),
# STRATUS_KEEP_DATA=1 keeps the server's
# temp dir and the reports (the path is printed).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# The official document, a verbatim copy (see README.md) so that a clone runs on its own.
SPEC=${STRATUS_HETZNER_SPEC:-$HERE/hetzner-cloud-openapi.json}
VENV=${STRATUS_SCHEMATHESIS_VENV:-$ROOT/.venv-schemathesis}
PYTHON=${PYTHON:-python3}

for c in curl jq openssl ssh-keygen; do
	command -v "$c" >/dev/null || { echo "$c not installed (bash tests/setup.sh installs it)" >&2; exit 1; }
done
[[ -f $SPEC ]] || { echo "the OpenAPI document is not at $SPEC (set STRATUS_HETZNER_SPEC)" >&2; exit 1; }

# ---- the venv, idempotently (as tests/setup.sh does for .venv) ------------------------------
if [[ ! -x $VENV/bin/python ]]; then
	echo "[schemathesis] creating venv $VENV"
	"$PYTHON" -m venv "$VENV"
fi
# the venv ignores itself in git (as Python 3.13's venv does), wherever it is
[[ -f $VENV/.gitignore ]] || echo '*' >"$VENV/.gitignore"
REQ=$HERE/requirements.txt
STAMP=$VENV/.stratus-requirements.sha256
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [[ ! -f $STAMP || $(cat "$STAMP") != "$want" ]]; then
	echo "[schemathesis] pip install -r tests/schemathesis/requirements.txt"
	"$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip
	"$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"
	echo "$want" >"$STAMP"
fi

# ---- the server -----------------------------------------------------------------------------
source "$ROOT/tests/e2e/lib.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stratus-schemathesis.XXXXXX")
# a local CA, so that managed certificates are issued rather than failing (serve --local-ca)
mkdir -p "$WORK/ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=stratus-test-ca \
	-keyout "$WORK/ca/ca.key" -out "$WORK/ca/ca.pem" 2>/dev/null
# the fuzzer sends thousands of requests: no rate limit
stratus_start --rate-limit 0 --local-ca "$WORK/ca"
cleanup() {
	local rc=$?
	if [[ -n ${STRATUS_KEEP_DATA:-} ]]; then
		echo "reports and seed files kept in $WORK"
	else
		rm -rf "$WORK"
	fi
	(exit $rc)
	stratus_cleanup
}
trap cleanup EXIT
API=$HCLOUD_ENDPOINT

# ---- seed data: one of each resource, so that GET/PUT/DELETE by id and the actions hit real
# ones (Schemathesis takes ids from list answers and from its own creates) --------------------
call() { # METHOD PATH [BODY]: prints the answer; fails on a non-2xx status
	curl -sS --fail-with-body -X "$1" -H "Authorization: Bearer $HCLOUD_TOKEN" \
		-H 'Content-Type: application/json' "$API$2" ${3:+-d "$3"}
}
wait_action() { # ID: polls the action until it is no longer running, as the clients do
	local status i
	for i in $(seq 1 600); do
		status=$(call GET "/actions/$1" | jq -r .action.status)
		[[ $status != running ]] && break
		sleep 0.05
	done
	[[ $status == success ]] || { echo "seed action $1 ended $status" >&2; return 1; }
}
wait_all() { # JSON answer on stdin: waits for .action and every .next_actions[]
	local id
	for id in $(jq -r '[.action.id?, .next_actions[]?.id] | map(select(. != null)) | .[]'); do
		wait_action "$id"
	done
}

ssh-keygen -q -t ed25519 -N '' -C seed -f "$WORK/seed_key"
call POST /ssh_keys "$(jq -n --rawfile k "$WORK/seed_key.pub" '{name: "seed-key", public_key: $k, labels: {seed: "yes"}}')" >/dev/null
pg=$(call POST /placement_groups '{"name": "seed-pg", "type": "spread", "labels": {"seed": "yes"}}' | jq .placement_group.id)
net=$(call POST /networks '{"name": "seed-net", "ip_range": "10.0.0.0/16", "labels": {"seed": "yes"},
	"subnets": [{"type": "cloud", "network_zone": "eu-central", "ip_range": "10.0.1.0/24"}],
	"routes": [{"destination": "10.100.1.0/24", "gateway": "10.0.1.1"}]}' | jq .network.id)
fw=$(call POST /firewalls '{"name": "seed-fw", "labels": {"seed": "yes"},
	"rules": [{"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["0.0.0.0/0", "::/0"]}]}' | jq .firewall.id)
answer=$(call POST /servers "$(jq -n --argjson net "$net" --argjson fw "$fw" --argjson pg "$pg" '{name: "seed-server",
	server_type: "cx22", image: "debian-12", location: "fsn1", ssh_keys: ["seed-key"], networks: [$net],
	firewalls: [{firewall: $fw}], placement_group: $pg, labels: {seed: "yes"}}')")
wait_all <<<"$answer"
server=$(jq .server.id <<<"$answer")
call POST "/servers/$server/actions/create_image" '{"type": "snapshot", "description": "seed-snapshot", "labels": {"seed": "yes"}}' | wait_all
call POST /floating_ips '{"type": "ipv4", "home_location": "fsn1", "name": "seed-fip", "labels": {"seed": "yes"}}' | wait_all
call POST /primary_ips '{"type": "ipv4", "datacenter": "fsn1-dc14", "name": "seed-pip", "assignee_type": "server",
	"auto_delete": false, "labels": {"seed": "yes"}}' | wait_all
call POST /volumes '{"name": "seed-vol", "size": 10, "location": "fsn1", "labels": {"seed": "yes"}}' | wait_all
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=seed.example.com \
	-addext subjectAltName=DNS:seed.example.com -keyout "$WORK/cert.key" -out "$WORK/cert.pem" 2>/dev/null
call POST /certificates "$(jq -n --rawfile c "$WORK/cert.pem" --rawfile k "$WORK/cert.key" \
	'{name: "seed-cert", certificate: $c, private_key: $k, labels: {seed: "yes"}}')" >/dev/null
call POST /load_balancers "$(jq -n --argjson net "$net" '{name: "seed-lb", load_balancer_type: "lb11", location: "fsn1",
	network: $net, labels: {seed: "yes"},
	services: [{protocol: "tcp", listen_port: 80, destination_port: 80, proxyprotocol: false}],
	targets: [{type: "label_selector", label_selector: {selector: "seed=yes"}}]}')" | wait_all
echo "seeded: server $server, network $net, firewall $fw, placement group $pg and one of every other resource"

# a second project's token: object_level_authorization replays one project's reads with it
stratus_cli project create peer >/dev/null
PEER_TOKEN=$(stratus_cli token create --project peer | tail -n 1 | tr -d '[:space:]')
jq -n --arg a "$HCLOUD_TOKEN" --arg b "$PEER_TOKEN" '{auth: [
	{name: "owner", fixedHeaders: [{name: "Authorization", value: ("Bearer " + $a)}]},
	{name: "peer", fixedHeaders: [{name: "Authorization", value: ("Bearer " + $b)}]}]}' >"$WORK/auth.json"

# ---- the run --------------------------------------------------------------------------------
export STRATUS_SCHEMATHESIS_BASE_URL=$API STRATUS_SCHEMATHESIS_AUTH=$WORK/auth.json
args=(--report junit,ndjson --report-dir "$WORK/reports")
# --max-time makes Schemathesis repeat every phase until the time is up: opt-in only, so that
# by default one pass of each phase runs, the same amount of work on any machine
[[ -n ${STRATUS_SCHEMATHESIS_MAX_TIME:-} ]] && args+=(--max-time "$STRATUS_SCHEMATHESIS_MAX_TIME")
[[ -n ${STRATUS_SCHEMATHESIS_SEED:-} ]] && args+=(--seed "$STRATUS_SCHEMATHESIS_SEED")
cd "$HERE"
"$VENV/bin/schemathesis" --config-file "$HERE/schemathesis.toml" run "$SPEC" "${args[@]}" "$@"
