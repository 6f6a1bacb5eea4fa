"""The synth-time gates (cdk-nag, Control Tower proactive controls) and the one place
where a finding is accepted instead of fixed.

:func:`attach_gates` runs cdk-nag's AwsSolutions rules over the whole app at synth, and
:func:`check_control_tower` runs the Control Tower cfn-guard rules over every template of
the assembly right after (``app.py`` calls it), so every stack is checked without being
listed anywhere; an open finding fails the synth. A cdk-nag finding is acknowledged
through CDK's ``Validations`` API, a Control Tower control is exempted and a checkov check
skipped through resource metadata; each requires a reason a reviewer can judge and is
written into the template, where tests read it back, so an acknowledgement cannot be
silent.
"""

from __future__ import annotations

import re
from pathlib import Path

from aws_cdk import Acknowledgment, CfnResource, Stage, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from analysis import control_tower

MIN_REASON_LENGTH = 30
_NAG_RULE = re.compile(r"^AwsSolutions-[A-Za-z]+\d+(\[.+\])?$")
_CHECKOV_CHECK = re.compile(r"^CKV2?_AWS_\d+$")


def attach_gates(stage: Stage) -> None:
    """Run cdk-nag's AwsSolutions pack on every stack of ``stage`` when it synthesizes.

    CDK runs validation plugins only for the app's own assembly; a nested ``Stage`` must
    call :func:`check_nag_now` before it synthesizes. Acknowledgements are also written
    into each resource's ``cdk_nag`` metadata, so the template records what was accepted.
    """
    Validations.of(stage).add_plugins(AwsSolutionsChecks(stage, write_suppressions_to_cloud_formation=True))


def check_control_tower(assembly: str | Path) -> None:
    """Run the Control Tower proactive controls on every template of the cloud assembly
    at ``assembly`` (nested assemblies such as the StackSet body included); raise on any
    finding without an exemption.

    cfn-guard runs on the written templates, rather than the package's validation
    plugin: the plugin sees only the app's own stacks and costs seconds more per synth.
    A template unchanged since an earlier synth, test run or ``make check`` takes its
    result from the shared cache; the changed ones are judged in parallel.
    """
    failed = control_tower.assembly_failures(assembly)
    if failed:
        raise RuntimeError("\n".join([control_tower.FAILED_HEADER, *failed]))


def check_nag_now(scope: IConstruct) -> None:
    """Run AwsSolutions on ``scope`` immediately; raise if a finding is not acknowledged."""
    report = AwsSolutionsChecks(scope).validate_scope(scope)
    if report.success:
        return
    findings = [
        f"{violation.rule_name} at {construct.construct_path}: {violation.description}"
        for violation in report.violations
        for construct in violation.violating_resources
    ]
    raise RuntimeError("cdk-nag findings:\n" + "\n".join(findings))


def _require_reason(rule: str, reason: str) -> None:
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValueError(f"acknowledging {rule} needs a reason of at least {MIN_REASON_LENGTH} characters")


def acknowledge_nag(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept the cdk-nag finding ``rule_id`` on ``scope`` and everything below it."""
    if not _NAG_RULE.fullmatch(rule_id):
        raise ValueError(f"'{rule_id}' is not an AwsSolutions rule id (e.g. AwsSolutions-S1)")
    _require_reason(rule_id, reason)
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def exempt_control(scope: IConstruct, control: str, reason: str) -> None:
    """Exempt the resource of ``scope`` from the Control Tower proactive control ``control``
    (e.g. ``CT.S3.PR.2``), for ``reason``; recorded in the resource's ``control_tower``
    metadata. Where the rule misreads an intrinsic function rather
    than the resource breaking it, the reason must say so."""
    if not control_tower.CONTROL_ID.fullmatch(control):
        raise ValueError(f"'{control}' is not a Control Tower proactive control id (e.g. CT.S3.PR.2)")
    rule = control_tower.rule_names().get(control)
    if rule is None:
        raise ValueError(f"{control} is not among the Control Tower rules this project runs")
    _require_reason(control, reason)
    # The record goes on the resource the control judges: the construct itself, or the
    # CloudFormation resource behind an L2 construct.
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    if not isinstance(resource, CfnResource):
        raise ValueError(f"{scope.node.path} has no CloudFormation resource of its own to exempt")
    metadata = resource.get_metadata(control_tower.METADATA_KEY) or {"exempt": []}
    metadata["exempt"] = [*metadata["exempt"], {"control": control, "rule": rule, "reason": reason}]
    resource.add_metadata(control_tower.METADATA_KEY, metadata)


def skip_checkov(resource: CfnResource, check_id: str, reason: str) -> None:
    """Skip checkov's ``check_id`` on one resource, with the reason in its metadata."""
    if not _CHECKOV_CHECK.fullmatch(check_id):
        raise ValueError(f"'{check_id}' is not a checkov AWS check id (e.g. CKV_AWS_18)")
    _require_reason(check_id, reason)
    metadata = resource.get_metadata("checkov") or {"skip": []}
    metadata["skip"] = [*metadata["skip"], {"id": check_id, "comment": reason}]
    resource.add_metadata("checkov", metadata)
