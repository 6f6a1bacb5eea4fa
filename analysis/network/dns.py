"""DNS reachability: which VPCs resolve on-premises names through the Route 53 Resolver.

A forwarding rule answers a VPC's queries for its domain by sending them from the
outbound endpoint's network interfaces, not from the querying VPC. Packet routes
therefore say nothing about who can resolve on-premises names: a VPC whose segment may
not reach on-premises still queries the on-premises resolvers if the rule is associated
with it. So the analysis reads, from the templates:

1. the forwarding rules associated with the VPC (a rule serves only the VPCs it is
   associated with, in its own region);
2. whether the rule's outbound endpoint may send DNS (port 53, UDP or TCP) to a target
   resolver: its security groups' egress rules;
3. whether a packet from a subnet of the endpoint reaches the target and back
   (:func:`analysis.network.reachability.evaluate`, the same walk as every other flow).

A VPC resolves the domain when some rule associated with it passes 2 and 3 for some
target. The verdict is about the path: the on-premises resolvers decide what they answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis.network.graph import ForwardingRule, Key, Network
from analysis.network.reachability import Place, evaluate, host_address

DNS_PORT = 53


@dataclass(frozen=True)
class DnsResolution:
    """Whether ``vpc`` resolves ``domain`` through a forwarding rule, and why."""

    vpc: Key
    domain: str
    resolves: bool
    reason: str


def _endpoint_reaches(net: Network, rule: ForwardingRule) -> tuple[bool, str]:
    endpoint = net.resolver_endpoints[rule.endpoint]
    egress = [r for group in endpoint.security_groups for r in net.security_group_egress.get(group, [])]
    problems = []
    for target in rule.targets:
        if not any(r.allows(p, target, DNS_PORT) for r in egress for p in ("udp", "tcp")):
            problems.append(f"{endpoint.name} may not send DNS to {target} (security group)")
            continue
        for subnet in endpoint.subnets:
            result = evaluate(net, Place("subnet", subnet), host_address(net.subnets[subnet]), target)
            if result.allowed:
                return True, f"{rule.name} forwards from {endpoint.name} to {target}"
            problems.append(f"{endpoint.name} to {target}: {result.explanation}")
    return False, "; ".join(problems) or f"{rule.name} has no target resolver"


def resolutions(net: Network, vpc: Key) -> list[DnsResolution]:
    """One verdict per forwarded domain of the assembly, for ``vpc``."""
    found = []
    for rule in sorted(net.forwarding_rules.values(), key=lambda r: (r.domain, r.key)):
        if vpc not in rule.vpcs:
            rule_region = net.resources[rule.key].region
            # A rule can serve only VPCs of its own region (Route 53 Resolver rules are regional).
            where = (
                "" if rule_region == net.vpcs[vpc].region else f" (the rule is in {rule_region}; rules are regional)"
            )
            found.append(DnsResolution(vpc, rule.domain, False, f"{rule.name} is not associated{where}"))
            continue
        resolves, reason = _endpoint_reaches(net, rule)
        found.append(DnsResolution(vpc, rule.domain, resolves, reason))
    # Two rules for one domain: the VPC resolves it if either path works.
    by_domain: dict[str, DnsResolution] = {}
    for resolution in found:
        known = by_domain.get(resolution.domain)
        if known is None or (resolution.resolves and not known.resolves):
            by_domain[resolution.domain] = resolution
    return list(by_domain.values())
