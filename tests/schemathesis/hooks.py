"""Known false positives of the Schemathesis run against Stratus, dropped one kind at a time.

Each rule names the check it applies to, the operations, the answer Stratus gave (status,
Hetzner error code, the field the error names, its message) and why that answer is right
although the official document's schema allows the request (or, for the negative checks,
why accepting is right although the schema forbids it). Anything a rule does not match stays
a failure. The run ends with a table of what each rule dropped and one example of each, so
a reviewer can see that every drop is what its reason says.
"""

import ast
import atexit
import json
import re
import sys
import threading
from dataclasses import dataclass
from typing import Any

import schemathesis
from schemathesis.core.jsonschema import make_validator
from schemathesis.core.parameters import ParameterLocation


@dataclass(frozen=True)
class Refusal:
    """A 4xx that refuses schema-valid input for a reason the schema cannot express."""

    name: str
    reason: str
    operations: str  # regex on "METHOD /path"
    status: int
    code: str  # Hetzner's error code
    field: str | None  # regex on one of `details.fields[].name`; None: whatever fields it names
    message: str  # regex searched in the error message


# CPython 3.11 (Debian bookworm's, in CI) can fail ast.parse when two threads parse at once
# ("SystemError: AST constructor recursion depth mismatch", CPython gh-106905); Hypothesis
# parses lambda sources while describing strategies, in both workers. One parse at a time
# avoids it, and costs nothing that matters (Hypothesis caches what it parsed).
_parse, _parse_lock = ast.parse, threading.Lock()


def _serial_parse(*args: Any, **kwargs: Any) -> Any:
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _serial_parse

