"""The SCP evaluator's typed condition operators (IP address, date, binary) and policy
variables, each rule with a case that holds and one that does not."""

from __future__ import annotations

from typing import Any

import pytest

from analysis.organization.scp_evaluator import ContextValue, Organization, PolicyError, Request, evaluate, load_policy

VERSION = "2012-10-17"
ACCOUNT = "666666666666"
MANAGEMENT = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Admin"
ALLOW_ALL: dict[str, Any] = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def _request(context: dict[str, ContextValue] | None = None, resource: str = "*", principal: str = ROLE) -> Request:
    return Request(
        principal_arn=principal,
        account_id=ACCOUNT,
        action="s3:GetObject",
        resource=resource,
        region="eu-west-1",
        context=context or {},
    )


def _matches(statement: dict[str, Any], req: Request, version: str | None = VERSION) -> bool:
    document: dict[str, Any] = {"Statement": [statement]}
    if version is not None:
        document["Version"] = version
    return load_policy(document).statements[0].matches(req)


def holds(condition: dict[str, Any], context: dict[str, ContextValue] | None = None) -> bool:
    return _matches({**ALLOW_ALL, "Condition": condition}, _request(context))


CORPORATE = ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]

# (id, condition, context, expected)
CASES: list[tuple[str, dict[str, Any], dict[str, ContextValue], bool]] = [
    # IP addresses: CIDR blocks, a single address, IPv6; the request gives one address.
    ("ip-in-block", {"IpAddress": {"aws:SourceIp": CORPORATE}}, {"aws:SourceIp": "203.0.113.200"}, True),
    ("ip-outside", {"IpAddress": {"aws:SourceIp": CORPORATE}}, {"aws:SourceIp": "203.0.114.1"}, False),
    ("ip-single-address", {"IpAddress": {"aws:SourceIp": CORPORATE}}, {"aws:SourceIp": "198.51.100.7"}, True),
    ("ip-single-address-other", {"IpAddress": {"aws:SourceIp": CORPORATE}}, {"aws:SourceIp": "198.51.100.8"}, False),
    ("ip-v6-in-block", {"IpAddress": {"aws:SourceIp": CORPORATE}}, {"aws:SourceIp": "2001:db8:1::5"}, True),
    ("ip-v6-outside", {"IpAddress": {"aws:SourceIp": CORPORATE}}, {"aws:SourceIp": "2001:db9::5"}, False),
    ("ip-v4-not-in-v6", {"IpAddress": {"aws:SourceIp": "::/0"}}, {"aws:SourceIp": "203.0.113.1"}, False),
    ("ip-host-bits", {"IpAddress": {"aws:SourceIp": "203.0.113.9/24"}}, {"aws:SourceIp": "203.0.113.1"}, True),
    ("not-ip-outside", {"NotIpAddress": {"aws:SourceIp": CORPORATE}}, {"aws:SourceIp": "192.0.2.1"}, True),
    ("not-ip-inside", {"NotIpAddress": {"aws:SourceIp": CORPORATE}}, {"aws:SourceIp": "203.0.113.1"}, False),
    ("not-ip-absent", {"NotIpAddress": {"aws:SourceIp": CORPORATE}}, {}, True),
    ("ip-absent", {"IpAddress": {"aws:SourceIp": CORPORATE}}, {}, False),
    ("ip-if-exists-absent", {"IpAddressIfExists": {"aws:SourceIp": CORPORATE}}, {}, True),
    ("ip-bad-request-value", {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, {"aws:SourceIp": "athena"}, False),
    ("not-ip-bad-request-value", {"NotIpAddress": {"aws:SourceIp": CORPORATE}}, {"aws:SourceIp": "x"}, False),
    # Dates: ISO 8601 (W3C profile) and epoch seconds, on either side.
    (
        "date-before",
        {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        {"aws:CurrentTime": "2029-12-31T23:59:59Z"},
        True,
    ),
    (
        "date-not-before",
        {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
        False,
    ),
    (
        "date-zone-offset",
        {"DateEquals": {"aws:CurrentTime": "2030-01-01T02:00:00+02:00"}},
        {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
        True,
    ),
    (
        "date-day-only",
        {"DateGreaterThanEquals": {"aws:CurrentTime": "2030-01-01"}},
        {"aws:CurrentTime": "2030-01-01T00:00Z"},
        True,
    ),
    (
        "date-month-only",
        {"DateLessThan": {"aws:CurrentTime": "2030-02"}},
        {"aws:CurrentTime": "2030-01-31T23:59Z"},
        True,
    ),
    (
        "date-month-is-its-first-day",
        {"DateGreaterThanEquals": {"aws:CurrentTime": "2030-02"}},
        {"aws:CurrentTime": "2030-02-01T00:00Z"},
        True,
    ),
    ("date-epoch-policy", {"DateGreaterThan": {"aws:EpochTime": "1893456000"}}, {"aws:EpochTime": 1893456001}, True),
    (
        "date-epoch-vs-iso",
        {"DateEquals": {"aws:CurrentTime": 1893456000}},
        {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
        True,
    ),
    (
        "date-epoch-not-equal",
        {"DateNotEquals": {"aws:CurrentTime": "1893456000"}},
        {"aws:CurrentTime": "2030-01-01T00:00:01Z"},
        True,
    ),
    (
        "date-fraction",
        {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},
        {"aws:CurrentTime": "2030-01-01T00:00:00.5Z"},
        True,
    ),
    (
        "date-le-equal",
        {"DateLessThanEquals": {"aws:TokenIssueTime": "2030-01-01"}},
        {"aws:TokenIssueTime": "2030-01-01T00:00Z"},
        True,
    ),
    (
        "date-gt-equal",
        {"DateGreaterThan": {"aws:TokenIssueTime": "2030-01-01"}},
        {"aws:TokenIssueTime": "2030-01-01T00:00Z"},
        False,
    ),
    ("date-absent", {"DateGreaterThan": {"aws:TokenIssueTime": "2030-01-01"}}, {}, False),
    ("date-if-exists-absent", {"DateGreaterThanIfExists": {"aws:TokenIssueTime": "2030-01-01"}}, {}, True),
    ("date-not-equals-absent", {"DateNotEquals": {"aws:TokenIssueTime": "2030-01-01"}}, {}, True),
    ("date-bad-request-value", {"DateLessThan": {"aws:CurrentTime": "2030-01-01"}}, {"aws:CurrentTime": "soon"}, False),
    (
        "date-no-zone-is-no-date",
        {"DateNotEquals": {"aws:CurrentTime": "2030-01-01"}},
        {"aws:CurrentTime": "2030-01-01T10:00"},
        False,
    ),
    # Binary: base64 text compared byte for byte.
    ("binary-equal", {"BinaryEquals": {"k:bin": "QmluYXJ5VmFsdWU="}}, {"k:bin": "QmluYXJ5VmFsdWU="}, True),
    ("binary-other", {"BinaryEquals": {"k:bin": "QmluYXJ5VmFsdWU="}}, {"k:bin": "QmluYXJ5VmFsdWF="}, False),
    # Bytes, not text: both spellings decode to b"A" (the pad bits of "QR==" are ignored).
    ("binary-same-bytes", {"BinaryEquals": {"k:bin": "QQ=="}}, {"k:bin": "QR=="}, True),
    ("binary-bad-request", {"BinaryEquals": {"k:bin": "QmluYXJ5VmFsdWU="}}, {"k:bin": "not base64!"}, False),
    ("binary-absent", {"BinaryEquals": {"k:bin": "QmluYXJ5VmFsdWU="}}, {}, False),
    ("binary-if-exists-absent", {"BinaryEqualsIfExists": {"k:bin": "QmluYXJ5VmFsdWU="}}, {}, True),
]


@pytest.mark.parametrize(("condition", "context", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_typed_operators(condition: dict[str, Any], context: dict[str, ContextValue], expected: bool) -> None:
    assert holds(condition, context) is expected


def test_deny_outside_the_corporate_ranges() -> None:
    """The SCP most organizations write after string matching: deny outside the ranges."""
    org = Organization(MANAGEMENT)
    org.add_account(ACCOUNT)
    org.attach("Root", {"Version": VERSION, "Statement": [ALLOW_ALL]}, "FullAWSAccess")
    org.attach(ACCOUNT, {"Version": VERSION, "Statement": [ALLOW_ALL]}, "FullAWSAccess")
    deny = {
        "Sid": "DenyOutsideCorporate",
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": CORPORATE}, "Bool": {"aws:ViaAWSService": "false"}},
    }
    org.attach("Root", {"Version": VERSION, "Statement": [deny]}, "corporate-ranges")
    inside = _request({"aws:SourceIp": "2001:db8::1", "aws:ViaAWSService": False})
    outside = _request({"aws:SourceIp": "192.0.2.1", "aws:ViaAWSService": False})
    assert evaluate(org, inside).allowed
    assert evaluate(org, outside).deciding_statement == "DenyOutsideCorporate"


# ------------------------------------------------------------------ policy variables

TEAM: dict[str, ContextValue] = {"aws:PrincipalTag/team": "blue"}

# (id, statement, request, expected)
VARIABLES: list[tuple[str, dict[str, Any], Request, bool]] = [
    (
        "resource-principal-account",
        {**ALLOW_ALL, "Resource": "arn:aws:s3:::data-${aws:PrincipalAccount}/*"},
        _request(resource=f"arn:aws:s3:::data-{ACCOUNT}/k"),
        True,
    ),
    (
        "resource-principal-account-other",
        {**ALLOW_ALL, "Resource": "arn:aws:s3:::data-${aws:PrincipalAccount}/*"},
        _request(resource="arn:aws:s3:::data-111122223333/k"),
        False,
    ),
    (
        "resource-principal-tag",
        {**ALLOW_ALL, "Resource": "arn:aws:s3:::teams/${aws:PrincipalTag/team}/*"},
        _request(TEAM, resource="arn:aws:s3:::teams/blue/report"),
        True,
    ),
    (
        "resource-key-name-case-insensitive",
        {**ALLOW_ALL, "Resource": "arn:aws:s3:::teams/${AWS:principaltag/TEAM}/*"},
        _request(TEAM, resource="arn:aws:s3:::teams/blue/report"),
        True,
    ),
    (
        "resource-principal-tag-other",
        {**ALLOW_ALL, "Resource": "arn:aws:s3:::teams/${aws:PrincipalTag/team}/*"},
        _request(TEAM, resource="arn:aws:s3:::teams/red/report"),
        False,
    ),
    (
        # A missing key leaves the variable unresolved: the statement does not apply.
        "resource-missing-key",
        {**ALLOW_ALL, "Resource": "arn:aws:s3:::teams/${aws:PrincipalTag/team}/*"},
        _request(resource="arn:aws:s3:::teams//report"),
        False,
    ),
    (
        "not-resource-missing-key-does-not-apply",
        {"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:s3:::teams/${aws:PrincipalTag/team}/*"},
        _request(resource="arn:aws:s3:::other/k"),
        False,
    ),
    (
        "resource-default",
        {**ALLOW_ALL, "Resource": "arn:aws:s3:::teams/${aws:PrincipalTag/team, 'shared'}/*"},
        _request(resource="arn:aws:s3:::teams/shared/k"),
        True,
    ),
    (
        "resource-default-unused-when-present",
        {**ALLOW_ALL, "Resource": "arn:aws:s3:::teams/${aws:PrincipalTag/team, 'shared'}/*"},
        _request(TEAM, resource="arn:aws:s3:::teams/shared/k"),
        False,
    ),
    (
        # A substituted `*` is literal, never a wildcard.
        "resource-substituted-star-is-literal",
        {**ALLOW_ALL, "Resource": "arn:aws:s3:::teams/${aws:PrincipalTag/team}"},
        _request({"aws:PrincipalTag/team": "*"}, resource="arn:aws:s3:::teams/blue"),
        False,
    ),
    (
        "resource-substituted-star-matches-itself",
        {**ALLOW_ALL, "Resource": "arn:aws:s3:::teams/${aws:PrincipalTag/team}"},
        _request({"aws:PrincipalTag/team": "*"}, resource="arn:aws:s3:::teams/*"),
        True,
    ),
    (
        "condition-string-equals",
        {**ALLOW_ALL, "Condition": {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}},
        _request({"aws:ResourceAccount": ACCOUNT}),
        True,
    ),
    (
        "condition-string-equals-other",
        {**ALLOW_ALL, "Condition": {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}},
        _request({"aws:ResourceAccount": "111122223333"}),
        False,
    ),
    (
        "condition-principal-tag",
        {**ALLOW_ALL, "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
        _request({**TEAM, "aws:ResourceTag/team": "blue"}),
        True,
    ),
    (
        # Even a negated operator does not apply when its variable cannot be resolved.
        "condition-negated-missing-key-does-not-apply",
        {**ALLOW_ALL, "Condition": {"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
        _request({"aws:ResourceTag/team": "blue"}),
        False,
    ),
    (
        "condition-negated-resolved",
        {**ALLOW_ALL, "Condition": {"StringNotEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}},
        _request({**TEAM, "aws:ResourceTag/team": "red"}),
        True,
    ),
    (
        "condition-multivalued-key-is-no-variable",
        {**ALLOW_ALL, "Condition": {"StringEquals": {"k:v": "${aws:TagKeys}"}}},
        _request({"aws:TagKeys": ["a"], "k:v": "a"}),
        False,
    ),
    (
        "condition-like-escape-star",
        {**ALLOW_ALL, "Condition": {"StringLike": {"k:v": "a${*}b*"}}},
        _request({"k:v": "a*bcd"}),
        True,
    ),
    (
        "condition-like-escape-star-is-literal",
        {**ALLOW_ALL, "Condition": {"StringLike": {"k:v": "a${*}b*"}}},
        _request({"k:v": "axbcd"}),
        False,
    ),
    (
        "condition-escapes-plain",
        {**ALLOW_ALL, "Condition": {"StringEquals": {"k:v": "${$}{x}${?}"}}},
        _request({"k:v": "${x}?"}),
        True,
    ),
    (
        "condition-arn-like-variable",
        {**ALLOW_ALL, "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:role/*"}}},
        _request(),
        True,
    ),
    (
        "condition-arn-like-variable-other-account",
        {**ALLOW_ALL, "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:role/*"}}},
        _request(principal="arn:aws:iam::111122223333:role/Admin"),
        False,
    ),
    (
        "condition-default",
        {**ALLOW_ALL, "Condition": {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team, 'none'}"}}},
        _request({"aws:ResourceTag/team": "none"}),
        True,
    ),
    (
        "backslash-in-like-is-literal",
        {**ALLOW_ALL, "Condition": {"StringLike": {"k:v": "C:\\temp\\*"}}},
        _request({"k:v": "C:\\temp\\x"}),
        True,
    ),
]


@pytest.mark.parametrize(("statement", "req", "expected"), [pytest.param(*c[1:], id=c[0]) for c in VARIABLES])
def test_policy_variables(statement: dict[str, Any], req: Request, expected: bool) -> None:
    assert _matches(statement, req) is expected


@pytest.mark.parametrize("version", [None, "2008-10-17"], ids=["no-version", "2008"])
def test_variables_are_literal_text_before_version_2012(version: str | None) -> None:
    statement = {**ALLOW_ALL, "Resource": "arn:aws:s3:::data-${aws:PrincipalAccount}/*"}
    assert not _matches(statement, _request(resource=f"arn:aws:s3:::data-{ACCOUNT}/k"), version)
    assert _matches(statement, _request(resource="arn:aws:s3:::data-${aws:PrincipalAccount}/k"), version)


def _bad(statement: dict[str, Any]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": [{"Sid": "Bad", **statement}]}


# (id, document, the whole error message after "policy bad-scp, statement Bad: ")
MALFORMED: list[tuple[str, dict[str, Any], str]] = [
    (
        "ip-not-an-address",
        _bad({**ALLOW_ALL, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}}),
        "IpAddress aws:SourceIp: '10.0.0.0/33' is not an IP address or CIDR block",
    ),
    (
        "date-not-a-date",
        _bad({**ALLOW_ALL, "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2030-13-01"}}}),
        "DateGreaterThan aws:CurrentTime: '2030-13-01' is not an ISO 8601 date or epoch seconds",
    ),
    (
        "date-time-without-zone",
        _bad({**ALLOW_ALL, "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T10:00:00"}}}),
        "DateLessThan aws:CurrentTime: '2030-01-01T10:00:00' is not an ISO 8601 date or epoch seconds",
    ),
    (
        "date-signed-epoch",
        _bad({**ALLOW_ALL, "Condition": {"DateLessThan": {"aws:EpochTime": "-1"}}}),
        "DateLessThan aws:EpochTime: '-1' is not an ISO 8601 date or epoch seconds",
    ),
    (
        "binary-not-base64",
        _bad({**ALLOW_ALL, "Condition": {"BinaryEquals": {"k:bin": "#!"}}}),
        "BinaryEquals k:bin: '#!' is not base64",
    ),
    (
        "no-binary-not-equals",
        _bad({**ALLOW_ALL, "Condition": {"BinaryNotEquals": {"k:bin": "QQ=="}}}),
        "unknown or unsupported condition operator 'BinaryNotEquals'",
    ),
    (
        "variable-with-numeric",
        _bad({**ALLOW_ALL, "Condition": {"NumericLessThan": {"k:n": "${k:max}"}}}),
        "NumericLessThan k:n '${k:max}': policy variables work only with the string and ARN operators",
    ),
    (
        "variable-with-ip",
        _bad({**ALLOW_ALL, "Condition": {"IpAddress": {"aws:SourceIp": "${k:range}"}}}),
        "IpAddress aws:SourceIp '${k:range}': policy variables work only with the string and ARN operators",
    ),
    (
        "variable-in-account-segment",
        _bad({**ALLOW_ALL, "Resource": "arn:aws:s3:${aws:RequestedRegion}:${aws:PrincipalAccount}:x"}),
        "Resource entry 'arn:aws:s3:${aws:RequestedRegion}:${aws:PrincipalAccount}:x': a policy variable may "
        "stand only in the resource part of an ARN, after the fifth colon",
    ),
    (
        "variable-without-brace",
        _bad({**ALLOW_ALL, "Resource": "arn:aws:s3:::b/${aws:username"}),
        "Resource entry 'arn:aws:s3:::b/${aws:username': a policy variable '${' has no closing '}'",
    ),
    (
        "empty-variable",
        _bad({**ALLOW_ALL, "Condition": {"StringEquals": {"k:v": "${}"}}}),
        "StringEquals k:v: '${}': '${}' is not a policy variable (a key, optionally followed by , 'default')",
    ),
    (
        "variable-with-space",
        _bad({**ALLOW_ALL, "Condition": {"StringLike": {"k:v": "${aws:username }"}}}),
        "StringLike k:v: '${aws:username }': '${aws:username }' is not a policy variable "
        "(a key, optionally followed by , 'default')",
    ),
    (
        "variable-as-condition-key",
        _bad({**ALLOW_ALL, "Condition": {"StringEquals": {"${aws:username}": "x"}}}),
        "StringEquals ${aws:username}: a condition key cannot be a policy variable",
    ),
]


@pytest.mark.parametrize(("document", "message"), [pytest.param(*c[1:], id=c[0]) for c in MALFORMED])
def test_malformed_typed_values_and_variables_raise(document: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy(document, "bad-scp")
    assert str(raised.value) == f"policy bad-scp, statement Bad: {message}"
