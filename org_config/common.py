"""Types and rules every section of the config shares: known regions, name patterns and
their rules in words, CloudWatch retentions, account roles, the regions, the base model
and :func:`raise_problems`.

The bottom of the config layer: it imports nothing of the project.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

# Commercial AWS regions a config may name. A region outside this list is a typo or a
# partition (China, GovCloud) whose ARNs and service principals the stacks do not model.
KNOWN_REGIONS: frozenset[str] = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)

ROOT_OU = "Root"

# Bucket name starts and ends that S3 reserves ("General purpose bucket naming rules",
# Amazon S3 User Guide).
S3_RESERVED_PREFIXES: tuple[str, ...] = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES: tuple[str, ...] = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# Every stack stays at or below half the CloudFormation quota of 500 resources, so it can
# grow; config values that add resources are checked against it before anything is built.
RESOURCE_BUDGET = 250

_NAME = r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
_OU_NAME = r"^[A-Za-z][A-Za-z0-9-]{0,62}$"
_ORGANIZATION_ID = r"^o-[a-z0-9]{10,32}$"
_ROOT_ID = r"^r-[0-9a-z]{4,32}$"
_NAME_PREFIX = r"^[a-z][a-z0-9-]{1,18}[a-z0-9]$"
_ROLE_NAME = r"^[A-Za-z0-9+=,.@_-]{1,64}$"
_GROUP_ID = r"^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$"
_INSTANCE_ARN = r"^arn:aws:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$"
# An EC2 instance type or a family wildcard: t3.micro, t3.*, m7i-flex.large.
_INSTANCE_TYPE = r"^[a-z][a-z0-9-]*\.(\*|[a-z0-9-]+)$"

# Every pattern a field must match, with its rule in words for the error message.
PATTERN_RULES: dict[str, str] = {
    _NAME: "must be 3 to 32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen",
    _OU_NAME: "must be 1 to 63 letters, digits and hyphens, starting with a letter",
    _ORGANIZATION_ID: "must be an organization id: 'o-' and 10 to 32 lowercase letters or digits",
    _ROOT_ID: "must be a root id: 'r-' and 4 to 32 lowercase letters or digits",
    _NAME_PREFIX: (
        "must be 3 to 20 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen"
    ),
    _ROLE_NAME: "must be an IAM role name: 1 to 64 letters, digits and +=,.@_-",
    _GROUP_ID: "must be an IAM Identity Center group id (a UUID, optionally after a 10-character store prefix)",
    _INSTANCE_ARN: "must be an IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-...)",
    _INSTANCE_TYPE: "must be an EC2 instance type or family wildcard such as t3.micro or t3.*",
}
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


# Retention periods CloudWatch Logs accepts, in days.
LOG_RETENTION_DAYS: frozenset[int] = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)


def _cloudwatch_retention(value: int) -> int:
    """A retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90 ... 3653 days)."""
    if value not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(days) for days in sorted(LOG_RETENTION_DAYS))
        raise ValueError(f"{value} is not a retention CloudWatch Logs accepts ({allowed})")
    return value


def _optional_email(value: str | None) -> str | None:
    """An email address, when given."""
    if value is not None and not _EMAIL.fullmatch(value):
        raise ValueError(f"not a valid email address: '{value}'")
    return value


# A log retention in days that CloudWatch Logs accepts, and an optional alarm address.
LogRetentionDays = Annotated[int, AfterValidator(_cloudwatch_retention)]
OptionalEmail = Annotated[str | None, AfterValidator(_optional_email)]


class AccountRole(StrEnum):
    """What an account is for; stacks are placed by role, never by hard-coded id."""

    MANAGEMENT = "management"
    LOG_ARCHIVE = "log-archive"
    AUDIT = "audit"
    NETWORK = "network"
    SHARED_SERVICES = "shared-services"
    WORKLOAD_PROD = "workload-prod"
    WORKLOAD_NONPROD = "workload-nonprod"
    SANDBOX = "sandbox"


# Roles the stacks need exactly one account for. Sandbox accounts may be many or none.
REQUIRED_ROLES: tuple[AccountRole, ...] = (
    AccountRole.MANAGEMENT,
    AccountRole.LOG_ARCHIVE,
    AccountRole.AUDIT,
    AccountRole.NETWORK,
    AccountRole.SHARED_SERVICES,
    AccountRole.WORKLOAD_PROD,
    AccountRole.WORKLOAD_NONPROD,
)


class _Model(BaseModel):
    # Unknown keys are errors (a misspelt key must not be silently ignored); no type
    # coercion beyond JSON's (the loader validates YAML through its JSON form); models are
    # immutable once validated.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Regions(_Model):
    """The home region (every pattern's primary), the DR region, and the regions the guardrails allow."""

    home: Annotated[str, Field(description="A commercial AWS region: the hub, the workloads, the home of every stack")]
    dr: Annotated[str, Field(description="A commercial AWS region other than home: the DR workload and its network")]
    allowed: Annotated[
        tuple[str, ...],
        Field(description="Regions the guardrails allow, each once; the home and DR regions must be among them"),
    ]

    @field_validator("home", "dr")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in KNOWN_REGIONS:
            raise ValueError(f"unknown AWS region '{value}'")
        return value

    @field_validator("allowed")
    @classmethod
    def _all_known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for region in value:
            if region not in KNOWN_REGIONS:
                raise ValueError(f"unknown AWS region '{region}'")
        if len(set(value)) != len(value):
            raise ValueError("lists a region twice")
        return value

    @model_validator(mode="after")
    def _home_and_dr(self) -> Regions:
        problems = []
        if self.dr == self.home:
            problems.append(f"regions.dr: must differ from regions.home (both are '{self.home}')")
        for field, region in (("home", self.home), ("dr", self.dr)):
            if region not in self.allowed:
                problems.append(f"regions.{field}: '{region}' is not in regions.allowed")
        raise_problems(problems)
        return self


# Roles of the accounts a workload pattern may be deployed to: never the management,
# security (log-archive, audit) or network accounts.
WORKLOAD_ROLES: frozenset[AccountRole] = frozenset(
    {AccountRole.WORKLOAD_PROD, AccountRole.WORKLOAD_NONPROD, AccountRole.SANDBOX}
)


def raise_problems(problems: list[str]) -> None:
    """Raise one ``ValueError`` that carries every problem a validator found.

    Each problem reads ``"<field path>: <rule>"``; the loader prints them on one line,
    so a user sees every mistake of a section in one run, not one mistake per run.
    """
    if problems:
        raise ValueError("; ".join(problems))
