"""The committed stacks' estimates: the lines the bill must show, and figures checked independently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cost import UsageAssumptions, estimate, records_from_captured, render_table
from stackconfig.cost import CostConfig, usage_assumptions
from preflight.__main__ import main as preflight_main
from preflight.policy_gate import evaluate_policies, load_policy_config
from tests.conftest import stack_config

HOURS = 730


def stack_estimate(run):
    return estimate(records_from_captured(run.resources))


def items(result, type_):
    return [line for line in result.lines if line.type == type_]


def independent_fargate_bill(stack: str, scale: str) -> float:
    """Fargate x86 on-demand from the stack file alone (Spot ignored): tasks x (vCPU x rate + GB x rate) x 730."""
    config, _ = stack_config(stack)
    total = 0.0
    for service in config["webstack:services"].values():
        tasks = service["scaling"][scale]
        total += tasks * (service["cpu"] / 1024 * 0.04048 + service["memory"] / 1024 * 0.004445) * HOURS
    return total


def test_prod_has_the_lines_the_acceptance_names(prod_run):
    result = stack_estimate(prod_run)
    assert items(result, "aws:ecs/service:Service"), "Fargate"
    assert [l for l in items(result, "aws:lb/loadBalancer:LoadBalancer") if l.item == "ALB hours"]
    nat = [l for l in result.lines if "NAT gateway hours" in l.item]
    ipv4 = [l for l in result.lines if "IPv4" in l.item]
    assert nat and ipv4
    assert [l for l in items(result, "aws:cloudwatch/logGroup:LogGroup") if "ingestion" in l.item]
    # alarms: target tracking's own alarms are always there; explicit alarms when monitoring declares them
    assert [l for l in result.lines if "alarm" in l.item.lower()]


@pytest.mark.parametrize("type_, words", [
    ("aws:elasticache/replicationGroup:ReplicationGroup", "ElastiCache"),
    ("aws:rds/instance:Instance", "RDS PostgreSQL"),
    ("aws:rds/instance:Instance", "RDS storage"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", "CloudWatch alarm"),
])
def test_data_tier_and_monitoring_lines_when_declared(any_run, type_, words):
    if not any_run.of_type(type_):
        pytest.skip(f"{type_} not declared by the program yet (data tier / monitoring issues)")
    result = stack_estimate(any_run)
    assert [l for l in items(result, type_) if words in l.item], [l.item for l in items(result, type_)]


def test_prod_fargate_agrees_with_an_independent_list_price_computation(prod_run):
    fargate = items(stack_estimate(prod_run), "aws:ecs/service:Service")
    for scale, key in (("min", "min"), ("max", "max")):
        estimated = sum(line.monthly(scale) for line in fargate if "Fargate" in line.item)
        assert estimated == pytest.approx(independent_fargate_bill("prod", key), rel=0.15)


def test_prod_nat_gateway_per_az_dev_and_lean_one_nat_instance(dev_run, lean_run, prod_run):
    def nat_hours(run, item):
        return sum(l.monthly_usd_min for l in stack_estimate(run).lines if item in l.item)
    assert nat_hours(prod_run, "NAT gateway hours") == pytest.approx(3 * 0.045 * HOURS)  # 98.55
    assert nat_hours(prod_run, "EC2 ") == 0
    for run in (dev_run, lean_run):
        assert nat_hours(run, "NAT gateway hours") == 0
        assert nat_hours(run, "EC2 t4g.nano x 1") == pytest.approx(0.0042 * HOURS)  # 3.07


def test_prod_alb_hours_and_one_public_ipv4_per_az(prod_run):
    alb = items(stack_estimate(prod_run), "aws:lb/loadBalancer:LoadBalancer")
    assert next(l for l in alb if l.item == "ALB hours").monthly_usd_min == pytest.approx(0.0225 * HOURS)
    assert next(l for l in alb if "IPv4" in l.item).monthly_usd_min == pytest.approx(3 * 0.005 * HOURS)


def test_dev_spot_makes_max_scale_cheaper_than_on_demand(dev_run):
    fargate = sum(l.monthly_usd_max for l in items(stack_estimate(dev_run), "aws:ecs/service:Service")
                  if "Fargate" in l.item)
    assert fargate < independent_fargate_bill("dev", "max")


def test_max_is_at_least_min_for_both_stacks(any_run):
    result = stack_estimate(any_run)
    assert result.total("max") >= result.total("min") > 0
    assert all(line.monthly_usd_max >= line.monthly_usd_min for line in result.lines)


def test_preflight_json_carries_the_cost_object(capsys):
    preflight_main(["prod", "--json"])
    report = json.loads(capsys.readouterr().out)
    cost = report["cost"]
    assert cost["monthly_max_usd"] >= cost["monthly_min_usd"] > 100
    assert {"resource", "type", "item", "monthly_usd"} <= set(cost["lines"][0])
    assert isinstance(cost["unpriced"], list)


def test_prod_budget_below_the_estimate_is_a_mandatory_violation(prod_run):
    config = load_policy_config("prod")
    assert config["stack-monthly-budget"]["enforcementLevel"] == "mandatory"
    below = stack_estimate(prod_run).total("max") - 1
    config["stack-monthly-budget"] = {**config["stack-monthly-budget"], "maxMonthlyUsd": below}
    result = evaluate_policies(prod_run, stack_config("prod")[0], policy_config=config)
    [violation] = result.of_policy("stack-monthly-budget")
    assert violation.level == "mandatory" and result.has_mandatory


def test_committed_prod_budget_fits_the_estimate_with_headroom(prod_run):
    budget = load_policy_config("prod")["stack-monthly-budget"]["maxMonthlyUsd"]
    assert stack_estimate(prod_run).total("max") <= budget
    assert not evaluate_policies(prod_run, stack_config("prod")[0]).of_policy("stack-monthly-budget")


def test_stack_config_cost_section_overrides_assumptions():
    from stackconfig.cost import CostConfig, usage_assumptions
    usage = usage_assumptions(CostConfig.model_validate({"natGbPerTaskMonth": 50, "logGbPerTaskMonth": 2}))
    assert usage == UsageAssumptions.from_mapping({"natGbPerTaskMonth": 50, "logGbPerTaskMonth": 2})
    with pytest.raises(ValueError, match="natGb"):
        CostConfig.model_validate({"natGb": 1})


def docs_cost_table(stack: str) -> str:
    section = (Path(__file__).resolve().parents[2] / "docs" / "cost.md").read_text()
    marker = f"`make preflight STACK={stack}`:\n```\n"
    start = section.index(marker) + len(marker)
    return section[start:section.index("\n```", start)]


@pytest.mark.parametrize("stack", ["dev", "lean", "prod"])
def test_docs_cost_tables_are_what_preflight_prints(stack, request):
    """docs/cost.md's tables are the committed stacks' bills; regenerate them when the bill moves."""
    run = request.getfixturevalue(f"{stack}_run")
    config, _ = stack_config(stack)
    usage = usage_assumptions(CostConfig.model_validate(config.get("webstack:cost") or {}))
    printed = render_table(estimate(records_from_captured(run.resources), usage=usage))
    assert docs_cost_table(stack) == printed, (
        f"docs/cost.md: replace the {stack} table with the output of `python -m preflight {stack}`")


@pytest.mark.parametrize("stack", ["dev", "lean", "prod"])
def test_readme_cost_summary_is_the_estimate(stack, request):
    """README's one line per stack quotes the totals preflight prints."""
    config, _ = stack_config(stack)
    usage = usage_assumptions(CostConfig.model_validate(config.get("webstack:cost") or {}))
    result = estimate(records_from_captured(request.getfixturevalue(f"{stack}_run").resources), usage=usage)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"| {stack} | ${result.total('min'):,.2f} | ${result.total('max'):,.2f} |" in readme


def test_cost_table_lines_are_sorted_within_components(prod_run):
    """Same program, same table: lines ordered by component, resource and item, not registration order."""
    result = stack_estimate(prod_run)
    shuffled = estimate(list(reversed(records_from_captured(prod_run.resources))))
    assert render_table(shuffled) == render_table(result)
