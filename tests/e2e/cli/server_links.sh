# shellcheck shell=bash
# Sourced by hcloud_cli.sh: one server created with a volume, a network, a placement group and
# a firewall at once; what `server describe` shows of them; and that deleting the server
# releases each of them.

section "server with volume, network, placement group and firewall"
ok "network create (links)" network create --name e2e-link-net --ip-range 10.3.0.0/16
LKNET=$(created_id Network)
ok "network add-subnet (links)" network add-subnet e2e-link-net --type cloud --network-zone eu-central --ip-range 10.3.0.0/24
ok "volume create (links)" volume create --name e2e-link-vol --size 10 --location fsn1
LKVOL=$(created_id Volume)
ok "placement-group create (links)" placement-group create --name e2e-link-pg --type spread
LKPG=$(created_id 'Placement group')
ok "firewall create (links)" firewall create --name e2e-link-fw
LKFW=$(created_id Firewall)
# The CLI waits for the create action and then for each next action (the volume's attach).
ok "server create --volume --automount --network --placement-group --firewall" server create --name e2e-link-srv \
	--type cx22 --image debian-12 --location fsn1 --volume e2e-link-vol --automount --network e2e-link-net \
	--placement-group e2e-link-pg --firewall e2e-link-fw
has "create prints the private address" '^[[:space:]]+- 10\.3\.0\.[0-9]+ \(e2e-link-net\)$'
LKSRV=$(created_id Server)
ok "server describe -o json (links)" server describe e2e-link-srv -o json
jqc "volume attached" ".volumes == [${LKVOL:-0}]"
jqc "in the network" ".private_net | length == 1 and .[0].network == ${LKNET:-0} and (.[0].ip | startswith(\"10.3.0.\"))"
jqc "in the placement group" ".placement_group.id == ${LKPG:-0} and .placement_group.servers == [${LKSRV:-0}]"
jqc "behind the firewall" ".public_net.firewalls == [{\"id\":${LKFW:-0},\"status\":\"applied\"}]"
ok "server describe (text, links)" server describe e2e-link-srv
has "text: the volume" 'Name:[[:space:]]+e2e-link-vol'
has "text: the network" 'Name:[[:space:]]+e2e-link-net'
has "text: the placement group" 'Name:[[:space:]]+e2e-link-pg'
ok "volume describe (links)" volume describe e2e-link-vol -o json
jqc "volume on the server" ".server == ${LKSRV:-0}"

ok "server delete (links)" server delete e2e-link-srv
await_gone server e2e-link-srv
hc volume describe e2e-link-vol -o json || true
jqc "volume detached by the delete" '.server == null'
hc network describe e2e-link-net -o json || true
jqc "network has no servers" '.servers == []'
ok "placement group after the delete" placement-group describe e2e-link-pg -o 'format={{len .Servers}}'
has "placement group is empty" '^0$'
hc firewall describe e2e-link-fw -o json || true
jqc "firewall applied nowhere" '.applied_to == []'
ok "volume delete (links)" volume delete e2e-link-vol
ok "network delete (links)" network delete e2e-link-net
ok "placement-group delete (links)" placement-group delete e2e-link-pg
ok "firewall delete (links)" firewall delete e2e-link-fw
