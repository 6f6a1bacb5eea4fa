"""The library of service control policies (SCPs), built from the config.

Plain Python (no CDK import): the stack turns these documents into
``AWS::Organizations::Policy`` resources, the docs list them, and the guardrail tests
evaluate the copies found in the synthesized template.

Each statement carries a one-line description: what it prevents and why, and who is
exempt. Statements are grouped into few policies because AWS limits how many SCPs attach
to one target (FullAWSAccess counts too).

:func:`library` is long on purpose: it is a table, one :class:`Guardrail` row per SCP
statement, written out as the policy JSON it becomes, so that a reviewer reads each
statement next to its reason and exemption without following helpers. It holds no logic
beyond filling in names from the config; splitting it would only scatter the table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from org_config.loader import ConfigError
from org_config.model import AccountRole, OrgConfig
from org_config.names import LOG_BUCKET_PURPOSES, log_bucket_name, log_key_alias

# Always attached by AWS to the root, every OU and every account; it takes a slot.
FULL_AWS_ACCESS = "FullAWSAccess"
FULL_AWS_ACCESS_DOCUMENT: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}

# Roles the CDK bootstrap creates (default qualifier) and the execution roles that
# service-managed StackSets create: the platform's own deployment paths.
CDK_ROLES = "arn:aws:iam::*:role/cdk-hnb659fds-*"
STACKSET_EXECUTION_ROLES = "arn:aws:iam::*:role/stacksets-exec-*"

# Actions of global services, whose requests name us-east-1 or no region at all: the
# region guardrail must not block them (AWS's documented example list, trimmed to the
# services this organization uses).
GLOBAL_ACTIONS: tuple[str, ...] = (
    "account:*",
    "aws-portal:*",
    "billing:*",
    "budgets:*",
    "ce:*",
    "cloudfront:*",
    "cur:*",
    "ec2:DescribeRegions",
    "globalaccelerator:*",
    "health:*",
    "iam:*",
    "networkmanager:*",
    "organizations:*",
    "pricing:*",
    "route53:*",
    "route53domains:*",
    "s3:GetAccountPublicAccessBlock",
    "s3:ListAllMyBuckets",
    "shield:*",
    "sts:*",
    "support:*",
    "trustedadvisor:*",
    "waf:*",
    "wafv2:*",
)


@dataclass(frozen=True)
class Guardrail:
    """One SCP statement and why it exists."""

    sid: str
    prevents: str  # what it prevents, and why
    exempt: str  # who may still do it
    statement: Mapping[str, Any]


@dataclass(frozen=True)
class ServiceControlPolicy:
    name: str
    description: str
    guardrails: tuple[Guardrail, ...]

    def document(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": [{"Sid": g.sid, **g.statement} for g in self.guardrails]}

    def minified_size(self) -> int:
        """Characters AWS counts against the SCP size quota (whitespace removed)."""
        return len(json.dumps(self.document(), separators=(",", ":")))


def _not_principals(*arns: str) -> dict[str, Any]:
    return {"ArnNotLike": {"aws:PrincipalArn": list(arns)}}


def library(config: OrgConfig) -> dict[str, ServiceControlPolicy]:
    """Every SCP this organization can attach, by name: the table of statements, in the
    order the docs list them (a table, not a builder; see the module docstring)."""
    break_glass = f"arn:aws:iam::*:role/{config.guardrails.break_glass_role}"
    platform = (break_glass, CDK_ROLES, STACKSET_EXECUTION_ROLES)
    log_archive = config.account(AccountRole.LOG_ARCHIVE)
    log_buckets = [f"arn:aws:s3:::{log_bucket_name(config, p)}" for p in LOG_BUCKET_PURPOSES]
    policies = [
        ServiceControlPolicy(
            "baseline-guardrails",
            "Organization membership, root user, IAM users, encryption and sharing defaults",
            (
                Guardrail(
                    "DenyLeaveOrganization",
                    "An account leaving the organization escapes every guardrail and the central logs.",
                    "nobody (the management account removes accounts)",
                    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"},
                ),
                Guardrail(
                    "DenyRootUser",
                    "Member-account root users are for the few tasks that need them, not daily work.",
                    "nobody; the management account's root is never restricted by SCPs",
                    {
                        "Effect": "Deny",
                        "Action": "*",
                        "Resource": "*",
                        "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}},
                    },
                ),
                Guardrail(
                    "DenyIamUsersAndAccessKeys",
                    "People sign in through IAM Identity Center; long-lived user keys leak.",
                    "the break-glass role",
                    {
                        "Effect": "Deny",
                        "Action": ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"],
                        "Resource": "*",
                        "Condition": _not_principals(break_glass),
                    },
                ),
                Guardrail(
                    "DenyDisablingEbsDefaultEncryption",
                    "Every new EBS volume and snapshot stays encrypted.",
                    "nobody",
                    {"Effect": "Deny", "Action": "ec2:DisableEbsEncryptionByDefault", "Resource": "*"},
                ),
                Guardrail(
                    "DenyAccountPublicAccessBlockChanges",
                    "The account-level S3 public access block stays as the baseline set it.",
                    "the break-glass role",
                    {
                        "Effect": "Deny",
                        "Action": "s3:PutAccountPublicAccessBlock",
                        "Resource": "*",
                        "Condition": _not_principals(break_glass),
                    },
                ),
                Guardrail(
                    "RequireImdsV2",
                    "New instances must use IMDSv2 tokens, which blunts SSRF credential theft.",
                    "nobody",
                    {
                        "Effect": "Deny",
                        "Action": "ec2:RunInstances",
                        "Resource": "arn:aws:ec2:*:*:instance/*",
                        "Condition": {"StringNotEquals": {"ec2:MetadataHttpTokens": "required"}},
                    },
                ),
                Guardrail(
                    "DenyRamSharingOutsideOrganization",
                    "Resource shares may reach only principals inside this organization.",
                    "nobody",
                    {
                        "Effect": "Deny",
                        "Action": ["ram:CreateResourceShare", "ram:UpdateResourceShare"],
                        "Resource": "*",
                        "Condition": {"Bool": {"ram:RequestedAllowsExternalPrincipals": "true"}},
                    },
                ),
            ),
        ),
        ServiceControlPolicy(
            "region-restriction",
            "Requests outside the allowed regions",
            (
                Guardrail(
                    "DenyOutsideAllowedRegions",
                    "Data and spend stay in the regions the organization operates and monitors; "
                    "global services are exempt by action.",
                    "the break-glass role and the CDK and StackSets deployment roles",
                    {
                        "Effect": "Deny",
                        "NotAction": list(GLOBAL_ACTIONS),
                        "Resource": "*",
                        "Condition": {
                            "StringNotEquals": {"aws:RequestedRegion": list(config.regions.allowed)},
                            **_not_principals(*platform),
                        },
                    },
                ),
            ),
        ),
        ServiceControlPolicy(
            "protect-security-services",
            "Security services and the central log archive",
            (
                Guardrail(
                    "ProtectCloudTrail",
                    "Audit trails cannot be stopped, deleted or narrowed.",
                    "the break-glass role and the deployment roles",
                    {
                        "Effect": "Deny",
                        "Action": [
                            "cloudtrail:StopLogging",
                            "cloudtrail:DeleteTrail",
                            "cloudtrail:UpdateTrail",
                            "cloudtrail:PutEventSelectors",
                        ],
                        "Resource": "*",
                        "Condition": _not_principals(*platform),
                    },
                ),
                Guardrail(
                    "ProtectConfig",
                    "Configuration recording and delivery keep running.",
                    "the break-glass role and the deployment roles",
                    {
                        "Effect": "Deny",
                        "Action": [
                            "config:StopConfigurationRecorder",
                            "config:DeleteConfigurationRecorder",
                            "config:DeleteDeliveryChannel",
                            "config:DeleteRetentionConfiguration",
                            "config:DeleteConfigurationAggregator",
                        ],
                        "Resource": "*",
                        "Condition": _not_principals(*platform),
                    },
                ),
                Guardrail(
                    "ProtectGuardDutySecurityHubAccessAnalyzer",
                    "Threat detection, findings and access analysis stay on and reporting to the audit account.",
                    "the break-glass role and the deployment roles",
                    {
                        "Effect": "Deny",
                        "Action": [
                            "guardduty:DeleteDetector",
                            "guardduty:UpdateDetector",
                            "guardduty:DisassociateFromAdministratorAccount",
                            "guardduty:DisassociateFromMasterAccount",
                            "securityhub:DisableSecurityHub",
                            "securityhub:DisassociateFromAdministratorAccount",
                            "securityhub:DisassociateFromMasterAccount",
                            "securityhub:BatchDisableStandards",
                            "access-analyzer:DeleteAnalyzer",
                            "access-analyzer:CreateArchiveRule",
                            "access-analyzer:UpdateArchiveRule",
                        ],
                        "Resource": "*",
                        "Condition": _not_principals(*platform),
                    },
                ),
                Guardrail(
                    "ProtectLogArchiveBuckets",
                    "The central log buckets keep their policy, encryption, versioning, lock and lifecycle.",
                    "the break-glass role and the CDK deployment roles",
                    {
                        "Effect": "Deny",
                        "Action": [
                            "s3:DeleteBucket",
                            "s3:DeleteBucketPolicy",
                            "s3:PutBucketPolicy",
                            "s3:PutBucketVersioning",
                            "s3:PutBucketObjectLockConfiguration",
                            "s3:PutEncryptionConfiguration",
                            "s3:PutLifecycleConfiguration",
                        ],
                        "Resource": log_buckets,
                        "Condition": _not_principals(break_glass, CDK_ROLES),
                    },
                ),
                Guardrail(
                    "ProtectLogArchiveKey",
                    "The key that encrypts the logs cannot be disabled, deleted or re-permissioned.",
                    "the break-glass role and the CDK deployment roles",
                    {
                        "Effect": "Deny",
                        "Action": ["kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"],
                        "Resource": f"arn:aws:kms:*:{log_archive.id}:key/*",
                        "Condition": {
                            "ForAnyValue:StringEquals": {"kms:ResourceAliases": log_key_alias(config)},
                            **_not_principals(break_glass, CDK_ROLES),
                        },
                    },
                ),
            ),
        ),
        ServiceControlPolicy(
            "sandbox-cost-controls",
            "Spend in sandbox accounts",
            (
                Guardrail(
                    "DenyLargeInstances",
                    "Sandbox instances are limited to small, cheap instance families.",
                    "nobody",
                    {
                        "Effect": "Deny",
                        "Action": "ec2:RunInstances",
                        "Resource": "arn:aws:ec2:*:*:instance/*",
                        "Condition": {
                            "StringNotLike": {"ec2:InstanceType": list(config.guardrails.sandbox_instance_types)}
                        },
                    },
                ),
                Guardrail(
                    "DenyCommitmentsAndDomains",
                    "Reserved capacity, savings plans and domain registrations outlive an experiment.",
                    "nobody",
                    {
                        "Effect": "Deny",
                        "Action": [
                            "ec2:PurchaseReservedInstancesOffering",
                            "rds:PurchaseReservedDBInstancesOffering",
                            "dynamodb:PurchaseReservedCapacityOfferings",
                            "elasticache:PurchaseReservedCacheNodesOffering",
                            "savingsplans:CreateSavingsPlan",
                            "route53domains:RegisterDomain",
                        ],
                        "Resource": "*",
                    },
                ),
            ),
        ),
        ServiceControlPolicy(
            "deny-all",
            "Everything (accounts waiting to be closed)",
            (
                Guardrail(
                    "DenyEverything",
                    "A suspended account can do nothing while it waits to be closed.",
                    "nobody; service-linked roles are never restricted by SCPs",
                    {"Effect": "Deny", "Action": "*", "Resource": "*"},
                ),
            ),
        ),
    ]
    return {policy.name: policy for policy in policies}


def attachments(config: OrgConfig) -> dict[str, tuple[str, ...]]:
    """Target ("Root" or an OU name) -> names of the SCPs attached to it, FullAWSAccess
    included. Raises :class:`ConfigError` for an unknown SCP name or a target over the
    configured limits, naming the target or the policy."""
    known = library(config)
    limits = config.organization.scp_limits
    targets: dict[str, tuple[str, ...]] = {"Root": config.guardrails.scps_at_root}
    targets.update(config.guardrails.scps_by_ou)
    result: dict[str, tuple[str, ...]] = {}
    for target, names in targets.items():
        field = "guardrails.scps_at_root" if target == "Root" else f"guardrails.scps_by_ou.{target}"
        for index, name in enumerate(names):
            if name not in known:
                raise ConfigError(f"{field}[{index}]: unknown SCP '{name}' (known: {', '.join(sorted(known))})")
        if len(set(names)) != len(names):
            raise ConfigError(f"{field}: lists an SCP twice")
        attached = (FULL_AWS_ACCESS, *names)
        if len(attached) > limits.max_policies_per_target:
            raise ConfigError(
                f"{field}: {len(attached)} SCPs on target '{target}' (FullAWSAccess included) exceed "
                f"organization.scp_limits.max_policies_per_target {limits.max_policies_per_target}"
            )
        result[target] = attached
    for policy in known.values():
        if policy.minified_size() > limits.max_policy_characters:
            raise ConfigError(
                f"SCP '{policy.name}' is {policy.minified_size()} characters minified, over "
                f"organization.scp_limits.max_policy_characters {limits.max_policy_characters}"
            )
    return result
