# shellcheck shell=bash
# Sourced by hcloud_cli.sh: certificates, uploaded (from PEM files made here) and managed
# (signed by the local CA the suite started Stratus with), update, labels, failed issuance.
# Leaves e2e-cert (uploaded) and e2e-managed for load_balancers.sh, which deletes them.

section "certificates: uploaded"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 10 -subj /CN=shop.example.com \
	-addext subjectAltName=DNS:shop.example.com,DNS:www.shop.example.com \
	-keyout "$WORK/shop.key" -out "$WORK/shop.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/other.key" 2>/dev/null
echo 'not a certificate' >"$WORK/junk.pem"
SHOP_FP=$(openssl x509 -in "$WORK/shop.pem" -noout -fingerprint -sha256 | sed 's/^.*=//' | tr 'A-F' 'a-f')
SHOP_NOT_BEFORE=$(date -u -d "$(openssl x509 -in "$WORK/shop.pem" -noout -startdate | sed 's/^notBefore=//')" +%s)
SHOP_NOT_AFTER=$(date -u -d "$(openssl x509 -in "$WORK/shop.pem" -noout -enddate | sed 's/^notAfter=//')" +%s)

ok "certificate create (uploaded)" certificate create --name e2e-cert --cert-file "$WORK/shop.pem" --key-file "$WORK/shop.key"
has "certificate create message" '^Certificate [0-9]+ created'
CERT=$(created_id Certificate)
ok "certificate describe -o json" certificate describe e2e-cert -o json
jqc "uploaded: type, domains from the SAN, fingerprint, unused" \
	".id == ${CERT:-0} and .type == \"uploaded\" and .domain_names == [\"shop.example.com\",\"www.shop.example.com\"] and .fingerprint == \"$SHOP_FP\" and .status == null and .used_by == []"
jqc "the certificate as uploaded" "(.certificate | rtrimstr(\"\\n\")) == $(jq -Rs 'rtrimstr("\n")' "$WORK/shop.pem")"
has "not_valid_before from the PEM" "^$SHOP_NOT_BEFORE\$" "$(date -u -d "$(jget .not_valid_before)" +%s)"
has "not_valid_after from the PEM" "^$SHOP_NOT_AFTER\$" "$(date -u -d "$(jget .not_valid_after)" +%s)"
ok "certificate describe (text)" certificate describe e2e-cert
has "text: fingerprint" "Fingerprint:[[:space:]]+$SHOP_FP"
has "text: a domain" '- www\.shop\.example\.com'
has "text: unused" 'Certificate unused'
expect_fail "duplicate certificate name -> uniqueness_error" 'uniqueness_error' \
	certificate create --name e2e-cert --cert-file "$WORK/shop.pem" --key-file "$WORK/shop.key"
expect_fail "key of another certificate -> invalid_input" "'private_key'.*invalid_input" \
	certificate create --name e2e-cert-bad --cert-file "$WORK/shop.pem" --key-file "$WORK/other.key"
expect_fail "not a PEM certificate -> invalid_input" "'certificate'.*invalid_input" \
	certificate create --name e2e-cert-bad --cert-file "$WORK/junk.pem" --key-file "$WORK/shop.key"

section "certificates: managed"
# The CLI waits for the issuance action; Stratus's local CA signs the certificate.
ok "certificate create --type managed" certificate create --name e2e-managed --type managed \
	--domain shop2.example.com --domain www.shop2.example.com
MCERT=$(created_id Certificate)
ok "managed certificate describe -o json" certificate describe e2e-managed -o json
jqc "managed: issued, domains as asked" \
	".id == ${MCERT:-0} and .type == \"managed\" and .status.issuance == \"completed\" and .status.error == null and .domain_names == [\"shop2.example.com\",\"www.shop2.example.com\"] and (.fingerprint | test(\"^([0-9a-f]{2}:){31}[0-9a-f]{2}$\"))"
jget .certificate >"$WORK/managed.pem"
if openssl verify -CAfile "$CA_DIR/ca.pem" "$WORK/managed.pem" >"$WORK/verify.log" 2>&1; then
	pass "the managed certificate is signed by the local CA"
else
	fail "the managed certificate is signed by the local CA" "$(cat "$WORK/verify.log")"
fi
has "the managed certificate names both domains" 'DNS:shop2\.example\.com, DNS:www\.shop2\.example\.com' \
	"$(openssl x509 -in "$WORK/managed.pem" -noout -ext subjectAltName 2>&1)"
ok "managed certificate describe (text)" certificate describe e2e-managed
has "text: issuance completed" 'Issuance: completed'

# A failing issuance: the CLI waits, reports the action's error, and the certificate stays
# with status failed and the reason (the CLI's describe dereferences status.error).
if stratus_cli fault action --command create_certificate --count 1 --code dns_validation_failed \
	--message 'DNS validation failed' >"$WORK/fault.log" 2>&1; then
	pass "stratus fault action create_certificate"
else
	fail "stratus fault action create_certificate" "$(cat "$WORK/fault.log")"
fi
expect_fail "failing managed issuance reports the action error" 'dns_validation_failed' \
	certificate create --name e2e-managed-failed --type managed --domain fail.example.com
ok "failed certificate describe -o json" certificate describe e2e-managed-failed -o json
jqc "status failed with the reason" \
	'.status.issuance == "failed" and .status.error == {"code":"dns_validation_failed","message":"DNS validation failed"} and .fingerprint == null'
ok "failed certificate describe (text)" certificate describe e2e-managed-failed
has "text: failure reason" 'Failure reason:[[:space:]]+DNS validation failed'
ok "certificate delete (failed)" certificate delete e2e-managed-failed

section "certificates: list / update / labels"
ok "certificate list -o json" certificate list -o json
jqc "both certificates listed" '[.[] | [.name, .type]] == [["e2e-cert","uploaded"],["e2e-managed","managed"]]'
ok "certificate update --name" certificate update e2e-managed --name e2e-managed2
ok "certificate add-label" certificate add-label e2e-managed2 kind=managed
ok "certificate list -l kind=managed" certificate list -l kind=managed -o json
jqc "selector finds the renamed certificate" "[.[] | [.id, .name]] == [[${MCERT:-0}, \"e2e-managed2\"]]"
ok "certificate remove-label" certificate remove-label e2e-managed2 kind
ok "certificate update --name back" certificate update "${MCERT:-0}" --name e2e-managed
hc certificate describe e2e-managed -o json || true
jqc "name back, no labels" '.name == "e2e-managed" and .labels == {}'
ok "certificate list -o columns" certificate list -o columns=id,name,type -o noheader
has "columns: managed certificate" "^${MCERT:-x} +e2e-managed +managed"
