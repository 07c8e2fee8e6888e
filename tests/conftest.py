"""Shared fixtures: the committed stacks run once per session under mocks; helpers build variants."""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

import pytest

from preflight.capture import ProgramRun, run_program
from preflight.stack_files import load_stack_file


def stack_config(stack: str) -> tuple[dict[str, Any], list[str]]:
    """A deep copy of a committed stack's config (fully-qualified keys) and its secret keys."""
    stack_file = load_stack_file(stack)
    return copy.deepcopy(stack_file.config), list(stack_file.secret_keys)


def run_stack(stack: str, mutate: Callable[[dict[str, Any]], None] | None = None,
              preview: bool = False, secret_keys: list[str] | None = None) -> ProgramRun:
    """Run the program with a committed stack's config, optionally changed by `mutate` first."""
    config, secrets = stack_config(stack)
    if mutate is not None:
        mutate(config)
    return run_program(stack, config, secrets + list(secret_keys or []), preview=preview)


def committed(run: ProgramRun, section: str, default: Any = None) -> Any:
    """A `webstack:<section>` value of the committed stack a run was made from (tests derive expectations)."""
    return stack_config(run.stack)[0].get(f"webstack:{section}", default)


def container_definitions(run: ProgramRun, task_family_suffix: str) -> list[dict]:
    """The parsed container definitions of the task definition whose family ends with the suffix."""
    for task in run.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        if task.inputs["family"].endswith(task_family_suffix):
            return json.loads(task.inputs["containerDefinitions"])
    raise KeyError(task_family_suffix)


@pytest.fixture(scope="session")
def dev_run() -> ProgramRun:
    return run_stack("dev")


@pytest.fixture(scope="session")
def prod_run() -> ProgramRun:
    return run_stack("prod")


@pytest.fixture(scope="session")
def lean_run() -> ProgramRun:
    return run_stack("lean")


@pytest.fixture(scope="session")
def scale_run() -> ProgramRun:
    return run_stack("scale")


@pytest.fixture(params=["dev", "lean", "prod"])
def any_run(request) -> ProgramRun:
    return request.getfixturevalue(f"{request.param}_run")
