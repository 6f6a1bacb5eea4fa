"""Fine-grained assertions on the S3 object index stacks: the event path, the table the
handlers expect, the API's authentication and limits, the alarms, and least privilege.

The table layout, the routes and the environment are compared with the handler code in
``lambdas/object_index`` itself, so the stacks and the handlers cannot drift apart.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import shlex
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from analysis.stateful import stateful_inventory
from cdk_constructs.gates import attach_gates
from cdk_constructs.lambda_runtime import POWERTOOLS_LAYER_VERSION, powertools_layer_arn
from cdk_constructs.object_index.contract import INDEXER_TIMEOUT_SECONDS
from org_config import load_config, parse_config
from org_config.loader import example_config_text
from org_config.names import object_index_bucket_name
from stacks.object_index.data import ObjectIndexDataStack

# The handler modules, loaded the way the Lambda runtime loads them (their folder on sys.path).
from tests.object_index.helpers import LAMBDA_DIR as HANDLERS
from tests.object_index.helpers import keys as KEYS
from tests.object_index.test_aws_calls import INDEXER_CALLS, QUERY_API_CALLS, RECONCILE_CALLS
from tests.support.synthesis import Synthesis, app_context, new_app, synthesize, temporary_outdir

CONFIG = load_config()
assert CONFIG.object_index is not None  # the example deploys the object index
SETTINGS = CONFIG.object_index
HOME = CONFIG.regions.home
DATA_STACK = f"object-index-data-{HOME}"
API_STACK = f"object-index-api-{HOME}"

# The IAM actions each AWS call of the handlers needs (the calls are recorded in the
# handler tests and must equal these sets there).
ACTIONS_FOR_CALL = {
    ("dynamodb", "GetItem"): {"dynamodb:GetItem"},
    ("dynamodb", "PutItem"): {"dynamodb:PutItem"},
    ("dynamodb", "TransactWriteItems"): {"dynamodb:PutItem", "dynamodb:UpdateItem"},
    ("dynamodb", "Query"): {"dynamodb:Query"},
    ("s3", "HeadObject"): {"s3:GetObject", "s3:ListBucket"},
    ("s3", "ListObjectsV2"): {"s3:ListBucket"},
    ("secretsmanager", "GetSecretValue"): {"secretsmanager:GetSecretValue"},
}
# What every function's role gets besides its data-plane actions.
PLUMBING = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "kms:Decrypt",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}
SQS_CONSUME = {
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
}
WRITE_ACTIONS = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:TransactWriteItems",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
}


def _source(module: str) -> ast.Module:
    return ast.parse((HANDLERS / f"{module}.py").read_text(encoding="utf-8"))


def _environment_read_by(module: str) -> set[str]:
    """Names the handler module reads with ``os.environ.get("NAME", ...)``."""
    return {
        node.args[0].value
        for node in ast.walk(_source(module))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and ast.unparse(node.func.value) == "os.environ"
        and isinstance(node.args[0], ast.Constant)
    }


def _routes() -> set[str]:
    """Paths of the query handler's ``@app.get(...)`` routes, in API Gateway's notation."""
    paths = set()
    for node in ast.walk(_source("query_api")):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "app.get":
                    paths.add(re.sub(r"<(\w+)>", r"{\1}", decorator.args[0].value))  # type: ignore[attr-defined]
    return paths


def _module_constant(module: str, name: str) -> Any:
    for node in _source(module).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{module}.{name} not found")


def _indexer_service() -> str:
    """The service dimension the indexer's metrics carry (``Metrics(service=...)``)."""
    for node in ast.walk(_source("indexer")):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "Metrics":
            for keyword in node.keywords:
                if keyword.arg == "service":
                    return str(ast.literal_eval(keyword.value))
    raise AssertionError("indexer.py creates no Metrics(service=...)")


# --- Templates -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data(synthesis: Synthesis) -> dict[str, Any]:
    return synthesis.stack(DATA_STACK).template


@pytest.fixture(scope="module")
def api(synthesis: Synthesis) -> dict[str, Any]:
    return synthesis.stack(API_STACK).template


