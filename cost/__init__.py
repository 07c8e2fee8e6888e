"""The project's view of the cost estimator: `policies/webstack_cost` (shipped with the pack, which needs it for
`stack-monthly-budget`), plus the Markdown report preflight and tools/cost_tables.py print.
"""

from cost.report import render_table
from policies.webstack_cost import (
    SCALES,
    CostLine,
    Estimate,
    PriceBook,
    Record,
    Unpriced,
    UsageAssumptions,
    estimate,
    is_free,
    load_prices,
    records_from_captured,
    records_from_policy_resources,
)

__all__ = [
    "SCALES", "CostLine", "Estimate", "PriceBook", "Record", "Unpriced", "UsageAssumptions", "estimate",
    "is_free", "load_prices", "records_from_captured", "records_from_policy_resources", "render_table",
]
