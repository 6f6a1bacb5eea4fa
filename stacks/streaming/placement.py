"""Where the streaming pipeline's stacks go: the configured workload account, home region."""

from __future__ import annotations

from aws_cdk import Environment, Stack
from constructs import Construct

from org_config.model import OrgConfig
from stacks.streaming.data import StreamingDataStack
from stacks.streaming.pipeline import StreamingPipelineStack


def build_streaming(scope: Construct, config: OrgConfig, *, object_index_api: Stack | None = None) -> list[Stack]:
    """The data stack, then the pipeline stack that depends on it.

    API Gateway's logging role is one setting per account and region: when the object
    index's API stack is in the same account it sets it, and the pipeline waits for it.
    """
    if config.streaming_section is None:
        return []
    home = config.regions.home
    account = config.account_named(config.streaming.account).id
    workload = Environment(account=account, region=home)
    sizing = config.streaming.sizing()
    data = StreamingDataStack(
        scope,
        f"streaming-data-{home}",
        config=config,
        sizing=sizing,
        env=workload,
        description=(
            "Streaming pipeline: stream, data lake, Glue table, events table, queue, key, topic (workload account)"
        ),
        termination_protection=True,  # holds the stream and the data lake
    )
    shares_logging_role = object_index_api is not None and object_index_api.account == account
    pipeline = StreamingPipelineStack(
        scope,
        f"streaming-pipeline-{home}",
        config=config,
        sizing=sizing,
        data=data,
        api_gateway_logging_role_exists=shares_logging_role,
        env=workload,
        description="Streaming pipeline: ingestion API, consumers, Firehose, Flink, alarms (workload account)",
    )
    pipeline.add_stack_dependency(data, "the pipeline reads the stream and writes the stores")
    if shares_logging_role and object_index_api is not None:
        pipeline.add_stack_dependency(object_index_api, "it sets API Gateway's logging role for the account")
    return [data, pipeline]
