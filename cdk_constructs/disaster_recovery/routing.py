"""This region's answer for the workload's name: Route 53 health checks and a record."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_route53 as route53
from constructs import Construct

from cdk_constructs.disaster_recovery.plan import HEALTH_PATH, STAGE_NAME


class HealthCheckedRecord:
    """Part (see the package docstring): the region's health, and a CNAME of
    ``domain_name`` to the custom domain's regional name that Route 53 answers only while
    the region is healthy.

    Healthy means both halves of a calculated health check (``region_check``): the API
    answers (``health_check``: HTTPS ``GET /health`` on the API's own execute-api name,
    answered by API Gateway), and the database and the files answer (``probe_check``: the
    probe's alarm is OK; no data counts as unhealthy). Neither half runs the service
    function, and no caller of the API can make the probe fail. ``routing`` ``failover``
    makes the record a ``failover_role`` record (PRIMARY or SECONDARY), ``latency`` a
    latency record of this region. ``health_check``, ``probe_check``, ``region_check``
    and ``record`` are the L1s."""

    def __init__(
        self,
        scope: Construct,
        *,
        api: apigateway.RestApi,
        domain: apigateway.CfnDomainName,
        probe_alarm: cloudwatch.Alarm,
        domain_name: str,
        hosted_zone_id: str,
        routing: str,
        failover_role: str,
        ttl_seconds: int,
        interval_seconds: int,
        failure_threshold: int,
    ) -> None:
        stack = Stack.of(scope)
        self.health_check = route53.CfnHealthCheck(
            scope,
            "HealthCheck",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="HTTPS",
                fully_qualified_domain_name=f"{api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}",
                resource_path=f"/{STAGE_NAME}{HEALTH_PATH}",
                port=443,
                request_interval=interval_seconds,
                failure_threshold=failure_threshold,
            ),
            health_check_tags=[
                route53.CfnHealthCheck.HealthCheckTagProperty(key="Name", value=f"{domain_name}-{stack.region}")
            ],
        )
        self.probe_check = route53.CfnHealthCheck(
            scope,
            "ProbeHealthCheck",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="CLOUDWATCH_METRIC",
                alarm_identifier=route53.CfnHealthCheck.AlarmIdentifierProperty(
                    name=probe_alarm.alarm_name, region=stack.region
                ),
                insufficient_data_health_status="Unhealthy",
            ),
            health_check_tags=[
                route53.CfnHealthCheck.HealthCheckTagProperty(key="Name", value=f"{domain_name}-{stack.region}-data")
            ],
        )
        self.region_check = route53.CfnHealthCheck(
            scope,
            "RegionHealthCheck",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="CALCULATED",
                child_health_checks=[self.health_check.attr_health_check_id, self.probe_check.attr_health_check_id],
                health_threshold=2,  # both
            ),
            health_check_tags=[
                route53.CfnHealthCheck.HealthCheckTagProperty(key="Name", value=f"{domain_name}-{stack.region}-region")
            ],
        )
        self.record = route53.CfnRecordSet(
            scope,
            "Record",
            hosted_zone_id=hosted_zone_id,
            name=f"{domain_name}.",
            type="CNAME",
            ttl=str(ttl_seconds),
            resource_records=[domain.attr_regional_domain_name],
            set_identifier=stack.region,
            health_check_id=self.region_check.attr_health_check_id,
            failover=failover_role if routing == "failover" else None,
            region=stack.region if routing == "latency" else None,
        )
