"""The filter pattern matcher: each rule of the supported subset, and what it refuses."""

from __future__ import annotations

import pytest

from analysis.organization.cloudwatch_filter import FilterPatternError, matches, parse

EVENT = {
    "eventSource": "kms.amazonaws.com",
    "eventName": "DisableKey",
    "errorCode": "AccessDenied",
    "readOnly": False,
    "userIdentity": {"type": "IAMUser", "sessionContext": {"mfa": "true"}},
    "resources": [{"ARN": "arn:aws:kms:eu-west-1:111111111111:key/1"}],
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("{ $.eventName = DisableKey }", True),
        ('{ $.eventName = "DisableKey" }', True),
        ("{ $.eventName = disablekey }", False),  # values compare case-sensitively
        ("{ $.eventName = Disable }", False),  # the whole value, not a prefix
        ('{ $.errorCode = "Access*" }', True),
        ('{ $.errorCode = "*Denied" }', True),
        ('{ $.errorCode = "*Unauthorized*" }', False),
        ("{ $.eventName != DisableKey }", False),
        ("{ $.eventName != EnableKey }", True),
        ("{ $.missing != anything }", False),  # a comparison on a missing field never holds
        ("{ $.missing = anything }", False),
        ("{ $.missing NOT EXISTS }", True),
        ("{ $.eventName NOT EXISTS }", False),
        ("{ $.userIdentity.type = IAMUser }", True),
        ("{ $.userIdentity.sessionContext.mfa = true }", True),
        ("{ $.userIdentity.sessionContext NOT EXISTS }", False),
        ("{ $.userIdentity = IAMUser }", False),  # an object is not a value
        ("{ $.resources = x }", False),  # nor is a list
        ("{ $.readOnly = false }", True),
        ("{ $.eventName.deeper = x }", False),  # a path through a string selects nothing
        ("{ ($.eventSource = kms.amazonaws.com) && ($.eventName = EnableKey) }", False),
        ("{ ($.eventSource = kms.amazonaws.com) && ($.eventName = DisableKey) }", True),
        ("{ ($.eventName = EnableKey) || ($.eventName = DisableKey) }", True),
        ("{ ($.eventName = EnableKey) || ($.eventName = CreateKey) }", False),
        ("{ $.eventSource = kms.amazonaws.com && (($.eventName = A) || ($.eventName = DisableKey)) }", True),
        ("{ $.eventSource = s3.amazonaws.com && (($.eventName = A) || ($.eventName = DisableKey)) }", False),
    ],
)
def test_match(pattern: str, expected: bool) -> None:
    assert matches(pattern, EVENT) is expected


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("$.eventName = DisableKey", "expected '{'"),
        ("{ $.eventName = DisableKey", "pattern ends early"),
        ("{ $.eventName = DisableKey } extra", "after the closing brace"),
        ("{ $.a = 1 && $.b = 2 || $.c = 3 }", "&& and || mixed at one level"),
        ("{ $.eventName > 3 }", "unexpected text"),
        ("{ $.eventName IS NULL }", "unsupported operator 'IS'"),
        ("{ $.eventName NOT NULL }", "expected 'EXISTS'"),
        ("{ eventName = DisableKey }", "expected a $.selector"),
        ("{ $.eventName = }", "expected a value"),
        ("{ ($.eventName = A }", "expected ')'"),
        ("{ $.eventName = ( }", "expected a value"),
    ],
)
def test_patterns_outside_the_subset_are_refused(pattern: str, problem: str) -> None:
    with pytest.raises(FilterPatternError, match=problem.replace("(", r"\(").replace(")", r"\)").replace("$", r"\$")):
        parse(pattern)
