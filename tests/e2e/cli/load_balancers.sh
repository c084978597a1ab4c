# shellcheck shell=bash
# Sourced by hcloud_cli.sh after certificates.sh (uses $CERT and $MCERT, deletes them):
# load balancer types; load balancers (create, services incl. https with certificates,
# targets of each kind, algorithm, type, networks, public interface, reverse DNS, metrics,
# protection, update, labels, delete).

section "load balancer types"
ok "load-balancer-type list -o json" load-balancer-type list -o json
jqc "types lb11 lb21 lb31 with limits and prices" \
	'[.[].name] == ["lb11","lb21","lb31"] and all(.[]; .max_services > 0 and .max_targets > 0 and .max_connections > 0 and (.prices | length) > 0)'
ok "load-balancer-type list (table)" load-balancer-type list
has "table row lb11" '^[0-9]+ +lb11 +'
ok "load-balancer-type describe -o json" load-balancer-type describe lb11 -o json
jqc "lb11 limits" '.name == "lb11" and .max_services == 5 and .max_targets == 25 and .max_assigned_certificates == 10 and any(.prices[]; .location == "fsn1")'
ok "load-balancer-type describe (text)" load-balancer-type describe lb21
has "text: max services" 'Max Services:[[:space:]]+15'
expect_fail "unknown load balancer type" 'not found' load-balancer-type describe lb99

section "load balancers: create"
ok "load-balancer create" load-balancer create --name e2e-lb --type lb11 --location fsn1 --label env=test --algorithm-type round_robin
has "create message" '^LoadBalancer [0-9]+ created'
has "create prints the IPv4" '^IPv4: [0-9.]+$'
has "create prints the IPv6" '^IPv6: [0-9a-f:]+$'
LB=$(created_id LoadBalancer)
expect_fail "duplicate load balancer name -> uniqueness_error" 'uniqueness_error' load-balancer create --name e2e-lb --type lb11 --location fsn1
expect_fail "unknown load balancer type fails" 'not found|invalid_input' load-balancer create --name e2e-lb-bad --type lb99 --location fsn1
ok "load-balancer describe -o json" load-balancer describe e2e-lb -o json
jqc "new load balancer: type, location, algorithm, empty lists" \
	".id == ${LB:-0} and .load_balancer_type.name == \"lb11\" and .location.name == \"fsn1\" and .algorithm.type == \"round_robin\" and .services == [] and .targets == [] and .private_net == [] and .labels == {\"env\":\"test\"} and .protection.delete == false"
jqc "public interface with both addresses" '.public_net.enabled == true and (.public_net.ipv4.ip | test("^[0-9.]+$")) and (.public_net.ipv6.ip | test(":"))'
LB_V4=$(jget .public_net.ipv4.ip)
LB_V6=$(jget .public_net.ipv6.ip)
# with a network zone instead of a location, Stratus picks a location in that zone
ok "load-balancer create --network-zone" load-balancer create --name e2e-lb-zone --type lb11 --network-zone eu-central
ok "describe the load balancer created in a zone" load-balancer describe e2e-lb-zone -o json
jqc "a location in the zone" '.location.network_zone == "eu-central"'
ok "delete the load balancer created in a zone" load-balancer delete e2e-lb-zone
await_gone load-balancer e2e-lb-zone

section "load balancers: services"
ok "add-service tcp" load-balancer add-service e2e-lb --protocol tcp --listen-port 8080 --destination-port 80 --proxy-protocol
has "add-service message" "Service was added to Load Balancer ${LB:-x}"
ok "add-service http (defaults)" load-balancer add-service e2e-lb --protocol http
ok "add-service https with certificates" load-balancer add-service e2e-lb --protocol https \
	--http-certificates "${CERT:-0},${MCERT:-0}" --http-redirect-http --http-sticky-sessions --http-cookie-name SID --http-cookie-lifetime 10m
expect_fail "a listen port in use -> source_port_already_used" 'source_port_already_used' \
	load-balancer add-service e2e-lb --protocol tcp --listen-port 8080 --destination-port 81
ok "describe services" load-balancer describe e2e-lb -o json
jqc "tcp service with a tcp health check" \
	'.services[] | select(.listen_port == 8080) | .protocol == "tcp" and .destination_port == 80 and .proxyprotocol == true and .http == null and .health_check.protocol == "tcp" and .health_check.port == 80'
jqc "http service on 80 with default http settings and check" \
	'.services[] | select(.listen_port == 80) | .protocol == "http" and .destination_port == 80 and .http.certificates == [] and .http.sticky_sessions == false and .health_check.protocol == "http" and .health_check.http.path == "/"'
