"""The pipeline that delivers the organization, in the deployment account.

    repository (CodeConnections) ─► check: make check CONFIG=...   (every gate; stops on a finding)
                                 ─► synth: make synth CONFIG=...   (cdk.out, the assembly every wave deploys)
                                 ─► wave 1 ─► [approval] ─► wave 2 ─► ... (cdk deploy of the wave's stacks)

Why plain CodePipeline actions running the CDK CLI rather than CDK Pipelines: CDK
Pipelines deploys only stacks inside a ``Stage``, which would rename every stack of the
organization and nest its assembly; here the pipeline deploys exactly the assembly the
gates checked, by stack name, and the CDK CLI publishes the assets and assumes the
bootstrap roles of each target account (bootstrapped with ``--trust`` for this account:
see ``make bootstrap-commands``). A wave holds the stacks whose dependencies are all in
earlier waves; its stacks deploy in parallel. A manual approval stands before every wave
that changes a management-account stack (the organization's structure and guardrails).
The member-roles StackSet is deployed by the organization stack, as by hand.

Secure defaults: artifacts and logs encrypted with the pipeline's own KMS key, an
artifact bucket from the hardened-bucket construct, build roles that may assume only the
CDK bootstrap roles of the organization's accounts, no privileged builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnResource, Duration, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import aws_codepipeline_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk_constructs.gates import acknowledge_nag
from cdk_constructs.hardened_bucket import HardenedBucket, Lifecycle
from cdk_constructs.hardened_key import HardenedKey
from org_config.delivery import Delivery
from org_config.model import AccountRole, OrgConfig

BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0  # Ubuntu 22.04 with Python 3.11, which the project needs
BOOTSTRAP_QUALIFIER = "hnb659fds"  # the CDK's default bootstrap qualifier
WAVE_TIMEOUT = Duration.hours(2)  # the longest wave (the network hub with its firewall) takes most of an hour


def deployment_waves(stacks: Sequence[Stack]) -> list[list[Stack]]:
    """The stacks in waves: each stack in the first wave after all of its dependencies."""
    wave_of: dict[str, int] = {}

    def wave(stack: Stack) -> int:
        if stack.node.path not in wave_of:
            depends = [d for d in stack.dependencies if d in stacks]
            wave_of[stack.node.path] = 1 + max((wave(d) for d in depends), default=-1)
        return wave_of[stack.node.path]

    waves: list[list[Stack]] = []
    for stack in stacks:
        index = wave(stack)
        while len(waves) <= index:
            waves.append([])
        waves[index].append(stack)
    return [sorted(w, key=lambda s: s.stack_name) for w in waves]


class DeliveryPipelineStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: OrgConfig, stacks: Sequence[Stack], **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        delivery = config.delivery
        if delivery is None:
            raise ValueError("the delivery pipeline needs the config's delivery section")
        self.waves = deployment_waves(stacks)
        self._stores(config.organization.name_prefix)
        source = codepipeline.Artifact("Source")
        assembly = codepipeline.Artifact("Assembly")
        self._projects(config, delivery.config_path, stacks)
        self.pipeline = codepipeline.Pipeline(
            self,
            "Pipeline",
            pipeline_type=codepipeline.PipelineType.V2,
            artifact_bucket=self.artifacts.bucket,
            restart_execution_on_update=False,
        )
        self._source_gates_and_synth(delivery, source, assembly)
        self._acknowledge_generated_grants()
        management = config.account(AccountRole.MANAGEMENT).id
        for number, wave in enumerate(self.waves, start=1):
            self.pipeline.add_stage(stage_name=f"Wave{number}", actions=self._wave(wave, management, source, assembly))

    def _stores(self, prefix: str) -> None:
        """The pipeline's key, its artifact bucket (with its access-log bucket) and build logs."""
        self.key = HardenedKey(
            self, "PipelineKey", alias=f"alias/{prefix}/delivery", description="Encrypts the pipeline"
        )
        self.key.allow_service(
            sid="CloudWatchLogs",
            service_principal=f"logs.{self.region}.amazonaws.com",
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            conditions={
                "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{self.region}:{self.account}:*"}
            },
        )
        lifecycle = Lifecycle(
            infrequent_access_after_days=30,
            glacier_after_days=90,
            expire_after_days=365,
            noncurrent_expire_after_days=30,
        )
        access_logs = HardenedBucket(
            self, "AccessLogs", encryption_key=None, access_logs_bucket=None, lifecycle=lifecycle
        )
        acknowledge_nag(
            access_logs.bucket,
            "AwsSolutions-S1",
            "This is the server access log destination; logging it into itself would loop.",
        )
        self.artifacts = HardenedBucket(
            self,
            "Artifacts",
            encryption_key=self.key.key,
            access_logs_bucket=access_logs.bucket,
            access_logs_prefix="artifacts/",
            lifecycle=lifecycle,
            object_lock_days=30,  # a deployed assembly stays as it was for a month: what was deployed can be read back
        )
        self.logs = logs.LogGroup(
            self,
            "BuildLogs",
            encryption_key=self.key.key,
            retention=logs.RetentionDays.ONE_YEAR,
        )

    def _projects(self, config: OrgConfig, config_path: str, stacks: Sequence[Stack]) -> None:
        """The three builds: the gates, the synth and a wave's deploy."""
        self.check = self._project("Check", [f"make check CONFIG={config_path}"])
        # The Flink application's code asset carries the Kinesis connector JAR, fetched and
        # verified against its pinned SHA-256 first: without it the synth refuses to go on.
        connector = ["make flink-connector"] if config.streaming_section is not None else []
        self.synth = self._project(
            "Synth",
            [*connector, f"make synth CONFIG={config_path}"],
            artifacts={"files": ["**/*"], "base-directory": "cdk.out"},
        )
        self.deploy = self._project(
            "Deploy",
            [
                "make setup",
                'PATH="$PWD/.venv/bin:$PATH" npx cdk deploy --app "$CODEBUILD_SRC_DIR_Assembly" $STACKS '
                "--require-approval never --concurrency 4 --progress events",
            ],
            timeout=WAVE_TIMEOUT,
        )
        self._allow_bootstrap_roles(self.deploy, stacks)

    def _source_gates_and_synth(
        self, delivery: Delivery, source: codepipeline.Artifact, assembly: codepipeline.Artifact
    ) -> None:
        owner, repository = delivery.repository.split("/", 1)
        self.pipeline.add_stage(
            stage_name="Source",
            actions=[
                actions.CodeStarConnectionsSourceAction(
                    action_name="Repository",
                    connection_arn=delivery.connection_arn,
                    owner=owner,
                    repo=repository,
                    branch=delivery.branch,
                    output=source,
                )
            ],
        )
        self.pipeline.add_stage(
            stage_name="Gates",
            actions=[actions.CodeBuildAction(action_name="MakeCheck", project=self.check, input=source)],
        )
        self.pipeline.add_stage(
            stage_name="Synth",
            actions=[
                actions.CodeBuildAction(action_name="MakeSynth", project=self.synth, input=source, outputs=[assembly])
            ],
        )

    def _wave(
        self, wave: Sequence[Stack], management: str, source: codepipeline.Artifact, assembly: codepipeline.Artifact
    ) -> list[codepipeline.IAction]:
        """One wave's actions: an approval first if it changes the management account, then
        the deploy of its stacks, side by side."""
        wave_actions: list[codepipeline.IAction] = []
        if any(stack.account == management for stack in wave):
            wave_actions.append(
                actions.ManualApprovalAction(
                    action_name="ApproveManagementChanges",
                    additional_information="This wave changes the management account: "
                    + ", ".join(s.stack_name for s in wave if s.account == management),
                    run_order=1,
                )
            )
        wave_actions.append(
            actions.CodeBuildAction(
                action_name="Deploy",
                project=self.deploy,
                input=source,
                extra_inputs=[assembly],
                environment_variables={
                    "STACKS": codebuild.BuildEnvironmentVariable(value=" ".join(s.stack_name for s in wave))
                },
                run_order=2,
            )
        )
        return wave_actions

    def _acknowledge_generated_grants(self) -> None:
        """The CDK's own grants to the pipeline, its actions and its builds: wildcards inside
        resources that belong to this stack alone."""
        own_bucket = (
            "The CDK's grant on this pipeline's own artifact bucket: every execution writes and reads its "
            "artifacts under it, and the bucket holds nothing else."
        )
        for action in ("s3:List*", "s3:GetObject*", "s3:GetBucket*", "s3:DeleteObject*", "s3:Abort*"):
            acknowledge_nag(self, f"AwsSolutions-IAM5[Action::{action}]", own_bucket)
        artifacts = self.resolve(self.artifacts.bucket.bucket_arn)["Fn::GetAtt"][0]
        acknowledge_nag(self, f"AwsSolutions-IAM5[Resource::<{artifacts}.Arn>/*]", own_bucket)
        for action in ("kms:ReEncrypt*", "kms:GenerateDataKey*"):
            acknowledge_nag(
                self,
                f"AwsSolutions-IAM5[Action::{action}]",
                "The CDK's grant on this pipeline's own key, which encrypts only its artifacts and build logs.",
            )
        for project in (self.check, self.synth, self.deploy):
            name = self.resolve(project.project_name)["Ref"]
            account, region = self.account, self.region
            acknowledge_nag(
                self,
                f"AwsSolutions-IAM5[Resource::arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/<{name}>:*]",
                "CodeBuild writes a log stream per build in the project's own log group; the CDK grants that prefix.",
            )
            acknowledge_nag(
                self,
                f"AwsSolutions-IAM5[Resource::arn:aws:codebuild:{region}:{account}:report-group/<{name}>-*]",
                "CodeBuild creates the project's test report groups under its own name; the CDK grants that prefix.",
            )
        # The pipeline waits for its role's policy; its GetAtt of the role already orders it after
        # the role, so the CDK's second DependsOn on the role is dropped (cfn-lint W3005).
        pipeline = self.pipeline.node.default_child
        policy = self.pipeline.role.node.find_child("DefaultPolicy").node.default_child
        if isinstance(pipeline, CfnResource) and isinstance(policy, CfnResource):
            pipeline.add_override("DependsOn", [self.get_logical_id(policy)])

    def _project(
        self,
        name: str,
        commands: list[str],
        *,
        artifacts: dict[str, Any] | None = None,
        timeout: Duration | None = None,
    ) -> codebuild.PipelineProject:
        spec: dict[str, Any] = {
            "version": "0.2",
            "phases": {"install": {"runtime-versions": {"python": "3.11"}}, "build": {"commands": commands}},
        }
        if artifacts:
            spec["artifacts"] = artifacts
        return codebuild.PipelineProject(
            self,
            name,
            build_spec=codebuild.BuildSpec.from_object(spec),
            environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE, compute_type=codebuild.ComputeType.MEDIUM),
            encryption_key=self.key.key,
            timeout=timeout or Duration.minutes(60),
            logging=codebuild.LoggingOptions(cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.logs)),
        )

    def _allow_bootstrap_roles(self, project: codebuild.PipelineProject, stacks: Sequence[Stack]) -> None:
        """Let the deploy builds assume the CDK bootstrap roles (deploy, file and image
        publishing, lookup) of exactly the accounts and regions the organization uses."""
        targets = sorted({(s.account, s.region) for s in stacks})
        project.add_to_role_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole"],
                resources=[
                    f"arn:{self.partition}:iam::{account}:role/cdk-{BOOTSTRAP_QUALIFIER}-{kind}-role-{account}-{region}"
                    for account, region in targets
                    for kind in ("deploy", "file-publishing", "image-publishing", "lookup")
                ],
            )
        )
