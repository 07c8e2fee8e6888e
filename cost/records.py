"""One shape for a declared resource, whoever declared it: preflight's capture or the policy engine.

Adapters are duck-typed so this package imports neither preflight nor pulumi_policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping


@dataclass(frozen=True)
class Record:
    type: str
    urn: str
    name: str
    props: Mapping[str, Any] = field(default_factory=dict)
    parent_urn: str = ""


def records_from_captured(resources: Iterable[Any]) -> list[Record]:
    """From `preflight.capture.CapturedResource` (`.type`, `.urn`, `.name`, `.inputs`, `.parent`)."""
    return [Record(r.type, r.urn, r.name, r.inputs or {}, r.parent or "") for r in resources]


def records_from_policy_resources(resources: Iterable[Any]) -> list[Record]:
    """From `pulumi_policy.PolicyResource` (`.resource_type`, `.urn`, `.name`, `.props`, `.parent`)."""
    return [
        Record(r.resource_type, r.urn, r.name, r.props or {}, r.parent.urn if r.parent is not None else "")
        for r in resources
    ]
