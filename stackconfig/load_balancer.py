"""`webstack:loadBalancer`: the public entry point."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Optional

from pydantic import Field, StringConstraints, field_validator

from stackconfig.base import ConfigModel, doc

# TLS 1.3-capable policies; the default accepts TLS 1.2 and 1.3 only (AWS's recommended policy).
TLS_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
)
CERTIFICATE_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")

# AWS managed rule groups the web ACL runs, with their web ACL capacity units (AWS WAF Developer Guide, "AWS
# Managed Rules rule groups list"): 1,125 WCUs with the rate rule, within the 1,500 a web ACL gets at its base
# price. SQL injection rules only for an app with a database.
BASELINE_RULE_GROUPS = {
    "AWSManagedRulesAmazonIpReputationList": 25,
    "AWSManagedRulesCommonRuleSet": 700,
    "AWSManagedRulesKnownBadInputsRuleSet": 200,
}
SQL_INJECTION_RULE_GROUP = ("AWSManagedRulesSQLiRuleSet", 200)
MANAGED_RULE_GROUPS = (*BASELINE_RULE_GROUPS, SQL_INJECTION_RULE_GROUP[0])
# A rule name inside a managed group (WAF: 1-128 of letters, digits, '_' and '-').
RuleName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,128}$")]
ManagedRuleGroup = Literal[MANAGED_RULE_GROUPS]  # type: ignore[valid-type]


class WafConfig(ConfigModel):
    """A WAF web ACL in front of the app: AWS managed rule groups, a rate limit per client IP, logs and an alarm.

    On the load balancer (REGIONAL); with a static frontend on its CloudFront distribution instead (CLOUDFRONT
    scope, created in us-east-1), as the load balancer then only sees CloudFront's addresses."""

    enabled: Optional[bool] = Field(default=None, description="The web ACL on or off.")
    rate_limit: int = Field(
        default=2000, ge=10, le=2_000_000_000,
        description="Requests one client IP may send per `rateLimitWindowSeconds` before WAF blocks it (403) until "
                    "its rate falls below the limit again.",
    )
    rate_limit_window_seconds: Literal[60, 120, 300, 600] = Field(
        default=300, description="The window the rate limit counts requests over.",
    )
    sql_injection_rules: Optional[bool] = Field(
        default=None,
        description="Adds AWS's SQL injection rule group (AWSManagedRulesSQLiRuleSet).",
        json_schema_extra=doc(default="on with webstack:database, else off"),
    )
    rule_overrides: dict[ManagedRuleGroup, dict[RuleName, Literal["count", "block"]]] = Field(
        default_factory=dict,
        description="Per-rule actions inside a managed rule group, for false positives: `count` only counts (and "
                    "logs) what the rule matches, `block` restores it; e.g. "
                    "`{AWSManagedRulesCommonRuleSet: {SizeRestrictions_BODY: count}}` for uploads above 8 KB "
                    "through the app. Rule names: AWS WAF Developer Guide, \"AWS Managed Rules rule groups list\".",
        json_schema_extra=doc(allowed=f"groups {', '.join(MANAGED_RULE_GROUPS)} (the SQL injection one with "
                                      f"sqlInjectionRules); rule names of 1-128 letters, digits, `_` and `-`; "
                                      f"`count` or `block`"),
    )
    log_requests: Literal["blockedAndCounted", "all"] = Field(
        default="blockedAndCounted",
        description="Which requests go to the `aws-waf-logs-...` log group: those a rule blocked or counted (what "
                    "tuning needs), or every request (CloudWatch charges per GB ingested).",
    )

    def resolved(self, production: bool, has_database: bool = False) -> "WafConfig":
        """`StackConfig.resolved()` says whether the stack has a database (the reference builds it without)."""
        return self.model_copy(update={
            "enabled": production if self.enabled is None else self.enabled,
            "sql_injection_rules": has_database if self.sql_injection_rules is None else self.sql_injection_rules,
        })

    @property
    def rule_groups(self) -> list[str]:
        return rule_groups(bool(self.sql_injection_rules))


def rule_groups(sql_injection_rules: bool) -> list[str]:
    """The managed rule groups the web ACL runs, in evaluation order (the cheap IP list first)."""
    groups = list(BASELINE_RULE_GROUPS)
    return groups + [SQL_INJECTION_RULE_GROUP[0]] if sql_injection_rules else groups


class LoadBalancerConfig(ConfigModel):
    """The internet-facing Application Load Balancer."""

    certificate_arn: Optional[str] = Field(
        default=None,
        description="An existing ACM certificate: HTTPS on 443 and HTTP redirected to HTTPS. With neither this nor "
                    "`domain` the load balancer listens on HTTP only (dev).",
        json_schema_extra=doc(allowed="an ACM certificate ARN of the stack's region; not together with `domain`"),
    )
    ssl_policy: Literal[TLS_POLICIES] = Field(  # type: ignore[valid-type]
        default=TLS_POLICIES[0],
        description="TLS policy of the HTTPS listener; the default accepts TLS 1.2 and 1.3 only (AWS's "
                    "recommended policy).",
    )
    idle_timeout: int = Field(
        default=60, ge=1, le=4000,
        description="Seconds an idle connection stays open; WebSocket apps want more than the 60 s default.",
    )
    deletion_protection: Optional[bool] = Field(
        default=None,
        description="ALB deletion protection: `pulumi destroy` cannot delete the load balancer while it is on. "
                    "Unset: on in prod, off elsewhere.",
    )
    waf: WafConfig = Field(default_factory=WafConfig, description="The WAF web ACL (docs/waf.md).")

    def resolved(self, production: bool, has_database: bool = False) -> "LoadBalancerConfig":
        """The same settings with the environment's defaults filled in."""
        return self.model_copy(update={
            "deletion_protection": production if self.deletion_protection is None else self.deletion_protection,
            "waf": self.waf.resolved(production, has_database),
        })

    @field_validator("certificate_arn")
    @classmethod
    def _acm_arn(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not CERTIFICATE_ARN.match(value):
            raise ValueError(
                "expected an ACM certificate ARN like "
                "arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"
            )
        return value
