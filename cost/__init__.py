"""Monthly cost estimate of what a Pulumi program declares, from list prices in `pricing/`.

Pure: the standard library plus `pulumi_policy`'s unknown sentinels, so the policy pack can use it
with only `pulumi` and `pulumi-policy` installed.
"""

from cost.assumptions import UsageAssumptions
from cost.estimator import SCALES, CostLine, Estimate, Unpriced, estimate, is_free
from cost.prices import PriceBook, load_prices
from cost.records import Record, records_from_captured, records_from_policy_resources
from cost.report import render_table

__all__ = [
    "SCALES", "CostLine", "Estimate", "PriceBook", "Record", "Unpriced", "UsageAssumptions", "estimate",
    "is_free", "load_prices", "records_from_captured", "records_from_policy_resources", "render_table",
]
