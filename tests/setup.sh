#!/usr/bin/env bash
# Installs what the test suite needs, idempotently (fast when everything is there):
#   Debian packages: hcloud-cli (the real `hcloud` CLI), jq, openssh-client (ssh-keygen), curl,
#   openssl (test certificates and a local CA), sshpass (password logins into VMs)
#   libvirt, QEMU and passt from bookworm-backports (enabled if needed), with the daemons started
#   and net.ipv4.ip_unprivileged_port_start lowered to 22 (skip with STRATUS_SETUP_NO_LIBVIRT=1)
#   Rust components: rustfmt, clippy
#   a Python venv (.venv, or $STRATUS_VENV) with hcloud-python, ansible and pytest
# Used by .ci/run and tests/run-all.sh. Set STRATUS_SETUP_APT_UPDATE=1 to force `apt-get update`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${STRATUS_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}

log() { printf '[setup] %s\n' "$*"; }

SUDO=
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null; then
	SUDO="sudo -n"
fi

# --- Debian packages -------------------------------------------------------------------------
APT_PKGS=(hcloud-cli jq openssh-client curl ca-certificates openssl sshpass)
missing=()
if command -v dpkg-query >/dev/null; then
	for p in "${APT_PKGS[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
else
	for c in hcloud jq ssh-keygen curl openssl; do
		command -v "$c" >/dev/null || missing+=("$c")
	done
fi
if ((${#missing[@]} > 0)) || [[ -n ${STRATUS_SETUP_APT_UPDATE:-} ]]; then
	if ! command -v apt-get >/dev/null; then
		echo "[setup] missing: ${missing[*]} and no apt-get here: install them by hand" >&2
		exit 1
	fi
	log "apt-get install ${missing[*]:-(update only)}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	if ((${#missing[@]} > 0)); then
		$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
	fi
fi
command -v hcloud >/dev/null || { echo "[setup] hcloud CLI still missing" >&2; exit 1; }

# --- libvirt and QEMU (the libvirt driver and its tests) -------------------------------------
# From bookworm-backports: libvirt 11.3 and QEMU 10.0.2, matching the preinstalled qemu-utils
# (bookworm's own QEMU conflicts with it); passt is libvirt's user-mode network backend;
# noVNC is the browser console `serve` serves at /novnc/; Chromium and its WebDriver open it in
# the console test (those two come from bookworm itself); xfsprogs formats xfs volumes; the ISO test makes its ISO with xorriso;
# mmdebstrap builds the debian-12 image.
VIRT_PKGS=(libvirt-daemon-system libvirt-clients qemu-system-x86 passt libvirt-dev novnc chromium chromium-driver xfsprogs xorriso mmdebstrap)
if [[ -z ${STRATUS_SETUP_NO_LIBVIRT:-} ]] && command -v apt-get >/dev/null; then
	virt_missing=()
	for p in "${VIRT_PKGS[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || virt_missing+=("$p")
	done
	if ((${#virt_missing[@]} > 0)); then
		BACKPORTS=/etc/apt/sources.list.d/stratus-bookworm-backports.sources
		if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
			log "enabling bookworm-backports ($BACKPORTS)"
			printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
				$SUDO tee "$BACKPORTS" >/dev/null
		fi
		log "apt-get install -t bookworm-backports ${virt_missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		$SUDO apt-get update -q
		$SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports "${virt_missing[@]}"
	fi
	# No systemd here: start the daemons by hand when they are not running.
	if ! pgrep -x libvirtd >/dev/null; then
		log "starting virtlogd and libvirtd"
		pgrep -x virtlogd >/dev/null || $SUDO virtlogd -d
		$SUDO libvirtd -d
		for _ in $(seq 1 50); do
			[[ -S /run/libvirt/libvirt-sock ]] && break
			sleep 0.1
		done
	fi
	# libvirt runs passt unprivileged; servers' SSH is on port 22 of their address.
	if (($(cat /proc/sys/net/ipv4/ip_unprivileged_port_start) > 22)); then
		log "sysctl net.ipv4.ip_unprivileged_port_start=22 (passt forwards port 22)"
		$SUDO sysctl -q -w net.ipv4.ip_unprivileged_port_start=22
	fi
fi

# --- Rust components -------------------------------------------------------------------------
if command -v rustup >/dev/null; then
	cargo fmt --version >/dev/null 2>&1 || { log "rustup component add rustfmt"; rustup component add rustfmt; }
	cargo clippy --version >/dev/null 2>&1 || { log "rustup component add clippy"; rustup component add clippy; }
fi

# --- Python venv -----------------------------------------------------------------------------
if [[ ! -x $VENV/bin/python ]]; then
	log "creating venv $VENV"
	if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
		# Debian's own python needs python3-venv
		rm -rf "$VENV"
		$SUDO apt-get install -y -q --no-install-recommends python3-venv
		/usr/bin/python3 -m venv "$VENV"
	fi
fi
REQ=$ROOT/tests/e2e/requirements.txt
STAMP=$VENV/.stratus-requirements.sha256
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [[ ! -f $STAMP || $(cat "$STAMP") != "$want" ]]; then
	log "pip install -r tests/e2e/requirements.txt"
	"$VENV/bin/python" -m pip install --disable-pip-version-check -q --upgrade pip
	"$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"
	echo "$want" >"$STAMP"
fi
"$VENV/bin/python" -c 'import hcloud, ansible, pytest, requests' || { echo "[setup] venv broken: rm -rf $VENV" >&2; exit 1; }
log "ok: hcloud-cli $(dpkg-query -W -f='${Version}' hcloud-cli 2>/dev/null || echo ?); hcloud-python $("$VENV/bin/python" -c 'import hcloud; print(hcloud.__version__)'); $("$VENV/bin/ansible" --version 2>/dev/null | sed -n 1p); hetzner.hcloud $("$VENV/bin/python" -c 'import json, os, ansible_collections as c; print(json.load(open(os.path.join(list(c.__path__)[0], "hetzner", "hcloud", "MANIFEST.json")))["collection_info"]["version"])' 2>/dev/null || echo ?)"
