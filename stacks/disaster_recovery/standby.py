"""The DR region's workload, from pilot light up (backup-restore has none).

    app.<zone>: this region's record (failover secondary, or latency) ◄─ health check
    API + function (switched off, minimum or production size) ─► Aurora secondary cluster
                                                               └─► replica files bucket (recovery stack)
    Aurora secondary cluster: storage replicated from the home primary; no instance (pilot
    light), a reader (warm standby) or production size (multi-site, with write forwarding
    when configured)

The hosted zone lives in the home stack; this stack finds its id at deploy time by name
(Route 53 ``ListHostedZonesByName``) for the certificate's DNS validation and the record.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Fn, Stack
from constructs import Construct

from cdk_constructs.api_gateway_logging import api_gateway_account_logging
from cdk_constructs.deploy_time_lookup import DeployTimeCall, allow, harden_provider
from org_config.model import OrgConfig
from org_config.names import dr_files_bucket_name, dr_global_cluster_id, dr_key_alias
from stacks.disaster_recovery import RegionPlan
from stacks.disaster_recovery.common import service_key
from stacks.disaster_recovery.home import shared_subnets
from stacks.disaster_recovery.workload import RegionalService, WorkloadDatabase


class DrStandbyStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: OrgConfig, plan: RegionPlan, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = config.disaster_recovery
        data_key_arn = f"arn:{self.partition}:kms:{self.region}:{self.account}:{dr_key_alias(config)}"
        subnets = shared_subnets(self, config, settings.dr_vpc)
        self.database = WorkloadDatabase(
            self,
            "Database",
            subnets=subnets,
            plan=plan,
            instance_class=settings.database_instance_class,
            key_arn=data_key_arn,
            global_cluster_id=dr_global_cluster_id(config),
            master_secret_arn=None,  # a secondary takes its users from the primary
        )
        zone_lookup = DeployTimeCall(
            self,
            "HostedZoneLookup",
            service="Route53",
            action="listHostedZonesByName",
            parameters={"DNSName": f"{settings.hosted_zone_name}.", "MaxItems": "1"},
            physical_id=f"hosted-zone-{settings.hosted_zone_name}",
            output_paths=["HostedZones.0.Id"],
        )
        allow(
            self,
            ["route53:ListHostedZonesByName"],
            ["*"],
            "Route 53 ListHostedZonesByName supports no resource-level permissions; the call only reads.",
        )
        # "/hostedzone/Z123..." -> "Z123..."
        zone_id = Fn.select(2, Fn.split("/", zone_lookup.value("HostedZones.0.Id")))
        logging_key = service_key(self, alias=f"{dr_key_alias(config)}-service")
        self.service = RegionalService(
            self,
            "Service",
            plan=plan,
            subnets=subnets,
            database=self.database,
            key=logging_key.key,
            files_bucket_name=dr_files_bucket_name(config, self.region),
            files_key_alias=dr_key_alias(config),
            domain_name=f"{settings.record_name}.{settings.hosted_zone_name}",
            hosted_zone_id=zone_id,
            set_identifier=self.region,
            failover_role="SECONDARY",
            record_ttl_seconds=settings.record_ttl_seconds,
            health_check_interval_seconds=settings.health_check_interval_seconds,
            health_check_failure_threshold=settings.health_check_failure_threshold,
            memory_mb=settings.function_memory_mb,
            log_retention_days=settings.log_retention_days,
        )
        self.service.api.deployment_stage.node.add_dependency(api_gateway_account_logging(self))
        harden_provider(self)
