"""The object_index section: the S3 object index and its query API.

The section is optional: without it the pattern is not deployed. When it is present,
``account`` is required (there is no default account); every other key has a default.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from org_config.common import _ROLE_NAME, LogRetentionDays, OptionalEmail, _Model, raise_problems


class ObjectIndex(_Model):
    """Pattern 4: the S3 object index and its query API."""

    # Name of the account the pattern is deployed to (a workload account); required.
    account: str
    # An address subscribed to the alarm topic (optional: subscribe others to the topic).
    alarm_email: OptionalEmail = None
    # Query API throttling: the steady request rate and the burst (token bucket size) across
    # all callers. The all-customers by-day route costs four queries per page and gets a
    # quarter of both, hence at least 4.
    api_rate_limit_per_second: Annotated[int, Field(ge=4, le=10_000)] = 50
    api_burst_limit: Annotated[int, Field(ge=4, le=5_000)] = 100
    # Who may call the query API: the operator role reads every route; a role named with the
    # customer prefix followed by a customer id reads that customer's routes only.
    operator_role_name: Annotated[str, Field(pattern=_ROLE_NAME)] = "object-index-operator"
    customer_role_prefix: Annotated[str, Field(pattern=r"^[A-Za-z0-9+=,.@_-]{1,63}$")] = "object-index-customer-"
    # Indexer sizing: the sustained S3 event rate (uploads and deletes per second) to carry,
    # the time one event takes (a consistent GetItem, a HeadObject and a TransactWriteItems
    # in sequence; calibrate it from the function's Duration divided by the batch size), and
    # spare capacity on top so a backlog drains. The concurrency follows (indexer_concurrency).
    indexer_target_events_per_second: Annotated[int, Field(ge=1, le=100_000)] = 50
    indexer_milliseconds_per_event: Annotated[int, Field(ge=10, le=10_000)] = 100
    indexer_headroom_percent: Annotated[int, Field(ge=0, le=400)] = 50
    # The account's Lambda concurrent-executions quota (1,000 unless raised).
    account_concurrency_quota: Annotated[int, Field(ge=1_000)] = 1_000
    query_reserved_concurrency: Annotated[int, Field(ge=1, le=1_000)] = 20
    # Reconcile invocations that may run at once (each walks one customer).
    reconcile_reserved_concurrency: Annotated[int, Field(ge=1, le=10)] = 2
    # How long an S3 event may wait in the queue before SQS deletes it (SQS allows 1 to 14
    # days); the backlog alarms are derived from it.
    event_retention_days: Annotated[int, Field(ge=1, le=14)] = 4
    # Alarm when the oldest S3 event has waited this long (a latency objective, far below
    # the retention).
    oldest_event_alarm_minutes: Annotated[int, Field(ge=1, le=1_440)] = 15
    # Retention of the function and API access logs (checkov asks for at least a year).
    log_retention_days: LogRetentionDays = 365
    # Lifecycle of the customer objects in the data bucket.
    transition_to_infrequent_access_days: Annotated[int, Field(ge=30)] = 90
    transition_to_glacier_days: Annotated[int, Field(ge=1)] = 365
    expire_after_days: Annotated[int, Field(ge=1)] = 3650
    noncurrent_versions_expire_after_days: Annotated[int, Field(ge=1)] = 30

    @property
    def indexer_concurrency(self) -> int:
        """Concurrent indexer invocations for the target rate plus headroom (at least 2, the
        event source's minimum): target x seconds per event x (1 + headroom), rounded up."""
        needed = self.indexer_target_events_per_second * self.indexer_milliseconds_per_event
        needed *= 100 + self.indexer_headroom_percent
        return max(2, -(-needed // 100_000))

    @property
    def indexer_sustained_events_per_second(self) -> int:
        """The event rate ``indexer_concurrency`` invocations carry, each one event at a time."""
        return self.indexer_concurrency * 1000 // self.indexer_milliseconds_per_event

    def reserved_concurrency(self) -> int:
        """Concurrent executions the pattern's three functions reserve in their account: the
        indexer's (derived from the target rate), the query function's and the reconcile
        function's."""
        return self.indexer_concurrency + self.query_reserved_concurrency + self.reconcile_reserved_concurrency

    @model_validator(mode="after")
    def _consistent(self) -> ObjectIndex:
        problems: list[str] = []
        if self.transition_to_glacier_days <= self.transition_to_infrequent_access_days:
            problems.append(
                "object_index.transition_to_glacier_days: must be later than transition_to_infrequent_access_days"
            )
        if self.expire_after_days <= self.transition_to_glacier_days:
            problems.append("object_index.expire_after_days: must be later than transition_to_glacier_days")
        if self.operator_role_name.startswith(self.customer_role_prefix):
            problems.append(
                "object_index.operator_role_name: must not start with customer_role_prefix "
                f"'{self.customer_role_prefix}', or it would name a customer's role"
            )
        concurrency = self.indexer_concurrency
        if concurrency > 1_000:
            problems.append(
                f"object_index.indexer_target_events_per_second: {self.indexer_target_events_per_second} events/s "
                f"needs {concurrency} concurrent indexer invocations; an SQS event source runs at most 1000"
            )
        reserved = self.reserved_concurrency()
        if reserved > self.account_concurrency_quota - 100:
            problems.append(
                f"object_index.indexer_target_events_per_second: the indexer ({concurrency}), query "
                f"({self.query_reserved_concurrency}) and reconcile ({self.reconcile_reserved_concurrency}) "
                f"functions reserve {reserved} concurrent executions, more than account_concurrency_quota "
                f"({self.account_concurrency_quota}) less the 100 Lambda keeps unreserved"
            )
        if self.oldest_event_alarm_minutes * 60 * 2 >= self.event_retention_days * 86_400:
            problems.append(
                "object_index.oldest_event_alarm_minutes: must be less than half of event_retention_days, "
                "so the alarm fires long before an event can expire"
            )
        raise_problems(problems)
        return self
