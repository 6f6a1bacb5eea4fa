"""Builds every stack of the organization from the config, and attaches the gate that runs
on every synth (cdk-nag), so a new stack is checked without being listed anywhere. (The
Control Tower controls run on the written assembly: see ``app.py``.)"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from aws_cdk import App, Aspects, BootstraplessSynthesizer, CfnResource, Environment, Stack, Stage, Tags
from cdk_nag import WriteNagSuppressionsToCloudFormationAspect

from cdk_constructs.gates import attach_gates, check_nag_now
from cdk_constructs.sandbox_teardown import apply_sandbox_teardown
from org_config import ConfigError
from org_config.model import RESOURCE_BUDGET, AccountRole, OrgConfig
from org_config.patterns import PATTERNS
from stacks.delivery.pipeline import DeliveryPipelineStack
from stacks.disaster_recovery.placement import build_disaster_recovery
from stacks.log_archive_baseline import LogArchiveBaselineStack
from stacks.network.dr import NetworkDrStack
from stacks.network.hub import NetworkHubStack
from stacks.network.placement import build_network
from stacks.object_index.placement import build_object_index
from stacks.organization.audit_services import AuditServicesStack
from stacks.organization.identity_center import IdentityCenterStack
from stacks.organization.member_roles import MemberRolesStack
from stacks.organization.service_control_policies import attachments
from stacks.organization.services import OrganizationServicesStack
from stacks.organization.structure import OrganizationStack
from stacks.sandbox.baseline import SandboxBaselineStack
from stacks.streaming.placement import build_streaming


def _env(config: OrgConfig, role: AccountRole, region: str) -> Environment:
    return Environment(account=config.account(role).id, region=region)


def _member_roles_template(app: App, config: OrgConfig) -> dict[str, Any]:
    """Synthesize the member-roles stack in its own stage and return its template.

    The stage is part of the app's assembly, so the template is gated like every other;
    the same template becomes the StackSet body. No bootstrap: StackSets deploy it.
    """
    stage = Stage(app, "stackset-member-roles")
    Aspects.of(stage).add(WriteNagSuppressionsToCloudFormationAspect())
    stack = MemberRolesStack(
        stage,
        "member-roles",
        config=config,
        synthesizer=BootstraplessSynthesizer(),
        description="Cross-account roles in every member account (deployed by a StackSet)",
        analytics_reporting=False,
    )
    check_nag_now(stage)
    template: dict[str, Any] = stage.synth().get_stack_artifact(stack.artifact_id).template
    return template


def build_organization(app: App, config: OrgConfig, *, patterns: Collection[str] | None = None) -> list[Stack]:
    """Add the stacks of every pattern to ``app``; return them in creation order.

    ``patterns`` (default: every pattern) narrows the app to the chosen patterns' stacks
    and the stacks they depend on (:func:`parts_to_build`), for a quicker edit loop; what
    is built is gated as always. Raises :class:`ConfigError` for a config the stacks
    cannot honour (an unknown SCP, too many SCPs on a target) before any stack is created.
    """
    attach_gates(app)
    if config.sandbox is not None:
        return _build_sandbox(app, config)
    parts = parts_to_build(config, patterns)
    attachments(config)  # guardrail names and limits, checked before anything is built
    stacks: list[Stack] = []
    log_archive = _log_archive(app, config) if "log-archive" in parts else None
    stacks += [log_archive] if log_archive is not None else []
    organization: list[Stack] = []
    if log_archive is not None and "organization" in parts:
        organization = _organization(app, config, log_archive)
    elif log_archive is not None and "organization-services" in parts:
        organization = [_organization_services(app, config, log_archive)]  # what the network waits for
    stacks += organization
    object_index = build_object_index(app, config) if "object-index" in parts else []
    stacks += object_index
    if "streaming" in parts:
        # The streaming API shares the account's API Gateway logging role that the object index API sets.
        stacks += build_streaming(app, config, object_index_api=object_index[-1] if object_index else None)
    network = build_network(app, config, log_archive=log_archive) if "network" in parts else []
    for stack in network:
        if organization and isinstance(stack, NetworkHubStack | NetworkDrStack):
            # Their RAM shares stay within the organization, which RAM allows only once the
            # management account has enabled sharing with AWS Organizations.
            stack.add_stack_dependency(organization[0], "RAM sharing with the organization is enabled there")
    disaster_recovery = build_disaster_recovery(app, config) if "disaster-recovery" in parts else []
    _after_the_network_they_read(disaster_recovery, network)
    stacks += [*network, *disaster_recovery]
    if config.delivery is not None and parts >= set(PATTERNS):
        stacks.append(_delivery_pipeline(app, config, stacks))  # it deploys the whole organization, or nothing
    for stack in stacks:
        Tags.of(stack).add("Project", config.organization.name_prefix)
        _check_budget(stack)
    return stacks


def parts_to_build(config: OrgConfig, patterns: Collection[str] | None) -> frozenset[str]:
    """What a selection of patterns needs built: the patterns themselves, and the parts
    their stacks depend on. The log-archive stack goes first for the organization's trail
    and the network's flow logs; the object index's API stack sets the account's API
    Gateway logging role that the streaming pipeline and the DR home stack then wait for
    (when they share its account: the placements' rule, mirrored here; a test compares
    every selection with the full synth)."""
    chosen = set(PATTERNS if patterns is None else patterns)
    parts = set(chosen)
    if "disaster-recovery" in chosen and config.has_vpcs:
        parts.add("network")  # the workload runs in the network's shared subnets, deployed first
    if "organization" in parts or ("network" in parts and config.has_vpcs):
        parts.add("log-archive")
    if "network" in parts and config.has_vpcs:
        parts.add("organization-services")  # it enables RAM sharing with the organization first
    if config.object_index_section is None:
        return frozenset(parts)  # no object index to share its logging role
    index_account = config.object_index.account
    if (
        "streaming" in chosen
        and config.streaming_section is not None
        and config.account_named(config.streaming.account).id == config.account_named(index_account).id
    ):
        parts.add("object-index")
    if (
        "disaster-recovery" in chosen
        and config.disaster_recovery_section is not None
        and config.has_vpcs
        and config.disaster_recovery.account == index_account
    ):
        parts.add("object-index")
    return frozenset(parts)


def _log_archive(app: App, config: OrgConfig) -> LogArchiveBaselineStack:
    home = config.regions.home
    return LogArchiveBaselineStack(
        app,
        f"log-archive-baseline-{home}",
        config=config,
        env=_env(config, AccountRole.LOG_ARCHIVE, home),
        description="Central, immutable log buckets and their KMS key (log-archive account)",
        termination_protection=True,  # holds the organization's audit trail
    )


def _organization_services(app: App, config: OrgConfig, log_archive: Stack) -> Stack:
    """Trusted access, RAM sharing, delegated administrators and the organization trail: what
    every other stack of the organization, and the network's shares, wait for."""
    home = config.regions.home
    management = _env(config, AccountRole.MANAGEMENT, home)
    services = OrganizationServicesStack(
        app,
        f"organization-services-{home}",
        config=config,
        env=management,
        description=(
            "Trusted access, delegated administrators in every allowed region, the organization trail and its "
            "CIS alarms (management account)"
        ),
        termination_protection=True,
    )
    services.add_stack_dependency(log_archive, "the trail writes to the log-archive bucket and key")
    return services


