#!/usr/bin/env bash
# Real VMs: `stratus serve --driver libvirt` with the `small` image (built here from Debian
# packages), driven by the official hcloud CLI, reached over SSH at each server's loopback
# public IPv4 (passt forwards its port 22). Checks what a user sees: the guest boots with the
# given key, hostname and user data; power actions change the domain libvirt runs; an image
# without a disk fails clearly and leaves nothing behind; delete removes domain and files.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/vm_lib.sh"

echo "== image build"
if OUT=$(stratus_cli image build small 2>&1); then
	pass "stratus image build small"
else
	fail "stratus image build small" "$OUT"
	checks_summary
	exit 1
fi
check "the small image is in the catalogue" hc image describe small -o json
OUT=$(stratus_cli doctor 2>/dev/null) && [[ $OUT == *virtualisation*"qemu (TCG"* || $OUT == *virtualisation*kvm* ]] &&
	pass "stratus doctor passes: $(grep virtualisation <<<"$OUT" | tr -s ' ' | cut -d' ' -f2-4)" ||
	fail "stratus doctor" "$OUT"

echo "== create with an SSH key and user data"
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
# 8 MB sent to the guest and 8 MB from it over SSH, with an idle guest before and after, so
# its agent's readings bracket the transfers (they are 10 s apart; the guest's counters
# come from its agent, which may miss a reading while the guest is busy).
ssh_guest() { ssh -i "$WORK/key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o ConnectTimeout=10 -o ServerAliveInterval=10 -o ServerAliveCountMax=6 -o LogLevel=ERROR "root@$IP" "$@"; }
sleep 11
head -c 8000000 /dev/zero | ssh_guest 'cat > /dev/null' || true
ssh_guest 'head -c 8000000 /dev/zero' >/dev/null || true
sleep 11
hc server metrics vm-one --type network --start "$(date -u -d '-1 min' +%FT%TZ)" --end "$(date -u +%FT%TZ)" -o json ||
	fail "server metrics" "$OUT"
peak() { jq -r --arg s "$1" '[.metrics.time_series[$s].values[][1] | tonumber] | max // 0' <<<"$OUT"; }
awk -v i="$(peak network.0.bandwidth.in)" -v o="$(peak network.0.bandwidth.out)" 'BEGIN { exit !(i > 100000 && o > 100000) }' &&
	pass "network shows the transfers, from the guest's agent (peaks in $(peak network.0.bandwidth.in), out $(peak network.0.bandwidth.out) B/s)" ||
	fail "network metrics" "$OUT"
# One core busy for 25 s and 64 MiB written: the graphs must show both.
guest "$IP" 'timeout 25 sh -c "while :; do :; done"; dd if=/dev/urandom of=/root/load bs=1M count=64 2>/dev/null; sync; rm /root/load' || true
hc server metrics vm-one --type cpu,disk --start "$(date -u -d '-2 min' +%FT%TZ)" --end "$(date -u +%FT%TZ)" -o json ||
	fail "server metrics" "$OUT"
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
# A real browser opens Stratus' noVNC page on that session: it must log in to the VM's VNC and
# draw the guest's screen; a wrong password must be turned away.
BROWSER=("${STRATUS_VENV:-$REPO_ROOT/.venv}/bin/python" "$E2E_DIR/console_browser.py" "$STRATUS_E2E_URL" "$WSS")
OUT=$(timeout 120 "${BROWSER[@]}" "$PW" connect 2>&1) && pass "headless Chromium shows the VM's screen through /novnc/" ||
	fail "noVNC in a browser" "$OUT"
OUT=$(timeout 120 "${BROWSER[@]}" wrong-pw refuse 2>&1) && pass "a wrong VNC password is turned away" ||
	fail "wrong VNC password" "$OUT"
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
echo "== rescue"
hc server enable-rescue --ssh-key e2e vm-one && [[ $OUT == *"root password"* ]] &&
	pass "enable-rescue answers with a root password" || fail "enable-rescue" "$OUT"
check "reset into the rescue system" hc server reset vm-one
# The rescue system finds the server's disk by its serial, mounts it and repairs a file.
# shellcheck disable=SC2016 # expanded in the guest
RESCUE_FIX='for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = stratus-server-disk ] && disk=/dev/${d##*/}; done
hostname; mkdir -p /mnt && mount "$disk" /mnt && cat /mnt/root/kept.txt && echo repaired > /mnt/root/rescued.txt && umount /mnt'
guest "$IP" "$RESCUE_FIX" && [[ $OUT == $'rescue\nkept' ]] &&
	pass "ssh root@$IP reaches the rescue system, which mounts the server's disk" || fail "rescue system" "$OUT"
hc server describe vm-one -o json && [[ $(jq .rescue_enabled <<<"$OUT") == false ]] &&
	pass "the boot into the rescue system disarmed it (rescue_enabled false)" || fail "rescue_enabled after the rescue boot" "$OUT"
check "reboot out of the rescue system" hc server reboot vm-one
guest "$IP" 'hostname; cat /root/rescued.txt' && [[ $OUT == $'vm-one\nrepaired' ]] &&
	pass "the server boots its own system again, with the repair" || fail "after rescue" "$OUT"
check "enable-rescue again" hc server enable-rescue --ssh-key e2e vm-one
check "disable-rescue" hc server disable-rescue vm-one
check "reset after disable-rescue" hc server reset vm-one
guest "$IP" hostname && [[ $OUT == vm-one ]] && pass "a disabled rescue system is not booted" ||
	fail "disabled rescue" "$OUT"
# Armed and left alone for an hour (the clock fast-forwarded), it goes away by itself.
check "enable-rescue, not booted" hc server enable-rescue --ssh-key e2e vm-one
OUT=$(stratus_cli sim advance --hours 2 2>&1) && [[ $OUT == *"1 rescue system(s) disabled"* ]] &&
	pass "an hour later the rescue system is disabled (stratus sim advance)" || fail "rescue expiry" "$OUT"
for _ in $(seq 1 50); do
	hc server describe vm-one -o json && [[ $(jq .rescue_enabled <<<"$OUT") == false ]] && break
	sleep 0.2
done
[[ $(jq .rescue_enabled <<<"$OUT") == false ]] && pass "rescue_enabled false after the expiry" ||
	fail "rescue_enabled after the expiry" "$OUT"
check "reset after the expiry" hc server reset vm-one
guest "$IP" hostname && [[ $OUT == vm-one ]] && pass "an expired rescue system is not booted" ||
	fail "expired rescue" "$OUT"

echo "== ISO in the CD drive"
cdrom() { virsh -c qemu:///system domblklist "stratus-$ID" | awk '$1 == "sda" { print $2 }'; }
mkdir -p "$WORK/iso" && echo "from the ISO" >"$WORK/iso/README.txt"
xorriso -as mkisofs -quiet -V E2E_TOOLS -o "$WORK/e2e-tools.iso" "$WORK/iso" 2>/dev/null
OUT=$(stratus_cli image import-iso "$WORK/e2e-tools.iso" 2>&1) && [[ $OUT == *"added catalogue ISO e2e-tools.iso"* ]] &&
	pass "stratus image import-iso adds the ISO to the catalogue" || fail "import-iso" "$OUT"
check "attach-iso" hc server attach-iso vm-one e2e-tools.iso
[[ $(cdrom) == "$STRATUS_E2E_DATA/isos/e2e-tools.iso" ]] && pass "the ISO is in the running VM's CD drive" ||
	fail "ISO in the drive" "$(cdrom)"
hc server describe vm-one -o json
[[ $(jq -r .iso.name <<<"$OUT") == e2e-tools.iso ]] && pass "the server shows the ISO" || fail "server's iso" "$OUT"
check "detach-iso" hc server detach-iso vm-one
[[ $(cdrom) == - ]] && pass "the drive is empty again" || fail "drive empty" "$(cdrom)"
NOFILE=$(hcloud iso list -o json | jq -r '[.[] | select(.name != "e2e-tools.iso")][0].name')
if hc server attach-iso vm-one "$NOFILE"; then
	fail "an ISO without a file is refused" "$OUT"
else
	[[ $OUT == *"has no file"* ]] && pass "an ISO without a file is refused clearly ($NOFILE)" || fail "ISO without a file" "$OUT"
fi
[[ $(cdrom) == - ]] && pass "and the drive stays empty" || fail "drive after the refusal" "$(cdrom)"

echo "== reset-password through the guest agent"
hc server reset-password vm-one && NEWPW=$(sed -n 's/.*reset to: //p' <<<"$OUT") && [[ -n $NEWPW ]] &&
	pass "reset-password answers with a new root password" || fail "reset-password" "$OUT"
OUT=$(SSHPASS=$NEWPW timeout 60 sshpass -e ssh -o PubkeyAuthentication=no -o PreferredAuthentications=password \
	-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "root@$IP" hostname 2>&1) &&
	[[ $OUT == vm-one ]] && pass "ssh root@$IP with the new password" || fail "login with the new password" "$OUT"

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

echo "== kill -9 of stratus serve while a server boots"
# The create is acknowledged (201 with its action), then serve dies mid-action without a
# chance to clean up; the restarted serve must finish it: the VM runs and is reachable.
check "poweron vm-one (it runs through the kill)" hc server poweron vm-one
api() { curl -sS --max-time 30 -H "Authorization: Bearer $HCLOUD_TOKEN" -H 'Content-Type: application/json' "$@"; }
OUT=$(api -X POST "$HCLOUD_ENDPOINT/servers" \
	-d '{"name":"vm-k9","server_type":"cx22","image":"small","location":"fsn1","ssh_keys":["e2e"]}')
K9_ACTION=$(jq -r '.action.id // empty' <<<"$OUT")
K9=$(jq -r '.server.id // empty' <<<"$OUT")
[[ -n $K9_ACTION && -n $K9 ]] && pass "create acknowledged (server $K9, action $K9_ACTION)" || fail "create for kill -9" "$OUT"
sleep 2
kill -KILL "$STRATUS_E2E_PID"
wait "$STRATUS_E2E_PID" 2>/dev/null || true
check "serve restarts after kill -9" restart_serve
status=running
for _ in $(seq 1 300); do
	OUT=$(api "$HCLOUD_ENDPOINT/actions/$K9_ACTION")
	status=$(jq -r .action.status <<<"$OUT")
	[[ $status == running ]] || break
	sleep 1
done
[[ $status == success ]] && pass "the interrupted create finishes after the restart" || fail "interrupted create" "$OUT"
# Then its chained power-on, resumed too: the server runs and is unlocked.
for _ in $(seq 1 300); do
	hc server describe vm-k9 -o json
	[[ $(jq -r '"\(.status) \(.locked)"' <<<"$OUT") == "running false" ]] && break
	sleep 1
done
K9_IP=$(jq -r .public_net.ipv4.ip <<<"$OUT")
[[ $(jq -r .status <<<"$OUT") == running && $(domstate "$K9") == running ]] &&
	pass "server and domain both run" || fail "state after kill -9" "$OUT / $(domstate "$K9")"
guest "$K9_IP" hostname && [[ $OUT == vm-k9 ]] && pass "ssh root@$K9_IP reaches it" || fail "reach vm-k9" "$OUT"
[[ $(domstate "$ID") == running ]] && guest "$IP" 'cat /root/kept.txt' && [[ $OUT == kept ]] &&
	pass "vm-one ran through the kill and is reachable" || fail "vm-one after kill -9" "$OUT"
check "vm-one is controllable: poweroff" hc server poweroff vm-one
check "delete vm-k9" hc server delete vm-k9
for _ in $(seq 1 100); do [[ -e $STRATUS_E2E_DATA/vms/$K9 ]] || break; sleep 0.1; done
[[ -z $(domstate "$K9") && ! -e $STRATUS_E2E_DATA/vms/$K9 ]] && pass "and its domain and files are gone" ||
	fail "vm-k9 left behind" "$(domstate "$K9") $(ls "$STRATUS_E2E_DATA/vms")"
agree && pass "the API, virsh list --all and the data directory agree ($OUT)" || fail "agreement after kill -9" "$OUT"

echo "== snapshot, a server from it, rebuild, change type"
check "poweron for the snapshot" hc server poweron vm-one
guest "$IP" 'echo "written before the snapshot" > /root/snap.txt; sync' || true
check "create-image of the running server" hc server create-image --type snapshot --description e2e-snap vm-one
SNAP=$(hcloud image list --type snapshot -o json | jq -r '.[] | select(.description == "e2e-snap") | .id')
[[ -n $SNAP && -f $STRATUS_E2E_DATA/images/image-$SNAP/current ]] && pass "the snapshot is a file in the image store" ||
	fail "snapshot file" "$(ls "$STRATUS_E2E_DATA/images")"
guest "$IP" 'cat /root/snap.txt' && [[ $OUT == "written before the snapshot" ]] &&
	pass "the server keeps running and writing after the snapshot" || fail "server after the snapshot" "$OUT"
check "enable-backup" hc server enable-backup vm-one
OUT=$(stratus_cli sim advance --hours 25 2>&1) && pass "the backup window opens (stratus sim advance)" || fail "sim advance" "$OUT"
BK=
for _ in $(seq 1 120); do
	BK=$(hcloud image list --type backup -o json | jq -r '.[] | select(.status == "available") | .id' | head -n 1)
	[[ -n $BK ]] && break
	sleep 1
done
[[ -n $BK && -f $STRATUS_E2E_DATA/images/image-$BK/current ]] && pass "the backup is a disk copy in the image store" ||
	fail "backup file" "$(hcloud image list --type backup -o json) $(ls "$STRATUS_E2E_DATA/images")"
check "disable-backup (its backups go)" hc server disable-backup vm-one
for _ in $(seq 1 100); do [[ -e $STRATUS_E2E_DATA/images/image-$BK ]] || break; sleep 0.1; done
[[ -n $BK && ! -e $STRATUS_E2E_DATA/images/image-$BK ]] && pass "the backup's file is gone" || fail "backup file gone"
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

echo "== a failure at each step of attach, rebuild and create"
# Each injected failure runs the steps before it for real, then their undo: nothing of the
# failed action may stay behind (domain, files, device, address), and the server still works.
inject() { stratus_cli fault action --kind "$1" --step "$2" --count 1 >/dev/null; }
check "poweron vm-one" hc server poweron vm-one
check "volume create (unattached)" hc volume create --name fvol --size 10 --location fsn1
FVOL=$(hcloud volume describe fvol -o json | jq -r .id)
for step in set_server attach_volume record_device; do
	inject volume_attach "$step"
	if hc volume attach --server vm-one fvol; then fail "attach failing at $step fails" "$OUT"; fi
	guest "$IP" "$(voldev "$FVOL")" || true
	[[ -z $OUT && $(virsh -c qemu:///system domblklist "stratus-$ID" | grep -c "volumes/$FVOL.qcow2") == 0 &&
		$(hcloud volume describe fvol -o json | jq -r .server) == null ]] &&
		pass "attach failing at $step: no device in the guest or the domain, volume unattached" ||
		fail "attach failing at $step" "$OUT $(virsh -c qemu:///system domblklist "stratus-$ID")"
done
check "volume delete" hc volume delete fvol
for step in mark_rebuilding stop_vm rebuild_vm set_boot_image start_vm mark_running; do
	inject server_rebuild "$step"
	if hc server rebuild --image small vm-one; then fail "rebuild failing at $step fails" "$OUT"; fi
	status=$(hcloud server describe vm-one -o json | jq -r .status)
	state=$(domstate "$ID")
	[[ ($status == running && $state == running) || ($status == off && $state == "shut off") ]] && agree &&
		pass "rebuild failing at $step: the server is $status as its domain, nothing else changed" ||
		fail "rebuild failing at $step" "status $status, domain $state; $OUT"
done
for step in insert_records create_vm mark_created; do
	inject server_create "$step"
	if hc server create --name vm-fail --type cx22 --image small --location fsn1 --ssh-key e2e; then
		fail "create failing at $step fails" "$OUT"
	fi
	agree && pass "create failing at $step leaves no server, domain, folder or address" || fail "create failing at $step" "$OUT"
done
check "poweron vm-one after the failures" hc server poweron vm-one
guest "$IP" hostname && [[ $OUT == vm-one ]] && pass "vm-one still boots and answers" || fail "vm-one after the failures" "$OUT"
check "poweroff vm-one" hc server poweroff vm-one

echo "== an image without a disk"
if hc server create --name vm-nodisk --type cx22 --image debian-12 --location fsn1 --ssh-key e2e; then
	fail "create from an image with no disk fails" "$OUT"
else
	grep -q "has no disk in the image store" <<<"$OUT" && pass "create from an image with no disk fails clearly" ||
		fail "create from an image with no disk fails clearly" "$OUT"
fi
domains=$(ours | grep -c . || true)
((domains == 1)) && pass "no domain left behind" || fail "no domain left behind" "$(virsh -c qemu:///system list --all)"
[[ $(ls "$STRATUS_E2E_DATA/vms" | grep -cE '^[0-9]+$') == 1 ]] && pass "no VM files left behind" ||
	fail "no VM files left behind" "$(ls "$STRATUS_E2E_DATA/vms")"
hc server list -o json
[[ $(jq '[.[] | select(.name == "vm-nodisk")] | length' <<<"$OUT") == 0 ]] && pass "no server left behind" ||
	fail "no server left behind" "$OUT"

echo "== debian-12: Debian with its own cloud-init"
t0=$(date +%s)
if OUT=$(stratus_cli image build debian-12 2>&1); then
	pass "stratus image build debian-12 ($(($(date +%s) - t0)) s)"
else
	fail "stratus image build debian-12" "$OUT"
fi
cat >"$WORK/cloud-config.yml" <<'YAML'
#cloud-config
write_files:
  - path: /root/written.txt
    content: "written by cloud-init\n"
runcmd:
  - [sh, -c, 'echo "runcmd ran on $(hostname)" > /root/runcmd.txt']
YAML
t0=$(date +%s)
check "server create from debian-12 (waits for its SSH banner)" hc server create --name vm-deb --type cx22 \
	--image debian-12 --location fsn1 --ssh-key e2e --user-data-from-file "$WORK/cloud-config.yml"
echo "  create took $(($(date +%s) - t0)) s"
hc server describe vm-deb -o json
DEB_ID=$(jq -r .id <<<"$OUT")
DEB_IP=$(jq -r .public_net.ipv4.ip <<<"$OUT")
guest "$DEB_IP" '. /etc/os-release; echo "$(hostname) $ID $VERSION_ID"' && [[ $OUT == "vm-deb debian 12" ]] &&
	pass "ssh root@$DEB_IP with the key: Debian 12, hostname vm-deb" || fail "ssh into debian-12" "$OUT"
guest "$DEB_IP" 'cloud-init status --wait | tail -n 1; cat /root/written.txt /root/runcmd.txt' &&
	[[ $OUT == $'status: done\nwritten by cloud-init\nruncmd ran on vm-deb' ]] &&
	pass "cloud-init finished and applied the #cloud-config (write_files, runcmd)" || fail "cloud-config" "$OUT"
guest "$DEB_IP" 'df -k / | tail -n 1' && (($(awk '{print $2}' <<<"$OUT") > 30000000)) &&
	pass "cloud-init grew the root filesystem to the type's disk" || fail "debian-12 root filesystem grown" "$OUT"
hc server reset-password vm-deb && NEWPW=$(sed -n 's/.*reset to: //p' <<<"$OUT") && [[ -n $NEWPW ]] &&
	OUT=$(SSHPASS=$NEWPW timeout 60 sshpass -e ssh -o PubkeyAuthentication=no -o PreferredAuthentications=password \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "root@$DEB_IP" hostname 2>&1) &&
	[[ $OUT == vm-deb ]] && pass "reset-password through Debian's guest agent; ssh with the new password" ||
	fail "debian-12 reset-password" "$OUT"
check "delete vm-deb" hc server delete vm-deb
for _ in $(seq 1 100); do [[ -e $STRATUS_E2E_DATA/vms/$DEB_ID ]] || break; sleep 0.1; done

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
