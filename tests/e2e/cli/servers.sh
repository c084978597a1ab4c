# shellcheck shell=bash
# Sourced by hcloud_cli.sh: the catalogue, SSH keys, servers and their actions, images, floating IPs.
# Leaves no servers and no SSH keys behind.

# ---------------------------------------------------------------------------------------------
section "catalogue: locations, datacenters, server types, images, ISOs"
ok "location list -o json" location list -o json
jqc "locations include fsn1 nbg1 hel1 ash hil sin" \
	'[.[].name] as $n | ["fsn1","nbg1","hel1","ash","hil","sin"] | all(. as $x | $n | index($x))'
ok "location describe fsn1" location describe fsn1
has "location describe shows the name" 'fsn1'
ok "location describe -o json" location describe fsn1 -o json
jqc "location fsn1 json" '.name == "fsn1" and (.id|type) == "number" and (.network_zone|type) == "string"'

ok "datacenter list -o json" datacenter list -o json
jqc "datacenters include all six" \
	'[.[].name] as $n | ["fsn1-dc14","nbg1-dc3","hel1-dc2","ash-dc1","hil-dc1","sin-dc1"] | all(. as $x | $n | index($x))'
ok "datacenter describe fsn1-dc14 -o json" datacenter describe fsn1-dc14 -o json
jqc "datacenter location is fsn1" '.location.name == "fsn1" and (.server_types.available|type) == "array"'
ok "datacenter describe (text)" datacenter describe nbg1-dc3
has "datacenter describe shows name" 'nbg1-dc3'

ok "server-type list -o json" server-type list -o json
jqc "server types include the x86 catalogue" \
	'[.[].name] as $n | ["cx22","cx32","cx42","cx52","cpx11","cpx21","cpx31","cpx41","cpx51"] | all(. as $x | $n | index($x))'
ok "server-type list (table)" server-type list
has "server-type table lists cx22" 'cx22'
ok "server-type describe cx22 -o json" server-type describe cx22 -o json
jqc "cx22 has cores, memory, disk, prices" \
	'.name == "cx22" and .cores >= 1 and .memory > 0 and .disk > 0 and (.prices|length) > 0 and .architecture == "x86"'
ok "server-type describe (text)" server-type describe cpx11
has "server-type describe shows cores" 'Cores'

ok "image list -o json" image list -o json
jqc "system images present" \
	'[.[].name] as $n | ["ubuntu-22.04","ubuntu-24.04","debian-11","debian-12","fedora-41","rocky-9","alma-9","centos-stream-9"] | all(. as $x | $n | index($x))'
ok "image list -t system -o json" image list -t system -o json
jqc "image list -t system only has system images" 'length >= 8 and all(.type == "system")'
ok "image describe ubuntu-24.04 -o json" image describe ubuntu-24.04 -o json
jqc "ubuntu-24.04 is a system image" '.name == "ubuntu-24.04" and .type == "system" and .os_flavor == "ubuntu" and .status == "available"'

ok "iso list -o json" iso list -o json
jqc "ISO list has virtio-win-0.1.248.iso" 'any(.[]; .name == "virtio-win-0.1.248.iso")'
ok "iso describe virtio-win -o json" iso describe virtio-win-0.1.248.iso -o json
jqc "iso describe json" '.name == "virtio-win-0.1.248.iso" and (.id|type) == "number"'

section "not found errors"
expect_fail "server describe 999999 fails" 'not found' server describe 999999
expect_fail "server describe by unknown name fails" 'not found' server describe no-such-server
expect_fail "ssh-key describe 999999 fails" 'not found' ssh-key describe 999999
expect_fail "image describe 999999 fails" 'not found' image describe 999999
expect_fail "floating-ip describe 999999 fails" 'not found' floating-ip describe 999999
expect_fail "server poweron 999999 fails" 'not found' server poweron 999999

