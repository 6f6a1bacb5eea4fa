"""The synth-time gate (cdk-nag) and the one place where a finding is accepted instead of
fixed.

:func:`attach_nag` runs the AwsSolutions rules over the whole app at synth, so every stack
is checked without being listed anywhere; an unacknowledged finding fails the synth. A
cdk-nag finding is acknowledged through CDK's ``Validations`` API and a checkov check is
skipped through resource metadata; both require a reason a reviewer can judge. Tests read
the reasons back from the validation report and the templates, so an acknowledgement
cannot be silent.
"""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, CfnResource, Stage, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

MIN_REASON_LENGTH = 30
_NAG_RULE = re.compile(r"^AwsSolutions-[A-Za-z]+\d+(\[.+\])?$")
_CHECKOV_CHECK = re.compile(r"^CKV2?_AWS_\d+$")


def attach_nag(stage: Stage) -> None:
    """Run cdk-nag's AwsSolutions pack on every stack of ``stage`` when it synthesizes.

    CDK runs validation plugins only for the app's own assembly; a nested ``Stage`` must
    call :func:`check_nag_now` before it synthesizes.

    Acknowledgements are also written into each resource's ``cdk_nag`` metadata, so the
    template itself records what was accepted and why.
    """
    Validations.of(stage).add_plugins(AwsSolutionsChecks(stage, write_suppressions_to_cloud_formation=True))


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


def skip_checkov(resource: CfnResource, check_id: str, reason: str) -> None:
    """Skip checkov's ``check_id`` on one resource, with the reason in its metadata."""
    if not _CHECKOV_CHECK.fullmatch(check_id):
        raise ValueError(f"'{check_id}' is not a checkov AWS check id (e.g. CKV_AWS_18)")
    _require_reason(check_id, reason)
    metadata = resource.get_metadata("checkov") or {"skip": []}
    metadata["skip"] = [*metadata["skip"], {"id": check_id, "comment": reason}]
    resource.add_metadata("checkov", metadata)
