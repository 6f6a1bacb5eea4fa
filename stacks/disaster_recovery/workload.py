"""The sample workload's parts, shared by the home and DR regions.

    client ─► app.<zone> (Route 53: failover or latency records, one health check per region)
           ─► API Gateway custom domain (regional, TLS 1.2, ACM certificate) ─► REST API
           ─► function (Lambda, in the shared prod subnets) ─► Aurora PostgreSQL (this region's endpoint)
                                                           └─► user-files bucket (this region's copy)

Everything sits in subnets that the network account owns and shares with the workload
account through RAM; :class:`SharedSubnets` finds them at deploy time.
"""

from __future__ import annotations

import ipaddress
import typing
from collections.abc import Sequence
from pathlib import Path

from aws_cdk import CfnResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_route53 as route53
from constructs import Construct

from cdk_constructs.deploy_time_lookup import DeployTimeCall, allow
from cdk_constructs.gates import acknowledge_nag, exempt_control, skip_checkov
from cdk_constructs.hardened_function import HardenedFunction
from cdk_constructs.lambda_runtime import RUNTIME
from stacks.disaster_recovery import (
    DATABASE_NAME,
    DATABASE_PORT,
    ENGINE_VERSION,
    FUNCTION_TIMEOUT_SECONDS,
    HEALTH_PATH,
    STAGE_NAME,
    RegionPlan,
)

HANDLER_CODE = str(Path(__file__).resolve().parents[2] / "lambdas" / "disaster_recovery")


def _cfn(construct: Construct) -> CfnResource:
    return typing.cast(CfnResource, construct.node.default_child)


