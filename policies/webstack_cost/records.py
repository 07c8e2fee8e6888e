"""One shape for a declared resource, whoever declared it: preflight's capture or the policy engine.

Adapters are duck-typed so this package imports neither preflight nor the policy pack. Values not
known until apply (a first preview) become `None`, i.e. absent: the estimator then falls back to
defaults or reports the resource as unpriced, never as free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable


@lru_cache(maxsize=1)
def unknown_values() -> frozenset[str]:
    """The engine's unknown sentinels (pulumi.runtime.rpc.UNKNOWN is the string one).

    Imported on first use, not with the package: `stackconfig` reads `cost.assumptions` and must
    not load `pulumi_policy` to validate a stack's config.
    """
    from pulumi_policy import proxy

    return frozenset({
        proxy.UNKNOWN_BOOLEAN_VALUE, proxy.UNKNOWN_NUMBER_VALUE, proxy.UNKNOWN_STRING_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE, proxy.UNKNOWN_ASSET_VALUE, proxy.UNKNOWN_ARCHIVE_VALUE, proxy.UNKNOWN_OBJECT_VALUE,
    })


@dataclass(frozen=True)
class Record:
    type: str
    urn: str
    name: str
    props: Mapping[str, Any] = field(default_factory=dict)
    parent_urn: str = ""


def plain(value: Any) -> Any:
    """Plain dicts and lists with unknowns as None, from plain data or pulumi_policy's unknown-checking proxies."""
    if isinstance(value, Mapping):
        raw = getattr(value, "_DictProxy__target", value)  # read a proxy without its unknown check
        return {key: plain(item) for key, item in raw.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(item) for item in getattr(value, "_ListProxy__target", value)]
    if isinstance(value, str) and value in unknown_values():
        return None
    return value


def records_from_captured(resources: Iterable[Any]) -> list[Record]:
    """From `preflight.capture.CapturedResource` (`.type`, `.urn`, `.name`, `.inputs`, `.parent`)."""
    return [Record(r.type, r.urn, r.name, plain(r.inputs or {}), r.parent or "") for r in resources]


def records_from_policy_resources(resources: Iterable[Any]) -> list[Record]:
    """From `pulumi_policy.PolicyResource` (`.resource_type`, `.urn`, `.name`, `.props`, `.parent`)."""
    return [
        Record(r.resource_type, r.urn, r.name, plain(r.props or {}), r.parent.urn if r.parent is not None else "")
        for r in resources
    ]
