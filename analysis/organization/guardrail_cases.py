"""The guardrail request table: what an organization's SCPs must allow or deny.

Each case names who asks, from which account, for what resource, and the decision the
guardrails must reach, with the reason. The tests and ``make check`` evaluate every case
against the SCPs in the synthesized template; the organization doc page shows the table
with the decisions.

Cases are written for any organization the config model accepts, and name no example
value: the account by its role and the SCPs that apply to it (a
:class:`~analysis.organization.report.Subject`: "a sandbox account under the sandbox
cost controls", "an account under deny-all"), regions as ``{home}``, ``{dr}`` or
``{outside}`` (a region the organization does not allow), names and instance types from
the config (see :func:`analysis.organization.report.placeholders`). A case whose subject
the organization does not have (no sandbox account, no suspended one, no workload account
under protect-security-services) is left out, and
the table says so. A request names the resource AWS
would put in the request context: the ARN of the resource the action acts on, in the
case's account and region (``{account}`` and ``{region}`` are filled in per case), so
that a guardrail scoped to particular resources is tested as it would fire. Only an
action whose "Resource types" column in the Service Authorization Reference is empty is
requested on ``*``; those actions are listed in :data:`ACTIONS_WITHOUT_RESOURCE_TYPE`,
and a test keeps the table to that rule.
"""

from __future__ import annotations

from analysis.organization.report import GuardrailCase as Case
from analysis.organization.report import Subject
from org_config.model import AccountRole

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

# Who asks. Every organization has exactly one account of each required role; sandbox
# and suspended accounts may be many or none, so those are told apart by their SCPs.
# baseline-guardrails and region-restriction guard every member account, so their cases
# ask by role alone and a missing one is a finding. protect-security-services,
# sandbox-cost-controls and deny-all go where an organization places them, so their deny
# cases ask from an account they apply to, and are left out where there is none.
MANAGEMENT = Subject(AccountRole.MANAGEMENT)
LOG_ARCHIVE = Subject(AccountRole.LOG_ARCHIVE)
AUDIT = Subject(AccountRole.AUDIT)
NETWORK = Subject(AccountRole.NETWORK)
SHARED_SERVICES = Subject(AccountRole.SHARED_SERVICES)
PROD = Subject(AccountRole.WORKLOAD_PROD)
NONPROD = Subject(AccountRole.WORKLOAD_NONPROD)
PROTECTED = ("protect-security-services",)
PROTECTED_PROD = Subject(AccountRole.WORKLOAD_PROD, under=PROTECTED)
PROTECTED_AUDIT = Subject(AccountRole.AUDIT, under=PROTECTED)
PROTECTED_LOG_ARCHIVE = Subject(AccountRole.LOG_ARCHIVE, under=PROTECTED)
PROD_WITHOUT_COST_CONTROLS = Subject(AccountRole.WORKLOAD_PROD, not_under=("sandbox-cost-controls",))
SANDBOX = Subject(AccountRole.SANDBOX, not_under=("deny-all",))
COST_CONTROLLED_SANDBOX = Subject(AccountRole.SANDBOX, under=("sandbox-cost-controls",), not_under=("deny-all",))
SUSPENDED = Subject(None, under=("deny-all",))