# ---------------------------------------------------------------------------------------------
section "ssh keys"
ssh-keygen -q -t ed25519 -N '' -C e2e-key1@stratus -f "$WORK/key1" >/dev/null
ssh-keygen -q -t rsa -b 2048 -N '' -C e2e-key2@stratus -f "$WORK/key2" >/dev/null
ssh-keygen -q -t ed25519 -N '' -C e2e-key3@stratus -f "$WORK/key3" >/dev/null
FP1=$(ssh-keygen -l -E md5 -f "$WORK/key1.pub" | awk '{print $2}' | sed 's/^MD5://')
FP2=$(ssh-keygen -l -E md5 -f "$WORK/key2.pub" | awk '{print $2}' | sed 's/^MD5://')

ok "ssh-key create from file with label" ssh-key create --name e2e-key1 --public-key-from-file "$WORK/key1.pub" --label env=test
has "ssh-key create prints the id" 'SSH key [0-9]+ created'
ok "ssh-key create from string" ssh-key create --name e2e-key2 --public-key "$(cat "$WORK/key2.pub")"
ok "ssh-key list -o json" ssh-key list -o json
jqc "ssh-key list has both keys" '([.[].name] | sort) == ["e2e-key1","e2e-key2"]'
KEYS_JSON=$OUT
jqc "ed25519 fingerprint is MD5 of the blob ($FP1)" ".[] | select(.name==\"e2e-key1\") | .fingerprint == \"$FP1\"" "$KEYS_JSON"
jqc "rsa fingerprint is MD5 of the blob ($FP2)" ".[] | select(.name==\"e2e-key2\") | .fingerprint == \"$FP2\"" "$KEYS_JSON"
ok "ssh-key list -l env=test" ssh-key list -l env=test -o json
jqc "label selector on ssh keys" '[.[].name] == ["e2e-key1"]'
ok "ssh-key describe -o json" ssh-key describe e2e-key1 -o json
jqc "ssh-key describe json" ".name == \"e2e-key1\" and .labels.env == \"test\" and (.public_key | startswith(\"ssh-ed25519 \")) and .fingerprint == \"$FP1\""
ok "ssh-key describe (text)" ssh-key describe e2e-key2
has "ssh-key describe shows fingerprint" "$FP2"
ok "ssh-key update --name" ssh-key update e2e-key2 --name e2e-key2-renamed
ok "ssh-key describe renamed" ssh-key describe e2e-key2-renamed -o json
jqc "renamed ssh key keeps its fingerprint" ".fingerprint == \"$FP2\""
expect_fail "old ssh key name is gone" 'not found' ssh-key describe e2e-key2
ok "ssh-key add-label" ssh-key add-label e2e-key2-renamed team=ops
ok "ssh-key describe after add-label" ssh-key describe e2e-key2-renamed -o json
jqc "ssh key label added" '.labels.team == "ops"'
ok "ssh-key remove-label" ssh-key remove-label e2e-key1 env
ok "ssh-key describe after remove-label" ssh-key describe e2e-key1 -o json
jqc "ssh key label removed" '.labels == {}'
expect_fail "ssh-key remove-label of a missing key fails" 'does not exist' ssh-key remove-label e2e-key1 env
expect_fail "duplicate ssh key name -> uniqueness_error" 'uniqueness_error' \
	ssh-key create --name e2e-key1 --public-key-from-file "$WORK/key3.pub"
expect_fail "duplicate ssh key fingerprint -> uniqueness_error" 'uniqueness_error' \
	ssh-key create --name e2e-key1-again --public-key-from-file "$WORK/key1.pub"
expect_fail "invalid public key -> invalid_input" 'invalid_input' \
	ssh-key create --name e2e-bad --public-key 'ssh-ed25519 not-a-valid-key'

# ---------------------------------------------------------------------------------------------
section "servers: create"
cat >"$WORK/user-data.yaml" <<'EOF'
#cloud-config
packages: [nginx]
EOF
ok "server create with ssh key, labels, user data" server create --name e2e-web1 --type cx22 --image ubuntu-24.04 \
	--location fsn1 --ssh-key e2e-key1 --label env=test --label role=web --user-data-from-file "$WORK/user-data.yaml"