# positive_data_acceptance: schema-valid requests Stratus rightly refuses. The document types
# these values as bare strings/integers/objects; their rules are in its prose. Each rule is as
# narrow as the refusal: the operations, the field the error names and the message.
LISTS = r"^GET /[a-z_]+(/\{id\}/actions|/actions)?$"
REFUSALS = [
    Refusal(
        "label selector syntax",
        "label_selector is a string in the document; Hetzner parses it with its selector grammar "
        "(k=v, k!=v, k in (..), !k) and refuses what does not parse (any message but a missing "
        "selector: only the selector parser names this field)",
        r"^GET /[a-z_]+$|^POST /(load_balancers|firewalls)", 400, "invalid_input",
        r"(^|\.)label_selector(\.selector)?$", r"^(?!.*: is required$)",
    ),
    Refusal(
        "label syntax",
        "labels are a free string map in the document; Hetzner's keys and values follow its label "
        "syntax (prefix/name of [a-z0-9A-Z._-], values up to 63 characters)",
        r"^(POST|PUT) ", 400, "invalid_input", r"^labels$",
        r"^invalid input in field 'labels': label (key|value) .* is invalid$",
    ),
    Refusal(
        "pagination bounds",
        "page and per_page are unbounded integers in the document; its Pagination section bounds "
        "them (page >= 1, 1 <= per_page <= 50)",
        LISTS, 400, "invalid_input", r"^(page|per_page)$", r"must be at (least|most) \d+",
    ),
    Refusal(
        "id filters that name nothing",
        "the action lists' id filter takes action ids and GET /images?bound_to= a server id: the "
        "document types them as an int64 without a minimum and a string, but an id is a positive "
        "integer",
        r"^GET /([a-z_]+/)?actions$|^GET /images$", 400, "invalid_input", r"^(id|bound_to)$",
        r"is not a valid ID|must be an integer$",
    ),
    Refusal(
        "references to resources that do not exist",
        "bodies name other resources (server, network, certificate, server type, network zone...) "
        "by id or name; the document cannot say which exist",
        r"^(POST|PUT) ", 400, "invalid_input", None, r" not found$|: unknown network zone",
    ),
    Refusal(
        "formats the document leaves as plain strings",
        "IP addresses, CIDR blocks, PEM certificates and keys, SSH public keys, port ranges, DNS "
        "names and RFC 3339 timestamps are typed string (without format) in the document",
        r"^(GET|POST|PUT) ", 400, "invalid_input", None,
        r"is not a CIDR block|has host bits set|is not PEM|field 'dns_ptr': must be a valid hostname|is not an IPv[46] (network in CIDR notation|address)|"
        r"must be an IP address|is not an IP address|is not valid PEM|invalid public key|"
        r"must be an RFC 3339 timestamp|must be a port \(1-65535\)|is not a valid domain name",
    ),
    Refusal(
        "numbers out of range",
        "ports, sizes, intervals, retries and timeouts are integers without bounds in the document; "
        "ports are 1-65535, sizes 10-10240 GB and the others positive (the errors name the bound; "
        "an integer beyond 64 bits reaches serde as a float)",
        r"^(POST|PUT) ", 400, "invalid_input", None,
        r"invalid value: integer `-?\d+`, expected u(8|16|32|64)|"
        r"invalid type: floating point `-?[0-9.]+e\+?\d+`, expected [ui](8|16|32|64)|"
        r"must be greater than the current size|must be a whole number of GB|must be 10 to 10240 GB|"
        r"must be between 1 and 65535",
    ),
    Refusal(
        "names",
        "name is a bare string in the document; Hetzner's names are 1 to 128 characters, a "
        "server's name is a hostname (the document says so: 'a valid hostname as per RFC 1123') "
        "and a volume's is 1 to 64 letters, digits, dashes, underscores or dots",
        r"^(POST|PUT) ", 400, "invalid_input", r"^name$",
        r"must be 1 to 128 characters|must be a valid hostname|must be 1 to 64 letters, digits",
    ),
    Refusal(
        "rules between fields, stated in the document's prose",
        "e.g. server and home_location are mutually exclusive or one of them required, port only "
        "with (and required by) tcp and udp, destination_ips only for direction out, an ip target "
        "needs ip, vswitch_id only for vswitch subnets, uploaded certificates need certificate and "
        "private_key, an incoming rule lists 1 to 100 source_ips: each is in the description of "
        "the fields involved",
        r"^(POST|PUT) ", 400, "invalid_input", None,
        r"are mutually exclusive|is only allowed for|is only for|"
        r"is required for (this type|managed certificates|uploaded certificates|tcp and udp|tcp services|"
        r"subnets of type vswitch)|"
        r"^invalid input in field '\w+': either \w+ or \w+ is required$|must be empty for this direction|"
        r"must list 1 to 100 CIDRs",
    ),
    Refusal(
        "a resource reference that its type needs",
        "apply_to/remove_from/targets entries of type server need server, of type label_selector "
        "need label_selector: the document makes both optional and says which type uses which",
        r"^POST /(firewalls|load_balancers)", 400, "invalid_input",
        r"^(apply_to|remove_from|targets)\[\d+\]\.(server|label_selector)$", r"is required$",
    ),
    Refusal(
        "assigning to nobody",
        "the assign requests reuse the IP's own server/assignee_id property (nullable, 'null if "
        "not assigned'); an assignment needs the server to assign to, unassign is its own action",
        r"^POST /(floating|primary)_ips/\{id\}/actions/assign$", 400, "invalid_input",
        r"^(server|assignee_id)$", r"is required$",
    ),
    Refusal(
        "route gateways",
        "gateway is a bare string in the document; its prose: it cannot be the first IP of the "
        "network's ip_range nor 172.31.1.1, and it must lie in the network (outside vSwitch "
        "subnets, which route through the vSwitch)",
        r"^POST /networks(/\{id\}/actions/add_route)?$", 400, "invalid_input",
        r"(^|\.)gateway$", r"must be an address of the network other than its first",
    ),
    Refusal(
        "the resource's own state",
        "the request names a part of the resource that it does not have (a route, subnet, service, "
        "target or address), a volume that is not attached, a route that is already there, a "
        "network range that would shrink (change_ip_range can only grow it, says the document), "
        "deletion protection of a primary IP that is deleted with its server (auto_delete on) or "
        "a certificate that is not in a failed state",
        r"^POST /[a-z_]+/\{id\}/actions/", 400, "invalid_input", None,
        r"has no (such|subnet|service)|is not an address of this|is not attached|overlaps|can be retried|"
        r"field 'ip_range': can only grow: |can only be protected against deletion when auto_delete is off",
    ),
    Refusal(
        "empty resource lists",
        "apply_to_resources and remove_from_resources with an empty list: there is nothing to do, "
        "and Stratus says so rather than starting an action for nothing",
        r"^POST /firewalls/\{id\}/actions/(apply_to|remove_from)_resources$", 400, "invalid_input",
        r"^(apply_to|remove_from)$", r"must name at least one resource",
    ),
]

# object_level_authorization: the catalogue every project reads alike.
CATALOGUE = (
    "the public catalogue",
    "locations, datacenters, server and load balancer types, ISOs, pricing and system/app images "
    "are Hetzner's, the same for every project: a second project reading them is no leak",
)
CATALOGUE_OPS = re.compile(
    r"^GET /(locations|datacenters|server_types|load_balancer_types|isos|pricing)(/\{id\})?$"
)


def _catalogue_read(case: Any, response: Any) -> bool:
    if CATALOGUE_OPS.match(case.operation.label):
        return True
    if case.operation.label != "GET /images/{id}":
        return False
    try:
        return json.loads(response.text)["image"]["type"] in ("system", "app")
    except (ValueError, KeyError, TypeError):
        return False


