"""The guardrail request table: what the example organization's SCPs must allow or deny.

Each case names who asks, in which account, for what, and the decision the guardrails
must reach, with the reason. The tests evaluate every case against the SCPs in the
synthesized template; the organization doc page shows the table with the decisions.
"""

from __future__ import annotations

from analysis.organization_report import GuardrailCase as Case

TOKENS_REQUIRED = {"ec2:MetadataHttpTokens": "required", "ec2:InstanceType": "t3.micro"}
INSTANCE = "arn:aws:ec2:{region}:{account}:instance/*"
CLOUDTRAIL_BUCKET = "arn:aws:s3:::exampleco-cloudtrail-222222222222-eu-west-1"
LOG_KEY = "arn:aws:kms:eu-west-1:222222222222:key/0a1b2c3d-1111-2222-3333-444455556666"

CASES: list[Case] = [
    # Baseline guardrails, inherited through Workloads by Prod and NonProd.
    Case("administrator", "workload-prod", "s3:GetObject", True, "everyday work is untouched"),
    Case("administrator", "workload-prod", "organizations:LeaveOrganization", False, "accounts cannot leave"),
    Case("administrator", "sandbox", "organizations:LeaveOrganization", False, "sandbox accounts cannot leave either"),
    Case(
        "administrator", "management", "organizations:LeaveOrganization", True, "SCPs never bind the management account"
    ),
    Case("root user", "workload-prod", "s3:ListAllMyBuckets", False, "member root users are locked out"),
    Case("root user", "management", "iam:CreateUser", True, "the management account's root is not restricted"),
    Case("administrator", "workload-prod", "iam:CreateUser", False, "people use Identity Center, not IAM users"),
    Case("administrator", "workload-nonprod", "iam:CreateAccessKey", False, "no long-lived keys, NonProd inherits it"),
    Case("break-glass", "workload-prod", "iam:CreateUser", True, "break-glass may create a user in an emergency"),
    Case("administrator", "network", "ec2:DisableEbsEncryptionByDefault", False, "EBS default encryption stays on"),
    Case("break-glass", "network", "ec2:DisableEbsEncryptionByDefault", False, "not even break-glass turns it off"),
    Case(
        "administrator",
        "workload-prod",
        "s3:PutAccountPublicAccessBlock",
        False,
        "account public access block is fixed",
    ),
    Case("break-glass", "workload-prod", "s3:PutAccountPublicAccessBlock", True, "break-glass may repair it"),
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
    Case(
        "application",
        "workload-prod",
        "ec2:RunInstances",
        False,
        "no token setting means IMDSv1: denied",
        INSTANCE,
    ),
    Case(
        "application",
        "workload-prod",
        "ec2:RunInstances",
        True,
        "the IMDS rule is about the instance only",
        "arn:aws:ec2:{region}:{account}:volume/*",
    ),
    Case(
        "administrator",
        "workload-prod",
        "ram:CreateResourceShare",
        False,
        "no shares outside the organization",
        context={"ram:RequestedAllowsExternalPrincipals": True},
    ),
    Case(
        "administrator",
        "workload-prod",
        "ram:CreateResourceShare",
        True,
        "shares inside the organization are fine",
        context={"ram:RequestedAllowsExternalPrincipals": False},
    ),
    # Region restriction.
    Case(
        "administrator", "workload-prod", "ec2:DescribeInstances", False, "us-east-1 is not allowed", region="us-east-1"
    ),
    Case(
        "administrator",
        "workload-prod",
        "ec2:DescribeInstances",
        True,
        "the DR region is allowed",
        region="eu-central-1",
    ),
    Case(
        "administrator", "workload-prod", "iam:ListRoles", True, "IAM is global: exempt by action", region="us-east-1"
    ),
    Case("application", "workload-prod", "sts:AssumeRole", True, "STS is exempt by action", region="us-east-1"),
    Case(
        "administrator",
        "shared-services",
        "cloudfront:CreateDistribution",
        True,
        "CloudFront lives in us-east-1",
        region="us-east-1",
    ),
    Case(
        "break-glass", "workload-prod", "ec2:DescribeInstances", True, "break-glass works anywhere", region="us-west-2"
    ),
    Case(
        "CDK deployment",
        "workload-prod",
        "cloudformation:CreateStack",
        True,
        "CDK roles may deploy anywhere",
        region="us-east-1",
    ),
    Case(
        "administrator",
        "shared-services",
        "ec2:DescribeVpcs",
        False,
        "Infrastructure OU is fenced too",
        region="ap-south-1",
    ),
    # Security services and the log archive.
    Case("application", "workload-prod", "cloudtrail:StopLogging", False, "trails keep logging"),
    Case("CDK deployment", "workload-prod", "cloudtrail:StopLogging", True, "the platform's deployments manage trails"),
    Case("administrator", "audit", "config:StopConfigurationRecorder", False, "Config keeps recording"),
    Case("administrator", "audit", "guardduty:DeleteDetector", False, "GuardDuty stays on"),
    Case("administrator", "audit", "securityhub:DisableSecurityHub", False, "Security Hub stays on"),
    Case("administrator", "audit", "access-analyzer:CreateArchiveRule", False, "findings cannot be archived away"),
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
        "arn:aws:s3:::exampleco-scratch",
    ),
    Case(
        "administrator",
        "log-archive",
        "kms:ScheduleKeyDeletion",
        False,
        "the log key cannot be deleted",
        LOG_KEY,
        context={"kms:ResourceAliases": ["alias/exampleco/log-archive"]},
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
    Case("administrator", "sandbox", "savingsplans:CreateSavingsPlan", False, "no commitments from a sandbox"),
    Case(
        "administrator",
        "sandbox",
        "route53domains:RegisterDomain",
        False,
        "no domains either, though Route 53 is global",
        region="us-east-1",
    ),
    Case(
        "administrator", "sandbox", "s3:PutAccountPublicAccessBlock", False, "the baseline applies in the sandbox too"
    ),
    # Suspended OU.
    Case("administrator", "retired-sandbox", "s3:GetObject", False, "suspended accounts can do nothing"),
    Case("break-glass", "retired-sandbox", "s3:GetObject", False, "not even break-glass"),
    Case(
        "service-linked role",
        "retired-sandbox",
        "config:PutEvaluations",
        True,
        "service-linked roles are never restricted",
    ),
    Case(
        "service-linked role", "workload-prod", "cloudtrail:StopLogging", True, "SCPs do not bind service-linked roles"
    ),
]
