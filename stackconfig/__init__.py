"""Typed stack config: `load_stack_config()` reads every `webstack:*` key, validates it and resolves it.

1. Each key is validated on its own (type, range, pattern: the models in this package); a bad key
   is dropped and validation goes on (`stackconfig.salvage`), so every key's problem is found.
2. The cross-field rules (`stackconfig.rules`) run on what validated, each skipped only when one of
   its inputs failed in step 1.
3. If anything was found, the program stops with one `pulumi.RunError` listing every problem as
   `webstack:<key path> = <value>: <what is allowed>`, before a single resource is declared.
4. Otherwise every environment-dependent default is resolved once (`StackConfig.resolved()`):
   components and `__main__.py` read final values.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from stackconfig.problems import NAMESPACE, Inputs, Problem
from stackconfig.rules import cross_field_problems
from stackconfig.salvage import salvage
from stackconfig.stack import StackConfig


def _all_config() -> dict[str, Any]:
    """Every config key the engine gave the program (set_all_config, PULUMI_CONFIG and friends)."""
    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    return merged


def _parse(value: Any) -> Any:
    """Structured keys arrive as JSON strings; scalars stay strings and pydantic converts them."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        return json.loads(value)
    return value


def raw_stack_config() -> dict[str, Any]:
    raw = {
        key[len(NAMESPACE) + 1:]: _parse(value)
        for key, value in _all_config().items()
        if key.startswith(f"{NAMESPACE}:")
    }
    raw["region"] = pulumi.Config("aws").get("region") or ""
    return raw


def stack_config_problems(raw: dict[str, Any]) -> tuple[list[Problem], StackConfig | None]:
    """Every problem of a stack's config (schema first, then cross-field), and the config if there are none."""
    config, problems, failed = salvage(StackConfig, raw)
    if config is not None:
        problems += cross_field_problems(config, Inputs(failed))  # type: ignore[arg-type]
    return problems, (config if not problems else None)  # type: ignore[return-value]


def validate_stack_config(raw: dict[str, Any]) -> StackConfig:
    """The validated config with its environment's defaults resolved, or a RunError listing every problem."""
    problems, config = stack_config_problems(raw)
    if problems or config is None:
        raise pulumi.RunError(
            f"invalid stack config ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n  "
            + "\n  ".join(map(str, problems))
        )
    return config.resolved()


def load_stack_config() -> StackConfig:
    return validate_stack_config(raw_stack_config())
