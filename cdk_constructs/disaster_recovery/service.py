"""One region's service: the function, the REST API on the workload's name, and the
health-checked record that sends clients to this region.

    client ─► <record>.<zone> (Route 53 record, answered while this region is healthy)
           ─► API Gateway custom domain (regional, TLS 1.2, ACM certificate)
           ─► web ACL (per-IP rate limit, known bad inputs) ─► REST API stage (throttled)
               GET /files/{name} (IAM) ─► function (in the shared subnets) ─► Aurora (this region)
                                                                          └─► user-files bucket
               GET /health (open) ─► answered by API Gateway (mock), no function
    probe (every minute) ─► database + bucket ─► alarm ┐
    Route 53: HTTPS check of GET /health  AND  the probe's alarm ─► this region's health
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_constructs.disaster_recovery.database import WorkloadDatabase
from cdk_constructs.disaster_recovery.health import HealthProbe
from cdk_constructs.disaster_recovery.plan import RegionPlan
from cdk_constructs.disaster_recovery.regional_api import CustomDomain, RegionalApi
from cdk_constructs.disaster_recovery.routing import HealthCheckedRecord
from cdk_constructs.disaster_recovery.service_function import ServiceFunction
from cdk_constructs.disaster_recovery.subnets import SharedSubnets
from cdk_constructs.disaster_recovery.web_acl import ApiWebAcl
from org_config.model import DisasterRecovery


class RegionalService(Construct):
    """The workload's front of one region, built from ``plan`` and the config's
    ``settings`` (memory, log retention, record name and timing).

    Secure defaults are those of its parts: the function in the shared subnets with least
    privilege, ``GET /files/{name}`` behind IAM, only ``GET /health`` open and answered
    without the function, the stage throttled (``settings.api_rate_limit_per_second``,
    ``api_burst_limit``) behind a web ACL with a per-IP rate limit, TLS 1.2 on the custom
    domain, and AWS services may invoke the functions only for this account.
    ``function``, ``api``, ``web_acl``, ``domain``, ``probe`` and ``routing`` are the
    parts; the L2/L1 resources are their attributes (``api.api``, ``routing.record``...).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: RegionPlan,
        settings: DisasterRecovery,
        subnets: SharedSubnets,
        database: WorkloadDatabase | None,
        key: kms.IKey,
        files_bucket_name: str,
        files_key_alias: str,
        hosted_zone_id: str,
        failover_role: str,
    ) -> None:
        super().__init__(scope, construct_id)
        domain_name = f"{settings.record_name}.{settings.hosted_zone_name}"
        self.function = ServiceFunction(
            self,
            plan=plan,
            subnets=subnets,
            database=database,
            key=key,
            files_bucket_name=files_bucket_name,
            files_key_alias=files_key_alias,
            memory_mb=settings.function_memory_mb,
            log_retention_days=settings.log_retention_days,
        )
        self.api = RegionalApi(
            self,
            handler=self.function.alias,
            key=key,
            log_retention_days=settings.log_retention_days,
            rate_limit_per_second=settings.api_rate_limit_per_second,
            burst_limit=settings.api_burst_limit,
        )
        self.domain = CustomDomain(self, api=self.api.api, domain_name=domain_name, hosted_zone_id=hosted_zone_id)
        self.web_acl = ApiWebAcl(
            self,
            api=self.api.api,
            key=key,
            log_retention_days=settings.log_retention_days,
            requests_per_ip_per_5_minutes=settings.waf_requests_per_ip_per_5_minutes,
        )
        self.probe = HealthProbe(
            self,
            subnets=subnets,
            security_group=self.function.security_group,
            database=database,
            key=key,
            files_bucket_name=files_bucket_name,
            log_retention_days=settings.log_retention_days,
            failure_threshold=settings.health_check_failure_threshold,
        )
        self._confine_invoke_permissions()
        self.routing = HealthCheckedRecord(
            self,
            api=self.api.api,
            domain=self.domain.domain,
            probe_alarm=self.probe.alarm,
            domain_name=domain_name,
            hosted_zone_id=hosted_zone_id,
            routing=plan.routing,
            failover_role=failover_role,
            ttl_seconds=settings.record_ttl_seconds,
            interval_seconds=settings.health_check_interval_seconds,
            failure_threshold=settings.health_check_failure_threshold,
        )

    def _confine_invoke_permissions(self) -> None:
        # API Gateway and EventBridge may invoke the functions only for this account's API and
        # rule: SourceAccount next to the SourceArn the CDK writes (confused-deputy
        # protection, as CT.LAMBDA.PR.2 asks).
        for construct in self.node.find_all():
            if isinstance(construct, lambda_.CfnPermission):
                construct.source_account = Stack.of(self).account
