"""The WAF web ACL (loadBalancer.waf): on the load balancer in prod, on CloudFront behind a static frontend, off in
dev; its rules, logs, alarm, dashboard panel, cost and policy, and the config that shapes it."""

from __future__ import annotations

import json

import pulumi
import pytest

from cost import UsageAssumptions, estimate, records_from_captured
from preflight.policy_gate import evaluate_policies
from preflight.stack_files import load_stack_file
from stackconfig import validate_stack_config
from tests.conftest import run_stack
from tests.policies.conftest import change, drop
from tests.test_aws_models import validate
from tests.test_config import problems, raw

WEB_ACL = "aws:wafv2/webAcl:WebAcl"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
PROD_GROUPS = ["AWSManagedRulesAmazonIpReputationList", "rate-limit-per-ip", "AWSManagedRulesCommonRuleSet",
               "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet"]


def with_waf(**settings):
    def mutate(config):
        config.setdefault("webstack:loadBalancer", {})["waf"] = settings
    return mutate


@pytest.fixture(scope="module")
def lean_waf_run():
    """Lean with its web ACL switched on: CLOUDFRONT scope, on the distribution."""
    return run_stack("lean", with_waf(enabled=True))


def rules_by_name(acl) -> dict[str, dict]:
    return {rule["name"]: rule for rule in acl.inputs["rules"]}


# --- prod: REGIONAL, on the load balancer ------------------------------------------------------------------

def test_prod_web_acl_runs_the_managed_groups_and_a_rate_limit_in_order(prod_run):
    acl = prod_run.one(WEB_ACL)
    assert acl.inputs["scope"] == "REGIONAL" and "region" not in acl.inputs
    # Generated name (a replacement is created before the old one goes); fixed metric name (the alarm's key).
    assert "name" not in acl.inputs and acl.inputs["namePrefix"] == "webstack-prod-"
    assert acl.inputs["visibilityConfig"]["metricName"] == "webstack-prod"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    rules = sorted(acl.inputs["rules"], key=lambda rule: rule["priority"])
    assert [rule["name"] for rule in rules] == PROD_GROUPS  # prod has a database: SQL injection rules on
    assert [rule["priority"] for rule in rules] == [0, 1, 2, 3, 4]
    for rule in rules:
        assert rule["visibilityConfig"] == {"metricName": rule["name"], "cloudwatchMetricsEnabled": True,
                                            "sampledRequestsEnabled": True}
        if rule["name"] == "rate-limit-per-ip":
            assert rule["action"] == {"block": {}}
            assert rule["statement"]["rateBasedStatement"] == {"limit": 2000, "aggregateKeyType": "IP",
                                                               "evaluationWindowSec": 300}
        else:
            assert rule["overrideAction"] == {"none": {}}
            assert rule["statement"]["managedRuleGroupStatement"] == {"vendorName": "AWS", "name": rule["name"]}


def test_prod_web_acl_is_associated_with_the_load_balancer(prod_run):
    association = prod_run.one(ASSOCIATION)
    assert association.inputs["resourceArn"] == prod_run.by_name("web-alb").outputs["arn"]
    assert association.inputs["webAclArn"] == prod_run.one(WEB_ACL).outputs["arn"]


def test_prod_web_acl_logs_blocked_and_counted_requests_with_secrets_redacted(prod_run):
    logging = prod_run.one(LOGGING)
    group = prod_run.by_name("waf-logs")
    assert group.inputs["namePrefix"] == "aws-waf-logs-webstack-prod-"  # WAF delivers only to aws-waf-logs-*
    assert group.inputs["retentionInDays"] == prod_run_retention(prod_run)
    assert logging.inputs["resourceArn"] == prod_run.one(WEB_ACL).outputs["arn"]
    assert logging.inputs["logDestinationConfigs"] == [group.outputs["arn"]]
    assert not group.outputs["arn"].endswith(":*")  # WAF refuses the ARN form with the stream wildcard
    assert logging.inputs["redactedFields"] == [{"singleHeader": {"name": "authorization"}},
                                                {"singleHeader": {"name": "cookie"}}]
    assert logging.inputs["loggingFilter"] == {
        "defaultBehavior": "DROP",
        "filters": [{"behavior": "KEEP", "requirement": "MEETS_ANY", "conditions": [
            {"actionCondition": {"action": "BLOCK"}}, {"actionCondition": {"action": "COUNT"}}]}],
    }