has "create prints 'Server N created'" '^Server [0-9]+ created'
has "create prints an IPv4" '^IPv4: [0-9]+\.[0-9]+\.[0-9]+\.[0-9]+'
has "create prints an IPv6 network" '^IPv6 Network: [0-9a-f:]+/[0-9]+'
if grep -q 'Root password' <<<"$OUT"; then fail "no root password when an ssh key is given" "$OUT"; else pass "no root password when an ssh key is given"; fi
S1=$(sed -n 's/^Server \([0-9]*\) created.*/\1/p' <<<"$OUT")

ok "server create without ssh key (datacenter)" server create --name e2e-web2 --type cpx11 --image debian-12 \
	--datacenter nbg1-dc3 --label env=prod
has "root password printed when no ssh key is given" '^Root password: .+'
S2=$(sed -n 's/^Server \([0-9]*\) created.*/\1/p' <<<"$OUT")

ok "server create --start-after-create=false" server create --name e2e-web3 --type cx22 --image ubuntu-22.04 \
	--location hel1 --ssh-key e2e-key2-renamed --start-after-create=false --label env=staging --label role=db
S3=$(sed -n 's/^Server \([0-9]*\) created.*/\1/p' <<<"$OUT")

expect_fail "duplicate server name -> uniqueness_error" 'uniqueness_error' \
	server create --name e2e-web1 --type cx22 --image ubuntu-24.04
expect_fail "unknown server type fails" 'not found|invalid_input' \
	server create --name e2e-bad --type cx999 --image ubuntu-24.04
expect_fail "unknown image fails" 'not found|invalid_input' \
	server create --name e2e-bad --type cx22 --image no-such-image

section "servers: list / describe"
ok "server list -o json" server list -o json
jqc "list returns the three servers" '([.[].name] | sort) == ["e2e-web1","e2e-web2","e2e-web3"]'
jqc "ids are integers, created is RFC 3339" 'all(.[]; (.id|type) == "number" and (.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")))'
jqc "server list statuses" '(.[] | select(.name=="e2e-web1") | .status) == "running" and (.[] | select(.name=="e2e-web3") | .status) == "off"'

sel() { # sel SELECTOR EXPECTED-JSON-ARRAY-OF-NAMES
	ok "server list -l '$1'" server list -l "$1" -o json
	jqc "selector '$1' -> $2" "([.[].name] | sort) == $2"
}
sel 'env=test' '["e2e-web1"]'
sel 'env!=test' '["e2e-web2","e2e-web3"]'
sel 'role' '["e2e-web1","e2e-web3"]'
sel '!role' '["e2e-web2"]'
sel 'env in (test,prod)' '["e2e-web1","e2e-web2"]'
sel 'env notin (test,prod)' '["e2e-web3"]'
sel 'env=test,role=web' '["e2e-web1"]'
sel 'role,env!=staging' '["e2e-web1"]'
expect_fail "malformed label selector -> invalid_input" 'invalid_input' server list -l 'env in (test'

ok "server list -s name:desc" server list -s name:desc -o json
jqc "sorted by name descending" '[.[].name] == ["e2e-web3","e2e-web2","e2e-web1"]'
ok "server list -s id:asc" server list -s id:asc -o json
jqc "sorted by id ascending" '[.[].id] == ([.[].id] | sort)'
ok "server list -o columns" server list -o columns=id,name,status,ipv4,location -o noheader
has "columns output: web1 running in fsn1" "^$S1 +e2e-web1 +running +[0-9.]+ +fsn1"
has "columns output: web3 off in hel1" "e2e-web3 +off +[0-9.]+ +hel1"
ok "server list (table)" server list
has "table header" '^ID +NAME +STATUS'

