"""No value of the example organization reaches another organization's templates unless
that organization wrote it itself: every default that is an example value is either
required or derived from the user's own config.

Each committed organization under ``tests/configs/`` is synthesized once per session; its
templates (every stack, the StackSet's body included) are searched for the example's
account ids, account names, emails, domains, CIDR blocks, VPN address, ASNs and the
organization's own identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from org_config.loader import example_config_text
from tests.support.synthesis import COMMITTED_CONFIGS, committed_organization

ORGANIZATIONS = sorted(path.stem for path in COMMITTED_CONFIGS.glob("*.yaml"))


def _scalars(value: Any) -> Iterator[str]:
    """Every scalar of a parsed YAML or JSON document, as text."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    elif value is not None:
        yield str(value)


def example_values() -> dict[str, set[str]]:
    """The example's values a user's templates must not carry, by kind."""
    example: dict[str, Any] = yaml.safe_load(example_config_text())
    network = example["network"]
    emails = {a["email"] for a in example["accounts"]}
    emails |= {s["alarm_email"] for s in example.values() if isinstance(s, dict) and s.get("alarm_email")}
    domains = {email.split("@")[1] for email in emails}
    domains |= {example["disaster_recovery"]["hosted_zone_name"], network["on_premises_dns"]["domain"]}
    cidrs = {network["supernet"], *network["on_premises"], *(v["cidr"] for v in network["vpcs"].values())}
    cidrs |= {r[end] for r in network["firewall"]["rules"] for end in ("source", "destination")} - {"ANY"}
    identifiers = {
        example["organization"]["id"],
        example["organization"]["root_id"],
        example["organization"]["name_prefix"],
        example["identity_center"]["instance_arn"],
        *(a["group_id"] for a in example["identity_center"]["assignments"]),
    }
    return {
        "account id": {a["id"] for a in example["accounts"]},
        "email": emails,
        "domain": domains,
        "CIDR block": cidrs,
        "VPN address": {network["vpn"]["customer_gateway_ip"]},
        "identifier": identifiers,
        # Matched as whole values only: names like "audit" or "network" are also words.
        "account name": {a["name"] for a in example["accounts"]},
        "ASN": {str(asn) for asn in network["transit_gateway_asns"].values()} | {str(network["vpn"]["bgp_asn"])},
    }


WHOLE_VALUE_KINDS = ("account name", "ASN")


def _pattern(kind: str, value: str) -> re.Pattern[str]:
    # Not inside a longer name, number or address (10.1.0.0/16 is not 110.1.0.0/16); a
    # domain also counts as a subdomain's tail (app.dr.example.com holds dr.example.com).
    before = r"(?<![A-Za-z0-9-])" if kind == "domain" else r"(?<![A-Za-z0-9.@-])"
    return re.compile(rf"{before}{re.escape(value)}(?![A-Za-z0-9-]|\.[A-Za-z0-9])")


def leaks(template: Any, forbidden: dict[str, set[str]]) -> list[str]:
    """ "<kind> '<value>' in '<text>'" for each example value found in ``template``."""
    found = []
    patterns = {
        kind: [(value, _pattern(kind, value)) for value in sorted(values)]
        for kind, values in forbidden.items()
        if kind not in WHOLE_VALUE_KINDS
    }
    for text in set(_scalars(template)):
        for kind in WHOLE_VALUE_KINDS:
            if text in forbidden.get(kind, ()):
                found.append(f"{kind} '{text}'")
        for kind, compiled in patterns.items():
            found += [f"{kind} '{value}' in '{text[:120]}'" for value, pattern in compiled if pattern.search(text)]
    return sorted(found)


def forbidden_in(organization: str) -> dict[str, set[str]]:
    """The example's values that ``organization`` did not write itself."""
    own = set(_scalars(yaml.safe_load((COMMITTED_CONFIGS / f"{organization}.yaml").read_text(encoding="utf-8"))))
    own |= {email.split("@")[1] for email in own if "@" in email}
    return {kind: values - own for kind, values in example_values().items()}


def test_the_search_finds_each_kind_of_example_value() -> None:
    """The detector itself: planted values are found, neighbours of them are not."""
    forbidden = example_values()
    planted = {
        "Email": "aws-audit@example.com",
        "Ip": "198.51.100.10",
        "Cidr": {"Fn::Join": ["", ["10.10.0.0/16"]]},
        "Zone": "app.dr.exampleco.com.",
        "Account": "arn:aws:iam::666666666666:root",
        "Name": "workload-prod",
        "Asn": 64512,
        "Unrelated": ["110.10.0.0/16", "10.10.0.0/160", "a-workload-prod", "auditor", "6666666666661", "645120"],
    }
    assert leaks(planted, forbidden) == [
        "ASN '64512'",
        "CIDR block '10.10.0.0/16' in '10.10.0.0/16'",
        "VPN address '198.51.100.10' in '198.51.100.10'",
        "account id '666666666666' in 'arn:aws:iam::666666666666:root'",
        "account name 'workload-prod'",
        "domain 'dr.exampleco.com' in 'app.dr.exampleco.com.'",
        "domain 'example.com' in 'aws-audit@example.com'",
        "email 'aws-audit@example.com' in 'aws-audit@example.com'",
    ]


@pytest.mark.parametrize("organization", ORGANIZATIONS)
def test_no_example_value_reaches_a_committed_organizations_templates(organization: str) -> None:
    synthesis = committed_organization(organization)
    assert synthesis.validation_error is None, synthesis.validation_error
    forbidden = forbidden_in(organization)
    found = {f"{stack.name}: {leak}" for stack in synthesis.stacks for leak in leaks(stack.template, forbidden)}
    assert not found, "\n".join(sorted(found))


def test_every_committed_organization_is_checked() -> None:
    assert set(ORGANIZATIONS) >= {"organization_only", "second_organization", "three_sandboxes"}
    assert all(Path(COMMITTED_CONFIGS / f"{name}.yaml").is_file() for name in ORGANIZATIONS)
