"""The DR region's workload, from pilot light up (backup-restore has none).

    app.<zone>: this region's record (failover secondary, or latency) ◄─ health check
    API + function (switched off, minimum or production size) ─► Aurora secondary cluster
                                                               └─► replica files bucket (recovery stack)
    Aurora secondary cluster: storage replicated from the home primary; no instance (pilot
    light), a reader (warm standby) or production size (multi-site, with write forwarding
    when configured)

Both regions validate their certificates and write their records in the user's public
hosted zone, named by id in the config (``disaster_recovery.hosted_zone_id``).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from cdk_constructs.api_gateway_logging import api_gateway_account_logging
from cdk_constructs.deploy_time_lookup import harden_provider
from cdk_constructs.disaster_recovery.database import WorkloadDatabase
from cdk_constructs.disaster_recovery.keys import service_key
from cdk_constructs.disaster_recovery.plan import RegionPlan, dr_settings
from cdk_constructs.disaster_recovery.service import RegionalService
from cdk_constructs.disaster_recovery.subnets import shared_subnets
from org_config.model import OrgConfig
from org_config.names import dr_files_bucket_name, dr_global_cluster_id, dr_key_alias


class DrStandbyStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: OrgConfig, plan: RegionPlan, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = dr_settings(config)
        key_alias = dr_key_alias(config)
        subnets = shared_subnets(self, config, settings.dr_vpc)
        self.database = WorkloadDatabase(
            self,
            "Database",
            subnets=subnets,
            plan=plan,
            instance_class=settings.database_instance_class,
            key_arn=f"arn:{self.partition}:kms:{self.region}:{self.account}:{key_alias}",
            global_cluster_id=dr_global_cluster_id(config),
            master_secret_arn=None,  # a secondary takes its users from the primary
        )
        self.service = RegionalService(
            self,
            "Service",
            plan=plan,
            settings=settings,
            subnets=subnets,
            database=self.database,
            key=service_key(self, alias=f"{key_alias}-service").key,
            files_bucket_name=dr_files_bucket_name(config, self.region),
            files_key_alias=key_alias,
            hosted_zone_id=settings.hosted_zone_id,
            failover_role="SECONDARY",
        )
        self.service.api.api.deployment_stage.node.add_dependency(api_gateway_account_logging(self))
        harden_provider(self)
