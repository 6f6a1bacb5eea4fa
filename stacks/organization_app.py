"""Builds every stack of the organization from the config, and attaches the gate that runs
on every synth (cdk-nag), so a new stack is checked without being listed anywhere. (The
Control Tower controls run on the written assembly: see ``app.py``.)"""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Aspects, BootstraplessSynthesizer, CfnResource, Environment, Stack, Stage, Tags
from cdk_nag import WriteNagSuppressionsToCloudFormationAspect

from cdk_constructs.gates import attach_gates, check_nag_now
from org_config import ConfigError
from org_config.model import RESOURCE_BUDGET, AccountRole, OrgConfig
from stacks.disaster_recovery.placement import build_disaster_recovery
from stacks.log_archive_baseline import LogArchiveBaselineStack
from stacks.network.placement import build_network
from stacks.object_index.placement import build_object_index
from stacks.organization.audit_services import AuditServicesStack
from stacks.organization.identity_center import IdentityCenterStack
from stacks.organization.member_roles import MemberRolesStack
from stacks.organization.service_control_policies import attachments
from stacks.organization.services import OrganizationServicesStack
from stacks.organization.structure import OrganizationStack
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


def build_organization(app: App, config: OrgConfig) -> list[Stack]:
    """Add the stacks of every pattern to ``app``; return them in creation order.

    Raises :class:`ConfigError` for a config the stacks cannot honour (an unknown SCP,
    too many SCPs on a target) before any stack is created.
    """
    attachments(config)  # guardrail names and limits, checked before anything is built
    attach_gates(app)
    home = config.regions.home
    management = _env(config, AccountRole.MANAGEMENT, home)

    log_archive = LogArchiveBaselineStack(
        app,
        f"log-archive-baseline-{home}",
        config=config,
        env=_env(config, AccountRole.LOG_ARCHIVE, home),
        description="Central, immutable log buckets and their KMS key (log-archive account)",
        termination_protection=True,  # holds the organization's audit trail
    )
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
    object_index = build_object_index(app, config)
    stacks: list[Stack] = [log_archive, services, structure, identity, audit, *object_index]
    # The streaming API shares the account's API Gateway logging role that the object index API sets.
    stacks += build_streaming(app, config, object_index_api=object_index[-1] if object_index else None)
    stacks.extend(build_network(app, config, log_archive=log_archive))
    stacks.extend(build_disaster_recovery(app, config))
    for stack in stacks:
        Tags.of(stack).add("Project", config.organization.name_prefix)
        _check_budget(stack)
    return stacks


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
