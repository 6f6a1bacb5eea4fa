"""The deployability gate on hand-written assemblies: each broken wire is one finding that
names the stack, the logical id and what is missing, and the wired version passes.

The reproductions follow the first-deploy failures the gate was built for: RAM shares
before sharing with the organization, a DR lookup before the network it reads, a call
before its policy, an organization trail and registrations before trusted access,
GuardDuty's organization configuration on a resource type the action does not have, a
certificate validated in a zone nobody delegates to."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from analysis.deployment.gate import check
from analysis.deployment.prerequisites import BOOTSTRAP, IDENTITY_CENTER, MANUAL
from tests.deployment.fake_assembly import write_assembly
from tests.deployment.templates import (
    AUDIT,
    DR,
    HOME,
    MANAGEMENT,
    NETWORK,
    ORGANIZATION_ARN,
    WORKLOAD,
    allow,
    call,
    organization_call,
    provider,
    tagged,
    template,
)

Stacks = dict[str, tuple[str, str, list[str], dict[str, Any]]]


@pytest.fixture
def page(tmp_path: Path) -> Path:
    """A deployment page that lists every manual prerequisite's command."""
    path = tmp_path / "deployment.md"
    path.write_text("\n".join(f"`{p.command}`" for p in MANUAL.values()), encoding="utf-8")
    return path


def findings(tmp_path: Path, stacks: Stacks, page: Path) -> list[tuple[str, str]]:
    return check(write_assembly(tmp_path / "assembly", stacks), page=page)


def messages(tmp_path: Path, stacks: Stacks, page: Path) -> list[str]:
    return [f"{stack}: {message}" for stack, message in findings(tmp_path, stacks, page)]


# --- RAM sharing with the organization ---------------------------------------------------

RAM_ENABLE = {
    **provider([allow(["ram:EnableSharingWithAwsOrganization"])]),
    "Ram": call("RAM", "enableSharingWithAwsOrganization", {}, depends_on=["RolePolicy"]),
}
SHARE = {
    "Type": "AWS::RAM::ResourceShare",
    "Properties": {"AllowExternalPrincipals": False, "Principals": [ORGANIZATION_ARN]},
}


def test_a_share_with_the_organization_needs_sharing_enabled_first(tmp_path: Path, page: Path) -> None:
    stacks: Stacks = {"network": (NETWORK, HOME, [], template(Share=SHARE))}
    assert messages(tmp_path, stacks, page) == [
        "network: Share needs ram-sharing organization (a resource share kept within the organization), "
        "which no stack does"
    ]


def test_sharing_enabled_by_a_stack_that_is_not_ordered_first_is_a_finding(tmp_path: Path, page: Path) -> None:
    stacks: Stacks = {
        "services": (MANAGEMENT, HOME, [], template(**RAM_ENABLE)),
        "network": (NETWORK, HOME, [], template(Share=SHARE)),
    }
    assert messages(tmp_path, stacks, page) == [
        "network: Share needs ram-sharing organization (a resource share kept within the organization), "
        "done by services/Ram, without being ordered after it"
    ]
    stacks["network"] = (NETWORK, HOME, ["services"], template(Share=SHARE))
    assert messages(tmp_path, stacks, page) == []


# --- deploy-time lookups --------------------------------------------------------------------

SUBNETS = {
    "SubnetA": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": "10.10.0.0/18"}},
    "SubnetB": {"Type": "AWS::EC2::Subnet", "Properties": {"CidrBlock": "10.10.64.0/18"}},
}


def _subnet_lookup(owner: str = NETWORK) -> dict[str, Any]:
    filters = [
        {"Name": "cidr-block", "Values": ["10.10.0.0/18", "10.10.64.0/18"]},
        {"Name": "owner-id", "Values": [owner]},
    ]
    return {
        **provider([allow(["ec2:DescribeSubnets"])]),
        "Lookup": call("EC2", "describeSubnets", {"Filters": filters}, depends_on=["RolePolicy"]),
    }


def test_a_lookup_of_shared_subnets_waits_for_the_stack_that_creates_them(tmp_path: Path, page: Path) -> None:
    stacks: Stacks = {
        "network": (NETWORK, HOME, [], template(**SUBNETS)),
        "dr-home": (WORKLOAD, HOME, [], template(**_subnet_lookup())),
    }
    assert messages(tmp_path, stacks, page) == [
        f"dr-home: Lookup looks up AWS::EC2::Subnet with cidr-block '10.10.0.0/18' in {NETWORK}/{HOME} "
        "(network/SubnetA) without a stack dependency on network",
        f"dr-home: Lookup looks up AWS::EC2::Subnet with cidr-block '10.10.64.0/18' in {NETWORK}/{HOME} "
        "(network/SubnetB) without a stack dependency on network",
    ]
    stacks["dr-home"] = (WORKLOAD, HOME, ["network"], template(**_subnet_lookup()))
    assert messages(tmp_path, stacks, page) == []


