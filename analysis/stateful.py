"""Stateful resources in a template: which ones there are and whether they are retained.

A stateful resource holds data or keys; if CloudFormation replaces or deletes it, the data
is gone. These checks read the synthesized template, so they cover every stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STATEFUL_TYPES: frozenset[str] = frozenset(
    {
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::DynamoDB::Table",
        "AWS::DynamoDB::GlobalTable",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::Logs::LogGroup",
        "AWS::Kinesis::Stream",
        "AWS::SQS::Queue",
        "AWS::Backup::BackupVault",
    }
)
# Queues drain and log groups expire by their own retention, so their loss costs no data
# we promise to keep: their logical IDs are pinned, but they may be destroyed with the stack.
RETAIN_REQUIRED: frozenset[str] = STATEFUL_TYPES - {"AWS::SQS::Queue", "AWS::Logs::LogGroup"}


def stateful_inventory(template: Mapping[str, Any]) -> dict[str, str]:
    """Logical ID -> type of every stateful resource in ``template``."""
    return {
        logical_id: resource["Type"]
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] in STATEFUL_TYPES
    }


def unretained(template: Mapping[str, Any]) -> list[str]:
    """Logical IDs of resources that must be retained but would be deleted or replaced away."""
    return [
        logical_id
        for logical_id, resource in template.get("Resources", {}).items()
        if resource["Type"] in RETAIN_REQUIRED
        and (resource.get("DeletionPolicy") != "Retain" or resource.get("UpdateReplacePolicy") != "Retain")
    ]
