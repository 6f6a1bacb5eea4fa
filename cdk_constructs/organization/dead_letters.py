"""Where a security alarm goes when EventBridge cannot deliver it, and the alarm that says so.

    rule ──target (retries)──► destination
      └── after the last retry ─► dead-letter queue (KMS) ──► alarm: one message is enough

EventBridge sends an event it could not deliver, after the target's retries, to the
target's dead-letter queue; without one the event is dropped and only the rule's
``FailedInvocations`` metric shows it (EventBridge guide, "Using dead-letter queues to
process undelivered events"). A queue encrypted with a customer-managed key must let
EventBridge use the key, for this rule only (same page, "Granting permissions to the
dead-letter queue").
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag, exempt_control
from cdk_constructs.hardened_key import HardenedKey

# SQS keeps a message at most 14 days: the longest time to notice and redrive it.
RETENTION_DAYS = 14
# The target retries for as long as EventBridge allows: 185 attempts within 24 hours
# (EventBridge API reference, RetryPolicy).
MAXIMUM_RETRY_ATTEMPTS = 185
MAXIMUM_EVENT_AGE_SECONDS = 86_400


class AlarmDeadLetters(Construct):
    """A dead-letter queue for the targets of the rule at ``rule_arn`` and an alarm on it.

    Secure defaults: the queue is encrypted with ``key`` (which grants EventBridge use for
    this rule only), accepts messages only from that rule, over TLS, and keeps them 14 days.
    The alarm ``alarm_name`` fires on the first message and notifies ``topic``.
    ``queue`` and ``alarm`` are the resources.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: HardenedKey,
        rule_arn: str,
        alarm_name: str,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        from_the_rule = {"ArnEquals": {"aws:SourceArn": rule_arn}}
        key.allow_service(
            sid=f"{construct_id}FromEventBridge",
            service_principal="events.amazonaws.com",
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            conditions=from_the_rule,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key.key,
            enforce_ssl=True,
            retention_period=Duration.days(RETENTION_DAYS),
        )
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="UndeliveredAlarms",
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
                conditions=from_the_rule,
            )
        )
        reason = (
            "This is the dead-letter queue of an EventBridge target, the last stop for alarms it could not "
            "deliver; a queue behind it would only hold the same messages one step further."
        )
        exempt_control(self.queue, "CT.SQS.PR.1", reason)
        acknowledge_nag(self.queue, "AwsSolutions-SQS3", reason)
        self.alarm = cloudwatch.Alarm(
            self,
            "Alarm",
            alarm_name=alarm_name,
            alarm_description="A security alarm could not be delivered; it waits in the dead-letter queue",
            metric=self.queue.metric_approximate_number_of_messages_visible(
                statistic="Maximum", period=Duration.minutes(5)
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,  # an empty queue reports nothing
        )
        self.alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic))
