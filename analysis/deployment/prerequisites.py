"""Organization-level prerequisites: what a resource needs done before it is created, and
which resources (or documented manual steps) do it.

A prerequisite is a ``(kind, subject)`` pair, for example ``("trusted-access",
"cloudtrail.amazonaws.com")`` or ``("delegated-admin", "guardduty.amazonaws.com
333333333333 eu-west-1")``. Each rule below cites the AWS documentation it follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from analysis.assembly import StackTemplate
from analysis.deployment.template_graph import SdkCall, sdk_calls

TRUSTED_ACCESS = "trusted-access"
RAM_SHARING = "ram-sharing"
DELEGATED_ADMIN = "delegated-admin"
POLICY_TYPE = "policy-type"
IDENTITY_CENTER = "identity-center"
BOOTSTRAP = "cdk-bootstrap"
ORGANIZATION = "organization"


@dataclass(frozen=True)
class Need:
    stack: str
    logical_id: str
    kind: str
    subject: str
    why: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.subject)


@dataclass(frozen=True)
class ManualPrerequisite:
    """A step no stack can take; ``command`` is what ``docs/deployment.md`` must show."""

    kind: str
    title: str
    command: str
    source: str


# Steps that stay manual, with the exact command the deployment page must list.
MANUAL: dict[str, ManualPrerequisite] = {
    ORGANIZATION: ManualPrerequisite(
        ORGANIZATION,
        "An organization with all features enabled (service control policies and delegated administrators "
        "need them), its management account the config's",
        "aws organizations describe-organization --query Organization.FeatureSet",
        "https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_org_support-all-features.html",
    ),
    IDENTITY_CENTER: ManualPrerequisite(
        IDENTITY_CENTER,
        "IAM Identity Center enabled for the organization (an organization instance) in the home region; "
        "its ARN goes into the config as identity_center.instance_arn",
        "aws sso-admin list-instances --region <home region>",
        "https://docs.aws.amazon.com/singlesignon/latest/userguide/get-set-up-for-idc.html",
    ),
    BOOTSTRAP: ManualPrerequisite(
        BOOTSTRAP,
        "Every account and region a stack deploys into is bootstrapped, trusting the deploying account",
        "make bootstrap-commands",
        "https://docs.aws.amazon.com/cdk/v2/guide/bootstrapping-env.html",
    ),
}


def _organization_principal(principal: Any) -> bool:
    text = str(principal)
    return ":organization/" in text or ":ou/" in text


def resource_needs(stack: StackTemplate) -> list[Need]:
    """What each resource of ``stack`` needs done at the organization level first."""
    needs: list[Need] = []

    def need(logical_id: str, kind: str, subject: str, why: str) -> None:
        needs.append(Need(stack.name, logical_id, kind, subject, why))

    account, region = stack.account, stack.region
    for logical_id, resource in stack.template.get("Resources", {}).items():
        kind, props = resource.get("Type"), resource.get("Properties", {})
        if kind == "AWS::CloudTrail::Trail" and props.get("IsOrganizationTrail"):
            # CloudTrailAccessNotEnabledException: "trusted access has not been enabled between
            # CloudTrail and Organizations" (CloudTrail API reference, errors).
            need(logical_id, TRUSTED_ACCESS, "cloudtrail.amazonaws.com", "an organization trail")
        elif kind == "AWS::RAM::ResourceShare" and (
            any(map(_organization_principal, props.get("Principals", [])))
            or props.get("AllowExternalPrincipals") is False
        ):
            # RAM EnableSharingWithAwsOrganization: "Until you enable sharing within the
            # organization, you can specify only individual AWS accounts" (RAM API reference);
            # subnets can be shared only within an organization that has it enabled, and a
            # share kept inside the organization (no external principals) relies on it too.
            need(logical_id, RAM_SHARING, "organization", "a resource share kept within the organization")
        elif kind == "AWS::CloudFormation::StackSet" and props.get("PermissionModel") == "SERVICE_MANAGED":
            need(
                logical_id,
                TRUSTED_ACCESS,
                "member.org.stacksets.cloudformation.amazonaws.com",
                "a service-managed StackSet",
            )
        elif kind == "AWS::Organizations::Policy":
            need(logical_id, POLICY_TYPE, str(props.get("Type")), "a policy of this type")
            need(logical_id, ORGANIZATION, "all features", "an organization policy")
        elif kind == "AWS::Organizations::OrganizationalUnit":
            need(logical_id, ORGANIZATION, "all features", "an organizational unit")
        elif kind == "AWS::SecurityHub::DelegatedAdmin":
            need(logical_id, TRUSTED_ACCESS, "securityhub.amazonaws.com", "the Security Hub administrator")
        elif kind in ("AWS::SSO::PermissionSet", "AWS::SSO::Assignment"):
            need(logical_id, IDENTITY_CENTER, str(props.get("InstanceArn")), "an Identity Center resource")
            need(logical_id, TRUSTED_ACCESS, "sso.amazonaws.com", "an Identity Center resource")
        elif kind == "AWS::Config::ConfigurationAggregator" and "OrganizationAggregationSource" in props:
            # An organization aggregator outside the management account needs the account
            # registered as delegated administrator for config.amazonaws.com (AWS Config guide).
            need(logical_id, DELEGATED_ADMIN, f"config.amazonaws.com {account}", "an organization aggregator")
        elif kind == "AWS::AccessAnalyzer::Analyzer" and str(props.get("Type", "")).startswith("ORGANIZATION"):
            need(logical_id, DELEGATED_ADMIN, f"access-analyzer.amazonaws.com {account}", "an organization analyzer")
        elif kind in (
            "AWS::SecurityHub::OrganizationConfiguration",
            "AWS::SecurityHub::ConfigurationPolicy",
            "AWS::SecurityHub::FindingAggregator",
        ):
            need(
                logical_id,
                DELEGATED_ADMIN,
                f"securityhub.amazonaws.com {account} {region}",
                "Security Hub central configuration",
            )
    for call in sdk_calls(stack.template, region):
        if call.phase != "Create":
            continue
        needs += [Need(stack.name, call.logical_id, k, s, w) for k, s, w in _call_needs(call, account)]
    return needs


def _call_needs(call: SdkCall, account: str) -> list[tuple[str, str, str]]:
    principal = str(call.parameters.get("ServicePrincipal", ""))
    if call.iam_action == "organizations:RegisterDelegatedAdministrator":
        # Organizations: the service must have trusted access before an administrator is registered.
        return [(TRUSTED_ACCESS, principal, "a delegated administrator registration")]
    if call.iam_action in _ADMIN_DESIGNATIONS:
        service = call.iam_action.split(":")[0]
        return [(TRUSTED_ACCESS, f"{service}.amazonaws.com", "a delegated administrator designation")]
    if call.iam_action == "guardduty:UpdateOrganizationConfiguration":
        return [
            (
                DELEGATED_ADMIN,
                f"guardduty.amazonaws.com {account} {call.region}",
                "GuardDuty's organization configuration (only its delegated administrator may set it)",
            )
        ]
    return []


_ADMIN_DESIGNATIONS = ("guardduty:EnableOrganizationAdminAccount", "securityhub:EnableOrganizationAdminAccount")


def resource_provides(stack: StackTemplate) -> dict[tuple[str, str], str]:
    """What ``stack`` does at the organization level, by prerequisite, with the logical id doing it."""
    provided: dict[tuple[str, str], str] = {}
    for logical_id, resource in stack.template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::SecurityHub::DelegatedAdmin":
            admin = resource.get("Properties", {}).get("AdminAccountId")
            provided[(DELEGATED_ADMIN, f"securityhub.amazonaws.com {admin} {stack.region}")] = logical_id
    for call in sdk_calls(stack.template, stack.region):
        if call.phase != "Create":
            continue
        parameters = call.parameters
        if call.iam_action == "organizations:EnableAWSServiceAccess":
            provided[(TRUSTED_ACCESS, str(parameters.get("ServicePrincipal")))] = call.logical_id
        elif call.iam_action == "ram:EnableSharingWithAwsOrganization":
            provided[(RAM_SHARING, "organization")] = call.logical_id
        elif call.iam_action == "organizations:EnablePolicyType":
            provided[(POLICY_TYPE, str(parameters.get("PolicyType")))] = call.logical_id
        elif call.iam_action == "organizations:RegisterDelegatedAdministrator":
            subject = f"{parameters.get('ServicePrincipal')} {parameters.get('AccountId')}"
            provided[(DELEGATED_ADMIN, subject)] = call.logical_id
        elif call.iam_action in _ADMIN_DESIGNATIONS:
            service = call.iam_action.split(":")[0]
            subject = f"{service}.amazonaws.com {parameters.get('AdminAccountId')} {call.region}"
            provided[(DELEGATED_ADMIN, subject)] = call.logical_id
    return provided