def _organization(app: App, config: OrgConfig, log_archive: Stack) -> list[Stack]:
    """The organization pattern's stacks in the management and audit accounts."""
    home = config.regions.home
    management = _env(config, AccountRole.MANAGEMENT, home)
    services = _organization_services(app, config, log_archive)
    structure = OrganizationStack(
        app,
        f"organization-{home}",
        config=config,
        member_roles_template=_member_roles_template(app, config),
        env=management,
        description="OUs, service control, tag and backup policies, member-roles StackSet (management account)",
        termination_protection=True,  # deleting it would detach every guardrail
    )
    structure.add_stack_dependency(services, "policy types and StackSets trusted access must be enabled first")
    identity = IdentityCenterStack(
        app,
        f"identity-center-{home}",
        config=config,
        env=management,
        description="IAM Identity Center permission sets and assignments (management account)",
    )
    identity.add_stack_dependency(services, "Identity Center needs its trusted access (sso.amazonaws.com) first")
    audit = AuditServicesStack(
        app,
        f"audit-services-{home}",
        config=config,
        env=_env(config, AccountRole.AUDIT, home),
        description=(
            "Config aggregator, Access Analyzer, GuardDuty and Security Hub organization settings, security alarm "
            "topic (audit account)"
        ),
    )
    audit.add_stack_dependency(services, "the audit account must be the delegated administrator first")
    return [services, structure, identity, audit]


