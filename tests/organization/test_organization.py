"""The organization pattern: the guardrails proven request by request against the SCPs in
the synthesized template, the limits checked at synth, and the stacks' key properties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Template

from analysis.organization.guardrail_cases import ACTIONS_WITHOUT_RESOURCE_TYPE, CASES
from analysis.organization.report import (
    GuardrailCase,
    ScpResource,
    build_organization,
    evaluate_cases,
    instance_types,
    left_out_cases,
    render_case_table,
    scps_from_template,
    select_account,
)
from analysis.organization.scp_evaluator import Organization, evaluate
from org_config import AccountRole, ConfigError, OrgConfig, load_config, parse_config
from org_config.loader import example_config_text
from org_config.names import log_bucket_name, log_key_alias, organization_trail_arn
from stacks.organization.service_control_policies import library
from stacks.organization.services import OrganizationServicesStack
from stacks.organization.structure import OrganizationStack
from stacks.organization_app import build_organization as build_app_stacks
from tests.support.synthesis import Synthesis, app_context
from tools.docs import pages

CONFIG = load_config()
HOME = CONFIG.regions.home


def _template(synthesis: Synthesis, name: str) -> dict[str, Any]:
    return synthesis.stack(f"{name}-{HOME}").template


@pytest.fixture(scope="module")
def scps(synthesis: Synthesis) -> list[ScpResource]:
    return scps_from_template(CONFIG, _template(synthesis, "organization"))


@pytest.fixture(scope="module")
def organization(scps: list[ScpResource]) -> Organization:
    return build_organization(CONFIG, scps)


def _case_id(case: GuardrailCase) -> str:
    subject = case.subject.role.value if case.subject.role else "+".join(case.subject.under)
    return f"{case.who}-{subject}-{case.action}-{case.region or 'home'}".replace(" ", "_")


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}-{_case_id(c)}" for i, c in enumerate(CASES, 1)])
def test_guardrail_decision(case: GuardrailCase, organization: Organization) -> None:
    account = select_account(CONFIG, organization, case.subject)
    assert account is not None, f"the example has no {case.subject.describe()}"
    decision = evaluate(organization, case.request(CONFIG, account))
    assert decision.allowed == case.expected, f"{case.why}: {decision.reason}"


def test_request_table_covers_every_scp_statement_and_exemption(organization: Organization) -> None:
    outcomes = evaluate_cases(CONFIG, organization, CASES)
    assert len(outcomes) == len(CASES) >= 40
    assert not left_out_cases(CONFIG, organization, CASES), "the example has every subject"
    deciding = {o.decision.deciding_statement for o in outcomes if not o.decision.allowed}
    every_statement = {g.sid for p in library(CONFIG).values() for g in p.guardrails}
    assert every_statement <= deciding, f"no deny case for {sorted(every_statement - deciding)}"
    allowed_by_exemption = {o.case.who for o in outcomes if o.decision.allowed and o.case.who != "administrator"}
    assert {"break-glass", "CDK deployment", "service-linked role", "root user"} <= allowed_by_exemption


# Actions that act on a resource of another service's namespace.
_RESOURCE_SERVICE = {"sts": "iam"}


def test_request_table_sends_each_action_its_own_resource(organization: Organization) -> None:
    """A case requests the ARN of what its action acts on, in the case's account and region,
    so that a guardrail scoped to resources fires as it would; only an action without a
    resource type is requested on `*`."""
    starred = set()
    for outcome in evaluate_cases(CONFIG, organization, CASES):
        case, request = outcome.case, outcome.request
        if request.resource == "*":
            assert case.action in ACTIONS_WITHOUT_RESOURCE_TYPE, f"{case.action}: request the ARN it acts on"
            starred.add(case.action)
            continue
        assert case.action not in ACTIONS_WITHOUT_RESOURCE_TYPE, f"{case.action} has no resource type"
        _, _, service, region, account, _ = request.resource.split(":", 5)
        prefix = case.action.split(":")[0]
        assert service == _RESOURCE_SERVICE.get(prefix, prefix), f"{case.action} on {request.resource}"
        assert region in ("", request.region), f"{case.action} on {request.resource}"
        assert account in ("", request.account_id), f"{case.action} on {request.resource}"
    assert starred == ACTIONS_WITHOUT_RESOURCE_TYPE, "list only the actions the table requests on `*`"


def test_template_scps_are_the_library_documents(scps: list[ScpResource]) -> None:
    """The stack writes each library policy unchanged, and attaches it where the config says."""
    documents = {name: policy.document() for name, policy in library(CONFIG).items()}
    for scp in scps:
        assert scp.document == documents[scp.name]
        expected = {ou for ou, names in CONFIG.guardrails.scps_by_ou.items() if scp.name in names}
        assert set(scp.targets) == expected
    assert not any("Root" in scp.targets for scp in scps), "no SCP at the root unless the config says so"


def test_largest_scp_is_within_the_size_limit(scps: list[ScpResource]) -> None:
    largest = max(scp.minified_size for scp in scps)
    assert largest <= CONFIG.organization.scp_limits.max_policy_characters


def test_docs_page_matches_the_code(synthesis: Synthesis) -> None:
    """The generated sections of the organization page; `make docs` rewrites them."""
    for path, expected in pages(synthesis.outdir).items():
        assert path.read_text(encoding="utf-8") == expected, f"{path.name} drifted: run `make docs`"


def _config_with(change: dict[str, Any]) -> str:
    data = yaml.safe_load(example_config_text())

    def merge(target: dict[str, Any], update: dict[str, Any]) -> None:
        for key, value in update.items():
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                merge(target[key], value)
            else:
                target[key] = value

    merge(data, change)
    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "guardrails": {
                    "scps_by_ou": {
                        "Sandbox": [
                            "baseline-guardrails",
                            "region-restriction",
                            "protect-security-services",
                            "sandbox-cost-controls",
                            "deny-all",
                        ]
                    }
                }
            },
            "guardrails.scps_by_ou.Sandbox: 6 SCPs on target 'Sandbox' (FullAWSAccess included) exceed "
            "organization.scp_limits.max_policies_per_target 5",
        ),
        (
            {"organization": {"scp_limits": {"max_policy_characters": 2000}}},
            "SCP 'protect-security-services' is 2500 characters minified, over "
            "organization.scp_limits.max_policy_characters 2000",
        ),
        (
            {"guardrails": {"scps_by_ou": {"Prod": ["deny-everything"]}}},
            "guardrails.scps_by_ou.Prod[0]: unknown SCP 'deny-everything'",
        ),
        (
            {"guardrails": {"scps_at_root": ["baseline-guardrails", "baseline-guardrails"]}},
            "guardrails.scps_at_root: lists an SCP twice",
        ),
    ],
    ids=["too-many-per-target", "policy-too-large", "unknown-scp", "duplicate"],
)
def test_scp_limits_stop_the_build_with_a_named_error(change: dict[str, Any], message: str) -> None:
    config = parse_config(_config_with(change))
    app = cdk.App(context=app_context())
    with pytest.raises(ConfigError) as error:
        build_app_stacks(app, config)
    assert message in str(error.value)
    assert not app.node.children, "nothing is built before the limits pass"


def test_larger_limits_admit_more_policies() -> None:
    """The 10,240 / 10 figures reported since May 2026 are a config change away."""
    five = [
        "baseline-guardrails",
        "region-restriction",
        "protect-security-services",
        "sandbox-cost-controls",
        "deny-all",
    ]
    config = parse_config(
        _config_with(
            {
                "organization": {"scp_limits": {"max_policy_characters": 10240, "max_policies_per_target": 10}},
                "guardrails": {"scps_by_ou": {"Sandbox": five}},
            }
        )
    )
    from stacks.organization.service_control_policies import attachments

    assert len(attachments(config)["Sandbox"]) == 6


def test_ous_follow_the_config(synthesis: Synthesis) -> None:
    resources = _template(synthesis, "organization")["Resources"]
    ous = {
        r["Properties"]["Name"]: (k, r["Properties"]["ParentId"])
        for k, r in resources.items()
        if r["Type"] == "AWS::Organizations::OrganizationalUnit"
    }
    assert set(ous) == {ou.name for ou in CONFIG.organization.organizational_units}
    for ou in CONFIG.organization.organizational_units:
        parent = ous[ou.name][1]
        if ou.parent == "Root":
            assert parent == CONFIG.organization.root_id
        else:
            assert parent == {"Fn::GetAtt": [ous[ou.parent][0], "Id"]}


def test_tag_and_backup_policies_at_the_root(synthesis: Synthesis) -> None:
    template = Template.from_json(_template(synthesis, "organization"))
    policies = template.find_resources("AWS::Organizations::Policy")
    by_type = {
        p["Properties"]["Type"]: p["Properties"]
        for p in policies.values()
        if p["Properties"]["Type"] != "SERVICE_CONTROL_POLICY"
    }
    tags = by_type["TAG_POLICY"]
    assert tags["TargetIds"] == [CONFIG.organization.root_id]
    assert tags["Content"]["tags"]["costcenter"]["tag_value"]["@@assign"] == list(CONFIG.tag_policy.cost_centers)
    assert tags["Content"]["tags"]["environment"]["tag_key"]["@@assign"] == "Environment"
    backup = by_type["BACKUP_POLICY"]
    (plan,) = backup["Content"]["plans"].values()
    assert plan["regions"]["@@assign"] == [CONFIG.regions.home, CONFIG.regions.dr]
    (rule,) = plan["rules"].values()
    assert rule["lifecycle"]["delete_after_days"]["@@assign"] == str(CONFIG.backup_policy.retention_days)


def test_member_roles_stackset_deploys_the_gated_template(synthesis: Synthesis) -> None:
    """Service-managed, auto-deployed to the configured OUs; its body is exactly the
    member-roles template that the gates checked."""
    template = _template(synthesis, "organization")
    (stackset,) = Template.from_json(template).find_resources("AWS::CloudFormation::StackSet").values()
    properties = stackset["Properties"]
    assert properties["PermissionModel"] == "SERVICE_MANAGED"
    assert properties["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    (group,) = properties["StackInstancesGroup"]
    ou_logical = {
        r["Properties"]["Name"]: k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Organizations::OrganizationalUnit"
    }
    assert group["DeploymentTargets"]["OrganizationalUnitIds"] == [
        {"Fn::GetAtt": [ou_logical[ou], "Id"]} for ou in CONFIG.guardrails.member_roles_ous
    ]
    member_roles = synthesis.stack("stackset-member-roles/member-roles").template
    assert json.loads(properties["TemplateBody"]) == member_roles
    roles = {
        r["Properties"]["RoleName"]: r for r in member_roles["Resources"].values() if r["Type"] == "AWS::IAM::Role"
    }
    break_glass = roles[CONFIG.guardrails.break_glass_role]["Properties"]
    (trust,) = break_glass["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert CONFIG.account(AccountRole.MANAGEMENT).id in json.dumps(trust["Principal"])
    assert break_glass["MaxSessionDuration"] == 3600


def test_accounts_are_created_only_when_the_config_says_so(synthesis: Synthesis) -> None:
    assert not Template.from_json(_template(synthesis, "organization")).find_resources("AWS::Organizations::Account")
    config = parse_config(_config_with({"organization": {"create_accounts": True}}))
    stack = OrganizationStack(cdk.App(context=app_context()), "org", config=config, member_roles_template={})
    accounts = Template.from_stack(stack).find_resources("AWS::Organizations::Account")
    assert len(accounts) == len(config.accounts) - 1  # all but the management account
    assert all(a["DeletionPolicy"] == "Retain" for a in accounts.values())


def test_organization_trail_writes_to_the_log_archive(synthesis: Synthesis) -> None:
    trail = Template.from_json(_template(synthesis, "organization-services"))
    log_archive = CONFIG.account(AccountRole.LOG_ARCHIVE).id
    trail.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "IsOrganizationTrail": True,
            "IsMultiRegionTrail": True,
            "IncludeGlobalServiceEvents": True,
            "EnableLogFileValidation": True,
            "IsLogging": True,
            "S3BucketName": log_bucket_name(CONFIG, "cloudtrail"),
            "KMSKeyId": f"arn:aws:kms:{HOME}:{log_archive}:{log_key_alias(CONFIG)}",
        },
    )


def test_delegated_administrators_and_scoped_custom_resource_permissions(synthesis: Synthesis) -> None:
    template = _template(synthesis, "organization-services")
    audit = CONFIG.account(AccountRole.AUDIT).id
    Template.from_json(template).has_resource_properties("AWS::SecurityHub::DelegatedAdmin", {"AdminAccountId": audit})
    calls = [json.dumps(r["Properties"]) for r in template["Resources"].values() if r["Type"] == "Custom::AWS"]
    for service in ("access-analyzer", "config", "guardduty", "securityhub", "sso", "member.org.stacksets"):
        assert any("enableAWSServiceAccess" in c and service in c for c in calls), service
    assert sum("registerDelegatedAdministrator" in c and audit in c for c in calls) == 3
    assert any("enableOrganizationAdminAccount" in c and audit in c for c in calls)
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert not any(a.endswith(":*") or a == "*" for a in actions), actions
            # EnableOrganizationAdminAccount (GuardDuty, Security Hub) and RAM's
            # EnableSharingWithAwsOrganization have no resource type and no condition key.
            write = [
                a
                for a in actions
                if not a.split(":")[1].startswith(("Describe", "List"))
                and a.split(":")[1] not in ("EnableOrganizationAdminAccount", "EnableSharingWithAwsOrganization")
            ]
            if statement["Resource"] == "*" and write:
                assert "Condition" in statement, f"{actions} on * without a condition"


def test_audit_account_aggregates_and_analyzes_the_organization(synthesis: Synthesis) -> None:
    template = Template.from_json(_template(synthesis, "audit-services"))
    template.has_resource_properties(
        "AWS::Config::ConfigurationAggregator", {"OrganizationAggregationSource": {"AllAwsRegions": True}}
    )
    template.has_resource_properties("AWS::AccessAnalyzer::Analyzer", {"Type": "ORGANIZATION"})


def test_identity_center_permission_sets_and_assignments(synthesis: Synthesis) -> None:
    template = Template.from_json(_template(synthesis, "identity-center"))
    sets = template.find_resources("AWS::SSO::PermissionSet")
    assert {s["Properties"]["Name"] for s in sets.values()} == {
        "AdministratorAccess",
        "ReadOnly",
        "NetworkAdministrator",
    }
    assert all(s["Properties"]["SessionDuration"] == "PT4H" for s in sets.values())
    assignments = template.find_resources("AWS::SSO::Assignment")
    assert len(assignments) == sum(len(a.accounts) for a in CONFIG.identity_center.assignments)
    network_admin = [a for a in assignments.values() if "NetworkAdministrator" in json.dumps(a)]
    assert [a["Properties"]["TargetId"] for a in network_admin] == [CONFIG.account_named("network").id]


def _policy_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_every_delegated_administrator_registration_is_scoped_to_the_audit_account(synthesis: Synthesis) -> None:
    """GuardDuty registers its administrator through Organizations with the caller's rights:
    that permission names the audit account, as the Config and Access Analyzer ones do."""
    management = CONFIG.account(AccountRole.MANAGEMENT).id
    audit = CONFIG.account(AccountRole.AUDIT).id
    audit_arn = f"arn:aws:organizations::{management}:account/{CONFIG.organization.id}/{audit}"
    registering = [
        s
        for s in _policy_statements(_template(synthesis, "organization-services"))
        if "organizations:RegisterDelegatedAdministrator" in json.dumps(s["Action"])
    ]
    principals = {s["Condition"]["StringEquals"]["organizations:ServicePrincipal"] for s in registering}
    assert "guardduty.amazonaws.com" in principals
    # Config, Config multi-account setup, Access Analyzer; GuardDuty per region; Security Hub per other region.
    assert len(registering) == 3 + len(CONFIG.regions.allowed) + len(CONFIG.regions.allowed) - 1
    for statement in registering:
        assert statement["Action"] == "organizations:RegisterDelegatedAdministrator", statement
        assert statement["Resource"] == audit_arn, statement


def _resources_of(template: dict[str, Any], type_: str) -> dict[str, Any]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == type_}


def test_trail_delivers_to_an_encrypted_log_group_with_the_configured_retention(synthesis: Synthesis) -> None:
    template = _template(synthesis, "organization-services")
    (trail,) = _resources_of(template, "AWS::CloudTrail::Trail").values()
    group_id = trail["Properties"]["CloudWatchLogsLogGroupArn"]["Fn::GetAtt"][0]
    role_id = trail["Properties"]["CloudWatchLogsRoleArn"]["Fn::GetAtt"][0]
    group = template["Resources"][group_id]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["DeletionPolicy"] == "Retain"
    assert group["Properties"]["RetentionInDays"] == CONFIG.security_monitoring.trail_log_retention_days
    key_id = group["Properties"]["KmsKeyId"]["Fn::GetAtt"][0]
    assert template["Resources"][key_id]["Type"] == "AWS::KMS::Key"
    role = template["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceArn": organization_trail_arn(CONFIG)}}
    (policy,) = [
        p
        for p in _resources_of(template, "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    (write,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert set(write["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert write["Resource"].endswith(f"log-group:{group['Properties']['LogGroupName']}:log-stream:*")


def test_trail_log_retention_comes_from_the_config() -> None:
    config = parse_config(_config_with({"security_monitoring": {"trail_log_retention_days": 2557}}))
    stack = OrganizationServicesStack(
        cdk.App(context=app_context()),
        "services",
        config=config,
        env=cdk.Environment(account=CONFIG.account(AccountRole.MANAGEMENT).id, region=HOME),
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::Logs::LogGroup", {"LogGroupName": "/exampleco/organization-trail", "RetentionInDays": 2557}
    )


def test_cis_alarms_reach_the_audit_topic_through_eventbridge(synthesis: Synthesis) -> None:
    management = CONFIG.account(AccountRole.MANAGEMENT).id
    audit = CONFIG.account(AccountRole.AUDIT).id
    bus = f"arn:aws:events:{HOME}:{audit}:event-bus/default"
    alarm_prefix = f"arn:aws:cloudwatch:{HOME}:{management}:alarm:{CONFIG.organization.name_prefix}-cis-"
    services = _template(synthesis, "organization-services")
    (forward,) = _resources_of(services, "AWS::Events::Rule").values()
    pattern = forward["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.cloudwatch"]
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert pattern["resources"] == [{"prefix": alarm_prefix}]
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}}
    (target,) = forward["Properties"]["Targets"]
    assert target["Arn"] == bus
    role = services["Resources"][target["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": management}}
    every_alarm = _resources_of(services, "AWS::CloudWatch::Alarm").values()
    assert all(
        f"arn:aws:cloudwatch:{HOME}:{management}:alarm:{a['Properties']['AlarmName']}".startswith(alarm_prefix)
        for a in every_alarm
    )

    audit_template = _template(synthesis, "audit-services")
    (bus_policy,) = _resources_of(audit_template, "AWS::Events::EventBusPolicy").values()
    assert bus_policy["Properties"]["Statement"] == {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{management}:root"},
        "Action": "events:PutEvents",
        "Resource": bus,
    }
    (rule,) = _resources_of(audit_template, "AWS::Events::Rule").values()
    assert rule["Properties"]["EventPattern"]["account"] == [management]
    assert rule["Properties"]["EventPattern"]["resources"] == [{"prefix": alarm_prefix}]
    (topic_target,) = rule["Properties"]["Targets"]
    topic_id = topic_target["Arn"]["Ref"]
    assert audit_template["Resources"][topic_id]["Type"] == "AWS::SNS::Topic"
    assert "KmsMasterKeyId" in audit_template["Resources"][topic_id]["Properties"]
    rule_arn = f"arn:aws:events:{HOME}:{audit}:rule/{rule['Properties']['Name']}"
    (topic_policy,) = _resources_of(audit_template, "AWS::SNS::TopicPolicy").values()
    (publish,) = [
        s
        for s in topic_policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Allow" and s["Principal"] == {"Service": "events.amazonaws.com"}
    ]
    assert publish["Condition"]["ArnEquals"] == {"aws:SourceArn": rule_arn}
    (subscription,) = _resources_of(audit_template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == CONFIG.security_monitoring.alarm_email
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic_id}


def _sdk_call(resource: dict[str, Any]) -> dict[str, Any]:
    """The SDK call of a Custom::AWS resource; a value from another resource reads as "<token>"."""
    create = resource["Properties"]["Create"]
    if isinstance(create, dict):
        create = "".join(part if isinstance(part, str) else "<token>" for part in create["Fn::Join"][1])
    call: dict[str, Any] = json.loads(create)
    return call


def _sdk_calls(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [_sdk_call(r) for r in _resources_of(template, "Custom::AWS").values()]


def test_guardduty_and_security_hub_administrators_in_every_allowed_region(synthesis: Synthesis) -> None:
    audit = CONFIG.account(AccountRole.AUDIT).id
    calls = _sdk_calls(_template(synthesis, "organization-services"))
    for service in ("GuardDuty", "SecurityHub"):
        designated = {
            c["region"]
            for c in calls
            if c["service"] == service
            and c["action"] == "enableOrganizationAdminAccount"
            and c["parameters"] == {"AdminAccountId": audit}
        }
        expected = set(CONFIG.regions.allowed) - ({HOME} if service == "SecurityHub" else set())
        assert designated == expected, service
    # Security Hub's home region has its CloudFormation resource.
    Template.from_json(_template(synthesis, "organization-services")).has_resource_properties(
        "AWS::SecurityHub::DelegatedAdmin", {"AdminAccountId": audit}
    )
    # Each designation waits for its service's trusted access, which it requires.
    resources = _template(synthesis, "organization-services")["Resources"]
    trusted = {
        _sdk_call(r)["parameters"]["ServicePrincipal"]: k
        for k, r in resources.items()
        if r["Type"] == "Custom::AWS" and _sdk_call(r)["action"] == "enableAWSServiceAccess"
    }
    for resource in resources.values():
        if resource["Type"] == "AWS::SecurityHub::DelegatedAdmin":
            assert trusted["securityhub.amazonaws.com"] in resource["DependsOn"]
        elif resource["Type"] == "Custom::AWS" and _sdk_call(resource)["action"] == "enableOrganizationAdminAccount":
            principal = f"{_sdk_call(resource)['service'].lower()}.amazonaws.com"
            assert trusted[principal] in resource["DependsOn"], principal


def test_guardduty_is_enabled_for_every_member_in_every_allowed_region(synthesis: Synthesis) -> None:
    template = _template(synthesis, "audit-services")
    resources = _resources_of(template, "Custom::AWS")
    configured = {}
    for logical_id, resource in resources.items():
        call = _sdk_call(resource)
        if call["action"] != "updateOrganizationConfiguration":
            continue
        assert call["parameters"] == {"DetectorId": "<token>", "AutoEnableOrganizationMembers": "ALL"}
        # The detector id is the answer of the listDetectors call in the same region.
        (reference,) = [p for p in resource["Properties"]["Create"]["Fn::Join"][1] if not isinstance(p, str)]
        assert reference["Fn::GetAtt"][1] == "DetectorIds.0"
        finder = _sdk_call(resources[reference["Fn::GetAtt"][0]])
        assert (finder["action"], finder["region"]) == ("listDetectors", call["region"])
        configured[call["region"]] = logical_id
    assert set(configured) == set(CONFIG.regions.allowed)


def test_security_hub_is_configured_centrally_with_fsbp_and_cis(synthesis: Synthesis) -> None:
    template = Template.from_json(_template(synthesis, "audit-services"))
    others = [r for r in CONFIG.regions.allowed if r != HOME]
    template.has_resource_properties(
        "AWS::SecurityHub::FindingAggregator", {"RegionLinkingMode": "SPECIFIED_REGIONS", "Regions": others}
    )
    template.has_resource_properties(
        "AWS::SecurityHub::OrganizationConfiguration",
        {"ConfigurationType": "CENTRAL", "AutoEnable": False, "AutoEnableStandards": "NONE"},
    )
    ((policy_id, policy),) = template.find_resources("AWS::SecurityHub::ConfigurationPolicy").items()
    hub = policy["Properties"]["ConfigurationPolicy"]["SecurityHub"]
    assert hub["ServiceEnabled"] is True
    assert sorted(hub["EnabledStandardIdentifiers"]) == [
        f"arn:aws:securityhub:{HOME}::standards/aws-foundational-security-best-practices/v/1.0.0",
        f"arn:aws:securityhub:{HOME}::standards/cis-aws-foundations-benchmark/v/3.0.0",
    ]
    assert hub["SecurityControlsConfiguration"] == {"DisabledSecurityControlIdentifiers": []}
    template.has_resource_properties(
        "AWS::SecurityHub::PolicyAssociation",
        {
            "ConfigurationPolicyId": {"Fn::GetAtt": [policy_id, "Id"]},
            "TargetType": "ROOT",
            "TargetId": CONFIG.organization.root_id,
        },
    )
    # Central configuration needs the aggregator, and the policy needs central configuration.
    resources = _template(synthesis, "audit-services")["Resources"]
    kinds = {k: r["Type"] for k, r in resources.items()}
    org_config = next(r for r in resources.values() if r["Type"] == "AWS::SecurityHub::OrganizationConfiguration")
    assert [kinds[d] for d in org_config["DependsOn"]] == ["AWS::SecurityHub::FindingAggregator"]
    assert [kinds[d] for d in policy["DependsOn"]] == ["AWS::SecurityHub::OrganizationConfiguration"]


# ------------------------------------------------------------------ the guardrail table on other organizations

SECOND = Path(__file__).resolve().parents[1] / "configs" / "second_organization.yaml"
EXAMPLE = yaml.safe_load(example_config_text())
EXAMPLE_ACCOUNT_NAMES = {a["name"] for a in EXAMPLE["accounts"]}
EXAMPLE_ACCOUNT_IDS = {a["id"] for a in EXAMPLE["accounts"]}


def _renamed(data: dict[str, Any], names: dict[str, str]) -> None:
    """Rename accounts everywhere the config refers to them by name."""
    for account in data["accounts"]:
        account["name"] = names.get(account["name"], account["name"])
    for vpc in data.get("network", {}).get("vpcs", {}).values():
        vpc["account"] = names.get(vpc["account"], vpc["account"])
    for assignment in data["identity_center"]["assignments"]:
        assignment["accounts"] = [names.get(a, a) for a in assignment["accounts"] if a in names or a != "sandbox"]
    for section in ("disaster_recovery", "streaming", "object_index"):
        if "account" in data.get(section, {}):
            data[section]["account"] = names[data[section]["account"]]


def _three_sandboxes() -> OrgConfig:
    """Another company: accounts of its own names and ids, three sandbox accounts and none
    suspended, home in us-east-1, no network yet."""
    data = yaml.safe_load(example_config_text())
    data["accounts"] = [a for a in data["accounts"] if a["role"] != "sandbox"]
    _renamed(data, {a["name"]: f"acme-{a['role']}" for a in data["accounts"]})
    for number, account in enumerate(data["accounts"], start=1):
        account.update(id=f"30000000{number:04d}", email=f"aws-{number}@acme.example")
    data["accounts"] += [
        {"name": f"acme-lab-{n}", "id": f"30000000{90 + n:04d}", "email": f"lab-{n}@acme.example", "role": "sandbox"}
        | {"ou": "Sandbox"}
        for n in (1, 2, 3)
    ]
    data["organization"].update(id="o-acme0000001", root_id="r-acme", name_prefix="acme")
    data["regions"] = {"home": "us-east-1", "dr": "us-west-2", "allowed": ["us-east-1", "us-west-2"]}
    for section in ("network", "disaster_recovery", "delivery"):  # no network yet, so no DR; no pipeline
        data.pop(section, None)
    return parse_config(yaml.safe_dump(data, sort_keys=False), source="three-sandboxes.yaml")


def _organization_only() -> OrgConfig:
    """The organization pattern alone (no VPCs, no DR, streaming or object index sections),
    with no sandbox or suspended accounts, and the workloads under the baseline and region
    guardrails but not protect-security-services."""
    data = yaml.safe_load(example_config_text())
    for section in ("network", "disaster_recovery", "streaming", "object_index", "delivery"):
        data.pop(section, None)
    data["accounts"] = [a for a in data["accounts"] if a["role"] != "sandbox"]
    data["organization"]["organizational_units"] = [
        ou for ou in data["organization"]["organizational_units"] if ou["name"] not in ("Sandbox", "Suspended")
    ]
    guardrails = data["guardrails"]
    guardrails["scps_by_ou"] = {**guardrails["scps_by_ou"], "Workloads": ["baseline-guardrails", "region-restriction"]}
    for ou in ("Sandbox", "Suspended"):
        guardrails["scps_by_ou"].pop(ou)
    guardrails["member_roles_ous"] = ["Security", "Infrastructure", "Workloads"]
    for assignment in data["identity_center"]["assignments"]:
        assignment["accounts"] = [a for a in assignment["accounts"] if a != "sandbox"]
    return parse_config(yaml.safe_dump(data, sort_keys=False), source="organization-only.yaml")


OTHER_ORGANIZATIONS = {
    "second": lambda: parse_config(SECOND.read_text(encoding="utf-8"), source=str(SECOND)),
    "three-sandboxes": _three_sandboxes,
    "organization-only": _organization_only,
}


@pytest.fixture(scope="module", params=sorted(OTHER_ORGANIZATIONS))
def other(request: pytest.FixtureRequest) -> tuple[OrgConfig, Organization]:
    """Another organization's config and its SCPs, read from its synthesized organization stack."""
    config = OTHER_ORGANIZATIONS[request.param]()
    stack = OrganizationStack(cdk.App(context=app_context()), "org", config=config, member_roles_template={})
    template = Template.from_stack(stack).to_json()
    return config, build_organization(config, scps_from_template(config, template))


