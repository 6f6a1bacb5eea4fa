"""What a sandbox deployment costs per month and per hour while it sits idle, by pattern.

Each pattern is priced by its own cost model where it has one, counted from the
synthesized templates, never from the pattern's name:

* network: ``analysis.network.cost`` (Transit Gateway attachments, NAT gateways, the
  firewall endpoints, interface endpoints, Resolver endpoints, the VPN);
* disaster recovery: ``analysis.disaster_recovery.tiers`` for the DR region, and the same
  prices for what the home region holds (its Aurora instances and storage);
* streaming: shard hours (or the on-demand stream hour) and enhanced fan-out
  consumer-shard hours at the deployed shard count, with the streaming sizing's prices;
* every pattern: the resources that bill by the month whatever the traffic (KMS keys,
  secrets, CloudWatch alarms, hosted zones and health checks), where its own model does
  not already count them.

Requests, data processed and storage that grows with use are billed per use and left out:
the figure is the floor a sandbox costs before anyone sends it a request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from analysis.assembly import StackTemplate
from analysis.disaster_recovery import prices as dr_prices
from analysis.disaster_recovery.tiers import dr_region_cost, extract_facts
from analysis.network.cost import cost_at_rest, load_prices
from org_config.model import OrgConfig
from org_config.streaming_sizing import CURRENT_PRICES

HOURS_PER_MONTH = 730  # AWS's pricing calculator month (8,760 hours / 12)
# Monthly list prices of what bills whatever the traffic (USD; the AWS pricing pages of
# KMS, Secrets Manager, CloudWatch and Route 53, as the other price tables record them).
MONTHLY_EACH: dict[str, tuple[str, float]] = {
    "AWS::KMS::Key": ("KMS keys", dr_prices.KMS_KEY_MONTH),
    "AWS::SecretsManager::Secret": ("secrets", dr_prices.SECRET_MONTH),
    "AWS::CloudWatch::Alarm": ("CloudWatch alarms (standard resolution)", 0.10),
    "AWS::Route53::HostedZone": ("hosted zones", 0.50),
}
# Which stacks belong to which pattern, by the name the app gives them.
STACK_PREFIXES: dict[str, tuple[str, ...]] = {
    "sandbox": ("sandbox-baseline-",),
    "network": ("network-",),
    "disaster-recovery": ("dr-",),
    "object-index": ("object-index-",),
    "streaming": ("streaming-",),
}


@dataclass(frozen=True)
class PatternCost:
    pattern: str
    lines: tuple[tuple[str, float], ...]  # (item, USD per month)
    note: str = ""

    @property
    def monthly(self) -> float:
        return round(sum(amount for _, amount in self.lines), 2)

    @property
    def hourly(self) -> float:
        return round(self.monthly / HOURS_PER_MONTH, 4)


def pattern_of(stack: StackTemplate) -> str:
    for pattern, prefixes in STACK_PREFIXES.items():
        if stack.name.startswith(prefixes):
            return pattern
    raise ValueError(f"stack '{stack.name}' belongs to no sandbox pattern")


def _count(stacks: Iterable[StackTemplate], resource_type: str) -> int:
    return sum(1 for s in stacks for r in s.template.get("Resources", {}).values() if r["Type"] == resource_type)


def _monthly_each(stacks: Sequence[StackTemplate], skip: frozenset[str] = frozenset()) -> list[tuple[str, float]]:
    lines = []
    for resource_type, (item, price) in MONTHLY_EACH.items():
        count = _count(stacks, resource_type)
        if count and resource_type not in skip:
            lines.append((f"{item}: {count} x ${price:.2f}", round(count * price, 2)))
    return lines


def _network(stacks: Sequence[StackTemplate]) -> PatternCost:
    price_list = load_prices()
    regions = sorted({s.region for s in stacks})
    stand_in = [r for r in regions if r not in price_list.regions]
    note = ""
    if stand_in:
        recorded = sorted(price_list.regions)[0]

        def _priced(region: str) -> str:
            return recorded if region in stand_in else region

        note = f"no recorded prices for {', '.join(stand_in)}: priced with {recorded}'s"
        stacks = [
            StackTemplate(
                s.name, s.account, recorded if s.region in stand_in else s.region, s.template_path, s.template
            )
            for s in stacks
        ]
    lines = [
        (f"{line.item} ({line.region}): {line.units} x ${line.hourly_each}/h", round(line.hourly * HOURS_PER_MONTH, 2))
        for line in cost_at_rest(stacks, price_list)
    ]
    return PatternCost("network", tuple([*lines, *_monthly_each(stacks)]), note)


def _disaster_recovery(config: OrgConfig, stacks: Sequence[StackTemplate]) -> PatternCost:
    home, dr = config.regions.home, config.regions.dr
    facts = extract_facts(stacks, home_region=home, dr_region=dr)
    lines = [(f"DR region: {line.item} ({line.basis})", line.monthly) for line in dr_region_cost(facts).lines]
    home_stacks = [s for s in stacks if s.region == home]
    for stack in home_stacks:
        for resource in stack.template.get("Resources", {}).values():
            if resource["Type"] == "AWS::RDS::DBInstance":
                instance_class = str(resource["Properties"].get("DBInstanceClass"))
                hourly = dr_prices.AURORA_INSTANCE_HOURLY[instance_class]
                lines.append((f"home region: Aurora instance {instance_class}", round(hourly * HOURS_PER_MONTH, 2)))
    if _count(home_stacks, "AWS::RDS::DBCluster"):
        storage = dr_prices.DATABASE_GB * dr_prices.AURORA_STORAGE_GB_MONTH
        lines.append((f"home region: Aurora storage ({dr_prices.DATABASE_GB} GB)", round(storage, 2)))
    lines += [(f"home region: {item}", amount) for item, amount in _monthly_each(home_stacks)]
    note = f"prices of {dr_prices.PRICE_REGION}, recorded {dr_prices.PRICES_RECORDED}"
    return PatternCost("disaster-recovery", tuple(lines), note)


def _streaming(stacks: Sequence[StackTemplate]) -> PatternCost:
    prices = CURRENT_PRICES
    lines: list[tuple[str, float]] = []
    for stack in stacks:
        for resource in stack.template.get("Resources", {}).values():
            if resource["Type"] != "AWS::Kinesis::Stream":
                continue
            properties = resource.get("Properties", {})
            mode = properties.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
            if mode == "ON_DEMAND":
                lines.append(("on-demand stream hours", round(prices.on_demand_stream_hour * HOURS_PER_MONTH, 2)))
                continue
            shards = int(properties.get("ShardCount", 1))
            lines.append(
                (
                    f"shard hours: {shards} x ${prices.shard_hour}/h",
                    round(shards * prices.shard_hour * HOURS_PER_MONTH, 2),
                )
            )
            consumers = _count(stacks, "AWS::Kinesis::StreamConsumer")
            if consumers:
                amount = consumers * shards * prices.fan_out_consumer_shard_hour * HOURS_PER_MONTH
                lines.append((f"enhanced fan-out: {consumers} consumers x {shards} shards", round(amount, 2)))
    lines += _monthly_each(stacks)
    return PatternCost("streaming", tuple(lines), f"Kinesis prices of {prices.region} ({prices.as_of})")


def sandbox_cost(config: OrgConfig, stacks: Sequence[StackTemplate]) -> list[PatternCost]:
    """The idle cost of each pattern in the sandbox assembly, in deployment order."""
    by_pattern: dict[str, list[StackTemplate]] = {}
    for stack in stacks:
        by_pattern.setdefault(pattern_of(stack), []).append(stack)
    costs = []
    for pattern, members in by_pattern.items():
        if pattern == "network":
            costs.append(_network(members))
        elif pattern == "disaster-recovery":
            costs.append(_disaster_recovery(config, members))
        elif pattern == "streaming":
            costs.append(_streaming(members))
        else:
            note = "first two budgets free (AWS Budgets pricing)" if pattern == "sandbox" else ""
            costs.append(PatternCost(pattern, tuple(_monthly_each(members)), note))
    order = list(STACK_PREFIXES)
    return sorted(costs, key=lambda cost: order.index(cost.pattern))


def render_cost(costs: Sequence[PatternCost]) -> str:
    """A plain-text table: each pattern's items, its monthly and hourly total, the total."""
    rows = [f"{'pattern':<20} {'per hour':>10} {'per month':>11}  what bills at rest"]
    for cost in costs:
        items = "; ".join(item for item, _ in cost.lines) or "nothing that bills by the hour"
        note = f" ({cost.note})" if cost.note else ""
        rows.append(f"{cost.pattern:<20} {cost.hourly:>10.4f} {cost.monthly:>11.2f}  {items}{note}")
    total = round(sum(cost.monthly for cost in costs), 2)
    rows.append(f"{'total (USD)':<20} {total / HOURS_PER_MONTH:>10.4f} {total:>11.2f}")
    return "\n".join(rows)
