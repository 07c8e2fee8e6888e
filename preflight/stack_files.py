"""Read a stack's `Pulumi.<stack>.yaml` the way the CLI hands it to the program."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from preflight.broken_file import BrokenFileError
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


def _at(path: Path, problem: str, mark) -> BrokenFileError:
    """A problem at a PyYAML mark (0-based line and column)."""
    if mark is None:
        return BrokenFileError(path, problem)
    return BrokenFileError(path, problem, mark.line + 1, mark.column + 1)


def _yaml_error(path: Path, error: yaml.YAMLError) -> BrokenFileError:
    """PyYAML's error as one line: the problem where it was found, and what it was reading then."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return BrokenFileError(path, f"invalid YAML: {error}")
    problem = error.problem or str(error)
    if error.context and error.context.startswith("while "):  # what was open, and since which line
        problem += f" {error.context}"
        if error.context_mark is not None and error.context_mark.line != getattr(error.problem_mark, "line", None):
            problem += f" started at line {error.context_mark.line + 1}"
    elif error.context:  # "expected a single document in the stream, but found another document"
        problem = f"{error.context}, {problem}"
    return _at(path, f"invalid YAML: {problem}", error.problem_mark or error.context_mark)


_KINDS = {yaml.SequenceNode: "a list", yaml.ScalarNode: "a single value"}


def _parse(path: Path) -> dict[str, Any]:
    """The stack file's document, refused with the line and column of the first thing the CLI would refuse."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = error.object[:error.start].count(b"\n") + 1
        raise BrokenFileError(path, f"not UTF-8 text (byte {error.object[error.start:error.start + 1]!r})",
                              line) from None
    except OSError as error:
        raise BrokenFileError(path, f"cannot be read: {error.strerror}") from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return {}
        if not isinstance(root, yaml.MappingNode):
            raise _at(path, f"the top level must be a mapping with a `config:` key, not "
                            f"{_KINDS.get(type(root), 'that')}", root.start_mark)
        for key, value in root.value:
            if key.value == "config" and not isinstance(value, yaml.MappingNode) and value.tag != "tag:yaml.org,2002:null":
                raise _at(path, "`config` must be a mapping of `<namespace>:<key>: value`, not "
                                f"{_KINDS.get(type(value), 'that')}", value.start_mark)
        return loader.construct_document(root)
    except yaml.YAMLError as error:
        raise _yaml_error(path, error) from None
    finally:
        loader.dispose()


def load_stack_file(stack: str, root: Path = PROJECT_ROOT) -> StackFile:
    """Raises FileNotFoundError for a stack without a file and BrokenFileError for a file the CLI would refuse."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.exists():
        available = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))
        raise FileNotFoundError(f"no stack file {path.name}; stacks here: {', '.join(available) or 'none'}")
    document = _parse(path)
    stack_file = StackFile(stack=stack, path=path)
    for key, value in (document.get("config") or {}).items():
        stack_file.config[key], is_secret = _replace_secure(value)
        if is_secret:
            stack_file.secret_keys.append(key)
    return stack_file
