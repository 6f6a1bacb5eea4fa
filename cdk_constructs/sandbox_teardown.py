"""The sandbox profile's teardown settings, applied to every stack of a sandbox deployment.

An organization keeps what holds data: buckets, keys, tables, databases and vaults are
retained when a stack is deleted, Object Lock and vault locks keep records unchangeable,
and deletion protection guards the tables and clusters. A sandbox must come apart
cleanly instead, so in the sandbox profile (and only there) this aspect turns each of
those settings into its teardown form:

* every resource is deleted with its stack (``DeletionPolicy``/``UpdateReplacePolicy``
  ``Delete``; a database is deleted without a final snapshot);
* KMS keys wait the minimum of 7 days before deletion (AWS allows 7 to 30);
* Object Lock keeps its default retention, but in governance mode for one day, so
  ``make destroy-sandbox`` can delete locked versions with
  ``s3:BypassGovernanceRetention`` (compliance mode would keep them until they expire);
* backup vaults lose their vault lock (a locked vault cannot be deleted once the lock's
  grace time has passed), so teardown can delete the recovery points and the vault;
* DynamoDB tables, Aurora clusters and the global database lose deletion protection.

Buckets must be empty before CloudFormation can delete them; ``make destroy-sandbox``
empties them first (see ``analysis/sandbox/teardown.py`` for the list it works from).
"""

from __future__ import annotations

import jsii
from aws_cdk import Aspects, CfnResource, IAspect, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from cdk_constructs.gates import acknowledge_nag, exempt_control

KEY_PENDING_WINDOW_DAYS = 7  # the shortest wait KMS allows before it deletes a key
OBJECT_LOCK_SANDBOX_DAYS = 1
SANDBOX_REASON = "sandbox profile: a sandbox deployment must be deleted completely by make destroy-sandbox"


@jsii.implements(IAspect)
class SandboxTeardown:
    """Turn the retention settings of every resource below a scope into their teardown form."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, Stack):
            node.termination_protection = False
            return
        if not isinstance(node, CfnResource):
            return
        node.apply_removal_policy(RemovalPolicy.DESTROY)
        if isinstance(node, kms.CfnKey):
            node.pending_window_in_days = KEY_PENDING_WINDOW_DAYS
        elif isinstance(node, s3.CfnBucket) and node.object_lock_enabled:
            node.add_property_override("ObjectLockConfiguration.Rule.DefaultRetention.Mode", "GOVERNANCE")
            node.add_property_override("ObjectLockConfiguration.Rule.DefaultRetention.Days", OBJECT_LOCK_SANDBOX_DAYS)
            node.add_property_deletion_override("ObjectLockConfiguration.Rule.DefaultRetention.Years")
        elif isinstance(node, backup.CfnBackupVault):
            node.add_property_deletion_override("LockConfiguration")
        elif isinstance(node, dynamodb.CfnTable):
            node.deletion_protection_enabled = False
        elif isinstance(node, dynamodb.CfnGlobalTable):
            node.add_property_override("Replicas.0.DeletionProtectionEnabled", False)
        elif isinstance(node, rds.CfnGlobalCluster):
            node.deletion_protection = False
        elif isinstance(node, rds.CfnDBCluster):
            node.deletion_protection = False
            acknowledge_nag(node, "AwsSolutions-RDS10", SANDBOX_REASON)
            exempt_control(node, "CT.RDS.PR.3", SANDBOX_REASON)


def apply_sandbox_teardown(stack: Stack) -> None:
    """Give ``stack`` the sandbox's teardown settings (see the module docstring)."""
    Aspects.of(stack).add(SandboxTeardown())
