"""Tests for the offline SCP evaluator.

Each test pins one rule of SCP evaluation so that a regression in the evaluator
(and therefore in every guardrail test built on it) shows up here first.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from analysis.organization.scp_evaluator import (
    SCP_MAX_CHARACTERS,
    ContextValue,
    Decision,
    Organization,
    PolicyError,
    Request,
    evaluate,
    load_policy,
    minified_size,
)

VERSION = "2012-10-17"

MANAGEMENT = "111111111111"
PROD = "666666666666"
NONPROD = "777777777777"
SANDBOX = "888888888888"
SUSPENDED = "999999999999"
UNGUARDED = "123456789012"  # placed in an OU but with nothing attached to it

ALLOWED_REGIONS = ["eu-west-1", "eu-central-1"]
GLOBAL_SERVICES = [
    "iam:*",
    "organizations:*",
    "sts:*",
    "support:*",
    "cloudfront:*",
    "route53:*",
    "budgets:*",
]


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": list(statements)}


FULL_AWS_ACCESS = _policy({"Effect": "Allow", "Action": "*", "Resource": "*"})

DENY_LEAVE_ORG = _policy(
    {
        "Sid": "DenyLeaveOrganization",
        "Effect": "Deny",
        "Action": "organizations:LeaveOrganization",
        "Resource": "*",
    }
)

DENY_ROOT_USER = _policy(
    {
        "Sid": "DenyRootUser",
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}},
    }
)

REGION_DENY = _policy(
    {
        "Sid": "DenyOutsideAllowedRegions",
        "Effect": "Deny",
        "NotAction": GLOBAL_SERVICES,
        "Resource": "*",
        "Condition": {
            "StringNotEquals": {"aws:RequestedRegion": ALLOWED_REGIONS},
            "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/BreakGlass"]},
        },
    }
)

REQUIRE_IMDSV2 = _policy(
    {
        "Sid": "RequireImdsV2",
        "Effect": "Deny",
        "Action": "ec2:RunInstances",
        "Resource": "arn:aws:ec2:*:*:instance/*",
        "Condition": {"StringNotEquals": {"ec2:MetadataHttpTokens": "required"}},
    }
)

DENY_ALL = _policy({"Sid": "DenyAll", "Effect": "Deny", "Action": "*", "Resource": "*"})

# An allow-list: the Sandbox OU gets this instead of FullAWSAccess.
SANDBOX_ALLOW_LIST = _policy(
    {
        "Sid": "AllowSandboxServices",
        "Effect": "Allow",
        "Action": ["s3:Get*", "s3:List*", "ec2:Describe*"],
        "Resource": "*",
    }
)


def role(account: str, name: str = "Admin") -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def request(
    action: str,
    account: str = PROD,
    *,
    principal: str | None = None,
    resource: str = "*",
    region: str = "eu-west-1",
    context: dict[str, ContextValue] | None = None,
) -> Request:
    return Request(
        principal_arn=principal or role(account),
        account_id=account,
        action=action,
        resource=resource,
        region=region,
        context=context or {},
    )


def build_org() -> Organization:
    """Root -> Workloads -> Prod/NonProd, plus Sandbox and Suspended OUs."""
    org = Organization(MANAGEMENT)
    org.add_account(MANAGEMENT)
    for ou, parent in [
        ("Workloads", None),
        ("Prod", "Workloads"),
        ("NonProd", "Workloads"),
        ("Sandbox", None),
        ("Suspended", None),
    ]:
        org.add_ou(ou, parent)
    for account, ou in [
        (PROD, "Prod"),
        (NONPROD, "NonProd"),
        (SANDBOX, "Sandbox"),
        (SUSPENDED, "Suspended"),
        (UNGUARDED, "NonProd"),
    ]:
        org.add_account(account, ou)

    for target, name, document in [
        ("Root", "FullAWSAccess", FULL_AWS_ACCESS),
        ("Root", "deny-leave-org", DENY_LEAVE_ORG),
        ("Root", "deny-root-user", DENY_ROOT_USER),
        ("Workloads", "FullAWSAccess", FULL_AWS_ACCESS),
        ("Workloads", "region-deny", REGION_DENY),
        ("Prod", "FullAWSAccess", FULL_AWS_ACCESS),
        ("Prod", "require-imdsv2", REQUIRE_IMDSV2),
        ("NonProd", "FullAWSAccess", FULL_AWS_ACCESS),
        ("Sandbox", "sandbox-allow-list", SANDBOX_ALLOW_LIST),
        ("Suspended", "FullAWSAccess", FULL_AWS_ACCESS),
        ("Suspended", "deny-all", DENY_ALL),
        (MANAGEMENT, "FullAWSAccess", FULL_AWS_ACCESS),
        (PROD, "FullAWSAccess", FULL_AWS_ACCESS),
        (NONPROD, "FullAWSAccess", FULL_AWS_ACCESS),
        (SANDBOX, "FullAWSAccess", FULL_AWS_ACCESS),
        (SUSPENDED, "FullAWSAccess", FULL_AWS_ACCESS),
    ]:
        org.attach(target, document, name)
    return org


@pytest.fixture(scope="module")
def org() -> Organization:
    return build_org()


def holds(condition: dict[str, Any], context: dict[str, ContextValue] | None = None) -> bool:
    """Whether a statement with only this Condition block matches a request."""
    policy = load_policy(_policy({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": condition}))
    return policy.statements[0].matches(request("s3:GetObject", context=context))


def statement_matches(statement: dict[str, Any], req: Request) -> bool:
    return load_policy(_policy(statement)).statements[0].matches(req)


# ------------------------------------------------------------------ whole organization

IMDS_INSTANCE = "arn:aws:ec2:eu-west-1:666666666666:instance/*"
IMDS_VOLUME = "arn:aws:ec2:eu-west-1:666666666666:volume/*"

# (id, request, allowed, deciding policy, deciding statement, level, reason fragment)
ORG_CASES: list[tuple[str, Request, bool, str | None, str | None, str | None, str]] = [
    (
        "leave-org-denied-at-root",
        request("organizations:LeaveOrganization"),
        False,
        "deny-leave-org",
        "DenyLeaveOrganization",
        "Root",
        "explicit deny by statement DenyLeaveOrganization in policy deny-leave-org attached to root Root",
    ),
    (
        "root-user-denied",
        request("s3:ListAllMyBuckets", principal="arn:aws:iam::666666666666:root"),
        False,
        "deny-root-user",
        "DenyRootUser",
        "Root",
        "attached to root Root",
    ),
    (
        "region-outside-allow-list-denied",
        request("ec2:DescribeInstances", region="us-west-2"),
        False,
        "region-deny",
        "DenyOutsideAllowedRegions",
        "Workloads",
        "attached to ou Workloads",
    ),
    (
        "region-deny-exempts-global-service",
        request("iam:CreateRole", region="us-east-1"),
        True,
        None,
        None,
        None,
        "allowed",
    ),
    (
        "region-deny-exempts-break-glass-role",
        request("ec2:DescribeInstances", principal=role(PROD, "BreakGlass"), region="us-west-2"),
        True,
        None,
        None,
        None,
        "allowed",
    ),
    (
        "region-deny-break-glass-name-is-exact",
        request("ec2:DescribeInstances", principal=role(PROD, "BreakGlassX"), region="us-west-2"),
        False,
        "region-deny",
        "DenyOutsideAllowedRegions",
        "Workloads",
        "explicit deny",
    ),
    (
        "allowed-region-passes",
        request("ec2:DescribeInstances", region="eu-central-1"),
        True,
        None,
        None,
        None,
        "allowed: an Allow matches at root Root by FullAWSAccess/#0",
    ),
    (
        "imdsv1-launch-denied",
        request(
            "ec2:RunInstances",
            resource=IMDS_INSTANCE,
            context={"ec2:MetadataHttpTokens": "optional"},
        ),
        False,
        "require-imdsv2",
        "RequireImdsV2",
        "Prod",
        "attached to ou Prod",
    ),
    (
        "imdsv2-launch-allowed",
        request(
            "ec2:RunInstances",
            resource=IMDS_INSTANCE,
            context={"ec2:MetadataHttpTokens": "required"},
        ),
        True,
        None,
        None,
        None,
        "allowed",
    ),
    (
        "imds-key-missing-negated-operator-denies",
        request("ec2:RunInstances", resource=IMDS_INSTANCE),
        False,
        "require-imdsv2",
        "RequireImdsV2",
        "Prod",
        "explicit deny",
    ),
    (
        "imds-rule-ignores-other-resources",
        request("ec2:RunInstances", resource=IMDS_VOLUME),
        True,
        None,
        None,
        None,
        "allowed",
    ),
    (
        "imds-rule-only-in-prod",
        request("ec2:RunInstances", NONPROD, resource=IMDS_INSTANCE),
        True,
        None,
        None,
        None,
        "allowed",
    ),
    (
        "sandbox-allow-list-permits-listed-action",
        request("s3:GetObject", SANDBOX, region="us-west-2"),
        True,
        None,
        None,
        None,
        "ou Sandbox by sandbox-allow-list/AllowSandboxServices",
    ),
    (
        "sandbox-allow-list-action-case-insensitive",
        request("S3:getobject", SANDBOX),
        True,
        None,
        None,
        None,
        "allowed",
    ),
    (
        "sandbox-unlisted-action-implicitly-denied",
        request("iam:CreateUser", SANDBOX),
        False,
        None,
        None,
        "Sandbox",
        "implicit deny: no Allow at ou Sandbox",
    ),
    (
        "suspended-ou-denies-everything",
        request("s3:GetObject", SUSPENDED),
        False,
        "deny-all",
        "DenyAll",
        "Suspended",
        "explicit deny by statement DenyAll in policy deny-all attached to ou Suspended",
    ),
    (
        "target-without-policy-implicitly-denies",
        request("s3:GetObject", UNGUARDED),
        False,
        None,
        None,
        UNGUARDED,
        f"implicit deny: no policy attached at account {UNGUARDED}",
    ),
    (
        "management-account-is-exempt",
        request("organizations:LeaveOrganization", MANAGEMENT, principal=f"arn:aws:iam::{MANAGEMENT}:root"),
        True,
        None,
        None,
        None,
        "management account",
    ),
    (
        "service-linked-role-is-exempt",
        request(
            "s3:GetObject",
            SUSPENDED,
            principal=f"arn:aws:iam::{SUSPENDED}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
        ),
        True,
        None,
        None,
        None,
        "service-linked roles",
    ),
]


@pytest.mark.parametrize(
    ("req", "allowed", "policy", "statement", "level", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in ORG_CASES],
)
def test_organization_decisions(
    org: Organization,
    req: Request,
    allowed: bool,
    policy: str | None,
    statement: str | None,
    level: str | None,
    reason: str,
) -> None:
    decision = evaluate(org, req)
    assert decision.allowed is allowed, decision.reason
    assert decision.deciding_policy == policy
    assert decision.deciding_statement == statement
    assert decision.level == level
    assert reason in decision.reason


def test_decision_for_an_allow_lists_every_level(org: Organization) -> None:
    decision = evaluate(org, request("s3:GetObject"))
    assert decision == Decision(
        True,
        "allowed: an Allow matches at root Root by FullAWSAccess/#0, "
        "ou Workloads by FullAWSAccess/#0, ou Prod by FullAWSAccess/#0, "
        f"account {PROD} by FullAWSAccess/#0",
    )


def test_path_to_runs_from_root_to_account(org: Organization) -> None:
    assert org.path_to(PROD) == ["Root", "Workloads", "Prod", PROD]
    assert org.path_to(SANDBOX) == ["Root", "Sandbox", SANDBOX]


def test_unknown_account_is_an_error_not_a_decision(org: Organization) -> None:
    with pytest.raises(KeyError, match="000000000000"):
        evaluate(org, request("s3:GetObject", "000000000000"))


def test_management_account_exempt_even_outside_the_tree() -> None:
    # Everything is denied at the root; only the management account gets through.
    org = Organization(MANAGEMENT)
    org.attach("Root", DENY_ALL, "deny-all")
    org.add_account(PROD)
    org.attach(PROD, FULL_AWS_ACCESS, "FullAWSAccess")
    decision = evaluate(org, request("s3:GetObject", MANAGEMENT))
    assert decision == Decision(
        True,
        f"allowed: account {MANAGEMENT} is the management account, which SCPs do not restrict",
    )
    member = evaluate(org, request("s3:GetObject", PROD))
    assert not member.allowed
    assert (member.deciding_policy, member.deciding_statement, member.level) == ("deny-all", "DenyAll", "Root")


# ------------------------------------------------------------------ levels and precedence


def _small_org(ou_policies: list[tuple[str, dict[str, Any]]]) -> Organization:
    """Root and account carry FullAWSAccess; the single OU carries ``ou_policies``."""
    org = Organization(MANAGEMENT)
    org.add_ou("Team")
    org.add_account(PROD, "Team")
    org.attach("Root", FULL_AWS_ACCESS, "FullAWSAccess")
    org.attach(PROD, FULL_AWS_ACCESS, "FullAWSAccess")
    for name, document in ou_policies:
        org.attach("Team", document, name)
    return org


def test_allow_is_required_at_every_level() -> None:
    s3_only = _policy({"Sid": "S3Only", "Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    org = _small_org([("s3-only", s3_only)])
    assert evaluate(org, request("s3:PutObject")).allowed
    decision = evaluate(org, request("ec2:RunInstances"))
    assert not decision.allowed
    assert decision.level == "Team"
    assert decision.reason == "implicit deny: no Allow at ou Team"
    assert decision.deciding_policy is None and decision.deciding_statement is None


def test_ou_without_any_policy_implicitly_denies() -> None:
    org = _small_org([])
    decision = evaluate(org, request("s3:GetObject"))
    assert not decision.allowed
    assert decision.reason == "implicit deny: no policy attached at ou Team"


def test_deny_wins_over_allow_in_the_same_policy() -> None:
    mixed = _policy(
        {"Sid": "AllowAll", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "DenyDelete", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"},
    )
    org = _small_org([("mixed", mixed)])
    decision = evaluate(org, request("s3:DeleteBucket"))
    assert not decision.allowed
    assert (decision.deciding_policy, decision.deciding_statement, decision.level) == (
        "mixed",
        "DenyDelete",
        "Team",
    )
    assert evaluate(org, request("s3:PutObject")).allowed


def test_deny_at_a_higher_level_wins_over_allows_below() -> None:
    org = _small_org([("FullAWSAccess", FULL_AWS_ACCESS)])
    org.attach("Root", DENY_LEAVE_ORG, "deny-leave-org")
    decision = evaluate(org, request("organizations:LeaveOrganization"))
    assert not decision.allowed
    assert (decision.deciding_policy, decision.deciding_statement, decision.level) == (
        "deny-leave-org",
        "DenyLeaveOrganization",
        "Root",
    )
    assert decision.reason.startswith("explicit deny by statement DenyLeaveOrganization")
    # The same allows below let through what the root does not deny.
    assert evaluate(org, request("organizations:DescribeOrganization")).allowed


def test_deny_wins_over_a_missing_allow_and_is_reported() -> None:
    # The OU has no matching Allow and the account has a Deny: the explicit deny is named.
    s3_only = _policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    org = _small_org([("s3-only", s3_only)])
    org.attach(PROD, _policy({"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}), "deny-ec2")
    decision = evaluate(org, request("ec2:RunInstances"))
    assert not decision.allowed
    assert decision.deciding_policy == "deny-ec2"
    assert decision.deciding_statement == "#0"
    assert decision.level == PROD
    assert decision.reason.endswith(f"attached to account {PROD}")


def test_account_level_attachment_applies_only_to_that_account() -> None:
    org = _small_org([("FullAWSAccess", FULL_AWS_ACCESS)])
    org.add_account(NONPROD, "Team")
    org.attach(NONPROD, FULL_AWS_ACCESS, "FullAWSAccess")
    org.attach(PROD, _policy({"Sid": "NoS3", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}), "no-s3")
    assert not evaluate(org, request("s3:GetObject", PROD)).allowed
    assert evaluate(org, request("s3:GetObject", NONPROD)).allowed


def test_allow_with_condition_counts_only_when_it_matches() -> None:
    eu_only = _policy(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        }
    )
    org = _small_org([("eu-only", eu_only)])
    assert evaluate(org, request("s3:GetObject", region="eu-west-1")).allowed
    assert not evaluate(org, request("s3:GetObject", region="us-east-1")).allowed


# ------------------------------------------------------------------ action and resource


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("*", "s3:GetObject", True),
        ("s3:*", "s3:GetObject", True),
        ("s3:Get*", "S3:getobject", True),
        ("S3:GETOBJECT", "s3:GetObject", True),
        ("s3:?etObject", "s3:GetObject", True),
        ("s3:Get?", "s3:GetObject", False),
        ("s3:Get", "s3:GetObject", False),
        ("ec2:*", "s3:GetObject", False),
        ("s3:*Object", "s3:PutObjectAcl", False),
    ],
)
def test_action_wildcards(pattern: str, action: str, expected: bool) -> None:
    statement = {"Effect": "Allow", "Action": pattern, "Resource": "*"}
    assert statement_matches(statement, request(action)) is expected


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("*", "arn:aws:s3:::logs/a.txt", True),
        ("arn:aws:s3:::logs/*", "arn:aws:s3:::logs/a.txt", True),
        ("arn:aws:s3:::Logs/*", "arn:aws:s3:::logs/a.txt", False),
        ("arn:aws:s3:::logs/?.txt", "arn:aws:s3:::logs/a.txt", True),
        ("arn:aws:s3:::logs/?.txt", "arn:aws:s3:::logs/ab.txt", False),
        ("arn:aws:s3:::logs", "arn:aws:s3:::logs/a.txt", False),
        ("arn:aws:s3:::logs/*", "*", False),
    ],
)
def test_resource_wildcards_are_case_sensitive(pattern: str, resource: str, expected: bool) -> None:
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": pattern}
    assert statement_matches(statement, request("s3:GetObject", resource=resource)) is expected


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        # A `*` that ends a segment may expand past the colons; anywhere else it stays inside.
        ("arn:aws:s3:::logs/*", "arn:aws:s3:::logs/a:b", True),
        ("arn:aws:s3:::data*k", "arn:aws:s3:::data-bucket/k", True),
        ("arn:aws:s3:::data*k", "arn:aws:s3:::data:bucket/k", False),
        ("arn:aws:sqs:eu-*-1:123456789012:jobs", "arn:aws:sqs:eu-west-1:123456789012:jobs", True),
        ("arn:aws:sqs:eu-*-1:123456789012:jobs", "arn:aws:sqs:eu-west:x-1:123456789012:jobs", False),
        ("arn:aws:iam::*:root", "arn:aws:iam::111122223333:role/x:root", True),
        ("arn:aws:iam::*", "arn:aws:iam::111122223333:role/admin", True),
        # `?` is one character inside a segment, never a colon.
        ("arn:aws:s3:::a?b", "arn:aws:s3:::a-b", True),
        ("arn:aws:s3:::a?b", "arn:aws:s3:::a:b", False),
        # Segment by segment: the service, account and resource type must line up.
        ("arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:eu-west-1:666666666666:instance/i-0abc", True),
        ("arn:aws:ec2:*:*:instance/*", "arn:aws:ec2:eu-west-1:666666666666:volume/vol-0abc", False),
        ("arn:aws:ec2:*:*:instance/*", "arn:aws:ec2messages:eu-west-1:666666666666:instance/i", False),
        ("arn:aws:kms:*:222222222222:key/*", "arn:aws:kms:eu-west-1:333333333333:key/k", False),
        ("arn:aws*:s3:::b", "arn:aws-cn:s3:::b", True),
        # A wildcard in the service segment is accepted and is a wildcard like any other.
        ("arn:aws:*:*:*:*", "arn:aws:s3:::logs/a.txt", True),
        ("arn:aws:*:*:*:*", "arn:aws:ec2:eu-west-1:666666666666:instance/i-0abc", True),
        ("arn:aws:*:*:*:*", "arn:aws-cn:s3:::logs/a.txt", False),
        ("arn:aws:*", "arn:aws:kms:eu-west-1:666666666666:key/k", True),
        ("arn:aws:*", "arn:aws-us-gov:kms:us-gov-west-1:666666666666:key/k", False),
        ("arn:aws:s3*", "arn:aws:s3express:eu-west-1:666666666666:bucket/b--euw1-az1--x-s3", True),
        ("arn:aws:s3*", "arn:aws:sqs:eu-west-1:666666666666:jobs", False),
        ("arn:aws:*:::bucket", "arn:aws:s3:::bucket", True),
        ("arn:aws:*:::bucket", "arn:aws:s3:::bucket2", False),
        ("arn:aws:s?:::b", "arn:aws:s3:::b", True),
        ("arn:aws:s?:::b", "arn:aws:sqs:::b", False),
        # IAM: `*` for the whole resource part is every IAM resource.
        ("arn:aws:iam::666666666666:*", "arn:aws:iam::666666666666:role/x", True),
        # Case-sensitive in every segment.
        ("arn:aws:iam::666666666666:user/Bob", "arn:aws:iam::666666666666:user/bob", False),
        # The pattern `*` covers everything, an ARN pattern never covers the resource `*`.
        ("*", "*", True),
        ("arn:aws:s3:::*", "*", False),
    ],
)
def test_resource_arns_match_segment_by_segment(pattern: str, resource: str, expected: bool) -> None:
    statement = {"Effect": "Allow", "Action": "*", "Resource": pattern}
    assert statement_matches(statement, request("s3:GetObject", resource=resource)) is expected


def test_for_any_value_if_exists_on_a_missing_key_does_not_deny() -> None:
    """The review's example: a Deny of everything under ForAnyValue:StringEqualsIfExists on
    aws:TagKeys does not apply to a request without tags, so the request is allowed."""
    org = _small_org([("FullAWSAccess", FULL_AWS_ACCESS)])
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    condition = {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": "team"}}
    org.attach("Team", _policy({**deny, "Sid": "DenyTeamTag", "Condition": condition}), "deny-team-tag")
    assert evaluate(org, request("sqs:ListQueues")).allowed
    tagged = evaluate(org, request("sqs:TagQueue", context={"aws:TagKeys": ["team"]}))
    assert tagged.deciding_statement == "DenyTeamTag"
    # And the same operator in an Allow grants nothing without tags.
    allow_tagged = _policy({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": condition})
    fenced = _small_org([("allow-tagged", allow_tagged)])
    assert not evaluate(fenced, request("sqs:ListQueues")).allowed
    assert evaluate(fenced, request("sqs:TagQueue", context={"aws:TagKeys": ["team", "x"]})).allowed


def test_star_resource_means_every_resource_of_the_listed_actions() -> None:
    statement = {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}
    assert statement_matches(statement, request("s3:GetObject", resource="arn:aws:s3:::x/y"))
    assert statement_matches(statement, request("s3:ListAllMyBuckets"))
    assert not statement_matches(statement, request("ec2:RunInstances", resource="arn:aws:s3:::x/y"))


@pytest.mark.parametrize(
    ("action", "expected"),
    [("iam:CreateRole", False), ("sts:AssumeRole", False), ("ec2:RunInstances", True)],
)
def test_not_action_matches_actions_outside_the_list(action: str, expected: bool) -> None:
    statement = {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}
    assert statement_matches(statement, request(action)) is expected


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("arn:aws:s3:::approved-data/file", False),
        ("arn:aws:s3:::approved-logs", False),
        ("arn:aws:s3:::other-bucket/file", True),
        ("*", True),
    ],
)
def test_not_resource_matches_resources_outside_the_list(resource: str, expected: bool) -> None:
    statement = {
        "Effect": "Deny",
        "Action": "s3:*",
        "NotResource": ["arn:aws:s3:::approved-data/*", "arn:aws:s3:::approved-logs"],
    }
    assert statement_matches(statement, request("s3:GetObject", resource=resource)) is expected


def test_not_resource_deny_in_an_organization() -> None:
    org = _small_org([("FullAWSAccess", FULL_AWS_ACCESS)])
    org.attach(
        "Team",
        _policy(
            {
                "Sid": "OnlyApprovedBuckets",
                "Effect": "Deny",
                "Action": "s3:PutObject",
                "NotResource": "arn:aws:s3:::approved-*/*",
            }
        ),
        "approved-buckets",
    )
    assert evaluate(org, request("s3:PutObject", resource="arn:aws:s3:::approved-a/k")).allowed
    denied = evaluate(org, request("s3:PutObject", resource="arn:aws:s3:::shadow-it/k"))
    assert denied.deciding_statement == "OnlyApprovedBuckets"


# ------------------------------------------------------------------ condition operators

ROLE = role(PROD)

# (id, condition block, request context, expected)
CONDITION_CASES: list[tuple[str, dict[str, Any], dict[str, ContextValue], bool]] = [
    # String
    ("string-equals", {"StringEquals": {"k:v": "required"}}, {"k:v": "required"}, True),
    ("string-equals-other", {"StringEquals": {"k:v": "required"}}, {"k:v": "optional"}, False),
    ("string-equals-case", {"StringEquals": {"k:v": "required"}}, {"k:v": "Required"}, False),
    ("string-equals-any-value", {"StringEquals": {"k:v": ["a", "b"]}}, {"k:v": "b"}, True),
    ("string-not-equals", {"StringNotEquals": {"k:v": ["a", "b"]}}, {"k:v": "c"}, True),
    ("string-not-equals-listed", {"StringNotEquals": {"k:v": ["a", "b"]}}, {"k:v": "b"}, False),
    ("string-not-equals-case", {"StringNotEquals": {"k:v": "a"}}, {"k:v": "A"}, True),
    ("ignore-case", {"StringEqualsIgnoreCase": {"k:v": "Required"}}, {"k:v": "REQUIRED"}, True),
    ("ignore-case-other", {"StringEqualsIgnoreCase": {"k:v": "a"}}, {"k:v": "b"}, False),
    ("not-ignore-case", {"StringNotEqualsIgnoreCase": {"k:v": "a"}}, {"k:v": "A"}, False),
    ("not-ignore-case-other", {"StringNotEqualsIgnoreCase": {"k:v": "a"}}, {"k:v": "b"}, True),
    ("like-star", {"StringLike": {"k:v": "team-*"}}, {"k:v": "team-blue"}, True),
    ("like-question", {"StringLike": {"k:v": "team-?"}}, {"k:v": "team-ab"}, False),
    ("like-case", {"StringLike": {"k:v": "team-*"}}, {"k:v": "Team-blue"}, False),
    ("like-literal-dot", {"StringLike": {"k:v": "a.c"}}, {"k:v": "abc"}, False),
    ("not-like", {"StringNotLike": {"k:v": "team-*"}}, {"k:v": "ops"}, True),
    ("not-like-match", {"StringNotLike": {"k:v": "team-*"}}, {"k:v": "team-x"}, False),
    # ARN
    ("arn-like", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Adm?n"}}, {}, True),
    ("arn-equals-wildcard", {"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}}, {}, True),
    ("arn-like-other", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/*"}}, {}, False),
    ("arn-like-case", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}}, {}, False),
    ("arn-not-like", {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/X"}}, {}, True),
    ("arn-not-equals-same", {"ArnNotEquals": {"aws:PrincipalArn": ROLE}}, {}, False),
    (
        # Part by part: the account wildcard cannot swallow the colon before "root".
        "arn-like-segments",
        {"ArnLike": {"k:arn": "arn:aws:iam::*:root"}},
        {"k:arn": "arn:aws:iam::111122223333:role/x:root"},
        False,
    ),
    (
        "string-like-whole-string",
        {"StringLike": {"k:arn": "arn:aws:iam::*:root"}},
        {"k:arn": "arn:aws:iam::111122223333:role/x:root"},
        True,
    ),
    ("arn-like-not-an-arn", {"ArnLike": {"k:arn": "arn:aws:iam::*:*"}}, {"k:arn": "x"}, False),
    ("arn-not-like-not-an-arn", {"ArnNotLike": {"k:arn": "arn:aws:iam::*:*"}}, {"k:arn": "x"}, True),
    # A policy value with fewer than six parts is accepted and never matches.
    ("arn-like-short-value", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*Admin"}}, {}, False),
    ("arn-not-like-short-value", {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*Admin"}}, {}, True),
    ("arn-equals-star", {"ArnEquals": {"aws:PrincipalArn": "*"}}, {}, False),
    (
        "arn-like-five-parts-never-matches",
        {"ArnLike": {"k:arn": "arn:aws:iam::666666666666"}},
        {"k:arn": "arn:aws:iam::666666666666:"},
        False,
    ),
    ("arn-not-equals-star", {"ArnNotEquals": {"aws:PrincipalArn": "*"}}, {}, True),
    ("arn-like-six-parts-matches", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:*Admin"}}, {}, True),
    # Bool
    ("bool-true", {"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": True}, True),
    ("bool-false", {"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": True}, False),
    ("bool-case", {"Bool": {"aws:SecureTransport": "TRUE"}}, {"aws:SecureTransport": "true"}, True),
    ("bool-json-value", {"Bool": {"aws:SecureTransport": False}}, {"aws:SecureTransport": "False"}, True),
    ("bool-not-boolean", {"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "yes"}, False),
    # Null
    ("null-true-absent", {"Null": {"aws:ResourceTag/owner": "true"}}, {}, True),
    ("null-true-present", {"Null": {"aws:ResourceTag/owner": "true"}}, {"aws:ResourceTag/owner": "a"}, False),
    (
        "null-false-present",
        {"Null": {"aws:ResourceTag/owner": "false"}},
        {"aws:ResourceTag/owner": "a"},
        True,
    ),
    ("null-false-absent", {"Null": {"aws:ResourceTag/owner": "false"}}, {}, False),
    ("null-empty-list-is-absent", {"Null": {"aws:TagKeys": "true"}}, {"aws:TagKeys": []}, True),
    # Numeric: 5 against 5 and 4 against 5
    ("num-eq", {"NumericEquals": {"k:n": "5"}}, {"k:n": 5}, True),
    ("num-eq-decimal", {"NumericEquals": {"k:n": "1.5"}}, {"k:n": "1.50"}, True),
    ("num-ne", {"NumericNotEquals": {"k:n": "5"}}, {"k:n": 5}, False),
    ("num-ne-other", {"NumericNotEquals": {"k:n": "5"}}, {"k:n": 4}, True),
    ("num-lt", {"NumericLessThan": {"k:n": "5"}}, {"k:n": 5}, False),
    ("num-lt-below", {"NumericLessThan": {"k:n": "5"}}, {"k:n": 4}, True),
    ("num-le", {"NumericLessThanEquals": {"k:n": "5"}}, {"k:n": 5}, True),
    ("num-gt", {"NumericGreaterThan": {"k:n": "5"}}, {"k:n": 5}, False),
    ("num-gt-above", {"NumericGreaterThan": {"k:n": 5}}, {"k:n": "6"}, True),
    ("num-ge", {"NumericGreaterThanEquals": {"k:n": "5"}}, {"k:n": 5}, True),
    ("num-ge-below", {"NumericGreaterThanEquals": {"k:n": "5"}}, {"k:n": 4}, False),
    ("num-numeric-not-lexical", {"NumericLessThan": {"k:n": "10"}}, {"k:n": "9"}, True),
    # A context value that is not a number satisfies no numeric operator.
    ("num-bad-eq", {"NumericEquals": {"k:n": "5"}}, {"k:n": "five"}, False),
    ("num-bad-ne", {"NumericNotEquals": {"k:n": "5"}}, {"k:n": "five"}, False),
    ("num-bad-lt", {"NumericLessThan": {"k:n": "5"}}, {"k:n": "five"}, False),
    ("num-bad-ge-if-exists", {"NumericGreaterThanEqualsIfExists": {"k:n": "5"}}, {"k:n": "x"}, False),
    # IfExists with the key present behaves like the plain operator.
    ("if-exists-present-match", {"StringEqualsIfExists": {"k:v": "a"}}, {"k:v": "a"}, True),
    ("if-exists-present-other", {"StringEqualsIfExists": {"k:v": "a"}}, {"k:v": "b"}, False),
    # Keys are case-insensitive, values are not.
    ("key-case-policy", {"StringEquals": {"AWS:requestedREGION": "eu-west-1"}}, {}, True),
    (
        "key-case-context",
        {"StringEquals": {"ec2:MetadataHttpTokens": "required"}},
        {"EC2:metadatahttptokens": "required"},
        True,
    ),
    ("value-case", {"StringEquals": {"aws:RequestedRegion": "EU-WEST-1"}}, {}, False),
    # Global keys come from the request; context overrides them.
    ("global-principal-account", {"StringEquals": {"aws:PrincipalAccount": PROD}}, {}, True),
    ("global-principal-arn", {"ArnEquals": {"aws:PrincipalArn": ROLE}}, {}, True),
    (
        "context-overrides-region",
        {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        {"aws:RequestedRegion": "us-east-1"},
        False,
    ),
    # Multivalued keys with set operators.
    (
        "any-value-hit",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner", "cost"]}},
        {"aws:TagKeys": ["env", "cost"]},
        True,
    ),
    (
        "any-value-miss",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}},
        {"aws:TagKeys": ["env", "cost"]},
        False,
    ),
    ("any-value-missing-key", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}}, {}, False),
    (
        "any-value-empty-list",
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}},
        {"aws:TagKeys": []},
        False,
    ),
    (
        "any-value-negated",
        {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}},
        {"aws:TagKeys": ["env", "cost"]},
        True,
    ),
    ("any-value-negated-missing", {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["env"]}}, {}, False),
    (
        "all-values-subset",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "cost", "owner"]}},
        {"aws:TagKeys": ["env", "cost"]},
        True,
    ),
    (
        "all-values-extra",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["env", "cost"]}},
        {"aws:TagKeys": ["env", "team"]},
        False,
    ),
    ("all-values-missing-key", {"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}}, {}, True),
    (
        "all-values-empty-list",
        {"ForAllValues:StringEquals": {"aws:TagKeys": ["env"]}},
        {"aws:TagKeys": []},
        True,
    ),
    (
        "all-values-like",
        {"ForAllValues:StringLike": {"aws:TagKeys": ["cost-*"]}},
        {"aws:TagKeys": ["cost-a", "cost-b"]},
        True,
    ),
    (
        "all-values-like-one-off",
        {"ForAllValues:StringLike": {"aws:TagKeys": ["cost-*"]}},
        {"aws:TagKeys": ["cost-a", "b"]},
        False,
    ),
    (
        "all-values-not-equals",
        {"ForAllValues:StringNotEquals": {"aws:TagKeys": ["secret"]}},
        {"aws:TagKeys": ["a", "b"]},
        True,
    ),
    # A set operator decides an absent key before IfExists does: ForAnyValue false, ForAllValues true.
    ("any-value-if-exists-missing", {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["a"]}}, {}, False),
    (
        "any-value-if-exists-empty-list",
        {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["a"]}},
        {"aws:TagKeys": []},
        False,
    ),
    ("any-value-negated-if-exists-missing", {"ForAnyValue:StringNotLikeIfExists": {"aws:TagKeys": "a*"}}, {}, False),
    ("all-values-if-exists-missing", {"ForAllValues:StringEqualsIfExists": {"aws:TagKeys": ["a"]}}, {}, True),
    ("all-values-negated-if-exists-missing", {"ForAllValues:StringNotEqualsIfExists": {"aws:TagKeys": "a"}}, {}, True),
    (
        "any-value-if-exists-present",
        {"ForAnyValue:StringEqualsIfExists": {"aws:TagKeys": ["a"]}},
        {"aws:TagKeys": ["b", "a"]},
        True,
    ),
    (
        "all-values-if-exists-present-miss",
        {"ForAllValues:StringEqualsIfExists": {"aws:TagKeys": ["a"]}},
        {"aws:TagKeys": ["b", "a"]},
        False,
    ),
    # Blocks: every operator AND every key must hold.
    (
        "and-operators",
        {"StringEquals": {"k:a": "1"}, "StringLike": {"k:b": "x*"}},
        {"k:a": "1", "k:b": "y"},
        False,
    ),
    ("and-keys", {"StringEquals": {"k:a": "1", "k:b": "2"}}, {"k:a": "1", "k:b": "3"}, False),
    ("and-all-hold", {"StringEquals": {"k:a": "1", "k:b": "2"}}, {"k:a": "1", "k:b": "2"}, True),
    ("empty-condition", {}, {}, True),
]


@pytest.mark.parametrize(
    ("condition", "context", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CONDITION_CASES],
)
def test_condition_operators(condition: dict[str, Any], context: dict[str, ContextValue], expected: bool) -> None:
    assert holds(condition, context) is expected


@pytest.mark.parametrize(
    "operator", ["StringEquals", "StringNotEquals", "StringLikeIfExists", "ArnNotLike", "NumericLessThan", "Bool"]
)
@pytest.mark.parametrize("values", [["a", "b"], ["a"], []], ids=["two", "one", "none"])
def test_plain_operator_on_a_key_the_request_gives_as_a_list_raises(operator: str, values: list[str]) -> None:
    # Multivalued keys need a set operator; a list in the request marks the key multivalued.
    document = _policy(
        {
            "Sid": "Tags",
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {operator: {"k:Many": _value_for(operator)}},
        }
    )
    statement = load_policy(document, "tag-rules").statements[0]
    with pytest.raises(
        PolicyError, match=r"^policy tag-rules, statement Tags: .*k:Many.*ForAnyValue: or ForAllValues:"
    ):
        statement.matches(request("s3:GetObject", context={"K:many": values}))


def test_condition_holds_refuses_several_values_under_a_plain_operator() -> None:
    policy = load_policy(
        _policy({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringNotEquals": {"k:v": "a"}}})
    )
    (condition,) = policy.statements[0].conditions
    assert condition.holds(("b",)) is True
    assert condition.holds(("a",)) is False
    with pytest.raises(
        ValueError, match="StringNotEquals k:v: several request values need ForAnyValue: or ForAllValues:"
    ):
        condition.holds(("a", "b"))


def test_set_and_null_operators_on_a_list_do_not_raise() -> None:
    context: dict[str, ContextValue] = {"k:many": ["a", "b"]}
    assert holds({"ForAnyValue:StringEquals": {"k:many": "a"}}, context)
    assert not holds({"ForAllValues:StringEquals": {"k:many": "a"}}, context)
    assert holds({"Null": {"k:many": "false"}}, context)
    # A single value given as a scalar is single-valued: the plain operator applies.
    assert holds({"StringEquals": {"k:many": "a"}}, {"k:many": "a"})


NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "ArnNotEquals",
    "ArnNotLike",
    "NumericNotEquals",
}
VALUE_FOR = {"Arn": "arn:aws:iam::*:role/*", "Numeric": "5", "Bool": "true"}
OPERATORS = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnNotEquals",
    "ArnLike",
    "ArnNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "Bool",
]


def _value_for(operator: str) -> str:
    return next((v for prefix, v in VALUE_FOR.items() if operator.startswith(prefix)), "x")


@pytest.mark.parametrize("operator", OPERATORS)
def test_missing_key_plain_operator(operator: str) -> None:
    # Absent key: a negated operator holds, every other operator does not.
    condition = {operator: {"k:absent": _value_for(operator)}}
    assert holds(condition) is (operator in NEGATED)


# A request value that fails each operator against its policy value from _value_for.
FAILING_VALUE = {
    "StringEquals": "y",
    "StringNotEquals": "x",
    "StringEqualsIgnoreCase": "y",
    "StringNotEqualsIgnoreCase": "X",
    "StringLike": "y",
    "StringNotLike": "x",
    "ArnEquals": "arn:aws:iam::111122223333:user/x",
    "ArnNotEquals": "arn:aws:iam::111122223333:role/x",
    "ArnLike": "arn:aws:iam::111122223333:user/x",
    "ArnNotLike": "arn:aws:iam::111122223333:role/x",
    "NumericEquals": "4",
    "NumericNotEquals": "5",
    "NumericLessThan": "5",
    "NumericLessThanEquals": "6",
    "NumericGreaterThan": "5",
    "NumericGreaterThanEquals": "4",
    "Bool": "false",
}


@pytest.mark.parametrize("operator", OPERATORS)
def test_missing_key_if_exists_holds(operator: str) -> None:
    condition = {operator + "IfExists": {"k:absent": _value_for(operator)}}
    assert holds(condition) is True
    # IfExists forgives only absence: a present value that fails the operator fails it.
    condition = {operator + "IfExists": {"k:present": _value_for(operator)}}
    assert holds(condition, {"k:present": FAILING_VALUE[operator]}) is False
    assert holds({operator: {"k:present": _value_for(operator)}}, {"k:present": FAILING_VALUE[operator]}) is False


def test_region_guardrail_with_if_exists_only_applies_when_key_present() -> None:
    statement = {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:RequestedRegion": ALLOWED_REGIONS}},
    }
    assert statement_matches(statement, request("s3:GetObject", region="us-east-2"))
    assert not statement_matches(statement, request("s3:GetObject", region="eu-west-1"))


# ------------------------------------------------------------------ malformed policies


def _bad(statement: dict[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": [{"Sid": "Bad", **statement}]}


ALLOW_ALL: dict[str, Any] = {"Effect": "Allow", "Action": "*", "Resource": "*"}

# (id, document, fragment of the error message)
MALFORMED: list[tuple[str, Any, str]] = [
    ("unknown-operator", _bad({**ALLOW_ALL, "Condition": {"StringEqualz": {"k:v": "a"}}}), "StringEqualz"),
    (
        "unknown-set-prefix",
        _bad({**ALLOW_ALL, "Condition": {"ForSomeValues:StringEquals": {"k:v": "a"}}}),
        "ForSomeValues",
    ),
    ("null-if-exists", _bad({**ALLOW_ALL, "Condition": {"NullIfExists": {"k:v": "true"}}}), "Null"),
    ("null-not-boolean", _bad({**ALLOW_ALL, "Condition": {"Null": {"k:v": "yes"}}}), "'yes'"),
    (
        "numeric-not-number",
        _bad({**ALLOW_ALL, "Condition": {"NumericLessThan": {"k:n": "ten"}}}),
        "not a number",
    ),
    (
        "bool-not-boolean",
        _bad({**ALLOW_ALL, "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}),
        "true or false",
    ),
    (
        "condition-value-object",
        _bad({**ALLOW_ALL, "Condition": {"StringEquals": {"k:v": {"Ref": "X"}}}}),
        "values must be",
    ),
    ("condition-empty-list", _bad({**ALLOW_ALL, "Condition": {"StringEquals": {"k:v": []}}}), "empty"),
    ("condition-not-object", _bad({**ALLOW_ALL, "Condition": ["StringEquals"]}), "Condition must be"),
    (
        "empty-operator-block",
        _bad({**ALLOW_ALL, "Condition": {"StringEquals": {}}}),
        "StringEquals has no condition keys; an empty operator block is not a condition",
    ),
    (
        "operator-block-is-a-list",
        _bad({**ALLOW_ALL, "Condition": {"StringEquals": ["aws:PrincipalAccount"]}}),
        "StringEquals must map condition keys to values, got list",
    ),
    (
        "operator-block-is-a-string",
        _bad({**ALLOW_ALL, "Condition": {"Bool": "aws:SecureTransport"}}),
        "Bool must map condition keys to values, got str",
    ),
    ("principal", _bad({**ALLOW_ALL, "Principal": "*"}), "Principal is not allowed"),
    ("not-principal", _bad({**ALLOW_ALL, "NotPrincipal": {"AWS": "*"}}), "NotPrincipal is not allowed"),
    (
        "action-and-not-action",
        _bad({**ALLOW_ALL, "NotAction": "iam:*"}),
        "exactly one of Action and NotAction",
    ),
    ("no-action", _bad({"Effect": "Allow", "Resource": "*"}), "exactly one of Action and NotAction"),
    ("missing-effect", _bad({"Action": "*", "Resource": "*"}), "Effect"),
    ("lowercase-effect", _bad({**ALLOW_ALL, "Effect": "allow"}), "Effect"),
    (
        "resource-and-not-resource",
        _bad({**ALLOW_ALL, "NotResource": "arn:aws:s3:::x"}),
        "Resource and NotResource",
    ),
    ("no-resource", _bad({"Effect": "Allow", "Action": "*"}), "exactly one of Resource and NotResource"),
    (
        # Fewer than six fields and not ending in `*`: a field is missing, whatever the wildcard.
        "resource-missing-arn-field",
        _bad({**ALLOW_ALL, "Resource": "arn:aws:s3*ket"}),
        "Resource entry 'arn:aws:s3*ket': missing ARN field: an ARN has six colon-separated segments; "
        "a shorter pattern must end in '*'",
    ),
    (
        "iam-resource-type-wildcard",
        _bad({**ALLOW_ALL, "Resource": "arn:aws:iam::123456789012:u*"}),
        "Resource entry 'arn:aws:iam::123456789012:u*': a wildcard may not stand in IAM's resource type "
        "(user/, role/, policy/...)",
    ),
    (
        "iam-resource-type-wildcard-before-slash",
        _bad({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:iam::*:*/Admin"}),
        "NotResource entry 'arn:aws:iam::*:*/Admin': a wildcard may not stand in IAM's resource type",
    ),
    ("resource-empty-service", _bad({**ALLOW_ALL, "Resource": "arn:aws::::b"}), "service namespace"),
    ("resource-upper-service", _bad({**ALLOW_ALL, "Resource": "arn:aws:S3:::b"}), "service namespace"),
    ("resource-upper-region", _bad({**ALLOW_ALL, "Resource": "arn:aws:ec2:EU-west-1:*:x/*"}), "lower case"),
    ("resource-upper-partition", _bad({**ALLOW_ALL, "Resource": "arn:AWS:s3:::b"}), "lower case"),
    ("resource-not-arn", _bad({**ALLOW_ALL, "Resource": "s3:::bucket/*"}), "not an ARN"),
    ("resource-prefix-wildcard", _bad({**ALLOW_ALL, "Resource": "a*:aws:s3:::b"}), "not an ARN"),
    ("resource-too-short", _bad({**ALLOW_ALL, "Resource": "arn:aws:iam::123456789012"}), "six"),
    (
        "plain-operator-on-tag-keys",
        _bad({**ALLOW_ALL, "Condition": {"StringNotEquals": {"aws:TagKeys": "cost"}}}),
        "multivalued key needs ForAnyValue: or ForAllValues:",
    ),
    (
        "plain-operator-on-called-via",
        _bad({**ALLOW_ALL, "Condition": {"StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}}}),
        "StringEquals aws:CalledVia: a multivalued key needs ForAnyValue: or ForAllValues:",
    ),
    (
        "plain-if-exists-on-service-names",
        _bad({**ALLOW_ALL, "Condition": {"StringLikeIfExists": {"AWS:PrincipalServiceNamesList": "x*"}}}),
        "multivalued key",
    ),
    ("unknown-statement-element", _bad({**ALLOW_ALL, "Actions": "*"}), "Actions"),
    ("action-not-string", _bad({**ALLOW_ALL, "Action": 7}), "Action must be"),
    ("action-list-not-strings", _bad({**ALLOW_ALL, "Action": ["s3:*", None]}), "Action must contain"),
    ("action-empty-list", _bad({**ALLOW_ALL, "Action": []}), "Action must be"),
    ("action-no-service", _bad({**ALLOW_ALL, "Action": "GetObject"}), "service:action"),
    (
        "resource-intrinsic",
        _bad({**ALLOW_ALL, "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::x"}}),
        "Resource must be",
    ),
    ("sid-not-string", {"Version": VERSION, "Statement": [{**ALLOW_ALL, "Sid": 3}]}, "Sid"),
    ("unknown-top-level", {"Version": VERSION, "Statements": [ALLOW_ALL]}, "Statements"),
    ("missing-statement", {"Version": VERSION}, "Statement must be"),
    ("empty-statement", {"Version": VERSION, "Statement": []}, "Statement must be"),
    ("statement-not-object", {"Version": VERSION, "Statement": ["Allow"]}, "JSON object"),
    ("bad-version", {"Version": "2024-01-01", "Statement": [ALLOW_ALL]}, "Version"),
    ("not-an-object", ["Statement"], "JSON object"),
    ("invalid-json", '{"Version": "2012-10-17", ', "not valid JSON"),
    (
        "duplicate-sid",
        {"Version": VERSION, "Statement": [{**ALLOW_ALL, "Sid": "A"}, {**ALLOW_ALL, "Sid": "A"}]},
        "duplicate Sid",
    ),
]


@pytest.mark.parametrize(
    ("document", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in MALFORMED],
)
def test_malformed_policies_raise(document: Any, fragment: str) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(document, "bad-scp")
    message = str(raised.value)
    assert message.startswith("policy bad-scp")
    assert fragment in message


def test_policy_error_names_policy_and_statement() -> None:
    document = _bad({**ALLOW_ALL, "Principal": "*"})
    with pytest.raises(PolicyError) as raised:
        load_policy(document, "deny-things")
    error = raised.value
    assert isinstance(error, ValueError)
    assert str(error).startswith("policy deny-things, statement Bad: ")
    assert (error.policy, error.statement) == ("deny-things", "Bad")


def test_policy_error_uses_index_when_statement_has_no_sid() -> None:
    document = {"Version": VERSION, "Statement": [ALLOW_ALL, {"Effect": "Deny"}]}
    with pytest.raises(PolicyError, match=r"^policy p, statement #1: "):
        load_policy(document, "p")


def test_attaching_a_malformed_policy_fails_instead_of_allowing() -> None:
    org = _small_org([("FullAWSAccess", FULL_AWS_ACCESS)])
    bad = _bad({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringEqualsAny": {"k:v": "a"}}})
    with pytest.raises(PolicyError):
        org.attach("Team", bad, "broken-guardrail")
    assert [p.name for p in org.policies("Team")] == ["FullAWSAccess"]


# ------------------------------------------------------------------ loading and size


def test_load_policy_accepts_json_text_and_a_single_statement_object() -> None:
    text = json.dumps({"Version": VERSION, "Statement": DENY_LEAVE_ORG["Statement"][0]})
    policy = load_policy(text, "deny-leave-org")
    assert policy.name == "deny-leave-org"
    assert [s.label for s in policy.statements] == ["DenyLeaveOrganization"]
    statement = policy.statements[0]
    assert (statement.effect, statement.actions, statement.resources) == (
        "Deny",
        ("organizations:LeaveOrganization",),
        ("*",),
    )


def test_load_policy_parses_operator_parts() -> None:
    policy = load_policy(
        _policy(
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"ForAllValues:StringLikeIfExists": {"aws:TagKeys": "a*"}},
            }
        )
    )
    (condition,) = policy.statements[0].conditions
    assert condition.qualifier == "ForAllValues"
    assert condition.base_operator == "StringLike"
    assert condition.if_exists is True
    assert condition.values == ("a*",)


def test_minified_size_counts_the_compact_json() -> None:
    assert minified_size(FULL_AWS_ACCESS) == len(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    )
    assert minified_size(json.dumps(FULL_AWS_ACCESS, indent=4)) == minified_size(FULL_AWS_ACCESS)


def test_minified_size_counts_characters_not_escapes() -> None:
    assert minified_size({"Sid": "é"}) == len('{"Sid":"é"}')


def test_example_policies_fit_the_scp_size_limit() -> None:
    for document in (DENY_LEAVE_ORG, DENY_ROOT_USER, REGION_DENY, REQUIRE_IMDSV2, DENY_ALL):
        assert 0 < minified_size(document) <= SCP_MAX_CHARACTERS


# ------------------------------------------------------------------ model validation


def test_request_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="12 digits"):
        Request(principal_arn=ROLE, account_id="1234", action="s3:GetObject")
    with pytest.raises(ValueError, match="service:Action"):
        Request(principal_arn=ROLE, account_id=PROD, action="s3:Get*")
    with pytest.raises(ValueError, match="unique ignoring case"):
        Request(principal_arn=ROLE, account_id=PROD, action="s3:GetObject", context={"a:b": "1", "A:B": "2"})
    for resource in ("bucket/key", "arn:aws:s3::bucket", "arn:aws:S3:::bucket", "arn:aws:s3:EU:1:b", ""):
        with pytest.raises(ValueError, match="resource must be"):
            Request(principal_arn=ROLE, account_id=PROD, action="s3:GetObject", resource=resource)
    assert Request(principal_arn=ROLE, account_id=PROD, action="s3:GetObject", resource="arn:aws:s3:::b/k:1")


@pytest.mark.parametrize(
    "value",
    [{"Ref": "X"}, None, [1, 2], ["a", None], {"a", "b"}, b"bytes"],
    ids=["object", "none", "list-of-numbers", "list-with-none", "set", "bytes"],
)
def test_request_rejects_a_malformed_context_value_when_built(value: Any) -> None:
    # Rejected when the request is built, not later when a condition reads the key.
    with pytest.raises(ValueError, match="context value for 'k:v' must be a scalar or a list of strings"):
        Request(principal_arn=ROLE, account_id=PROD, action="s3:GetObject", context={"k:v": value})


def test_request_context_is_read_only_copy() -> None:
    context: dict[str, ContextValue] = {"k:v": "a"}
    req = Request(principal_arn=ROLE, account_id=PROD, action="s3:GetObject", context=context)
    context["k:v"] = "b"
    assert req.condition_context()["k:v"] == ("a",)
    assert req.condition_context()["aws:principalaccount"] == (PROD,)


def test_organization_rejects_bad_structure() -> None:
    org = _small_org([("FullAWSAccess", FULL_AWS_ACCESS)])
    with pytest.raises(ValueError, match="already exists"):
        org.add_ou("Team")
    with pytest.raises(ValueError, match="parent"):
        org.add_account(NONPROD, PROD)
    with pytest.raises(ValueError, match="parent"):
        org.add_ou("Orphan", "Missing")
    with pytest.raises(ValueError, match="already attached"):
        org.attach("Team", FULL_AWS_ACCESS, "FullAWSAccess")
    with pytest.raises(KeyError):
        org.attach("Missing", FULL_AWS_ACCESS, "FullAWSAccess")
    with pytest.raises(KeyError, match="not an account"):
        org.path_to("Team")


# ------------------------------------------------------------------ hostile documents

_HOSTILE_VALUES: list[Any] = [None, 0, 1.5, True, "", "x", [], [None], ["x", 3], {}, {"k": None}, {"k": [{}]}]


def _slots(document: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document a value sits, as a path of keys and indexes."""
    places = [path]
    if isinstance(document, dict):
        for key, value in document.items():
            places += _slots(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            places += _slots(value, (*path, index))
    return places


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copy


def test_every_wrong_json_type_in_a_policy_is_a_policy_error() -> None:
    """Each value of a realistic SCP replaced by each wrong JSON type: the load either
    succeeds or raises PolicyError naming the policy, never TypeError or AttributeError."""
    document = _policy(
        {
            "Sid": "Guard",
            "Effect": "Deny",
            "NotAction": ["iam:*", "sts:*"],
            "Resource": ["arn:aws:s3:::b/${aws:PrincipalAccount}/*"],
            "Condition": {
                "StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]},
                "ForAnyValue:StringLike": {"aws:TagKeys": "team-*"},
                "IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
                "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
            },
        }
    )
    tried = 0
    for path in _slots(document):
        for value in _HOSTILE_VALUES:
            mutated = _replaced(document, path, value)
            try:
                policy = load_policy(mutated, "hostile")
            except PolicyError as error:
                assert str(error).startswith("policy hostile")
            else:
                for statement in policy.statements:
                    statement.matches(request("s3:GetObject", resource="arn:aws:s3:::b/k"))
            tried += 1
    assert tried == len(_slots(document)) * len(_HOSTILE_VALUES) > 200
