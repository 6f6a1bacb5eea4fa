"""One region's service: the function, the REST API on the workload's name, and the
health-checked record that sends clients to this region.

    client ─► <record>.<zone> (Route 53 record, answered while this region's health check passes)
           ─► API Gateway custom domain (regional, TLS 1.2, ACM certificate) ─► REST API
           ─► function (Lambda, in the shared subnets) ─► Aurora PostgreSQL (this region's endpoint)
                                                      └─► user-files bucket (this region's copy)
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_constructs.disaster_recovery.database import WorkloadDatabase
from cdk_constructs.disaster_recovery.plan import RegionPlan
from cdk_constructs.disaster_recovery.regional_api import CustomDomain, RegionalApi
from cdk_constructs.disaster_recovery.routing import HealthCheckedRecord
from cdk_constructs.disaster_recovery.service_function import ServiceFunction
from cdk_constructs.disaster_recovery.subnets import SharedSubnets
from org_config.model import DisasterRecovery


class RegionalService(Construct):
    """The workload's front of one region, built from ``plan`` and the config's
    ``settings`` (memory, log retention, record name and timing).

    Secure defaults are those of its parts: the function in the shared subnets with least
    privilege, ``GET /files/{name}`` behind IAM, only ``GET /health`` open, TLS 1.2 on the
    custom domain, and API Gateway may invoke the function only from this account's API.
    ``function``, ``api``, ``domain`` and ``routing`` are the parts; the L2/L1 resources
    are their attributes (``api.api``, ``routing.health_check``, ``routing.record``...).
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
            self, handler=self.function.alias, key=key, log_retention_days=settings.log_retention_days
        )
        self.domain = CustomDomain(self, api=self.api.api, domain_name=domain_name, hosted_zone_id=hosted_zone_id)
        self._confine_invoke_permissions()
        self.routing = HealthCheckedRecord(
            self,
            api=self.api.api,
            domain=self.domain.domain,
            domain_name=domain_name,
            hosted_zone_id=hosted_zone_id,
            routing=plan.routing,
            failover_role=failover_role,
            ttl_seconds=settings.record_ttl_seconds,
            interval_seconds=settings.health_check_interval_seconds,
            failure_threshold=settings.health_check_failure_threshold,
        )

    def _confine_invoke_permissions(self) -> None:
        # API Gateway may invoke the function only for this account's API: SourceAccount next
        # to the SourceArn the CDK writes (confused-deputy protection, as CT.LAMBDA.PR.2 asks).
        for construct in self.node.find_all():
            if isinstance(construct, lambda_.CfnPermission):
                construct.source_account = Stack.of(self).account