ok "server describe -o json" server describe e2e-web1 -o json
W1=$OUT
jqc "describe: identity and status" ".id == ${S1:-0} and .name == \"e2e-web1\" and .status == \"running\""
jqc "describe: type, image, location" '.server_type.name == "cx22" and .image.name == "ubuntu-24.04" and .datacenter.location.name == "fsn1"'
jqc "describe: labels" '.labels == {"env":"test","role":"web"}'
jqc "describe: public_net ipv4/ipv6" '(.public_net.ipv4.ip | test("^[0-9.]+$")) and (.public_net.ipv6.ip | test(":"))'
jqc "describe: protection/rescue/backup fields" '.protection.delete == false and .protection.rebuild == false and .rescue_enabled == false and .backup_window == null'
jqc "describe: other fields present" 'has("private_net") and has("volumes") and has("load_balancers") and has("primary_disk_size") and has("included_traffic")'
ok "server describe by id (text)" server describe "${S1:-0}"
has "describe text shows name" 'Name:[[:space:]]+e2e-web1'
has "describe text shows status" 'Status:[[:space:]]+running'
ok "server ip" server ip e2e-web1
has "server ip prints the IPv4" "^$(jget .public_net.ipv4.ip "$W1")\$"
ok "server describe web2 -o json" server describe e2e-web2 -o json
jqc "web2 in nbg1-dc3 with cpx11 and debian-12" '.datacenter.name == "nbg1-dc3" and .server_type.name == "cpx11" and .image.name == "debian-12"'
jqc "public IPs differ between servers" "(.public_net.ipv4.ip != \"$(jget .public_net.ipv4.ip "$W1")\")"

section "servers: update / labels"
ok "server update --name" server update e2e-web1 --name e2e-web1b
ok "describe renamed server" server describe e2e-web1b -o json
jqc "renamed server keeps id" ".id == ${S1:-0}"
expect_fail "old server name is gone" 'not found' server describe e2e-web1
expect_fail "rename to an existing name -> uniqueness_error" 'uniqueness_error' server update e2e-web1b --name e2e-web2
ok "server update rename back" server update "${S1:-0}" --name e2e-web1
ok "server add-label" server add-label e2e-web1 tier=frontend
has "add-label message" 'Label tier added to server'
ok "describe after add-label" server describe e2e-web1 -o json
jqc "label added, others kept" '.labels == {"env":"test","role":"web","tier":"frontend"}'
ok "server add-label --overwrite" server add-label --overwrite e2e-web1 tier=edge
ok "describe after overwrite" server describe e2e-web1 -o json
jqc "label overwritten" '.labels.tier == "edge"'
ok "server remove-label" server remove-label e2e-web1 tier
ok "describe after remove-label" server describe e2e-web1 -o json
jqc "label removed" '.labels == {"env":"test","role":"web"}'

section "servers: power actions"
status_is() { # NAME SERVER STATUS
	hc server describe -o json "$2" || true
	jqc "$1" ".status == \"$3\""
}
ok "server poweroff" server poweroff e2e-web1
has "poweroff message" 'stopped'
status_is "status off after poweroff" e2e-web1 off
ok "server poweron" server poweron e2e-web1
has "poweron message" 'started'
status_is "status running after poweron" e2e-web1 running
ok "server reboot" server reboot e2e-web1
has "reboot message" 'rebooted'
status_is "status running after reboot" e2e-web1 running
ok "server reset" server reset e2e-web1
has "reset message" 'reset'
status_is "status running after reset" e2e-web1 running
ok "server shutdown" server shutdown e2e-web1
has "shutdown message" '[Ss]hut ?down'
ok "server poweron after shutdown" server poweron e2e-web1
status_is "status running again" e2e-web1 running
ok "server poweron a stopped server (web3)" server poweron e2e-web3
status_is "web3 running" e2e-web3 running

section "servers: password, rescue"
ok "server reset-password" server reset-password e2e-web1
has "reset-password prints the new password" 'reset to: .{6,}'
ok "server enable-rescue with key" server enable-rescue --type linux64 --ssh-key e2e-key1 e2e-web1
has "enable-rescue prints a root password" 'root password: .+'
status_is "still running after enable-rescue" e2e-web1 running
jqc "rescue_enabled true" '.rescue_enabled == true'
ok "server disable-rescue" server disable-rescue e2e-web1
hc server describe -o json e2e-web1 || true
jqc "rescue_enabled false" '.rescue_enabled == false'