def test_guardrail_table_runs_on_any_organization(other: tuple[OrgConfig, Organization]) -> None:
    """Every case evaluates as expected or is left out because its subject does not exist."""
    config, organization = other
    outcomes = evaluate_cases(config, organization, CASES)
    left_out = left_out_cases(config, organization, CASES)
    assert len(outcomes) + len(left_out) == len(CASES)
    assert [o for o in outcomes if not o.as_expected] == []
    names = {a.name for a in config.accounts}
    assert {o.account.name for o in outcomes} <= names
    # Only subjects told apart by an optional SCP or the sandbox role can be missing.
    assert all(o.case.subject.under or o.case.subject.role is AccountRole.SANDBOX for o in left_out)
    for item in left_out:
        assert select_account(config, organization, item.case.subject) is None


def test_three_sandboxes_and_none_suspended_names_only_its_own_accounts() -> None:
    config = _three_sandboxes()
    stack = OrganizationStack(cdk.App(context=app_context()), "org", config=config, member_roles_template={})
    organization = build_organization(config, scps_from_template(config, Template.from_stack(stack).to_json()))
    outcomes = evaluate_cases(config, organization, CASES)
    left_out = left_out_cases(config, organization, CASES)
    table = render_case_table(outcomes, left_out)
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert {row[2] for row in rows} == {a.name for a in config.accounts} - {"acme-lab-2", "acme-lab-3"}
    assert not {row[2] for row in rows} & EXAMPLE_ACCOUNT_NAMES
    assert not {value for value in [*EXAMPLE_ACCOUNT_IDS, "exampleco", "eu-west-1"] if value in table}
    assert [(o.case.who, o.case.action) for o in left_out] == [
        ("administrator", "s3:GetObject"),
        ("break-glass", "s3:GetObject"),
        ("service-linked role", "config:PutEvaluations"),
    ]
    assert table.splitlines()[len(rows) + 2 :] == [
        "",
        "Left out: 3 case(s) whose subject this organization does not have.",
        "- administrator: `s3:GetObject` (suspended accounts can do nothing): this organization has no "
        "member account that deny-all applies to",
        "- break-glass: `s3:GetObject` (not even break-glass): this organization has no member account that "
        "deny-all applies to",
        "- service-linked role: `config:PutEvaluations` (service-linked roles are never restricted): this "
        "organization has no member account that deny-all applies to",
    ]
    # The sandbox cases ask from the first sandbox account; us-east-1 is allowed here, so the
    # region cases go to a region the organization does not allow.
    sandbox = [o for o in outcomes if o.case.subject.role is AccountRole.SANDBOX]
    assert sandbox and {o.account.name for o in sandbox} == {"acme-lab-1"}
    assert {o.request.region for o in outcomes if o.case.region == "{outside}"} == {"af-south-1"}


