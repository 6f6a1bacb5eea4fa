"""The organization trail in CloudWatch Logs, and the CIS alarms on it (management account).

    organization trail ─► log group (KMS, retention from config)
                              │ one metric filter per CIS control (cis_alarms.py)
                              ▼
                          alarms ─► local alarm topic (KMS)
                              │
                              └─ "CloudWatch Alarm State Change" (EventBridge) ─► audit account's
                                 default event bus ─► rule ─► security alarm topic (audit_services.py)
                                 └─ undelivered ─► dead-letter queue (KMS) ─► alarm

CloudWatch documents alarm notifications to a topic in the alarm's own region and describes no
cross-account topic, so the alarms act on a local topic (an alarm with an action), and
EventBridge, whose cross-account delivery to another account's event bus is documented,
carries each change to ALARM to the audit account.
"""

from __future__ import annotations

import typing

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag
from cdk_constructs.hardened_key import HardenedKey
from cdk_constructs.organization.dead_letters import AlarmDeadLetters
from org_config.model import AccountRole, OrgConfig
from org_config.names import organization_trail_arn
from stacks.organization.cis_alarms import CIS_ALARMS, METRIC_NAMESPACE


def trail_log_group_name(config: OrgConfig) -> str:
    """Named, not generated: the key policy names the log group before it exists."""
    return f"/{config.organization.name_prefix}/organization-trail"


def cis_alarm_name(config: OrgConfig, control: str, name: str) -> str:
    return f"{config.organization.name_prefix}-cis-{control}-{name}"


def cis_alarm_arn_pattern(config: OrgConfig) -> str:
    """Every CIS alarm of the management account in the home region."""
    management = config.account(AccountRole.MANAGEMENT).id
    return f"arn:aws:cloudwatch:{config.regions.home}:{management}:alarm:{config.organization.name_prefix}-cis-*"


def audit_event_bus_arn(config: OrgConfig) -> str:
    audit = config.account(AccountRole.AUDIT).id
    return f"arn:aws:events:{config.regions.home}:{audit}:event-bus/default"


class TrailMonitoring(Construct):
    """Log group, metric filters and alarms for the organization trail.

    ``log_group`` and ``role`` are what the trail needs (its CloudWatchLogsLogGroupArn and
    CloudWatchLogsRoleArn); ``alarms`` maps each CIS control number to its alarm.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig) -> None:
        super().__init__(scope, construct_id)
        account, region = config.account(AccountRole.MANAGEMENT).id, config.regions.home
        prefix = config.organization.name_prefix
        log_group_name = trail_log_group_name(config)
        log_group_arn = f"arn:aws:logs:{region}:{account}:log-group:{log_group_name}"
        alarm_arns = cis_alarm_arn_pattern(config)

        self.key = HardenedKey(
            self,
            "Key",
            alias=f"alias/{prefix}/security-monitoring",
            description="Encrypts the organization trail's log group and the security alarm topic",
        )
        self.key.allow_service(
            sid="TrailLogGroup",  # CloudWatch Logs, for this one log group only
            service_principal=f"logs.{region}.amazonaws.com",
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
        )
        self.key.allow_service(
            sid="CisAlarms",  # the alarms publish to the encrypted topic
            service_principal="cloudwatch.amazonaws.com",
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            conditions={"StringEquals": {"aws:SourceAccount": account}, "ArnLike": {"aws:SourceArn": alarm_arns}},
        )

        self.log_group = logs.LogGroup(
            self,
            "TrailLogs",
            log_group_name=log_group_name,
            encryption_key=self.key.key,
            removal_policy=RemovalPolicy.RETAIN,  # the trail's searchable copy outlives the stack
        )
        # The config gives days and validates them against what CloudWatch Logs accepts.
        typing.cast(
            logs.CfnLogGroup, self.log_group.node.default_child
        ).retention_in_days = config.security_monitoring.trail_log_retention_days
        self.role = iam.Role(
            self,
            "TrailDeliveryRole",
            assumed_by=iam.ServicePrincipal(
                "cloudtrail.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceArn": organization_trail_arn(config)}},
            ),
            description="Lets the organization trail write its events into its log group",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="TrailLogStreams",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{log_group_arn}:log-stream:*"],
            )
        )
        acknowledge_nag(
            self.role,
            f"AwsSolutions-IAM5[Resource::{log_group_arn}:log-stream:*]",
            "CloudTrail names one log stream per account and region of the organization as they "
            "join; the statement is limited to the streams of this one log group.",
        )

        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name="CIS alarms on the organization trail (forwarded to the audit account)",
            master_key=self.key.key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CisAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": account}, "ArnLike": {"aws:SourceArn": alarm_arns}},
            )
        )

        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for cis in CIS_ALARMS:
            metric_filter = logs.MetricFilter(
                self,
                f"Filter-{cis.name}",
                log_group=self.log_group,
                filter_pattern=logs.FilterPattern.literal(cis.pattern),
                metric_namespace=METRIC_NAMESPACE,
                metric_name=cis.name,
                metric_value="1",
            )
            alarm = cloudwatch.Alarm(
                self,
                f"Alarm-{cis.name}",
                alarm_name=cis_alarm_name(config, cis.control, cis.name),
                alarm_description=f"CIS AWS Foundations {cis.control}: {cis.description}",
                metric=metric_filter.metric(statistic="Sum", period=Duration.minutes(5)),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,  # no matching event, no alarm
            )
            alarm.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
            self.alarms[cis.control] = alarm

        # Every change of a CIS alarm to ALARM goes to the audit account's default event bus,
        # with a role that only EventBridge, for this account's rules, may assume.
        forwarding_role = iam.Role(
            self,
            "ForwardToAuditRole",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": account}}
            ),
            description="Lets EventBridge put the CIS alarm events on the audit account's default bus",
        )
        # Named, not generated: the dead-letter queue's key policy names the rule before it exists.
        forward_rule_name = f"{prefix}-cis-alarms-to-audit"
        # Its alarm is named like the CIS alarms, so it reaches the local topic and, once
        # delivery works again, the audit account too.
        self.dead_letters = AlarmDeadLetters(
            self,
            "ForwardDeadLetters",
            key=self.key,
            rule_arn=f"arn:aws:events:{region}:{account}:rule/{forward_rule_name}",
            alarm_name=cis_alarm_name(config, "delivery", "forward-dead-letters"),
            topic=self.topic,
        )
        self.forward_rule = events.Rule(
            self,
            "ForwardToAudit",
            rule_name=forward_rule_name,
            description="Sends the CIS alarms' changes to ALARM to the audit account",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=["CloudWatch Alarm State Change"],
                resources=events.Match.prefix(alarm_arns.removesuffix("*")),
                detail={"state": {"value": ["ALARM"]}},
            ),
            targets=[
                # An event bus target takes a dead-letter queue but no retry policy (CDK
                # EventBusProps: "Retry policy is not supported for Event bus targets"); EventBridge
                # retries it with its defaults, then the queue keeps what it could not deliver.
                targets.EventBus(
                    events.EventBus.from_event_bus_arn(self, "AuditBus", audit_event_bus_arn(config)),
                    role=forwarding_role,
                    dead_letter_queue=self.dead_letters.queue,
                )
            ],
        )