def _build_sandbox(app: App, config: OrgConfig) -> list[Stack]:
    """The sandbox profile: the chosen workload patterns in one account, after a baseline
    stack with the budget alert (and the flow-log bucket the network writes to), every
    stack with the sandbox's teardown settings."""
    home = config.regions.home
    baseline = SandboxBaselineStack(
        app,
        f"sandbox-baseline-{home}",
        config=config,
        env=_env(config, AccountRole.WORKLOAD_PROD, home),
        description="Sandbox: budget alert and, with the network pattern, the flow-log bucket",
    )
    stacks: list[Stack] = [baseline]
    object_index = build_object_index(app, config) if config.builds("object-index") else []
    stacks += object_index
    if config.builds("streaming"):
        stacks += build_streaming(app, config, object_index_api=object_index[-1] if object_index else None)
    network = build_network(app, config, log_archive=baseline) if config.builds("network") else []
    disaster_recovery = build_disaster_recovery(app, config) if config.builds("disaster-recovery") else []
    _after_the_network_they_read(disaster_recovery, network)
    stacks += [*network, *disaster_recovery]
    for stack in stacks:
        if stack is not baseline:
            stack.add_stack_dependency(baseline, "the budget alert exists before anything that costs money")
        apply_sandbox_teardown(stack)
        Tags.of(stack).add("Project", config.organization.name_prefix)
        _check_budget(stack)
    return stacks


def _delivery_pipeline(app: App, config: OrgConfig, stacks: list[Stack]) -> Stack:
    """The pipeline that deploys ``stacks`` in waves, built from the same stack objects (the
    organization is built once per synth; the pipeline reads their names and dependencies)."""
    assert config.delivery is not None
    home = config.regions.home
    return DeliveryPipelineStack(
        app,
        f"delivery-pipeline-{home}",
        config=config,
        stacks=stacks,
        env=Environment(account=config.account_named(config.delivery.account).id, region=home),
        description="Delivery pipeline: gates, synth, then the organization's stacks wave by wave (deployment account)",
    )


def _after_the_network_they_read(workloads: list[Stack], network: list[Stack]) -> None:
    """A DR stack finds the subnets shared with it at deploy time: the network stack of its
    region, which creates and shares them, must be deployed first (CDK orders stacks of
    different accounts too)."""
    vpc_stacks = [stack for stack in network if isinstance(stack, NetworkHubStack | NetworkDrStack)]
    for workload in workloads:
        if workload.node.try_find_child("SharedSubnets") is None:
            continue  # no shared subnets (the recovery stack)
        for stack in vpc_stacks:
            if stack.region == workload.region:
                workload.add_stack_dependency(stack, "it looks up the subnets this stack shares")


def _check_budget(stack: Stack) -> None:
    """Refuse, as a config error, a stack the config has grown past the resource budget
    (half the CloudFormation quota), naming the config field it grows with."""
    count = sum(1 for construct in stack.node.find_all() if isinstance(construct, CfnResource))
    if count > RESOURCE_BUDGET:
        field = getattr(stack, "SCALES_WITH", "the config")
        raise ConfigError(
            f"{field}: stack '{stack.stack_name}' would hold {count} resources, over the budget of "
            f"{RESOURCE_BUDGET} per stack (half the CloudFormation quota of 500)"
        )