def test_subjects_are_told_apart_by_role_and_scps_not_by_order() -> None:
    """With the retired sandbox listed first, the sandbox cases still ask from a sandbox
    that is not suspended, and the suspended cases from the one under deny-all."""
    data = yaml.safe_load(example_config_text())
    data["accounts"].sort(key=lambda a: a["name"] != "retired-sandbox")
    config = parse_config(yaml.safe_dump(data, sort_keys=False), source="reordered.yaml")
    stack = OrganizationStack(cdk.App(context=app_context()), "org", config=config, member_roles_template={})
    organization = build_organization(config, scps_from_template(config, Template.from_stack(stack).to_json()))
    chosen = {case.subject: select_account(config, organization, case.subject) for case in CASES}
    named = {subject.describe(): account.name for subject, account in chosen.items() if account is not None}
    assert named == {
        "management account": "management",
        "log-archive account": "log-archive",
        "network account": "network",
        "shared-services account": "shared-services",
        "workload-prod account": "workload-prod",
        "workload-prod account that sandbox-cost-controls does not": "workload-prod",
        "workload-prod account that protect-security-services applies to": "workload-prod",
        "audit account that protect-security-services applies to": "audit",
        "log-archive account that protect-security-services applies to": "log-archive",
        "workload-nonprod account": "workload-nonprod",
        "sandbox account that deny-all does not": "sandbox",
        "sandbox account that sandbox-cost-controls applies to and deny-all does not": "sandbox",
        "member account that deny-all applies to": "retired-sandbox",
    }
    assert all(o.as_expected for o in evaluate_cases(config, organization, CASES))


