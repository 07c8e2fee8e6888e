"""One config problem: the whole key path, the value found and what is allowed.

Printed as `webstack:<path> = <value>: <what is wrong and what is allowed>`, e.g.
`webstack:services.frontend.routes.priority = 10: ...` or `webstack:network.availabilityZones[0] = "us-west-2a": ...`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Union

NAMESPACE = "webstack"
# Keys of other namespaces the stack config reads (`region` is `aws:region`).
FOREIGN_KEYS = {"region": "aws:region"}
# Values never echoed in a message (they are secrets).
SECRET_SECTIONS = ("appSecrets",)

Path = tuple[Union[str, int], ...]


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


# A problem about a key that is missing, or whose value is a mapping or a secret (not shown).
NO_VALUE: Any = _NoValue()


def key_of(path: Path) -> str:
    """`("services", "frontend", "routes", "priority")` -> `webstack:services.frontend.routes.priority`;
    list indexes as `[0]`."""
    if path and path[0] in FOREIGN_KEYS:
        head, rest = FOREIGN_KEYS[path[0]], path[1:]
    else:
        head, rest = f"{NAMESPACE}:", path
        if not rest:
            return f"{NAMESPACE}:(stack)"
    text = head
    for part in rest:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("" if text.endswith(":") else ".") + str(part)
    return text


def shown(value: Any) -> str:
    return json.dumps(value, default=str)


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    value: Any = NO_VALUE

    def __str__(self) -> str:
        hidden = self.value is NO_VALUE or isinstance(self.value, dict) or (
            self.path[:1] and self.path[0] in SECRET_SECTIONS
        )
        return f"{key_of(self.path)}{'' if hidden else ' = ' + shown(self.value)}: {self.message}"


def overlaps(a: Path, b: Path) -> bool:
    """One path is the other or lies under it."""
    return a[:len(b)] == b or b[:len(a)] == a


class Inputs:
    """Which values of the stack config validated. A cross-field rule runs only when every value it
    reads did (`ok`), so one bad key never hides problems elsewhere nor causes a second, spurious one."""

    def __init__(self, failed: Iterable[Path] = ()):
        self.failed = tuple(failed)

    def ok(self, *paths: Path) -> bool:
        return not any(overlaps(path, failed) for path in paths for failed in self.failed)
