# shellcheck shell=bash
# Sourced by hcloud_cli.sh: volumes (create, list, describe, update, labels, attach/detach with
# and without automount, resize, protection, delete) and the server's view of them.

section "volumes: create"
ok "server create for volumes" server create --name e2e-vol-srv --type cx22 --image debian-12 --location fsn1
VSRV=$(created_id Server)

ok "volume create in a location with labels" volume create --name e2e-vol1 --size 10 --location fsn1 \
	--label env=test --label tier=db
has "volume create message" '^Volume [0-9]+ created'
V1=$(created_id Volume)
# with --server and --automount the CLI waits for the create action and then for its attach
ok "volume create --server --automount --format ext4" volume create --name e2e-vol2 --size 12 \
	--server e2e-vol-srv --automount --format ext4 --label env=prod
has "volume create waited for the attach" "attached to server ${VSRV:-x}"
V2=$(created_id Volume)
ok "volume create --server without automount" volume create --name e2e-vol3 --size 10 --server "${VSRV:-0}" --label env=prod
V3=$(created_id Volume)
ok "volume create in another location" volume create --name e2e-vol-nbg --size 10 --location nbg1
expect_fail "volume below 10 GB -> invalid_input" 'invalid_input' volume create --name e2e-vol-small --size 5 --location fsn1
expect_fail "duplicate volume name -> uniqueness_error" 'uniqueness_error' \
	volume create --name e2e-vol1 --size 10 --location fsn1

section "volumes: list / describe"
ok "volume list -o json" volume list -o json
jqc "four volumes listed" '([.[].name] | sort) == ["e2e-vol-nbg","e2e-vol1","e2e-vol2","e2e-vol3"]'
jqc "e2e-vol1 unattached in fsn1 with its labels" \
	'.[] | select(.name=="e2e-vol1") | .server == null and .size == 10 and .location.name == "fsn1" and .labels == {"env":"test","tier":"db"}'
jqc "e2e-vol2 attached with its device path" \
	".[] | select(.name==\"e2e-vol2\") | .server == ${VSRV:-0} and .size == 12 and .linux_device == \"/dev/disk/by-id/scsi-0HC_Volume_${V2:-x}\""
jqc "e2e-vol3 attached" ".[] | select(.name==\"e2e-vol3\") | .server == ${VSRV:-0}"
ok "volume list -l env=test" volume list -l env=test -o json
jqc "selector env=test -> e2e-vol1" '[.[].name] == ["e2e-vol1"]'
ok "volume list -l 'env in (prod,dev)'" volume list -l 'env in (prod,dev)' -o json
jqc "selector env in (prod,dev) -> the attached ones" '([.[].name] | sort) == ["e2e-vol2","e2e-vol3"]'
ok "volume list -s name:desc" volume list -s name:desc -o json
jqc "sorted by name descending" '[.[].name] == ["e2e-vol3","e2e-vol2","e2e-vol1","e2e-vol-nbg"]'
ok "volume list -o columns" volume list -o columns=id,name,size,server,location -o noheader
has "columns: e2e-vol2 on its server" "^${V2:-x} +e2e-vol2 +12 GB +e2e-vol-srv +fsn1"
has "columns: e2e-vol1 on no server" "^${V1:-x} +e2e-vol1 +10 GB +- +fsn1"

ok "volume describe -o json" volume describe e2e-vol2 -o json
jqc "describe: formatted, available, attached, unprotected" \
	".id == ${V2:-0} and .format == \"ext4\" and .status == \"available\" and .server == ${VSRV:-0} and .protection.delete == false"
ok "volume describe (text)" volume describe e2e-vol2
has "describe text: size" 'Size:[[:space:]]+12 GB'
has "describe text: device" "Linux Device:[[:space:]]+/dev/disk/by-id/scsi-0HC_Volume_${V2:-x}"
has "describe text: server name" 'Name:[[:space:]]+e2e-vol-srv'

ok "server describe lists its volumes" server describe e2e-vol-srv -o json
jqc "server volumes are the two attached ids" "(.volumes | sort) == ([${V2:-0}, ${V3:-0}] | sort)"
ok "server describe (text) with volumes" server describe e2e-vol-srv
has "server text names the volume" 'Name:[[:space:]]+e2e-vol2'
has "server text shows the volume size" 'Size:[[:space:]]+12 GB'

