"""Pattern 1's sections: the organization (OUs, SCP limits), its accounts, the guardrails,
tag, backup and Identity Center settings, the log archive and security monitoring.

Each model checks its own fields; rules that reach into another section (an OU an account
or a guardrail names, an account an assignment names) are the root model's
(:mod:`org_config.model`). Imports only :mod:`org_config.common`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from org_config.common import (
    _EMAIL,
    _GROUP_ID,
    _INSTANCE_ARN,
    _INSTANCE_TYPE,
    _NAME,
    _NAME_PREFIX,
    _ORGANIZATION_ID,
    _OU_NAME,
    _ROLE_NAME,
    _ROOT_ID,
    RESOURCE_BUDGET,
    ROOT_OU,
    S3_RESERVED_PREFIXES,
    AccountRole,
    LogRetentionDays,
    OptionalEmail,
    _Model,
    raise_problems,
)


class Account(_Model):
    """An existing member account (or the management account), placed by its role."""

    name: Annotated[str, Field(pattern=_NAME, description="How the rest of the config names the account")]
    id: Annotated[str, Field(description="The 12-digit account id, quoted so YAML keeps its leading zeros")]
    email: Annotated[str, Field(description="The account's root email address; unique across the accounts")]
    role: Annotated[
        AccountRole,
        Field(description="What the account is for; the stacks are placed by role (one account per role but sandbox)"),
    ]
    ou: Annotated[str, Field(description='The OU the account sits in; "Root" only for the management account')]

    @field_validator("role", mode="before")
    @classmethod
    def _role_from_text(cls, value: object) -> object:
        # A friendlier message than the generic enum error, listing the roles.
        if isinstance(value, str):
            try:
                return AccountRole(value)
            except ValueError:
                allowed = ", ".join(r.value for r in AccountRole)
                raise ValueError(f"unknown account role '{value}' (allowed: {allowed})") from None
        return value

    @field_validator("id", mode="before")
    @classmethod
    def _twelve_digits(cls, value: object) -> object:
        if not isinstance(value, str):
            # YAML reads unquoted digits as a number and drops leading zeros.
            raise ValueError("account id must be a quoted string of exactly 12 digits")
        if not re.fullmatch(r"\d{12}", value):
            raise ValueError(f"account id must be exactly 12 digits (got '{value}')")
        return value

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        if not _EMAIL.fullmatch(value):
            raise ValueError(f"not a valid email address: '{value}'")
        return value


class OrganizationalUnit(_Model):
    """An OU the organization stack creates, under the root or another OU."""

    name: Annotated[str, Field(pattern=_OU_NAME)]
    parent: str = ROOT_OU


class ScpLimits(_Model):
    """Service control policy quotas ("Quotas and service limits for AWS Organizations",
    AWS Organizations User Guide): 5,120 characters per SCP and 5 SCPs per root, OU or
    account, FullAWSAccess included. Some sources report 10,240 and 10 since May 2026, so
    both are settings; a value may be lowered, and raised only up to those figures, the
    largest AWS has stated (a higher one would let synth pass what AWS rejects)."""

    max_policy_characters: Annotated[int, Field(ge=1, le=10_240)] = 5120
    max_policies_per_target: Annotated[int, Field(ge=1, le=10)] = 5


class Organization(_Model):
    """The existing organization the stacks deploy into, and its OUs."""

    id: Annotated[str, Field(pattern=_ORGANIZATION_ID)]
    root_id: Annotated[str, Field(pattern=_ROOT_ID)]
    # Prefix of every deterministic physical name (buckets, aliases, roles), so names
    # never collide with another organization's in the global S3 namespace.
    name_prefix: Annotated[str, Field(pattern=_NAME_PREFIX)]
    organizational_units: tuple[OrganizationalUnit, ...]
    # Creating accounts with AWS::Organizations::Account is a one-way door (closing an
    # account takes 90 days), so existing accounts are referenced by id unless this is on.
    create_accounts: bool = False
    scp_limits: ScpLimits = ScpLimits()

    @field_validator("name_prefix")
    @classmethod
    def _prefix_not_reserved(cls, value: str) -> str:
        # Bucket names start with the prefix: S3 reserves these starts of a bucket name.
        for reserved in S3_RESERVED_PREFIXES:
            if value.startswith(reserved):
                raise ValueError(f"'{value}' starts with '{reserved}', which S3 reserves at the start of bucket names")
        # Key aliases are alias/<prefix>/...; KMS reserves alias/aws/ for AWS managed keys.
        if value == "aws":
            raise ValueError("'aws' would make key aliases start with alias/aws/, which KMS reserves")
        return value


class LogArchive(_Model):
    """Retention of the central log buckets. Object Lock keeps every log version for
    ``object_lock_days``; lifecycle moves logs to colder storage and finally expires them."""

    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = "GOVERNANCE"
    object_lock_days: Annotated[int, Field(ge=1, le=36_500)] = 365
    transition_to_infrequent_access_days: Annotated[int, Field(ge=30)] = 90
    transition_to_glacier_days: Annotated[int, Field(ge=1)] = 180
    expire_after_days: Annotated[int, Field(ge=1)] = 2555
    noncurrent_versions_expire_after_days: Annotated[int, Field(ge=1)] = 90

    @model_validator(mode="after")
    def _ordered(self) -> LogArchive:
        problems = []
        if self.transition_to_glacier_days <= self.transition_to_infrequent_access_days:
            problems.append(
                "log_archive.transition_to_glacier_days: must be later than transition_to_infrequent_access_days"
            )
        if self.expire_after_days < self.object_lock_days:
            problems.append(
                "log_archive.expire_after_days: must not be shorter than object_lock_days "
                "(locked versions cannot expire)"
            )
        if self.expire_after_days <= self.transition_to_glacier_days:
            problems.append("log_archive.expire_after_days: must be later than transition_to_glacier_days")
        raise_problems(problems)
        return self


DR_TIERS: tuple[str, ...] = ("backup-restore", "pilot-light", "warm-standby", "multi-site")


class SecurityMonitoring(_Model):
    """Pattern 1: the organization trail's log group and the alarms on it (CIS AWS Foundations
    Benchmark section 4), which notify a topic in the audit account."""

    # Retention of the trail's CloudWatch Logs copy; the log archive keeps the trail for years.
    trail_log_retention_days: LogRetentionDays = 365
    # An address subscribed to the audit account's security alarm topic (optional).
    alarm_email: OptionalEmail = None


class Guardrails(_Model):
    """Pattern 1: where the service control policies of the library attach.

    SCP names refer to ``stacks/organization/service_control_policies.py``; FullAWSAccess
    stays attached to every target (AWS attaches it to each new OU and account) and counts
    toward ``organization.scp_limits.max_policies_per_target``.
    """

    # The one role that may act outside the guardrails in an emergency (deployed to every
    # member account by the member-roles StackSet, assumable from the management account).
    break_glass_role: Annotated[str, Field(pattern=_ROLE_NAME)] = "OrganizationBreakGlass"
    # Empty by default: an SCP at the root also binds every future OU before anyone has
    # decided what that OU is for; attaching per OU keeps each OU's guardrails explicit.
    scps_at_root: tuple[str, ...] = ()
    scps_by_ou: dict[str, tuple[str, ...]] = {}
    sandbox_instance_types: Annotated[
        tuple[Annotated[str, Field(pattern=_INSTANCE_TYPE)], ...], Field(min_length=1)
    ] = ("t3.*", "t4g.*")
    # OUs whose accounts receive the cross-account roles (audit read-only, break-glass).
    member_roles_ous: Annotated[tuple[str, ...], Field(min_length=1)]

    @field_validator("scps_at_root")
    @classmethod
    def _root_keeps_the_organization_working(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "deny-all" in value:
            raise ValueError("'deny-all' at the root would deny every member account; attach it to an OU of accounts")
        return value

    @field_validator("member_roles_ous", "sandbox_instance_types")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, item in enumerate(value):
            if item in value[:index]:
                raise ValueError(f"lists '{item}' twice (at [{value.index(item)}] and [{index}])")
        return value


# AWS tag limits: a key is 1 to 128 characters, a value 0 to 256 (the policies below need
# non-empty values), and neither may start with the reserved "aws:" prefix.
_TagKey = Annotated[str, Field(min_length=1, max_length=128)]
_TagValue = Annotated[str, Field(min_length=1, max_length=256)]


def _not_reserved(value: str) -> str:
    if value.lower().startswith("aws:"):
        raise ValueError(f"'{value}' starts with 'aws:', which AWS reserves for its own tags")
    return value


class TagPolicy(_Model):
    """The tag policy: the values the cost-center and environment tags may take."""

    cost_centers: Annotated[tuple[_TagValue, ...], Field(min_length=1)]
    environments: Annotated[tuple[_TagValue, ...], Field(min_length=1)]

    @field_validator("cost_centers", "environments")
    @classmethod
    def _distinct(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for index, item in enumerate(value):
            if item in value[:index]:
                raise ValueError(f"lists '{item}' twice")
        return value


# AWS Backup schedules: a six-field cron expression or a rate, both in UTC.
_CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$")
_RATE = re.compile(r"^rate\([1-9]\d* (minute|minutes|hour|hours|day|days)\)$")


class BackupPolicy(_Model):
    """The organization's backup policy: resources carrying the tag are backed up on the schedule."""

    schedule: str = "cron(0 3 ? * * *)"  # daily, 03:00 UTC
    retention_days: Annotated[int, Field(ge=1, le=36_500)] = 35
    tag_key: _TagKey = "backup"
    tag_value: _TagValue = "daily"

    @field_validator("schedule")
    @classmethod
    def _schedule_expression(cls, value: str) -> str:
        if not (_CRON.fullmatch(value) or _RATE.fullmatch(value)):
            raise ValueError(
                f"'{value}' is not a schedule AWS Backup accepts: use cron(minutes hours day-of-month month "
                "day-of-week year), e.g. cron(0 3 ? * * *), or rate(N hours|days)"
            )
        return value

    @field_validator("tag_key")
    @classmethod
    def _key_not_reserved(cls, value: str) -> str:
        return _not_reserved(value)


