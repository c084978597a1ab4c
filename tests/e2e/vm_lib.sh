#!/usr/bin/env bash
# What the real-VM suites share (source after lib.sh): a `serve --driver libvirt` on a
# temp data dir whose domains never outlive the run, the hcloud CLI with its output in
# $OUT, SSH into guests with the run's key ($WORK/key), and libvirt's view of the servers.
for c in hcloud jq ssh ssh-keygen virsh; do
	command -v "$c" >/dev/null || { echo "$c not installed (bash tests/setup.sh)" >&2; exit 1; }
done
virsh -c qemu:///system version >/dev/null || { echo "libvirtd does not answer (bash tests/setup.sh)" >&2; exit 1; }

stratus_tmp
# Whether domain $1 is this run's: its disks are under the run's temp dir. (Not `dumpxml |
# grep -q`: grep leaving at the first match can cut virsh off, and pipefail then says no.)
ours_domain() {
	local xml
	xml=$(virsh -c qemu:///system dumpxml "$1" 2>/dev/null) && [[ $xml == *"$STRATUS_E2E_TMP"* ]]
}
# Whatever happens, no domain of this run outlives it (a later run would find its names taken).
remove_domains() {
	local rc=$? d log
	if ((rc != 0)); then
		# What each guest printed last: a failed boot is explained there, and CI keeps only this output.
		for log in "$STRATUS_E2E_DATA"/vms/*/serial.log; do
			[[ -f $log ]] || continue
			echo "---- last lines of $log ----" >&2
			tail -n 25 "$log" >&2 || true
		done
	fi
	for d in $(virsh -c qemu:///system list --all --name | grep '^stratus-' || true); do
		if ours_domain "$d"; then
			# A QEMU that is slow to exit (several VMs stopping at once) makes destroy fail;
			# undefining it then would leave it running as a transient domain.
			for _ in 1 2 3 4 5; do
				virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
				[[ $(virsh -c qemu:///system domstate "$d" 2>/dev/null) != running ]] && break
				sleep 2
			done
			virsh -c qemu:///system undefine --nvram "$d" >/dev/null 2>&1 || true
		fi
	done
	set +e
	(exit "$rc") # stratus_cleanup prints the server log when the run failed
	stratus_cleanup
	return "$rc"
}
trap remove_domains EXIT
# QEMU runs as libvirt-qemu and must pass through every folder above the VM disks.
chmod 0711 "$STRATUS_E2E_TMP"
STRATUS_E2E_DRIVER_ARGS="--driver libvirt" stratus_start --rate-limit 0
WORK=$STRATUS_E2E_TMP/work
mkdir -p "$WORK"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/key"

HC_TIMEOUT=${HC_TIMEOUT:-360}
OUT=
hc() {
	local rc=0
	OUT=$(timeout "$HC_TIMEOUT" hcloud "$@" 2>&1) || rc=$?
	return $rc
}
check() { # name cmd...: passes when cmd succeeds
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "$OUT"; fi
}
guest() { # ip command: runs command in the guest as root with the test key
	OUT=$(timeout 60 ssh -i "$WORK/key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o ConnectTimeout=10 -o LogLevel=ERROR "root@$1" "$2" 2>&1)
}
domstate() { virsh -c qemu:///system domstate "stratus-$1" 2>/dev/null | sed '/^$/d'; }
ours() { # the domains of this run (their disks are under its temp dir)
	local d
	for d in $(virsh -c qemu:///system list --all --name | grep '^stratus-' || true); do
		ours_domain "$d" && echo "$d"
	done
	true
}
agree() { # the API, libvirt and the data directory name the same servers, and the API its addresses
	local api dom files ips
	api=$(hcloud server list -o json | jq -r '.[].id' | sort -n | xargs)
	dom=$(ours | sed 's/^stratus-//' | sort -n | xargs)
	files=$(ls "$STRATUS_E2E_DATA/vms" | grep -E '^[0-9]+$' | sort -n | xargs)
	ips=$(hcloud primary-ip list -o json | jq -r '[.[] | select(.type == "ipv4")] | length')
	OUT="servers: $api; domains: $dom; VM folders: $files; primary IPv4s: $ips"
	[[ $api == "$dom" && $api == "$files" && $ips == $(wc -w <<<"$api") ]]
}