def test_instance_types_of_the_sandbox_cases_come_from_the_config() -> None:
    """A sandbox that allows m5 instances: the allowed type is one of its own patterns, the
    refused one a large type no pattern allows, and the table still holds."""
    config = parse_config(_config_with({"guardrails": {"sandbox_instance_types": ["m5.*", "t4g.*"]}}))
    assert instance_types(config) == ("m5.micro", "p4d.24xlarge")
    stack = OrganizationStack(cdk.App(context=app_context()), "org", config=config, member_roles_template={})
    organization = build_organization(config, scps_from_template(config, Template.from_stack(stack).to_json()))
    outcomes = evaluate_cases(config, organization, CASES)
    assert [o for o in outcomes if not o.as_expected] == []
    large = [o for o in outcomes if o.request.context.get("ec2:InstanceType") == "p4d.24xlarge"]
    assert len(large) == 2 and {o.decision.allowed for o in large} == {True, False}


def test_an_organization_that_places_the_optional_guardrails_elsewhere_passes() -> None:
    """Workloads without protect-security-services, no sandbox and no suspended account: the
    cases on what the organization lacks are left out, the rest hold."""
    config = _organization_only()
    stack = OrganizationStack(cdk.App(context=app_context()), "org", config=config, member_roles_template={})
    organization = build_organization(config, scps_from_template(config, Template.from_stack(stack).to_json()))
    outcomes = evaluate_cases(config, organization, CASES)
    assert [o for o in outcomes if not o.as_expected] == []
    left_out = [
        (o.case.who, o.case.action, o.case.subject.describe()) for o in left_out_cases(config, organization, CASES)
    ]
    assert (
        "application",
        "cloudtrail:StopLogging",
        "workload-prod account that protect-security-services applies to",
    ) in left_out
    assert len(left_out) == 10  # that one, 6 sandbox cases, 3 suspended ones
    # The audit and log-archive accounts keep protect-security-services: their cases run.
    assert {o.account.role for o in outcomes if o.case.subject.under == ("protect-security-services",)} == {
        AccountRole.AUDIT,
        AccountRole.LOG_ARCHIVE,
    }