class Assignment(_Model):
    """A group of the identity store gets a permission set in the named accounts."""

    group_name: str  # for people reading the config and the docs
    group_id: Annotated[str, Field(pattern=_GROUP_ID)]
    permission_set: Literal["administrator", "read-only", "network-administrator"]
    accounts: Annotated[tuple[str, ...], Field(min_length=1)]  # account names


# Permission sets the Identity Center stack always creates (see stacks/organization/identity_center.py).
PERMISSION_SET_COUNT = 3


class IdentityCenter(_Model):
    """IAM Identity Center: the existing instance, the session length and the group assignments."""

    instance_arn: Annotated[str, Field(pattern=_INSTANCE_ARN)]
    session_duration_hours: Annotated[int, Field(ge=1, le=12)] = 4
    assignments: tuple[Assignment, ...] = ()

    @model_validator(mode="after")
    def _each_grant_once(self) -> IdentityCenter:
        problems = []
        seen: dict[tuple[str, str, str], str] = {}
        for index, assignment in enumerate(self.assignments):
            for position, account in enumerate(assignment.accounts):
                grant = (assignment.group_id, assignment.permission_set, account)
                field = f"identity_center.assignments[{index}].accounts[{position}]"
                if grant in seen:
                    problems.append(
                        f"{field}: group '{assignment.group_name}' already gets '{assignment.permission_set}' "
                        f"in '{account}' at {seen[grant]}"
                    )
                else:
                    seen[grant] = field
        resources = PERMISSION_SET_COUNT + len(seen)
        if resources > RESOURCE_BUDGET:
            problems.append(
                f"identity_center.assignments: {len(seen)} group-account grants make the Identity Center stack "
                f"{resources} resources, over the budget of {RESOURCE_BUDGET} per stack (half the CloudFormation "
                "quota); assign groups to fewer accounts or split the assignments across stacks"
            )
        raise_problems(problems)
        return self
