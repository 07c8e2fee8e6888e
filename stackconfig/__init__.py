"""Typed stack config: `load_stack_config()` reads every `webstack:*` key and validates it at once.

A bad config stops the program with one `pulumi.RunError` that lists every problem as
`webstack:<key path> = <value>: <what is allowed>`, before a single resource is declared.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Optional, Union, get_args, get_origin

import pulumi
from pulumi.runtime import config as runtime_config
from pydantic import BaseModel, ValidationError

from stackconfig.stack import StackConfig

NAMESPACE = "webstack"


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


def _unwrap_optional(annotation: Any) -> Any:
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    return args[0] if get_origin(annotation) is Union and len(args) == 1 else annotation


def _step(annotation: Any, part: Any) -> Any:
    """The annotation found one step down `part` (a field alias, a dict key or a list index)."""
    annotation = _unwrap_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        fields = {info.alias or name: info for name, info in annotation.model_fields.items()}
        return fields[part].annotation if part in fields else None
    if get_origin(annotation) is dict:
        return get_args(annotation)[1]
    if get_origin(annotation) is list:
        return get_args(annotation)[0]
    return None


def _allowed_keys(model: type[BaseModel], path: Iterable[Any]) -> Optional[list[str]]:
    """The keys a model accepts at `path` (used to make "unknown key" errors say what is allowed)."""
    annotation: Any = model
    for part in path:
        annotation = _step(annotation, part)
    annotation = _unwrap_optional(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sorted(info.alias or name for name, info in annotation.model_fields.items())
    return None


def describe_errors(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        loc = [part for part in item["loc"]]
        path = ".".join(str(part) for part in loc) or "(stack)"
        key = "aws:region" if loc[:1] == ["region"] else f"{NAMESPACE}:{path}"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(StackConfig, loc[:-1])
            message = "unknown key" + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
        elif item["type"] == "missing":
            message = "required key is missing"
        value = item.get("input")
        shown = "" if item["type"] == "missing" or isinstance(value, dict) else f" = {json.dumps(value, default=str)}"
        lines.append(f"{key}{shown}: {message}")
    return lines


def validate_stack_config(raw: dict[str, Any]) -> StackConfig:
    try:
        return StackConfig.model_validate(raw)
    except ValidationError as error:
        problems = describe_errors(error)
        raise pulumi.RunError(
            f"invalid stack config ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n  "
            + "\n  ".join(problems)
        ) from None


def load_stack_config() -> StackConfig:
    return validate_stack_config(raw_stack_config())
