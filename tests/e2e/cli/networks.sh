# shellcheck shell=bash
# Sourced by hcloud_cli.sh: networks (create, subnets, routes, change-ip-range, update, labels,
# protection, delete) and servers in them (server create --network, attach-to-network,
# change-alias-ips, detach-from-network). hcloud 1.30.3 has no expose-routes-to-vswitch command.

section "networks: create / subnets / routes"
ok "network create" network create --name e2e-net --ip-range 10.0.0.0/16 --label env=test
has "network create message" '^Network [0-9]+ created'
NET=$(created_id Network)
expect_fail "duplicate network name -> uniqueness_error" 'uniqueness_error' network create --name e2e-net --ip-range 10.1.0.0/16
expect_fail "public ip range -> invalid_input" 'invalid_input' network create --name e2e-net-public --ip-range 8.8.0.0/16
ok "network add-subnet cloud with a range" network add-subnet e2e-net --type cloud --network-zone eu-central --ip-range 10.0.1.0/24
has "add-subnet message" "Subnet added to network ${NET:-x}"
ok "network add-subnet cloud without a range" network add-subnet e2e-net --type cloud --network-zone eu-central
ok "network add-subnet vswitch" network add-subnet e2e-net --type vswitch --vswitch-id 1234 --network-zone eu-central --ip-range 10.0.8.0/24
expect_fail "overlapping subnet -> invalid_input" 'invalid_input' network add-subnet e2e-net --type cloud --network-zone eu-central --ip-range 10.0.1.0/25
expect_fail "subnet outside the network -> invalid_input" 'invalid_input' network add-subnet e2e-net --type cloud --network-zone eu-central --ip-range 10.9.0.0/24
ok "network add-route" network add-route e2e-net --destination 10.100.1.0/24 --gateway 10.0.1.10
has "add-route message" "Route added to network ${NET:-x}"
expect_fail "the same route again -> invalid_input" 'invalid_input' network add-route e2e-net --destination 10.100.1.0/24 --gateway 10.0.1.10

ok "network describe -o json" network describe e2e-net -o json
jqc "network: range, labels, no servers, unprotected" \
	".id == ${NET:-0} and .ip_range == \"10.0.0.0/16\" and .labels == {\"env\":\"test\"} and .servers == [] and .protection.delete == false and .expose_routes_to_vswitch == false"
jqc "subnets: the given one, a picked one, the vswitch one; gateway the network's first address" \
	'[.subnets[] | [.type, .ip_range, .network_zone, .gateway]] == [["cloud","10.0.1.0/24","eu-central","10.0.0.1"],["cloud","10.0.0.0/24","eu-central","10.0.0.1"],["vswitch","10.0.8.0/24","eu-central","10.0.0.1"]]'
jqc "vswitch subnet carries its vswitch id" '[.subnets[].vswitch_id] == [null,null,1234]'
jqc "route listed" '.routes == [{"destination":"10.100.1.0/24","gateway":"10.0.1.10"}]'
ok "network describe (text)" network describe e2e-net
has "describe text: vswitch id" 'vSwitch ID:[[:space:]]+1234'
has "describe text: route" 'Destination:[[:space:]]+10.100.1.0/24'
ok "network list -o json" network list -o json
jqc "network listed" "[.[].id] == [${NET:-0}]"
ok "network list -l env=test" network list -l env=test -o columns=id,name,ip_range -o noheader
has "selector lists the network" "^${NET:-x} +e2e-net +10.0.0.0/16"
ok "network list -l env=prod" network list -l env=prod -o json
jqc "selector env=prod lists nothing" '(. // []) | length == 0'

section "networks: servers"
# The CLI prints the server's private addresses once it is created in a network.
ok "server create --network" server create --name e2e-net-srv1 --type cx22 --image debian-12 --location fsn1 --network e2e-net
has "create prints the private address" '^[[:space:]]+- 10\.0\.[01]\.[0-9]+ \(e2e-net\)$'
NSRV1=$(created_id Server)
ok "server describe -o json (created in the network)" server describe e2e-net-srv1 -o json
jqc "private_net entry" ".private_net | length == 1 and .[0].network == ${NET:-0} and (.[0].ip | test(\"^10\\\\.0\\\\.[01]\\\\.\")) and .[0].alias_ips == [] and (.[0].mac_address | test(\"^([0-9a-f]{2}:){5}[0-9a-f]{2}$\"))"
NSRV1_IP=$(jget '.private_net[0].ip')