section "volumes: update / labels"
ok "volume update --name" volume update e2e-vol1 --name e2e-vol1b
ok "renamed volume by its new name" volume describe e2e-vol1b -o json
jqc "renamed volume keeps id and labels" ".id == ${V1:-0} and .labels.tier == \"db\""
expect_fail "old volume name is gone" 'not found' volume describe e2e-vol1
expect_fail "rename to a used name -> uniqueness_error" 'uniqueness_error' volume update e2e-vol1b --name e2e-vol2
ok "volume add-label" volume add-label e2e-vol1b team=storage
ok "volume remove-label" volume remove-label e2e-vol1b tier
ok "volume describe after labels" volume describe e2e-vol1b -o json
jqc "labels changed" '.labels == {"env":"test","team":"storage"}'
# the CLI itself refuses to replace a label unless told to
expect_fail "add-label of a present key without --overwrite fails" 'already exists' volume add-label e2e-vol1b env=prod
ok "volume add-label --overwrite" volume add-label --overwrite e2e-vol1b env=prod
hc volume describe e2e-vol1b -o json || true
jqc "label replaced" '.labels == {"env":"prod","team":"storage"}'
ok "volume remove-label --all" volume remove-label e2e-vol1b --all
hc volume describe e2e-vol1b -o json || true
jqc "all labels gone" '.labels == {}'

section "volumes: attach / detach / resize"
ok "volume attach" volume attach e2e-vol1b --server e2e-vol-srv
has "attach message" "Volume ${V1:-x} attached to server e2e-vol-srv"
ok "volume describe after attach" volume describe e2e-vol1b -o json
jqc "attached, with a device path" ".server == ${VSRV:-0} and .linux_device == \"/dev/disk/by-id/scsi-0HC_Volume_${V1:-x}\""
expect_fail "attach an attached volume -> volume_already_attached" 'already_attached' volume attach e2e-vol1b --server e2e-vol-srv
expect_fail "delete an attached volume -> resource_in_use" 'resource_in_use|attached' volume delete e2e-vol1b
expect_fail "attach across locations fails" 'location|invalid_input' volume attach e2e-vol-nbg --server e2e-vol-srv
ok "volume detach" volume detach e2e-vol1b
has "detach message" "Volume ${V1:-x} detached"
ok "volume describe after detach" volume describe e2e-vol1b -o json
jqc "detached" '.server == null'
expect_fail "detach a detached volume fails" 'not attached' volume detach e2e-vol1b
ok "volume attach --automount" volume attach e2e-vol1b --server "${VSRV:-0}" --automount
hc volume describe e2e-vol1b -o json || true
jqc "attached again" ".server == ${VSRV:-0}"
ok "volume detach again" volume detach e2e-vol1b
ok "volume resize" volume resize e2e-vol1b --size 20
has "resize message" "Volume ${V1:-x} resized"
ok "volume describe after resize" volume describe e2e-vol1b -o json
jqc "size 20" '.size == 20'
expect_fail "shrinking a volume -> invalid_input" 'invalid_input' volume resize e2e-vol1b --size 15

section "volumes: protection / delete"
ok "volume enable-protection delete" volume enable-protection e2e-vol1b delete
hc volume describe e2e-vol1b -o json || true
jqc "volume protected" '.protection.delete == true'
expect_fail "delete a protected volume -> protected" 'protected' volume delete e2e-vol1b
ok "volume disable-protection delete" volume disable-protection e2e-vol1b delete
hc volume describe e2e-vol1b -o json || true
jqc "volume unprotected" '.protection.delete == false'
ok "volume delete" volume delete e2e-vol1b
has "delete message" 'Volume e2e-vol1b deleted'
expect_fail "deleted volume is gone" 'not found' volume describe e2e-vol1b
ok "volume delete (other location)" volume delete e2e-vol-nbg

# Deleting the server detaches its volumes; they stay.
ok "delete the volumes' server" server delete e2e-vol-srv
await_gone server e2e-vol-srv
ok "volume list after the server is gone" volume list -o json
jqc "its volumes are detached and kept" '([.[] | select(.name=="e2e-vol2" or .name=="e2e-vol3") | .server] == [null,null])'
ok "volume delete e2e-vol2" volume delete e2e-vol2
ok "volume delete e2e-vol3 (by id)" volume delete "${V3:-0}"
ok "volume list at the end" volume list -o json
jqc "no volumes left" '(. // []) | length == 0'
