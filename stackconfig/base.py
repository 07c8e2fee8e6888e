"""Shared base of every config model: camelCase keys in YAML, snake_case in Python, no unknown keys.

Models hold what one value may be (type, range, pattern, a check of that value alone) and its
documentation (`Field(description=...)`, read by `stackconfig.reference` to write
docs/configuration.md). Checks that read two values or more are cross-field rules
(`stackconfig.rules`), so they still run when an unrelated key of the same section is invalid.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# Retention periods CloudWatch Logs accepts (PutRetentionPolicy rejects any other value).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)


class ConfigModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


def doc(allowed: Optional[str] = None, default: Optional[str] = None) -> dict[str, Any]:
    """Reference text a field's type and default cannot say by themselves (`json_schema_extra`):
    `allowed` when a validator, not the type, limits the value; `default` when it is not a plain value."""
    return {key: value for key, value in (("allowed", allowed), ("default", default)) if value is not None}