class SharedSubnets(Construct):
    """The ids of the workload subnets that the network account shares with this account.

    Participants of a shared VPC see the owner's subnets but not the owner's tags, and an
    AZ name means a different zone in each account, so the lookup filters on what both
    accounts agree on: the subnets' CIDR blocks (from the config's CIDR plan, the same
    blocks the network stacks create) and the owner account id. One EC2
    ``DescribeSubnets`` call at deploy time, with literal filters only.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        owner_account: str,
        blocks: Sequence[ipaddress.IPv4Network],
        name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        paths = [f"Subnets.{index}.SubnetId" for index in range(len(blocks))] + ["Subnets.0.VpcId"]
        call = DeployTimeCall(
            self,
            "Lookup",
            service="EC2",
            action="describeSubnets",
            parameters={
                "Filters": [
                    {"Name": "cidr-block", "Values": [str(block) for block in blocks]},
                    {"Name": "owner-id", "Values": [owner_account]},
                ]
            },
            physical_id=f"shared-subnets-{name}",
            output_paths=paths,
        )
        allow(
            Stack.of(self),
            ["ec2:DescribeSubnets"],
            ["*"],
            "EC2 describe calls support no resource-level permissions; the calls only read.",
        )
        # The order of the subnets does not matter: every consumer takes all of them.
        self.subnet_ids = [call.value(f"Subnets.{index}.SubnetId") for index in range(len(blocks))]
        self.vpc_id = call.value("Subnets.0.VpcId")


class WorkloadDatabase(Construct):
    """An Aurora PostgreSQL cluster in the shared subnets: the global database's primary
    (with a writer) or a secondary (read-only, instances only as the plan says).

    Encrypted with the region's data key, IAM authentication on, deletion protection on,
    PostgreSQL logs to CloudWatch, 7 days of continuous backups for point-in-time restore,
    Performance Insights and Enhanced Monitoring on every instance; retained on delete.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        subnets: SharedSubnets,
        plan: RegionPlan,
        instance_class: str,
        key_arn: str,
        global_cluster_id: str | None,
        master_secret_arn: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.CfnSecurityGroup(
            self,
            "SecurityGroup",
            vpc_id=subnets.vpc_id,
            group_description="Aurora cluster of the DR workload: PostgreSQL from the workload function only",
            # No egress: the database starts no connections (Aurora's replication is not VPC traffic).
            security_group_egress=[
                ec2.CfnSecurityGroup.EgressProperty(
                    ip_protocol="icmp",
                    from_port=252,
                    to_port=86,
                    cidr_ip="255.255.255.255/32",
                    description="Placeholder that denies all egress",
                )
            ],
        )
        subnet_group = rds.CfnDBSubnetGroup(
            self,
            "SubnetGroup",
            db_subnet_group_description="Shared prod subnets of this region",
            subnet_ids=subnets.subnet_ids,
        )
        # A primary takes its master user from the secret (dynamic references: the password
        # never appears in the template); a secondary takes its users from the primary.
        username = password = None
        if master_secret_arn is not None:
            username = f"{{{{resolve:secretsmanager:{master_secret_arn}:SecretString:username}}}}"
            password = f"{{{{resolve:secretsmanager:{master_secret_arn}:SecretString:password}}}}"
        self.cluster = rds.CfnDBCluster(
            self,
            "Cluster",
            engine="aurora-postgresql",
            engine_version=ENGINE_VERSION,
            database_name=DATABASE_NAME if plan.database == "primary" else None,
            global_cluster_identifier=global_cluster_id if plan.database == "secondary" else None,
            db_subnet_group_name=subnet_group.ref,
            vpc_security_group_ids=[self.security_group.attr_group_id],
            port=DATABASE_PORT,
            storage_encrypted=True,
            kms_key_id=key_arn,
            enable_iam_database_authentication=True,
            deletion_protection=True,
            backup_retention_period=7,
            copy_tags_to_snapshot=True,
            enable_cloudwatch_logs_exports=["postgresql"],
            enable_global_write_forwarding=True if plan.write_forwarding else None,
            master_username=username,
            master_user_password=password,
        )
        self.cluster.apply_removal_policy(RemovalPolicy.RETAIN)
        acknowledge_nag(
            self.cluster,
            "AwsSolutions-RDS11",
            "The port is reachable only from the function's security group inside the shared subnets; "
            "a non-default port hides nothing from a caller that is already allowed in.",
        )
        monitoring = iam.Role(
            self,
            "MonitoringRole",
            assumed_by=iam.ServicePrincipal("monitoring.rds.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonRDSEnhancedMonitoringRole")
            ],
        )
        acknowledge_nag(
            monitoring,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]",
            "The AWS managed policy is the documented way to let Enhanced Monitoring write its own log group.",
        )
        self.instances: list[rds.CfnDBInstance] = []
        for index in range(plan.instances):
            instance = rds.CfnDBInstance(
                self,
                f"Instance{index + 1}",
                db_cluster_identifier=self.cluster.ref,
                engine="aurora-postgresql",
                db_instance_class=instance_class,
                auto_minor_version_upgrade=True,
                publicly_accessible=False,
                enable_performance_insights=True,
                performance_insights_kms_key_id=key_arn,
                performance_insights_retention_period=7,
                monitoring_interval=60,
                monitoring_role_arn=monitoring.role_arn,
            )
            instance.apply_removal_policy(RemovalPolicy.RETAIN)
            self.instances.append(instance)


