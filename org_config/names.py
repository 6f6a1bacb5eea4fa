"""Deterministic physical names derived from the config.

Resources that another account must find (the central log buckets, the log key alias,
the organization trail) get names computed here, so cross-account values come from the
config and never travel through CloudFormation exports. Everything else keeps the name
CloudFormation generates.
"""

from __future__ import annotations

import re

from org_config.common import S3_RESERVED_PREFIXES, S3_RESERVED_SUFFIXES, AccountRole
from org_config.model import OrgConfig

LOG_BUCKET_PURPOSES: tuple[str, ...] = ("cloudtrail", "config", "vpc-flow-logs", "s3-access-logs")
ORGANIZATION_TRAIL_NAME = "organization-trail"


def log_bucket_name(config: OrgConfig, purpose: str) -> str:
    """Name of a central log bucket in the log-archive account's home region.

    ``{prefix}-{purpose}-{account id}-{region}``: the account id and region make it
    globally unique; at most 63 characters for every prefix and region the config allows.
    """
    if purpose not in LOG_BUCKET_PURPOSES:
        raise ValueError(f"unknown log bucket purpose '{purpose}'")
    account = config.account(AccountRole.LOG_ARCHIVE)
    return f"{config.organization.name_prefix}-{purpose}-{account.id}-{config.regions.home}"


def log_key_alias(config: OrgConfig) -> str:
    """Alias of the customer-managed key that encrypts the central logs."""
    return f"alias/{config.organization.name_prefix}/log-archive"


def organization_trail_arn(config: OrgConfig) -> str:
    """ARN of the organization CloudTrail trail, owned by the management account."""
    management = config.account(AccountRole.MANAGEMENT)
    return f"arn:aws:cloudtrail:{config.regions.home}:{management.id}:trail/{ORGANIZATION_TRAIL_NAME}"


def object_index_bucket_name(config: OrgConfig) -> str:
    """Name of the object index's data bucket in its account's home region.

    Uploaders address the bucket by name, and the bucket's own event notification and the
    queue and key policies that let S3 deliver them refer to it before it exists (a
    generated name would make the bucket and the queue policy depend on each other).
    ``{prefix}-object-index-{account id}-{region}``: at most 61 characters.
    """
    if config.object_index is None:
        raise ValueError("the config has no object_index section")
    account = config.account_named(config.object_index.account)
    return f"{config.organization.name_prefix}-object-index-{account.id}-{config.regions.home}"


def bucket_names(config: OrgConfig) -> dict[str, str]:
    """Every bucket name derived from the config, by what the bucket is for."""
    names = {f"{purpose} log": log_bucket_name(config, purpose) for purpose in LOG_BUCKET_PURPOSES}
    if config.object_index is not None:
        names["object index data"] = object_index_bucket_name(config)
    return names


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` breaks S3's general purpose bucket naming rules, or ``None``."""
    if not _BUCKET_NAME.fullmatch(name):
        return "S3 does not accept (3 to 63 lowercase letters, digits, dots and hyphens)"
    if ".." in name or ".-" in name or "-." in name:
        return "S3 does not accept (adjacent dots, or a dot next to a hyphen)"
    for reserved in S3_RESERVED_PREFIXES:
        if name.startswith(reserved):
            return f"starts with '{reserved}', which S3 reserves"
    for reserved in S3_RESERVED_SUFFIXES:
        if name.endswith(reserved):
            return f"ends with '{reserved}', which S3 reserves"
    return None


def bucket_name_problems(config: OrgConfig) -> list[str]:
    """One "<field>: <rule>" line per derived bucket name that S3 would refuse.

    Checked by the loader right after the model validates, because the names build on
    the validated model (the model itself never imports this module).
    """
    return [
        f"organization.name_prefix: the {purpose} bucket would be named '{name}', which {problem}"
        for purpose, name in bucket_names(config).items()
        if (problem := bucket_name_problem(name))
    ]


# Network (pattern 2). Every VPC, subnet, route table, Transit Gateway, route table and
# attachment carries a Name tag from these functions: readable in the console and in a
# printed path, and the key by which a stack in another region finds a resource at
# deploy time (an EC2 describe call filtered on tag:Name).


def vpc_name(vpc: str, region: str) -> str:
    """``prod-eu-west-1``."""
    return f"{vpc}-{region}"


def subnet_name(vpc: str, region: str, tier: str, zone: str) -> str:
    """``prod-eu-west-1-private-a``: the tier and the AZ letter."""
    return f"{vpc_name(vpc, region)}-{tier}-{zone[-1]}"


def route_table_name(vpc: str, region: str, tier: str, zone: str | None = None) -> str:
    """``prod-eu-west-1-rt-private`` (one table for all AZs) or ``egress-eu-west-1-rt-attachment-a``."""
    suffix = f"-{zone[-1]}" if zone else ""
    return f"{vpc_name(vpc, region)}-rt-{tier}{suffix}"


def transit_gateway_name(config: OrgConfig, region: str) -> str:
    return f"{config.organization.name_prefix}-tgw-{region}"


def tgw_route_table_name(table: str, region: str) -> str:
    """``tgw-rt-prod-eu-west-1``: one per segment, plus on-premises, inspection, egress, peering."""
    return f"tgw-rt-{table}-{region}"


def tgw_attachment_name(vpc: str, region: str) -> str:
    return f"tgw-attach-{vpc_name(vpc, region)}"


def tgw_peering_name(config: OrgConfig) -> str:
    """The peering attachment between the home and DR Transit Gateways."""
    return f"tgw-peering-{config.regions.home}-{config.regions.dr}"


def firewall_name(config: OrgConfig) -> str:
    """The inspection firewall in the home region (letters, digits and hyphens, at most 128)."""
    return f"{config.organization.name_prefix}-inspection-{config.regions.home}"


def flow_log_destination(config: OrgConfig) -> str:
    """ARN of the log-archive flow-log bucket, where every VPC and Transit Gateway flow log goes."""
    return f"arn:aws:s3:::{log_bucket_name(config, 'vpc-flow-logs')}"


# Disaster recovery (pattern 3). The stacks of the two regions find each other's resources
# by these names: no export crosses a region.


def dr_key_alias(config: OrgConfig) -> str:
    """Alias of the customer-managed key of the workload's data, one key per region."""
    return f"alias/{config.organization.name_prefix}/dr-workload"


def dr_files_bucket_name(config: OrgConfig, region: str) -> str:
    """The workload's user-files bucket in ``region`` (the DR one is the replica):
    ``{prefix}-files-{account id}-{region}``, at most 56 characters."""
    account = config.account_named(config.disaster_recovery.account)
    return f"{config.organization.name_prefix}-files-{account.id}-{region}"


def dr_backup_vault_name(config: OrgConfig, region: str) -> str:
    return f"{config.organization.name_prefix}-dr-{region}"


def dr_global_cluster_id(config: OrgConfig) -> str:
    """The Aurora global database that joins the home and DR clusters."""
    return f"{config.organization.name_prefix}-dr-workload"
