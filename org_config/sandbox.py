"""The sandbox profile: the workload patterns of an organization config, in one account.

Most readers have one sandbox account, not an organization. A config with a ``sandbox``
section says so explicitly: every account of the config is that one account (the
organization's rule of one account per id is replaced by "every id is the sandbox's",
not dropped), only the chosen workload patterns are built, and the stacks switch to the
sandbox's teardown settings (see ``cdk_constructs/sandbox_teardown.py``). ``make
deploy-sandbox`` writes such a config from the example (or ``CONFIG=``) and the command
line; a user may also write one by hand.

May import: ``org_config.common``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from org_config.common import OptionalEmail, _Model, raise_problems

# Workload patterns one account can hold, in the order they deploy.
SANDBOX_PATTERNS: tuple[str, ...] = ("network", "disaster-recovery", "object-index", "streaming")
# A pattern that runs on another one's resources: the DR workload runs in the network's subnets.
PATTERN_NEEDS: dict[str, tuple[str, ...]] = {"disaster-recovery": ("network",)}
# What cannot be tried in one account, and why (the command prints one line each).
ORGANIZATION_ONLY: dict[str, str] = {
    "organization": "OUs, service control, tag and backup policies exist only in an organization's management account",
    "identity-center": "an organization instance of IAM Identity Center belongs to the management account",
    "organization-trail": "an organization trail needs the management account and a log-archive account",
    "security-services": "GuardDuty, Security Hub, Config and Access Analyzer delegated administrators need members",
}
# A monthly budget alert every sandbox deployment carries unless told otherwise.
DEFAULT_BUDGET_USD = 50


class Sandbox(_Model):
    # The one account every stack is deployed to.
    account_id: str
    # The workload patterns to deploy (names as in SANDBOX_PATTERNS).
    patterns: Annotated[tuple[str, ...], Field(min_length=1)]
    # An AWS Budgets alert fires when the month's cost reaches or is forecast to pass this.
    budget_usd: Annotated[int, Field(ge=1, le=1_000_000)] = DEFAULT_BUDGET_USD
    # Optional address the budget alert also mails (the alert topic always receives it).
    budget_email: OptionalEmail = None

    @field_validator("account_id", mode="before")
    @classmethod
    def _twelve_digits(cls, value: object) -> object:
        if not isinstance(value, str) or not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"must be a quoted string of exactly 12 digits (got {value!r})")
        return value

    @model_validator(mode="after")
    def _known_patterns(self) -> Sandbox:
        problems = []
        for index, name in enumerate(self.patterns):
            if name in ORGANIZATION_ONLY:
                problems.append(
                    f"sandbox.patterns[{index}]: '{name}' cannot be deployed to one account ({ORGANIZATION_ONLY[name]})"
                )
            elif name not in SANDBOX_PATTERNS:
                problems.append(
                    f"sandbox.patterns[{index}]: unknown pattern '{name}' (one of {', '.join(SANDBOX_PATTERNS)})"
                )
            elif name in self.patterns[:index]:
                problems.append(f"sandbox.patterns[{index}]: '{name}' is listed twice")
        for name in self.patterns:
            for needed in PATTERN_NEEDS.get(name, ()):
                if needed not in self.patterns:
                    problems.append(f"sandbox.patterns: '{name}' needs '{needed}' too (it runs in its subnets)")
        raise_problems(problems)
        return self

    def builds(self, pattern: str) -> bool:
        return pattern in self.patterns