section "images: snapshot, rebuild"
ok "server create-image --type snapshot" server create-image --type snapshot --description e2e-snap --label kind=snap e2e-web1
has "create-image message" "^Image [0-9]+ created from server ${S1:-x}"
IMG=$(sed -n 's/^Image \([0-9]*\) created.*/\1/p' <<<"$OUT")
ok "image list -t snapshot -o json" image list -t snapshot -o json
jqc "snapshot listed with description and creator" \
	"any(.[]; .id == ${IMG:-0} and .type == \"snapshot\" and .description == \"e2e-snap\" and .created_from.id == ${S1:-0} and .status == \"available\")"
ok "image list -l kind=snap" image list -l kind=snap -o json
jqc "image label selector" "[.[].id] == [${IMG:-0}]"
ok "image describe snapshot" image describe "${IMG:-0}" -o json
jqc "snapshot json" '.type == "snapshot" and .labels.kind == "snap" and .bound_to == null'
ok "image update --description" image update "${IMG:-0}" --description e2e-snap-v2
ok "image add-label" image add-label "${IMG:-0}" stage=golden
ok "image describe after update" image describe "${IMG:-0}" -o json
jqc "image description and labels updated" '.description == "e2e-snap-v2" and .labels == {"kind":"snap","stage":"golden"}'
ok "image remove-label" image remove-label "${IMG:-0}" stage
ok "image describe after remove-label" image describe "${IMG:-0}" -o json
jqc "image label removed" '.labels == {"kind":"snap"}'
expect_fail "system images cannot be deleted" 'forbidden|protected|invalid|not allowed|not found' image delete ubuntu-24.04

ok "server rebuild from snapshot" server rebuild --image "${IMG:-0}" e2e-web2
hc server describe -o json e2e-web2 || true
jqc "web2 rebuilt from the snapshot" ".image.id == ${IMG:-0} and .status == \"running\""
ok "server rebuild from system image" server rebuild --image ubuntu-22.04 e2e-web2
hc server describe -o json e2e-web2 || true
jqc "web2 rebuilt from ubuntu-22.04" '.image.name == "ubuntu-22.04"'
ok "server create from snapshot" server create --name e2e-from-snap --type cx22 --image "${IMG:-0}" --ssh-key e2e-key1
hc server describe -o json e2e-from-snap || true
jqc "server created from snapshot" ".image.id == ${IMG:-0} and .status == \"running\""
ok "delete server created from snapshot" server delete e2e-from-snap

section "servers: change-type"
ok "poweroff before change-type" server poweroff e2e-web1
ok "server change-type --keep-disk" server change-type --keep-disk e2e-web1 cx32
has "change-type message (disk kept)" 'changed to type cx32'
hc server describe -o json e2e-web1 || true
jqc "server type is cx32" '.server_type.name == "cx32"'
ok "server change-type (upgrade disk)" server change-type e2e-web1 cx42
hc server describe -o json e2e-web1 || true
jqc "server type is cx42" '.server_type.name == "cx42"'
ok "poweron after change-type" server poweron e2e-web1

section "servers: backups"
ok "server enable-backup" server enable-backup e2e-web1
hc server describe -o json e2e-web1 || true
jqc "backup_window set" '.backup_window != null and (.backup_window | length) > 0'
if stratus_cli sim advance --hours 25 >"$WORK/advance.log" 2>&1; then
	pass "stratus sim advance --hours 25"
else
	fail "stratus sim advance --hours 25" "$(cat "$WORK/advance.log")"
fi
ok "image list -t backup" image list -t backup -o json
jqc "a backup image of web1 exists" "any(.[]; .type == \"backup\" and .created_from.id == ${S1:-0} and .bound_to == ${S1:-0})"
ok "server disable-backup" server disable-backup e2e-web1
hc server describe -o json e2e-web1 || true
jqc "backup_window null" '.backup_window == null'
ok "image list -t backup after disable" image list -t backup -o json
jqc "disable-backup deleted the backups of web1" "(. // []) | all(.[]; .bound_to != ${S1:-0})"