class RegionalService(Construct):
    """The function, the REST API on a custom domain, the health check and this region's
    DNS record.

    The function runs in the shared subnets with its own security group; ``reserved``
    concurrency 0 keeps it defined but switched off (pilot light), and ``provisioned``
    concurrency keeps execution environments warm on the alias the API invokes. ``GET
    /health`` is unauthenticated (Route 53 health checkers cannot sign requests) and says
    nothing but whether this region can serve; ``GET /files/{name}`` needs IAM (SigV4).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        plan: RegionPlan,
        subnets: SharedSubnets,
        database: WorkloadDatabase | None,
        key: kms.IKey,
        files_bucket_name: str,
        files_key_alias: str,
        domain_name: str,
        hosted_zone_id: str,
        set_identifier: str,
        failover_role: str,
        record_ttl_seconds: int,
        health_check_interval_seconds: int,
        health_check_failure_threshold: int,
        memory_mb: int,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.security_group = ec2.CfnSecurityGroup(
            self,
            "FunctionSecurityGroup",
            vpc_id=subnets.vpc_id,
            group_description="DR workload function: HTTPS to AWS APIs and PostgreSQL to its database",
            security_group_egress=[
                ec2.CfnSecurityGroup.EgressProperty(
                    ip_protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_ip="0.0.0.0/0",
                    description="AWS APIs: S3 through the gateway endpoint, others through the Transit Gateway",
                )
            ],
        )
        environment = {"FILES_BUCKET": files_bucket_name, "DATABASE_PORT": str(DATABASE_PORT)}
        if database is not None:
            ec2.CfnSecurityGroupEgress(
                self,
                "ToDatabase",
                group_id=self.security_group.attr_group_id,
                ip_protocol="tcp",
                from_port=DATABASE_PORT,
                to_port=DATABASE_PORT,
                destination_security_group_id=database.security_group.attr_group_id,
                description="PostgreSQL to the workload database",
            )
            ec2.CfnSecurityGroupIngress(
                database,
                "FromFunction",
                group_id=database.security_group.attr_group_id,
                ip_protocol="tcp",
                from_port=DATABASE_PORT,
                to_port=DATABASE_PORT,
                source_security_group_id=self.security_group.attr_group_id,
                description="PostgreSQL from the workload function",
            )
            # The writer endpoint where there is a writer, the reader endpoint in a secondary.
            environment["DATABASE_HOST"] = (
                database.cluster.attr_endpoint_address
                if plan.database == "primary"
                else database.cluster.attr_read_endpoint_address
            )
        self.function = HardenedFunction(
            self,
            "Function",
            code_path=HANDLER_CODE,
            handler="service.handler",
            description="DR sample workload: health endpoint and user files",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            layers=[],
            environment=environment,
            key=key,
            log_retention_days=log_retention_days,
            reserved_concurrency=plan.reserved_concurrency,
            timeout=Duration.seconds(FUNCTION_TIMEOUT_SECONDS),
            memory_size=memory_mb,
        )
        function = self.function.function
        cfn_function = typing.cast(lambda_.CfnFunction, _cfn(function))
        cfn_function.vpc_config = lambda_.CfnFunction.VpcConfigProperty(
            subnet_ids=subnets.subnet_ids, security_group_ids=[self.security_group.attr_group_id]
        )
        role = self.function.role
        # Lambda manages the function's network interfaces with the function's role.
        ec2_arn = f"arn:{stack.partition}:ec2:{stack.region}"
        interface_resources = [
            f"{ec2_arn}:{stack.account}:network-interface/*",
            f"{ec2_arn}:*:subnet/*",  # the subnets belong to the network account
            f"{ec2_arn}:{stack.account}:security-group/*",
        ]
        role.add_to_policy(
            iam.PolicyStatement(
                sid="NetworkInterfaces",
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=interface_resources,
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="DescribeNetworkInterfaces", actions=["ec2:DescribeNetworkInterfaces"], resources=["*"]
            )
        )
        for resource in interface_resources:
            acknowledge_nag(
                role,
                f"AwsSolutions-IAM5[Resource::{resource}]",
                "Lambda creates and deletes the function's network interfaces, whose ids no one knows in advance.",
            )
        user_files = f"arn:{stack.partition}:s3:::{files_bucket_name}/files/*"
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadUserFiles",
                actions=["s3:GetObject", "s3:ListBucket"],
                resources=[
                    f"arn:{stack.partition}:s3:::{files_bucket_name}",
                    f"arn:{stack.partition}:s3:::{files_bucket_name}/files/*",
                ],
            )
        )
        region_keys = f"arn:{stack.partition}:kms:{stack.region}:{stack.account}:key/*"
        role.add_to_policy(
            iam.PolicyStatement(
                sid="DecryptUserFiles",
                actions=["kms:Decrypt"],
                resources=[region_keys],
                # The files key is named by its alias (from the config) in both regions.
                conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": files_key_alias}},
            )
        )
        acknowledge_nag(
            role,
            f"AwsSolutions-IAM5[Resource::{region_keys}]",
            "Limited by a condition to the one key with the files key's alias; the DR stack cannot know its id.",
        )
        acknowledge_nag(
            role,
            f"AwsSolutions-IAM5[Resource::{user_files}]",
            "The function reads any user file under files/; object names are not known in advance.",
        )
        skip_checkov(
            cfn_function,
            "CKV_AWS_116",
            "Invoked synchronously by API Gateway; a dead-letter queue only receives failed asynchronous invocations.",
        )
        exempt_control(
            function,
            "CT.LAMBDA.PR.3",
            "The function is in the shared prod subnets; their ids come from the deploy-time subnet lookup "
            "(the network account owns them), which the rule cannot follow to a subnet of this template.",
        )
        self.alias = lambda_.Alias(
            self,
            "Live",
            alias_name="live",
            version=function.current_version,
            provisioned_concurrent_executions=plan.provisioned_concurrency or None,
        )

        # --- REST API on a custom domain ---------------------------------------------------
        self.access_logs = logs.LogGroup(self, "ApiAccessLogs", encryption_key=key)
        _cfn(self.access_logs).add_property_override("RetentionInDays", log_retention_days)
        self.api = apigateway.RestApi(
            self,
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
            ),
        )
        validator = self.api.add_request_validator(
            "Parameters",
            validate_request_parameters=True,
            validate_request_body=True,  # no method takes a body; a body without a model is not checked
        )
        integration = apigateway.LambdaIntegration(self.alias, allow_test_invoke=False)
        health = self.api.root.add_resource(HEALTH_PATH.strip("/")).add_method(
            "GET", integration, authorization_type=apigateway.AuthorizationType.NONE
        )
        for rule, reason in (
            ("AwsSolutions-APIG4", "Route 53 health checkers cannot sign requests; /health returns only up or down."),
            ("AwsSolutions-COG4", "Route 53 health checkers cannot sign requests; /health returns only up or down."),
        ):
            acknowledge_nag(health, rule, reason)
        skip_checkov(
            _cfn(health),
            "CKV_AWS_59",
            "Route 53 health checkers cannot sign requests; /health returns only whether this region can serve.",
        )
        files = (
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
            files,
            "AwsSolutions-COG4",
            "Callers are AWS principals authorized with IAM (SigV4), not users of a Cognito user pool.",
        )
        stage = _cfn(self.api.deployment_stage)
        acknowledge_nag(
            stage,
            "AwsSolutions-APIG3",
            "The file route requires SigV4 (IAM) and the health route returns only up or down; a web ACL "
            "in each region would add per-request cost without a threat it stops here.",
        )
        skip_checkov(
            stage,
            "CKV_AWS_120",
            "Health answers must be live and files are per caller; a cache would serve stale ones.",
        )

        certificate = acm.CfnCertificate(
            self,
            "Certificate",
            domain_name=domain_name,
            validation_method="DNS",
            domain_validation_options=[
                acm.CfnCertificate.DomainValidationOptionProperty(
                    domain_name=domain_name, hosted_zone_id=hosted_zone_id
                )
            ],
        )
        domain = apigateway.CfnDomainName(
            self,
            "Domain",
            domain_name=domain_name,
            regional_certificate_arn=certificate.ref,
            endpoint_configuration=apigateway.CfnDomainName.EndpointConfigurationProperty(types=["REGIONAL"]),
            security_policy="TLS_1_2",
        )
        apigateway.CfnBasePathMapping(
            self,
            "Mapping",
            domain_name=domain.ref,
            rest_api_id=self.api.rest_api_id,
            stage=self.api.deployment_stage.stage_name,
        )

        # API Gateway may invoke the function only for this account's API: SourceAccount next
        # to the SourceArn the CDK writes (confused-deputy protection, as CT.LAMBDA.PR.2 asks).
        for construct in self.node.find_all():
            if isinstance(construct, lambda_.CfnPermission):
                construct.source_account = stack.account

        # --- Health check and record ------------------------------------------------------
        self.health_check = route53.CfnHealthCheck(
            self,
            "HealthCheck",
            health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                type="HTTPS",
                fully_qualified_domain_name=f"{self.api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}",
                resource_path=f"/{STAGE_NAME}{HEALTH_PATH}",
                port=443,
                request_interval=health_check_interval_seconds,
                failure_threshold=health_check_failure_threshold,
            ),
            health_check_tags=[
                route53.CfnHealthCheck.HealthCheckTagProperty(key="Name", value=f"{domain_name}-{stack.region}")
            ],
        )
        record = route53.CfnRecordSet(
            self,
            "Record",
            hosted_zone_id=hosted_zone_id,
            name=f"{domain_name}.",
            type="CNAME",
            ttl=str(record_ttl_seconds),
            resource_records=[domain.attr_regional_domain_name],
            set_identifier=set_identifier,
            health_check_id=self.health_check.attr_health_check_id,
            failover=failover_role if plan.routing == "failover" else None,
            region=stack.region if plan.routing == "latency" else None,
        )
        self.record = record
