# shellcheck shell=bash
# Sourced by hcloud_cli.sh: primary IPs (create, list, describe, assign/unassign, set-rdns,
# protection, update, delete) and server create --primary-ipv4 --without-ipv6.
# hcloud 1.30.3 sends no labels on `primary-ip create` and reads --assignee-id as an integer
# from a string flag (always 0), so neither is exercised; it has no label commands for them.

section "primary IPs: create / list / describe"
ok "primary-ip create ipv4" primary-ip create --name e2e-pip4 --type ipv4 --datacenter fsn1-dc14
has "create message" '^Primary IP [0-9]+ created'
PIP4=$(created_id 'Primary IP')
ok "primary-ip create ipv6" primary-ip create --name e2e-pip6 --type ipv6 --datacenter fsn1-dc14
PIP6=$(created_id 'Primary IP')
expect_fail "duplicate primary IP name -> uniqueness_error" 'uniqueness_error' primary-ip create --name e2e-pip4 --type ipv4 --datacenter fsn1-dc14
ok "primary-ip describe ipv4 -o json" primary-ip describe e2e-pip4 -o json
jqc "ipv4: unassigned in fsn1-dc14, default reverse DNS" \
	".id == ${PIP4:-0} and .type == \"ipv4\" and (.ip | test(\"^[0-9.]+$\")) and .assignee_id == null and .auto_delete == false and .blocked == false and .datacenter.name == \"fsn1-dc14\" and .protection.delete == false and (.dns_ptr | length) == 1 and .dns_ptr[0].ip == .ip"
PIP4_IP=$(jget .ip)
ok "primary-ip describe ipv6 -o json" primary-ip describe e2e-pip6 -o json
jqc "ipv6: a /64" ".id == ${PIP6:-0} and .type == \"ipv6\" and (.ip | test(\"^[0-9a-f:]+/64$\")) and .assignee_id == null and .dns_ptr == []"
PIP6_NET=$(jget .ip)
PIP6_ADDR="${PIP6_NET%%/*}1"
ok "primary-ip list -o json" primary-ip list -o json
# the CLI's own list JSON has assignee_id 0 for "none"
jqc "list has both, unassigned" '[.[] | [.name, .type, .ip, .assignee_id]] == [["e2e-pip4","ipv4","'"$PIP4_IP"'",0],["e2e-pip6","ipv6","'"${PIP6_NET%/64}"'",0]]'
ok "primary-ip list -o columns" primary-ip list -o columns=id,name,type,assignee -o noheader
has "columns: ipv4 row" "^${PIP4:-x} +e2e-pip4 +ipv4 +-$"
ok "primary-ip describe (text)" primary-ip describe e2e-pip4
has "text: not assigned" 'Not assigned'
has "text: datacenter" 'Name:[[:space:]]+fsn1-dc14'

section "primary IPs: server create / assign / unassign"
ok "server create --primary-ipv4 --without-ipv6" server create --name e2e-pip-srv --type cx22 --image debian-12 \
	--datacenter fsn1-dc14 --primary-ipv4 e2e-pip4 --without-ipv6
has "create prints the primary IPv4" "^IPv4: $PIP4_IP\$"
if grep -q '^IPv6' <<<"$OUT"; then fail "no IPv6 printed with --without-ipv6" "$OUT"; else pass "no IPv6 printed with --without-ipv6"; fi
PSRV=$(created_id Server)
ok "server describe (primary IPs)" server describe e2e-pip-srv -o json
jqc "server has the primary IPv4 and no IPv6" ".public_net.ipv4.id == ${PIP4:-0} and .public_net.ipv4.ip == \"$PIP4_IP\" and .public_net.ipv6 == null"
ok "primary-ip describe (assigned at create)" primary-ip describe e2e-pip4 -o json
jqc "assigned to the server" ".assignee_id == ${PSRV:-0} and .assignee_type == \"server\""
expect_fail "assign to a running server -> server_not_stopped" 'server_not_stopped' primary-ip assign e2e-pip6 --server e2e-pip-srv
ok "server poweroff for primary IPs" server poweroff e2e-pip-srv
ok "primary-ip assign ipv6" primary-ip assign e2e-pip6 --server e2e-pip-srv
has "assign message" "Primary IP ${PIP6:-x} assigned to server ${PSRV:-x}"
hc server describe e2e-pip-srv -o json || true
jqc "server has the primary IPv6" ".public_net.ipv6.id == ${PIP6:-0} and .public_net.ipv6.ip == \"$PIP6_NET\""
expect_fail "assign an assigned IP -> primary_ip_already_assigned" 'primary_ip_already_assigned' primary-ip assign e2e-pip6 --server e2e-pip-srv
ok "primary-ip unassign ipv4" primary-ip unassign e2e-pip4
has "unassign message" "Primary IP ${PIP4:-x} was unassigned successfully"
hc primary-ip describe e2e-pip4 -o json || true
jqc "ipv4 unassigned" '.assignee_id == null'
hc server describe e2e-pip-srv -o json || true
jqc "server without IPv4" '.public_net.ipv4 == null and .public_net.ipv6.id == '"${PIP6:-0}"

