"""Every KMS key's policy, evaluated request by request: each service that uses the key
still can, and nobody can hand the key away with a grant.

``HardenedKey`` adds a statement that denies ``kms:CreateGrant`` unless an integrated AWS
service creates the grant for one of its resources (``kms:GrantIsForAWSResource``) or a
service principal calls (``aws:PrincipalIsAWSService``). The table below lists, for each
key, the services that use it and the KMS calls they make, as their documentation
describes them; the test evaluates the key policy against each call with the project's
policy evaluator (statements' action, resource and condition parts) plus the principal
match a key policy adds. A key added to any stack without a row here fails the test.

An ``account`` principal stands for an IAM role of the key's own account: the key policy
delegates to IAM (``arn:aws:iam::<account>:root``), and the role's own policy grants the
call (checked elsewhere, with each stack's assertions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from analysis.organization.scp_evaluator import Request, load_policy
from cdk_constructs.hardened_key import DENY_GRANTS_SID
from org_config import AccountRole, load_config
from org_config.names import organization_trail_arn
from stacks.organization.audit_services import security_alarm_rule_name
from stacks.organization.trail_monitoring import cis_alarm_arn_pattern, trail_log_group_name
from tests.support.synthesis import Synthesis

CONFIG = load_config()
HOME = CONFIG.regions.home
PREFIX = CONFIG.organization.name_prefix
ORG_ID = CONFIG.organization.id
MANAGEMENT = CONFIG.account(AccountRole.MANAGEMENT).id
AUDIT = CONFIG.account(AccountRole.AUDIT).id
LOG_ARCHIVE = CONFIG.account(AccountRole.LOG_ARCHIVE).id
WORKLOAD = CONFIG.account_named(CONFIG.object_index.account).id
DR = CONFIG.regions.dr
DR_WORKLOAD = CONFIG.account_named(CONFIG.disaster_recovery.account).id
STREAMING = CONFIG.account_named(CONFIG.streaming.account).id
DELIVERY = CONFIG.account_named(CONFIG.delivery.account).id if CONFIG.delivery else ""


@dataclass(frozen=True)
class KeyUse:
    who: str  # the service, in words
    principal: tuple[Literal["service", "account"], str]  # a service principal, or a role of the key's account
    action: str
    context: dict[str, Any] = field(default_factory=dict)


def _service(who: str, principal: str, actions: list[str], **context: Any) -> list[KeyUse]:
    return [
        KeyUse(who, ("service", principal), action, {"aws:PrincipalIsAWSService": True, **context})
        for action in actions
    ]


def _through(who: str, service: str, actions: list[str], **context: Any) -> list[KeyUse]:
    """A role of the key's account, calling through an integrated service (kms:ViaService)."""
    via = {"kms:ViaService": f"{service}.{HOME}.amazonaws.com", "aws:PrincipalIsAWSService": False}
    uses = [
        KeyUse(who, ("account", ""), action, {**via, **context}) for action in actions if action != "kms:CreateGrant"
    ]
    if "kms:CreateGrant" in actions:  # the service creates the grant for its own resource
        uses.append(KeyUse(who, ("account", ""), "kms:CreateGrant", {**via, "kms:GrantIsForAWSResource": True}))
    return uses


_ALARMS_OF = "arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
_TRAIL = organization_trail_arn(CONFIG)
_TRAIL_LOG_GROUP = f"arn:aws:logs:{HOME}:{MANAGEMENT}:log-group:{trail_log_group_name(CONFIG)}"

