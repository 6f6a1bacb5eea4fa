"""The object index's REST API: six GET routes onto the query function, and its access log group."""

from __future__ import annotations

import typing

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from cdk_constructs.gates import acknowledge_nag, exempt_control, skip_checkov
from cdk_constructs.object_index.contract import STAGE_NAME


class ApiAccessLogs(logs.LogGroup):
    """The API's access log group: encrypted with ``key`` (of the data stack), kept ``retention_days``."""

    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, retention_days: int) -> None:
        super().__init__(scope, construct_id, encryption_key=key)
        # The config gives days and validates them against what CloudWatch Logs accepts.
        typing.cast(logs.CfnLogGroup, self.node.default_child).retention_in_days = retention_days
        exempt_control(
            self,
            "CT.CLOUDWATCH.PR.3",
            "Encrypted with the data stack's customer-managed key; the rule does not resolve the "
            "Fn::GetStackOutput that carries that key's ARN and sees no key.",
        )


class QueryApi(apigateway.RestApi):
    """The query API: a regional REST API whose every route is a GET onto ``handler``.

    Secure defaults: IAM (SigV4) authorization on every method; a resource policy that refuses
    every caller but the operator role and the customer roles, and the cross-customer route to
    all but the operator, before the function runs; request parameters validated; the stage
    throttled to ``rate_limit`` / ``burst_limit`` (the by-day route, four queries per page, to a
    quarter of both); JSON access logs to ``access_logs``; ERROR execution logging without
    request or response data (which would log customer data); X-Ray tracing; the function
    invocable by API Gateway only for this account's API. ``account_logging`` is the account's
    API Gateway logging setting the stage waits for.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: lambda_.IFunction,
        access_logs: logs.ILogGroup,
        account_logging: IConstruct,
        operator_role_arn: str,
        customer_roles_arn: str,
        rate_limit: int,
        burst_limit: int,
    ) -> None:
        stack = Stack.of(scope)
        super().__init__(
            scope,
            construct_id,
            # The API's 5XX metric is per API name: a name of its own keeps other APIs out of the alarm.
            rest_api_name=f"{stack.stack_name}-query",
            description="S3 object index: objects by customer, date, attribute and day; totals per customer",
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            policy=caller_policy(operator_role_arn=operator_role_arn, customer_roles_arn=customer_roles_arn),
            cloud_watch_role=False,  # the account's API Gateway logging role is set by the stack, explicitly
            default_method_options=apigateway.MethodOptions(authorization_type=apigateway.AuthorizationType.IAM),
            deploy_options=_stage_options(access_logs, rate_limit, burst_limit),
        )
        self.deployment_stage.node.add_dependency(account_logging)
        self.validator = self.add_request_validator(
            "Parameters",
            validate_request_parameters=True,
            validate_request_body=True,  # no method takes a body; a body without a model is not checked
        )
        self._integration = apigateway.LambdaIntegration(handler, allow_test_invoke=False)

        customer = self.root.add_resource("customers").add_resource("{customer_id}")
        objects = customer.add_resource("objects")
        self._get(objects)
        self._get(customer.add_resource("object"), required=("path",), paged=False)
        self._get(customer.add_resource("totals"), paged=False)
        self._get(objects.add_resource("by-attribute"), required=("name", "value"))
        self._get(objects.add_resource("by-date"), required=("start", "end"))
        self._get(self.root.add_resource("uploads").add_resource("by-day"), required=("date",))

        stage = typing.cast(CfnResource, self.deployment_stage.node.default_child)
        acknowledge_nag(
            stage,
            "AwsSolutions-APIG3",
            "Every method requires SigV4-signed requests (IAM authorization), which API Gateway "
            "checks before any integration runs, and the stage is throttled; a web ACL would add "
            "per-request cost without a threat it stops for such an API.",
        )
        skip_checkov(
            stage,
            "CKV_AWS_120",
            "Pages change as objects are indexed and every response is specific to its caller's "
            "query; a stage cache would serve stale pages and bill an always-on cache cluster.",
        )
        # API Gateway may invoke the query function only for this account's API: SourceAccount
        # next to the SourceArn the CDK writes (confused-deputy protection, and what AWS
        # Control Tower's CT.LAMBDA.PR.2 looks for).
        for construct in self.node.find_all():
            if isinstance(construct, lambda_.CfnPermission):
                construct.source_account = stack.account

    def _get(self, resource: apigateway.IResource, *, required: tuple[str, ...] = (), paged: bool = True) -> None:
        """A GET method on ``resource``: IAM-authorized, its query string parameters validated."""
        parameters = {f"method.request.querystring.{name}": True for name in required}
        if paged:
            parameters.update({f"method.request.querystring.{name}": False for name in ("limit", "next_token")})
        if "{customer_id}" in resource.path:
            parameters["method.request.path.customer_id"] = True
        method = resource.add_method(
            "GET",
            self._integration,
            authorization_type=apigateway.AuthorizationType.IAM,
            request_validator=self.validator,
            request_parameters=parameters,
        )
        acknowledge_nag(
            method,
            "AwsSolutions-COG4",
            "Callers are AWS principals authorized with IAM (SigV4), not end users of a "
            "Cognito user pool; this method requires IAM authorization.",
        )


def _stage_options(access_logs: logs.ILogGroup, rate: int, burst: int) -> apigateway.StageOptions:
    return apigateway.StageOptions(
        stage_name=STAGE_NAME,
        access_log_destination=apigateway.LogGroupLogDestination(access_logs),
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
        data_trace_enabled=False,  # full request and response logging would log customer data
        metrics_enabled=True,
        tracing_enabled=True,
        throttling_rate_limit=rate,
        throttling_burst_limit=burst,
        method_options={
            # Four queries per page (one per day shard): a quarter of the rate and burst.
            # Settings of one method replace the stage's, so logging and metrics repeat.
            "/uploads/by-day/GET": apigateway.MethodDeploymentOptions(
                throttling_rate_limit=rate / 4,
                throttling_burst_limit=burst // 4,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                metrics_enabled=True,
            )
        },
    )


def caller_policy(*, operator_role_arn: str, customer_roles_arn: str) -> iam.PolicyDocument:
    """The API's resource policy: a second fence around what the query function checks.

    Callers still need ``execute-api:Invoke`` in their own policies; this only denies. Every
    caller but the operator role and the customer roles is refused before the function
    runs, and the cross-customer route is the operator's alone. Which customer a customer
    role may read is checked by the function (the route's customer against the role name).
    """
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="OnlyOperatorAndCustomerRoles",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["execute-api:Invoke"],
                resources=["execute-api:/*"],
                conditions={"ArnNotLike": {"aws:PrincipalArn": [operator_role_arn, customer_roles_arn]}},
            ),
            iam.PolicyStatement(
                sid="AllCustomersForOperatorOnly",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["execute-api:Invoke"],
                resources=["execute-api:/*/GET/uploads/*"],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": operator_role_arn}},
            ),
        ]
    )