section "primary IPs: reverse DNS / protection / update / delete"
ok "primary-ip set-rdns ipv4" primary-ip set-rdns e2e-pip4 --ip "$PIP4_IP" --hostname pip4.example.com
has "set-rdns message" "Primary IP ${PIP4:-x} DNS pointer: pip4.example.com associated to $PIP4_IP"
ok "primary-ip set-rdns ipv6 ($PIP6_ADDR)" primary-ip set-rdns e2e-pip6 --ip "$PIP6_ADDR" --hostname pip6.example.com
hc primary-ip describe e2e-pip4 -o json || true
jqc "ipv4 dns_ptr" ".dns_ptr == [{\"ip\":\"$PIP4_IP\",\"dns_ptr\":\"pip4.example.com\"}]"
hc primary-ip describe e2e-pip6 -o json || true
jqc "ipv6 dns_ptr" ".dns_ptr == [{\"ip\":\"$PIP6_ADDR\",\"dns_ptr\":\"pip6.example.com\"}]"
expect_fail "set-rdns for an address outside the IP fails" 'invalid_input' primary-ip set-rdns e2e-pip4 --ip 192.0.2.1 --hostname x.example.com
ok "primary-ip enable-protection" primary-ip enable-protection e2e-pip4
hc primary-ip describe e2e-pip4 -o json || true
jqc "primary IP protected" '.protection.delete == true'
expect_fail "delete a protected primary IP -> protected" 'protected' primary-ip delete e2e-pip4
ok "primary-ip disable-protection" primary-ip disable-protection e2e-pip4
hc primary-ip describe e2e-pip4 -o json || true
jqc "primary IP unprotected" '.protection.delete == false'
ok "primary-ip update --name --auto-delete" primary-ip update e2e-pip4 --name e2e-pip4b --auto-delete
hc primary-ip describe e2e-pip4b -o json || true
jqc "renamed, auto_delete on" ".id == ${PIP4:-0} and .name == \"e2e-pip4b\" and .auto_delete == true"
ok "primary-ip delete" primary-ip delete e2e-pip4b
has "delete message" 'Primary IP e2e-pip4b deleted'
expect_fail "deleted primary IP is gone" 'not found' primary-ip describe e2e-pip4b
# e2e-pip6 has auto_delete off: it outlives its server
ok "server delete (primary IPs)" server delete e2e-pip-srv
await_gone server e2e-pip-srv
ok "primary-ip describe after its server is gone" primary-ip describe e2e-pip6 -o json
jqc "kept, unassigned" '.assignee_id == null'
ok "server create --primary-ipv6 --without-ipv4" server create --name e2e-pip-srv6 --type cx22 --image debian-12 \
	--datacenter fsn1-dc14 --primary-ipv6 e2e-pip6 --without-ipv4
has "create prints the primary IPv6" "^IPv6: ${PIP6_NET%/64}"
if grep -q '^IPv4' <<<"$OUT"; then fail "no IPv4 printed with --without-ipv4" "$OUT"; else pass "no IPv4 printed with --without-ipv4"; fi
hc server describe e2e-pip-srv6 -o json || true
jqc "server has the primary IPv6 and no IPv4" ".public_net.ipv4 == null and .public_net.ipv6.id == ${PIP6:-0} and .public_net.ipv6.ip == \"$PIP6_NET\""
ok "server delete (IPv6 only)" server delete e2e-pip-srv6
await_gone server e2e-pip-srv6
hc primary-ip describe e2e-pip6 -o json || true
jqc "kept again, unassigned" '.assignee_id == null'
ok "primary-ip delete ipv6 (by id)" primary-ip delete "${PIP6:-0}"
ok "primary-ip list at the end" primary-ip list -o json
jqc "no primary IPs left" '(. // []) | length == 0'