def _of_type(template: dict[str, Any], type_: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def _one(template: dict[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    (item,) = _of_type(template, type_).items()
    return item


def _by_path(template: dict[str, Any], path_suffix: str) -> tuple[str, dict[str, Any]]:
    """The resource whose construct path ends with ``path_suffix``."""
    (item,) = [(k, v) for k, v in template["Resources"].items() if v["Metadata"]["aws:cdk:path"].endswith(path_suffix)]
    return item


def _from_data(data: dict[str, Any], value: Any) -> Any:
    """What a value the API stack imports from the data stack is, in the data stack."""
    if isinstance(value, dict) and "Fn::GetStackOutput" in value:
        imported = value["Fn::GetStackOutput"]
        assert imported["StackName"] == DATA_STACK
        return data["Outputs"][imported["OutputName"]]["Value"]
    return value


def _ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def _arn(logical_id: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _key_id(data: dict[str, Any]) -> str:
    return _one(data, "AWS::KMS::Key")[0]


def _statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every statement of every policy attached to ``role_id``, inline or separate."""
    statements: list[dict[str, Any]] = []
    role = template["Resources"][role_id]["Properties"]
    for policy in role.get("Policies", []):
        statements += policy["PolicyDocument"]["Statement"]
    for policy in _of_type(template, "AWS::IAM::Policy").values():
        if _ref(role_id) in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _resources(statement: dict[str, Any]) -> list[Any]:
    resources = statement["Resource"]
    return resources if isinstance(resources, list) else [resources]


def _role_of(api: dict[str, Any], function_path: str) -> str:
    _, function = _by_path(api, f"/{function_path}/Function/Resource")
    role: str = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return role


# --- Placement and the stateful/stateless split ------------------------------------------------


def test_both_stacks_target_the_configured_account_in_the_home_region(synthesis: Synthesis) -> None:
    account = CONFIG.account_named(SETTINGS.account).id
    for name in (DATA_STACK, API_STACK):
        stack = synthesis.stack(name)
        assert (stack.account, stack.region) == (account, HOME)


def test_data_lives_only_in_the_data_stack(data: dict[str, Any], api: dict[str, Any]) -> None:
    """Replacing the API stack can lose logs at most, never an object, an index entry or the
    key that signs page tokens."""
    assert set(stateful_inventory(api).values()) == {"AWS::Logs::LogGroup"}
    assert not _of_type(api, "AWS::SecretsManager::Secret")
    assert len(_of_type(data, "AWS::SecretsManager::Secret")) == 1
    assert sorted(stateful_inventory(data).values()) == [
        "AWS::DynamoDB::Table",
        "AWS::KMS::Key",
        "AWS::S3::Bucket",
        "AWS::S3::Bucket",
        "AWS::SQS::Queue",
        "AWS::SQS::Queue",
    ]


def _key_policy(resources: dict[str, Any]) -> set[str]:
    """The data key's policy statements, each as canonical JSON."""
    (key,) = [r for r in resources.values() if r["Type"] == "AWS::KMS::Key"]
    return {json.dumps(s, sort_keys=True) for s in key["Properties"]["KeyPolicy"]["Statement"]}


def test_the_api_stack_changes_nothing_in_the_data_stack(data: dict[str, Any]) -> None:
    """The data stack built alone has the same resources as beside the API stack, so no
    change to the API stack can change it. (A secret encrypted with the data key in the API
    stack, say, adds a Secrets Manager statement to the key policy.) Only the outputs the API
    stack imports differ."""
    outdir = temporary_outdir("cdk-out-data-alone-")
    app = new_app(outdir)
    attach_gates(app)
    stack = ObjectIndexDataStack(
        app,
        DATA_STACK,
        config=CONFIG,
        env=cdk.Environment(account=CONFIG.account_named(SETTINGS.account).id, region=HOME),
    )
    cdk.Tags.of(stack).add("Project", CONFIG.organization.name_prefix)  # as the app tags every stack
    alone = synthesize(app, outdir)
    assert alone.validation_error is None
    resources_alone = alone.stack(DATA_STACK).template["Resources"]
    added = _key_policy(data["Resources"]) - _key_policy(resources_alone)
    assert not added, f"the API stack adds to the data key's policy: {sorted(added)}"
    assert data["Resources"] == resources_alone


# --- The table, exactly as the handlers expect it ---------------------------------------------


def test_table_keys_and_indexes_match_the_handlers(data: dict[str, Any]) -> None:
    _, table = _one(data, "AWS::DynamoDB::Table")
    properties = table["Properties"]
    assert {k["AttributeName"]: k["KeyType"] for k in properties["KeySchema"]} == {
        name: key_type for name, (key_type, _) in KEYS.TABLE_KEY_SCHEMA.items()
    }
    indexes = {
        index["IndexName"]: {
            "partition_key": next(k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH"),
            "sort_key": next(k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "RANGE"),
            "projection": index["Projection"]["ProjectionType"],
        }
        for index in properties["GlobalSecondaryIndexes"]
    }
    assert indexes == KEYS.GSI_DEFINITIONS
    assert {d["AttributeName"]: d["AttributeType"] for d in properties["AttributeDefinitions"]} == {
        name: "S"
        for definition in [*KEYS.GSI_DEFINITIONS.values()]
        for name in (definition["partition_key"], definition["sort_key"])
    } | {name: attribute_type for name, (_, attribute_type) in KEYS.TABLE_KEY_SCHEMA.items()}
    assert properties["TimeToLiveSpecification"] == {"AttributeName": KEYS.TTL_ATTRIBUTE, "Enabled": True}


def test_table_is_on_demand_recoverable_encrypted_and_protected(data: dict[str, Any]) -> None:
    Template.from_json(data).has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like(
                {
                    "BillingMode": "PAY_PER_REQUEST",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": {"KMSMasterKeyId": _arn(_key_id(data)), "SSEEnabled": True, "SSEType": "KMS"},
                    "DeletionProtectionEnabled": True,
                    "TableName": Match.absent(),  # CloudFormation names it: no clash on a second deploy
                    "Tags": Match.array_with(
                        [{"Key": CONFIG.backup_policy.tag_key, "Value": CONFIG.backup_policy.tag_value}]
                    ),
                }
            ),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )


def test_tombstones_outlive_every_queued_event(data: dict[str, Any]) -> None:
    """A delete leaves a tombstone so an older create arriving later cannot resurrect the
    object; the tombstone must outlive the longest time an event can wait (SQS counts the
    retention from the first enqueue, in the dead-letter queue too)."""
    longest_wait = max(q["Properties"]["MessageRetentionPeriod"] for q in _of_type(data, "AWS::SQS::Queue").values())
    assert longest_wait < KEYS.TOMBSTONE_RETENTION_SECONDS


# --- Event path: bucket -> queue -> indexer ---------------------------------------------------------


def test_bucket_sends_customer_object_events_to_the_queue(data: dict[str, Any]) -> None:
    bucket_id, bucket = _by_path(data, "/Objects/Bucket/Resource")
    queue_id, _ = _by_path(data, "/Events/Resource")
    properties = bucket["Properties"]
    assert properties["BucketName"] == object_index_bucket_name(CONFIG)
    configurations = properties["NotificationConfiguration"]["QueueConfigurations"]
    assert {c["Event"] for c in configurations} == {
        "s3:ObjectCreated:*",
        "s3:ObjectRemoved:*",
        "s3:LifecycleExpiration:DeleteMarkerCreated",
    }
    for configuration in configurations:
        assert configuration["Queue"] == _arn(queue_id)
        assert configuration["Filter"] == {"S3Key": {"Rules": [{"Name": "prefix", "Value": KEYS.KEY_PREFIX}]}}
    # S3 checks that it may send to the queue when the configuration is set.
    policy_id, _ = _by_path(data, "/Events/Policy/Resource")
    assert policy_id in bucket["DependsOn"]
    # Customers delete objects; the index follows. (The log buckets deny deletion.)
    bucket_policy = next(
        p for p in _of_type(data, "AWS::S3::BucketPolicy").values() if p["Properties"]["Bucket"] == _ref(bucket_id)
    )
    assert "DenyObjectDeletion" not in str(bucket_policy)
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == _arn(_key_id(data))


def test_only_this_bucket_may_send_to_the_queue_and_use_the_key(data: dict[str, Any]) -> None:
    bucket_arn = f"arn:aws:s3:::{object_index_bucket_name(CONFIG)}"
    account = CONFIG.account_named(SETTINGS.account).id
    expected = {"StringEquals": {"aws:SourceAccount": account}, "ArnEquals": {"aws:SourceArn": bucket_arn}}
    _, policy = _by_path(data, "/Events/Policy/Resource")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (send,) = [s for s in statements if s["Effect"] == "Allow"]
    assert send["Principal"] == {"Service": "s3.amazonaws.com"}
    assert send["Action"] == "sqs:SendMessage"
    assert send["Condition"] == expected
    # Principals of the account whose own policies allow SendMessage are denied too: only S3
    # for this bucket, and the operator role that redrives dead letters, may send.
    (only_s3,) = [s for s in statements if s.get("Sid") == "OnlyThisBucketSends"]
    queue_id, _ = _by_path(data, "/Events/Resource")
    assert (only_s3["Effect"], only_s3["Principal"], only_s3["Action"]) == ("Deny", {"AWS": "*"}, "sqs:SendMessage")
    assert only_s3["Resource"] == _arn(queue_id)
    assert only_s3["Condition"] == {
        "ArnNotEquals": {
            "aws:SourceArn": bucket_arn,
            "aws:PrincipalArn": f"arn:aws:iam::{account}:role/{SETTINGS.operator_role_name}",
        }
    }
    _, key = _one(data, "AWS::KMS::Key")
    (s3_key_use,) = [
        s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "s3.amazonaws.com"}
    ]
    assert s3_key_use["Condition"] == expected


def test_queues_are_encrypted_tls_only_and_redrive_after_five_receives(
    data: dict[str, Any], api: dict[str, Any]
) -> None:
    queue_id, queue = _by_path(data, "/Events/Resource")
    dead_letters_id, dead_letters = _by_path(data, "/EventDeadLetters/Resource")
    for logical_id, resource in ((queue_id, queue), (dead_letters_id, dead_letters)):
        assert resource["Properties"]["KmsMasterKeyId"] == _arn(_key_id(data))
        policy = next(
            p
            for p in _of_type(data, "AWS::SQS::QueuePolicy").values()
            if p["Properties"]["Queues"] == [_ref(logical_id)]
        )
        deny = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert queue["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": _arn(dead_letters_id), "maxReceiveCount": 5}
    # Lambda's guidance: visibility timeout at least six times the function timeout, plus
    # the batching window, so a retried batch is not handed out twice.
    _, indexer = _by_path(api, "/Indexer/Function/Resource")
    _, mapping = _one(api, "AWS::Lambda::EventSourceMapping")
    timeout = indexer["Properties"]["Timeout"]
    assert timeout == INDEXER_TIMEOUT_SECONDS
    window = mapping["Properties"]["MaximumBatchingWindowInSeconds"]
    assert queue["Properties"]["VisibilityTimeout"] >= 6 * timeout + window


def test_indexer_consumes_the_queue_with_partial_batch_failures(data: dict[str, Any], api: dict[str, Any]) -> None:
    Template.from_json(api).has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    )
    _, mapping = _one(api, "AWS::Lambda::EventSourceMapping")
    properties = mapping["Properties"]
    queue_id, _ = _by_path(data, "/Events/Resource")
    indexer_id, indexer = _by_path(api, "/Indexer/Function/Resource")
    assert _from_data(data, properties["EventSourceArn"]) == _arn(queue_id)
    assert properties["FunctionName"] == _ref(indexer_id)
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == 10
    assert 0 < properties["MaximumBatchingWindowInSeconds"] <= 5
    # The event source never runs more copies than the function may: no throttled batches.
    assert properties["ScalingConfig"] == {"MaximumConcurrency": SETTINGS.indexer_concurrency}
    assert indexer["Properties"]["ReservedConcurrentExecutions"] == SETTINGS.indexer_concurrency
    # The example's target of 50 events/s at 100 ms per event, with 50 % headroom.
    assert (SETTINGS.indexer_concurrency, SETTINGS.indexer_sustained_events_per_second) == (8, 80)


# --- Functions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "module"), [("Indexer", "indexer"), ("Query", "query_api"), ("Reconcile", "reconcile")]
)
def test_functions_run_the_handlers_with_their_configuration(
    data: dict[str, Any], api: dict[str, Any], path: str, module: str
) -> None:
    _, function = _by_path(api, f"/{path}/Function/Resource")
    properties = function["Properties"]
    assert properties["Handler"] == f"{module}.handler"
    assert any(isinstance(n, ast.FunctionDef) and n.name == "handler" for n in _source(module).body)
    assert properties["Runtime"] == "python3.14"
    assert properties["Layers"] == [powertools_layer_arn("aws", HOME)]
    assert properties["Layers"][0] == (
        f"arn:aws:lambda:{HOME}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python314-x86_64:"
        f"{POWERTOOLS_LAYER_VERSION}"
    )
    assert properties["Architectures"] == ["x86_64"]
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert _from_data(data, properties["KmsKeyArn"]) == _arn(_key_id(data))
    environment = properties["Environment"]["Variables"]
    # Every setting the handler reads is set; none holds a secret value.
    assert _environment_read_by(module) <= set(environment)
    table_id, _ = _one(data, "AWS::DynamoDB::Table")
    assert _from_data(data, environment["INDEX_TABLE_NAME"]) == _ref(table_id)
    # The function logs to its own group, encrypted, with the configured retention.
    log_group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = api["Resources"][log_group_id]["Properties"]
    assert log_group["RetentionInDays"] == SETTINGS.log_retention_days
    assert _from_data(data, log_group["KmsKeyId"]) == _arn(_key_id(data))


def test_query_function_reads_the_pagination_key_from_secrets_manager(
    data: dict[str, Any], api: dict[str, Any]
) -> None:
    secret_id, secret = _one(data, "AWS::SecretsManager::Secret")  # the data stack's, with the key
    assert secret["Metadata"]["aws:cdk:path"] == f"{DATA_STACK}/PaginationKey/Resource"
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["PasswordLength"] >= _module_constant("query_api", "MIN_PAGINATION_KEY_LENGTH")
    assert secret["Properties"]["KmsKeyId"] == _arn(_key_id(data))
    # Not retained: it signs page tokens only; losing it just invalidates tokens in circulation.
    assert (secret["DeletionPolicy"], secret["UpdateReplacePolicy"]) == ("Delete", "Delete")
    # Secrets Manager may use the data key on the account's behalf, declared in the data stack.
    _, key = _one(data, "AWS::KMS::Key")
    assert [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
        == f"secretsmanager.{HOME}.amazonaws.com"
    ]
    _, function = _by_path(api, "/Query/Function/Resource")
    secret_arn = function["Properties"]["Environment"]["Variables"]["PAGINATION_KEY_SECRET_ID"]
    assert _from_data(data, secret_arn) == _ref(secret_id)
    # The value itself appears nowhere in either template, not even as a dynamic reference.
    assert "resolve:secretsmanager" not in str(api)
    assert "resolve:secretsmanager" not in str(data)


def test_query_concurrency_follows_the_config(api: dict[str, Any]) -> None:
    _, function = _by_path(api, "/Query/Function/Resource")
    assert function["Properties"]["ReservedConcurrentExecutions"] == SETTINGS.query_reserved_concurrency


# --- The API ------------------------------------------------------------------------------------------


def _method_paths(api: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Full path -> method resource, built from the API's resource tree."""
    resources = _of_type(api, "AWS::ApiGateway::Resource")
    (root_api,) = _of_type(api, "AWS::ApiGateway::RestApi")

    def path(resource_id: str) -> str:
        resource = resources[resource_id]["Properties"]
        parent = resource["ParentId"]
        prefix = "" if parent == {"Fn::GetAtt": [root_api, "RootResourceId"]} else path(parent["Ref"])
        return f"{prefix}/{resource['PathPart']}"

    return {path(m["Properties"]["ResourceId"]["Ref"]): m for m in _of_type(api, "AWS::ApiGateway::Method").values()}


def test_api_routes_are_the_handler_routes(api: dict[str, Any]) -> None:
    methods = _method_paths(api)
    assert set(methods) == _routes()
    assert {m["Properties"]["HttpMethod"] for m in methods.values()} == {"GET"}


REQUIRED_PARAMETERS = {
    "/customers/{customer_id}/objects": set(),
    "/customers/{customer_id}/object": {"path"},
    "/customers/{customer_id}/totals": set(),
    "/customers/{customer_id}/objects/by-attribute": {"name", "value"},
    "/customers/{customer_id}/objects/by-date": {"start", "end"},
    "/uploads/by-day": {"date"},
}


def test_every_method_requires_iam_and_validated_parameters(api: dict[str, Any]) -> None:
    validator_id, validator = _one(api, "AWS::ApiGateway::RequestValidator")
    assert validator["Properties"]["ValidateRequestParameters"] is True
    query_function_id, _ = _by_path(api, "/Query/Function/Resource")
    for path, method in _method_paths(api).items():
        properties = method["Properties"]
        assert properties["AuthorizationType"] == "AWS_IAM", path
        assert properties["RequestValidatorId"] == _ref(validator_id), path
        assert properties["Integration"]["Type"] == "AWS_PROXY", path
        assert _arn(query_function_id) in properties["Integration"]["Uri"]["Fn::Join"][1], path
        parameters = properties["RequestParameters"]
        required = {p.rsplit(".", 1)[1] for p, needed in parameters.items() if needed and ".querystring." in p}
        assert required == REQUIRED_PARAMETERS[path], path
        if "{customer_id}" in path:
            assert parameters["method.request.path.customer_id"] is True


def test_stage_logs_access_traces_and_throttles(data: dict[str, Any], api: dict[str, Any]) -> None:
    _, stage = _one(api, "AWS::ApiGateway::Stage")
    properties = stage["Properties"]
    log_group_id, log_group = _by_path(api, "/ApiAccessLogs/Resource")
    assert {"Ref": log_group_id} in properties["AccessLogSetting"]["DestinationArn"]["Fn::Join"][1]
    assert "$context.identity.caller" in properties["AccessLogSetting"]["Format"]
    assert log_group["Properties"]["RetentionInDays"] == SETTINGS.log_retention_days
    assert properties["TracingEnabled"] is True
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in properties["MethodSettings"]}
    every_method = settings[("/*", "*")]
    assert every_method["LoggingLevel"] == "ERROR"
    assert every_method["DataTraceEnabled"] is False  # never log request and response bodies
    assert every_method["ThrottlingRateLimit"] == SETTINGS.api_rate_limit_per_second
    assert every_method["ThrottlingBurstLimit"] == SETTINGS.api_burst_limit
    by_day = settings[("/~1uploads~1by-day", "GET")]
    assert by_day["ThrottlingRateLimit"] == SETTINGS.api_rate_limit_per_second / 4
    assert by_day["ThrottlingBurstLimit"] == SETTINGS.api_burst_limit // 4
    assert (by_day["LoggingLevel"], by_day["MetricsEnabled"]) == ("ERROR", True)
    # Logging needs the account's API Gateway role in place before the stage.
    account_id, account = _one(api, "AWS::ApiGateway::Account")
    assert account_id in stage["DependsOn"]
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = api["Resources"][role_id]
    assert "ManagedPolicyArns" not in role["Properties"]
    assert role["DeletionPolicy"] == account["DeletionPolicy"] == "Retain"


# --- Alarms ---------------------------------------------------------------------------------------------


def test_alarms_watch_the_failure_paths_and_notify_the_topic(data: dict[str, Any], api: dict[str, Any]) -> None:
    topic_id, topic = _one(data, "AWS::SNS::Topic")
    assert topic["Properties"]["KmsMasterKeyId"] == _arn(_key_id(data))
    alarms = {k: v["Properties"] for k, v in _of_type(api, "AWS::CloudWatch::Alarm").items()}
    for alarm_id, alarm in alarms.items():
        assert [_from_data(data, a) for a in alarm["AlarmActions"]] == [_ref(topic_id)], alarm_id
        assert [_from_data(data, a) for a in alarm["OKActions"]] == [_ref(topic_id)], alarm_id
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    watched = {(a["Namespace"], a["MetricName"]): a for a in alarms.values()}
    assert sorted((a["Namespace"], a["MetricName"]) for a in alarms.values()) == [
        ("AWS/ApiGateway", "5XXError"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Errors"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("ObjectIndex", "ForeignBucketRecords"),
        ("ObjectIndex", "UnindexableKeys"),
    ]
    dead_letters_id, _ = _by_path(data, "/EventDeadLetters/Resource")
    queue_id, _ = _by_path(data, "/Events/Resource")

    def queue_alarms(metric: str, queue: str) -> list[dict[str, Any]]:
        return [
            a
            for a in alarms.values()
            if a["MetricName"] == metric
            and _from_data(data, a["Dimensions"][0]["Value"]) == {"Fn::GetAtt": [queue, "QueueName"]}
        ]

    (dead_letters,) = queue_alarms("ApproximateNumberOfMessagesVisible", dead_letters_id)
    assert dead_letters["Threshold"] == 0
    ages = sorted(a["Threshold"] for a in queue_alarms("ApproximateAgeOfOldestMessage", queue_id))
    assert ages == [SETTINGS.oldest_event_alarm_minutes * 60, SETTINGS.event_retention_days * 86_400 // 2]
    (backlog,) = queue_alarms("ApproximateNumberOfMessagesVisible", queue_id)
    # A backlog that needs more than a quarter of the retention (a day) to drain at 80 events/s.
    assert backlog["Threshold"] == 80 * 86_400
    errors = [a for a in alarms.values() if (a["Namespace"], a["MetricName"]) == ("AWS/Lambda", "Errors")]
    assert {a["Dimensions"][0]["Value"]["Ref"] for a in errors} == {
        _by_path(api, "/Indexer/Function/Resource")[0],
        _by_path(api, "/Query/Function/Resource")[0],
        _by_path(api, "/Reconcile/Function/Resource")[0],
    }
    # The indexer's own counts, with the namespace and dimensions the handler publishes.
    for name in ("UNINDEXABLE_KEY_METRIC", "FOREIGN_BUCKET_METRIC"):
        metric = watched[(_module_constant("indexer", "METRICS_NAMESPACE"), _module_constant("indexer", name))]
        assert metric["Threshold"] == 0
        assert metric["Statistic"] == "Sum"
        assert sorted(metric["Dimensions"], key=lambda d: d["Name"]) == [
            {"Name": "bucket", "Value": object_index_bucket_name(CONFIG)},
            {"Name": "service", "Value": _indexer_service()},
        ]
    server_errors = watched[("AWS/ApiGateway", "5XXError")]
    (rest_api,) = _of_type(api, "AWS::ApiGateway::RestApi").values()
    assert server_errors["Dimensions"] == [{"Name": "ApiName", "Value": rest_api["Properties"]["Name"]}]


def test_only_this_accounts_alarms_may_publish_to_the_topic(data: dict[str, Any]) -> None:
    account = CONFIG.account_named(SETTINGS.account).id
    expected = {
        "StringEquals": {"aws:SourceAccount": account},
        "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{HOME}:{account}:alarm:*"},
    }
    _, policy = _one(data, "AWS::SNS::TopicPolicy")
    (publish,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Condition"] == expected
    _, key = _one(data, "AWS::KMS::Key")
    (key_use,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert key_use["Condition"] == expected
    _, subscription = _one(data, "AWS::SNS::Subscription")
    assert (subscription["Properties"]["Protocol"], subscription["Properties"]["Endpoint"]) == (
        "email",
        SETTINGS.alarm_email,
    )


# --- Least privilege --------------------------------------------------------------------------------


def test_no_wildcard_or_scan_action_anywhere(api: dict[str, Any]) -> None:
    for role_id in _of_type(api, "AWS::IAM::Role"):
        for statement in _statements(api, role_id):
            for action in _actions(statement):
                assert action != "*" and not action.endswith(":*"), (role_id, action)
                assert not action.startswith(("dynamodb:", "s3:")) or "*" not in action, (role_id, action)
                assert action not in {"dynamodb:Scan", "dynamodb:PartiQLSelect"}, (role_id, action)
            if "*" in _resources(statement):
                assert set(_actions(statement)) <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, role_id


def test_indexer_may_do_exactly_what_its_calls_need(data: dict[str, Any], api: dict[str, Any]) -> None:
    statements = _statements(api, _role_of(api, "Indexer"))
    actions = {a for s in statements for a in _actions(s)}
    expected_data_plane = set().union(*(ACTIONS_FOR_CALL[call] for call in INDEXER_CALLS))
    assert actions == PLUMBING | SQS_CONSUME | expected_data_plane
    assert not actions & {"dynamodb:Query", "dynamodb:Scan", "dynamodb:DeleteItem"}
    table_id, _ = _one(data, "AWS::DynamoDB::Table")
    bucket_arn = f"arn:aws:s3:::{object_index_bucket_name(CONFIG)}"
    for statement in statements:
        resources = [_from_data(data, r) for r in _resources(statement)]
        for action in _actions(statement):
            if action.startswith("dynamodb:"):
                assert resources == [_arn(table_id)], action  # the table, not its indexes
            if action == "s3:GetObject":
                assert resources == [f"{bucket_arn}/{KEYS.KEY_PREFIX}*"]
            if action == "s3:ListBucket":
                assert resources == [bucket_arn]


def test_reconcile_may_do_exactly_what_its_calls_need(data: dict[str, Any], api: dict[str, Any]) -> None:
    statements = _statements(api, _role_of(api, "Reconcile"))
    actions = {a for s in statements for a in _actions(s)}
    expected_data_plane = set().union(*(ACTIONS_FOR_CALL[call] for call in RECONCILE_CALLS))
    assert actions == PLUMBING | expected_data_plane
    assert not actions & {"dynamodb:Scan", "dynamodb:DeleteItem", "s3:PutObject", "s3:DeleteObject"}
    table_id, _ = _one(data, "AWS::DynamoDB::Table")
    bucket_arn = f"arn:aws:s3:::{object_index_bucket_name(CONFIG)}"
    for statement in statements:
        resources = [_from_data(data, r) for r in _resources(statement)]
        for action in _actions(statement):
            if action.startswith("dynamodb:"):
                assert resources == [_arn(table_id)], action  # the base table, queried by key
            if action == "s3:GetObject":
                assert resources == [f"{bucket_arn}/{KEYS.KEY_PREFIX}*"]
            if action == "s3:ListBucket":
                assert resources == [bucket_arn]
                assert statement["Condition"] == {"StringLike": {"s3:prefix": f"{KEYS.KEY_PREFIX}*"}}
    _, function = _by_path(api, "/Reconcile/Function/Resource")
    assert function["Properties"]["Timeout"] == 900
    assert function["Properties"]["ReservedConcurrentExecutions"] == SETTINGS.reconcile_reserved_concurrency


def test_functions_know_the_bucket_and_the_caller_roles(api: dict[str, Any]) -> None:
    for path in ("Indexer", "Reconcile"):
        _, function = _by_path(api, f"/{path}/Function/Resource")
        assert function["Properties"]["Environment"]["Variables"]["OBJECT_BUCKET_NAME"] == object_index_bucket_name(
            CONFIG
        )
    _, query = _by_path(api, "/Query/Function/Resource")
    variables = query["Properties"]["Environment"]["Variables"]
    assert (variables["OPERATOR_ROLE_NAME"], variables["CUSTOMER_ROLE_PREFIX"]) == (
        SETTINGS.operator_role_name,
        SETTINGS.customer_role_prefix,
    )
    _, indexer = _by_path(api, "/Indexer/Function/Resource")
    assert indexer["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == _indexer_service()


def test_the_api_refuses_every_caller_but_the_operator_and_customer_roles(api: dict[str, Any]) -> None:
    (rest_api,) = _of_type(api, "AWS::ApiGateway::RestApi").values()
    statements = {s["Sid"]: s for s in rest_api["Properties"]["Policy"]["Statement"]}
    account = CONFIG.account_named(SETTINGS.account).id
    operator = f"arn:aws:iam::{account}:role/{SETTINGS.operator_role_name}"
    customers = f"arn:aws:iam::{account}:role/{SETTINGS.customer_role_prefix}*"
    assert set(statements) == {"OnlyOperatorAndCustomerRoles", "AllCustomersForOperatorOnly"}
    for statement in statements.values():
        assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
            "Deny",
            {"AWS": "*"},
            "execute-api:Invoke",
        )
    everyone = statements["OnlyOperatorAndCustomerRoles"]
    assert everyone["Resource"] == "execute-api:/*"
    assert everyone["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [operator, customers]}}
    by_day = statements["AllCustomersForOperatorOnly"]
    assert by_day["Resource"] == "execute-api:/*/GET/uploads/*"
    assert by_day["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": operator}}
    assert "/uploads/by-day" in _routes()  # the resource the statement names is the cross-customer route


def test_query_function_reads_only(data: dict[str, Any], api: dict[str, Any]) -> None:
    statements = _statements(api, _role_of(api, "Query"))
    actions = {a for s in statements for a in _actions(s)}
    expected_data_plane = set().union(*(ACTIONS_FOR_CALL[call] for call in QUERY_API_CALLS))
    assert actions == PLUMBING | expected_data_plane
    assert not actions & WRITE_ACTIONS
    table_id, _ = _one(data, "AWS::DynamoDB::Table")
    table_arn = _arn(table_id)
    (query,) = [s for s in statements if _actions(s) == ["dynamodb:Query"]]
    # Only the four indexes: the base table is read by key (totals), never queried.
    assert sorted((_from_data(data, r["Fn::Join"][1][0]), r["Fn::Join"][1][1]) for r in _resources(query)) == sorted(
        (table_arn, f"/index/{name}") for name in KEYS.GSI_DEFINITIONS
    )
    (get_item,) = [s for s in statements if _actions(s) == ["dynamodb:GetItem"]]
    assert [_from_data(data, r) for r in _resources(get_item)] == [table_arn]
    secret_id, _ = _one(data, "AWS::SecretsManager::Secret")
    (secret,) = [s for s in statements if _actions(s) == ["secretsmanager:GetSecretValue"]]
    assert [_from_data(data, r) for r in _resources(secret)] == [_ref(secret_id)]  # that one secret


# --- The config drives the stacks -----------------------------------------------------------------------


def test_without_an_alarm_email_the_topic_has_no_subscription() -> None:
    config = parse_config(example_config_text().replace("  alarm_email: object-index-alarms@example.com", ""))
    assert config.object_index is not None and config.object_index.alarm_email is None
    app = cdk.App(context=app_context())
    stack = ObjectIndexDataStack(
        app, "under-test", config=config, env=cdk.Environment(account="666666666666", region=HOME)
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::SNS::Topic", 1)
    template.resource_count_is("AWS::SNS::Subscription", 0)


# --- The pattern's page says what the stacks do -----------------------------------------------------

PAGE = Path(__file__).resolve().parents[2] / "docs" / "patterns" / "s3-object-index.md"


def _page_section(title: str) -> str:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"\n{title}\n")
    end = text.find("\n#", start + len(title) + 2)
    return text[start : end if end != -1 else len(text)]


def _table_rows(section: str) -> list[list[str]]:
    rows = [line.strip().strip("|").split("|") for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows[2:]]  # without the header and separator rows


def test_page_lists_the_indexes_the_handlers_use() -> None:
    rows = _table_rows(_page_section("### Global secondary indexes"))
    documented = {
        name.strip("`"): {"partition_key": pk.strip("`"), "sort_key": sk.strip("`"), "projection": projection}
        for name, pk, sk, projection, _answers in rows
        if name.startswith("`")
    }
    assert documented == KEYS.GSI_DEFINITIONS


def test_page_lists_every_accepted_finding(data: dict[str, Any], api: dict[str, Any]) -> None:
    """Each rule acknowledged or check skipped in the templates has a row on the page, and
    the page lists none that the templates no longer accept."""
    accepted = set()
    for template in (data, api):
        for resource in template["Resources"].values():
            metadata = resource.get("Metadata", {})
            accepted |= {
                r["id"].split("[")[0]
                for r in metadata.get("cdk_nag", {}).get("rules_to_suppress", [])
                if r["id"].startswith("AwsSolutions-")  # the Control Tower ones are listed by control below
            }
            accepted |= {s["id"] for s in metadata.get("checkov", {}).get("skip", [])}
            accepted |= {e["control"] for e in metadata.get("control_tower", {}).get("exempt", [])}
    rows = _table_rows(_page_section("## Accepted findings"))
    documented = {row[0].split("`")[1] for row in rows}
    assert documented == accepted


def test_page_states_the_throughput_the_config_derives() -> None:
    """The sizing table and the figures quoted for the defaults follow from the model."""
    from org_config.model import ObjectIndex

    section = _page_section("## Throughput: what the indexer carries")
    checked = 0
    for target, milliseconds, headroom, concurrency, sustained in _table_rows(section)[:4]:
        settings = ObjectIndex.model_construct(
            indexer_target_events_per_second=int(target.split()[0].replace(",", "")),
            indexer_milliseconds_per_event=int(milliseconds),
            indexer_headroom_percent=int(headroom.rstrip(" %")),
        )
        assert concurrency.split(":")[0] == f"{settings.indexer_concurrency:,}", target
        if sustained:
            assert sustained == f"{settings.indexer_sustained_events_per_second:,}", target
        else:  # the refused row: the model says why
            with pytest.raises(ValueError, match="less the 100 Lambda keeps unreserved"):
                ObjectIndex(account="workload-prod", indexer_target_events_per_second=int(target.replace(",", "")))
        checked += 1
    assert checked == 4
    defaults = ObjectIndex(account="workload-prod")
    assert (
        f"With the defaults the indexer sustains **{defaults.indexer_sustained_events_per_second} events per "
        f"second** ({defaults.indexer_concurrency} concurrent" in " ".join(section.split())
    )
    drain = defaults.indexer_sustained_events_per_second * defaults.event_retention_days * 86_400 // 4
    assert f"= {drain:,} messages waiting" in section


def _reconcile_command() -> tuple[dict[str, str], list[list[str]]]:
    """The page's reconcile commands: the shell variables it sets and each command line, split
    as the shell splits it (continuation lines joined)."""
    section = _page_section("#### Running it")
    block = next(b for b in re.findall(r"```sh\n(.*?)```", section, re.S) if "aws lambda invoke" in b)
    variables: dict[str, str] = {}
    commands = []
    for line in block.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 1 and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
            name, _, value = words[0].partition("=")
            variables[name] = value
        elif words:
            commands.append(words)
    return variables, commands


def _option(words: list[str], name: str) -> str:
    return words[words.index(name) + 1]


def test_page_reconcile_command_waits_for_the_whole_run_and_never_starts_a_second(api: dict[str, Any]) -> None:
    variables, commands = _reconcile_command()
    describe = next(words for words in commands if "describe-stack-resource" in words)
    stack_name = _option(describe, "--stack-name").replace("$HOME_REGION", variables["HOME_REGION"])
    assert (stack_name, variables["HOME_REGION"]) == (API_STACK, CONFIG.regions.home)
    function = api["Resources"][_option(describe, "--logical-resource-id")]
    assert (function["Type"], function["Properties"]["Handler"]) == ("AWS::Lambda::Function", "reconcile.handler")

    invoke = next(words for words in commands if "invoke" in words and "lambda" in words)
    assert invoke[0] == "AWS_MAX_ATTEMPTS=1"  # one attempt: a timed-out request is never sent again
    assert "--invocation-type" not in invoke  # RequestResponse: the answer comes back to the operator
    assert int(_option(invoke, "--cli-read-timeout")) > function["Properties"]["Timeout"]
    assert _option(invoke, "--payload") == "$payload"
    assert invoke[invoke.index("$payload") + 1] == "result.json"  # where the answer is read

    # The payload the loop builds is one the function accepts, and the loop reads its answer's key.
    build = next(words for words in commands if words[0].startswith("payload=$(jq"))
    fields = re.findall(r"(\w+): \$(\w+)", build[-1])
    assert [name for name, _ in fields] == ["customer_id", "start_after"]
    reconcile = importlib.import_module("reconcile")
    first_call = {"customer_id": variables["CUSTOMER"], "start_after": ""}
    assert reconcile._request(first_call) == (variables["CUSTOMER"], "")
    assert any("'.next_start_after // empty'" in shlex.join(words) for words in commands)


def test_page_states_the_reserved_concurrency_the_section_takes() -> None:
    section = " ".join(_page_section("## Limits and open points").split())
    parts = (SETTINGS.indexer_concurrency, SETTINGS.query_reserved_concurrency, SETTINGS.reconcile_reserved_concurrency)
    assert f"{parts[0]} + {parts[1]} + {parts[2]} = {SETTINGS.reserved_concurrency()} in the example" in section
