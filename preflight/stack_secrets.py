"""Refuse a stack file that holds a secret in plaintext: such values must be `secure:` (pulumi config set --secret).

A leaf is refused when its key looks like a secret (password, token, apiKey, DJANGO_SECRET_KEY...;
not references such as `secretsManagerArn`) or its value has a secret's shape (private key, AWS
key, URL with a password...), whatever the key. Uses the same detector as the policy pack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from policies.secret_shapes import BY_NAME, plaintext_secret
from preflight.stack_files import SECRET_PLACEHOLDER, StackFile


@dataclass(frozen=True)
class PlaintextSecret:
    path: str
    reason: str

    def __str__(self) -> str:
        return (f"{self.path}: {self.reason}; store it encrypted with "
                f"`pulumi config set --secret --path '{self.path}' <value>`")


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path in `pulumi config --path` syntax, value) of every leaf of a config value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def _last_key(path: str) -> str:
    return path.rsplit(".", 1)[-1].split("[", 1)[0].split(":")[-1]


def plaintext_secrets(stack_file: StackFile) -> list[PlaintextSecret]:
    found = []
    for key, value in stack_file.config.items():
        for path, leaf in _leaves(value, key):
            judged = None if leaf == SECRET_PLACEHOLDER else plaintext_secret(_last_key(path), leaf)
            if judged == BY_NAME:
                found.append(PlaintextSecret(path, "secret-looking key holds a plaintext value"))
            elif judged:
                found.append(PlaintextSecret(path, f"plaintext value holds {judged}"))
    return found
