"""The CIS metric filter patterns, run against CloudTrail events: each catches what its
control names and lets a near miss through; the stack deploys exactly these patterns."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.organization.cloudwatch_filter import Comparison, Expression, matches, parse
from org_config import AccountRole, load_config
from stacks.organization.cis_alarms import CIS_ALARMS, METRIC_NAMESPACE, CisAlarm
from stacks.organization.trail_monitoring import cis_alarm_name
from tests.support.synthesis import Synthesis

CONFIG = load_config()
CONTROLS = {alarm.control: alarm for alarm in CIS_ALARMS}

# What the issue asks to watch, by the benchmark's control number.
REQUIRED_CONTROLS = {
    "4.1": "unauthorized API calls",
    "4.2": "console sign-in without MFA",
    "4.3": "root use",
    "4.4": "IAM policy changes",
    "4.5": "CloudTrail changes",
    "4.7": "KMS key disable or deletion",
    "4.8": "S3 bucket policy changes",
    "4.9": "Config changes",
    "4.10": "security groups",
    "4.11": "network ACLs",
    "4.12": "network gateways",
    "4.13": "route tables",
    "4.14": "VPCs",
    "4.15": "Organizations changes",
}


def _event(**fields: Any) -> dict[str, Any]:
    """A CloudTrail management event by an IAM role session, with ``fields`` on top."""
    event: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:session",
            "arn": "arn:aws:sts::666666666666:assumed-role/Deployer/session",
            "accountId": "666666666666",
            "sessionContext": {"attributes": {"mfaAuthenticated": "false"}},
        },
        "eventTime": "2026-11-27T02:00:00Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.17",
        "requestParameters": {},
        "responseElements": None,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "666666666666",
    }
    event.update(fields)
    return event


def _root(**fields: Any) -> dict[str, Any]:
    return _event(
        userIdentity={
            "type": "Root",
            "principalId": "666666666666",
            "arn": "arn:aws:iam::666666666666:root",
            "accountId": "666666666666",
        },
        **fields,
    )


def _console_login(*, mfa: str, result: str, user_type: str = "IAMUser") -> dict[str, Any]:
    return _event(
        eventSource="signin.amazonaws.com",
        eventName="ConsoleLogin",
        eventType="AwsConsoleSignIn",
        userIdentity={"type": user_type, "userName": "alice", "accountId": "666666666666"},
        responseElements={"ConsoleLogin": result},
        additionalEventData={"MFAUsed": mfa, "MobileVersion": "No"},
    )


# control -> (an event the alarm exists for, a near miss it must ignore)
SAMPLES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "4.1": (
        _event(eventName="RunInstances", errorCode="Client.UnauthorizedOperation"),
        _event(eventName="HeadBucket", eventSource="s3.amazonaws.com", errorCode="AccessDenied"),
    ),
    "4.2": (
        _console_login(mfa="No", result="Success"),
        _console_login(mfa="Yes", result="Success"),
    ),
    "4.3": (
        _root(eventName="CreateAccessKey", eventSource="iam.amazonaws.com"),
        _root(eventName="Decrypt", eventSource="kms.amazonaws.com", eventType="AwsServiceEvent"),
    ),
    "4.4": (
        _event(eventSource="iam.amazonaws.com", eventName="AttachRolePolicy"),
        _event(eventSource="iam.amazonaws.com", eventName="GetRolePolicy"),
    ),
    "4.5": (
        _event(eventSource="cloudtrail.amazonaws.com", eventName="StopLogging"),
        _event(eventSource="cloudtrail.amazonaws.com", eventName="LookupEvents"),
    ),
    "4.7": (
        _event(eventSource="kms.amazonaws.com", eventName="ScheduleKeyDeletion"),
        _event(eventSource="kms.amazonaws.com", eventName="EnableKey"),
    ),
    "4.8": (
        _event(eventSource="s3.amazonaws.com", eventName="PutBucketPolicy"),
        _event(eventSource="s3.amazonaws.com", eventName="GetBucketPolicy"),
    ),
    "4.9": (
        _event(eventSource="config.amazonaws.com", eventName="StopConfigurationRecorder"),
        _event(eventSource="config.amazonaws.com", eventName="StartConfigurationRecorder"),
    ),
    "4.10": (
        _event(eventName="AuthorizeSecurityGroupIngress"),
        _event(eventName="DescribeSecurityGroups"),
    ),
    "4.11": (
        _event(eventName="ReplaceNetworkAclEntry"),
        _event(eventName="DescribeNetworkAcls"),
    ),
    "4.12": (
        _event(eventName="AttachInternetGateway"),
        _event(eventName="DescribeInternetGateways"),
    ),
    "4.13": (
        _event(eventName="CreateRoute"),
        _event(eventName="DescribeRouteTables"),
    ),
    "4.14": (
        _event(eventName="CreateVpcPeeringConnection"),
        _event(eventName="DescribeVpcs"),
    ),
    "4.15": (
        _event(eventSource="organizations.amazonaws.com", eventName="LeaveOrganization"),
        _event(eventSource="organizations.amazonaws.com", eventName="DescribeOrganization"),
    ),
}

# Events some other control is for, which a careless pattern would also catch.
NEAR_MISSES: dict[str, list[dict[str, Any]]] = {
    "4.1": [_event(errorCode="AccessDenied", sourceIPAddress="delivery.logs.amazonaws.com")],
    "4.2": [
        _console_login(mfa="No", result="Failure"),  # a failed sign-in is 4.6's business
        _console_login(mfa="No", result="Success", user_type="AssumedRole"),  # federated: MFA is the IdP's
    ],
    "4.3": [  # an AWS service acting with the root identity on the account's behalf
        _event(
            eventName="DescribeAccount",
            userIdentity={"type": "Root", "accountId": "666666666666", "invokedBy": "support.amazonaws.com"},
        )
    ],
    "4.4": [_event(eventSource="organizations.amazonaws.com", eventName="CreatePolicy")],
    "4.7": [_event(eventSource="ec2.amazonaws.com", eventName="DisableKey")],
    "4.15": [_event(eventSource="iam.amazonaws.com", eventName="CreatePolicy")],
}


def test_the_required_controls_and_nothing_else() -> None:
    assert set(CONTROLS) == set(REQUIRED_CONTROLS)
    assert len(CONTROLS) == len(CIS_ALARMS), "one alarm per control"
    assert len({a.name for a in CIS_ALARMS}) == len(CIS_ALARMS)


@pytest.mark.parametrize("alarm", CIS_ALARMS, ids=[a.control for a in CIS_ALARMS])
def test_pattern_parses_within_the_size_limit(alarm: CisAlarm) -> None:
    parse(alarm.pattern)
    assert len(alarm.pattern) <= 1024, "CloudWatch Logs accepts filter patterns of up to 1,024 characters"


@pytest.mark.parametrize("control", sorted(SAMPLES), ids=sorted(SAMPLES))
def test_pattern_catches_its_event_and_ignores_a_near_miss(control: str) -> None:
    caught, ignored = SAMPLES[control]
    pattern = CONTROLS[control].pattern
    assert matches(pattern, caught), f"CIS {control} misses {caught['eventName']}"
    assert not matches(pattern, ignored), f"CIS {control} fires on {ignored['eventName']}"
    for near_miss in NEAR_MISSES.get(control, []):
        assert not matches(pattern, near_miss), f"CIS {control} fires on {near_miss}"


def _event_names(node: Expression | Comparison) -> list[str]:
    if isinstance(node, Comparison):
        return [node.value] if node.path == ("eventName",) and node.operator == "=" and node.value else []
    return [name for term in node.terms for name in _event_names(term)]


def _event_source(node: Expression | Comparison) -> str | None:
    if isinstance(node, Comparison):
        return node.value if node.path == ("eventSource",) and node.operator == "=" else None
    return next((s for term in node.terms if (s := _event_source(term)) is not None), None)


@pytest.mark.parametrize("alarm", [a for a in CIS_ALARMS if _event_source(parse(a.pattern))], ids=lambda a: a.control)
def test_every_listed_api_call_fires_only_from_its_own_service(alarm: CisAlarm) -> None:
    tree = parse(alarm.pattern)
    source = _event_source(tree)
    names = _event_names(tree)
    assert len(names) >= 2
    for name in names:
        assert matches(alarm.pattern, _event(eventSource=source, eventName=name)), name
        assert not matches(alarm.pattern, _event(eventSource="sts.amazonaws.com", eventName=name)), name
        assert not matches(alarm.pattern, _event(eventSource=source, eventName=f"Describe{name}")), name


def test_the_stack_deploys_these_patterns_with_an_alarm_each(synthesis: Synthesis) -> None:
    resources = synthesis.stack(f"organization-services-{CONFIG.regions.home}").template["Resources"]
    filters = {
        r["Properties"]["MetricTransformations"][0]["MetricName"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Logs::MetricFilter"
    }
    alarms = {  # the CIS alarms; the dead-letter queue's alarm watches an SQS metric
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("Namespace") == METRIC_NAMESPACE
    }
    (log_group_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::Logs::LogGroup" and "TrailLogs" in k]
    (topic_id,) = [k for k, r in resources.items() if r["Type"] == "AWS::SNS::Topic"]
    assert len(filters) == len(alarms) == len(CIS_ALARMS)
    for cis in CIS_ALARMS:
        metric_filter = filters[cis.name]
        assert metric_filter["FilterPattern"] == cis.pattern
        assert metric_filter["LogGroupName"] == {"Ref": log_group_id}
        assert metric_filter["MetricTransformations"][0] == {
            "MetricName": cis.name,
            "MetricNamespace": METRIC_NAMESPACE,
            "MetricValue": "1",
        }
        alarm = alarms[cis_alarm_name(CONFIG, cis.control, cis.name)]
        assert (alarm["MetricName"], alarm["Namespace"], alarm["Statistic"]) == (cis.name, METRIC_NAMESPACE, "Sum")
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [{"Ref": topic_id}]
        assert cis.control in alarm["AlarmDescription"]
    assert (
        CONFIG.account(AccountRole.MANAGEMENT).id
        == synthesis.stack(f"organization-services-{CONFIG.regions.home}").account
    )
