"""The guardrail request table: what the example organization's SCPs must allow or deny.

Each case names who asks, in which account, for what resource, and the decision the
guardrails must reach, with the reason. The tests evaluate every case against the SCPs
in the synthesized template; the organization doc page shows the table with the
decisions.

Cases are written for any organization, not just the example: accounts by name (or by
the role of that name), regions as ``{home}``, ``{dr}`` or ``{outside}`` (a region the
organization does not allow), names from the config (see
:func:`analysis.organization.report.placeholders`). A request names the resource AWS
would put in the request context: the ARN of the resource the action acts on, in the
case's account and region (``{account}`` and ``{region}`` are filled in per case), so
that a guardrail scoped to particular resources is tested as it would fire. Only an
action whose "Resource types" column in the Service Authorization Reference is empty is
requested on ``*``; those actions are listed in :data:`ACTIONS_WITHOUT_RESOURCE_TYPE`,
and a test keeps the table to that rule.
"""

from __future__ import annotations

from analysis.organization.report import GuardrailCase as Case

ACTIONS_WITHOUT_RESOURCE_TYPE = frozenset(
    {
        "organizations:LeaveOrganization",
        "s3:ListAllMyBuckets",
        "s3:PutAccountPublicAccessBlock",
        "ec2:DisableEbsEncryptionByDefault",
        "ec2:DescribeInstances",
        "ec2:DescribeVpcs",
        "iam:ListRoles",
        "config:PutEvaluations",
        "route53domains:RegisterDomain",
    }
)
"""Actions of the table that take no resource: a policy can name them only with ``*``."""

NO_RESOURCE_TYPE = "*"

TOKENS_REQUIRED = {"ec2:MetadataHttpTokens": "required", "ec2:InstanceType": "t3.micro"}
INSTANCE = "arn:aws:ec2:{region}:{account}:instance/*"
VOLUME = "arn:aws:ec2:{region}:{account}:volume/*"
OBJECT = "arn:aws:s3:::{prefix}-app-data-{account}/reports/2026/q3.csv"
USER = "arn:aws:iam::{account}:user/ci-bot"
ROLE = "arn:aws:iam::{account}:role/app-deployer"
RESOURCE_SHARE = "arn:aws:ram:{region}:{account}:resource-share/7ab63972-b505-4b2f-a2ab-0a1b2c3d4e5f"
DISTRIBUTION = "arn:aws:cloudfront::{account}:distribution/E2EXAMPLE0ABCD"
STACK = "arn:aws:cloudformation:{region}:{account}:stack/workload-app/0a1b2c3d-1111-2222-3333-444455556666"
TRAIL = "arn:aws:cloudtrail:{region}:{account}:trail/account-trail"
RECORDER = "arn:aws:config:{region}:{account}:configuration-recorder/default/0a1b2c3d4e5f6a7b"
DETECTOR = "arn:aws:guardduty:{region}:{account}:detector/12abc34d567e8fa901bc2d34e56789f0"
SECURITY_HUB = "arn:aws:securityhub:{region}:{account}:hub/default"
ARCHIVE_RULE = "arn:aws:access-analyzer:{region}:{account}:analyzer/organization/archive-rule/hide-everything"
SAVINGS_PLAN = "arn:aws:savingsplans::{account}:savingsplan/0a1b2c3d-1111-2222-3333-444455556666"
CLOUDTRAIL_BUCKET = "arn:aws:s3:::{cloudtrail_bucket}"
LOG_KEY = "arn:aws:kms:{home}:{log_archive}:key/0a1b2c3d-1111-2222-3333-444455556666"