def test_a_lookup_in_the_wrong_region_or_account_finds_no_producer(tmp_path: Path, page: Path) -> None:
    stacks: Stacks = {
        "network": (NETWORK, DR, [], template(**SUBNETS)),
        "dr-home": (WORKLOAD, HOME, ["network"], template(**_subnet_lookup())),
    }
    assert f"in {NETWORK}/{HOME}, which no stack creates" in messages(tmp_path, stacks, page)[0]


def _tgw_lookup() -> dict[str, Any]:
    filters = [{"Name": "tag:Name", "Values": ["exampleco-tgw-eu-central-1"]}]
    return {
        **provider([allow(["ec2:DescribeTransitGateways"])]),
        "PeerLookup": call(
            "EC2", "describeTransitGateways", {"Filters": filters}, region=DR, depends_on=["RolePolicy"]
        ),
    }


def test_a_lookup_by_name_tag_needs_exactly_one_tagged_producer(tmp_path: Path, page: Path) -> None:
    gateway = tagged("AWS::EC2::TransitGateway", "exampleco-tgw-eu-central-1")
    stacks: Stacks = {
        "network-dr": (NETWORK, DR, [], template(Tgw=gateway)),
        "network-hub": (NETWORK, HOME, ["network-dr"], template(**_tgw_lookup())),
    }
    assert messages(tmp_path, stacks, page) == []
    untagged: Stacks = {**stacks, "network-dr": (NETWORK, DR, [], template(Tgw={"Type": gateway["Type"]}))}
    assert messages(tmp_path, untagged, page) == [
        "network-hub: PeerLookup looks up AWS::EC2::TransitGateway with tag:Name 'exampleco-tgw-eu-central-1' "
        f"in {NETWORK}/{DR}, which no stack creates"
    ]
    twice: Stacks = {**stacks, "other": (NETWORK, DR, [], template(Tgw=gateway))}
    assert "which 2 resources create: network-dr/Tgw, other/Tgw" in messages(tmp_path, twice, page)[0]


def test_a_lookup_of_a_resource_in_the_same_stack_must_depend_on_it(tmp_path: Path, page: Path) -> None:
    gateway = tagged("AWS::EC2::TransitGateway", "exampleco-tgw-eu-central-1")
    stacks: Stacks = {"network-dr": (NETWORK, DR, [], template(Tgw=gateway, **_tgw_lookup()))}
    assert messages(tmp_path, stacks, page) == [
        "network-dr: PeerLookup looks up AWS::EC2::TransitGateway with tag:Name 'exampleco-tgw-eu-central-1' "
        f"in {NETWORK}/{DR} (network-dr/Tgw) without a DependsOn on it"
    ]


# --- Fn::GetStackOutput and names derived from the config -------------------------------


def _reader(region: str = HOME) -> dict[str, Any]:
    value = {"Fn::GetStackOutput": {"StackName": "data", "OutputName": "KeyArn", "Region": region}}
    return template(Logs={"Type": "AWS::Logs::LogGroup", "Properties": {"KmsKeyId": value}})


def test_a_stack_output_read_at_deploy_time_must_exist_and_come_first(tmp_path: Path, page: Path) -> None:
    data = {"Resources": {}, "Outputs": {"KeyArn": {"Value": "arn"}}}
    stacks: Stacks = {"data": (WORKLOAD, HOME, [], data), "api": (WORKLOAD, HOME, ["data"], _reader())}
    assert messages(tmp_path, stacks, page) == []
    no_output: Stacks = {**stacks, "data": (WORKLOAD, HOME, [], {"Resources": {}})}
    assert messages(tmp_path, no_output, page) == [
        f"api: Logs reads output KeyArn of stack data in {WORKLOAD}/{HOME}, which that stack does not export"
    ]
    unordered: Stacks = {**stacks, "api": (WORKLOAD, HOME, [], _reader())}
    assert messages(tmp_path, unordered, page) == [
        f"api: Logs reads output KeyArn of stack data in {WORKLOAD}/{HOME} (data/KeyArn) without a stack "
        "dependency on data"
    ]
    elsewhere: Stacks = {**stacks, "api": (WORKLOAD, HOME, ["data"], _reader(DR))}
    assert "which no stack of the assembly deploys there" in messages(tmp_path, elsewhere, page)[0]


