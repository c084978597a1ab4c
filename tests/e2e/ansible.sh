#!/usr/bin/env bash
# Runs tests/e2e/ansible/playbook.yml (hetzner.hcloud collection) against a fresh Stratus, one
# inventory host per resource group (ansible/hosts.yml), run in parallel.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VENV=${STRATUS_VENV:-$REPO_ROOT/.venv}
if [[ -x $VENV/bin/ansible-playbook ]]; then
	PATH=$VENV/bin:$PATH
fi
command -v ansible-playbook >/dev/null || { echo "ansible-playbook not found (run tests/setup.sh)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl not installed" >&2; exit 1; }

# A CA for managed certificates (serve --local-ca reads it at start), a self-signed certificate
# to upload and a key that does not match it.
stratus_tmp
export E2E_CERT_DIR=$STRATUS_E2E_TMP/certs
mkdir -p "$E2E_CERT_DIR"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=Stratus-E2E-CA \
	-keyout "$E2E_CERT_DIR/ca.key" -out "$E2E_CERT_DIR/ca.pem" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=stratus.test \
	-addext subjectAltName=DNS:stratus.test -keyout "$E2E_CERT_DIR/key.pem" -out "$E2E_CERT_DIR/cert.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$E2E_CERT_DIR/other-key.pem" 2>/dev/null

stratus_start --local-ca "$E2E_CERT_DIR"

KEYDIR=$STRATUS_E2E_TMP/ansible-key
mkdir -p "$KEYDIR"
ssh-keygen -q -t ed25519 -N '' -C ansible@stratus -f "$KEYDIR/id" >/dev/null
export E2E_PUBLIC_KEY
E2E_PUBLIC_KEY=$(cat "$KEYDIR/id.pub")
export E2E_PUBLIC_KEY_FP
E2E_PUBLIC_KEY_FP=$(ssh-keygen -l -E md5 -f "$KEYDIR/id.pub" | awk '{print $2}' | sed 's/^MD5://')

cd "$E2E_DIR/ansible"
export ANSIBLE_CONFIG=$E2E_DIR/ansible/ansible.cfg
export ANSIBLE_LOCAL_TEMP=$STRATUS_E2E_TMP/ansible-tmp
export ANSIBLE_HOME=$STRATUS_E2E_TMP/ansible-home
export ANSIBLE_NOCOLOR=1
export ANSIBLE_FORCE_COLOR=0

rc=0
timeout 900 ansible-playbook playbook.yml "$@" || rc=$?
if ((rc != 0)); then
	echo "ansible-playbook failed (exit $rc)" >&2
	exit "$rc"
fi
echo "ansible playbook passed"
