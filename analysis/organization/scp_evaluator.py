"""Offline evaluator for AWS Organizations service control policies (SCPs).

The evaluator answers one question without calling AWS: would the SCPs of an
organization let this principal, in this account, perform this action on this
resource? It is meant for tests that feed it the SCPs found in synthesized
CloudFormation templates, and for generating documentation about guardrails.
SCPs never grant permissions; an ``allowed`` decision only means the SCPs do not
block the request (identity and resource policies still have to allow it).

This module is the public entry: it holds the organization tree and the decision,
and re-exports the policy model. The parts live beside it:
:mod:`~analysis.organization.scp_policy` (loading documents, matching a statement),
:mod:`~analysis.organization.scp_conditions` (condition operators),
:mod:`~analysis.organization.scp_patterns` (wildcards and ARNs),
:mod:`~analysis.organization.scp_variables` (policy variables) and
:mod:`~analysis.organization.scp_request` (the request).

Evaluation follows the documented AWS rules:

1. The management account is never restricted by SCPs, and neither are
   service-linked roles (principal ARNs containing ``:role/aws-service-role/``).
2. The policies that apply to an account are those attached to the root, to every
   OU on the path from the root to the account, and to the account itself. Each of
   these targets is a *level*.
3. An explicit ``Deny`` in any applicable statement, at any level, wins.
4. Otherwise every level must have at least one ``Allow`` statement that matches
   the request. A level without a matching ``Allow`` (including a level with no
   policy attached at all) is an implicit deny. This is why ``FullAWSAccess`` is
   normally attached to every target.

A statement matches when its action, resource and condition parts all match:

* ``Action``/``NotAction`` entries are ``service:name`` patterns compared
  case-insensitively; ``*`` matches any run of characters and ``?`` exactly one.
  ``NotAction`` matches a request whose action matches none of its entries.
* ``Resource``/``NotResource`` entries are ``*`` or ARN patterns matched segment by
  segment (:func:`~analysis.organization.scp_patterns.resource_regex`); a wildcard
  in the service segment is a wildcard like any other. A statement must have exactly
  one of the two elements. A request whose resource is ``"*"`` (an action without a
  resource type) is covered only by the pattern ``*``.
* ``Condition``: every operator block must hold, every key inside a block must
  hold, and several policy values for one key are alternatives (any may match).
  Condition keys are case-insensitive; values are case-sensitive except for the
  ``...IgnoreCase`` operators and ``Bool``.

Supported condition operators are the ``String*``, ``Arn*``, ``Numeric*``, ``Date*``,
``IpAddress``/``NotIpAddress``, ``BinaryEquals``, ``Bool`` and ``Null`` families, each
(except ``Null``) with an optional ``IfExists`` suffix and an optional
``ForAnyValue:``/``ForAllValues:`` prefix. ``ArnEquals`` and ``ArnLike`` behave alike:
the six colon-separated parts of the ARN are compared one by one, each part with
wildcards (the last part, the resource, may itself contain colons), as the IAM User
Guide's condition operator page describes them; unlike in the ``Resource`` element,
no ``*`` there reaches past its part, and a policy value with fewer than six parts is
accepted and never matches.

When a condition key is missing from the request (absent, or an empty list):

* ``Null: {key: "true"}`` holds, ``Null: {key: "false"}`` does not;
* ``ForAllValues:`` holds and ``ForAnyValue:`` does not, *with or without* ``IfExists``:
  the IAM User Guide's "Single-valued vs. multivalued context keys"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html)
  says ``ForAllValues`` "also returns true if there are no context keys in the request"
  and that ``ForAnyValue`` returns false when there is no matching context key; the set
  operator decides before ``IfExists`` is consulted;
* otherwise an operator with the ``IfExists`` suffix holds;
* a negated operator (``StringNotEquals``, ``StringNotEqualsIgnoreCase``,
  ``StringNotLike``, ``ArnNotEquals``, ``ArnNotLike``, ``NumericNotEquals``,
  ``DateNotEquals``, ``NotIpAddress``) holds: AWS evaluates a negated operator on an
  absent key as true;
* any other operator does not hold.

A request value that cannot be read in an operator's type (not a number, a date, an IP
address, base64, ``true``/``false``) never satisfies that operator, negated or not. A
multivalued key needs a set operator (``ForAnyValue:`` or ``ForAllValues:``), as the
same IAM page says: a plain operator on ``aws:TagKeys``,
``aws:PrincipalServiceNamesList`` or ``aws:CalledVia`` (multivalued global keys) is a
load error, and a plain operator on any key the request gives as a list raises
:class:`PolicyError` when evaluated.

Policy variables (``${aws:PrincipalAccount}``, ``${aws:PrincipalTag/team}``, a default
``${key, 'value'}`` and the escapes ``${*}``, ``${?}``, ``${$}``) are resolved from the
request in the resource part of ``Resource`` entries and in string and ARN condition
values, as :mod:`~analysis.organization.scp_variables` describes; a variable that
cannot be resolved makes its statement inapplicable.

The request context holds ``aws:PrincipalArn``, ``aws:RequestedRegion`` and
``aws:PrincipalAccount`` (the request's account id), plus any key given in
``Request.context``, which takes precedence over those three.

A malformed or unsupported policy never yields an allow: :func:`load_policy`
raises :class:`PolicyError` for an unknown top-level or statement element, a
``Principal``/``NotPrincipal`` element (not allowed in SCPs), a missing or
invalid ``Effect``, both or neither of ``Action``/``NotAction``, both or neither
of ``Resource``/``NotResource``, a resource pattern the IAM documentation rules out
(see :func:`~analysis.organization.scp_patterns.resource_pattern_problem`), an
unknown operator, an operator block with no keys or that is not an object, a value
of the wrong JSON type or not of the operator's type, a malformed policy variable or
one where AWS does not resolve variables, and a duplicate ``Sid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from analysis.organization.scp_conditions import Condition
from analysis.organization.scp_policy import (
    SCP_MAX_CHARACTERS,
    Policy,
    PolicyError,
    Statement,
    load_policy,
    minified_size,
)
from analysis.organization.scp_request import ACCOUNT_ID_PATTERN, ContextValue, Request

__all__ = [
    "SCP_MAX_CHARACTERS",
    "Condition",
    "ContextValue",
    "Decision",
    "OrgNode",
    "Organization",
    "Policy",
    "PolicyError",
    "Request",
    "Statement",
    "evaluate",
    "load_policy",
    "minified_size",
]

TargetKind = Literal["root", "ou", "account"]
_SERVICE_LINKED_ROLE_MARKER = ":role/aws-service-role/"


# --------------------------------------------------------------------------- organization


@dataclass(frozen=True)
class OrgNode:
    """A target SCPs can be attached to: the root, an OU or an account."""

    target_id: str
    """The root id, the OU name or id, or the 12-digit account id."""
    kind: TargetKind
    parent_id: str | None
    """The parent root or OU; ``None`` for the root."""

    @property
    def label(self) -> str:
        """``<kind> <id>``, as used in decision reasons."""
        return f"{self.kind} {self.target_id}"


class Organization:
    """An organization tree with the SCPs attached to each target.

    Build it with :meth:`add_ou`, :meth:`add_account` and :meth:`attach`. The
    management account need not be placed in the tree; it is exempt anyway.
    """

    def __init__(self, management_account_id: str, root_id: str = "Root") -> None:
        if not ACCOUNT_ID_PATTERN.fullmatch(management_account_id):
            raise ValueError(f"account id must be 12 digits, got {management_account_id!r}")
        self.management_account_id = management_account_id
        self.root_id = root_id
        self._nodes: dict[str, OrgNode] = {root_id: OrgNode(root_id, "root", None)}
        self._policies: dict[str, list[Policy]] = {root_id: []}

    def add_ou(self, ou_id: str, parent_id: str | None = None) -> OrgNode:
        """Add an OU under ``parent_id`` (the root when omitted)."""
        return self._add(OrgNode(ou_id, "ou", parent_id or self.root_id))

    def add_account(self, account_id: str, parent_id: str | None = None) -> OrgNode:
        """Add an account under the OU ``parent_id`` (the root when omitted)."""
        if not ACCOUNT_ID_PATTERN.fullmatch(account_id):
            raise ValueError(f"account id must be 12 digits, got {account_id!r}")
        return self._add(OrgNode(account_id, "account", parent_id or self.root_id))

    def _add(self, node: OrgNode) -> OrgNode:
        if not node.target_id:
            raise ValueError("a target id cannot be empty")
        if node.target_id in self._nodes:
            raise ValueError(f"target {node.target_id!r} already exists")
        parent = self._nodes.get(node.parent_id or "")
        if parent is None or parent.kind == "account":
            raise ValueError(f"parent of {node.label} must be the root or an existing OU")
        self._nodes[node.target_id] = node
        self._policies[node.target_id] = []
        return node

    def attach(
        self,
        target_id: str,
        policy: Policy | Mapping[str, Any] | str,
        name: str | None = None,
    ) -> Policy:
        """Attach a policy (validated with :func:`load_policy` unless already a Policy)."""
        if not isinstance(policy, Policy):
            policy = load_policy(policy, name or "policy")
        attached = self._policies[self.node(target_id).target_id]
        if any(existing.name == policy.name for existing in attached):
            raise ValueError(f"policy {policy.name} is already attached to {target_id}")
        attached.append(policy)
        return policy

    def node(self, target_id: str) -> OrgNode:
        """The node with this id; ``KeyError`` if there is none."""
        try:
            return self._nodes[target_id]
        except KeyError:
            raise KeyError(f"no root, OU or account {target_id!r} in the organization") from None

    def nodes(self) -> tuple[OrgNode, ...]:
        """Every node, in the order added (the root first)."""
        return tuple(self._nodes.values())

    def policies(self, target_id: str) -> tuple[Policy, ...]:
        """The policies attached directly to a target, in attachment order."""
        return tuple(self._policies[self.node(target_id).target_id])

    def path_to(self, account_id: str) -> list[str]:
        """Target ids from the root down to the account, both included."""
        node = self.node(account_id)
        if node.kind != "account":
            raise KeyError(f"{node.label} is not an account")
        path = [node.target_id]
        while node.parent_id is not None:
            node = self.node(node.parent_id)
            path.append(node.target_id)
        return path[::-1]


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Decision:
    """The outcome of :func:`evaluate`.

    For a deny, ``level`` is the target id whose policies decided (the level of the
    explicit Deny, or the first level without a matching Allow), and
    ``deciding_policy``/``deciding_statement`` name the Deny statement (``None``
    for an implicit deny). For an allow they are all ``None``.
    """

    allowed: bool
    reason: str
    deciding_policy: str | None = None
    deciding_statement: str | None = None
    level: str | None = None


def evaluate(org: Organization, request: Request) -> Decision:
    """Decide whether the organization's SCPs permit the request."""
    if request.account_id == org.management_account_id:
        return Decision(
            True,
            f"allowed: account {request.account_id} is the management account, which SCPs do not restrict",
        )
    if _SERVICE_LINKED_ROLE_MARKER in request.principal_arn:
        return Decision(True, "allowed: service-linked roles are not restricted by SCPs")

    path = [org.node(target_id) for target_id in org.path_to(request.account_id)]
    for node in path:
        for policy in org.policies(node.target_id):
            for statement in policy.statements:
                if statement.effect == "Deny" and statement.matches(request):
                    return Decision(
                        False,
                        f"explicit deny by statement {statement.label} in policy "
                        f"{policy.name} attached to {node.label}",
                        deciding_policy=policy.name,
                        deciding_statement=statement.label,
                        level=node.target_id,
                    )

    allowed_by: list[str] = []
    for node in path:
        policies = org.policies(node.target_id)
        if not policies:
            return Decision(
                False,
                f"implicit deny: no policy attached at {node.label}",
                level=node.target_id,
            )
        allow = next(
            (
                (policy, statement)
                for policy in policies
                for statement in policy.statements
                if statement.effect == "Allow" and statement.matches(request)
            ),
            None,
        )
        if allow is None:
            return Decision(False, f"implicit deny: no Allow at {node.label}", level=node.target_id)
        allowed_by.append(f"{node.label} by {allow[0].name}/{allow[1].label}")
    return Decision(True, "allowed: an Allow matches at " + ", ".join(allowed_by))
