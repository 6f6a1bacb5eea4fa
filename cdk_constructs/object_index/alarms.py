"""The object index's alarms, each sent to the alarm topic when it fires and when it clears."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk_constructs.object_index.contract import (
    DRAIN_TIME_FRACTION,
    EXPIRY_WARNING_FRACTION,
    FOREIGN_BUCKET_METRIC,
    METRICS_NAMESPACE,
    METRICS_SERVICE,
    UNINDEXABLE_KEY_METRIC,
)

_ONE_MINUTE = Duration.minutes(1)
_FIVE_MINUTES = Duration.minutes(5)


@dataclass(frozen=True, kw_only=True)
class AlarmThresholds:
    """What the config decides about the alarms (``object_index`` section)."""

    oldest_event_minutes: int
    event_retention_days: int
    indexer_sustained_events_per_second: int


class ObjectIndexAlarms:
    """Ten alarms on the event path, the functions and the API, all to ``topic``.

    Every alarm fires above its threshold on one period and treats missing data as not
    breaching (a quiet queue or an idle function is healthy). Not a construct of its own: the
    alarms sit directly in ``scope``, as they always have, so their logical ids hold.
    ``alarms`` maps each alarm's construct id to the alarm.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        topic: sns.ITopic,
        events: sqs.IQueue,
        dead_letters: sqs.IQueue,
        bucket_name: str,
        indexer: lambda_.IFunction,
        reconcile: lambda_.IFunction,
        query: lambda_.IFunction,
        api: apigateway.RestApi,
        thresholds: AlarmThresholds,
    ) -> None:
        self._scope = scope
        self._action = cloudwatch_actions.SnsAction(topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        oldest_event_age = events.metric_approximate_age_of_oldest_message(period=_ONE_MINUTE, statistic="Maximum")
        retention_days = thresholds.event_retention_days
        retention_seconds = retention_days * 86_400
        drain_seconds = int(retention_seconds * DRAIN_TIME_FRACTION)
        self._alarm(
            "DeadLettersAlarm",
            "S3 events the indexer could not apply after 5 attempts are in the dead-letter queue",
            dead_letters.metric_approximate_number_of_messages_visible(period=_ONE_MINUTE, statistic="Maximum"),
            0,
        )
        self._alarm(
            "OldestEventAlarm",
            f"An S3 event has waited more than {thresholds.oldest_event_minutes} minutes for the indexer",
            oldest_event_age,
            thresholds.oldest_event_minutes * 60,
        )
        self._alarm(
            "EventsNearExpiryAlarm",
            f"An S3 event has used {EXPIRY_WARNING_FRACTION:.0%} of the {retention_days}-day queue "
            "retention; add indexer capacity or fix the cause before events expire and index updates are lost",
            oldest_event_age,
            int(retention_seconds * EXPIRY_WARNING_FRACTION),
        )
        self._alarm(
            "BacklogDrainTimeAlarm",
            f"The event backlog needs more than {drain_seconds // 3600} hours to drain at the indexer's sustained "
            f"{thresholds.indexer_sustained_events_per_second} events/s",
            events.metric_approximate_number_of_messages_visible(period=_FIVE_MINUTES, statistic="Maximum"),
            thresholds.indexer_sustained_events_per_second * drain_seconds,
        )
        self._alarm(
            "UnindexableKeysAlarm",
            "S3 events for keys under customers/ outside the customers/{customer_id}/{path} layout were skipped",
            indexer_metric(UNINDEXABLE_KEY_METRIC, bucket_name),
            0,
        )
        self._alarm(
            "ForeignBucketAlarm",
            "The event queue received S3 event messages naming another bucket; none was applied",
            indexer_metric(FOREIGN_BUCKET_METRIC, bucket_name),
            0,
        )
        self._alarm(
            "IndexerErrorsAlarm",
            "The indexer failed whole invocations (timeouts, configuration), not single messages",
            indexer.metric_errors(period=_FIVE_MINUTES, statistic="Sum"),
            0,
        )
        self._alarm(
            "ReconcileErrorsAlarm",
            "A reconcile invocation failed; the customer's index may still hold what lost events left",
            reconcile.metric_errors(period=_FIVE_MINUTES, statistic="Sum"),
            0,
        )
        self._alarm(
            "QueryErrorsAlarm",
            "The query function failed invocations (timeouts, configuration)",
            query.metric_errors(period=_FIVE_MINUTES, statistic="Sum"),
            0,
        )
        self._alarm(
            "Api5xxAlarm",
            "The query API answered with server errors",
            api.metric_server_error(period=_FIVE_MINUTES, statistic="Sum"),
            0,
        )

    def _alarm(self, construct_id: str, description: str, metric: cloudwatch.IMetric, threshold: float) -> None:
        alarm = cloudwatch.Alarm(
            self._scope,
            construct_id,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[construct_id] = alarm


def indexer_metric(name: str, bucket_name: str) -> cloudwatch.Metric:
    """A count the indexer publishes in the embedded metric format, summed over five minutes."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": METRICS_SERVICE, "bucket": bucket_name},
        statistic="Sum",
        period=_FIVE_MINUTES,
    )