jqc "https service on 443 with certificates and sticky sessions" \
	".services[] | select(.listen_port == 443) | .protocol == \"https\" and .destination_port == 80 and .http.certificates == [${CERT:-0}, ${MCERT:-0}] and .http.redirect_http == true and .http.sticky_sessions == true and .http.cookie_name == \"SID\" and .http.cookie_lifetime == 600"
ok "certificate describe (used)" certificate describe e2e-cert -o json
jqc "certificate used by the load balancer" ".used_by == [{\"id\":${LB:-0},\"type\":\"load_balancer\"}]"
expect_fail "delete a certificate in use -> resource_in_use" 'resource_in_use' certificate delete e2e-cert

ok "update-service https: certificates, health check, ports" load-balancer update-service e2e-lb --listen-port 443 \
	--http-certificates "${CERT:-0}" --http-sticky-sessions=false --destination-port 8443 \
	--health-check-protocol http --health-check-port 8081 --health-check-http-path /healthz \
	--health-check-http-domain shop.example.com --health-check-http-status-codes 200,204 \
	--health-check-interval 20s --health-check-timeout 5s --health-check-retries 5
has "update-service message" "Service 443 on Load Balancer ${LB:-x} was updated"
hc load-balancer describe e2e-lb -o json || true
jqc "https service updated" \
	".services[] | select(.listen_port == 443) | .destination_port == 8443 and .http.certificates == [${CERT:-0}] and .http.sticky_sessions == false and .http.cookie_name == \"SID\" and .health_check == {\"protocol\":\"http\",\"port\":8081,\"interval\":20,\"timeout\":5,\"retries\":5,\"http\":{\"domain\":\"shop.example.com\",\"path\":\"/healthz\",\"response\":null,\"status_codes\":[\"200\",\"204\"],\"tls\":false}}"
# the CLI sends "http": {} and "health_check": {"http": {}} for a tcp service too
ok "update-service tcp" load-balancer update-service e2e-lb --listen-port 8080 --proxy-protocol=false --destination-port 8000
hc load-balancer describe e2e-lb -o json || true
jqc "tcp service updated, still without http" \
	'.services[] | select(.listen_port == 8080) | .proxyprotocol == false and .destination_port == 8000 and .http == null and .health_check.http == null'
ok "update-service --protocol http (tcp -> http)" load-balancer update-service e2e-lb --listen-port 8080 --protocol http \
	--health-check-protocol http --health-check-http-response OK --health-check-http-tls
hc load-balancer describe e2e-lb -o json || true
jqc "service now http with default http settings and the http check asked" \
	'.services[] | select(.listen_port == 8080) | .protocol == "http" and .destination_port == 8000 and .http.sticky_sessions == false and .http.certificates == [] and .health_check.protocol == "http" and .health_check.http.response == "OK" and .health_check.http.tls == true'
ok "delete-service" load-balancer delete-service e2e-lb --listen-port 80
has "delete-service message" "Service on port 80 deleted from Load Balancer ${LB:-x}"
hc load-balancer describe e2e-lb -o json || true
jqc "services left: 8080 and 443" '([.services[].listen_port] | sort) == [443, 8080]'
expect_fail "delete a missing service -> invalid_input" 'invalid_input' load-balancer delete-service e2e-lb --listen-port 80
ok "certificate describe (no longer used by the managed one)" certificate describe e2e-managed -o json
jqc "managed certificate unused again" '.used_by == []'

section "load balancers: targets"
ok "server create (target 1)" server create --name e2e-lb-srv1 --type cx22 --image debian-12 --location fsn1 --label lbpool=web
LSRV1=$(created_id Server)
ok "server create (target 2)" server create --name e2e-lb-srv2 --type cx22 --image debian-12 --location fsn1 --label lbpool=web
LSRV2=$(created_id Server)
ok "add-target --server" load-balancer add-target e2e-lb --server e2e-lb-srv1
has "add-target message" "Target added to Load Balancer ${LB:-x}"
expect_fail "the same target again -> target_already_defined" 'target_already_defined' load-balancer add-target e2e-lb --server e2e-lb-srv1
ok "add-target --label-selector" load-balancer add-target e2e-lb --label-selector lbpool=web
ok "add-target --ip" load-balancer add-target e2e-lb --ip 203.0.113.10
ok "describe targets" load-balancer describe e2e-lb -o json
jqc "server target with health per service" \
	".targets[] | select(.type == \"server\") | .server.id == ${LSRV1:-0} and .use_private_ip == false and ([.health_status[].listen_port] | sort) == [443, 8080]"
jqc "label selector target lists the servers it selects" \
	".targets[] | select(.type == \"label_selector\") | .label_selector.selector == \"lbpool=web\" and ([.targets[].server.id] | sort) == ([${LSRV1:-0}, ${LSRV2:-0}] | sort)"
