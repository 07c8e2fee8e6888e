"""`Pulumi.yaml` against Pulumi's own project schema (vendored in schemas/, see schemas/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "schemas" / "pulumi-project.schema.json"
SHARED_SCHEMA_PATH = ROOT.parent / "shared" / "schemas" / "pulumi-project.schema.json"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def project_file() -> dict:
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def problems(validator: Draft202012Validator, document: dict) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
            for error in validator.iter_errors(document)]


def test_project_file_is_valid(validator):
    assert problems(validator, project_file()) == []


def test_project_is_the_python_program_in_its_virtualenv():
    project = project_file()
    assert project["name"] == "webstack"
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}


def test_schema_rejects_a_misplaced_runtime_option(validator):
    """The check bites: `toolchain` belongs under `runtime.options`, a classic slip."""
    project = project_file()
    project["runtime"] = {"name": "python", "toolchain": "pip"}
    assert problems(validator, project) != []


def test_schema_requires_a_project_name(validator):
    project = project_file()
    del project["name"]
    assert any("'name' is a required property" in problem for problem in problems(validator, project))


@pytest.mark.skipif(not SHARED_SCHEMA_PATH.exists(), reason="no shared/ beside this clone to compare with")
def test_project_file_is_valid_against_the_shared_copy_too():
    """The team's copy may be newer than the vendored one: the project must satisfy both."""
    schema = json.loads(SHARED_SCHEMA_PATH.read_text())
    assert problems(Draft202012Validator(schema), project_file()) == []