def prod_run_retention(run) -> int:
    return load_stack_file(run.stack).config.get("webstack:logs", {}).get("retentionDays", 30)


def test_prod_blocked_requests_alarm_pages_the_topic(prod_run):
    alarm = prod_run.by_name("monitoring-waf-blocked-requests")
    topic = prod_run.by_name("monitoring-alerts").outputs["arn"]
    assert alarm.inputs["name"] == "webstack-prod-waf-blocked-requests"
    assert (alarm.inputs["namespace"], alarm.inputs["metricName"], alarm.inputs["statistic"]) == (
        "AWS/WAFV2", "BlockedRequests", "Sum")
    assert alarm.inputs["dimensions"] == {"WebACL": "webstack-prod", "Rule": "ALL", "Region": "us-east-1"}
    assert (alarm.inputs["threshold"], alarm.inputs["period"], alarm.inputs["evaluationPeriods"]) == (500, 300, 1)
    assert alarm.inputs["treatMissingData"] == "notBreaching"
    assert alarm.inputs["alarmActions"] == [topic] == alarm.inputs["okActions"]


def test_prod_dashboard_has_the_web_acl_panel(prod_run):
    body = json.loads(prod_run.by_name("monitoring-dashboard").inputs["dashboardBody"])
    panels = [w["properties"] for w in body["widgets"] if w["properties"].get("title", "").startswith("WAF")]
    assert len(panels) == 1
    assert [m[:2] for m in panels[0]["metrics"]] == [["AWS/WAFV2", "AllowedRequests"], ["AWS/WAFV2", "BlockedRequests"],
                                                     ["AWS/WAFV2", "CountedRequests"]]
    assert panels[0]["metrics"][1][2:8] == ["WebACL", "webstack-prod", "Rule", "ALL", "Region", "us-east-1"]


def test_prod_exports_the_web_acl_and_its_log_group(prod_run):
    assert prod_run.outputs["webAclArn"] == prod_run.one(WEB_ACL).outputs["arn"]
    assert prod_run.outputs["wafLogGroup"] == prod_run.by_name("waf-logs").outputs["name"]


