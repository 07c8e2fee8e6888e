"""`policies/` is what `pulumi policy publish` uploads: copied alone, with nothing of the project around it, the
pack loads in its own virtualenv (`virtualenv: venv` of PulumiPolicy.yaml) and gives the same verdicts on a
recorded stack as in-process.

The virtualenv is made inside the copy; instead of downloading from PyPI (slow, and offline in some CI), it
reuses this project's installed packages through a `.pth` file, and the test checks that every pin of
`policies/requirements.txt` is exactly what is installed and that every third-party import of the pack is
pinned there. The recorded stack: the secure reference program with a plaintext password, the prod policy
config and a budget of $1, so resource, stack and budget policies all report.
"""

from __future__ import annotations

import ast
import base64
import json
import shutil
import site
import subprocess
import sys
from pathlib import Path

import yaml

from preflight.policy_gate import POLICY_PACK_DIR, PolicyGate, load_policy_config
from tests.policies.conftest import change, edit_containers

ROOT = POLICY_PACK_DIR.parent
RECORDED = ("Configure", "Analyze", "AnalyzeStack")

REPLAY = """
import base64, json, runpy, sys
from importlib.metadata import version
from importlib.util import find_spec
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import policy as policy_sdk

assert [m for m in ("cost", "stackconfig", "preflight", "helpers", "components") if find_spec(m)] == []
pins = [line.split("#")[0].strip() for line in open("requirements.txt")]
pins = [pin.split("==") for pin in pins if pin]
assert [(name, pinned, version(name)) for name, pinned in pins if version(name) != pinned] == []

class Loaded(Exception):
    pass

def capture(servicer, _server):
    raise Loaded(servicer)

policy_sdk.analyzer_pb2_grpc.add_AnalyzerServicer_to_server = capture
try:
    runpy.run_path("__main__.py", run_name="__main__")
except Loaded as loaded:
    servicer = loaded.args[0]
project, installed = sys.argv[2], sys.argv[3]  # the checkout, and its packages (which may lie inside it)
files = {name: getattr(module, "__file__", None) or "" for name, module in list(sys.modules.items())}
outside = sorted(name for name, file in files.items() if file.startswith(project) and not file.startswith(installed))
assert outside == [], f"the pack loaded modules of the project: {outside}"
REQUESTS = {"Configure": "ConfigureAnalyzerRequest", "Analyze": "AnalyzeRequest", "AnalyzeStack": "AnalyzeStackRequest"}
verdicts = []
for method, data in json.load(open(sys.argv[1])):
    request = getattr(analyzer_pb2, REQUESTS[method]).FromString(base64.b64decode(data))
    response = getattr(servicer, method)(request, None)
    verdicts.append([[d.policyName, d.urn, d.enforcementLevel, d.message] for d in getattr(response, "diagnostics", [])])
print(json.dumps(verdicts))
"""


class RecordingServicer:
    """Forwards to the pack's analyzer and keeps each request (serialized) and its diagnostics."""

    def __init__(self, servicer):
        self.servicer = servicer
        self.calls: list[tuple[str, str]] = []
        self.verdicts: list[list[list]] = []

    def __getattr__(self, method):
        forward = getattr(self.servicer, method)
        if method not in RECORDED:
            return forward

        def record(request, context):
            response = forward(request, context)
            self.calls.append((method, base64.b64encode(request.SerializeToString()).decode()))
            self.verdicts.append([[d.policyName, d.urn, d.enforcementLevel, d.message]
                                  for d in getattr(response, "diagnostics", [])])
            return response
        return record


def third_party_imports() -> set[str]:
    found = set()
    for path in POLICY_PACK_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    local = {path.stem for path in POLICY_PACK_DIR.glob("*.py")} | {path.parent.name for path in POLICY_PACK_DIR.glob("*/__init__.py")}
    return {name for name in found if name not in sys.stdlib_module_names and name not in local}


def test_the_pack_refers_to_nothing_outside_it():
    project = yaml.safe_load((POLICY_PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}
    assert "policies/venv/" in (ROOT / ".gitignore").read_text().splitlines()
    pins = dict(line.split("#")[0].strip().split("==") for line in (POLICY_PACK_DIR / "requirements.txt").read_text()
                .splitlines() if line.split("#")[0].strip())
    assert {name.replace("_", "-") for name in third_party_imports()} <= set(pins)
    project_pins = dict(line.split("#")[0].strip().split("==") for line in (ROOT / "requirements.txt").read_text()
                        .splitlines() if "==" in line.split("#")[0])
    assert {name: project_pins.get(name) for name in pins} == pins  # tested with what it declares


def test_policies_copied_alone_load_and_give_the_same_verdicts(secure_run, tmp_path: Path):
    pack = tmp_path / "pack"
    shutil.copytree(POLICY_PACK_DIR, pack, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(pack / "venv")], check=True)
    (next((pack / "venv" / "lib").glob("python3*")) / "site-packages" / "project-packages.pth").write_text(
        site.getsitepackages()[0] + "\n")

    gate = PolicyGate()
    recorder = gate._servicer = RecordingServicer(gate._servicer)
    config = load_policy_config("prod")
    config["stack-monthly-budget"] = {**config["stack-monthly-budget"], "maxMonthlyUsd": 1}
    broken = change(secure_run, "app-task", edit_containers(
        lambda c: c["environment"].append({"name": "DB_PASSWORD", "value": "hunter2"})))
    in_process = gate.evaluate(broken, config)
    assert {"container-env-no-secrets", "stack-monthly-budget"} <= {v.policy for v in in_process.mandatory}

    (tmp_path / "calls.json").write_text(json.dumps(recorder.calls))
    replayed = subprocess.run([str(pack / "venv" / "bin" / "python"), "-I", "-c", REPLAY, str(tmp_path / "calls.json"),
                               str(ROOT) + "/", site.getsitepackages()[0]],
                              cwd=pack, capture_output=True, text=True, timeout=120)
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout) == recorder.verdicts