def test_a_bucket_named_from_the_config_must_be_created_first(tmp_path: Path, page: Path) -> None:
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "exampleco-cloudtrail-222222222222"}}
    trail = {
        "Type": "AWS::CloudTrail::Trail",
        "Properties": {"S3BucketName": "exampleco-cloudtrail-222222222222", "IsOrganizationTrail": False},
    }
    stacks: Stacks = {
        "log-archive": ("222222222222", HOME, [], template(Bucket=bucket)),
        "services": (MANAGEMENT, HOME, [], template(Trail=trail)),
    }
    assert messages(tmp_path, stacks, page) == [
        "services: Trail uses AWS::S3::Bucket 'exampleco-cloudtrail-222222222222' (log-archive/Bucket) without a "
        "stack dependency on log-archive"
    ]
    stacks["services"] = (MANAGEMENT, HOME, ["log-archive"], template(Trail=trail))
    assert messages(tmp_path, stacks, page) == []


def test_a_key_alias_in_an_arn_is_matched_in_its_own_account_and_region(tmp_path: Path, page: Path) -> None:
    alias = {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": "alias/exampleco/logs"}}
    trail = {
        "Type": "AWS::CloudTrail::Trail",
        "Properties": {"KMSKeyId": f"arn:aws:kms:{HOME}:222222222222:alias/exampleco/logs"},
    }
    stacks: Stacks = {
        "log-archive": ("222222222222", HOME, [], template(Alias=alias)),
        "other-region": ("222222222222", DR, [], template(Alias=alias)),
        "services": (MANAGEMENT, HOME, [], template(Trail=trail)),
    }
    assert messages(tmp_path, stacks, page) == [
        "services: Trail uses AWS::KMS::Alias 'alias/exampleco/logs' (log-archive/Alias) without a stack "
        "dependency on log-archive"
    ]


# --- permissions of deploy-time calls -------------------------------------------------------


def test_a_call_that_may_run_before_its_policy_is_a_finding(tmp_path: Path, page: Path) -> None:
    """The old wiring: neither the call nor the provider function waited for the policy."""
    resources = _subnet_lookup()
    del resources["Lookup"]["DependsOn"]
    del resources["Provider"]["DependsOn"]
    stacks: Stacks = {"network": (NETWORK, HOME, [], template(**SUBNETS))}
    stacks["dr"] = (WORKLOAD, HOME, ["network"], template(**resources))
    assert messages(tmp_path, stacks, page) == ["dr: Lookup may run before RolePolicy allows ec2:DescribeSubnets"]
    # Either wire orders it: the call's own DependsOn, or the function's (the call waits for its function).
    resources["Provider"]["DependsOn"] = ["RolePolicy"]
    stacks["dr"] = (WORKLOAD, HOME, ["network"], template(**resources))
    assert messages(tmp_path, stacks, page) == []


def test_a_call_no_policy_allows_is_a_finding(tmp_path: Path, page: Path) -> None:
    resources = _subnet_lookup()
    resources["RolePolicy"]["Properties"]["PolicyDocument"]["Statement"] = [allow(["ec2:DescribeVpcs"])]
    stacks: Stacks = {"network": (NETWORK, HOME, [], template(**SUBNETS))}
    stacks["dr"] = (WORKLOAD, HOME, ["network"], template(**resources))
    assert messages(tmp_path, stacks, page) == ["dr: Lookup needs ec2:DescribeSubnets, which no policy of Role allows"]


def _guardduty_configuration(resource: Any) -> dict[str, Any]:
    return template(
        **provider([allow(["guardduty:UpdateOrganizationConfiguration"], resource)]),
        Configure=call(
            "GuardDuty",
            "updateOrganizationConfiguration",
            {"DetectorId": "abc", "AutoEnableOrganizationMembers": "ALL"},
            depends_on=["RolePolicy"],
        ),
    )


def test_an_action_without_resource_types_is_allowed_only_on_star(tmp_path: Path, page: Path) -> None:
    detector = f"arn:aws:guardduty:{HOME}:{AUDIT}:detector/abc"
    admin = {
        **provider([allow(["guardduty:EnableOrganizationAdminAccount"]), allow(["organizations:*"])]),
        "Designate": call(
            "GuardDuty", "enableOrganizationAdminAccount", {"AdminAccountId": AUDIT}, depends_on=["RolePolicy"]
        ),
        "Trusted": organization_call("enableAWSServiceAccess", {"ServicePrincipal": "guardduty.amazonaws.com"}),
    }
    admin["Designate"]["DependsOn"].append("Trusted")
    stacks: Stacks = {
        "services": (MANAGEMENT, HOME, [], template(**admin)),
        "audit": (AUDIT, HOME, ["services"], _guardduty_configuration(detector)),
    }
    assert messages(tmp_path, stacks, page) == [
        "audit: Configure needs guardduty:UpdateOrganizationConfiguration, which no policy of Role allows"
    ]
    stacks["audit"] = (AUDIT, HOME, ["services"], _guardduty_configuration("*"))
    assert messages(tmp_path, stacks, page) == []
    unordered: Stacks = {**stacks, "audit": (AUDIT, HOME, [], _guardduty_configuration("*"))}
    assert messages(tmp_path, unordered, page) == [
        f"audit: Configure needs delegated-admin guardduty.amazonaws.com {AUDIT} {HOME} (GuardDuty's organization "
        "configuration (only its delegated administrator may set it)), done by services/Designate, without being "
        "ordered after it"
    ]


def test_the_guardduty_designation_needs_the_organizations_reads_aws_documents(tmp_path: Path, page: Path) -> None:
    resources = {
        **provider(
            [
                allow(["guardduty:EnableOrganizationAdminAccount"]),
                allow(["organizations:EnableAWSServiceAccess", "organizations:DescribeOrganization"]),
                allow(["organizations:RegisterDelegatedAdministrator", "organizations:ListDelegatedAdministrators"]),
            ]
        ),
        "Trusted": organization_call("enableAWSServiceAccess", {"ServicePrincipal": "guardduty.amazonaws.com"}),
        "Designate": call(
            "GuardDuty",
            "enableOrganizationAdminAccount",
            {"AdminAccountId": AUDIT},
            depends_on=["RolePolicy", "Trusted"],
        ),
    }
    stacks: Stacks = {"services": (MANAGEMENT, HOME, [], template(**resources))}
    missing = [m.rsplit(" needs ", 1)[1].split(",")[0] for m in messages(tmp_path, stacks, page)]
    assert missing == [
        "organizations:ListAWSServiceAccessForOrganization",
        "organizations:DescribeOrganizationalUnit",
        "organizations:DescribeAccount",
        "organizations:ListAccounts",
    ]


# --- trusted access -------------------------------------------------------------------------


def _services(trail_depends_on: list[str], register_depends_on: list[str]) -> dict[str, Any]:
    resources: dict[str, Any] = {
        **provider([allow(["organizations:EnableAWSServiceAccess", "organizations:RegisterDelegatedAdministrator"])]),
        "TrustedCloudTrail": organization_call(
            "enableAWSServiceAccess", {"ServicePrincipal": "cloudtrail.amazonaws.com"}
        ),
        "TrustedConfig": organization_call("enableAWSServiceAccess", {"ServicePrincipal": "config.amazonaws.com"}),
        "RegisterConfig": organization_call(
            "registerDelegatedAdministrator", {"AccountId": AUDIT, "ServicePrincipal": "config.amazonaws.com"}
        ),
        "Trail": {"Type": "AWS::CloudTrail::Trail", "Properties": {"IsOrganizationTrail": True}},
    }
    resources["Trail"]["DependsOn"] = trail_depends_on
    resources["RegisterConfig"]["DependsOn"] += register_depends_on
    return template(**resources)


def test_the_organization_trail_and_registrations_wait_for_trusted_access(tmp_path: Path, page: Path) -> None:
    stacks: Stacks = {"services": (MANAGEMENT, HOME, [], _services([], []))}
    assert messages(tmp_path, stacks, page) == [
        "services: Trail needs trusted-access cloudtrail.amazonaws.com (an organization trail), done by "
        "services/TrustedCloudTrail, without being ordered after it",
        "services: RegisterConfig needs trusted-access config.amazonaws.com (a delegated administrator "
        "registration), done by services/TrustedConfig, without being ordered after it",
    ]
    stacks = {"services": (MANAGEMENT, HOME, [], _services(["TrustedCloudTrail"], ["TrustedConfig"]))}
    assert messages(tmp_path, stacks, page) == []


# --- certificates, order, manual prerequisites ----------------------------------------------


def _dr_zone(*extra: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    zone = {"Type": "AWS::Route53::HostedZone", "Properties": {"Name": "dr.example.org"}}
    certificate = {
        "Type": "AWS::CertificateManager::Certificate",
        "Properties": {
            "DomainName": "app.dr.example.org",
            "ValidationMethod": "DNS",
            "DomainValidationOptions": [
                {"DomainName": "app.dr.example.org", "HostedZoneId": {"Fn::GetAtt": ["Zone", "Id"]}}
            ],
        },
    }
    return template(Zone=zone, Certificate=certificate, **dict(extra))


def test_a_certificate_validated_in_a_zone_nobody_delegates_to_cannot_complete(tmp_path: Path, page: Path) -> None:
    stacks: Stacks = {"dr-home": (WORKLOAD, HOME, [], _dr_zone())}
    assert messages(tmp_path, stacks, page) == [
        "dr-home: Certificate is validated by DNS in hosted zone Zone (dr.example.org), created in the same "
        "deployment, which no record delegates to: validation cannot complete"
    ]
    delegation = {"Type": "AWS::Route53::RecordSet", "Properties": {"Name": "dr.example.org.", "Type": "NS"}}
    stacks = {"dr-home": (WORKLOAD, HOME, [], _dr_zone(("Delegation", delegation)))}
    assert messages(tmp_path, stacks, page) == []


def test_a_dependency_cycle_is_a_finding_for_each_stack_in_it(tmp_path: Path, page: Path) -> None:
    stacks: Stacks = {"a": (WORKLOAD, HOME, ["b"], template()), "b": (WORKLOAD, HOME, ["a"], template())}
    assert messages(tmp_path, stacks, page) == [
        "a: in a stack dependency cycle with a, b",
        "b: in a stack dependency cycle with a, b",
    ]


def test_manual_prerequisites_must_be_listed_with_their_command(tmp_path: Path) -> None:
    permission_set = {"Type": "AWS::SSO::PermissionSet", "Properties": {"InstanceArn": "arn:aws:sso:::instance/x"}}
    trusted = {
        **provider([allow(["organizations:EnableAWSServiceAccess"])]),
        "TrustedSso": organization_call("enableAWSServiceAccess", {"ServicePrincipal": "sso.amazonaws.com"}),
    }
    stacks: Stacks = {
        "services": (MANAGEMENT, HOME, [], template(**copy.deepcopy(trusted))),
        "identity": (MANAGEMENT, HOME, ["services"], template(Admin=permission_set)),
    }
    empty = tmp_path / "empty.md"
    empty.write_text("# Deploying\n", encoding="utf-8")
    assert messages(tmp_path, stacks, empty) == [
        f"identity: needs the CDK bootstrap of {MANAGEMENT}/{HOME}; the deployment page lacks it",
        "identity: Admin needs identity-center (an Identity Center resource); the deployment page does not list "
        f"its command `{MANUAL[IDENTITY_CENTER].command}`",
        f"services: needs the CDK bootstrap of {MANAGEMENT}/{HOME}; the deployment page lacks it",
    ]
    listed = tmp_path / "listed.md"
    listed.write_text(f"`{MANUAL[IDENTITY_CENTER].command}` and `{MANUAL[BOOTSTRAP].command}`", encoding="utf-8")
    assert messages(tmp_path, stacks, listed) == []


def test_a_project_name_in_an_arn_that_no_stack_creates_is_a_finding(tmp_path: Path, page: Path) -> None:
    """The DR home stack copies backups into the DR region's vault, by its config-derived ARN."""
    vault_arn = f"arn:aws:backup:{DR}:{WORKLOAD}:backup-vault:exampleco-dr-{DR}"
    plan = {
        "Type": "AWS::Backup::BackupPlan",
        "Properties": {
            "BackupPlan": {"BackupPlanRule": [{"CopyActions": [{"DestinationBackupVaultArn": vault_arn}]}]},
            "BackupPlanTags": {},
        },
        "Metadata": {},
    }
    tags = [{"Key": "Project", "Value": "exampleco"}]
    vault = {"Type": "AWS::Backup::BackupVault", "Properties": {"BackupVaultName": f"exampleco-dr-{DR}", "Tags": tags}}
    home = template(Plan={**plan, "Properties": {**plan["Properties"], "Tags": tags}})
    stacks: Stacks = {"dr-home": (WORKLOAD, HOME, [], home)}
    assert messages(tmp_path, stacks, page) == [
        f"dr-home: Plan uses AWS::Backup::BackupVault 'exampleco-dr-{DR}' in {WORKLOAD}/{DR}, which no stack creates"
    ]
    stacks["dr-recovery"] = (WORKLOAD, DR, [], template(Vault=vault))
    assert messages(tmp_path, stacks, page) == [
        f"dr-home: Plan uses AWS::Backup::BackupVault 'exampleco-dr-{DR}' (dr-recovery/Vault) without a stack "
        "dependency on dr-recovery"
    ]
    stacks["dr-home"] = (WORKLOAD, HOME, ["dr-recovery"], home)
    assert messages(tmp_path, stacks, page) == []
