# shellcheck shell=bash
# Sourced by hcloud_cli.sh: firewalls (create with a rules file, add-rule, delete-rule,
# replace-rules, apply-to-resource / remove-from-resource for a server and a label selector,
# update, labels, delete) and server create --firewall.

section "firewalls: create / rules"
# `firewall create --rules-file` (1.30.3) sends only direction, source_ips, protocol, port and
# description of each rule, so a create file holds inbound rules; outbound ones come below.
cat >"$WORK/fw-create.json" <<'EOF'
[
  {"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["0.0.0.0/0", "::/0"], "description": "ssh"},
  {"direction": "in", "protocol": "icmp", "source_ips": ["10.0.0.0/8"]}
]
EOF
ok "firewall create --rules-file" firewall create --name e2e-fw --rules-file "$WORK/fw-create.json" --label env=test
has "firewall create message" '^Firewall [0-9]+ created'
FW=$(created_id Firewall)
expect_fail "duplicate firewall name -> uniqueness_error" 'uniqueness_error' firewall create --name e2e-fw
ok "firewall describe -o json" firewall describe e2e-fw -o json
# every rule carries all six keys, null where unset: delete-rule below compares them exactly
jqc "rules as sent, unset keys null" \
	'.rules == [{"direction":"in","protocol":"tcp","port":"22","source_ips":["0.0.0.0/0","::/0"],"destination_ips":[],"description":"ssh"},{"direction":"in","protocol":"icmp","port":null,"source_ips":["10.0.0.0/8"],"destination_ips":[],"description":null}]'
jqc "not applied, labelled" ".id == ${FW:-0} and .applied_to == [] and .labels == {\"env\":\"test\"}"

ok "firewall add-rule out" firewall add-rule e2e-fw --direction out --protocol udp --port 53 --destination-ips 1.1.1.1/32 --description dns
has "add-rule message" "Firewall Rules for Firewall ${FW:-x} updated"
ok "firewall add-rule in, port range" firewall add-rule e2e-fw --direction in --protocol tcp --port 80-85 --source-ips 192.168.0.0/16
ok "firewall describe after add-rule" firewall describe e2e-fw -o json
jqc "four rules, the new ones last" \
	'(.rules | length) == 4 and .rules[2] == {"direction":"out","protocol":"udp","port":"53","source_ips":[],"destination_ips":["1.1.1.1/32"],"description":"dns"} and .rules[3] == {"direction":"in","protocol":"tcp","port":"80-85","source_ips":["192.168.0.0/16"],"destination_ips":[],"description":null}'
ok "firewall describe (text)" firewall describe e2e-fw
has "describe text: port range" 'Port:[[:space:]]+80-85'
has "describe text: destination" '1\.1\.1\.1/32'
has "describe text: not applied" 'Not applied'
# delete-rule reads the rules and drops the one equal to the flags (Go deep equality)
ok "firewall delete-rule in" firewall delete-rule e2e-fw --direction in --protocol tcp --port 80-85 --source-ips 192.168.0.0/16
ok "firewall delete-rule out" firewall delete-rule e2e-fw --direction out --protocol udp --port 53 --destination-ips 1.1.1.1/32 --description dns
ok "firewall delete-rule (no port, no description)" firewall delete-rule e2e-fw --direction in --protocol icmp --source-ips 10.0.0.0/8
hc firewall describe e2e-fw -o json || true
jqc "only the ssh rule left" '[.rules[].description] == ["ssh"]'
expect_fail "delete-rule of a missing rule fails" 'not found' firewall delete-rule e2e-fw --direction in --protocol icmp --source-ips 10.0.0.0/8

cat >"$WORK/fw-replace.json" <<'EOF'
[
  {"direction": "in", "protocol": "tcp", "port": "443", "source_ips": ["0.0.0.0/0"], "description": "https"},
  {"direction": "out", "protocol": "tcp", "port": "any", "destination_ips": ["0.0.0.0/0", "::/0"], "description": "all out"},
  {"direction": "in", "protocol": "gre", "source_ips": ["10.0.0.0/8"]}
]
EOF
ok "firewall replace-rules" firewall replace-rules e2e-fw --rules-file "$WORK/fw-replace.json"
has "replace-rules message" "Firewall Rules for Firewall ${FW:-x} updated"
hc firewall describe e2e-fw -o json || true
jqc "rules replaced, in order" \
	'[.rules[] | [.direction, .protocol, .port, .source_ips, .destination_ips, .description]] == [["in","tcp","443",["0.0.0.0/0"],[],"https"],["out","tcp","any",[],["0.0.0.0/0","::/0"],"all out"],["in","gre",null,["10.0.0.0/8"],[],null]]'

section "firewalls: apply / remove"
ok "server create --firewall" server create --name e2e-fw-srv1 --type cx22 --image debian-12 --location fsn1 --firewall e2e-fw
FSRV1=$(created_id Server)
ok "server describe shows the firewall" server describe e2e-fw-srv1 -o json
jqc "public_net.firewalls" ".public_net.firewalls == [{\"id\":${FW:-0},\"status\":\"applied\"}]"
ok "server create (label fwgroup=web)" server create --name e2e-fw-srv2 --type cx22 --image debian-12 --location fsn1 --label fwgroup=web
FSRV2=$(created_id Server)
ok "firewall apply-to-resource --type label_selector" firewall apply-to-resource e2e-fw --type label_selector -l fwgroup=web
has "apply message" "Firewall ${FW:-x} applied"
ok "firewall apply-to-resource --type server" firewall apply-to-resource e2e-fw --type server --server e2e-fw-srv2
expect_fail "apply twice -> firewall_already_applied" 'firewall_already_applied' firewall apply-to-resource e2e-fw --type server --server e2e-fw-srv2
ok "firewall describe -o json (applied)" firewall describe e2e-fw -o json
jqc "applied_to: two servers and the selector with what it matches" \
	"([.applied_to[] | select(.type==\"server\") | .server.id] | sort) == ([${FSRV1:-0}, ${FSRV2:-0}] | sort) and [.applied_to[] | select(.type==\"label_selector\") | [.label_selector.selector, [.applied_to_resources[] | .type, .server.id]]] == [[\"fwgroup=web\", [\"server\", ${FSRV2:-0}]]]"
ok "firewall describe (text, applied)" firewall describe e2e-fw
has "text: server name" 'Server Name:[[:space:]]+e2e-fw-srv1'
has "text: label selector" 'Label Selector:[[:space:]]+fwgroup=web'
hc server describe e2e-fw-srv2 -o json || true
jqc "the selected server shows the firewall" ".public_net.firewalls == [{\"id\":${FW:-0},\"status\":\"applied\"}]"
expect_fail "delete an applied firewall -> resource_in_use" 'resource_in_use' firewall delete e2e-fw

ok "firewall remove-from-resource --type server" firewall remove-from-resource e2e-fw --type server --server e2e-fw-srv1
ok "firewall remove-from-resource --type server (2)" firewall remove-from-resource e2e-fw --type server --server "${FSRV2:-0}"
ok "firewall remove-from-resource --type label_selector" firewall remove-from-resource e2e-fw --type label_selector -l fwgroup=web
expect_fail "remove what is not applied -> firewall_resource_not_found" 'firewall_resource_not_found' \
	firewall remove-from-resource e2e-fw --type label_selector -l fwgroup=web
hc firewall describe e2e-fw -o json || true
jqc "applied nowhere" '.applied_to == []'
hc server describe e2e-fw-srv2 -o json || true
jqc "the server has no firewall" '.public_net.firewalls == []'

section "firewalls: update / labels / delete"
ok "firewall update --name" firewall update e2e-fw --name e2e-fw2
ok "firewall add-label" firewall add-label e2e-fw2 tier=edge
ok "firewall remove-label" firewall remove-label e2e-fw2 env
ok "firewall list -l tier=edge" firewall list -l tier=edge -o json
jqc "renamed firewall found by its new label" "[.[] | [.id, .name, .labels]] == [[${FW:-0}, \"e2e-fw2\", {\"tier\":\"edge\"}]]"
ok "firewall list -o columns" firewall list -o columns=id,name -o noheader
has "columns list the firewall" "^${FW:-x} +e2e-fw2$"
ok "firewall delete" firewall delete e2e-fw2
has "delete message" 'firewall e2e-fw2 deleted'
expect_fail "deleted firewall is gone" 'not found' firewall describe e2e-fw2
ok "server delete e2e-fw-srv1" server delete e2e-fw-srv1
ok "server delete e2e-fw-srv2" server delete e2e-fw-srv2
await_gone server e2e-fw-srv1 e2e-fw-srv2
