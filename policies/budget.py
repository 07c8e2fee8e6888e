"""`stack-monthly-budget`: the estimated monthly bill must fit the budget set for the stack.

Config (in `policies/config/<stack>.json`):
  maxMonthlyUsd  the budget in USD per month (without it the policy does not apply)
  scale          "max" (default: the bill with every service at maxCapacity) or "min" (at rest)
  usage          optional overrides of the cost estimator's usage assumptions (camelCase keys)
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

# The estimator and its prices ship in the pack (policies/webstack_cost, policies/pricing); policies/ is on sys.path.
from webstack_cost import SCALES, UsageAssumptions, estimate, records_from_policy_resources

TOP_LINES = 5

CONFIG_SCHEMA = PolicyConfigSchema(properties={
    "maxMonthlyUsd": {"type": "number", "exclusiveMinimum": 0,
                      "description": "Monthly budget in USD for this stack."},
    "scale": {"type": "string", "enum": list(SCALES), "default": "max",
              "description": "Compare the estimate at minimum (autoscaling min) or maximum (max) scale."},
    "usage": {"type": "object",
              "properties": {key: {"type": "number", "minimum": 0, "description": doc}
                             for key, _, doc in UsageAssumptions.documented()},
              "additionalProperties": False,
              "description": "Usage assumptions of the estimate (GB through NAT, log GB per task, ...)."},
})


def check_budget(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config()
    budget = config.get("maxMonthlyUsd")
    if budget is None:
        args.not_applicable("no maxMonthlyUsd configured for this stack")
    scale = config.get("scale", "max")
    result = estimate(records_from_policy_resources(args.resources),
                      usage=UsageAssumptions.from_mapping(config.get("usage")))
    total = result.total(scale)
    if total <= budget:
        return
    top = "; ".join(f"{line.resource} {line.item} ${line.monthly(scale):,.2f}" for line in result.top_lines(scale, TOP_LINES))
    unpriced = f" {len(result.unpriced)} resource(s) could not be priced and are not included." if result.unpriced else ""
    report_violation(
        f"Estimated monthly bill at {scale} scale is ${total:,.2f}, over the budget of ${budget:,.2f} by "
        f"${total - budget:,.2f} ({(total - budget) / budget:.0%}). Largest lines: {top}.{unpriced} "
        f"To fix: lower maxCapacity of the largest services, use Fargate Spot or ARM64 tasks, a single NAT gateway "
        f"outside prod, smaller cache/database classes or Single-AZ outside prod; or raise maxMonthlyUsd in "
        f"policies/config/<stack>.json if the spend is intended. `python -m preflight <stack>` prints every line.",
        None,
    )


stack_monthly_budget = StackValidationPolicy(
    name="stack-monthly-budget",
    description="The stack's estimated monthly bill (us-east-1 list prices) must not exceed maxMonthlyUsd.",
    validate=check_budget,
    enforcement_level=EnforcementLevel.ADVISORY,
    config_schema=CONFIG_SCHEMA,
    remediation_steps="Reduce maximum task counts, use Spot/ARM64, one NAT gateway, smaller or Single-AZ data "
                      "tier outside prod; or raise maxMonthlyUsd in policies/config/<stack>.json.",
)
