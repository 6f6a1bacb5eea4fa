"""The ingestion API: producers POST events, API Gateway validates them and puts them into
the stream with Kinesis ``PutRecords``."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.api_gateway_logging import api_gateway_account_logging
from cdk_constructs.gates import acknowledge_nag, skip_checkov
from cdk_constructs.streaming.names import STAGE_NAME
from cdk_constructs.streaming.shared import cfn
from org_config.streaming_schema import (
    AMOUNT_BELOW,
    AMOUNT_SMALLEST,
    EVENT_TIME_PATTERN,
    MAX_STRING_LENGTH,
    REQUIRED_FIELDS,
    STRING_FIELDS,
    TIME_FIELD,
)

MAX_RECORDS_PER_REQUEST = 500  # what one PutRecords call accepts
MAX_PARTITION_KEY_LENGTH = 256


def _event_schema() -> apigateway.JsonSchema:
    """One event, refused unless every reader stores it the same way (the rules are in
    :mod:`org_config.streaming_schema`): required fields present, strings of at most 256
    characters, a UTC time the conversion reads, an amount DynamoDB stores, attributes a
    map of strings (the Glue column's type)."""
    string = apigateway.JsonSchemaType.STRING
    strings = {
        name: apigateway.JsonSchema(type=string, min_length=1, max_length=MAX_STRING_LENGTH) for name in STRING_FIELDS
    }
    # Magnitude below 1E+126 and not between 0 and 1E-130: the numbers DynamoDB stores.
    amount = apigateway.JsonSchema(
        type=apigateway.JsonSchemaType.NUMBER,
        minimum=-AMOUNT_BELOW,
        exclusive_minimum=True,
        maximum=AMOUNT_BELOW,
        exclusive_maximum=True,
        not_=apigateway.JsonSchema(
            minimum=-AMOUNT_SMALLEST,
            exclusive_minimum=True,
            maximum=AMOUNT_SMALLEST,
            exclusive_maximum=True,
            not_=apigateway.JsonSchema(enum=[0]),
        ),
    )
    return apigateway.JsonSchema(
        type=apigateway.JsonSchemaType.OBJECT,
        required=list(REQUIRED_FIELDS),
        properties={
            **strings,
            TIME_FIELD: apigateway.JsonSchema(type=string, pattern=EVENT_TIME_PATTERN),
            "amount": amount,
            "attributes": apigateway.JsonSchema(
                type=apigateway.JsonSchemaType.OBJECT, additional_properties=apigateway.JsonSchema(type=string)
            ),
        },
    )


def put_events_schema() -> apigateway.JsonSchema:
    """The request model: up to 500 records, each a partition key and an event."""
    record = apigateway.JsonSchema(
        type=apigateway.JsonSchemaType.OBJECT,
        required=["partition_key", "data"],
        additional_properties=False,
        properties={
            "partition_key": apigateway.JsonSchema(
                type=apigateway.JsonSchemaType.STRING, min_length=1, max_length=MAX_PARTITION_KEY_LENGTH
            ),
            "data": _event_schema(),
        },
    )
    return apigateway.JsonSchema(
        schema=apigateway.JsonSchemaVersion.DRAFT4,
        type=apigateway.JsonSchemaType.OBJECT,
        required=["records"],
        additional_properties=False,
        properties={
            "records": apigateway.JsonSchema(
                type=apigateway.JsonSchemaType.ARRAY, min_items=1, max_items=MAX_RECORDS_PER_REQUEST, items=record
            )
        },
    )


def put_records_template(stream_name: str) -> str:
    """The integration's mapping template: the validated body as a ``PutRecords`` request.

    Each record's data is the event as JSON, base64-encoded as PutRecords expects; the
    partition key comes from the request (the producer chooses it, e.g. the customer id).
    """
    return (
        "{\n"
        f'  "StreamName": "{stream_name}",\n'
        '  "Records": [\n'
        "#foreach($record in $input.path('$.records'))\n"
        "    {\n"
        '      "Data": "$util.base64Encode($input.json("$.records[$foreach.index].data"))",\n'
        # $input.json quotes and escapes the key as JSON ($util.escapeJavaScript would turn ' into \', not JSON).
        '      "PartitionKey": $input.json("$.records[$foreach.index].partition_key")\n'
        "    }#if($foreach.hasNext),#end\n"
        "#end\n"
        "  ]\n"
        "}"
    )


class IngestionApi:
    """A regional REST API (``IngestionApi``) with one method, ``POST /events``, integrated
    directly with Kinesis ``PutRecords`` through a role of its own (``ApiPutRecordsRole``).

    Secure defaults: IAM (SigV4) authorization on every method; the body validated against
    the request model before the integration runs, and passed on only in that shape
    (passthrough never); the stage throttled to ``rate_limit_per_second`` and
    ``burst_limit``, with JSON access logs to ``access_logs``, error-level execution logs,
    no data trace (it would log the events themselves), metrics and X-Ray tracing; the role
    may only put records into the stream and generate data keys for it, and only API
    Gateway in this account may assume it. When no other stack of the account sets API
    Gateway's account logging role (``logging_role_exists``), this API sets it.

    ``api`` (the L2 REST API), ``put_role``, ``model`` and ``method`` are the constructs.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        stream: kinesis.IStream,
        key: kms.IKey,
        access_logs: logs.ILogGroup,
        rate_limit_per_second: int,
        burst_limit: int,
        logging_role_exists: bool,
    ) -> None:
        stack = Stack.of(scope)
        self.put_role = iam.Role(
            scope,
            "ApiPutRecordsRole",
            assumed_by=iam.ServicePrincipal(
                "apigateway.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="Lets the ingestion API put records into the stream",
        )
        self.put_role.add_to_policy(
            iam.PolicyStatement(sid="PutRecords", actions=["kinesis:PutRecords"], resources=[stream.stream_arn])
        )
        self.put_role.add_to_policy(
            iam.PolicyStatement(sid="EncryptRecords", actions=["kms:GenerateDataKey"], resources=[key.key_arn])
        )
        self.api = apigateway.RestApi(
            scope,
            "IngestionApi",
            # The API's 5XX metric is per API name: a name of its own keeps other APIs out of the alarm.
            rest_api_name=f"{stack.stack_name}-ingestion",
            description="Streaming pipeline: producers put events into the stream (PutRecords)",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=False,
            default_method_options=apigateway.MethodOptions(authorization_type=apigateway.AuthorizationType.IAM),
            deploy_options=_stage_options(access_logs, rate_limit_per_second, burst_limit),
        )
        if not logging_role_exists:
            self.api.deployment_stage.node.add_dependency(api_gateway_account_logging(stack))
        self.model = self.api.add_model(
            "PutEvents", content_type="application/json", model_name="PutEvents", schema=put_events_schema()
        )
        validator = self.api.add_request_validator("Body", validate_request_body=True, validate_request_parameters=True)
        integration = apigateway.AwsIntegration(
            service="kinesis",
            action="PutRecords",
            integration_http_method="POST",
            options=apigateway.IntegrationOptions(
                credentials_role=self.put_role,
                passthrough_behavior=apigateway.PassthroughBehavior.NEVER,  # only the validated JSON shape
                request_templates={"application/json": put_records_template(stream.stream_name)},
                integration_responses=[
                    # PutRecords answers 200 even when some records failed: FailedRecordCount and
                    # each record's ErrorCode go back to the producer, which retries those records.
                    apigateway.IntegrationResponse(status_code="200"),
                    apigateway.IntegrationResponse(status_code="400", selection_pattern="4\\d{2}"),
                    apigateway.IntegrationResponse(status_code="500", selection_pattern="5\\d{2}"),
                ],
            ),
        )
        self.method = self.api.root.add_resource("events").add_method(
            "POST",
            integration,
            authorization_type=apigateway.AuthorizationType.IAM,
            request_validator=validator,
            request_models={"application/json": self.model},
            method_responses=[apigateway.MethodResponse(status_code=code) for code in ("200", "400", "500")],
        )
        self._record_gate_decisions()

    def _record_gate_decisions(self) -> None:
        acknowledge_nag(
            self.method,
            "AwsSolutions-COG4",
            "Producers are AWS principals authorized with IAM (SigV4), not end users of a "
            "Cognito user pool; this method requires IAM authorization.",
        )
        stage = cfn(self.api.deployment_stage)
        acknowledge_nag(
            stage,
            "AwsSolutions-APIG3",
            "The only method requires SigV4-signed requests (IAM authorization), which API "
            "Gateway checks before the integration runs, and the stage is throttled; a web ACL "
            "would add per-request cost without a threat it stops for such an API.",
        )
        skip_checkov(
            stage,
            "CKV_AWS_120",
            "Every request writes new events; a stage cache would answer a write from cache and "
            "bill an always-on cache cluster.",
        )


def _stage_options(access_logs: logs.ILogGroup, rate_limit: int, burst_limit: int) -> apigateway.StageOptions:
    fields: dict[str, Any] = dict.fromkeys(
        (
            "caller",
            "http_method",
            "ip",
            "protocol",
            "request_time",
            "resource_path",
            "response_length",
            "status",
            "user",
        ),
        True,
    )
    return apigateway.StageOptions(
        stage_name=STAGE_NAME,
        access_log_destination=apigateway.LogGroupLogDestination(access_logs),
        access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(**fields),
        logging_level=apigateway.MethodLoggingLevel.ERROR,
        data_trace_enabled=False,  # full request logging would log the events themselves
        metrics_enabled=True,
        tracing_enabled=True,
        throttling_rate_limit=rate_limit,
        throttling_burst_limit=burst_limit,
    )
