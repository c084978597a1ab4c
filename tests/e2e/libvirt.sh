#!/usr/bin/env bash
# Real VMs: `stratus serve --driver libvirt` with the `small` image (built here from Debian
# packages), driven by the official hcloud CLI, reached over SSH at each server's loopback
# public IPv4 (passt forwards its port 22). Checks what a user sees: the guest boots with the
# given key, hostname and user data; power actions change the domain libvirt runs; an image
# without a disk fails clearly and leaves nothing behind; delete removes domain and files.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for c in hcloud jq ssh ssh-keygen virsh; do
	command -v "$c" >/dev/null || { echo "$c not installed (bash tests/setup.sh)" >&2; exit 1; }
done
virsh -c qemu:///system version >/dev/null || { echo "libvirtd does not answer (bash tests/setup.sh)" >&2; exit 1; }

stratus_tmp
# Whatever happens, no domain of this run outlives it (a later run would find its names taken).
remove_domains() {
	local rc=$? d
	for d in $(virsh -c qemu:///system list --all --name | grep '^stratus-' || true); do
		if virsh -c qemu:///system dumpxml "$d" 2>/dev/null | grep -q "$STRATUS_E2E_TMP"; then
			virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 || true
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

echo "== image build"
if OUT=$(stratus_cli image build small 2>&1); then
	pass "stratus image build small"
else
	fail "stratus image build small" "$OUT"
	checks_summary
	exit 1
fi
check "the small image is in the catalogue" hc image describe small -o json

echo "== create with an SSH key and user data"
ssh-keygen -q -t ed25519 -N "" -f "$WORK/key"
check "ssh-key create" hc ssh-key create --name e2e --public-key-from-file "$WORK/key.pub"
printf '#!/bin/sh\necho "user data ran on $(hostname)" > /root/user-data.txt\n' >"$WORK/user-data.sh"
t0=$(date +%s)
check "server create (waits for the boot)" hc server create --name vm-one --type cx22 --image small --location fsn1 \
	--ssh-key e2e --user-data-from-file "$WORK/user-data.sh"
echo "  create took $(($(date +%s) - t0)) s"
hc server describe vm-one -o json
ID=$(jq -r .id <<<"$OUT")
IP=$(jq -r .public_net.ipv4.ip <<<"$OUT")
[[ $(jq -r .status <<<"$OUT") == running ]] && pass "status running" || fail "status running" "$OUT"
[[ $IP == 127.100.* ]] && pass "public IPv4 from the loopback pool ($IP)" || fail "public IPv4 from the loopback pool" "$IP"
[[ $(domstate "$ID") == running ]] && pass "domain stratus-$ID runs" || fail "domain stratus-$ID runs" "$(domstate "$ID")"

guest "$IP" hostname && [[ $OUT == vm-one ]] && pass "ssh root@$IP with the key: hostname vm-one" ||
	fail "ssh with the key, hostname" "$OUT"
guest "$IP" 'cloud-init status --wait >/dev/null; cat /root/user-data.txt' && [[ $OUT == "user data ran on vm-one" ]] &&
	pass "user data ran" || fail "user data ran" "$OUT"
guest "$IP" 'df -k / | tail -n 1' && (($(awk '{print $2}' <<<"$OUT") > 30000000)) &&
	pass "the root filesystem spans the type's 40 GB disk" || fail "root filesystem grown" "$OUT"
guest "$IP" 'echo kept > /root/kept.txt; sync' || true

echo "== metrics"
# One core busy for 25 s and 64 MiB written: the graphs must show both.
guest "$IP" 'timeout 25 sh -c "while :; do :; done"; dd if=/dev/urandom of=/root/load bs=1M count=64 2>/dev/null; sync; rm /root/load' || true
hc server metrics vm-one --type cpu,disk --start "$(date -u -d '-2 min' +%FT%TZ)" --end "$(date -u +%FT%TZ)" -o json ||
	fail "server metrics" "$OUT"
peak() { jq -r --arg s "$1" '[.metrics.time_series[$s].values[][1] | tonumber] | max // 0' <<<"$OUT"; }
awk -v v="$(peak cpu)" 'BEGIN { exit !(v > 30) }' && pass "cpu shows the busy core (peak $(peak cpu) %)" ||
	fail "cpu metrics" "$OUT"
awk -v v="$(peak disk.0.bandwidth.write)" 'BEGIN { exit !(v > 500000) }' &&
	pass "disk shows the writes (peak $(peak disk.0.bandwidth.write) B/s)" || fail "disk metrics" "$OUT"

echo "== console"
hc server request-console vm-one -o json || fail "request-console" "$OUT"
WSS=$(jq -r .WSSURL <<<"$OUT") # the CLI's own JSON names
PW=$(jq -r .Password <<<"$OUT")
[[ $WSS == "ws://127.0.0.1:"*"/console/"* && ${#PW} == 8 ]] && pass "request-console: a websocket on Stratus and a VNC password" ||
	fail "request-console answer" "$OUT"
code=$(curl -s -o /dev/null -w '%{http_code}' "$STRATUS_E2E_URL/novnc/vnc_lite.html")
[[ $code == 200 ]] && pass "the noVNC page is served at /novnc/" || fail "noVNC page" "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$STRATUS_E2E_URL/console/not-a-token")
[[ $code == 401 ]] && pass "an unknown console token gets 401" || fail "unknown console token" "$code"

echo "== power"
check "shutdown (ACPI)" hc server shutdown vm-one
[[ $(domstate "$ID") == "shut off" ]] && pass "domain shut off" || fail "domain shut off" "$(domstate "$ID")"
hc server describe vm-one -o json
[[ $(jq -r .status <<<"$OUT") == off ]] && pass "status off" || fail "status off" "$OUT"
check "poweron" hc server poweron vm-one
guest "$IP" 'cat /root/kept.txt' && [[ $OUT == kept ]] && pass "the disk kept its data across the power cycle" ||
	fail "data across the power cycle" "$OUT"
check "reboot" hc server reboot vm-one
check "reset" hc server reset vm-one
guest "$IP" 'cat /proc/uptime' && (($(cut -d. -f1 <<<"$OUT") < 60)) && pass "the guest booted again" ||
	fail "guest booted again" "$OUT"
echo "== restart of stratus serve"
restart_serve() { # stops serve if it runs, starts it again on the same data dir and port
	kill -TERM "$STRATUS_E2E_PID" 2>/dev/null || true
	wait "$STRATUS_E2E_PID" 2>/dev/null || true
	RUST_LOG=${RUST_LOG:-warn} "$STRATUS_BIN" serve --listen "${STRATUS_E2E_URL#http://}" --data-dir "$STRATUS_E2E_DATA" \
		--driver libvirt --rate-limit 0 </dev/null >>"$STRATUS_E2E_TMP/serve.log" 2>&1 &
	STRATUS_E2E_PID=$!
	for _ in $(seq 1 300); do
		curl -fsS -o /dev/null --max-time 2 "$STRATUS_E2E_URL/healthz" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
check "serve restarts" restart_serve
[[ $(domstate "$ID") == running ]] && pass "the VM kept running across the restart" || fail "VM kept running" "$(domstate "$ID")"
guest "$IP" 'cat /root/kept.txt' && [[ $OUT == kept ]] && pass "still reachable after the restart" ||
	fail "reachable after the restart" "$OUT"
# The VM stops behind Stratus's back while it is down; the next start shows it off.
kill -TERM "$STRATUS_E2E_PID"
wait "$STRATUS_E2E_PID" 2>/dev/null || true
virsh -c qemu:///system destroy "stratus-$ID" >/dev/null
check "serve restarts after the VM stopped" restart_serve
hc server describe vm-one -o json
[[ $(jq -r .status <<<"$OUT") == off ]] && pass "a VM that stopped meanwhile shows off" || fail "stopped meanwhile shows off" "$OUT"
check "poweron after the restart" hc server poweron vm-one
check "poweroff (hard)" hc server poweroff vm-one
[[ $(domstate "$ID") == "shut off" ]] && pass "domain off after poweroff" || fail "domain off after poweroff" "$(domstate "$ID")"

echo "== snapshot, a server from it, rebuild, change type"
check "poweron for the snapshot" hc server poweron vm-one
guest "$IP" 'echo "written before the snapshot" > /root/snap.txt; sync' || true
check "create-image of the running server" hc server create-image --type snapshot --description e2e-snap vm-one
SNAP=$(hcloud image list --type snapshot -o json | jq -r '.[] | select(.description == "e2e-snap") | .id')
[[ -n $SNAP && -f $STRATUS_E2E_DATA/images/image-$SNAP/current ]] && pass "the snapshot is a file in the image store" ||
	fail "snapshot file" "$(ls "$STRATUS_E2E_DATA/images")"
guest "$IP" 'cat /root/snap.txt' && [[ $OUT == "written before the snapshot" ]] &&
	pass "the server keeps running and writing after the snapshot" || fail "server after the snapshot" "$OUT"
check "server create from the snapshot" hc server create --name vm-two --type cx22 --image "$SNAP" --location fsn1 --ssh-key e2e
hc server describe vm-two -o json
ID2=$(jq -r .id <<<"$OUT")
IP2=$(jq -r .public_net.ipv4.ip <<<"$OUT")
[[ $IP2 != "$IP" ]] && pass "the second server has its own address ($IP2)" || fail "own address" "$IP2"
guest "$IP2" 'hostname; cat /root/snap.txt' && [[ $OUT == $'vm-two\nwritten before the snapshot' ]] &&
	pass "the second server finds the file the first wrote" || fail "file from the snapshot" "$OUT"
check "rebuild vm-two from small" hc server rebuild --image small vm-two
guest "$IP2" 'test -e /root/snap.txt && echo present || echo gone' && [[ $OUT == gone ]] &&
	pass "rebuild: a fresh disk" || fail "rebuild: a fresh disk" "$OUT"
check "poweroff vm-one for the type change" hc server poweroff vm-one
check "change-type cx22 -> cx32 (disk grown)" hc server change-type vm-one cx32
check "poweron after the type change" hc server poweron vm-one
guest "$IP" 'nproc; df -k / | tail -n 1 | awk "{print \$2}"; cat /root/kept.txt' &&
	[[ $(sed -n 1p <<<"$OUT") == 4 && $(sed -n 2p <<<"$OUT") -gt 70000000 && $(sed -n 3p <<<"$OUT") == kept ]] &&
	pass "cx32: 4 vCPUs, the disk grown to 80 GB, the data kept" || fail "cx32 in the guest" "$OUT"
echo "== a volume moves between servers"
voldev() { # the guest's device of volume $1 (its virtio serial)
	printf 'for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = HC_Volume_%s ] && echo /dev/${d##*/}; done; true' "$1"
}
check "volume create (10 GB, ext4; the CLI sends the format only with --automount) on vm-one" hc volume create --name data --size 10 --server vm-one --automount --format ext4
VOL=$(hcloud volume describe data -o json | jq -r .id)
[[ -f $STRATUS_E2E_DATA/volumes/$VOL.qcow2 ]] && pass "the volume is a qcow2 file" || fail "volume file" "$(ls "$STRATUS_E2E_DATA/volumes")"
guest "$IP" "dev=\$($(voldev "$VOL")); mkdir -p /mnt/v && mount -t ext4 \$dev /mnt/v && echo 'on the volume' > /mnt/v/f.txt && umount /mnt/v && echo \$dev" || true
[[ $OUT == /dev/vd* ]] && pass "vm-one sees the hot-plugged volume ($OUT) and writes to it" || fail "volume in vm-one" "$OUT"
check "volume detach" hc volume detach data
guest "$IP" "$(voldev "$VOL")" || true
[[ -z $OUT ]] && pass "vm-one no longer has the device" || fail "device gone from vm-one" "$OUT"
check "volume attach to vm-two" hc volume attach --server vm-two data
guest "$IP2" "dev=\$($(voldev "$VOL")); mkdir -p /mnt/v && mount -t ext4 \$dev /mnt/v && cat /mnt/v/f.txt && umount /mnt/v" || true
[[ $OUT == "on the volume" ]] && pass "vm-two reads what vm-one wrote" || fail "volume data on vm-two" "$OUT"
check "volume resize to 20 GB while attached" hc volume resize --size 20 data
guest "$IP2" "dev=\$($(voldev "$VOL")); cat /sys/block/\${dev#/dev/}/size" || true
[[ $OUT == 41943040 ]] && pass "the guest sees 20 GB" || fail "guest sees the grown volume" "$OUT"
check "volume detach from vm-two" hc volume detach data
check "volume delete" hc volume delete data
for _ in $(seq 1 50); do [[ -e $STRATUS_E2E_DATA/volumes/$VOL.qcow2 ]] || break; sleep 0.1; done
[[ ! -e $STRATUS_E2E_DATA/volumes/$VOL.qcow2 ]] && pass "the volume's file is gone" || fail "volume file gone"
check "delete vm-two" hc server delete vm-two
check "delete the snapshot" hc image delete "$SNAP"
for _ in $(seq 1 50); do [[ -e $STRATUS_E2E_DATA/images/image-$SNAP ]] || break; sleep 0.1; done
[[ ! -e $STRATUS_E2E_DATA/images/image-$SNAP ]] && pass "the snapshot's file is gone" || fail "snapshot file gone"
for _ in $(seq 1 100); do [[ -e $STRATUS_E2E_DATA/vms/$ID2 ]] || break; sleep 0.1; done
check "poweroff vm-one" hc server poweroff vm-one

echo "== an image without a disk"
if hc server create --name vm-nodisk --type cx22 --image debian-12 --location fsn1 --ssh-key e2e; then
	fail "create from an image with no disk fails" "$OUT"
else
	grep -q "has no disk in the image store" <<<"$OUT" && pass "create from an image with no disk fails clearly" ||
		fail "create from an image with no disk fails clearly" "$OUT"
fi
ours() { # the domains of this run (their disks are under its temp dir)
	local d
	for d in $(virsh -c qemu:///system list --all --name | grep '^stratus-' || true); do
		virsh -c qemu:///system dumpxml "$d" 2>/dev/null | grep -q "$STRATUS_E2E_TMP" && echo "$d"
	done
	true
}
domains=$(ours | grep -c . || true)
((domains == 1)) && pass "no domain left behind" || fail "no domain left behind" "$(virsh -c qemu:///system list --all)"
[[ $(ls "$STRATUS_E2E_DATA/vms" | grep -cE '^[0-9]+$') == 1 ]] && pass "no VM files left behind" ||
	fail "no VM files left behind" "$(ls "$STRATUS_E2E_DATA/vms")"
hc server list -o json
[[ $(jq '[.[] | select(.name == "vm-nodisk")] | length' <<<"$OUT") == 0 ]] && pass "no server left behind" ||
	fail "no server left behind" "$OUT"

echo "== delete"
check "delete" hc server delete vm-one
# The domain goes first, then its files.
for _ in $(seq 1 100); do
	virsh -c qemu:///system dominfo "stratus-$ID" >/dev/null 2>&1 || [[ -e $STRATUS_E2E_DATA/vms/$ID ]] || break
	sleep 0.1
done
virsh -c qemu:///system dominfo "stratus-$ID" >/dev/null 2>&1 && fail "domain undefined" || pass "domain undefined"
[[ ! -e $STRATUS_E2E_DATA/vms/$ID ]] && pass "VM files removed" || fail "VM files removed" "$(ls -la "$STRATUS_E2E_DATA/vms/$ID")"
ls "$STRATUS_E2E_DATA/vms" | grep -qE '^[0-9]+$' && fail "no VM folder left" "$(ls "$STRATUS_E2E_DATA/vms")" ||
	pass "no VM folder left"

checks_summary
