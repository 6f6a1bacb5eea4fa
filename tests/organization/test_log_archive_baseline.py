"""Fine-grained assertions on the log-archive baseline: what each choice guarantees."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from org_config import AccountRole, load_config, parse_config
from org_config.loader import example_config_text
from org_config.names import log_bucket_name, organization_trail_arn
from stacks.log_archive_baseline import LogArchiveBaselineStack
from tests.support.synthesis import Synthesis, app_context

CONFIG = load_config()
STACK_NAME = f"log-archive-baseline-{CONFIG.regions.home}"
ORG_CONDITION = {"StringEquals": {"aws:SourceOrgID": CONFIG.organization.id}}


@pytest.fixture(scope="module")
def template(synthesis: Synthesis) -> Template:
    return Template.from_json(synthesis.stack(STACK_NAME).template)


def _resources(template: Template, type_: str) -> dict[str, Any]:
    return template.find_resources(type_)


def _bucket_id(template: Template, purpose: str) -> str:
    name = log_bucket_name(CONFIG, purpose)
    return next(k for k, v in _resources(template, "AWS::S3::Bucket").items() if v["Properties"]["BucketName"] == name)


def _policy_statements(template: Template, purpose: str) -> list[dict[str, Any]]:
    bucket_id = _bucket_id(template, purpose)
    policy = next(
        v
        for v in _resources(template, "AWS::S3::BucketPolicy").values()
        if v["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_stack_targets_log_archive_account_in_home_region(synthesis: Synthesis) -> None:
    stack = synthesis.stack(STACK_NAME)
    assert stack.account == CONFIG.account(AccountRole.LOG_ARCHIVE).id
    assert stack.region == CONFIG.regions.home


def test_key_rotates_and_is_retained(template: Template) -> None:
    template.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": Match.object_like({"EnableKeyRotation": True, "PendingWindowInDays": 30}),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_key_policy_grants_services_only_for_this_organization(template: Template) -> None:
    (key,) = _resources(template, "AWS::KMS::Key").values()
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    service_statements = [s for s in statements if "Service" in s["Principal"]]
    assert {s["Principal"]["Service"] for s in service_statements} == {
        "cloudtrail.amazonaws.com",
        "config.amazonaws.com",
        "delivery.logs.amazonaws.com",
    }
    trail = {"StringEquals": {"aws:SourceArn": organization_trail_arn(CONFIG)}}
    for statement in service_statements:
        conditions = statement.get("Condition", {})
        scoped_to_org = conditions.get("StringEquals", {}).get("aws:SourceOrgID") == CONFIG.organization.id
        scoped_to_trail = conditions.get("StringEquals") == trail["StringEquals"]
        assert scoped_to_org or scoped_to_trail, statement["Sid"]
    # Nobody but the owning account's IAM administers the key: no wildcard principal is
    # allowed anything (a wildcard appears only in the deny on grants).
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    assert all(s["Principal"] != "*" and s["Principal"] != {"AWS": "*"} for s in allowed)
    denied = [s for s in statements if s["Effect"] == "Deny"]
    assert [(s["Sid"], s["Action"], s["Principal"]) for s in denied] == [
        ("DenyGrantsExceptForAwsResources", "kms:CreateGrant", {"AWS": "*"})
    ]


@pytest.mark.parametrize("purpose", ["cloudtrail", "config", "vpc-flow-logs", "s3-access-logs"])
def test_every_log_bucket_is_private_versioned_and_retained(template: Template, purpose: str) -> None:
    bucket = _resources(template, "AWS::S3::Bucket")[_bucket_id(template, purpose)]
    properties = bucket["Properties"]
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert bucket["DeletionPolicy"] == "Retain"
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert [t["TransitionInDays"] for t in rule["Transitions"]] == [
        CONFIG.log_archive.transition_to_infrequent_access_days,
        CONFIG.log_archive.transition_to_glacier_days,
    ]
    assert rule["ExpirationInDays"] == CONFIG.log_archive.expire_after_days
    statements = _policy_statements(template, purpose)
    deny_tls = [s for s in statements if s["Effect"] == "Deny" and "aws:SecureTransport" in str(s)]
    assert deny_tls and deny_tls[0]["Action"] == "s3:*"
    deny_delete = [s for s in statements if s.get("Sid") == "DenyObjectDeletion"]
    assert deny_delete and deny_delete[0]["Effect"] == "Deny"
    assert set(deny_delete[0]["Action"]) == {"s3:DeleteObject", "s3:DeleteObjectVersion"}


@pytest.mark.parametrize("purpose", ["cloudtrail", "config", "vpc-flow-logs"])
def test_central_log_buckets_use_the_key_and_object_lock(template: Template, purpose: str) -> None:
    properties = _resources(template, "AWS::S3::Bucket")[_bucket_id(template, purpose)]["Properties"]
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert encryption["BucketKeyEnabled"] is True
    assert properties["ObjectLockEnabled"] is True
    assert properties["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == {
        "Mode": CONFIG.log_archive.object_lock_mode,
        "Days": CONFIG.log_archive.object_lock_days,
    }
    assert properties["LoggingConfiguration"]["LogFilePrefix"] == f"{purpose}/"


def test_access_log_bucket_uses_what_s3_log_delivery_supports(template: Template) -> None:
    properties = _resources(template, "AWS::S3::Bucket")[_bucket_id(template, "s3-access-logs")]["Properties"]
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert "ObjectLockConfiguration" not in properties


@pytest.mark.parametrize(
    ("purpose", "service", "condition"),
    [
        ("cloudtrail", "cloudtrail.amazonaws.com", ("aws:SourceArn", organization_trail_arn(CONFIG))),
        ("config", "config.amazonaws.com", ("aws:SourceOrgID", CONFIG.organization.id)),
        ("vpc-flow-logs", "delivery.logs.amazonaws.com", ("aws:SourceOrgID", CONFIG.organization.id)),
    ],
)
def test_delivery_services_write_only_for_this_organization(
    template: Template, purpose: str, service: str, condition: tuple[str, str]
) -> None:
    grants = [s for s in _policy_statements(template, purpose) if s["Principal"] == {"Service": service}]
    assert len(grants) == 2, "one ACL check and one write statement"
    key, value = condition
    for grant in grants:
        assert grant["Effect"] == "Allow"
        assert grant["Condition"]["StringEquals"][key] == value
    write = next(g for g in grants if g["Action"] == "s3:PutObject")
    assert write["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    # Nothing else in the bucket policy lets any other principal in.
    others = [
        s
        for s in _policy_statements(template, purpose)
        if s["Effect"] == "Allow" and s["Principal"] != {"Service": service}
    ]
    assert all(s["Principal"] == {"Service": "logging.s3.amazonaws.com"} for s in others)


def test_retention_follows_the_config() -> None:
    text = example_config_text().replace("object_lock_mode: GOVERNANCE", "object_lock_mode: COMPLIANCE")
    text = text.replace("object_lock_days: 365", "object_lock_days: 30")
    config = parse_config(text)
    app = cdk.App(context=app_context())
    stack = LogArchiveBaselineStack(
        app, "under-test", config=config, env=cdk.Environment(account="222222222222", region="eu-west-1")
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::S3::Bucket",
        {
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 30}},
            }
        },
    )