# negative_data_rejection: schema-violating requests Stratus accepts on purpose.
PLACEMENT_GROUP_TYPE = (
    "POST /placement_groups without type",
    "type is required by the document, but Ansible's hetzner.hcloud placement_group sends "
    '"type": null when the user leaves it out; spread is the only type (the client wins: '
    "crates/api-hetzner/src/placement_groups.rs)",
)
NULL_AS_ABSENT = (
    "null for an optional property",
    "Stratus reads null as absent for every optional request field (serde Option): the only "
    "violation is a null where the document's property is optional but not nullable. Refusing "
    "it would change every request type of the dialect (see README: not fixed here)",
)

# status_code_conformance
LB_DELETE_200 = (
    "DELETE /load_balancers/{id} answers 200",
    "the document answers 204, but hcloud-python 2.27 reads {\"action\": ...} from the answer and "
    "fails on a 204; 200 with the deleting action satisfies every client (the client wins: "
    "crates/api-hetzner/src/load_balancers.rs)",
)

# Every rule's reason by its name, printed with what it dropped.
REASONS = {rule.name: rule.reason for rule in REFUSALS} | dict(
    [CATALOGUE, PLACEMENT_GROUP_TYPE, NULL_AS_ABSENT, LB_DELETE_200]
)

_dropped: dict[str, list[Any]] = {}
_lock = threading.Lock()


def _record(rule: str, case: Any, response: Any) -> None:
    with _lock:
        entry = _dropped.setdefault(rule, [0, None])
        entry[0] += 1
        if entry[1] is None:
            body = response.text if response is not None else ""
            entry[1] = f"{case.operation.label} -> {response.status_code} {body[:200]}"


def _error(response: Any) -> tuple[str, str, list[str]] | None:
    try:
        error = json.loads(response.text)["error"]
    except (ValueError, KeyError, TypeError):
        return None
    details = error.get("details") or {}
    fields = [f.get("name", "") for f in details.get("fields") or [] if isinstance(f, dict)]
    return error.get("code", ""), error.get("message", ""), fields


def _refusal(case: Any, response: Any) -> str | None:
    error = _error(response)
    if error is None:
        return None
    code, message, fields = error
    for rule in REFUSALS:
        if (
            response.status_code == rule.status
            and code == rule.code
            and re.search(rule.operations, case.operation.label)
            and re.search(rule.message, message)
            and (rule.field is None or any(re.search(rule.field, f) for f in fields))
        ):
            return rule.name
    return None


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


def _only_nulls_negated(case: Any) -> bool:
    """Whether the case is negative only in its body, and only through nulls of optional
    properties: with every null object member removed, the body is valid."""
    meta = case.meta
    negative = [loc for loc, info in meta.components.items() if info.mode.is_negative]
    if negative != [ParameterLocation.BODY] or not isinstance(case.body, dict):
        return False
    stripped = _strip_nulls(case.body)
    if stripped == case.body:
        return False
    alternative = case.operation.get_body_for_media_type(case.media_type)
    validator_cls = case.operation.schema.adapter.jsonschema_validator_cls
    return make_validator(alternative.optimized_schema, validator_cls).is_valid(stripped)


def _accepted_negative(case: Any) -> str | None:
    if case.operation.label == "POST /placement_groups" and isinstance(case.body, dict):
        rest = {k: v for k, v in case.body.items() if k != "type"}
        if case.body.get("type") is None and "name" in rest:
            validator_cls = case.operation.schema.adapter.jsonschema_validator_cls
            schema = case.operation.get_body_for_media_type(case.media_type).optimized_schema
            if make_validator(schema, validator_cls).is_valid({**_strip_nulls(rest), "type": "spread"}):
                return PLACEMENT_GROUP_TYPE[0]
    if _only_nulls_negated(case):
        return NULL_AS_ABSENT[0]
    return None


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure except the known false positives above."""
    checks = getattr(failure, "checks", ())
    rule = None
    if "positive_data_acceptance" in checks:
        rule = _refusal(case, response)
    elif "negative_data_rejection" in checks:
        rule = _accepted_negative(case)
    elif "object_level_authorization" in checks:
        if _catalogue_read(case, response):
            rule = CATALOGUE[0]
    elif "status_code_conformance" in checks:
        if case.operation.label == "DELETE /load_balancers/{id}" and response.status_code == 200:
            rule = LB_DELETE_200[0]
    if rule is None:
        return True
    _record(rule, case, response)
    return False


@atexit.register
def _report() -> None:
    if not _dropped:
        return
    out = sys.stderr
    print("\nKnown false positives dropped by tests/schemathesis/hooks.py:", file=out)
    for rule, (count, example) in sorted(_dropped.items()):
        print(f"  {count:6d}  {rule}\n          why: {REASONS[rule]}\n          e.g. {example}", file=out)
