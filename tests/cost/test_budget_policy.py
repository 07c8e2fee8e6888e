"""`stack-monthly-budget` through its validate function and through the real pulumi_policy analyzer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, StackValidationArgs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from cost import estimate, records_from_captured
from preflight.policy_gate import PolicyGate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policies"))
from budget import stack_monthly_budget

STACK = "urn:pulumi:prod::webstack::pulumi:pulumi:Stack"


def policy_resource(type_: str, name: str, props: dict) -> PolicyResource:
    options = PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                    custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[])
    return PolicyResource(type_, unknown_checking_proxy(props), f"{STACK}${type_}::{name}", name, options,
                          None, None, [], {})


# One 1 vCPU / 2 GB task, 2-4 tasks: 2 x (0.04048 + 2 x 0.004445) x 730 = 72.0802 at min, 144.1604 at max;
# one NAT (32.85 hours + 3.65 IPv4) and its traffic (5 GB per task x $0.045: 0.45 / 0.90).
RESOURCES = [
    policy_resource("aws:ecs/taskDefinition:TaskDefinition", "api-task",
                    {"family": "api", "cpu": "1024", "memory": "2048", "containerDefinitions": "[]"}),
    policy_resource("aws:ecs/service:Service", "api", {
        "name": "api-7f3a2c1", "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/api:4",
        "networkConfiguration": {"assignPublicIp": False, "subnets": [UNKNOWN_STRING_VALUE]}}),
    policy_resource("aws:appautoscaling/target:Target", "api-target",
                    {"resourceId": "service/cluster-1/api-7f3a2c1", "minCapacity": 2, "maxCapacity": 4}),
    policy_resource("awsx:ec2:Vpc", "vpc", {"natGateways": {"strategy": "Single"},
                                            "availabilityZoneNames": ["us-east-1a", "us-east-1b"]}),
]
AT_MIN = 72.0802 + 32.85 + 3.65 + 0.45
AT_MAX = 144.1604 + 32.85 + 3.65 + 0.90


def run_policy(config: dict) -> list[str]:
    violations: list[str] = []
    stack_monthly_budget.validate(StackValidationArgs(RESOURCES, config),
                                  lambda message, urn=None: violations.append(message))
    return violations


def test_estimate_of_policy_resources_matches_hand_computation():
    from cost import records_from_policy_resources
    result = estimate(records_from_policy_resources(RESOURCES))
    assert result.total("min") == pytest.approx(AT_MIN, abs=0.01)
    assert result.total("max") == pytest.approx(AT_MAX, abs=0.01)


def test_budget_above_the_estimate_passes():
    assert run_policy({"maxMonthlyUsd": 200, "scale": "max"}) == []


def test_budget_below_the_estimate_at_max_scale_fails_with_figures_and_fix():
    [message] = run_policy({"maxMonthlyUsd": 150, "scale": "max"})
    assert f"${AT_MAX:,.2f}" in message and "over the budget of $150.00" in message
    assert "api Fargate" in message  # the largest line is named
    assert "maxCapacity" in message and "maxMonthlyUsd" in message  # how to fix


def test_scale_min_compares_the_at_rest_bill():
    assert run_policy({"maxMonthlyUsd": 150, "scale": "min"}) == []


def test_usage_overrides_from_policy_config_change_the_estimate():
    # 200 GB per task through the NAT: 4 tasks x 200 x $0.045 = 36 at max scale, over a 200 budget
    assert run_policy({"maxMonthlyUsd": 200, "usage": {"natGbPerTaskMonth": 200}})


def test_without_a_budget_the_policy_does_not_apply():
    with pytest.raises(Exception) as raised:  # the SDK's private "not applicable" signal
        run_policy({})
    assert raised.value.reason == "no maxMonthlyUsd configured for this stack"


@pytest.fixture(scope="module")
def budget_only_gate(tmp_path_factory) -> PolicyGate:
    """A pack holding only this policy, loaded and driven by preflight's in-process analyzer."""
    pack = tmp_path_factory.mktemp("budget-pack")
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (pack / "__main__.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2] / 'policies')!r})\n"
        "from pulumi_policy import PolicyPack\n"
        "from budget import stack_monthly_budget\n"
        "PolicyPack(name='budget-only', policies=[stack_monthly_budget])\n")
    return PolicyGate(pack_dir=pack)


def test_real_analyzer_reports_a_mandatory_violation_under_budget(budget_only_gate, prod_run):
    estimate_max = estimate(records_from_captured(prod_run.resources)).total("max")
    config = {"stack-monthly-budget": {"enforcementLevel": "mandatory", "maxMonthlyUsd": round(estimate_max / 2)}}
    result = budget_only_gate.evaluate(prod_run, config)
    [violation] = result.of_policy("stack-monthly-budget")
    assert violation.level == "mandatory" and result.has_mandatory
    assert "over the budget" in violation.message


def test_real_analyzer_passes_when_the_budget_fits(budget_only_gate, prod_run):
    estimate_max = estimate(records_from_captured(prod_run.resources)).total("max")
    config = {"stack-monthly-budget": {"enforcementLevel": "mandatory", "maxMonthlyUsd": estimate_max * 1.5}}
    assert budget_only_gate.evaluate(prod_run, config).of_policy("stack-monthly-budget") == []


def test_real_analyzer_rejects_a_config_outside_the_schema(budget_only_gate):
    with pytest.raises(Exception, match="scale|enum|average"):
        budget_only_gate.reconcile({"stack-monthly-budget": {"maxMonthlyUsd": 10, "scale": "average"}})
