"""`webstack:cost`: usage assumptions of preflight's cost estimate (GB through NAT, log GB per task, ...).

The fields, defaults and meanings are those of `cost.UsageAssumptions` (one source of truth, also
used by the budget policy's `usage` config); this model only adds camelCase keys, forbids unknown
keys and checks ranges, so a typo in the stack file fails like any other config error.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Optional

from pydantic import Field, create_model

from cost import UsageAssumptions
from stackconfig.base import ConfigModel, doc


def _field(spec) -> tuple[Any, Any]:
    maximum = spec.metadata["maximum"]
    if spec.default is None:
        return Optional[float], Field(default=None, ge=0, le=maximum, description=spec.metadata["doc"],
                                      json_schema_extra=doc(default="the price file's"))
    return float, Field(default=spec.default, ge=0, le=maximum, description=spec.metadata["doc"])


CostConfig = create_model(
    "CostConfig",
    __base__=ConfigModel,
    __doc__="Usage assumptions of preflight's cost estimate (traffic-driven quantities a list price needs); every "
            "key optional (see docs/cost.md).",
    **{spec.name: _field(spec) for spec in fields(UsageAssumptions)},
)


def usage_assumptions(config: ConfigModel) -> UsageAssumptions:
    """The estimator's assumptions from a validated `webstack:cost` section."""
    return UsageAssumptions(**config.model_dump())
