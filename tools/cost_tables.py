"""Rewrite the cost figures the docs quote from what preflight estimates for each committed stack.

    python tools/cost_tables.py          # rewrite docs/cost.md's tables and README's cost lines
    python tools/cost_tables.py --check  # exit 1 when either is stale (what the tests assert)

docs/cost.md holds each stack's table after a "`make preflight STACK=<stack>`:" line; README's
table has one `| <stack> | $min | $max | ... |` row per stack.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cost import estimate, records_from_captured, render_table
from preflight.capture import run_program
from preflight.stack_files import load_stack_file
from stackconfig.cost import CostConfig, usage_assumptions

COST_DOC = ROOT / "docs" / "cost.md"
README = ROOT / "README.md"


def stack_names() -> list[str]:
    return sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))


def stack_estimate(stack: str):
    stack_file = load_stack_file(stack)
    run = run_program(stack, stack_file.config, list(stack_file.secret_keys))
    usage = usage_assumptions(CostConfig.model_validate(stack_file.config.get("webstack:cost") or {}))
    return estimate(records_from_captured(run.resources), usage=usage)


def table_marker(stack: str) -> str:
    return f"`make preflight STACK={stack}`:\n```\n"


def with_table(document: str, stack: str, table: str) -> str:
    marker = table_marker(stack)
    start = document.index(marker) + len(marker)
    end = document.index("\n```", start)
    return document[:start] + table + document[end:]


def with_summary(readme: str, stack: str, minimum: float, maximum: float) -> str:
    row = re.compile(rf"^\| {re.escape(stack)} \| \$[\d,.]+ \| \$[\d,.]+ \|", re.MULTILINE)
    return row.sub(f"| {stack} | ${minimum:,.2f} | ${maximum:,.2f} |", readme, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report whether the figures are stale")
    args = parser.parse_args(argv)
    cost_doc, readme = COST_DOC.read_text(), README.read_text()
    new_cost_doc, new_readme = cost_doc, readme
    for stack in stack_names():
        result = stack_estimate(stack)
        if table_marker(stack) in new_cost_doc:
            new_cost_doc = with_table(new_cost_doc, stack, render_table(result))
        new_readme = with_summary(new_readme, stack, result.total("min"), result.total("max"))
    stale = [path.name for path, old, new in ((COST_DOC, cost_doc, new_cost_doc), (README, readme, new_readme))
             if old != new]
    if args.check:
        if stale:
            print(f"stale cost figures in {', '.join(stale)}: run `make docs`", file=sys.stderr)
        return 1 if stale else 0
    COST_DOC.write_text(new_cost_doc)
    README.write_text(new_readme)
    for name in stale:
        print(f"rewrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
