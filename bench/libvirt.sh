#!/usr/bin/env bash
# Benchmark (not a test) of real VMs: `stratus serve --driver libvirt`, driven by the hcloud CLI,
# under whatever virtualisation `stratus doctor` reports (TCG on the development machine):
#   image builds (small, debian-12);
#   a bare qemu-system-x86_64 boot of the small image (same build, machine, vCPUs and memory) until
#   its SSH banner, next to POST /servers until its actions succeed and until the server's banner,
#   BENCH_BOOTS times each (default 5, in turns), compared by their medians: Stratus's overhead
#   over the boot itself;
#   server create through the CLI, until the action ends and until `ssh root@IP` runs a command;
#   reboot, poweroff, poweron, create-image of a running server and rebuild of a small server;
#   BENCH_PARALLEL (default 10) small servers created at once, until every one answers over SSH,
#   and the host memory (RSS of QEMU and passt) per VM.
# Prints each figure as a `RESULT name=value` line (seconds).
#   bash bench/libvirt.sh
# Env: STRATUS_BIN (default target/release/stratus, built with the libvirt feature), BENCH_NO_BUILD=1
#      to skip the build, BENCH_BOOTS, BENCH_PARALLEL. A failed run keeps the server log and the
#      guests' serial logs in BENCH_LOGS (default /tmp/stratus-bench-logs).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [[ -z ${BENCH_NO_BUILD:-} ]]; then
	cargo build --release --quiet --features libvirt
fi
export STRATUS_LOGS_ON_FAILURE=${BENCH_LOGS:-/tmp/stratus-bench-logs}
export RUST_LOG=${RUST_LOG:-info}
source tests/e2e/lib.sh
source tests/e2e/vm_lib.sh

now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
result() { echo "RESULT $1=$2"; }
banner() { # host port: whether an SSH server answers with its banner (speaking first, as the driver's probe does)
	timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2 && printf 'SSH-2.0-bench\\r\\n' >&3 && head -c 4 <&3" 2>/dev/null | grep -q SSH-
}
api() { # method path [body]
	curl -sf -X "$1" -H "Authorization: Bearer $HCLOUD_TOKEN" -H 'Content-Type: application/json' \
		"$HCLOUD_ENDPOINT$2" ${3:+-d "$3"}
}
until_ssh() { # ip: waits until a command runs over SSH in the guest
	for _ in $(seq 1 120); do
		guest "$1" true && return 0
		sleep 1
	done
	return 1
}
timed() { # name cmd...: runs cmd, prints its duration as RESULT name
	local t0
	t0=$(now)
	"$@" || { echo "bench: $1 failed: $OUT" >&2; exit 1; }
	result "$NAME" "$(secs "$t0" "$(now)")"
}

echo "stratus $("$STRATUS_BIN" --version 2>/dev/null || echo '(version unknown)'); $(nproc) cores; $(date -u +%Y-%m-%dT%H:%M:%SZ)"
for image in small debian-12; do
	t0=$(now)
	stratus_cli image build "$image" >/dev/null
	result "image_build_$image" "$(secs "$t0" "$(now)")"
done
stratus_cli doctor 2>/dev/null | grep -i virtualisation || true

hc ssh-key create --name bench --public-key-from-file "$WORK/key.pub" >/dev/null

