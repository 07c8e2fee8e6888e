"""The estimate as a text table grouped by component, for people."""

from __future__ import annotations

from itertools import groupby

from policies.webstack_cost.estimator import Estimate

ITEM_WIDTH = 68


def _money(value: float) -> str:
    return f"{value:>10,.2f}"


def render_table(estimate: Estimate) -> str:
    lines = [f"Monthly cost estimate, {estimate.region} on-demand list prices read {estimate.price_date} (USD)",
             f"{'component / resource: item':<{ITEM_WIDTH}} {'min scale':>10} {'max scale':>10}"]
    # Fully sorted, so the same program prints the same table (registration order varies run to run).
    ordered = sorted(estimate.lines, key=lambda line: (line.component, line.resource, line.item))
    for component, component_lines in groupby(ordered, key=lambda line: line.component):
        component_lines = list(component_lines)
        lines.append(f"{component:<{ITEM_WIDTH}} {_money(sum(l.monthly_usd_min for l in component_lines))} "
                     f"{_money(sum(l.monthly_usd_max for l in component_lines))}")
        for line in component_lines:
            label = f"  {line.resource}: {line.item}"
            if len(label) > ITEM_WIDTH:
                label = label[:ITEM_WIDTH - 1] + "…"
            lines.append(f"{label:<{ITEM_WIDTH}} {_money(line.monthly_usd_min)} {_money(line.monthly_usd_max)}")
    lines.append(f"{'TOTAL per month':<{ITEM_WIDTH}} {_money(estimate.total('min'))} {_money(estimate.total('max'))}")
    if estimate.unpriced:
        lines.append(f"Not priced ({len(estimate.unpriced)}), not included in the totals:")
        lines.extend(f"  {u.resource} ({u.type}): {u.reason}" for u in estimate.unpriced)
    return "\n".join(lines)
