"""The organization's structure: OUs, guardrail policies, and the member-roles StackSet.

    Root (r-...)
    ├── Security ─────── SCPs from config ┐
    ├── Infrastructure ─ SCPs from config ├── tag policy and backup policy at the root
    ├── Workloads ─┬ Prod                 │   member-roles StackSet to the configured OUs
    │              └ NonProd              │
    ├── Sandbox ──── + sandbox cost SCP   │
    └── Suspended ── deny-all ────────────┘

Deployed in the management account (only it can manage Organizations).
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_cloudformation as cloudformation
from aws_cdk import aws_organizations as organizations
from constructs import Construct

from org_config.model import ROOT_OU, OrgConfig
from stacks.organization.member_roles import backup_role_name
from stacks.organization.service_control_policies import attachments, library


class OrganizationStack(Stack):
    SCALES_WITH = "organization.organizational_units"  # the config value its resource count grows with

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: OrgConfig,
        member_roles_template: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        prefix = config.organization.name_prefix
        root_id = config.organization.root_id

        # OUs, parents before children (the config validated there are no cycles).
        self.ous: dict[str, organizations.CfnOrganizationalUnit] = {}
        pending = list(config.organization.organizational_units)
        while pending:
            ou = next(o for o in pending if o.parent == ROOT_OU or o.parent in self.ous)
            pending.remove(ou)
            parent_id = root_id if ou.parent == ROOT_OU else self.ous[ou.parent].attr_id
            self.ous[ou.name] = organizations.CfnOrganizationalUnit(
                self, f"Ou{ou.name}", name=ou.name, parent_id=parent_id
            )

        def target_id(target: str) -> str:
            return root_id if target == ROOT_OU else self.ous[target].attr_id

        # Service control policies: one resource per policy, attached where the config says.
        attached = attachments(config)  # validates names and limits first
        for name, policy in library(config).items():
            targets = [t for t, names in attached.items() if name in names]
            if not targets:
                continue  # an unused library policy is not created
            organizations.CfnPolicy(
                self,
                f"Scp{''.join(part.title() for part in name.split('-'))}",
                name=f"{prefix}-{name}",
                type="SERVICE_CONTROL_POLICY",
                description=policy.description,
                content=policy.document(),
                target_ids=[target_id(t) for t in targets],
            )

        # Tag policy at the root: tag keys and allowed values for cost reporting. It
        # reports non-compliance; enforcement is per resource type and left off so that
        # no deployment breaks on a tag typo.
        tag_policy = {
            "tags": {
                "costcenter": {
                    "tag_key": {"@@assign": "CostCenter"},
                    "tag_value": {"@@assign": list(config.tag_policy.cost_centers)},
                },
                "environment": {
                    "tag_key": {"@@assign": "Environment"},
                    "tag_value": {"@@assign": list(config.tag_policy.environments)},
                },
            }
        }
        organizations.CfnPolicy(
            self,
            "TagPolicy",
            name=f"{prefix}-cost-allocation-tags",
            type="TAG_POLICY",
            description="CostCenter and Environment tags with their allowed values",
            content=tag_policy,
            target_ids=[root_id],
        )

        # Backup policy at the root: resources tagged for backup are backed up daily in
        # the home and DR regions by the role the member-roles StackSet creates.
        backup = config.backup_policy
        backup_policy = {
            "plans": {
                f"{prefix}-daily": {
                    "regions": {"@@assign": [config.regions.home, config.regions.dr]},
                    "rules": {
                        "daily": {
                            "schedule_expression": {"@@assign": backup.schedule},
                            "target_backup_vault_name": {"@@assign": "Default"},
                            "lifecycle": {"delete_after_days": {"@@assign": str(backup.retention_days)}},
                        }
                    },
                    "selections": {
                        "tags": {
                            "tagged-resources": {
                                "iam_role_arn": {"@@assign": f"arn:aws:iam::$account:role/{backup_role_name(config)}"},
                                "tag_key": {"@@assign": backup.tag_key},
                                "tag_value": {"@@assign": [backup.tag_value]},
                            }
                        }
                    },
                }
            }
        }
        organizations.CfnPolicy(
            self,
            "BackupPolicy",
            name=f"{prefix}-daily-backups",
            type="BACKUP_POLICY",
            description=f"Daily backups of resources tagged {backup.tag_key}={backup.tag_value}",
            content=backup_policy,
            target_ids=[root_id],
        )

        # Accounts are referenced by id from the config. Creating them is a one-way door
        # (closing an account takes 90 days), so it happens only when the config asks.
        if config.organization.create_accounts:
            for account in config.accounts:
                if account.ou == ROOT_OU:
                    continue  # the management account exists already
                created = organizations.CfnAccount(
                    self,
                    f"Account{''.join(p.title() for p in account.name.split('-'))}",
                    account_name=account.name,
                    email=account.email,
                    parent_ids=[self.ous[account.ou].attr_id],
                )
                created.apply_removal_policy(RemovalPolicy.RETAIN)

        # Cross-account roles in every account of the configured OUs, now and in future
        # (auto-deployment), through a service-managed StackSet: Organizations creates the
        # execution roles, so nothing has to be bootstrapped in the member accounts.
        cloudformation.CfnStackSet(
            self,
            "MemberRoles",
            stack_set_name=f"{prefix}-member-roles",
            description="Audit read-only, break-glass and backup roles in every member account",
            permission_model="SERVICE_MANAGED",
            auto_deployment=cloudformation.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=False
            ),
            capabilities=["CAPABILITY_NAMED_IAM"],
            managed_execution={"Active": True},
            operation_preferences=cloudformation.CfnStackSet.OperationPreferencesProperty(
                failure_tolerance_count=0, max_concurrent_percentage=25, region_concurrency_type="PARALLEL"
            ),
            stack_instances_group=[
                cloudformation.CfnStackSet.StackInstancesProperty(
                    deployment_targets=cloudformation.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=[self.ous[ou].attr_id for ou in config.guardrails.member_roles_ous]
                    ),
                    regions=[config.regions.home],  # IAM is global: one region is enough
                )
            ],
            template_body=json.dumps(member_roles_template, sort_keys=True),
        )
