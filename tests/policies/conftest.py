"""Fixtures for the policy tests: a secure reference program captured once, and ways to break it."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from preflight.capture import CapturedResource, ProgramRun, run_program
from preflight.policy_gate import GateResult, evaluate_policies, load_policy_config

SECURE_STACK = Path(__file__).with_name("secure_stack.py")


def evaluate(run: ProgramRun, stack: str = "prod") -> GateResult:
    """Evaluate through the real analyzer with `stack`'s policy config file."""
    return evaluate_policies(run, policy_config=load_policy_config(stack))


def change(run: ProgramRun, name: str, edit: Callable[[dict[str, Any]], Any] | None = None,
           type_: str | None = None, **options) -> ProgramRun:
    """A copy of `run` where resource `name` (of `type_`, when names repeat across types) has `edit`
    applied to its inputs (and outputs) and the resource `options` set."""
    def matches(resource: CapturedResource) -> bool:
        return resource.name == name and (type_ is None or resource.type == type_)

    def changed(resource: CapturedResource) -> CapturedResource:
        if not matches(resource):
            return resource
        inputs, outputs = copy.deepcopy(resource.inputs), copy.deepcopy(resource.outputs)
        if edit is not None:
            edit(inputs)
            edit(outputs)
        return dataclasses.replace(resource, inputs=inputs, outputs=outputs, **options)

    assert any(matches(r) for r in run.resources), f"no resource {name}"
    return ProgramRun(stack=run.stack, resources=[changed(r) for r in run.resources], outputs=run.outputs)


def without(run: ProgramRun, name: str) -> ProgramRun:
    assert any(r.name == name for r in run.resources), f"no resource {name}"
    return ProgramRun(stack=run.stack, resources=[r for r in run.resources if r.name != name], outputs=run.outputs)


def edit_containers(edit: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    """An input edit applying `edit` to every container of a task definition's JSON string."""
    def apply(props: dict[str, Any]) -> None:
        containers = json.loads(props["containerDefinitions"])
        for container in containers:
            edit(container)
        props["containerDefinitions"] = json.dumps(containers)
    return apply


def set_in(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit setting a dotted path (`a.b.0.c`), creating dicts on the way."""
    def apply(props: dict[str, Any]) -> None:
        keys = path.split(".")
        target: Any = props
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target.setdefault(key, {})
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return apply


def drop(*keys: str) -> Callable[[dict[str, Any]], None]:
    def apply(props: dict[str, Any]) -> None:
        for key in keys:
            props.pop(key, None)
    return apply


@pytest.fixture(scope="session")
def secure_run() -> ProgramRun:
    return run_program("prod", {"aws:region": "us-east-1"}, program=SECURE_STACK)


@pytest.fixture(scope="session")
def secure_preview_run() -> ProgramRun:
    """The same program as a first `pulumi preview` sees it: every output-derived value unknown."""
    return run_program("prod", {"aws:region": "us-east-1"}, program=SECURE_STACK, preview=True)