ok "server create (no network)" server create --name e2e-net-srv2 --type cx22 --image debian-12 --location fsn1
NSRV2=$(created_id Server)
ok "server attach-to-network --ip --alias-ips" server attach-to-network e2e-net-srv2 -n e2e-net --ip 10.0.1.5 --alias-ips 10.0.1.6,10.0.1.7
has "attach message" "Server ${NSRV2:-x} attached to network ${NET:-x}"
ok "server describe after attach" server describe e2e-net-srv2 -o json
jqc "address and alias IPs as asked" ".private_net == [.private_net[0]] and .private_net[0].network == ${NET:-0} and .private_net[0].ip == \"10.0.1.5\" and .private_net[0].alias_ips == [\"10.0.1.6\",\"10.0.1.7\"]"
ok "server describe (text) shows the private net" server describe e2e-net-srv2
has "text: network name" 'Name:[[:space:]]+e2e-net'
has "text: private address" 'IP:[[:space:]]+10\.0\.1\.5'
has "text: alias IP" '-[[:space:]]+10\.0\.1\.7'
expect_fail "attach twice -> server_already_attached" 'server_already_attached' server attach-to-network e2e-net-srv2 -n e2e-net
expect_fail "an alias IP taken by another server -> ip_not_available" 'ip_not_available' \
	server change-alias-ips e2e-net-srv1 -n e2e-net --alias-ips 10.0.1.5
ok "server change-alias-ips" server change-alias-ips e2e-net-srv2 -n e2e-net --alias-ips 10.0.1.8
has "change-alias-ips message" "Alias IPs changed for server ${NSRV2:-x} in network ${NET:-x}"
hc server describe e2e-net-srv2 -o json || true
jqc "alias IPs replaced" '.private_net[0].alias_ips == ["10.0.1.8"] and .private_net[0].ip == "10.0.1.5"'
ok "server change-alias-ips --clear" server change-alias-ips e2e-net-srv2 -n e2e-net --clear
hc server describe e2e-net-srv2 -o json || true
jqc "alias IPs cleared" '.private_net[0].alias_ips == []'
ok "network describe with servers" network describe e2e-net -o json
jqc "network lists both servers" "(.servers | sort) == ([${NSRV1:-0}, ${NSRV2:-0}] | sort)"

section "networks: change / remove"
expect_fail "remove a subnet with servers -> resource_in_use" 'resource_in_use' network remove-subnet e2e-net --ip-range 10.0.1.0/24
ok "network change-ip-range (grow)" network change-ip-range e2e-net --ip-range 10.0.0.0/15
has "change-ip-range message" "IP range of network ${NET:-x} changed"
hc network describe e2e-net -o json || true
jqc "ip range grown, subnets kept" '.ip_range == "10.0.0.0/15" and (.subnets | length) == 3'
expect_fail "shrinking the ip range -> invalid_input" 'invalid_input' network change-ip-range e2e-net --ip-range 10.0.0.0/24
ok "network remove-route" network remove-route e2e-net --destination 10.100.1.0/24 --gateway 10.0.1.10
has "remove-route message" "Route removed from network ${NET:-x}"
expect_fail "remove a missing route -> invalid_input" 'invalid_input' network remove-route e2e-net --destination 10.100.1.0/24 --gateway 10.0.1.10
ok "network remove-subnet (vswitch)" network remove-subnet e2e-net --ip-range 10.0.8.0/24
hc network describe e2e-net -o json || true
jqc "route and vswitch subnet gone" '.routes == [] and ([.subnets[].ip_range] | index("10.0.8.0/24") | not)'
ok "server detach-from-network" server detach-from-network e2e-net-srv2 -n e2e-net
has "detach message" "Server ${NSRV2:-x} detached from network ${NET:-x}"
hc server describe e2e-net-srv2 -o json || true
jqc "no private net left" '.private_net == []'
expect_fail "detach twice fails" 'not attached|not_attached' server detach-from-network e2e-net-srv2 -n e2e-net
expect_fail "an address in use -> ip_not_available" 'ip_not_available' \
	server attach-to-network e2e-net-srv2 -n e2e-net --ip "${NSRV1_IP:-10.0.1.5}"
ok "server attach-to-network --ip (its old address, free again)" server attach-to-network e2e-net-srv2 -n e2e-net --ip 10.0.1.5

section "networks: update / labels / protection / delete"
ok "network update --name" network update e2e-net --name e2e-net2
ok "network add-label" network add-label e2e-net2 tier=backend
ok "network remove-label" network remove-label e2e-net2 env
ok "network describe renamed" network describe e2e-net2 -o json
jqc "renamed, labels changed" ".id == ${NET:-0} and .name == \"e2e-net2\" and .labels == {\"tier\":\"backend\"}"
expect_fail "old network name is gone" 'not found' network describe e2e-net
ok "network enable-protection delete" network enable-protection e2e-net2 delete
hc network describe e2e-net2 -o json || true
jqc "network protected" '.protection.delete == true'
expect_fail "delete a protected network -> protected" 'protected' network delete e2e-net2
ok "network disable-protection delete" network disable-protection e2e-net2 delete
# Deleting a network detaches its servers (the API document says so).
ok "network delete with servers attached" network delete e2e-net2
has "delete message" 'Network e2e-net2 deleted'
expect_fail "deleted network is gone" 'not found' network describe e2e-net2
ok "server describe after its network is gone" server describe e2e-net-srv1 -o json
jqc "the server left the network" '.private_net == []'
ok "server describe (text) after its network is gone" server describe e2e-net-srv2
has "text: no private networks" 'No Private Networks'
ok "server delete e2e-net-srv1" server delete e2e-net-srv1
ok "server delete e2e-net-srv2" server delete e2e-net-srv2
await_gone server e2e-net-srv1 e2e-net-srv2