section "servers: ISO"
ok "server attach-iso" server attach-iso e2e-web1 virtio-win-0.1.248.iso
has "attach-iso message" 'ISO virtio-win-0.1.248.iso attached'
hc server describe -o json e2e-web1 || true
jqc "iso attached" '.iso.name == "virtio-win-0.1.248.iso"'
ok "server detach-iso" server detach-iso e2e-web1
hc server describe -o json e2e-web1 || true
jqc "iso detached" '.iso == null'

section "servers: reverse DNS"
ok "server set-rdns (ipv4 default)" server set-rdns e2e-web1 --hostname web1.example.com
has "set-rdns message" 'Reverse DNS of [Ss]erver'
hc server describe -o json e2e-web1 || true
jqc "ipv4 dns_ptr set" '.public_net.ipv4.dns_ptr == "web1.example.com"'
V6NET=$(jget .public_net.ipv6.ip)
V6ADDR="${V6NET%%/*}"
V6ADDR="${V6ADDR%::}::1"
ok "server set-rdns --ip ipv6 ($V6ADDR)" server set-rdns e2e-web1 --ip "$V6ADDR" --hostname v6.example.com
hc server describe -o json e2e-web1 || true
jqc "ipv6 dns_ptr entry" '(.public_net.ipv6.dns_ptr | type) == "array" and any(.public_net.ipv6.dns_ptr[]; .dns_ptr == "v6.example.com")'
expect_fail "set-rdns for a foreign ip fails" 'invalid_input|not found|ip' server set-rdns e2e-web1 --ip 192.0.2.77 --hostname x.example.com

section "servers: console, metrics"
ok "server request-console -o json" server request-console e2e-web1 -o json
# hcloud 1.30 prints its Go struct here (WSSURL/Password); newer versions print wss_url/password
jqc "console has wss_url and password" '((.wss_url // .WSSURL) | test("^wss?://")) and ((.password // .Password) | length) > 0'
ok "server request-console (text)" server request-console e2e-web1
has "console text output" 'WebSocket URL: wss?://'
for mt in cpu disk network; do
	ok "server metrics --type $mt -o json" server metrics --type "$mt" e2e-web1 -o json
	jqc "metrics $mt has time series" '(.metrics.time_series | length) > 0 and all(.metrics.time_series[]; (.values | length) > 0) and (.metrics.step | type) == "number"'
done
hc server metrics --type cpu e2e-web1 -o json || true
jqc "cpu series named cpu, values are [ts, \"str\"]" '(.metrics.time_series.cpu.values[0] | (.[0]|type) == "number" and (.[1]|type) == "string")'
ok "server metrics with --start/--end" server metrics --type cpu --start "$(date -u -d '-2 hours' +%Y-%m-%dT%H:%M:%SZ)" --end "$(date -u +%Y-%m-%dT%H:%M:%SZ)" e2e-web1
has "metrics text output" 'Metric: cpu'

