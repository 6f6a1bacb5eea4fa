"""The workload's REST API: the routes, the stage, and the custom domain clients use."""

from __future__ import annotations

import typing

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.disaster_recovery.plan import (
    HEALTH_BURST_LIMIT,
    HEALTH_PATH,
    HEALTH_RATE_LIMIT_PER_SECOND,
    STAGE_NAME,
)
from cdk_constructs.gates import acknowledge_nag, skip_checkov


def _cfn(construct: Construct) -> CfnResource:
    return typing.cast(CfnResource, construct.node.default_child)


class RegionalApi:
    """Part (see the package docstring): a regional REST API with the two routes of the
    workload.

    Secure defaults: ``GET /files/{name}`` invokes ``handler`` and needs IAM (SigV4) and a
    validated path parameter; ``GET /health`` is unauthenticated (Route 53 health checkers
    cannot sign requests) and answered by API Gateway itself (a mock integration: no
    function, so no request to it can use the service's concurrency), with a throttle of
    its own; every other method is throttled at ``rate_limit_per_second`` and
    ``burst_limit``. Access logs in JSON to a log group encrypted with ``key``; errors
    logged, no data traces; X-Ray tracing on. The account's API Gateway logging role is
    not set here (one per account and region). ``access_logs`` (L2), ``api`` (L2),
    ``health_method`` and ``files_method`` (L2).
    """

    def __init__(
        self,
        scope: Construct,
        *,
        handler: lambda_.IFunction,
        key: kms.IKey,
        log_retention_days: int,
        rate_limit_per_second: int,
        burst_limit: int,
    ) -> None:
        stack = Stack.of(scope)
        self.access_logs = logs.LogGroup(scope, "ApiAccessLogs", encryption_key=key)
        _cfn(self.access_logs).add_property_override("RetentionInDays", log_retention_days)
        self.api = apigateway.RestApi(
            scope,
            "Api",
            rest_api_name=f"{stack.stack_name}-api",
            description="DR sample workload",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            cloud_watch_role=False,  # the account's logging role is set once per region, by the stack
            disable_execute_api_endpoint=False,  # Route 53 checks the health path on it, not on the custom name
            deploy_options=apigateway.StageOptions(
                stage_name=STAGE_NAME,
                access_log_destination=apigateway.LogGroupLogDestination(self.access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=rate_limit_per_second,
                throttling_burst_limit=burst_limit,
                method_options={
                    f"{HEALTH_PATH}/GET": apigateway.MethodDeploymentOptions(
                        throttling_rate_limit=HEALTH_RATE_LIMIT_PER_SECOND,
                        throttling_burst_limit=HEALTH_BURST_LIMIT,
                        logging_level=apigateway.MethodLoggingLevel.ERROR,
                        metrics_enabled=True,
                        data_trace_enabled=False,
                    )
                },
            ),
        )
        self._add_routes(handler)
        stage = _cfn(self.api.deployment_stage)
        skip_checkov(
            stage,
            "CKV_AWS_120",
            "Health answers must be live and files are per caller; a cache would serve stale ones.",
        )

    def _add_routes(self, handler: lambda_.IFunction) -> None:
        """GET /health (mock, open) and GET /files/{name} (the function, IAM)."""
        validator = self.api.add_request_validator(
            "Parameters",
            validate_request_parameters=True,
            validate_request_body=True,  # no method takes a body; a body without a model is not checked
        )
        integration = apigateway.LambdaIntegration(handler, allow_test_invoke=False)
        alive = apigateway.MockIntegration(
            request_templates={"application/json": '{"statusCode": 200}'},
            passthrough_behavior=apigateway.PassthroughBehavior.NEVER,  # a request with another body type: 415
            integration_responses=[
                apigateway.IntegrationResponse(
                    status_code="200", response_templates={"application/json": '{"status": "up"}'}
                )
            ],
        )
        self.health_method = self.api.root.add_resource(HEALTH_PATH.strip("/")).add_method(
            "GET",
            alive,
            authorization_type=apigateway.AuthorizationType.NONE,
            method_responses=[apigateway.MethodResponse(status_code="200")],
        )
        for rule, reason in (
            ("AwsSolutions-APIG4", "Route 53 health checkers cannot sign requests; /health returns only up or down."),
            ("AwsSolutions-COG4", "Route 53 health checkers cannot sign requests; /health returns only up or down."),
        ):
            acknowledge_nag(self.health_method, rule, reason)
        skip_checkov(
            _cfn(self.health_method),
            "CKV_AWS_59",
            "Route 53 health checkers cannot sign requests; /health returns only whether this region can serve.",
        )
        self.files_method = (
            self.api.root.add_resource("files")
            .add_resource("{name}")
            .add_method(
                "GET",
                integration,
                authorization_type=apigateway.AuthorizationType.IAM,
                request_validator=validator,
                request_parameters={"method.request.path.name": True},
            )
        )
        acknowledge_nag(
            self.files_method,
            "AwsSolutions-COG4",
            "Callers are AWS principals authorized with IAM (SigV4), not users of a Cognito user pool.",
        )


class CustomDomain:
    """Part (see the package docstring): ``domain_name`` on the API's stage, with a
    DNS-validated ACM certificate (validation records in ``hosted_zone_id``); regional
    endpoint, TLS 1.2 at least. ``certificate``, ``domain`` and ``mapping`` are the L1s."""

    def __init__(
        self,
        scope: Construct,
        *,
        api: apigateway.RestApi,
        domain_name: str,
        hosted_zone_id: str,
    ) -> None:
        self.certificate = acm.CfnCertificate(
            scope,
            "Certificate",
            domain_name=domain_name,
            validation_method="DNS",
            domain_validation_options=[
                acm.CfnCertificate.DomainValidationOptionProperty(
                    domain_name=domain_name, hosted_zone_id=hosted_zone_id
                )
            ],
        )
        self.domain = apigateway.CfnDomainName(
            scope,
            "Domain",
            domain_name=domain_name,
            regional_certificate_arn=self.certificate.ref,
            endpoint_configuration=apigateway.CfnDomainName.EndpointConfigurationProperty(types=["REGIONAL"]),
            security_policy="TLS_1_2",
        )
        self.mapping = apigateway.CfnBasePathMapping(
            scope,
            "Mapping",
            domain_name=self.domain.ref,
            rest_api_id=api.rest_api_id,
            stage=api.deployment_stage.stage_name,
        )
