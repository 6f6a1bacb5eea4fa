"""The regional AWS WAF web ACL in front of a region's API."""

from __future__ import annotations

import typing

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct


class ApiWebAcl:
    """Part (see the package docstring): a regional web ACL associated with the API's stage.

    Rules, in order: a rate-based rule that blocks any one source IP address that sends
    more than ``requests_per_ip_per_5_minutes`` requests in a five-minute window (what keeps
    a single flooding client from exhausting the stage's throttle, which every caller and
    the Route 53 health checkers share); then AWS's Known Bad Inputs managed rule group
    (request patterns of known exploits, such as Log4j's). Everything else is allowed:
    the routes' own authorization decides. Every request is logged to a log group named
    ``aws-waf-logs-…`` (the prefix AWS WAF requires), encrypted with ``key``.
    ``web_acl``, ``association`` and ``logging`` are the L1s; ``log_group`` the L2.
    """

    def __init__(
        self,
        scope: Construct,
        *,
        api: apigateway.RestApi,
        key: kms.IKey,
        log_retention_days: int,
        requests_per_ip_per_5_minutes: int,
    ) -> None:
        stack = Stack.of(scope)
        name = f"{stack.stack_name}-api"

        def visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
            )

        self.web_acl = wafv2.CfnWebACL(
            scope,
            "WebAcl",
            name=name,
            description="DR sample workload: per-IP rate limit and known bad inputs",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility("dr-api"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="rate-per-ip",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP", limit=requests_per_ip_per_5_minutes
                        )
                    ),
                    visibility_config=visibility("dr-api-rate-per-ip"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="known-bad-inputs",
                    priority=1,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesKnownBadInputsRuleSet"
                        )
                    ),
                    visibility_config=visibility("dr-api-known-bad-inputs"),
                ),
            ],
        )
        stage = api.deployment_stage
        self.association = wafv2.CfnWebACLAssociation(
            scope,
            "WebAclAssociation",
            # The stage's name is a Ref to the stage: the association waits for the stage.
            resource_arn=f"arn:{stack.partition}:apigateway:{stack.region}::/restapis/{api.rest_api_id}"
            f"/stages/{stage.stage_name}",
            web_acl_arn=self.web_acl.attr_arn,
        )
        log_group_name = f"aws-waf-logs-{name}"
        self.log_group = logs.LogGroup(scope, "WebAclLogs", log_group_name=log_group_name, encryption_key=key)
        typing.cast(CfnResource, self.log_group.node.default_child).add_property_override(
            "RetentionInDays", log_retention_days
        )
        self.logging = wafv2.CfnLoggingConfiguration(
            scope,
            "WebAclLogging",
            resource_arn=self.web_acl.attr_arn,
            # The log group's ARN without the ":*" that its Arn attribute ends with, which AWS WAF refuses.
            log_destination_configs=[
                f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:{log_group_name}"
            ],
        )
        self.logging.node.add_dependency(self.log_group)
