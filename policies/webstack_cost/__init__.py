"""Monthly cost estimate of what a Pulumi program declares, from list prices in `policies/pricing/`.

Lives in the pack because `stack-monthly-budget` needs it and `pulumi policy publish` uploads `policies/`
alone; the project uses it through `cost/` (which adds the Markdown report). Pure: the standard library
plus `pulumi_policy`'s unknown sentinels (loaded only when records come from a policy run).
"""

from .assumptions import UsageAssumptions
from .estimator import SCALES, CostLine, Estimate, Unpriced, estimate, is_free
from .prices import PriceBook, load_prices
from .records import Record, records_from_captured, records_from_policy_resources

__all__ = [
    "SCALES", "CostLine", "Estimate", "PriceBook", "Record", "Unpriced", "UsageAssumptions", "estimate",
    "is_free", "load_prices", "records_from_captured", "records_from_policy_resources",
]
