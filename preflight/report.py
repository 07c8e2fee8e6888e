"""What would be created: resources per component, counts by type, exported outputs."""

from __future__ import annotations

from collections import Counter
from typing import Any

from preflight.capture import UNKNOWN, ProgramRun

COMPONENT_PREFIXES = ("webstack:", "awsx:")


def _owning_component(run: ProgramRun) -> dict[str, str]:
    """URN -> the URN of the nearest webstack/awsx component above it (itself for a component)."""
    by_urn = {r.urn: r for r in run.resources}
    owners: dict[str, str] = {}
    for resource in run.resources:
        current = resource
        while current is not None and not current.type.startswith(COMPONENT_PREFIXES):
            current = by_urn.get(current.parent)
        owners[resource.urn] = current.urn if current is not None else ""
    return owners


def _component_label(urn: str) -> str:
    """`urn:pulumi:prod::webstack::parent$webstack:service:Service::backend` -> `webstack:service:Service backend`."""
    qualified_type, name = urn.split("::")[-2:]
    return f"{qualified_type.split('$')[-1]} {name}"


def inventory(run: ProgramRun) -> dict[str, Any]:
    owners = _owning_component(run)
    components: dict[str, list[dict[str, str]]] = {}
    for resource in run.resources:
        if resource.type.startswith(COMPONENT_PREFIXES):
            continue
        owner = owners[resource.urn]
        label = _component_label(owner) if owner else "(stack)"
        components.setdefault(label, []).append({"type": resource.type, "name": resource.name})
    remote = [r for r in run.resources if r.remote]
    return {
        "stack": run.stack,
        "resourceCount": sum(1 for r in run.resources if r.custom),
        "components": components,
        "countsByType": dict(sorted(Counter(r.type for r in run.resources if r.custom).items())),
        "outputs": {key: (None if value == UNKNOWN else value) for key, value in run.outputs.items()},
        "notes": [
            f"{r.type} {r.name} is a remote component: its children are not shown offline and are "
            f"checked only by a real `pulumi preview`."
            for r in remote
        ],
    }


def format_inventory(report: dict[str, Any]) -> str:
    lines = [f"Stack {report['stack']}: {report['resourceCount']} resources would be created", ""]
    for component, members in report["components"].items():
        lines.append(f"  {component}")
        for member in members:
            lines.append(f"    + {member['type']:<60} {member['name']}")
    lines += ["", "Resources by type:"]
    lines += [f"  {count:>4}  {type_}" for type_, count in report["countsByType"].items()]
    lines += ["", "Outputs:"]
    lines += [f"  {key}: {value}" for key, value in report["outputs"].items()]
    if report["notes"]:
        lines += ["", "Notes:"] + [f"  - {note}" for note in report["notes"]]
    return "\n".join(lines)


def summary_line(report: dict[str, Any]) -> str:
    """`prod: 118 resources, 0 mandatory / 3 advisory violations, $366-$601 per month`: the run in one line."""
    policies, cost = report["policies"], report["cost"]
    line = (f"{report['stack']}: {report['resourceCount']} resources, "
            f"{policies['mandatory']} mandatory / {policies['advisory']} advisory violations, "
            f"${cost['monthly_min_usd']:,.0f}-${cost['monthly_max_usd']:,.0f} per month")
    unpriced = len(cost["unpriced"])
    if unpriced:
        line += f" ({unpriced} item{'s' if unpriced != 1 else ''} not priced)"
    return line
