"""The pipeline's alarms: one CloudWatch alarm per :class:`analysis.streaming.alarms.AlarmSpec`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

from analysis.streaming.alarms import AlarmSpec, Resource


class PipelineAlarms:
    """An alarm per spec, named by the spec's construct id, on the metric of the resource the
    spec names (``dimensions`` maps each resource to its metric dimensions).

    Defaults: each alarm notifies ``topic`` when it fires and when it recovers; missing
    data is not breaching (an idle pipeline is not an incident); the threshold's arithmetic
    travels in the description, so an operator sees why the number is what it is.
    ``alarms`` maps construct ids to the L2 alarms.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        specs: Sequence[AlarmSpec],
        dimensions: Mapping[Resource, Mapping[str, str]],
        topic: sns.ITopic,
    ) -> None:
        action = cloudwatch_actions.SnsAction(topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for spec in specs:
            alarm = cloudwatch.Alarm(
                scope,
                spec.construct_id,
                alarm_description=f"{spec.description}. Threshold: {spec.arithmetic}.",
                metric=cloudwatch.Metric(
                    namespace=spec.namespace,
                    metric_name=spec.metric_name,
                    dimensions_map=dict(dimensions[spec.resource]),
                    statistic=spec.statistic,
                    period=Duration.seconds(spec.period_seconds),
                ),
                threshold=spec.threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
            self.alarms[spec.construct_id] = alarm