jqc "ip target" '.targets[] | select(.type == "ip") | .ip.ip == "203.0.113.10"'
ok "describe targets (text)" load-balancer describe e2e-lb
has "text: server target name" 'Name:[[:space:]]+e2e-lb-srv1'
has "text: label selector target" 'Label Selector:[[:space:]]+lbpool=web'
has "text: ip target" 'IP:[[:space:]]+203\.0\.113\.10'
if grep -qE "Server ID:[[:space:]]+${LSRV2:-x}\$" <<<"$OUT"; then
	fail "text without --expand-targets hides the selected servers" "$OUT"
else
	pass "text without --expand-targets hides the selected servers"
fi
ok "describe --expand-targets (text)" load-balancer describe e2e-lb --expand-targets
has "expanded: a server the selector picks" "Server ID:[[:space:]]+${LSRV2:-x}\$"
ok "server describe of a target" server describe e2e-lb-srv1 -o json
jqc "server lists its load balancer" ".load_balancers == [${LB:-0}]"
ok "remove-target --server" load-balancer remove-target e2e-lb --server e2e-lb-srv1
has "remove-target message" "Target removed from Load Balancer ${LB:-x}"
ok "remove-target --label-selector" load-balancer remove-target e2e-lb --label-selector lbpool=web
ok "remove-target --ip" load-balancer remove-target e2e-lb --ip 203.0.113.10
expect_fail "remove a missing target fails" 'invalid_input|not found' load-balancer remove-target e2e-lb --ip 203.0.113.10
hc load-balancer describe e2e-lb -o json || true
jqc "no targets left" '.targets == []'

section "load balancers: algorithm / type"
ok "change-algorithm" load-balancer change-algorithm e2e-lb --algorithm-type least_connections
has "change-algorithm message" "Algorithm for Load Balancer ${LB:-x} was changed"
ok "change-type" load-balancer change-type e2e-lb lb21
has "change-type message" "LoadBalancer ${LB:-x} changed to type lb21"
hc load-balancer describe e2e-lb -o json || true
jqc "algorithm and type changed" '.algorithm.type == "least_connections" and .load_balancer_type.name == "lb21"'

section "load balancers: networks / public interface"
expect_fail "disable-public-interface outside any network -> load_balancer_not_attached_to_network" \
	'load_balancer_not_attached_to_network' load-balancer disable-public-interface e2e-lb
ok "network create for the load balancer" network create --name e2e-lb-net --ip-range 10.2.0.0/16
LNET=$(created_id Network)
ok "network add-subnet for the load balancer" network add-subnet e2e-lb-net --type cloud --network-zone eu-central --ip-range 10.2.0.0/24
ok "attach-to-network --ip" load-balancer attach-to-network e2e-lb -n e2e-lb-net --ip 10.2.0.10
has "attach message" "Load Balancer ${LB:-x} attached to network ${LNET:-x}"
hc load-balancer describe e2e-lb -o json || true
jqc "private_net entry" ".private_net == [{\"network\":${LNET:-0},\"ip\":\"10.2.0.10\"}]"
ok "network describe lists the load balancer" network describe e2e-lb-net -o json
jqc "network load_balancers" ".load_balancers == [${LB:-0}]"
# a public target keeps the public interface on
ok "add-target --server (public)" load-balancer add-target e2e-lb --server e2e-lb-srv1
expect_fail "disable-public-interface with public targets -> targets_without_use_private_ip" \
	'targets_without_use_private_ip' load-balancer disable-public-interface e2e-lb
ok "remove the public target" load-balancer remove-target e2e-lb --server e2e-lb-srv1
expect_fail "a private target off the network -> server_not_attached_to_network" 'server_not_attached_to_network' \
	load-balancer add-target e2e-lb --server e2e-lb-srv2 --use-private-ip
