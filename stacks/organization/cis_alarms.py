"""The CIS AWS Foundations Benchmark monitoring controls (section 4 of v1.4.0 and later):
one CloudWatch Logs metric filter and alarm per control, on the organization trail's log
group. The patterns are the benchmark's, written once here; the stack turns each into a
metric filter and an alarm, and the tests run each against sample CloudTrail events.
"""

from __future__ import annotations

from dataclasses import dataclass

# Namespace of the metrics the filters publish (the benchmark's own suggestion).
METRIC_NAMESPACE = "CISBenchmark"


@dataclass(frozen=True)
class CisAlarm:
    control: str  # the benchmark's control number
    name: str  # metric and alarm name suffix
    description: str
    pattern: str


def _any_event(source: str, names: tuple[str, ...]) -> str:
    """``{ ($.eventSource = source) && (($.eventName = a) || ...) }``, as the benchmark writes them."""
    events = " || ".join(f"($.eventName = {name})" for name in names)
    return f"{{ ($.eventSource = {source}) && ({events}) }}"


CIS_ALARMS: tuple[CisAlarm, ...] = (
    # CIS 4.1: unauthorized API calls (service log deliveries and HeadBucket probes excluded).
    CisAlarm(
        "4.1",
        "unauthorized-api-calls",
        "API calls denied for lack of authorization",
        '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && '
        '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
    ),
    # CIS 4.2: a successful console sign-in by an IAM user without MFA.
    CisAlarm(
        "4.2",
        "console-sign-in-without-mfa",
        "Console sign-in without MFA",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    ),
    # CIS 4.3: any use of a root user, other than by an AWS service on its behalf.
    CisAlarm(
        "4.3",
        "root-user-activity",
        "Activity by a root user",
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
    ),
    # CIS 4.4: IAM policy changes. Scoped to IAM's event source, unlike the benchmark's text:
    # Organizations has CreatePolicy, DeletePolicy and AttachPolicy too, and 4.15 covers them.
    CisAlarm(
        "4.4",
        "iam-policy-changes",
        "IAM policy created, changed, attached or detached",
        _any_event(
            "iam.amazonaws.com",
            (
                "DeleteGroupPolicy",
                "DeleteRolePolicy",
                "DeleteUserPolicy",
                "PutGroupPolicy",
                "PutRolePolicy",
                "PutUserPolicy",
                "CreatePolicy",
                "DeletePolicy",
                "CreatePolicyVersion",
                "DeletePolicyVersion",
                "AttachRolePolicy",
                "DetachRolePolicy",
                "AttachUserPolicy",
                "DetachUserPolicy",
                "AttachGroupPolicy",
                "DetachGroupPolicy",
            ),
        ),
    ),
    # CIS 4.5: CloudTrail configuration changes.
    CisAlarm(
        "4.5",
        "cloudtrail-changes",
        "CloudTrail trail created, changed, stopped or deleted",
        _any_event(
            "cloudtrail.amazonaws.com", ("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging")
        ),
    ),
    # CIS 4.7: customer managed KMS keys disabled or scheduled for deletion.
    CisAlarm(
        "4.7",
        "kms-key-disabled-or-deleted",
        "KMS key disabled or scheduled for deletion",
        _any_event("kms.amazonaws.com", ("DisableKey", "ScheduleKeyDeletion")),
    ),
    # CIS 4.8: S3 bucket policy and access changes.
    CisAlarm(
        "4.8",
        "s3-bucket-policy-changes",
        "S3 bucket policy, ACL, CORS, lifecycle or replication changed",
        _any_event(
            "s3.amazonaws.com",
            (
                "PutBucketAcl",
                "PutBucketPolicy",
                "PutBucketCors",
                "PutBucketLifecycle",
                "PutBucketReplication",
                "DeleteBucketPolicy",
                "DeleteBucketCors",
                "DeleteBucketLifecycle",
                "DeleteBucketReplication",
            ),
        ),
    ),
    # CIS 4.9: AWS Config configuration changes.
    CisAlarm(
        "4.9",
        "config-changes",
        "AWS Config recorder or delivery channel stopped or changed",
        _any_event(
            "config.amazonaws.com",
            ("StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"),
        ),
    ),
    # CIS 4.10: security group changes.
    CisAlarm(
        "4.10",
        "security-group-changes",
        "Security group created, changed or deleted",
        _any_event(
            "ec2.amazonaws.com",
            (
                "AuthorizeSecurityGroupIngress",
                "AuthorizeSecurityGroupEgress",
                "RevokeSecurityGroupIngress",
                "RevokeSecurityGroupEgress",
                "CreateSecurityGroup",
                "DeleteSecurityGroup",
            ),
        ),
    ),
    # CIS 4.11: network ACL changes.
    CisAlarm(
        "4.11",
        "network-acl-changes",
        "Network ACL created, changed or deleted",
        _any_event(
            "ec2.amazonaws.com",
            (
                "CreateNetworkAcl",
                "CreateNetworkAclEntry",
                "DeleteNetworkAcl",
                "DeleteNetworkAclEntry",
                "ReplaceNetworkAclEntry",
                "ReplaceNetworkAclAssociation",
            ),
        ),
    ),
    # CIS 4.12: changes to network gateways (customer and internet gateways).
    CisAlarm(
        "4.12",
        "network-gateway-changes",
        "Customer or internet gateway created, attached, detached or deleted",
        _any_event(
            "ec2.amazonaws.com",
            (
                "CreateCustomerGateway",
                "DeleteCustomerGateway",
                "AttachInternetGateway",
                "CreateInternetGateway",
                "DeleteInternetGateway",
                "DetachInternetGateway",
            ),
        ),
    ),
    # CIS 4.13: route table changes.
    CisAlarm(
        "4.13",
        "route-table-changes",
        "Route or route table created, changed or deleted",
        _any_event(
            "ec2.amazonaws.com",
            (
                "CreateRoute",
                "CreateRouteTable",
                "ReplaceRoute",
                "ReplaceRouteTableAssociation",
                "DeleteRouteTable",
                "DeleteRoute",
                "DisassociateRouteTable",
            ),
        ),
    ),
    # CIS 4.14: VPC changes, peering included.
    CisAlarm(
        "4.14",
        "vpc-changes",
        "VPC or VPC peering created, changed or deleted",
        _any_event(
            "ec2.amazonaws.com",
            (
                "CreateVpc",
                "DeleteVpc",
                "ModifyVpcAttribute",
                "AcceptVpcPeeringConnection",
                "CreateVpcPeeringConnection",
                "DeleteVpcPeeringConnection",
                "RejectVpcPeeringConnection",
                "AttachClassicLinkVpc",
                "DetachClassicLinkVpc",
                "DisableVpcClassicLink",
                "EnableVpcClassicLink",
            ),
        ),
    ),
    # CIS 4.15: AWS Organizations changes.
    CisAlarm(
        "4.15",
        "organizations-changes",
        "AWS Organizations structure, accounts or policies changed",
        _any_event(
            "organizations.amazonaws.com",
            (
                "AcceptHandshake",
                "AttachPolicy",
                "CreateAccount",
                "CreateOrganizationalUnit",
                "CreatePolicy",
                "DeclineHandshake",
                "DeleteOrganization",
                "DeleteOrganizationalUnit",
                "DeletePolicy",
                "DetachPolicy",
                "DisablePolicyType",
                "EnablePolicyType",
                "InviteAccountToOrganization",
                "LeaveOrganization",
                "MoveAccount",
                "RemoveAccountFromOrganization",
                "UpdatePolicy",
                "UpdateOrganizationalUnit",
            ),
        ),
    ),
)
