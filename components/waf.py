"""WebAcl: the WAF web ACL in front of the app, its request logs and, on the load balancer, its association.

Rules, in evaluation order: AWS's IP reputation list, a rate limit per client IP, the core rule set, known bad
inputs and (with a database) SQL injection. Everything else is allowed. A managed rule that blocks real
traffic is set to `count` in `loadBalancer.waf.ruleOverrides` rather than the whole group being switched off.

REGIONAL (on the load balancer) or CLOUDFRONT (on a static frontend's distribution, which names the ACL in
its `web_acl_id`): a CLOUDFRONT web ACL and its log group are created in us-east-1, as WAF requires.

Logs go to a CloudWatch log group whose name starts with `aws-waf-logs-` (WAF delivers only to such names);
by default only requests a rule blocked or counted, with the Authorization and Cookie headers redacted (they
carry sessions and tokens). When logging is switched on WAF adds a CloudWatch Logs resource policy for its
log delivery itself (docs/waf.md: the permissions the deploying role needs).

The web ACL's metric name is fixed (`<project>-<stack>`, updatable in place): CloudWatch keys its metrics,
and so the blocked-requests alarm and the dashboard, by it. Its name is generated from that prefix, so a
replacement (only a change of scope replaces it: adding or removing a frontend) creates the new web ACL
before the old one is deleted, once nothing uses the old one any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

import pulumi
import pulumi_aws as aws

from helpers.names import web_acl_log_group_prefix, web_acl_name_prefix
from stackconfig.edge import CLOUDFRONT_CERTIFICATE_REGION
from stackconfig.load_balancer import WafConfig

RATE_RULE = "rate-limit-per-ip"
# Headers whose values never reach the logs.
REDACTED_HEADERS = ("authorization", "cookie")
Scope = Literal["REGIONAL", "CLOUDFRONT"]


@dataclass(frozen=True)
class WebAclArgs:
    # Resolved and enabled.
    settings: WafConfig
    # The web ACL's CloudWatch metric name (`helpers.names.web_acl_metric_name`).
    metric_name: str
    scope: Scope
    log_retention_days: int
    # REGIONAL: the load balancer it protects. CLOUDFRONT: None (the distribution names the web ACL).
    load_balancer_arn: Optional[pulumi.Input[str]] = None


def _visibility(metric_name: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True,
    )


# The provider's names for a managed rule's overridden action.
ActionToUse = aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs
CountAction = aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs
BlockAction = aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseBlockArgs
ActionCondition = aws.wafv2.WebAclLoggingConfigurationLoggingFilterFilterConditionActionConditionArgs


def _rule_action(action: str) -> ActionToUse:
    return ActionToUse(count=CountAction()) if action == "count" else ActionToUse(block=BlockAction())


def _managed_group_rule(group: str, priority: int, overrides: dict[str, str]) -> aws.wafv2.WebAclRuleArgs:
    return aws.wafv2.WebAclRuleArgs(
        name=group,
        priority=priority,
        # The group's own actions apply (none overrides them), except the rules listed in `overrides`.
        override_action=aws.wafv2.WebAclRuleOverrideActionArgs(none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                vendor_name="AWS",
                name=group,
                rule_action_overrides=[
                    aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs(
                        name=rule, action_to_use=_rule_action(action),
                    )
                    for rule, action in sorted(overrides.items())
                ] or None,
            ),
        ),
        visibility_config=_visibility(group),
    )


def _rate_rule(settings: WafConfig, priority: int) -> aws.wafv2.WebAclRuleArgs:
    return aws.wafv2.WebAclRuleArgs(
        name=RATE_RULE,
        priority=priority,
        action=aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs()),
        statement=aws.wafv2.WebAclRuleStatementArgs(
            rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                aggregate_key_type="IP",
                limit=settings.rate_limit,
                evaluation_window_sec=settings.rate_limit_window_seconds,
            ),
        ),
        visibility_config=_visibility(RATE_RULE),
    )


def web_acl_rules(settings: WafConfig) -> list[aws.wafv2.WebAclRuleArgs]:
    """The IP reputation list first (cheapest, drops known-bad sources), then the rate limit, then the rest."""
    groups = settings.rule_groups
    rules = [_managed_group_rule(groups[0], 0, settings.rule_overrides.get(groups[0], {})), _rate_rule(settings, 1)]
    rules += [_managed_group_rule(group, priority, settings.rule_overrides.get(group, {}))
              for priority, group in enumerate(groups[1:], start=2)]
    return rules


def _logging_filter(settings: WafConfig) -> Optional[aws.wafv2.WebAclLoggingConfigurationLoggingFilterArgs]:
    if settings.log_requests == "all":
        return None
    return aws.wafv2.WebAclLoggingConfigurationLoggingFilterArgs(
        default_behavior="DROP",
        filters=[aws.wafv2.WebAclLoggingConfigurationLoggingFilterFilterArgs(
            behavior="KEEP",
            requirement="MEETS_ANY",
            conditions=[
                aws.wafv2.WebAclLoggingConfigurationLoggingFilterFilterConditionArgs(
                    action_condition=ActionCondition(action=action),
                )
                for action in ("BLOCK", "COUNT")
            ],
        )],
    )


class WebAcl(pulumi.ComponentResource):
    web_acl_arn: pulumi.Output[str]
    metric_name: str
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: WebAclArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:waf:WebAcl", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        # A CLOUDFRONT web ACL, and the log group it writes to, exist in us-east-1 only.
        region = CLOUDFRONT_CERTIFICATE_REGION if args.scope == "CLOUDFRONT" else None

        self.web_acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            name_prefix=web_acl_name_prefix(args.metric_name),
            description=f"{args.metric_name}: AWS managed rules and a rate limit per client IP",
            scope=args.scope,
            region=region,
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=web_acl_rules(settings),
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=args.metric_name, sampled_requests_enabled=True,
            ),
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name_prefix=web_acl_log_group_prefix(args.metric_name),
            retention_in_days=args.log_retention_days,
            region=region,
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header),
                )
                for header in REDACTED_HEADERS
            ],
            logging_filter=_logging_filter(settings),
            region=region,
            opts=child,
        )
        if args.load_balancer_arn is not None:
            aws.wafv2.WebAclAssociation(
                f"{name}-association",
                resource_arn=args.load_balancer_arn,
                web_acl_arn=self.web_acl.arn,
                opts=child,
            )

        self.web_acl_arn = self.web_acl.arn
        self.metric_name = args.metric_name
        self.log_group_name = self.log_group.name
        self.register_outputs({
            "webAclArn": self.web_acl_arn,
            "metricName": self.metric_name,
            "logGroupName": self.log_group_name,
        })