TOKENS_REQUIRED = {"ec2:MetadataHttpTokens": "required", "ec2:InstanceType": "{small_instance}"}
LARGE_WITH_TOKENS = {"ec2:MetadataHttpTokens": "required", "ec2:InstanceType": "{large_instance}"}
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
    Case("administrator", PROD, "s3:GetObject", True, "everyday work is untouched", OBJECT),
    Case(
        "administrator",
        PROD,
        "organizations:LeaveOrganization",
        False,
        "accounts cannot leave",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "administrator",
        SANDBOX,
        "organizations:LeaveOrganization",
        False,
        "sandbox accounts cannot leave either",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "administrator",
        MANAGEMENT,
        "organizations:LeaveOrganization",
        True,
        "SCPs never bind the management account",
        NO_RESOURCE_TYPE,
    ),
    Case("root user", PROD, "s3:ListAllMyBuckets", False, "member root users are locked out", NO_RESOURCE_TYPE),
    Case("root user", MANAGEMENT, "iam:CreateUser", True, "the management account's root is not restricted", USER),
    Case("administrator", PROD, "iam:CreateUser", False, "people use Identity Center, not IAM users", USER),
    Case(
        "administrator",
        NONPROD,
        "iam:CreateAccessKey",
        False,
        "no long-lived keys, {ou} inherits it",
        USER,
    ),
    Case("break-glass", PROD, "iam:CreateUser", True, "break-glass may create a user in an emergency", USER),
    Case(
        "administrator",
        NETWORK,
        "ec2:DisableEbsEncryptionByDefault",
        False,
        "EBS default encryption stays on",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "break-glass",
        NETWORK,
        "ec2:DisableEbsEncryptionByDefault",
        False,
        "not even break-glass turns it off",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "administrator",
        PROD,
        "s3:PutAccountPublicAccessBlock",
        False,
        "account public access block is fixed",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "break-glass",
        PROD,
        "s3:PutAccountPublicAccessBlock",
        True,
        "break-glass may repair it",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "application",
        PROD,
        "ec2:RunInstances",
        True,
        "IMDSv2 instances launch",
        INSTANCE,
        context=TOKENS_REQUIRED,
    ),
    Case(
        "application",
        PROD,
        "ec2:RunInstances",
        False,
        "IMDSv1 instances do not",
        INSTANCE,
        context={"ec2:MetadataHttpTokens": "optional"},
    ),
    Case("application", PROD, "ec2:RunInstances", False, "no token setting means IMDSv1: denied", INSTANCE),
    Case("application", PROD, "ec2:RunInstances", True, "the IMDS rule is about the instance only", VOLUME),
    Case(
        "administrator",
        PROD,
        "ram:CreateResourceShare",
        False,
        "no shares outside the organization",
        RESOURCE_SHARE,
        context={"ram:RequestedAllowsExternalPrincipals": True},
    ),
    Case(
        "administrator",
        PROD,
        "ram:CreateResourceShare",
        True,
        "shares inside the organization are fine",
        RESOURCE_SHARE,
        context={"ram:RequestedAllowsExternalPrincipals": False},
    ),
    # Region restriction.
    Case(
        "administrator",
        PROD,
        "ec2:DescribeInstances",
        False,
        "{region} is not allowed",
        NO_RESOURCE_TYPE,
        region="{outside}",
    ),
    Case(
        "administrator",
        PROD,
        "ec2:DescribeInstances",
        True,
        "the DR region is allowed",
        NO_RESOURCE_TYPE,
        region="{dr}",
    ),
    Case(
        "administrator",
        PROD,
        "iam:ListRoles",
        True,
        "IAM is global: exempt by action",
        NO_RESOURCE_TYPE,
        region="{outside}",
    ),
    Case("application", PROD, "sts:AssumeRole", True, "STS is exempt by action", ROLE, region="{outside}"),
    Case(
        "administrator",
        SHARED_SERVICES,
        "cloudfront:CreateDistribution",
        True,
        "CloudFront lives in us-east-1",
        DISTRIBUTION,
        region="us-east-1",
    ),
    Case(
        "break-glass",
        PROD,
        "ec2:DescribeInstances",
        True,
        "break-glass works anywhere",
        NO_RESOURCE_TYPE,
        region="{outside}",
    ),
    Case(
        "CDK deployment",
        PROD,
        "cloudformation:CreateStack",
        True,
        "CDK roles may deploy anywhere",
        STACK,
        region="{outside}",
    ),
    Case(
        "administrator",
        SHARED_SERVICES,
        "ec2:DescribeVpcs",
        False,
        "{ou} OU is fenced too",
        NO_RESOURCE_TYPE,
        region="{outside}",
    ),
    # Security services and the log archive.
    Case("application", PROTECTED_PROD, "cloudtrail:StopLogging", False, "trails keep logging", TRAIL),
    Case(
        "CDK deployment",
        PROD,
        "cloudtrail:StopLogging",
        True,
        "the platform's deployments manage trails",
        TRAIL,
    ),
    Case(
        "administrator", PROTECTED_AUDIT, "config:StopConfigurationRecorder", False, "Config keeps recording", RECORDER
    ),
    Case("administrator", PROTECTED_AUDIT, "guardduty:DeleteDetector", False, "GuardDuty stays on", DETECTOR),
    Case(
        "administrator", PROTECTED_AUDIT, "securityhub:DisableSecurityHub", False, "Security Hub stays on", SECURITY_HUB
    ),
    Case(
        "administrator",
        PROTECTED_AUDIT,
        "access-analyzer:CreateArchiveRule",
        False,
        "findings cannot be archived away",
        ARCHIVE_RULE,
    ),
    Case(
        "administrator",
        PROTECTED_LOG_ARCHIVE,
        "s3:PutBucketPolicy",
        False,
        "log bucket policies are fixed",
        CLOUDTRAIL_BUCKET,
    ),
    Case(
        "CDK deployment",
        LOG_ARCHIVE,
        "s3:PutBucketPolicy",
        True,
        "the baseline stack may update them",
        CLOUDTRAIL_BUCKET,
    ),
    Case(
        "administrator",
        LOG_ARCHIVE,
        "s3:PutBucketPolicy",
        True,
        "other buckets are the account's own business",
        "arn:aws:s3:::{prefix}-scratch",
    ),
    Case(
        "administrator",
        PROTECTED_LOG_ARCHIVE,
        "kms:ScheduleKeyDeletion",
        False,
        "the log key cannot be deleted",
        LOG_KEY,
        context={"kms:ResourceAliases": ["alias/{prefix}/log-archive"]},
    ),
    Case(
        "administrator",
        LOG_ARCHIVE,
        "kms:ScheduleKeyDeletion",
        True,
        "other keys can",
        LOG_KEY,
        context={"kms:ResourceAliases": ["alias/scratch"]},
    ),
    # Sandbox cost controls, attached to the Sandbox OU only.
    Case(
        "administrator",
        COST_CONTROLLED_SANDBOX,
        "ec2:RunInstances",
        True,
        "small instances are fine in the sandbox",
        INSTANCE,
        context=TOKENS_REQUIRED,
    ),
    Case(
        "administrator",
        COST_CONTROLLED_SANDBOX,
        "ec2:RunInstances",
        False,
        "large instances are not",
        INSTANCE,
        context=LARGE_WITH_TOKENS,
    ),
    Case(
        "administrator",
        PROD_WITHOUT_COST_CONTROLS,
        "ec2:RunInstances",
        True,
        "{ou} is not under the sandbox SCP",
        INSTANCE,
        context=LARGE_WITH_TOKENS,
    ),
    Case(
        "administrator",
        COST_CONTROLLED_SANDBOX,
        "savingsplans:CreateSavingsPlan",
        False,
        "no commitments from a sandbox",
        SAVINGS_PLAN,
    ),
    Case(
        "administrator",
        COST_CONTROLLED_SANDBOX,
        "route53domains:RegisterDomain",
        False,
        "no domains either, though Route 53 is global",
        NO_RESOURCE_TYPE,
        region="us-east-1",
    ),
    Case(
        "administrator",
        SANDBOX,
        "s3:PutAccountPublicAccessBlock",
        False,
        "the baseline applies in the sandbox too",
        NO_RESOURCE_TYPE,
    ),
    # Suspended OU.
    Case("administrator", SUSPENDED, "s3:GetObject", False, "suspended accounts can do nothing", OBJECT),
    Case("break-glass", SUSPENDED, "s3:GetObject", False, "not even break-glass", OBJECT),
    Case(
        "service-linked role",
        SUSPENDED,
        "config:PutEvaluations",
        True,
        "service-linked roles are never restricted",
        NO_RESOURCE_TYPE,
    ),
    Case(
        "service-linked role",
        PROD,
        "cloudtrail:StopLogging",
        True,
        "SCPs do not bind service-linked roles",
        TRAIL,
    ),
]
