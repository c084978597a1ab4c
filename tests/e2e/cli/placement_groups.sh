# shellcheck shell=bash
# Sourced by hcloud_cli.sh: placement groups (create, list, describe, update, labels, delete),
# server create --placement-group, server add-to-placement-group / remove-from-placement-group.
# `placement-group describe -o json` cannot work in hcloud 1.30.3 (it looks the object up
# under the key "placement group", with a space): describe is checked with -o format instead.

section "placement groups: create / list / describe"
ok "placement-group create" placement-group create --name e2e-pg --type spread --label env=test
has "create message" '^Placement group [0-9]+ created'
PG=$(created_id 'Placement group')
expect_fail "duplicate placement group name -> uniqueness_error" 'uniqueness_error' placement-group create --name e2e-pg --type spread
expect_fail "unknown placement group type -> invalid_input" 'invalid_input' placement-group create --name e2e-pg-bad --type cluster
ok "placement-group list -o json" placement-group list -o json
jqc "listed, empty, spread" "[.[] | [.id, .name, .type, .servers, .labels]] == [[${PG:-0}, \"e2e-pg\", \"spread\", [], {\"env\":\"test\"}]]"
ok "placement-group list (table)" placement-group list
has "table row" "^${PG:-x} +e2e-pg +0 servers +spread"
ok "placement-group describe -o format" placement-group describe e2e-pg -o 'format={{.ID}} {{.Name}} {{.Type}} {{len .Servers}}'
has "format: id, name, type, no servers" "^${PG:-x} e2e-pg spread 0\$"

section "placement groups: servers"
ok "server create --placement-group" server create --name e2e-pg-srv1 --type cx22 --image debian-12 --location fsn1 --placement-group e2e-pg
PSRV1=$(created_id Server)
ok "server describe shows its placement group" server describe e2e-pg-srv1 -o json
jqc "placement_group object" ".placement_group.id == ${PG:-0} and .placement_group.name == \"e2e-pg\" and .placement_group.type == \"spread\" and .placement_group.servers == [${PSRV1:-0}]"
ok "server describe (text) shows its placement group" server describe e2e-pg-srv1
has "text: placement group name" 'Placement Group:'
has "text: placement group type" 'Type:[[:space:]]+spread'
ok "server create (off, outside the group)" server create --name e2e-pg-srv2 --type cx22 --image debian-12 --location fsn1 --start-after-create=false
PSRV2=$(created_id Server)
ok "server add-to-placement-group" server add-to-placement-group e2e-pg-srv2 -g e2e-pg
has "add message" "Server ${PSRV2:-x} added to placement group e2e-pg"
expect_fail "add a server already in a group fails" 'already in a placement group' server add-to-placement-group e2e-pg-srv2 -g e2e-pg
ok "placement-group describe (text) with servers" placement-group describe e2e-pg
has "text: first server" 'Server Name:[[:space:]]+e2e-pg-srv1'
has "text: second server" 'Server Name:[[:space:]]+e2e-pg-srv2'
ok "placement-group list with servers" placement-group list -o json
jqc "group lists both servers" "(.[0].servers | sort) == ([${PSRV1:-0}, ${PSRV2:-0}] | sort)"
expect_fail "delete a group with servers -> resource_in_use" 'resource_in_use' placement-group delete e2e-pg
ok "server remove-from-placement-group (running server)" server remove-from-placement-group e2e-pg-srv1
has "remove message" "Server ${PSRV1:-x} removed from placement group"
expect_fail "remove a server in no group fails" 'not in a placement group' server remove-from-placement-group e2e-pg-srv1
expect_fail "a running server cannot join -> server_not_stopped" 'server_not_stopped' server add-to-placement-group e2e-pg-srv1 -g e2e-pg
hc server describe e2e-pg-srv1 -o json || true
jqc "server left the group" '.placement_group == null'
ok "server remove-from-placement-group (by id)" server remove-from-placement-group "${PSRV2:-0}"
ok "placement-group describe -o format (empty again)" placement-group describe e2e-pg -o 'format={{len .Servers}}'
has "no servers in the group" '^0$'

section "placement groups: update / labels / delete"
ok "placement-group update --name" placement-group update e2e-pg --name e2e-pg2
ok "placement-group add-label" placement-group add-label e2e-pg2 tier=db
ok "placement-group remove-label" placement-group remove-label e2e-pg2 env
ok "placement-group list -l tier=db" placement-group list -l tier=db -o json
jqc "renamed group by its label" "[.[] | [.id, .name, .labels]] == [[${PG:-0}, \"e2e-pg2\", {\"tier\":\"db\"}]]"
ok "placement-group list -l env=test" placement-group list -l env=test -o json
jqc "old label selects nothing" '(. // []) | length == 0'
ok "placement-group delete" placement-group delete e2e-pg2
has "delete message" 'placement group e2e-pg2 deleted'
expect_fail "deleted placement group is gone" 'not found' placement-group describe e2e-pg2
ok "server delete e2e-pg-srv1" server delete e2e-pg-srv1
ok "server delete e2e-pg-srv2" server delete e2e-pg-srv2
await_gone server e2e-pg-srv1 e2e-pg-srv2
