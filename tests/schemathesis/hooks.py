"""Known false positives of the Schemathesis run against Stratus, dropped one kind at a time.

Each rule names the check it applies to, the operations, the answer Stratus gave (status,
Hetzner error code, the field the error names, its message) and why that answer is right
although the official document's schema allows the request (or, for the negative checks,
why accepting is right although the schema forbids it). Anything a rule does not match stays
a failure. The run ends with a table of what each rule dropped and one example of each, so
a reviewer can see that every drop is what its reason says.
"""

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


ANY = r".*"

# positive_data_acceptance: schema-valid requests Stratus rightly refuses. The document types
# these values as bare strings/integers/objects; their rules are in its prose.
REFUSALS = [
    Refusal(
        "label selector syntax",
        "label_selector is a string in the document; Hetzner parses it with its selector grammar "
        "(k=v, k!=v, k in (..), !k) and refuses what does not parse",
        ANY, 400, "invalid_input", r"(^|\.)label_selector(\.selector)?$", ANY,
    ),
    Refusal(
        "label syntax",
        "labels are a free string map in the document; Hetzner's keys and values follow its label "
        "syntax (prefix/name of [a-z0-9A-Z._-], values up to 63 characters)",
        ANY, 400, "invalid_input", r"^labels$", r"^invalid input in field 'labels': label (key|value) .* is invalid$",
    ),
    Refusal(
        "pagination bounds",
        "page and per_page are unbounded integers in the document; its Pagination section bounds "
        "them (page >= 1, 1 <= per_page <= 50)",
        r"^GET ", 400, "invalid_input", r"^(page|per_page)$", r"must be at (least|most) \d+",
    ),
    Refusal(
        "id filters that name nothing",
        "the id and bound_to filters are ids: the document's id is an int64 without a minimum and "
        "bound_to a string, but an id is a positive integer, so anything else is refused",
        r"^GET ", 400, "invalid_input", r"^(id|bound_to)$", r"is not a valid ID|must be an integer$",
    ),
    Refusal(
        "references to resources that do not exist",
        "bodies name other resources (server, network, certificate, server type, network zone...) "
        "by id or name; the document cannot say which exist",
        r"^(POST|PUT) ", 400, "invalid_input", None, r" not found$|: unknown network zone",
    ),
    Refusal(
        "formats the document leaves as plain strings",
        "IP addresses, CIDR blocks, PEM certificates and keys, SSH public keys, port ranges and "
        "RFC 3339 timestamps are typed string (without format) in the document",
        ANY, 400, "invalid_input", None,
        r"is not a CIDR block|is not an IPv[46] network in CIDR notation|must be an IP address|"
        r"is not an IP address|is not valid PEM|invalid public key|must be an RFC 3339 timestamp",
    ),
    Refusal(
        "numbers out of range",
        "ports, sizes, intervals, retries and timeouts are integers without bounds in the document; "
        "ports are 1-65535 and the others positive (the errors name the bound)",
        r"^POST ", 400, "invalid_input", None,
        r"invalid value: integer `-?\d+`, expected u(8|16|32|64)|must be greater than the current size|"
        r"must be a whole number of GB",
    ),
    Refusal(
        "names",
        "name is a bare string in the document; Hetzner's names are 1 to 128 characters",
        r"^(POST|PUT) ", 400, "invalid_input", r"^name$", r"must be 1 to 128 characters",
    ),
    Refusal(
        "rules between fields, stated in the document's prose",
        "e.g. server and home_location are mutually exclusive, port only with tcp and udp, an ip "
        "target needs ip, vswitch_id only for vswitch subnets, managed certificates need "
        "domain_names: each is in the description of the fields involved",
        r"^POST ", 400, "invalid_input", None,
        r"are mutually exclusive|is only allowed for|is only for|is required for (this type|managed certificates)",
    ),
    Refusal(
        "the resource's own state",
        "the request names a part of the resource that it does not have (a route, subnet, service, "
        "target or address), a volume that is not attached, a route that is already there, or a "
        "certificate that is not in a failed state",
        r"^POST /[a-z_]+/\{id\}/actions/", 400, "invalid_input", None,
        r"has no (such|subnet|service)|is not an address of this|is not attached|overlaps|can be retried",
    ),
    Refusal(
        "empty resource lists",
        "apply_to_resources and remove_from_resources with an empty list: there is nothing to do, "
        "and Stratus says so rather than starting an action for nothing",
        r"^POST /firewalls/\{id\}/actions/(apply_to|remove_from)_resources$", 400, "invalid_input",
        r"^(apply_to|remove_from)$", r"must name at least one resource",
    ),
]

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
        print(f"  {count:6d}  {rule}\n          e.g. {example}", file=out)