# The boot alone: QEMU and passt started by hand, booting what a server boots (an overlay
# of the same build, the NoCloud seed a server got, TCG as the driver runs it here, passt
# forwarding a loopback port to the guest's 22), without Stratus or libvirt.
img="$STRATUS_E2E_DATA/images/small/$(cat "$STRATUS_E2E_DATA/images/small/current")"
bare_boot() { # prints seconds from passt's and QEMU's start to the guest's SSH banner
	local port net t0 qemu took
	rm -f "$WORK/bare.qcow2"
	qemu-img create -q -f qcow2 -b "$img/disk.qcow2" -F qcow2 "$WORK/bare.qcow2" 40G
	port=$((20000 + RANDOM % 10000))
	# passt as libvirt runs it: unprivileged (as root it gives up its rights and fails),
	# daemonised once its socket listens, gone when QEMU is.
	net=$WORK/bare-net
	rm -rf "$net" && mkdir -m 0777 "$net"
	t0=$(now)
	runuser -u libvirt-qemu -- passt -q -1 -s "$net/passt.sock" -P "$net/passt.pid" -l "$net/passt.log" \
		-t "127.0.0.1/$port:22" >/dev/null 2>&1
	# -nodefaults as libvirt starts QEMU (else QEMU adds devices the firmware then probes).
	qemu-system-x86_64 -machine q35,accel=tcg -smp 2 -m 4096 -nodefaults -vga std -display none -monitor none \
		-kernel "$img/vmlinuz" -initrd "$img/initrd.img" -append "$(jq -r .boot.cmdline "$img/manifest.json")" \
		-drive "file=$WORK/bare.qcow2,if=virtio,format=qcow2" -drive "file=$WORK/bare-seed.img,if=virtio,format=raw,readonly=on" \
		-netdev "stream,id=n0,server=off,addr.type=unix,addr.path=$net/passt.sock" -device virtio-net-pci,netdev=n0 \
		-serial "file:$WORK/bare-serial.log" &
	qemu=$!
	for _ in $(seq 1 600); do banner 127.0.0.1 "$port" && break; sleep 0.1; done
	took=$(secs "$t0" "$(now)")
	kill "$qemu" "$(cat "$net/passt.pid")" 2>/dev/null
	wait "$qemu" 2>/dev/null || true
	echo "$took"
}
# The same through Stratus: POST /servers, its actions polled every 100 ms, then the
# banner. Prints the seconds until libvirt started the domain (its serial log appears:
# everything before is Stratus's own work), until the actions succeeded and until the banner.
api_boot() { # name
	local t0 tq t1 created ip a log
	t0=$(now)
	created=$(api POST /servers "{\"name\":\"$1\",\"server_type\":\"cx22\",\"image\":\"small\",\"location\":\"fsn1\",\"ssh_keys\":[\"bench\"]}")
	ip=$(jq -r .server.public_net.ipv4.ip <<<"$created")
	log=$STRATUS_E2E_DATA/vms/$(jq -r .server.id <<<"$created")/serial.log
	until [[ -e $log ]]; do sleep 0.01; done
	tq=$(now)
	for a in $(jq -r '(.action.id), (.next_actions[].id)' <<<"$created"); do
		until [[ $(api GET "/actions/$a" | jq -r .action.status) == success ]]; do sleep 0.1; done
	done
	t1=$(now)
	for _ in $(seq 1 600); do banner "$ip" 22 && break; sleep 0.1; done
	echo "$(secs "$t0" "$tq") $(secs "$t0" "$t1") $(secs "$t0" "$(now)")"
	hc server delete "$1" >/dev/null
}
median() { # numbers...
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# A first server, not counted: its seed is the bare boot's, and the image's files are in
# the page cache for both.
hc server create --name b-seed --type cx22 --image small --location fsn1 --ssh-key bench >/dev/null
hc server describe b-seed -o json
cp "$STRATUS_E2E_DATA/vms/$(jq -r .id <<<"$OUT")/seed.img" "$WORK/bare-seed.img"
hc server delete b-seed
# Run-to-run noise under TCG is about a second, so both boots are repeated, in turns
# (which goes first alternates), and compared by their medians.
boots=${BENCH_BOOTS:-5}
bare_runs=() start_runs=() action_runs=() banner_runs=()
for round in $(seq 1 "$boots"); do
	((round % 2)) && bare_runs+=("$(bare_boot)")
	read -r started actions banner_at <<<"$(api_boot "b-api-$round")"
	start_runs+=("$started")
	action_runs+=("$actions")
	banner_runs+=("$banner_at")
	((round % 2)) || bare_runs+=("$(bare_boot)")
done
bare=$(median "${bare_runs[@]}")
via_api=$(median "${banner_runs[@]}")
echo "bare boots: ${bare_runs[*]}; POST /servers until the banner: ${banner_runs[*]}"
result bare_qemu_small_until_banner "$bare"
result api_create_small_until_actions_succeed "$(median "${action_runs[@]}")"
result api_create_small_until_banner "$via_api"
result api_create_small_until_domain_start "$(median "${start_runs[@]}")"
# Against the hand-started boot; and what Stratus does before libvirt starts the domain,
# as a share of the wait for the banner.
result stratus_overhead_vs_bare_percent "$(awk -v s="$via_api" -v b="$bare" 'BEGIN { printf "%.1f", (s - b) / b * 100 }')"
result stratus_work_before_domain_start_percent "$(awk -v q="$(median "${start_runs[@]}")" -v s="$via_api" 'BEGIN { printf "%.1f", q / s * 100 }')"
for image in small debian-12; do
	t0=$(now)
	hc server create --name "b-$image" --type cx22 --image "$image" --location fsn1 --ssh-key bench ||
		{ echo "bench: create $image failed: $OUT" >&2; exit 1; }
	t1=$(now)
	hc server ip "b-$image"
	ip=$OUT
	until_ssh "$ip" || { echo "bench: no SSH into $image at $ip" >&2; exit 1; }
	result "create_${image}_action" "$(secs "$t0" "$t1")"
	result "create_${image}_until_ssh" "$(secs "$t0" "$(now)")"
done

hc server ip b-small
ip=$OUT
t0=$(now)
hc server reboot b-small && until_ssh "$ip"
result reboot_small_until_ssh "$(secs "$t0" "$(now)")"
NAME=poweroff_small timed hc server poweroff b-small
NAME=poweron_small timed hc server poweron b-small
NAME=create_image_running_small timed hc server create-image --type snapshot --description bench b-small
NAME=rebuild_small timed hc server rebuild --image small b-small
hc server delete b-small
hc server delete b-debian-12

n=${BENCH_PARALLEL:-10}
t0=$(now)
pids=()
for i in $(seq 1 "$n"); do
	timeout 600 hcloud server create --name "p-$i" --type cx22 --image small --location fsn1 --ssh-key bench \
		>"$WORK/create-p-$i.log" 2>&1 &
	pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
((failed == 0)) || { echo "bench: a parallel create failed" >&2; tail -n 3 "$WORK"/create-p-*.log >&2; exit 1; }
for i in $(seq 1 "$n"); do
	hc server ip "p-$i"
	until_ssh "$OUT" || { echo "bench: no SSH into p-$i" >&2; exit 1; }
done
result "create_${n}_small_at_once_until_ssh" "$(secs "$t0" "$(now)")"
# Host memory per VM: the resident sets of each server's QEMU and passt processes.
rss=0
for i in $(seq 1 "$n"); do
	hc server describe "p-$i" -o json
	id=$(jq -r .id <<<"$OUT")
	kb=$(ps -eo rss=,args= | awk -v d="stratus-$id" 'index($0, "guest=" d ",") || index($0, "-" d "-net0") { s += $1 } END { print s + 0 }')
	rss=$((rss + kb))
done
result "host_memory_per_vm_mib" "$(awk -v k="$rss" -v n="$n" 'BEGIN { printf "%.0f", k / n / 1024 }')"
