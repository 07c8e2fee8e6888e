"""Read a stack's `Pulumi.<stack>.yaml` the way the CLI hands it to the program."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from preflight.capture import PROJECT_ROOT

# What a `secure:` value becomes offline: we cannot decrypt it (no CLI, no stack key), and the
# program must never depend on a secret's content, only on its presence.
SECRET_PLACEHOLDER = "preflight-placeholder-secret-value"


@dataclass
class StackFile:
    stack: str
    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    secret_keys: list[str] = field(default_factory=list)


def _replace_secure(value: Any) -> tuple[Any, bool]:
    """Replace `{secure: ...}` leaves with a placeholder; report whether any was found."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        found = False
        replaced = {}
        for key, item in value.items():
            replaced[key], item_secret = _replace_secure(item)
            found = found or item_secret
        return replaced, found
    if isinstance(value, list):
        items = [_replace_secure(item) for item in value]
        return [item for item, _ in items], any(secret for _, secret in items)
    return value, False


def load_stack_file(stack: str, root: Path = PROJECT_ROOT) -> StackFile:
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        available = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack file {path.name}; stacks here: {', '.join(available) or 'none'}")
    document = yaml.safe_load(path.read_text()) or {}
    stack_file = StackFile(stack=stack, path=path)
    for key, value in (document.get("config") or {}).items():
        stack_file.config[key], is_secret = _replace_secure(value)
        if is_secret:
            stack_file.secret_keys.append(key)
    return stack_file