# (stack, key alias) -> the services that use the key and the calls they make.
KEY_USES: dict[tuple[str, str], list[KeyUse]] = {
    (f"log-archive-baseline-{HOME}", f"alias/{PREFIX}/log-archive"): [
        # CloudTrail encrypts each log file for the organization trail.
        *_service(
            "CloudTrail",
            "cloudtrail.amazonaws.com",
            ["kms:GenerateDataKey", "kms:DescribeKey"],
            **{"aws:SourceArn": _TRAIL, "kms:EncryptionContext:aws:cloudtrail:arn": _TRAIL},
        ),
        # AWS Config delivers configuration snapshots and history of every member account.
        *_service(
            "AWS Config",
            "config.amazonaws.com",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            **{"aws:SourceOrgID": ORG_ID, "aws:SourceAccount": "777777777777"},
        ),
        # VPC flow logs, delivered to S3 by the log delivery service of every member account.
        *_service(
            "VPC flow log delivery",
            "delivery.logs.amazonaws.com",
            ["kms:GenerateDataKey", "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
            **{"aws:SourceOrgID": ORG_ID, "aws:SourceAccount": "444444444444"},
        ),
        # Readers of the logs in the log-archive account decrypt through S3.
        *_through("S3 (log readers)", "s3", ["kms:Decrypt"]),
    ],
    (f"object-index-data-{HOME}", f"alias/{PREFIX}/object-index"): [
        # S3 encrypts the event notifications it sends to the encrypted queue.
        *_service(
            "S3 event notifications",
            "s3.amazonaws.com",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            **{
                "aws:SourceAccount": WORKLOAD,
                "aws:SourceArn": f"arn:aws:s3:::{PREFIX}-object-index-{WORKLOAD}-{HOME}",
            },
        ),
        # Alarms publish to the encrypted alarm topic.
        *_service(
            "CloudWatch alarms",
            "cloudwatch.amazonaws.com",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            **{
                "aws:SourceAccount": WORKLOAD,
                "aws:SourceArn": _ALARMS_OF.format(region=HOME, account=WORKLOAD, name="indexer-errors"),
            },
        ),
        # The function and API access log groups.
        *_service(
            "CloudWatch Logs",
            f"logs.{HOME}.amazonaws.com",
            ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            **{"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{HOME}:{WORKLOAD}:log-group:/aws/lambda/indexer"},
        ),
        # Secrets Manager encrypts the pagination key for the deployer, decrypts it for the query function.
        *_through("Secrets Manager", "secretsmanager", ["kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant"]),
        # DynamoDB creates a grant on the key when it creates the table, then reads and writes under it.
        *_through("DynamoDB", "dynamodb", ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"]),
        # SQS encrypts messages for senders and decrypts them for the indexer.
        *_through("SQS", "sqs", ["kms:GenerateDataKey", "kms:Decrypt"]),
        # Lambda encrypts the functions' environment variables and decrypts them at start.
        *_through("Lambda environment", "lambda", ["kms:Encrypt", "kms:Decrypt", "kms:CreateGrant"]),
        # S3 encrypts uploaded objects for the uploader (SSE-KMS with a bucket key).
        *_through("S3 objects", "s3", ["kms:GenerateDataKey", "kms:Decrypt"]),
        # AWS Backup, for the organization backup policy (the table is tagged for it).
        *_through("AWS Backup", "backup", ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt"]),
    ],
    (f"streaming-data-{HOME}", f"alias/{PREFIX}/streaming"): [
        # Alarms publish to the encrypted alarm topic.
        *_service(
            "CloudWatch alarms",
            "cloudwatch.amazonaws.com",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            **{
                "aws:SourceAccount": STREAMING,
                "aws:SourceArn": _ALARMS_OF.format(region=HOME, account=STREAMING, name="consumer-errors"),
            },
        ),
        # The consumer, API, Firehose and Flink log groups.
        *_service(
            "CloudWatch Logs",
            f"logs.{HOME}.amazonaws.com",
            ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            **{"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{HOME}:{STREAMING}:log-group:/aws/lambda/consumer"},
        ),
        # Kinesis encrypts records for the API's producer role, decrypts them for each reader.
        *_through("Kinesis", "kinesis", ["kms:GenerateDataKey", "kms:Decrypt"]),
        # Firehose and Flink write the data lake (SSE-KMS with a bucket key); readers decrypt.
        *_through("S3 data lake", "s3", ["kms:GenerateDataKey", "kms:Decrypt"]),
        # DynamoDB creates a grant on the key when it creates the events table.
        *_through("DynamoDB", "dynamodb", ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"]),
        # SQS encrypts the on-failure queue's messages.
        *_through("SQS", "sqs", ["kms:GenerateDataKey", "kms:Decrypt"]),
        # Lambda encrypts the consumer's environment variables.
        *_through("Lambda environment", "lambda", ["kms:Encrypt", "kms:Decrypt", "kms:CreateGrant"]),
    ],
    # Disaster-recovery tiers: the data key of each region, and each region's service key.
    (f"dr-home-{HOME}", f"alias/{PREFIX}/dr-workload"): [
        *_through(
            "Aurora (primary cluster)",
            "rds",
            ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"],
        ),
        *_through("S3 objects and replication", "s3", ["kms:GenerateDataKey", "kms:Decrypt"]),
        *_through(
            "Secrets Manager (master user)", "secretsmanager", ["kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant"]
        ),
        *_through("AWS Backup", "backup", ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"]),
    ],
    (f"dr-home-{HOME}", f"alias/{PREFIX}/dr-workload-service"): [
        *_service(
            "CloudWatch Logs",
            f"logs.{HOME}.amazonaws.com",
            ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            **{
                "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{HOME}:{DR_WORKLOAD}:log-group:/aws/lambda/service"
            },
        ),
        *_through("Lambda environment", "lambda", ["kms:Encrypt", "kms:Decrypt", "kms:CreateGrant"]),
    ],
    (f"dr-recovery-{DR}", f"alias/{PREFIX}/dr-workload"): [
        *_through(
            "AWS Backup (copies into the vault)",
            "backup",
            ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"],
        ),
        *_through(
            "Aurora (secondary cluster)",
            "rds",
            ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"],
        ),
        *_through("S3 replicas", "s3", ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"]),
        *_through(
            "Secrets Manager (replica)", "secretsmanager", ["kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant"]
        ),
    ],
    (f"dr-standby-{DR}", f"alias/{PREFIX}/dr-workload-service"): [
        *_service(
            "CloudWatch Logs",
            f"logs.{DR}.amazonaws.com",
            ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            **{"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{DR}:{DR_WORKLOAD}:log-group:/aws/lambda/service"},
        ),
        *_through("Lambda environment", "lambda", ["kms:Encrypt", "kms:Decrypt", "kms:CreateGrant"]),
    ],
    (f"organization-services-{HOME}", f"alias/{PREFIX}/security-monitoring"): [
        # CloudWatch Logs encrypts the organization trail's log group.
        *_service(
            "CloudWatch Logs (trail log group)",
            f"logs.{HOME}.amazonaws.com",
            ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            **{"kms:EncryptionContext:aws:logs:arn": _TRAIL_LOG_GROUP},
        ),
        # The CIS alarms publish to the encrypted local topic.
        *_service(
            "CloudWatch alarms",
            "cloudwatch.amazonaws.com",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            **{
                "aws:SourceAccount": MANAGEMENT,
                "aws:SourceArn": cis_alarm_arn_pattern(CONFIG).replace("*", "4.3-root-user-activity"),
            },
        ),
    ],
    (f"audit-services-{HOME}", f"alias/{PREFIX}/security-alarms"): [
        # EventBridge publishes the forwarded alarms to the encrypted topic.
        *_service(
            "EventBridge",
            "events.amazonaws.com",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            **{
                "aws:SourceAccount": AUDIT,
                "aws:SourceArn": f"arn:aws:events:{HOME}:{AUDIT}:rule/{security_alarm_rule_name(CONFIG)}",
            },
        ),
    ],
    (f"delivery-pipeline-{HOME}", f"alias/{PREFIX}/delivery"): [
        # CloudWatch Logs encrypts the build logs of the pipeline's projects.
        *_service(
            "CloudWatch Logs",
            f"logs.{HOME}.amazonaws.com",
            ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            **{"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{HOME}:{DELIVERY}:log-group:builds"},
        ),
        # The pipeline and its builds read and write the encrypted artifacts through S3.
        *_through("CodePipeline and CodeBuild", "s3", ["kms:GenerateDataKey", "kms:Decrypt"]),
    ],
}

# Requests that must not reach the key, whatever the key: (what, principal, action, context).
REFUSED: list[tuple[str, tuple[Literal["service", "account"], str], str, dict[str, Any]]] = [
    (
        "an administrator grants the key to another principal",
        ("account", ""),
        "kms:CreateGrant",
        {"kms:GrantIsForAWSResource": False, "aws:PrincipalIsAWSService": False},
    ),
    ("a grant request without the grant keys", ("account", ""), "kms:CreateGrant", {}),
    (
        "a role of another account",
        ("account", "999999999999"),
        "kms:Decrypt",
        {"aws:PrincipalIsAWSService": False},
    ),
]


@dataclass(frozen=True)
class _Key:
    stack: str
    alias: str
    account: str
    arn: str
    statements: list[dict[str, Any]]


def _keys(synthesis: Synthesis) -> dict[tuple[str, str], _Key]:
    keys: dict[tuple[str, str], _Key] = {}
    for stack in synthesis.stacks:
        resources = stack.template.get("Resources", {})
        aliases = {
            r["Properties"]["TargetKeyId"]["Fn::GetAtt"][0]: r["Properties"]["AliasName"]
            for r in resources.values()
            if r["Type"] == "AWS::KMS::Alias"
        }
        for logical_id, resource in resources.items():
            if resource["Type"] != "AWS::KMS::Key":
                continue
            alias = aliases.get(logical_id, f"(no alias: {logical_id})")
            keys[(stack.name, alias)] = _Key(
                stack=stack.name,
                alias=alias,
                account=stack.account,
                arn=f"arn:aws:kms:{stack.region}:{stack.account}:key/{logical_id}",
                statements=resource["Properties"]["KeyPolicy"]["Statement"],
            )
    return keys


def _principal_matches(element: Any, principal: tuple[str, str], key_account: str) -> bool:
    kind, name = principal
    if element in ("*", {"AWS": "*"}):
        return True
    assert isinstance(element, dict), element
    if kind == "service":
        services = element.get("Service", [])
        return name in ([services] if isinstance(services, str) else services)
    accounts = element.get("AWS", [])
    account = name or key_account
    return f"arn:aws:iam::{account}:root" in ([accounts] if isinstance(accounts, str) else accounts)


def _decide(key: _Key, principal: tuple[str, str], action: str, context: dict[str, Any]) -> tuple[str, str]:
    """``("deny" | "allow" | "implicit deny", deciding statement)`` for one request."""
    request = Request(
        principal_arn=principal[1] or f"arn:aws:iam::{key.account}:role/caller",
        account_id=principal[1] if principal[0] == "account" and principal[1] else key.account,
        action=action,
        resource=key.arn,
        region=HOME,
        context=context,
    )
    allowed_by = None
    for index, raw in enumerate(key.statements):
        if not _principal_matches(raw["Principal"], principal, key.account):
            continue
        body = {k: v for k, v in raw.items() if k != "Principal"}
        (statement,) = load_policy({"Version": "2012-10-17", "Statement": [body]}).statements
        if not statement.matches(request):
            continue
        label = raw.get("Sid", f"#{index}")
        if raw["Effect"] == "Deny":
            return "deny", label
        allowed_by = allowed_by or label
    return ("allow", allowed_by) if allowed_by else ("implicit deny", "")


@pytest.fixture(scope="module")
def keys(synthesis: Synthesis) -> dict[tuple[str, str], _Key]:
    return _keys(synthesis)


def test_every_key_lists_the_services_that_use_it(keys: dict[tuple[str, str], _Key]) -> None:
    assert set(keys) == set(KEY_USES), "list each new key's users in KEY_USES"


@pytest.mark.parametrize("key_id", list(KEY_USES), ids=[alias.split("/")[-1] for _, alias in KEY_USES])
def test_every_key_denies_grants_except_for_aws_resources(
    keys: dict[tuple[str, str], _Key], key_id: tuple[str, str]
) -> None:
    """The statement is in the form AWS Control Tower's CT.KMS.PR.3 checks for."""
    (deny,) = [s for s in keys[key_id].statements if s.get("Sid") == DENY_GRANTS_SID]
    assert deny == {
        "Sid": DENY_GRANTS_SID,
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "kms:CreateGrant",
        "Resource": "*",
        "Condition": {"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
    }


@pytest.mark.parametrize(
    ("key_id", "use"),
    [(key_id, use) for key_id, uses in KEY_USES.items() for use in uses],
    ids=[f"{alias.split('/')[-1]}-{use.who}-{use.action}" for (_, alias), uses in KEY_USES.items() for use in uses],
)
def test_each_service_that_uses_the_key_still_can(
    keys: dict[tuple[str, str], _Key], key_id: tuple[str, str], use: KeyUse
) -> None:
    decision, statement = _decide(keys[key_id], use.principal, use.action, use.context)
    assert decision == "allow", f"{use.who} {use.action}: {decision} {statement}"


@pytest.mark.parametrize("key_id", list(KEY_USES), ids=[alias.split("/")[-1] for _, alias in KEY_USES])
@pytest.mark.parametrize(("what", "principal", "action", "context"), REFUSED, ids=[r[0] for r in REFUSED])
def test_nobody_else_reaches_the_key(
    keys: dict[tuple[str, str], _Key],
    key_id: tuple[str, str],
    what: str,
    principal: tuple[Literal["service", "account"], str],
    action: str,
    context: dict[str, Any],
) -> None:
    decision, statement = _decide(keys[key_id], principal, action, context)
    assert decision != "allow", f"{what}: allowed by {statement}"
    if action == "kms:CreateGrant":
        assert (decision, statement) == ("deny", DENY_GRANTS_SID)


@pytest.mark.parametrize("key_id", list(KEY_USES), ids=[alias.split("/")[-1] for _, alias in KEY_USES])
def test_a_service_principal_without_its_source_conditions_is_refused(
    keys: dict[tuple[str, str], _Key], key_id: tuple[str, str]
) -> None:
    """The service rows pass because of their conditions, not in spite of them: the same
    calls from another organization, account or resource find no statement."""
    for use in KEY_USES[key_id]:
        if use.principal[0] != "service":
            continue
        context = {"aws:PrincipalIsAWSService": True}
        decision, statement = _decide(keys[key_id], use.principal, use.action, context)
        assert decision != "allow", f"{use.who} {use.action} allowed without conditions by {statement}"
