"""Publishing the pack: a `policy-v<semver>` tag runs the policy tests, writes the tag's version into
policies/PulumiPolicy.yaml and runs `pulumi policy publish` from `policies/` (rehearsed with a recording
stand-in `pulumi` on PATH)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "policy-pack.yml"
SPEC = importlib.util.spec_from_file_location("policy_version", ROOT / ".github" / "scripts" / "policy_version.py")
policy_version = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(policy_version)

RECORDING_PULUMI = """#!/usr/bin/env bash
python3 - "$@" <<'PY'
import json, os, sys
with open(os.environ["CALLS"], "a") as calls:
    calls.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(),
                            "version": open("PulumiPolicy.yaml").read().split("version: ")[1].split()[0]}) + "\\n")
PY
"""


def workflow() -> dict:
    document = yaml.safe_load(WORKFLOW.read_text())
    document["on"] = document.pop(True)
    return document


def test_published_on_policy_tags_only_after_the_policy_tests():
    document = workflow()
    assert document["on"] == {"push": {"tags": ["policy-v*"]}}
    steps = document["jobs"]["publish"]["steps"]
    names = [step.get("name", step.get("uses")) for step in steps]
    assert names.index("Policy tests (the pack copied alone included)") < names.index("Version from the tag") \
        < names.index("Publish")
    assert ".venv/bin/python -m pytest tests/policies -q" in steps[names.index("Policy tests (the pack copied alone included)")]["run"]


def test_the_tag_sets_the_version_and_keeps_the_rest(tmp_path: Path):
    project = tmp_path / "PulumiPolicy.yaml"
    shutil.copy(ROOT / "policies" / "PulumiPolicy.yaml", project)
    before = project.read_text()
    assert policy_version.set_version("policy-v1.4.0", project) == "1.4.0"
    after = project.read_text()
    assert yaml.safe_load(after)["version"] == "1.4.0"
    assert [line for line in after.splitlines() if not line.startswith("version:")] == \
        [line for line in before.splitlines() if not line.startswith("version:")]
    assert policy_version.set_version("policy-v2.0.0-rc.1", project) == "2.0.0-rc.1"


@pytest.mark.parametrize("tag", ["v1.4.0", "policy-v1.4", "policy-v01.2.3", "policy-vlatest"])
def test_a_tag_that_is_not_a_version_is_refused(tmp_path: Path, tag):
    project = tmp_path / "PulumiPolicy.yaml"
    shutil.copy(ROOT / "policies" / "PulumiPolicy.yaml", project)
    with pytest.raises(SystemExit, match="is not policy-v<major>.<minor>.<patch>"):
        policy_version.set_version(tag, project)


def test_publish_step_publishes_the_tagged_version_from_policies(tmp_path: Path):
    checkout = tmp_path / "checkout"
    (checkout / ".github" / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / ".github" / "scripts" / "policy_version.py", checkout / ".github" / "scripts")
    shutil.copytree(ROOT / "policies", checkout / "policies", ignore=shutil.ignore_patterns("__pycache__", "venv"))
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").symlink_to(Path(sys.executable))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(RECORDING_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls),
           "GITHUB_REF_NAME": "policy-v1.4.0", "PULUMI_ORG": "acme", "PULUMI_BACKEND_URL": ""}
    steps = {step.get("name"): step for step in workflow()["jobs"]["publish"]["steps"]}
    for name in ("Version from the tag", "Publish"):
        step = steps[name]
        subprocess.run(["bash", "-eo", "pipefail", "-c", step["run"]], check=True, env=env,
                       cwd=checkout / step.get("working-directory", "."))
    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    assert recorded == [
        {"argv": ["login", "--non-interactive"], "cwd": str(checkout / "policies"), "version": "1.4.0"},
        {"argv": ["policy", "publish", "acme"], "cwd": str(checkout / "policies"), "version": "1.4.0"},
    ]
