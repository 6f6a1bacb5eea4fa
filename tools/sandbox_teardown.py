"""The part of ``make destroy-sandbox`` CloudFormation cannot do: empty what holds data.

CloudFormation deletes a bucket only when it is empty, a backup vault only when it holds
no recovery points, and a hosted zone only when the records it did not create are gone
(the certificate's validation record). This runs before ``cdk destroy``, with the
caller's credentials, on the resources the teardown plan lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import boto3  # type: ignore[import-untyped]

from analysis.assembly import StackTemplate
from analysis.sandbox.teardown import TeardownStep
from org_config.model import OrgConfig

DELETE_BATCH = 1000  # the most keys one DeleteObjects call takes


def _physical_ids(stack: StackTemplate) -> dict[str, str]:
    cloudformation = boto3.client("cloudformation", region_name=stack.region)
    try:
        resources = cloudformation.describe_stack_resources(StackName=stack.name)["StackResources"]
    except cloudformation.exceptions.ClientError:
        return {}  # the stack was never deployed, or is gone already
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources if "PhysicalResourceId" in r}


def empty_bucket(bucket: str, region: str) -> int:
    """Delete every object version and delete marker, bypassing governance-mode locks."""
    s3 = boto3.client("s3", region_name=region)
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        keys: list[dict[str, Any]] = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True}, BypassGovernanceRetention=True)
            removed += len(batch)
    return removed


def empty_vault(vault: str, region: str) -> int:
    backup = boto3.client("backup", region_name=region)
    removed = 0
    for page in backup.get_paginator("list_recovery_points_by_backup_vault").paginate(BackupVaultName=vault):
        for point in page.get("RecoveryPoints", []):
            backup.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=point["RecoveryPointArn"])
            removed += 1
    return removed


def remove_validation_records(zone_id: str) -> int:
    """Delete the ACM validation records (CNAMEs whose name starts with an underscore)."""
    route53 = boto3.client("route53")
    removed = 0
    for page in route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone_id):
        for record in page["ResourceRecordSets"]:
            if record["Type"] == "CNAME" and record["Name"].startswith("_"):
                route53.change_resource_record_sets(
                    HostedZoneId=zone_id,
                    ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]},
                )
                removed += 1
    return removed


def empty_stateful_resources(config: OrgConfig, stacks: Sequence[StackTemplate], steps: Sequence[TeardownStep]) -> None:
    by_name = {s.name: s for s in stacks}
    ids = {name: _physical_ids(stack) for name, stack in by_name.items()}
    for step in steps:
        physical = ids[step.stack].get(step.logical_id)
        region = by_name[step.stack].region
        if physical is None:
            continue
        if step.resource_type == "AWS::S3::Bucket":
            print(f"  emptied {physical}: {empty_bucket(physical, region)} versions")
        elif step.resource_type == "AWS::Backup::BackupVault":
            print(f"  emptied {physical}: {empty_vault(physical, region)} recovery points")
        elif step.resource_type == "AWS::Route53::HostedZone":
            print(f"  cleaned {physical}: {remove_validation_records(physical)} validation records")