CASES: list[Case] = [
    # Baseline guardrails, inherited through Workloads by Prod and NonProd.
    Case("administrator", "workload-prod", "s3:GetObject", True, "everyday work is untouched", OBJECT),
    Case(
        "administrator",
        "workload-prod",
        "organizations:LeaveOrganization",
        False,
        "accounts cannot leave",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "administrator",
        "sandbox",
        "organizations:LeaveOrganization",
        False,
        "sandbox accounts cannot leave either",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "administrator",
        "management",
        "organizations:LeaveOrganization",
        True,
        "SCPs never bind the management account",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "root user", "workload-prod", "s3:ListAllMyBuckets", False, "member root users are locked out", NO_RESOURCE_TYPE
    ),
    Case("root user", "management", "iam:CreateUser", True, "the management account's root is not restricted", USER),
    Case("administrator", "workload-prod", "iam:CreateUser", False, "people use Identity Center, not IAM users", USER),
    Case(
        "administrator",
        "workload-nonprod",
        "iam:CreateAccessKey",
        False,
        "no long-lived keys, NonProd inherits it",
        USER,
    ),
    Case("break-glass", "workload-prod", "iam:CreateUser", True, "break-glass may create a user in an emergency", USER),
    Case(
        "administrator",
        "network",
        "ec2:DisableEbsEncryptionByDefault",
        False,
        "EBS default encryption stays on",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "break-glass",
        "network",
        "ec2:DisableEbsEncryptionByDefault",
        False,
        "not even break-glass turns it off",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "administrator",
        "workload-prod",
        "s3:PutAccountPublicAccessBlock",
        False,
        "account public access block is fixed",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "break-glass",
        "workload-prod",
        "s3:PutAccountPublicAccessBlock",
        True,
        "break-glass may repair it",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "application",
        "workload-prod",
        "ec2:RunInstances",
        True,
        "IMDSv2 instances launch",
        INSTANCE,
        context=TOKENS_REQUIRED,
    ),
    Case(
        "application",
        "workload-prod",
        "ec2:RunInstances",
        False,
        "IMDSv1 instances do not",
        INSTANCE,
        context={"ec2:MetadataHttpTokens": "optional"},
    ),
    Case("application", "workload-prod", "ec2:RunInstances", False, "no token setting means IMDSv1: denied", INSTANCE),
    Case("application", "workload-prod", "ec2:RunInstances", True, "the IMDS rule is about the instance only", VOLUME),
    Case(
        "administrator",
        "workload-prod",
        "ram:CreateResourceShare",
        False,
        "no shares outside the organization",
        RESOURCE_SHARE,
        context={"ram:RequestedAllowsExternalPrincipals": True},
    ),
    Case(
        "administrator",
        "workload-prod",
        "ram:CreateResourceShare",
        True,
        "shares inside the organization are fine",
        RESOURCE_SHARE,
        context={"ram:RequestedAllowsExternalPrincipals": False},
    ),
    # Region restriction.
    Case(
        "administrator",
        "workload-prod",
        "ec2:DescribeInstances",
        False,
        "{region} is not allowed",
        NO_RESOURCE_TYPE,
        region="{outside}",
    ),
    Case(
        "administrator",
        "workload-prod",
        "ec2:DescribeInstances",
        True,
        "the DR region is allowed",
        NO_RESOURCE_TYPE,
        region="{dr}",
    ),
    Case(
        "administrator",
        "workload-prod",
        "iam:ListRoles",
        True,
        "IAM is global: exempt by action",
        NO_RESOURCE_TYPE,
        region="{outside}",
    ),
    Case("application", "workload-prod", "sts:AssumeRole", True, "STS is exempt by action", ROLE, region="{outside}"),
    Case(
        "administrator",
        "shared-services",
        "cloudfront:CreateDistribution",
        True,
        "CloudFront lives in us-east-1",
        DISTRIBUTION,
        region="us-east-1",
    ),
    Case(
        "break-glass",
        "workload-prod",
        "ec2:DescribeInstances",
        True,
        "break-glass works anywhere",
        NO_RESOURCE_TYPE,
        region="{outside}",
    ),
    Case(
        "CDK deployment",
        "workload-prod",
        "cloudformation:CreateStack",
        True,
        "CDK roles may deploy anywhere",
        STACK,
        region="{outside}",
    ),
    Case(
        "administrator",
        "shared-services",
        "ec2:DescribeVpcs",
        False,
        "Infrastructure OU is fenced too",
        NO_RESOURCE_TYPE,
        region="{outside}",
    ),
    # Security services and the log archive.
    Case("application", "workload-prod", "cloudtrail:StopLogging", False, "trails keep logging", TRAIL),
    Case(
        "CDK deployment",
        "workload-prod",
        "cloudtrail:StopLogging",
        True,
        "the platform's deployments manage trails",
        TRAIL,
    ),
    Case("administrator", "audit", "config:StopConfigurationRecorder", False, "Config keeps recording", RECORDER),
    Case("administrator", "audit", "guardduty:DeleteDetector", False, "GuardDuty stays on", DETECTOR),
    Case("administrator", "audit", "securityhub:DisableSecurityHub", False, "Security Hub stays on", SECURITY_HUB),
    Case(
        "administrator",
        "audit",
        "access-analyzer:CreateArchiveRule",
        False,
        "findings cannot be archived away",
        ARCHIVE_RULE,
    ),
    Case(
        "administrator", "log-archive", "s3:PutBucketPolicy", False, "log bucket policies are fixed", CLOUDTRAIL_BUCKET
    ),
    Case(
        "CDK deployment",
        "log-archive",
        "s3:PutBucketPolicy",
        True,
        "the baseline stack may update them",
        CLOUDTRAIL_BUCKET,
    ),
    Case(
        "administrator",
        "log-archive",
        "s3:PutBucketPolicy",
        True,
        "other buckets are the account's own business",
        "arn:aws:s3:::{prefix}-scratch",
    ),
    Case(
        "administrator",
        "log-archive",
        "kms:ScheduleKeyDeletion",
        False,
        "the log key cannot be deleted",
        LOG_KEY,
        context={"kms:ResourceAliases": ["alias/{prefix}/log-archive"]},
    ),
    Case(
        "administrator",
        "log-archive",
        "kms:ScheduleKeyDeletion",
        True,
        "other keys can",
        LOG_KEY,
        context={"kms:ResourceAliases": ["alias/scratch"]},
    ),
    # Sandbox cost controls, attached to the Sandbox OU only.
    Case(
        "administrator",
        "sandbox",
        "ec2:RunInstances",
        True,
        "small instances are fine in the sandbox",
        INSTANCE,
        context=TOKENS_REQUIRED,
    ),
    Case(
        "administrator",
        "sandbox",
        "ec2:RunInstances",
        False,
        "large instances are not",
        INSTANCE,
        context={"ec2:MetadataHttpTokens": "required", "ec2:InstanceType": "m5.4xlarge"},
    ),
    Case(
        "administrator",
        "workload-prod",
        "ec2:RunInstances",
        True,
        "Prod is not under the sandbox SCP",
        INSTANCE,
        context={"ec2:MetadataHttpTokens": "required", "ec2:InstanceType": "m5.4xlarge"},
    ),
    Case(
        "administrator",
        "sandbox",
        "savingsplans:CreateSavingsPlan",
        False,
        "no commitments from a sandbox",
        SAVINGS_PLAN,
    ),
    Case(
        "administrator",
        "sandbox",
        "route53domains:RegisterDomain",
        False,
        "no domains either, though Route 53 is global",
        NO_RESOURCE_TYPE,
        region="us-east-1",
    ),
    Case(
        "administrator",
        "sandbox",
        "s3:PutAccountPublicAccessBlock",
        False,
        "the baseline applies in the sandbox too",
        NO_RESOURCE_TYPE,
    ),
    # Suspended OU.
    Case("administrator", "retired-sandbox", "s3:GetObject", False, "suspended accounts can do nothing", OBJECT),
    Case("break-glass", "retired-sandbox", "s3:GetObject", False, "not even break-glass", OBJECT),
    Case(
        "service-linked role",
        "retired-sandbox",
        "config:PutEvaluations",
        True,
        "service-linked roles are never restricted",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "service-linked role",
        "workload-prod",
        "cloudtrail:StopLogging",
        True,
        "SCPs do not bind service-linked roles",
        TRAIL,
    ),
]