section "floating IPs"
ok "floating-ip create ipv4" floating-ip create --type ipv4 --home-location fsn1 --name e2e-fip --description first --label a=b
has "floating-ip create message" '^Floating IP [0-9]+ created'
FIP=$(sed -n 's/^Floating IP \([0-9]*\) created.*/\1/p' <<<"$OUT")
ok "floating-ip describe -o json" floating-ip describe e2e-fip -o json
jqc "floating ip json" '.type == "ipv4" and .home_location.name == "fsn1" and .server == null and .description == "first" and .labels.a == "b" and (.ip | test("^[0-9.]+$"))'
FIPADDR=$(jget .ip)
ok "floating-ip assign" floating-ip assign e2e-fip e2e-web1
has "assign message" "Floating IP ${FIP:-x} assigned to server ${S1:-x}"
hc floating-ip describe e2e-fip -o json || true
jqc "assigned to web1" ".server == ${S1:-0}"
ok "floating-ip set-rdns" floating-ip set-rdns e2e-fip --hostname fip.example.com
hc floating-ip describe e2e-fip -o json || true
jqc "floating ip dns_ptr" "any(.dns_ptr[]; .ip == \"$FIPADDR\" and .dns_ptr == \"fip.example.com\")"
ok "floating-ip unassign" floating-ip unassign e2e-fip
hc floating-ip describe e2e-fip -o json || true
jqc "unassigned" '.server == null'
ok "floating-ip update" floating-ip update e2e-fip --description second --name e2e-fip2
hc floating-ip describe e2e-fip2 -o json || true
jqc "floating ip renamed and described" '.description == "second" and .name == "e2e-fip2"'
ok "floating-ip enable-protection" floating-ip enable-protection e2e-fip2 delete
hc floating-ip describe e2e-fip2 -o json || true
jqc "floating ip protected" '.protection.delete == true'
expect_fail "delete protected floating ip -> protected" 'protected' floating-ip delete e2e-fip2
ok "floating-ip disable-protection" floating-ip disable-protection e2e-fip2 delete
ok "floating-ip create ipv6 assigned to web2" floating-ip create --type ipv6 --server e2e-web2 --name e2e-fip6
hc floating-ip describe e2e-fip6 -o json || true
jqc "ipv6 floating ip assigned at create, homed in web2's location" ".type == \"ipv6\" and .server == ${S2:-0} and .home_location.name == \"nbg1\" and (.ip | test(\":\"))"
ok "floating-ip list -o json" floating-ip list -o json
jqc "two floating ips" '([.[].name] | sort) == ["e2e-fip2","e2e-fip6"]'
ok "floating-ip list -l a=b" floating-ip list -l a=b -o json
jqc "floating ip label selector" '[.[].name] == ["e2e-fip2"]'
ok "floating-ip add-label" floating-ip add-label e2e-fip6 tier=edge
ok "floating-ip remove-label" floating-ip remove-label e2e-fip2 a
ok "floating-ip list -l tier=edge" floating-ip list -l tier=edge -o json
jqc "floating ip found by its added label" '[.[].name] == ["e2e-fip6"]'
ok "floating-ip list -l a=b after remove-label" floating-ip list -l a=b -o json
jqc "removed label selects nothing" '(. // []) | length == 0'
ok "floating-ip delete" floating-ip delete e2e-fip2
ok "floating-ip delete ipv6" floating-ip delete e2e-fip6
expect_fail "deleted floating ip is gone" 'not found' floating-ip describe e2e-fip2

section "protection"
ok "server enable-protection delete rebuild" server enable-protection e2e-web1 delete rebuild
hc server describe -o json e2e-web1 || true
jqc "server protected" '.protection.delete == true and .protection.rebuild == true'
expect_fail "delete protected server -> protected" 'protected' server delete e2e-web1
expect_fail "rebuild protected server -> protected" 'protected' server rebuild --image ubuntu-24.04 e2e-web1
ok "server disable-protection" server disable-protection e2e-web1 delete rebuild
hc server describe -o json e2e-web1 || true
jqc "server unprotected" '.protection.delete == false and .protection.rebuild == false'
ok "image enable-protection" image enable-protection "${IMG:-0}" delete
expect_fail "delete protected image -> protected" 'protected' image delete "${IMG:-0}"
ok "image disable-protection" image disable-protection "${IMG:-0}" delete
ok "image delete" image delete "${IMG:-0}"
expect_fail "deleted image is gone" 'not found' image describe "${IMG:-0}"

section "delete"
ok "server delete web1" server delete e2e-web1
has "delete message" 'deleted'
ok "server delete web2 (by id)" server delete "${S2:-0}"
ok "server delete web3" server delete e2e-web3
await_gone server e2e-web1 e2e-web2 e2e-web3
expect_fail "deleted server is gone" 'not found' server describe e2e-web1
ok "server list after delete" server list -o json
jqc "no servers left" 'length == 0'
ok "ssh-key delete" ssh-key delete e2e-key1
ok "ssh-key delete renamed" ssh-key delete e2e-key2-renamed
ok "ssh-key list after delete" ssh-key list -o json
jqc "no ssh keys left" 'length == 0'
