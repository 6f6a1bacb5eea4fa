"""What a sandbox account gets before any pattern: a budget alert, and a flow-log bucket.

    AWS Budgets (monthly cost, USD) ──► alert topic (KMS) ──► optional email
        at 80 % of the budget, actual
        at 100 %, forecast
    VPC and Transit Gateway flow logs ──► flow-log bucket (only with the network pattern)

In an organization the network's flow logs go to the log-archive account's bucket; a
sandbox has no log-archive account, so this stack creates a bucket under the same
deterministic name (``org_config.names.flow_log_destination``) in the sandbox account,
and the network stacks need no change to write to it.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag
from cdk_constructs.hardened_bucket import HardenedBucket, Lifecycle
from cdk_constructs.hardened_key import HardenedKey
from org_config.model import OrgConfig
from org_config.names import log_bucket_name

ACTUAL_ALERT_PERCENT = 80  # early enough to act within the month
FORECAST_ALERT_PERCENT = 100


class SandboxBaselineStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: OrgConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        sandbox = config.sandbox
        if sandbox is None:
            raise ValueError("the sandbox baseline is built only in the sandbox profile")
        prefix = config.organization.name_prefix
        from_this_account = {"StringEquals": {"aws:SourceAccount": sandbox.account_id}}

        self.key = HardenedKey(
            self, "SandboxKey", alias=f"alias/{prefix}/sandbox", description="Encrypts the sandbox budget alerts"
        )
        self.key.allow_service(
            sid="BudgetsPublish",
            service_principal="budgets.amazonaws.com",
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            conditions=from_this_account,
        )
        self.alert_topic = sns.Topic(
            self, "BudgetAlerts", master_key=self.key.key, enforce_ssl=True, display_name="Sandbox budget alerts"
        )
        self.alert_topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BudgetsPublish",
                principals=[iam.ServicePrincipal("budgets.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alert_topic.topic_arn],
                conditions=from_this_account,
            )
        )
        if sandbox.budget_email:
            self.alert_topic.add_subscription(subscriptions.EmailSubscription(sandbox.budget_email))
        self.budget = budgets.CfnBudget(
            self,
            "MonthlyBudget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=f"{prefix}-sandbox",
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=sandbox.budget_usd, unit="USD"),
            ),
            notifications_with_subscribers=[
                self._alert("ACTUAL", ACTUAL_ALERT_PERCENT),
                self._alert("FORECASTED", FORECAST_ALERT_PERCENT),
            ],
        )
        self.flow_logs: HardenedBucket | None = None
        if config.builds("network"):
            self.flow_logs = self._flow_log_bucket(config, from_this_account)

    def _alert(self, kind: str, percent: int) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
        return budgets.CfnBudget.NotificationWithSubscribersProperty(
            notification=budgets.CfnBudget.NotificationProperty(
                comparison_operator="GREATER_THAN",
                notification_type=kind,
                threshold=percent,
                threshold_type="PERCENTAGE",
            ),
            subscribers=[
                budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=self.alert_topic.topic_arn)
            ],
        )

    def _flow_log_bucket(self, config: OrgConfig, from_this_account: dict[str, dict[str, str]]) -> HardenedBucket:
        lifecycle = Lifecycle(
            infrequent_access_after_days=30,
            glacier_after_days=90,
            expire_after_days=365,
            noncurrent_expire_after_days=30,
        )
        access_logs = HardenedBucket(
            self, "S3AccessLogs", encryption_key=None, access_logs_bucket=None, lifecycle=lifecycle
        )
        acknowledge_nag(
            access_logs.bucket,
            "AwsSolutions-S1",
            "This is the server access log destination; logging it into itself would loop.",
        )
        flow_logs = HardenedBucket(
            self,
            "VpcFlowLogs",
            bucket_name=log_bucket_name(config, "vpc-flow-logs"),
            encryption_key=self.key.key,
            access_logs_bucket=access_logs.bucket,
            access_logs_prefix="vpc-flow-logs/",
            lifecycle=lifecycle,
            object_lock_days=1,  # governance mode: the teardown may bypass it (AWS Control Tower's CT.S3.PR.9)
        )
        principal = iam.ServicePrincipal("delivery.logs.amazonaws.com")
        flow_logs.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="FlowLogsAclCheck",
                principals=[principal],
                actions=["s3:GetBucketAcl", "s3:ListBucket"],
                resources=[flow_logs.bucket.bucket_arn],
                conditions=from_this_account,
            )
        )
        flow_logs.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="FlowLogsWrite",
                principals=[principal],
                actions=["s3:PutObject"],
                resources=[flow_logs.bucket.arn_for_objects("AWSLogs/*")],
                conditions={
                    "StringEquals": {**from_this_account["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"}
                },
            )
        )
        self.key.allow_service(
            sid="FlowLogsEncryptLogs",
            service_principal="delivery.logs.amazonaws.com",
            actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            conditions=from_this_account,
        )
        return flow_logs