def test_web_acl_passes_create_web_acl(prod_run):
    """AWS's CreateWebACL model: Pulumi's camelCase rules in the API's shape, numbers as integers."""
    acl = prod_run.one(WEB_ACL)

    def api(value, key=""):
        if isinstance(value, dict):
            return {API_NAMES.get(k, k[0].upper() + k[1:]): api(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [api(item) for item in value]
        return int(value) if isinstance(value, float) else value

    validate("wafv2", "CreateWebACL", {
        "Name": acl.inputs["namePrefix"] + "x" * 26, "Scope": acl.inputs["scope"], "Description": acl.inputs["description"],
        "DefaultAction": api(acl.inputs["defaultAction"]), "Rules": api(acl.inputs["rules"]),
        "VisibilityConfig": api(acl.inputs["visibilityConfig"]),
    })


API_NAMES = {"cloudwatchMetricsEnabled": "CloudWatchMetricsEnabled"}


def test_dev_has_no_web_acl(dev_run):
    assert dev_run.of_type(WEB_ACL) == [] and dev_run.of_type(ASSOCIATION) == []
    assert "webAclArn" not in dev_run.outputs


def test_dev_can_switch_it_on_without_sql_injection_rules_or_with_overrides():
    run = run_stack("dev", with_waf(enabled=True, rateLimit=500, rateLimitWindowSeconds=60, logRequests="all",
                                    ruleOverrides={"AWSManagedRulesCommonRuleSet": {"SizeRestrictions_BODY": "count",
                                                                                    "NoUserAgent_HEADER": "block"}}))
    acl = run.one(WEB_ACL)
    rules = rules_by_name(acl)
    assert rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]["limit"] == 500
    assert rules["rate-limit-per-ip"]["statement"]["rateBasedStatement"]["evaluationWindowSec"] == 60
    assert rules["AWSManagedRulesCommonRuleSet"]["statement"]["managedRuleGroupStatement"]["ruleActionOverrides"] == [
        {"name": "NoUserAgent_HEADER", "actionToUse": {"block": {}}},
        {"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}},
    ]
    has_database = "webstack:database" in load_stack_file("dev").config
    assert ("AWSManagedRulesSQLiRuleSet" in rules) == has_database
    assert "loggingFilter" not in run.one(LOGGING).inputs  # every request is logged


# --- lean: CLOUDFRONT, on the distribution ------------------------------------------------------------------

def test_lean_ships_without_a_web_acl_to_stay_in_budget(lean_run):
    assert lean_run.of_type(WEB_ACL) == []
    distribution = lean_run.by_name("frontend-cdn")
    assert not distribution.inputs.get("webAclId")


def test_lean_web_acl_goes_on_the_distribution_in_us_east_1(lean_waf_run):
    acl = lean_waf_run.one(WEB_ACL)
    assert acl.inputs["scope"] == "CLOUDFRONT" and acl.inputs["region"] == "us-east-1"
    assert lean_waf_run.by_name("frontend-cdn").inputs["webAclId"] == acl.outputs["arn"]
    # The load balancer only sees CloudFront's addresses: no association there.
    assert lean_waf_run.of_type(ASSOCIATION) == []
    assert lean_waf_run.by_name("waf-logs").inputs["region"] == "us-east-1"
    assert lean_waf_run.one(LOGGING).inputs["region"] == "us-east-1"
    # Aurora is a database: SQL injection rules on.
    assert "AWSManagedRulesSQLiRuleSet" in rules_by_name(acl)


def test_cloudfront_web_acl_metrics_have_no_region_dimension(lean_waf_run):
    alarm = lean_waf_run.by_name("monitoring-waf-blocked-requests")
    assert alarm.inputs["dimensions"] == {"WebACL": "webstack-lean", "Rule": "ALL"}


def test_lean_with_its_web_acl_passes_alb_waf_attached_without_an_association(lean_waf_run, lean_run):
    config = load_stack_file("lean").config

    def waf_violations(run):
        return evaluate_policies(run, config).of_policy("alb-waf-attached")

    assert waf_violations(lean_waf_run) == []
    assert [v.resource_name for v in waf_violations(lean_run)] == ["web-alb"]
    # Reachable around CloudFront: the distribution's web ACL no longer covers the load balancer.
    opened = change(lean_waf_run, "web-in-443-cloudfront",
                    lambda p: (p.pop("prefixListId"), p.update(cidrIpv4="0.0.0.0/0")))
    assert [v.resource_name for v in waf_violations(opened)] == ["web-alb"]
    assert [v.resource_name for v in waf_violations(change(lean_waf_run, "frontend-cdn", drop("webAclId")))] == [
        "web-alb"]


# --- cost ----------------------------------------------------------------------------------------------------

def web_acl_lines(run, **usage) -> dict[str, tuple[float, float]]:
    result = estimate(records_from_captured(run.resources), usage=UsageAssumptions(**usage))
    return {line.item: (line.monthly_usd_min, line.monthly_usd_max) for line in result.lines_of_type(WEB_ACL)}


def test_regional_web_acl_is_priced_per_rule_and_per_inspected_request(prod_run):
    lines = web_acl_lines(prod_run, waf_requests_millions_per_task_month=2.0)
    targets = [t.inputs for t in prod_run.of_type("aws:appautoscaling/target:Target")
               if t.inputs["scalableDimension"] == "ecs:service:DesiredCount"]
    assert len(targets) == len(prod_run.of_type("aws:ecs/service:Service"))
    tasks = (sum(t["minCapacity"] for t in targets), sum(t["maxCapacity"] for t in targets))
    assert lines["WAF web ACL and 5 rules"] == (5.0 + 5 * 1.0, 5.0 + 5 * 1.0)
    assert lines["WAF requests inspected"] == pytest.approx((tasks[0] * 2 * 0.6, tasks[1] * 2 * 0.6))


def test_cloudfront_web_acl_is_priced_on_the_distribution_requests(lean_waf_run):
    lines = web_acl_lines(lean_waf_run, cloudfront_requests_millions_month=3.0)
    assert lines["WAF requests inspected"] == pytest.approx((3 * 0.6, 3 * 0.6))
    assert lines["WAF web ACL and 5 rules"] == (10.0, 10.0)


# --- config ---------------------------------------------------------------------------------------------------

def test_waf_is_on_in_prod_and_off_elsewhere_unless_set():
    assert validate_stack_config(raw("prod")).load_balancer.waf.enabled is True
    assert validate_stack_config(raw("dev")).load_balancer.waf.enabled is False


@pytest.mark.parametrize("settings,message", [
    ({"rateLimit": 5}, "webstack:loadBalancer.waf.rateLimit = 5: Input should be greater than or equal to 10"),
    ({"rateLimitWindowSeconds": 30},
     "webstack:loadBalancer.waf.rateLimitWindowSeconds = 30: Input should be 60, 120, 300 or 600"),
    ({"ruleOverrides": {"AWSManagedRulesBotControlRuleSet": {"x": "count"}}},
     "webstack:loadBalancer.waf.ruleOverrides.AWSManagedRulesBotControlRuleSet = \"AWSManagedRulesBotControlRuleSet\": "
     "Input should be 'AWSManagedRulesAmazonIpReputationList', 'AWSManagedRulesCommonRuleSet', "
     "'AWSManagedRulesKnownBadInputsRuleSet' or 'AWSManagedRulesSQLiRuleSet'"),
    ({"ruleOverrides": {"AWSManagedRulesCommonRuleSet": {"SizeRestrictions_BODY": "allow"}}},
     "webstack:loadBalancer.waf.ruleOverrides.AWSManagedRulesCommonRuleSet.SizeRestrictions_BODY = \"allow\": "
     "Input should be 'count' or 'block'"),
    ({"logRequests": "none"},
     "webstack:loadBalancer.waf.logRequests = \"none\": Input should be 'blockedAndCounted' or 'all'"),
])
def test_bad_waf_settings_are_refused_by_key(settings, message):
    values = raw("prod")
    values.setdefault("loadBalancer", {})["waf"] = settings
    assert problems(values) == [message]


def test_good_waf_settings_are_accepted():
    values = raw("prod")
    values.setdefault("loadBalancer", {})["waf"] = {
        "rateLimit": 10, "rateLimitWindowSeconds": 600, "logRequests": "all",
        "ruleOverrides": {"AWSManagedRulesKnownBadInputsRuleSet": {"Host_localhost_HEADER": "count"}}}
    waf = validate_stack_config(values).load_balancer.waf
    assert (waf.rate_limit, waf.rate_limit_window_seconds, waf.log_requests) == (10, 600, "all")


def test_an_enabled_web_acl_with_a_frontend_outside_us_east_1_is_refused_before_anything_is_declared():
    values = raw("lean")
    values.update(region="eu-west-1")
    values["network"]["availabilityZones"] = ["eu-west-1a", "eu-west-1b"]
    values["frontend"]["certificateArn"] = "arn:aws:acm:us-east-1:123456789012:certificate/" + "0" * 8 + "-0000-0000-0000-" + "0" * 12
    values["loadBalancer"]["waf"] = {"enabled": True}
    with pytest.raises(pulumi.RunError, match=r"loadBalancer\.waf\.enabled = true: with webstack:frontend"):
        validate_stack_config(values)
