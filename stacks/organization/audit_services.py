"""Organization-wide views in the audit account, its delegated administrator.

audit account
├── Config aggregator ◄── every account, every region (organization source)
├── Access Analyzer (organization zone of trust) ── findings for access from outside
├── Security Hub, central configuration (home region)
│     finding aggregator ◄── every other allowed region
│     configuration policy: AWS Foundational Security Best Practices + CIS ─► organization root
├── GuardDuty, every allowed region: every member account enabled, new ones automatically
└── default event bus ◄── CIS alarms of the management account (trail_monitoring.py)
      └─► rule ─(retries)─► security alarm topic (KMS) ─► email (optional)
            └─ undelivered ─► dead-letter queue (KMS) ─► alarm ─► security alarm topic
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_accessanalyzer as accessanalyzer
from aws_cdk import aws_config as config_service
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_securityhub as securityhub
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import custom_resources as cr
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag, skip_checkov
from cdk_constructs.hardened_key import HardenedKey
from cdk_constructs.organization.dead_letters import (
    MAXIMUM_EVENT_AGE_SECONDS,
    MAXIMUM_RETRY_ATTEMPTS,
    AlarmDeadLetters,
)
from org_config.model import AccountRole, OrgConfig
from stacks.organization.sdk_calls import harden_custom_resource_provider
from stacks.organization.trail_monitoring import cis_alarm_arn_pattern

# The Security Hub standards the configuration policy enables in every account and region.
SECURITY_HUB_STANDARDS: tuple[str, ...] = (
    "aws-foundational-security-best-practices/v/1.0.0",
    "cis-aws-foundations-benchmark/v/3.0.0",
)


def security_alarm_rule_name(config: OrgConfig) -> str:
    """Named, not generated: the topic's key policy names the rule before it exists."""
    return f"{config.organization.name_prefix}-security-alarms"


class AuditServicesStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        prefix = config.organization.name_prefix
        aggregator_role = iam.Role(
            self,
            "ConfigAggregatorRole",
            assumed_by=iam.ServicePrincipal("config.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSConfigRoleForOrganizations")
            ],
            description="Lets AWS Config list the organization's accounts for the aggregator",
        )
        acknowledge_nag(
            aggregator_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSConfigRoleForOrganizations]",
            "AWS Config's own policy for organization aggregators: read-only Organizations describe/list calls.",
        )
        config_service.CfnConfigurationAggregator(
            self,
            "OrganizationAggregator",
            configuration_aggregator_name=f"{prefix}-organization",
            organization_aggregation_source=config_service.CfnConfigurationAggregator.OrganizationAggregationSourceProperty(
                role_arn=aggregator_role.role_arn,
                all_aws_regions=True,
            ),
        )
        accessanalyzer.CfnAnalyzer(
            self,
            "OrganizationAnalyzer",
            analyzer_name=f"{prefix}-organization",
            type="ORGANIZATION",
        )
        self._security_alarms(config)
        self._security_hub_central_configuration(config)
        self._guardduty_for_the_organization(config)
        harden_custom_resource_provider(self)

    def _security_alarms(self, config: OrgConfig) -> None:
        """The topic the management account's CIS alarms reach, through EventBridge."""
        audit = config.account(AccountRole.AUDIT).id
        management = config.account(AccountRole.MANAGEMENT).id
        home = config.regions.home
        rule_arn = f"arn:aws:events:{home}:{audit}:rule/{security_alarm_rule_name(config)}"
        from_the_rule = {"StringEquals": {"aws:SourceAccount": audit}, "ArnEquals": {"aws:SourceArn": rule_arn}}

        self.alarm_key = HardenedKey(
            self,
            "AlarmKey",
            alias=f"alias/{config.organization.name_prefix}/security-alarms",
            description="Encrypts the security alarm topic of the audit account",
        )
        self.alarm_key.allow_service(
            sid="SecurityAlarmRule",  # EventBridge publishes to the encrypted topic
            service_principal="events.amazonaws.com",
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            conditions=from_the_rule,
        )
        self.alarm_topic = sns.Topic(
            self,
            "SecurityAlarms",
            display_name="Security alarms of the organization (CIS AWS Foundations)",
            master_key=self.alarm_key.key,
            enforce_ssl=True,
        )
        self.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SecurityAlarmRule",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alarm_topic.topic_arn],
                conditions=from_the_rule,
            )
        )
        if config.security_monitoring.alarm_email is not None:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(config.security_monitoring.alarm_email))

        # An alarm the rule cannot deliver after its retries waits here, and its own alarm
        # notifies the same topic (CloudWatch publishes directly, not through the rule).
        dead_letter_alarm = f"{config.organization.name_prefix}-security-alarm-dead-letters"
        dead_letter_alarm_arn = f"arn:aws:cloudwatch:{home}:{audit}:alarm:{dead_letter_alarm}"
        from_the_alarm = {
            "StringEquals": {"aws:SourceAccount": audit},
            "ArnEquals": {"aws:SourceArn": dead_letter_alarm_arn},
        }
        self.alarm_key.allow_service(
            sid="DeadLetterAlarm",
            service_principal="cloudwatch.amazonaws.com",
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            conditions=from_the_alarm,
        )
        self.alarm_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DeadLetterAlarm",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alarm_topic.topic_arn],
                conditions=from_the_alarm,
            )
        )
        self.dead_letters = AlarmDeadLetters(
            self,
            "SecurityAlarmDeadLetters",
            key=self.alarm_key,
            rule_arn=rule_arn,
            alarm_name=dead_letter_alarm,
            topic=self.alarm_topic,
        )

        # The management account may put events on this account's default bus, and nobody else.
        events.CfnEventBusPolicy(
            self,
            "ManagementAccountEvents",
            statement_id="ManagementAccountCisAlarms",
            event_bus_name="default",
            statement={
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{management}:root"},
                "Action": "events:PutEvents",
                "Resource": f"arn:aws:events:{home}:{audit}:event-bus/default",
            },
        )
        events.CfnRule(
            self,
            "SecurityAlarmRule",
            name=security_alarm_rule_name(config),
            description="CIS alarms of the management account that changed to ALARM",
            event_bus_name="default",
            event_pattern={
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "account": [management],
                "resources": [{"prefix": cis_alarm_arn_pattern(config).removesuffix("*")}],
                "detail": {"state": {"value": ["ALARM"]}},
            },
            targets=[
                events.CfnRule.TargetProperty(
                    arn=self.alarm_topic.topic_arn,
                    id="SecurityAlarms",
                    retry_policy=events.CfnRule.RetryPolicyProperty(
                        maximum_retry_attempts=MAXIMUM_RETRY_ATTEMPTS,
                        maximum_event_age_in_seconds=MAXIMUM_EVENT_AGE_SECONDS,
                    ),
                    dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self.dead_letters.queue.queue_arn),
                )
            ],
        )

    def _security_hub_central_configuration(self, config: OrgConfig) -> None:
        """Security Hub configured for the whole organization from here, in the home region."""
        home = config.regions.home
        # Central configuration needs cross-region aggregation into the home region first.
        aggregator = securityhub.CfnFindingAggregator(
            self,
            "SecurityHubFindingAggregator",
            region_linking_mode="SPECIFIED_REGIONS",
            regions=[region for region in config.regions.allowed if region != home],
        )
        organization_configuration = securityhub.CfnOrganizationConfiguration(
            self,
            "SecurityHubOrganizationConfiguration",
            configuration_type="CENTRAL",
            # Under central configuration the policy enables accounts and standards, not these.
            auto_enable=False,
            auto_enable_standards="NONE",
        )
        organization_configuration.add_resource_dependency(aggregator)
        policy = securityhub.CfnConfigurationPolicy(
            self,
            "SecurityHubPolicy",
            name=f"{config.organization.name_prefix}-organization",
            description="Security Hub on, AWS Foundational Security Best Practices and CIS standards",
            configuration_policy=securityhub.CfnConfigurationPolicy.PolicyProperty(
                security_hub=securityhub.CfnConfigurationPolicy.SecurityHubPolicyProperty(
                    service_enabled=True,
                    enabled_standard_identifiers=[
                        f"arn:aws:securityhub:{home}::standards/{standard}" for standard in SECURITY_HUB_STANDARDS
                    ],
                    # Every control of those standards, new ones included.
                    security_controls_configuration=securityhub.CfnConfigurationPolicy.SecurityControlsConfigurationProperty(
                        disabled_security_control_identifiers=[]
                    ),
                )
            ),
        )
        policy.add_resource_dependency(organization_configuration)
        association = securityhub.CfnPolicyAssociation(
            self,
            "SecurityHubPolicyAtRoot",
            configuration_policy_id=policy.attr_id,
            target_type="ROOT",  # every account in every OU, and accounts that join later
            target_id=config.organization.root_id,
        )
        association.add_resource_dependency(organization_configuration)

    def _guardduty_for_the_organization(self, config: OrgConfig) -> None:
        """In every allowed region, GuardDuty on for every member account, and for new ones.

        The management account named this account administrator in each region, which
        turned GuardDuty on here (the detector exists); CloudFormation has no resource for
        the organization settings, so two SDK calls per region find the detector and set them.
        """
        audit = config.account(AccountRole.AUDIT).id
        for region in config.regions.allowed:
            find = cr.AwsSdkCall(
                service="GuardDuty",
                action="listDetectors",
                parameters={},
                region=region,
                physical_resource_id=cr.PhysicalResourceId.of(f"guardduty-detector-{audit}-{region}"),
                output_paths=["DetectorIds.0"],
            )
            detector = cr.AwsCustomResource(
                self,
                f"GuardDutyDetector-{region}",
                on_create=find,
                on_update=find,
                policy=cr.AwsCustomResourcePolicy.from_statements(
                    [iam.PolicyStatement(actions=["guardduty:ListDetectors"], resources=["*"])]
                ),
                install_latest_aws_sdk=False,
            )
            detector_id = detector.get_response_field("DetectorIds.0")
            configure = cr.AwsSdkCall(
                service="GuardDuty",
                action="updateOrganizationConfiguration",
                parameters={"DetectorId": detector_id, "AutoEnableOrganizationMembers": "ALL"},
                region=region,
                physical_resource_id=cr.PhysicalResourceId.of(f"guardduty-organization-{audit}-{region}"),
            )
            organization = cr.AwsCustomResource(
                self,
                f"GuardDutyOrganization-{region}",
                on_create=configure,
                on_update=configure,
                policy=cr.AwsCustomResourcePolicy.from_statements(
                    [
                        # The Service Authorization Reference lists no resource type for
                        # guardduty:UpdateOrganizationConfiguration, so only "*" allows it
                        # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonguardduty.html).
                        iam.PolicyStatement(actions=["guardduty:UpdateOrganizationConfiguration"], resources=["*"]),
                        iam.PolicyStatement(
                            actions=["organizations:DescribeOrganization", "organizations:ListAccounts"],
                            resources=["*"],
                        ),
                    ]
                ),
                install_latest_aws_sdk=False,
            )
            for custom_resource, reason in (
                (detector, "guardduty:ListDetectors has no resource type; it only reads this account's detector id."),
                (
                    organization,
                    "guardduty:UpdateOrganizationConfiguration and the Organizations reads GuardDuty makes to list "
                    "member accounts have no resource type.",
                ),
            ):
                acknowledge_nag(custom_resource, "AwsSolutions-IAM5[Resource::*]", reason)
                skip_checkov(
                    custom_resource.node.find_child("CustomResourcePolicy").node.default_child,  # type: ignore[arg-type]
                    "CKV_AWS_111",
                    reason,
                )
