"""The security-alarm path through EventBridge keeps what it cannot deliver: each rule's
target has a KMS-encrypted dead-letter queue that only that rule may write to, the audit
rule retries for as long as EventBridge allows, and an alarm fires on the first message."""

from __future__ import annotations

from typing import Any

import pytest

from cdk_constructs.organization.dead_letters import MAXIMUM_EVENT_AGE_SECONDS, MAXIMUM_RETRY_ATTEMPTS
from org_config import AccountRole, load_config
from tests.support.synthesis import Synthesis

CONFIG = load_config()
HOME = CONFIG.regions.home


def _resources(synthesis: Synthesis, stack: str, kind: str) -> dict[str, Any]:
    template = synthesis.stack(f"{stack}-{HOME}").template
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def _statements(resource: dict[str, Any], document: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = resource["Properties"][document]["Statement"]
    return statements


@pytest.mark.parametrize(
    ("stack_name", "account"),
    [("audit-services", AccountRole.AUDIT), ("organization-services", AccountRole.MANAGEMENT)],
)
def test_each_security_alarm_rule_has_an_encrypted_dead_letter_queue_only_it_writes_to(
    synthesis: Synthesis, stack_name: str, account: AccountRole
) -> None:
    stack = stack_name
    (rule,) = _resources(synthesis, stack, "AWS::Events::Rule").values()
    rule_arn = f"arn:aws:events:{HOME}:{CONFIG.account(account).id}:rule/{rule['Properties']['Name']}"
    (target,) = rule["Properties"]["Targets"]
    queue_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    queues = _resources(synthesis, stack, "AWS::SQS::Queue")
    key_id = queues[queue_id]["Properties"]["KmsMasterKeyId"]["Fn::GetAtt"][0]
    assert queues[queue_id]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600

    # The key lets EventBridge encrypt for this rule only.
    key = _resources(synthesis, stack, "AWS::KMS::Key")[key_id]
    grants = [
        s
        for s in _statements(key, "KeyPolicy")
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
        and s["Condition"].get("ArnEquals") == {"aws:SourceArn": rule_arn}
    ]
    assert any(set(grant["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"} for grant in grants)
    assert all(grant["Principal"] != "*" for grant in _statements(key, "KeyPolicy") if grant["Effect"] == "Allow")

    # The queue accepts messages from this rule only.
    (policy,) = [
        p
        for p in _resources(synthesis, stack, "AWS::SQS::QueuePolicy").values()
        if {"Ref": queue_id} in p["Properties"]["Queues"]
    ]
    senders = [s for s in _statements(policy, "PolicyDocument") if s["Effect"] == "Allow"]
    assert senders and all(s["Principal"] == {"Service": "events.amazonaws.com"} for s in senders)
    rule_id = next(iter(_resources(synthesis, stack, "AWS::Events::Rule")))
    for sender in senders:  # the literal ARN, or (CDK's own statement) the rule's
        assert sender["Condition"]["ArnEquals"]["aws:SourceArn"] in (rule_arn, {"Fn::GetAtt": [rule_id, "Arn"]})

    # One message is an alarm, notifying a topic.
    (alarm,) = [
        a
        for a in _resources(synthesis, stack, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    ]
    assert alarm["Properties"]["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
    ]
    assert alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Properties"]["Threshold"] == 1
    assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    (topic_id,) = [action["Ref"] for action in alarm["Properties"]["AlarmActions"]]
    assert topic_id in _resources(synthesis, stack, "AWS::SNS::Topic")


def test_the_audit_rule_retries_for_as_long_as_eventbridge_allows(synthesis: Synthesis) -> None:
    (rule,) = _resources(synthesis, "audit-services", "AWS::Events::Rule").values()
    (target,) = rule["Properties"]["Targets"]
    assert target["RetryPolicy"] == {
        "MaximumRetryAttempts": MAXIMUM_RETRY_ATTEMPTS,
        "MaximumEventAgeInSeconds": MAXIMUM_EVENT_AGE_SECONDS,
    }
    assert (MAXIMUM_RETRY_ATTEMPTS, MAXIMUM_EVENT_AGE_SECONDS) == (185, 86_400)  # EventBridge's maxima


def test_the_audit_dead_letter_alarm_may_publish_to_the_encrypted_alarm_topic(synthesis: Synthesis) -> None:
    audit = CONFIG.account(AccountRole.AUDIT).id
    alarm_arn = f"arn:aws:cloudwatch:{HOME}:{audit}:alarm:{CONFIG.organization.name_prefix}-security-alarm-dead-letters"
    (alarm,) = [
        a
        for a in _resources(synthesis, "audit-services", "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    ]
    assert f"arn:aws:cloudwatch:{HOME}:{audit}:alarm:{alarm['Properties']['AlarmName']}" == alarm_arn
    (topic_policy,) = _resources(synthesis, "audit-services", "AWS::SNS::TopicPolicy").values()
    assert any(
        s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        and s["Condition"]["ArnEquals"] == {"aws:SourceArn": alarm_arn}
        for s in _statements(topic_policy, "PolicyDocument")
    )
    keys = _resources(synthesis, "audit-services", "AWS::KMS::Key").values()
    assert any(
        s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        and s["Condition"].get("ArnEquals") == {"aws:SourceArn": alarm_arn}
        for key in keys
        for s in _statements(key, "KeyPolicy")
    )
