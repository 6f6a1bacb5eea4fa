"""Each gate, fed what it guards against, must fail. Without these, a gate that silently
stopped running (a wrong path, a changed report format) would look like a pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

from analysis import control_tower
from analysis.limits import MAX_BODY_BYTES_VIA_S3, check_template
from analysis.result_cache import ResultCache
from analysis.scanners import cfn_lint, checkov
from analysis.stateful import unretained
from cdk_constructs.gates import acknowledge_nag, attach_gates, check_control_tower, exempt_control, skip_checkov
from tests.support.synthesis import Synthesis, new_app, synthesize, temporary_outdir


@pytest.fixture(scope="module")
def broken() -> Synthesis:
    """An app with a public, unversioned bucket, a bucket that is destroyed with its stack,
    an unencrypted queue without a dead-letter queue, and the same gates as the real app. (S3 encrypts every object
    since 2023, so "unencrypted" is shown with a queue; a log bucket losing the
    customer-managed key is caught by the log-archive assertions.)"""
    outdir = temporary_outdir("cdk-out-broken-")
    app = new_app(outdir)
    stack = cdk.Stack(app, "broken", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    s3.CfnBucket(
        stack,
        "PublicUnencrypted",
        public_access_block_configuration=s3.CfnBucket.PublicAccessBlockConfigurationProperty(
            block_public_acls=False,
            block_public_policy=False,
            ignore_public_acls=False,
            restrict_public_buckets=False,
        ),
    )
    s3.Bucket(stack, "Disposable", removal_policy=cdk.RemovalPolicy.DESTROY)
    sqs.CfnQueue(stack, "Unencrypted", sqs_managed_sse_enabled=False)
    attach_gates(app)
    return synthesize(app, outdir)


def test_cdk_nag_fails_the_synth(broken: Synthesis) -> None:
    assert broken.validation_error is not None
    rules = {v["ruleName"] for p in broken.validation_report["pluginReports"] for v in p["violations"]}
    assert {"AwsSolutions-S1", "AwsSolutions-S10", "AwsSolutions-SQS2"} <= rules


def test_control_tower_controls_fail_the_synth_and_the_template_gate(broken: Synthesis) -> None:
    """The synth-time check and the template gate both see a queue with no dead-letter
    queue (CT.SQS.PR.1) and a bucket without server access logs (CT.S3.PR.2)."""
    with pytest.raises(RuntimeError, match="Control Tower proactive controls failed") as failed:
        check_control_tower(broken.outdir)
    assert "CT.SQS.PR.1 Unencrypted" in str(failed.value)
    assert "CT.S3.PR.2 PublicUnencrypted" in str(failed.value)
    (stack,) = broken.stacks
    result = control_tower.evaluate([stack.template_path])[stack.template_path.name]
    failed_controls = {(f.control, f.logical_id) for f in result.failed}
    assert ("CT.SQS.PR.1", "Unencrypted") in failed_controls, failed_controls
    assert ("CT.S3.PR.2", "PublicUnencrypted") in failed_controls, failed_controls


def test_running_only_the_rules_for_present_types_decides_the_same(broken: Synthesis, synthesis: Synthesis) -> None:
    """The speed-up (only rules for resource types in the templates) changes no finding.
    Both sides run cfn-guard now, not the cache."""
    templates = [broken.stacks[0].template_path, synthesis.stack("object-index-data-eu-west-1").template_path]
    assert control_tower.evaluate(templates, cache=ResultCache(None)) == control_tower.evaluate(
        templates, every_rule=True, cache=ResultCache(None)
    )
    sqs_rules = {path.name for path in control_tower.rules_for({"AWS::SQS::Queue"})}
    assert "ct-sqs-pr-1.guard" in sqs_rules and "ct-s3-pr-2.guard" not in sqs_rules


def test_a_control_tower_exemption_is_honoured_only_where_it_is_written() -> None:
    outdir = temporary_outdir("cdk-out-exempt-")
    app = new_app(outdir)
    stack = cdk.Stack(app, "exempt", env=cdk.Environment(account="111111111111", region="eu-west-1"))
    exempted = sqs.CfnQueue(stack, "Exempted", kms_master_key_id="alias/aws/sqs")
    sqs.CfnQueue(stack, "NotExempted", kms_master_key_id="alias/aws/sqs")
    exempt_control(exempted, "CT.SQS.PR.1", "A reason long enough for a reviewer to judge it here.")
    attach_gates(app)
    synthesis = synthesize(app, outdir)
    (template,) = synthesis.stacks
    result = control_tower.evaluate([template.template_path])[template.template_path.name]
    assert {f.logical_id for f in result.failed if f.control == "CT.SQS.PR.1"} == {"NotExempted"}
    assert {f.logical_id for f in result.exempted} == {"Exempted"}
    assert control_tower.exemptions(template.template)[("Exempted", "sqs_dlq_check")].startswith("A reason")


def test_checkov_reports_public_bucket_and_unencrypted_queue(broken: Synthesis) -> None:
    (stack,) = broken.stacks
    failed = {c["check_id"] for c in checkov((stack.template_path,))[stack.template_path.name]["failed"]}
    assert {"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"} <= failed, failed  # public access
    assert "CKV_AWS_21" in failed  # no versioning
    assert "CKV_AWS_27" in failed  # queue not encrypted


def test_stateful_check_finds_a_bucket_that_is_not_retained(broken: Synthesis) -> None:
    (stack,) = broken.stacks
    assert any(logical_id.startswith("Disposable") for logical_id in unretained(stack.template))


def test_cfn_lint_reports_an_invalid_template(tmp_path: Path) -> None:
    template = tmp_path / "invalid.template.json"
    template.write_text(
        json.dumps(
            {
                "Resources": {
                    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"VersioningConfiguration": "on"}},
                    "Orphan": {"Type": "AWS::SQS::Queue", "DependsOn": "Missing"},
                }
            }
        )
    )
    findings = cfn_lint((template,))[template.name]
    assert {f["Level"] for f in findings} >= {"Error"}


def test_cfn_lint_reports_informational_findings(tmp_path: Path) -> None:
    """A table without an explicit deletion policy is only informational (I3011) for
    cfn-lint, which leaves such checks out unless asked: the gate asks."""
    template = tmp_path / "table.template.json"
    table = {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        },
    }
    template.write_text(json.dumps({"Resources": {"Table": table}}))
    findings = cfn_lint((template,))[template.name]
    assert {(f["Rule"]["Id"], f["Level"]) for f in findings} == {("I3011", "Informational")}


def test_limits_flag_an_oversized_template() -> None:
    resources: dict[str, Any] = {f"Queue{i}": {"Type": "AWS::SQS::Queue"} for i in range(501)}
    usages = {u.name: u for u in check_template({"Resources": resources}, MAX_BODY_BYTES_VIA_S3 + 1)}
    assert usages["resources"].exceeded
    assert usages["template bytes"].exceeded
    assert not usages["outputs"].exceeded


def test_acknowledgements_need_a_reason_and_a_real_rule_id() -> None:
    stack = cdk.Stack(cdk.App())
    bucket = s3.Bucket(stack, "Bucket")
    with pytest.raises(ValueError, match="needs a reason"):
        acknowledge_nag(bucket, "AwsSolutions-S1", "because")
    with pytest.raises(ValueError, match="not an AwsSolutions rule id"):
        acknowledge_nag(bucket, "S1", "A reason long enough to pass the length rule.")
    resource = bucket.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    with pytest.raises(ValueError, match="needs a reason"):
        skip_checkov(resource, "CKV_AWS_18", "")
    with pytest.raises(ValueError, match="not a checkov AWS check id"):
        skip_checkov(resource, "S3_LOGGING", "A reason long enough to pass the length rule.")
    with pytest.raises(ValueError, match="needs a reason"):
        exempt_control(bucket, "CT.S3.PR.2", "short")
    with pytest.raises(ValueError, match="not a Control Tower proactive control id"):
        exempt_control(bucket, "S3.PR.2", "A reason long enough to pass the length rule.")
    with pytest.raises(ValueError, match="not among the Control Tower rules"):
        exempt_control(bucket, "CT.S3.PR.999", "A reason long enough to pass the length rule.")