ok "server attach-to-network (target 2)" server attach-to-network e2e-lb-srv2 -n e2e-lb-net
ok "add-target --server --use-private-ip" load-balancer add-target e2e-lb --server e2e-lb-srv2 --use-private-ip
hc load-balancer describe e2e-lb -o json || true
jqc "private target" ".targets == [.targets[0]] and .targets[0].server.id == ${LSRV2:-0} and .targets[0].use_private_ip == true"
ok "disable-public-interface" load-balancer disable-public-interface e2e-lb
has "disable message" "Public interface of Load Balancer ${LB:-x} was disabled"
hc load-balancer describe e2e-lb -o json || true
jqc "public interface off, addresses kept" ".public_net.enabled == false and .public_net.ipv4.ip == \"$LB_V4\""
expect_fail "leave the only network without a public interface fails" 'invalid_input' load-balancer detach-from-network e2e-lb -n e2e-lb-net
ok "enable-public-interface" load-balancer enable-public-interface e2e-lb
has "enable message" "Public interface of Load Balancer ${LB:-x} was enabled"
hc load-balancer describe e2e-lb -o json || true
jqc "public interface on" '.public_net.enabled == true'
expect_fail "leave a network its targets use fails" 'invalid_input' load-balancer detach-from-network e2e-lb -n e2e-lb-net
ok "remove the private target" load-balancer remove-target e2e-lb --server e2e-lb-srv2
ok "detach-from-network" load-balancer detach-from-network e2e-lb -n e2e-lb-net
has "detach message" "Load Balancer ${LB:-x} detached from Network ${LNET:-x}"
hc load-balancer describe e2e-lb -o json || true
jqc "no private net" '.private_net == []'

section "load balancers: reverse DNS / metrics"
ok "set-rdns (ipv4 by default)" load-balancer set-rdns e2e-lb --hostname lb.example.com
has "set-rdns message" 'Reverse DNS of Load Balancer e2e-lb changed'
ok "set-rdns --ip ipv6" load-balancer set-rdns e2e-lb --ip "$LB_V6" --hostname lb6.example.com
hc load-balancer describe e2e-lb -o json || true
jqc "dns_ptr of both addresses" '.public_net.ipv4.dns_ptr == "lb.example.com" and .public_net.ipv6.dns_ptr == "lb6.example.com"'
for mt in open_connections connections_per_second requests_per_second bandwidth; do
	ok "metrics --type $mt -o json" load-balancer metrics e2e-lb --type "$mt" -o json
	jqc "metrics $mt: series of [ts, \"value\"]" \
		"(.metrics.time_series | keys | all(startswith(\"$mt\"))) and (.metrics.time_series | length) > 0 and all(.metrics.time_series[]; (.values | length) > 0 and (.values[0][0] | type) == \"number\" and (.values[0][1] | type) == \"string\") and (.metrics.step | type) == \"number\""
done
hc load-balancer metrics e2e-lb --type bandwidth -o json || true
jqc "bandwidth has in and out" '(.metrics.time_series | keys) == ["bandwidth.in","bandwidth.out"]'
ok "metrics with --start/--end (text)" load-balancer metrics e2e-lb --type requests_per_second \
	--start "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" --end "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
has "metrics text output" 'Metric: requests_per_second'

section "load balancers: protection / update / labels / delete"
ok "enable-protection delete" load-balancer enable-protection e2e-lb delete
hc load-balancer describe e2e-lb -o json || true
jqc "load balancer protected" '.protection.delete == true'
expect_fail "delete a protected load balancer -> protected" 'protected' load-balancer delete e2e-lb
ok "disable-protection delete" load-balancer disable-protection e2e-lb delete
hc load-balancer describe e2e-lb -o json || true
jqc "load balancer unprotected" '.protection.delete == false'
ok "load-balancer update --name" load-balancer update e2e-lb --name e2e-lb2
ok "load-balancer add-label" load-balancer add-label e2e-lb2 tier=edge
ok "load-balancer remove-label" load-balancer remove-label e2e-lb2 env
ok "load-balancer list -l tier=edge" load-balancer list -l tier=edge -o json
jqc "renamed load balancer by its label" "[.[] | [.id, .name, .labels]] == [[${LB:-0}, \"e2e-lb2\", {\"tier\":\"edge\"}]]"
ok "load-balancer remove-label --all" load-balancer remove-label e2e-lb2 --all
hc load-balancer describe e2e-lb2 -o json || true
jqc "load balancer without labels" '.labels == {}'
ok "load-balancer list -o columns" load-balancer list -o columns=id,name,ipv4 -o noheader
has "columns: the load balancer and its address" "^${LB:-x} +e2e-lb2 +$LB_V4"
ok "load-balancer delete" load-balancer delete e2e-lb2
has "delete message" 'Load Balancer e2e-lb2 deleted'
await_gone load-balancer e2e-lb2
expect_fail "deleted load balancer is gone" 'not found' load-balancer describe e2e-lb2
ok "certificate delete (free again)" certificate delete e2e-cert
ok "certificate delete managed" certificate delete e2e-managed
ok "certificate list at the end" certificate list -o json
jqc "no certificates left" '(. // []) | length == 0'
ok "network delete" network delete e2e-lb-net
ok "server delete target 1" server delete e2e-lb-srv1
ok "server delete target 2" server delete e2e-lb-srv2
await_gone server e2e-lb-srv1 e2e-lb-srv2
